//! The Users sheet: each row creates a user (quick-create, with every side effect) or changes
//! the fields that differ; the action template is linked later, once templates exist.

use super::secrets::{Planned, Secrets};
use super::{ImportError, Run};
use crate::import::records::{SheetRows, UserRow};
use crate::import::report::ChangeKind;
use crate::import::table::Field;
use crate::store::{Auth, Hashed, NewUser, Role, User, UserPatch, VoicemailMode, validate};

/// A user's action template, set once the templates are in place.
#[derive(Debug)]
pub(super) struct Link {
    row: u32,
    username: String,
    template: Option<String>,
}

impl Run<'_> {
    pub(super) async fn users(
        &mut self,
        sheet: &SheetRows<UserRow>,
        secrets: &mut Secrets,
    ) -> Result<Vec<Link>, ImportError> {
        let mut links = Vec::new();
        let mut creates = Vec::new();
        for row in &sheet.rows {
            self.step();
            let planned = secrets.planned.remove(&row.username);
            match self.snap.users.get(&row.username).cloned() {
                None => creates.extend(self.new_user(sheet, row, planned)),
                Some(cur) => {
                    self.update_user(sheet, row, &cur, planned, &mut links)
                        .await?
                }
            }
        }
        // New users go in together, after the updates (which may free numbers they take).
        let rows = creates
            .iter()
            .map(|(_, new, hashed)| (new, hashed.clone()))
            .collect();
        let outcomes = self.batch.create_users(rows).await?;
        for ((row, _, _), done) in creates.iter().zip(outcomes) {
            if self.settle(done, sheet, Some(row.row))? {
                self.record(
                    sheet,
                    Some(row.row),
                    &row.username,
                    ChangeKind::Create,
                    Vec::new(),
                );
                if let Field::Value(t) = &row.action_template {
                    links.push(Link {
                        row: row.row,
                        username: row.username.clone(),
                        template: Some(t.clone()),
                    });
                }
            }
        }
        Ok(links)
    }

    /// The quick-create of a row, or None (with the problem reported) when the caller may
    /// not grant its role.
    fn new_user<'r>(
        &mut self,
        sheet: &SheetRows<UserRow>,
        row: &'r UserRow,
        planned: Option<Planned>,
    ) -> Option<(&'r UserRow, NewUser, Hashed)> {
        let new = NewUser {
            username: row.username.clone(),
            display_name: row.display_name.value().cloned().unwrap_or_default(),
            extension: row.extension.value().cloned(),
            auth: row.auth.value().copied(),
            password: row.password.value().cloned(),
            pin: row.pin.value().cloned(),
            fax_extension: row.fax_extension.value().cloned(),
            email: row.email.value().cloned(),
            language: row.language.value().cloned(),
            voicemail: row.voicemail.value().copied(),
            softphone: row.softphone.value().copied().unwrap_or(false),
            mobile_number: row.mobile_number.value().cloned(),
            role: row.role.value().copied(),
            action_template: None,
        };
        if !self.may_grant(new.role) {
            self.refuse_role(sheet, row.row, new.role);
            return None;
        }
        let planned = planned.unwrap_or_default();
        if new.password.is_some() != planned.password || new.pin.is_some() != planned.pin {
            let problem = sheet.problem(
                Some(row.row),
                Some("username"),
                "the user was created or deleted while the import ran; import again".into(),
            );
            self.report.problem(problem);
            return None;
        }
        Some((row, new, planned.hashed))
    }

    async fn update_user(
        &mut self,
        sheet: &SheetRows<UserRow>,
        row: &UserRow,
        cur: &User,
        planned: Option<Planned>,
        links: &mut Vec<Link>,
    ) -> Result<(), ImportError> {
        let language = self.store.default_language().to_owned();
        let (mut patch, mut fields) = diff(row, cur, &language);
        let hashed = self.secrets(sheet, row, planned, &mut patch, &mut fields);
        let template = optional(&row.action_template, &cur.action_template);
        if template.is_some() {
            fields.push("action_template".into());
        }
        if fields.is_empty() {
            self.record(
                sheet,
                Some(row.row),
                &row.username,
                ChangeKind::Update,
                fields,
            );
            return Ok(());
        }
        if !self.may_grant(cur.role) {
            let message = format!(
                "your role may not change {} (role {})",
                cur.username,
                cur.role.map_or("none", Role::as_str)
            );
            self.report
                .problem(sheet.problem(Some(row.row), Some("username"), message));
            return Ok(());
        }
        if let Some(Some(role)) = patch.role
            && !self.may_grant(Some(role))
        {
            self.refuse_role(sheet, row.row, Some(role));
            return Ok(());
        }
        if let Some(template) = template {
            links.push(Link {
                row: row.row,
                username: row.username.clone(),
                template,
            });
        }
        let only_link = fields.len() == 1 && fields[0] == "action_template";
        let done = if only_link {
            Ok(())
        } else {
            self.batch.update_user(&row.username, &patch, hashed).await
        };
        if self.settle(done, sheet, Some(row.row))? {
            self.record(
                sheet,
                Some(row.row),
                &row.username,
                ChangeKind::Update,
                fields,
            );
        }
        Ok(())
    }

    /// The secrets a row sets go into `patch` (validated there) with their hashes; a secret the
    /// user keeps is still checked against the rules.
    fn secrets(
        &mut self,
        sheet: &SheetRows<UserRow>,
        row: &UserRow,
        planned: Option<Planned>,
        patch: &mut UserPatch,
        fields: &mut Vec<String>,
    ) -> Hashed {
        let planned = planned.unwrap_or_default();
        let checks = [
            ("password", &row.password, planned.password),
            ("pin", &row.pin, planned.pin),
        ];
        for (name, given, set) in checks {
            let Some(secret) = given.value() else {
                continue;
            };
            if set {
                fields.push(name.into());
                let value = Some(Some(secret.clone()));
                match name {
                    "password" => patch.password = value,
                    _ => patch.pin = value,
                }
                continue;
            }
            let valid = match name {
                "password" => validate::password(name, secret),
                _ => validate::pin(name, secret),
            };
            if let Err(e) = valid {
                let message = crate::import::records::message_of(&e);
                self.report
                    .problem(sheet.problem(Some(row.row), Some(name), message));
            }
        }
        planned.hashed
    }

    /// Links users to their templates (after the templates sheet is in).
    pub(super) async fn link_templates(
        &mut self,
        sheet: &SheetRows<UserRow>,
        links: Vec<Link>,
    ) -> Result<(), ImportError> {
        for link in links {
            let patch = UserPatch {
                action_template: Some(link.template),
                ..UserPatch::default()
            };
            let done = self
                .batch
                .update_user(&link.username, &patch, Hashed::default())
                .await;
            self.settle(done, sheet, Some(link.row))?;
        }
        Ok(())
    }

    pub(super) async fn prune_users(
        &mut self,
        sheet: &SheetRows<UserRow>,
    ) -> Result<(), ImportError> {
        let mut gone: Vec<User> = self
            .snap
            .users
            .values()
            .filter(|u| !sheet.keys.contains(&u.username))
            .cloned()
            .collect();
        gone.sort_by(|a, b| a.username.cmp(&b.username));
        let me = self.options.actor.as_ref().and_then(|a| a.username.clone());
        for user in gone {
            if me.as_deref() == Some(user.username.as_str()) {
                self.report.notices.push(format!(
                    "{} is not in the file but imports it, and is kept",
                    user.username
                ));
                continue;
            }
            if !self.may_grant(user.role) {
                let message = format!(
                    "{} (role {}) is not in the file, and your role may not delete them",
                    user.username,
                    user.role.map_or("none", Role::as_str)
                );
                self.report.problem(sheet.problem(None, None, message));
                continue;
            }
            let done = self.batch.delete_user(&user.username).await;
            if self.settle(done, sheet, None)? {
                self.record(sheet, None, &user.username, ChangeKind::Delete, Vec::new());
            }
        }
        Ok(())
    }

    fn may_grant(&self, role: Option<Role>) -> bool {
        self.options
            .actor
            .as_ref()
            .is_none_or(|a| a.role.may_grant(role))
    }

    fn refuse_role(&mut self, sheet: &SheetRows<UserRow>, row: u32, role: Option<Role>) {
        let actor = self
            .options
            .actor
            .as_ref()
            .map_or("none", |a| a.role.as_str());
        let message = format!(
            "your role ({actor}) may not grant {}",
            role.map_or("none", Role::as_str)
        );
        self.report
            .problem(sheet.problem(Some(row), Some("role"), message));
    }
}

/// The fields of `row` that differ from `cur`, as a patch and their names.
fn diff(row: &UserRow, cur: &User, default_language: &str) -> (UserPatch, Vec<String>) {
    let mut fields = Vec::new();
    let mut note = |name: &str, changed: bool| {
        if changed {
            fields.push(name.to_owned());
        }
        changed
    };
    let display_name = match &row.display_name {
        Field::Absent | Field::Empty => None,
        Field::Clear => Some(String::new()),
        Field::Value(v) => (*v != cur.display_name).then(|| v.clone()),
    };
    let language = match &row.language {
        Field::Absent | Field::Empty => None,
        Field::Clear => Some(default_language.to_owned()),
        Field::Value(v) => Some(v.clone()),
    }
    .filter(|l| *l != cur.language);
    let patch = UserPatch {
        display_name,
        extension: optional(&row.extension, &cur.extension),
        auth: word(&row.auth, cur.auth, Auth::Local),
        password: None,
        pin: None,
        fax_extension: optional(&row.fax_extension, &cur.fax_extension),
        email: optional(&row.email, &cur.email),
        language,
        voicemail: word(&row.voicemail, cur.voicemail, VoicemailMode::None),
        softphone: word(&row.softphone, cur.softphone, false),
        mobile_number: optional(&row.mobile_number, &cur.mobile_number),
        role: optional(&row.role, &cur.role),
        action_template: None,
    };
    note("display_name", patch.display_name.is_some());
    note("extension", patch.extension.is_some());
    note("auth", patch.auth.is_some());
    note("fax_extension", patch.fax_extension.is_some());
    note("email", patch.email.is_some());
    note("language", patch.language.is_some());
    note("voicemail", patch.voicemail.is_some());
    note("softphone", patch.softphone.is_some());
    note("mobile_number", patch.mobile_number.is_some());
    note("role", patch.role.is_some());
    (patch, fields)
}

/// A change of an optional field: `Some(new)` when the file says otherwise than `cur`.
fn optional<T: Clone + PartialEq>(field: &Field<T>, cur: &Option<T>) -> Option<Option<T>> {
    let wanted = match field {
        Field::Absent | Field::Empty => return None,
        Field::Clear => None,
        Field::Value(v) => Some(v.clone()),
    };
    (wanted != *cur).then_some(wanted)
}

/// A change of a field with a default (`-` sets the default).
fn word<T: Copy + PartialEq>(field: &Field<T>, cur: T, default: T) -> Option<T> {
    let wanted = match field {
        Field::Absent | Field::Empty => return None,
        Field::Clear => default,
        Field::Value(v) => *v,
    };
    (wanted != cur).then_some(wanted)
}
