//! Quick-create [Schnellanlage] of any number of users in a few statements per 500: the one
//! implementation of its side effects (voicemail box, phonebook entry, numbers, softphone,
//! mobile, fax device, voicemail actions), used for one user by the API and the CLI and for
//! thousands by the import.
//!
//! Everything that could refuse a row (the seed's rules, a taken name or number, an unknown
//! template) is checked before anything is written, so the writes themselves cannot fail on a
//! row: each row's outcome is known up front.

use std::collections::{HashMap, HashSet};

use sqlx::SqliteConnection;

use super::devices;
use super::numbers::{self, Owner as NumberOwner};
use super::users::{Hashed, personal_device};
use super::{Auth, DeviceKind, NewUser, Result, Scope, Store, StoreError, VoicemailMode, unix_now};

const CHUNK: usize = 500;

/// A row that passed every check, with what it claims.
struct Ready<'a> {
    row: usize,
    new: &'a NewUser,
    hashed: Hashed,
    template: Option<i64>,
}

impl Store {
    /// Creates each user of `rows` that passes, inside `conn`'s transaction; the outcome of
    /// every row, in order: its new id, or why it was refused.
    pub(super) async fn insert_users(
        &self,
        conn: &mut SqliteConnection,
        rows: Vec<(&NewUser, Hashed)>,
    ) -> Result<Vec<Result<i64>>> {
        let mut outcome: Vec<Result<i64>> = rows.iter().map(|_| Ok(0)).collect();
        for (i, (new, _)) in rows.iter().enumerate() {
            if let Err(e) = self.check_new_user(new) {
                outcome[i] = Err(e);
            }
        }
        // Every refusal a row can get alone comes before it reserves a name or a number, so a
        // refused row never makes a later one conflict.
        let templates = resolve_templates(conn, &rows, &mut outcome).await?;
        refuse_taken_names(conn, &rows, &mut outcome).await?;
        refuse_taken_numbers(conn, &rows, &mut outcome).await?;
        let ready: Vec<Ready<'_>> = rows
            .into_iter()
            .enumerate()
            .filter(|(i, _)| outcome[*i].is_ok())
            .map(|(row, (new, hashed))| Ready {
                row,
                template: new
                    .action_template
                    .as_ref()
                    .and_then(|t| templates.get(t).copied()),
                new,
                hashed,
            })
            .collect();
        let ids = self.write_users(conn, &ready).await?;
        for (r, id) in ready.iter().zip(ids) {
            outcome[r.row] = Ok(id);
        }
        Ok(outcome)
    }

    /// The writes: users, their numbers, boxes, phonebook entries, devices and actions.
    async fn write_users(
        &self,
        conn: &mut SqliteConnection,
        ready: &[Ready<'_>],
    ) -> Result<Vec<i64>> {
        let mut ids = Vec::with_capacity(ready.len());
        for chunk in ready.chunks(CHUNK) {
            ids.extend(self.insert_rows(conn, chunk).await?);
        }
        let mut claims = Vec::new();
        let mut specs = Vec::new();
        let mut faxes = Vec::new();
        let mut actions = Vec::new();
        for (r, &id) in ready.iter().zip(&ids) {
            if let Some(ext) = &r.new.extension {
                claims.push((ext.clone(), NumberOwner::User(id)));
            }
            // In the order quick-create always made them: fax, softphone, mobile.
            if let Some(fax) = &r.new.fax_extension {
                faxes.push((id, fax.clone(), specs.len()));
                specs.push(personal_device(DeviceKind::Fax, id, None));
            }
            if r.new.softphone {
                specs.push(personal_device(DeviceKind::Softphone, id, None));
            }
            if let Some(n) = &r.new.mobile_number {
                specs.push(personal_device(DeviceKind::Mobile, id, Some(n)));
            }
            let mode = r.new.voicemail.unwrap_or(VoicemailMode::None);
            let scopes = Scope::ALL.iter().filter(|s| wants(mode, **s));
            for (position, scope) in scopes.enumerate() {
                actions.push((id, *scope, position as i64 + 1));
            }
        }
        let devices = devices::insert_many(conn, specs, self.window_hours).await?;
        for (_, fax, spec) in &faxes {
            claims.push((fax.clone(), NumberOwner::Fax(devices[*spec])));
        }
        numbers::insert_many(conn, &claims).await?;
        let boxes = "INSERT INTO voicemail_boxes (user_id, keep_messages) ";
        insert_each(conn, boxes, &ids, "false").await?;
        let entries = "INSERT INTO user_phonebook (user_id, enabled, extra) ";
        insert_each(conn, entries, &ids, "true, '{}'").await?;
        insert_faxes(conn, &faxes, &devices).await?;
        insert_voicemail_actions(conn, &actions).await?;
        Ok(ids)
    }

    /// One multi-row INSERT of users; their ids in the order of `chunk`.
    async fn insert_rows(
        &self,
        conn: &mut SqliteConnection,
        chunk: &[Ready<'_>],
    ) -> Result<Vec<i64>> {
        let now = unix_now();
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO users (username, display_name, extension, auth, password_hash, pin_hash,
                 email, language, role, cid_number, created_at, updated_at, action_template_id) ",
        );
        query.push_values(chunk, |mut b, r| {
            let new = r.new;
            let auth = new.auth.unwrap_or(Auth::Local);
            // A password only local auth can use is not kept for any other (as on a change).
            let password = r.hashed.password_hash().filter(|_| auth == Auth::Local);
            b.push_bind(new.username.clone())
                .push_bind(new.display_name.clone())
                .push_bind(new.extension.clone())
                .push_bind(auth)
                .push_bind(password)
                .push_bind(r.hashed.pin_hash())
                .push_bind(new.email.clone())
                .push_bind(
                    new.language
                        .clone()
                        .unwrap_or_else(|| self.default_language.clone()),
                )
                .push_bind(new.role)
                .push_bind(None::<String>)
                .push_bind(now)
                .push_bind(now)
                .push_bind(r.template);
        });
        // RETURNING comes in no promised order: match by the unique username.
        query.push(" RETURNING id, username");
        let rows: Vec<(i64, String)> = query.build_query_as().fetch_all(&mut *conn).await?;
        let by_name: HashMap<String, i64> = rows.into_iter().map(|(id, n)| (n, id)).collect();
        chunk
            .iter()
            .map(|r| {
                by_name
                    .get(&r.new.username)
                    .copied()
                    .ok_or_else(|| StoreError::not_found("user", &r.new.username))
            })
            .collect()
    }
}

fn wants(mode: VoicemailMode, scope: Scope) -> bool {
    match mode {
        VoicemailMode::All => true,
        VoicemailMode::Internal => scope == Scope::Internal,
        VoicemailMode::External => scope == Scope::External,
        VoicemailMode::None => false,
    }
}

/// Logins are one namespace with admin accounts; a name taken there or earlier in `rows` is
/// refused.
async fn refuse_taken_names(
    conn: &mut SqliteConnection,
    rows: &[(&NewUser, Hashed)],
    outcome: &mut [Result<i64>],
) -> Result<()> {
    let names: Vec<&str> = rows.iter().map(|(n, _)| n.username.as_str()).collect();
    let mut taken: HashSet<String> = HashSet::new();
    for table in ["users", "admins"] {
        let select = format!("SELECT username FROM {table} WHERE username IN (");
        let found: Vec<(String,)> = super::select_in(conn, &select, &names).await?;
        taken.extend(found.into_iter().map(|(n,)| n));
    }
    for (i, name) in names.iter().enumerate() {
        if outcome[i].is_ok() && !taken.insert((*name).to_owned()) {
            outcome[i] = Err(StoreError::conflict("username", "is already taken"));
        }
    }
    Ok(())
}

/// Extensions and fax numbers taken in the dialplan or earlier in `rows` are refused.
async fn refuse_taken_numbers(
    conn: &mut SqliteConnection,
    rows: &[(&NewUser, Hashed)],
    outcome: &mut [Result<i64>],
) -> Result<()> {
    fn wanted(new: &NewUser) -> Vec<(&'static str, &str)> {
        [
            ("extension", &new.extension),
            ("fax_extension", &new.fax_extension),
        ]
        .into_iter()
        .filter_map(|(field, n)| Some((field, n.as_deref()?)))
        .collect()
    }
    let all: Vec<&str> = rows
        .iter()
        .flat_map(|(new, _)| wanted(new).into_iter().map(|(_, n)| n))
        .collect();
    let mut taken = numbers::taken(conn, &all).await?;
    for (i, (new, _)) in rows.iter().enumerate() {
        if outcome[i].is_err() {
            continue;
        }
        let claims = wanted(new);
        if let Some((field, n)) = claims.iter().find(|(_, n)| taken.contains_key(*n)) {
            outcome[i] = Err(numbers::in_use(field, n, &taken[*n]));
            continue;
        }
        if let [(_, a), (field, b)] = claims[..]
            && a == b
        {
            outcome[i] = Err(numbers::in_use(field, b, "user"));
            continue;
        }
        for (field, n) in claims {
            let kind = if field == "extension" { "user" } else { "fax" };
            taken.insert(n.to_owned(), kind.to_owned());
        }
    }
    Ok(())
}

/// The ids of the action templates rows name; an unknown one refuses its row.
async fn resolve_templates(
    conn: &mut SqliteConnection,
    rows: &[(&NewUser, Hashed)],
    outcome: &mut [Result<i64>],
) -> Result<HashMap<String, i64>> {
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|(new, _)| new.action_template.as_deref())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let select = "SELECT name, id FROM action_templates WHERE name IN (";
    let found: Vec<(String, i64)> = super::select_in(conn, select, &names).await?;
    let ids: HashMap<String, i64> = found.into_iter().collect();
    for (i, (new, _)) in rows.iter().enumerate() {
        if let Some(name) = &new.action_template
            && outcome[i].is_ok()
            && !ids.contains_key(name)
        {
            outcome[i] = Err(StoreError::invalid(
                "action_template",
                format!("there is no action template {name}"),
            ));
        }
    }
    Ok(ids)
}

/// `INSERT INTO table (user_id, ...) VALUES (id, <constants>), ...` for every id.
async fn insert_each(
    conn: &mut SqliteConnection,
    insert: &str,
    ids: &[i64],
    constants: &'static str,
) -> Result<()> {
    for chunk in ids.chunks(CHUNK) {
        let mut query = sqlx::QueryBuilder::new(insert);
        query.push("VALUES ");
        let mut rows = query.separated(", ");
        for id in chunk {
            rows.push("(")
                .push_bind_unseparated(*id)
                .push_unseparated(format!(", {constants})"));
        }
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_faxes(
    conn: &mut SqliteConnection,
    faxes: &[(i64, String, usize)],
    devices: &[i64],
) -> Result<()> {
    for chunk in faxes.chunks(CHUNK) {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO user_fax (user_id, device_id, extension, format) ",
        );
        query.push_values(chunk, |mut b, (user, extension, spec)| {
            b.push_bind(*user)
                .push_bind(devices[*spec])
                .push_bind(extension.clone())
                .push_bind("pdf");
        });
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}

async fn insert_voicemail_actions(
    conn: &mut SqliteConnection,
    actions: &[(i64, Scope, i64)],
) -> Result<()> {
    for chunk in actions.chunks(CHUNK) {
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO actions (user_id, scope, timing, kind, target, position) ",
        );
        query.push_values(chunk, |mut b, (user, scope, position)| {
            b.push_bind(*user)
                .push_bind(*scope)
                .push_bind("after")
                .push_bind("voicemail")
                .push_bind(None::<String>)
                .push_bind(*position);
        });
        query.build().execute(&mut *conn).await?;
    }
    Ok(())
}
