//! Users [Benutzer]: quick-create with the seed's side effects, changes, and deletion.
//!
//! A user's voicemail mode, softphone, mobile number and fax extension are read back from the
//! actions and devices that quick-create made, so the user record can never disagree with them.

use crate::clock::UnixTime;
use sqlx::SqliteConnection;

use super::devices::{self, Owner, Spec};
use super::hasher::Hasher;
use super::numbers::{self, Owner as NumberOwner};
use super::secret::Secret;
use super::{
    Auth, DeviceKind, NewUser, PhoneState, PhoneStatus, Result, Role, Store, StoreError, User,
    UserPatch, VoicemailMode, unix_now, validate,
};

const SELECT: &str = "SELECT u.id, u.username, u.display_name, u.extension, u.auth,
       u.password_hash IS NOT NULL AS has_password, u.pin_hash IS NOT NULL AS has_pin,
       u.email, u.language, u.role, u.cid_number, u.created_at, u.updated_at,
       f.extension AS fax_extension,
       EXISTS (SELECT 1 FROM actions a WHERE a.user_id = u.id AND a.kind = 'voicemail'
               AND a.timing = 'after' AND a.scope = 'internal' AND a.target IS NULL) AS vm_internal,
       EXISTS (SELECT 1 FROM actions a WHERE a.user_id = u.id AND a.kind = 'voicemail'
               AND a.timing = 'after' AND a.scope = 'external' AND a.target IS NULL) AS vm_external,
       EXISTS (SELECT 1 FROM devices d WHERE d.owner_user_id = u.id AND d.kind = 'softphone') AS softphone,
       (SELECT d.number FROM devices d WHERE d.owner_user_id = u.id AND d.kind = 'mobile'
         ORDER BY d.id LIMIT 1) AS mobile_number,
       (SELECT COUNT(*) FROM devices d WHERE d.owner_user_id = u.id AND d.kind <> 'fax') AS direct_devices,
       w.name AS workplace, w.logged_in_at, t.name AS action_template,
       (SELECT GROUP_CONCAT(d.id) FROM devices d WHERE d.kind IN ('ip-phone', 'softphone')
           AND (d.owner_user_id = u.id OR d.owner_workplace_id = w.id)) AS ring_devices
  FROM users u
  LEFT JOIN user_fax f ON f.user_id = u.id
  LEFT JOIN workplaces w ON w.current_user_id = u.id
  LEFT JOIN action_templates t ON t.id = u.action_template_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    username: String,
    display_name: String,
    extension: Option<String>,
    auth: Auth,
    has_password: bool,
    has_pin: bool,
    email: Option<String>,
    language: String,
    role: Option<Role>,
    cid_number: Option<String>,
    created_at: UnixTime,
    updated_at: UnixTime,
    fax_extension: Option<String>,
    vm_internal: bool,
    vm_external: bool,
    softphone: bool,
    mobile_number: Option<String>,
    direct_devices: i64,
    workplace: Option<String>,
    logged_in_at: Option<UnixTime>,
    action_template: Option<String>,
    ring_devices: Option<String>,
}

impl From<Row> for User {
    fn from(r: Row) -> User {
        let voicemail = match (r.vm_internal, r.vm_external) {
            (true, true) => VoicemailMode::All,
            (true, false) => VoicemailMode::Internal,
            (false, true) => VoicemailMode::External,
            (false, false) => VoicemailMode::None,
        };
        User {
            username: r.username,
            display_name: r.display_name,
            extension: r.extension,
            auth: r.auth,
            has_password: r.has_password,
            has_pin: r.has_pin,
            fax_extension: r.fax_extension,
            email: r.email,
            language: r.language,
            voicemail,
            softphone: r.softphone,
            mobile_number: r.mobile_number,
            role: r.role,
            cid_number: r.cid_number,
            action_template: r.action_template,
            phone_status: PhoneStatus {
                state: match (&r.workplace, r.direct_devices) {
                    (Some(_), _) => PhoneState::Workplace,
                    (None, n) if n > 0 => PhoneState::Direct,
                    _ => PhoneState::None,
                },
                workplace: r.workplace,
                logged_in_since: r.logged_in_at,
                direct_devices: r.direct_devices,
                reachable: false,
                ringing: false,
                busy: false,
                ring_devices: r
                    .ring_devices
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|id| id.parse().ok())
                    .collect(),
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The id of user `username`; unknown is a 404-style error naming `what`.
/// Like [`id_of`] for a name given in a request body: unknown is a 422 on `field`.
pub(super) async fn referenced(
    conn: &mut SqliteConnection,
    field: &str,
    name: &str,
) -> Result<i64> {
    id_of(conn, "user", name)
        .await
        .map_err(super::named_in_body(field))
}

pub(super) async fn id_of(
    conn: &mut SqliteConnection,
    what: &'static str,
    name: &str,
) -> Result<i64> {
    super::find_id(conn, "SELECT id FROM users WHERE username = $1", what, name).await
}

/// The admin role of user `id`, if any (workplaces may be restricted by role).
pub(super) async fn role_of(conn: &mut SqliteConnection, id: i64) -> Result<Option<Role>> {
    let (role,): (Option<Role>,) = sqlx::query_as("SELECT role FROM users WHERE id = $1")
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
    Ok(role)
}

/// Every user, ordered by username.
pub(super) async fn all(conn: &mut SqliteConnection) -> Result<Vec<User>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} ORDER BY u.username"))
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(User::from).collect())
}

async fn one(conn: &mut SqliteConnection, username: &str) -> Result<(i64, User)> {
    let row: Option<Row> = sqlx::query_as(&format!("{SELECT} WHERE u.username = $1"))
        .bind(username)
        .fetch_optional(&mut *conn)
        .await?;
    let row = row.ok_or_else(|| StoreError::not_found("user", username))?;
    Ok((row.id, row.into()))
}

/// A user's secrets hashed before the write transaction starts, so hashing never holds the
/// writer. Each is `None` (leave as is), `Some(None)` (clear) or `Some(Some(phc))` (set).
#[derive(Clone, Default)]
pub struct Hashed {
    password: Option<Option<String>>,
    pin: Option<Option<String>>,
}

impl std::fmt::Debug for Hashed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hashed { .. }")
    }
}

impl Hashed {
    pub(super) fn password_hash(&self) -> Option<String> {
        self.password.clone().flatten()
    }

    pub(super) fn pin_hash(&self) -> Option<String> {
        self.pin.clone().flatten()
    }

    /// For a dry run, which is always rolled back: the secrets count as set, without the cost
    /// of hashing them. Never commit a transaction that used one.
    pub fn placeholder(password: bool, pin: bool) -> Hashed {
        let mark = |set: bool| set.then(|| Some("dry-run".to_owned()));
        Hashed {
            password: mark(password),
            pin: mark(pin),
        }
    }
}

async fn hash_opt(
    hasher: &Hasher,
    value: &Option<Option<Secret>>,
) -> Result<Option<Option<String>>> {
    Ok(match value {
        Some(Some(s)) => Some(Some(hasher.hash(s).await?)),
        Some(None) => Some(None),
        None => None,
    })
}

impl Store {
    /// Quick-create [Schnellanlage] with every side effect the seed names.
    pub async fn create_user(&self, new: NewUser) -> Result<User> {
        self.check_new_user(&new)?;
        let hashed = self
            .hash_secrets(new.password.as_ref(), new.pin.as_ref())
            .await?;
        let mut tx = self.write.begin().await?;
        self.insert_user(&mut tx, &new, hashed).await?;
        let (_, user) = one(&mut tx, &new.username).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Hashes the secrets a user row sets (`None` leaves a secret as it is).
    pub async fn hash_secrets(
        &self,
        password: Option<&Secret>,
        pin: Option<&Secret>,
    ) -> Result<Hashed> {
        Ok(Hashed {
            password: hash_opt(&self.hasher, &password.cloned().map(Some)).await?,
            pin: hash_opt(&self.hasher, &pin.cloned().map(Some)).await?,
        })
    }

    pub(super) fn check_new_user(&self, new: &NewUser) -> Result<()> {
        let language = new.language.as_deref().unwrap_or(&self.default_language);
        check_new(new, new.auth.unwrap_or(Auth::Local), language)
    }

    /// The insert and every side effect of quick-create, inside `conn`'s transaction; the
    /// secrets come hashed (`new`'s own are only validated).
    pub(super) async fn insert_user(
        &self,
        conn: &mut SqliteConnection,
        new: &NewUser,
        hashed: Hashed,
    ) -> Result<i64> {
        self.insert_users(conn, vec![(new, hashed)])
            .await?
            .pop()
            .unwrap_or_else(|| Err(StoreError::not_found("user", &new.username)))
    }

    pub async fn user(&self, username: &str) -> Result<User> {
        Ok(one(&mut *self.read.acquire().await?, username).await?.1)
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        all(&mut *self.read.acquire().await?).await
    }

    /// Changes a user; quick-create fields keep their side effects (turning `softphone` off
    /// removes the softphone, clearing `fax_extension` removes the fax device, ...).
    pub async fn update_user(&self, username: &str, patch: UserPatch) -> Result<User> {
        check_patch(&patch)?;
        let hashed = Hashed {
            password: hash_opt(&self.hasher, &patch.password).await?,
            pin: hash_opt(&self.hasher, &patch.pin).await?,
        };
        let mut tx = self.write.begin().await?;
        self.change_user(&mut tx, username, &patch, hashed).await?;
        let (_, user) = one(&mut tx, username).await?;
        tx.commit().await?;
        Ok(user)
    }

    /// The change itself, inside `conn`'s transaction; the secrets come hashed (`patch`'s own
    /// are only validated).
    pub(super) async fn change_user(
        &self,
        conn: &mut SqliteConnection,
        username: &str,
        patch: &UserPatch,
        mut hashed: Hashed,
    ) -> Result<()> {
        check_patch(patch)?;
        let (id, user) = one(conn, username).await?;
        let auth = patch.auth.unwrap_or(user.auth);
        let will_have_password = match &hashed.password {
            Some(p) => p.is_some(),
            None => user.has_password,
        };
        if auth == Auth::Local && !will_have_password {
            return Err(StoreError::invalid(
                "password",
                "is required when auth is local",
            ));
        }
        if auth != Auth::Local && (user.has_password || hashed.password.is_some()) {
            // A password that cannot be used must not come back when auth returns to local.
            hashed.password = Some(None);
        }
        let password_changes = match &hashed.password {
            Some(Some(_)) => true,
            Some(None) => user.has_password,
            None => false,
        };
        if password_changes {
            // A new (or no) password ends the sessions the old one opened.
            super::accounts::revoke_tokens(conn, &format!("user:{username}")).await?;
        } else {
            hashed.password = None;
        }
        if let Some(ext) = &patch.extension {
            numbers::replace(conn, "extension", ext.as_deref(), NumberOwner::User(id)).await?;
        }
        if let Some(fax) = &patch.fax_extension {
            self.set_fax_extension(conn, id, fax.as_deref()).await?;
        }
        if let Some(on) = patch.softphone {
            self.set_softphone(conn, id, on).await?;
        }
        if let Some(mobile) = &patch.mobile_number {
            self.set_mobile(conn, id, mobile.as_deref()).await?;
        }
        if let Some(mode) = patch.voicemail {
            super::actions::sync_voicemail(conn, id, mode).await?;
        }
        if let Some(template) = &patch.action_template {
            let template = match template {
                Some(name) => {
                    Some(super::templates::referenced(conn, "action_template", name).await?)
                }
                None => None,
            };
            sqlx::query("UPDATE users SET action_template_id = $1 WHERE id = $2")
                .bind(template)
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        update_columns(conn, id, &user, patch, auth, hashed).await
    }

    /// Deletes a user with their voicemail box, phonebook entry, actions, forwardings and their
    /// personal devices (softphone, mobile, fax); IP phones stay, unassigned.
    pub async fn delete_user(&self, username: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        self.remove_user(&mut tx, username).await?;
        tx.commit().await?;
        Ok(())
    }

    pub(super) async fn remove_user(
        &self,
        conn: &mut SqliteConnection,
        username: &str,
    ) -> Result<()> {
        let id = id_of(conn, "user", username).await?;
        self.set_fax_extension(conn, id, None).await?;
        sqlx::query(
            "DELETE FROM devices WHERE owner_user_id = $1 AND kind IN ('softphone', 'mobile')",
        )
        .bind(id)
        .execute(&mut *conn)
        .await?;
        sqlx::query("DELETE FROM followme WHERE device_id IN (SELECT id FROM devices WHERE owner_user_id = $1)")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        numbers::release(conn, NumberOwner::User(id)).await?;
        forget_references(conn, id, username).await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    /// Gives the user a virtual fax device with `extension`, moves it, or removes it (None).
    pub(super) async fn set_fax_extension(
        &self,
        conn: &mut SqliteConnection,
        user: i64,
        extension: Option<&str>,
    ) -> Result<()> {
        let existing: Option<(i64,)> =
            sqlx::query_as("SELECT device_id FROM user_fax WHERE user_id = $1")
                .bind(user)
                .fetch_optional(&mut *conn)
                .await?;
        match (existing, extension) {
            (Some((device,)), Some(ext)) => {
                numbers::replace(conn, "fax_extension", Some(ext), NumberOwner::Fax(device))
                    .await?;
                sqlx::query("UPDATE user_fax SET extension = $1 WHERE user_id = $2")
                    .bind(ext)
                    .bind(user)
                    .execute(&mut *conn)
                    .await?;
            }
            (Some((device,)), None) => {
                numbers::release(conn, NumberOwner::Fax(device)).await?;
                sqlx::query("DELETE FROM devices WHERE id = $1")
                    .bind(device)
                    .execute(&mut *conn)
                    .await?;
            }
            (None, Some(ext)) => {
                let spec = personal_device(DeviceKind::Fax, user, None);
                let device = devices::insert(conn, spec, self.window_hours).await?;
                numbers::claim(conn, "fax_extension", ext, NumberOwner::Fax(device)).await?;
                sqlx::query("INSERT INTO user_fax (user_id, device_id, extension, format) VALUES ($1, $2, $3, 'pdf')")
                    .bind(user)
                    .bind(device)
                    .bind(ext)
                    .execute(&mut *conn)
                    .await?;
            }
            (None, None) => {}
        }
        Ok(())
    }

    /// Makes sure the user has a softphone (on) or none (off).
    async fn set_softphone(&self, conn: &mut SqliteConnection, user: i64, on: bool) -> Result<()> {
        let has: Option<(i64,)> = sqlx::query_as(
            "SELECT id FROM devices WHERE owner_user_id = $1 AND kind = 'softphone' LIMIT 1",
        )
        .bind(user)
        .fetch_optional(&mut *conn)
        .await?;
        match (has, on) {
            (None, true) => {
                devices::insert(
                    conn,
                    personal_device(DeviceKind::Softphone, user, None),
                    self.window_hours,
                )
                .await?;
            }
            (Some(_), false) => {
                sqlx::query("DELETE FROM devices WHERE owner_user_id = $1 AND kind = 'softphone'")
                    .bind(user)
                    .execute(&mut *conn)
                    .await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Gives the user a mobile device with `number`, renumbers it, or removes it (None).
    async fn set_mobile(
        &self,
        conn: &mut SqliteConnection,
        user: i64,
        number: Option<&str>,
    ) -> Result<()> {
        let has: Option<(i64,)> = sqlx::query_as("SELECT id FROM devices WHERE owner_user_id = $1 AND kind = 'mobile' ORDER BY id LIMIT 1")
            .bind(user)
            .fetch_optional(&mut *conn)
            .await?;
        match (has, number) {
            (None, Some(n)) => {
                devices::insert(
                    conn,
                    personal_device(DeviceKind::Mobile, user, Some(n)),
                    self.window_hours,
                )
                .await?;
            }
            (Some((id,)), Some(n)) => {
                sqlx::query("UPDATE devices SET number = $1, label = $2 WHERE id = $3")
                    .bind(n)
                    .bind(devices::default_label(
                        DeviceKind::Mobile,
                        None,
                        None,
                        None,
                        Some(n),
                    ))
                    .bind(id)
                    .execute(&mut *conn)
                    .await?;
            }
            (Some(_), None) => {
                sqlx::query("DELETE FROM devices WHERE owner_user_id = $1 AND kind = 'mobile'")
                    .bind(user)
                    .execute(&mut *conn)
                    .await?;
            }
            (None, None) => {}
        }
        Ok(())
    }
}

/// Removes what points at a user by name, so a later user of the same name inherits nothing:
/// other users' forwardings and actions to them (template steps too), their tokens, their
/// workplace login.
async fn forget_references(conn: &mut SqliteConnection, id: i64, username: &str) -> Result<()> {
    sqlx::query("DELETE FROM forwardings WHERE target = $1")
        .bind(username)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM actions WHERE target = $1 AND kind IN ('voicemail', 'forward-user')")
        .bind(username)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "DELETE FROM action_template_steps WHERE target = $1 AND kind IN ('voicemail', 'forward-user')",
    )
    .bind(username)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE workplaces SET current_user_id = NULL, logged_in_at = NULL WHERE current_user_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    super::accounts::revoke_tokens(conn, &format!("user:{username}")).await
}

pub(super) fn personal_device(kind: DeviceKind, user: i64, number: Option<&str>) -> Spec {
    Spec {
        kind,
        mac: None,
        vendor: None,
        model: None,
        label: devices::default_label(kind, None, None, None, number),
        number: number.map(str::to_owned),
        owner: Owner::User(user),
        sip_password: None,
    }
}

async fn update_columns(
    conn: &mut SqliteConnection,
    id: i64,
    user: &User,
    patch: &UserPatch,
    auth: Auth,
    hashed: Hashed,
) -> Result<()> {
    let email = patch.email.clone().unwrap_or_else(|| user.email.clone());
    let extension = patch
        .extension
        .clone()
        .unwrap_or_else(|| user.extension.clone());
    let role = patch.role.unwrap_or(user.role);
    let mut query = sqlx::QueryBuilder::new("UPDATE users SET display_name = ");
    query
        .push_bind(
            patch
                .display_name
                .clone()
                .unwrap_or_else(|| user.display_name.clone()),
        )
        .push(", extension = ")
        .push_bind(extension)
        .push(", auth = ")
        .push_bind(auth)
        .push(", email = ")
        .push_bind(email)
        .push(", language = ")
        .push_bind(
            patch
                .language
                .clone()
                .unwrap_or_else(|| user.language.clone()),
        )
        .push(", role = ")
        .push_bind(role)
        .push(", updated_at = ")
        .push_bind(unix_now());
    if let Some(password) = hashed.password {
        query.push(", password_hash = ").push_bind(password);
    }
    if let Some(pin) = hashed.pin {
        query.push(", pin_hash = ").push_bind(pin);
    }
    query.push(" WHERE id = ").push_bind(id);
    query.build().execute(&mut *conn).await?;
    Ok(())
}

fn check_new(new: &NewUser, auth: Auth, language: &str) -> Result<()> {
    validate::username("username", &new.username)?;
    validate::display_text("display_name", &new.display_name)?;
    if let Some(ext) = &new.extension {
        validate::extension("extension", ext)?;
    }
    match (&new.password, auth) {
        (Some(p), _) => validate::password("password", p)?,
        (None, Auth::Local) => {
            return Err(StoreError::invalid(
                "password",
                "is required when auth is local",
            ));
        }
        (None, _) => {}
    }
    if let Some(pin) = &new.pin {
        validate::pin("pin", pin)?;
    }
    if let Some(fax) = &new.fax_extension {
        validate::extension("fax_extension", fax)?;
    }
    if let Some(email) = &new.email {
        validate::email("email", email)?;
    }
    validate::language("language", language)?;
    if let Some(mobile) = &new.mobile_number {
        validate::phone_number("mobile_number", mobile)?;
    }
    Ok(())
}

fn check_patch(patch: &UserPatch) -> Result<()> {
    if let Some(name) = &patch.display_name {
        validate::display_text("display_name", name)?;
    }
    if let Some(Some(ext)) = &patch.extension {
        validate::extension("extension", ext)?;
    }
    if let Some(Some(p)) = &patch.password {
        validate::password("password", p)?;
    }
    if let Some(Some(pin)) = &patch.pin {
        validate::pin("pin", pin)?;
    }
    if let Some(Some(fax)) = &patch.fax_extension {
        validate::extension("fax_extension", fax)?;
    }
    if let Some(Some(email)) = &patch.email {
        validate::email("email", email)?;
    }
    if let Some(language) = &patch.language {
        validate::language("language", language)?;
    }
    if let Some(Some(mobile)) = &patch.mobile_number {
        validate::phone_number("mobile_number", mobile)?;
    }
    Ok(())
}
