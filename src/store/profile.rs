//! The tabs of a user's page: voicemail box, virtual fax device, phonebook entry, caller id.

use std::collections::BTreeMap;

use super::users::id_of;
use super::{
    CidSettings, FaxFormat, FaxSettings, Result, Store, StoreError, UserPhonebook,
    VoicemailSettings, unix_now, validate,
};

/// Extension, email, header id, format, keep.
type FaxRow = (String, Option<String>, Option<String>, FaxFormat, bool);

impl Store {
    pub async fn voicemail_settings(&self, username: &str) -> Result<VoicemailSettings> {
        let mut conn = self.read.acquire().await?;
        let user = id_of(&mut conn, "user", username).await?;
        let (keep, email, monitored): (bool, Option<String>, Option<String>) = sqlx::query_as(
            "SELECT v.keep_messages, v.email, m.username FROM voicemail_boxes v
               LEFT JOIN users m ON m.id = v.monitored_user_id WHERE v.user_id = $1",
        )
        .bind(user)
        .fetch_one(&mut *conn)
        .await?;
        Ok(VoicemailSettings {
            keep_messages: keep,
            email,
            monitored_mailbox: monitored,
        })
    }

    pub async fn set_voicemail_settings(
        &self,
        username: &str,
        s: VoicemailSettings,
    ) -> Result<VoicemailSettings> {
        if let Some(email) = &s.email {
            validate::email("email", email)?;
        }
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        let monitored = match s.monitored_mailbox.as_deref() {
            None => None,
            Some(name) if name == username => None,
            Some(name) => Some(super::users::referenced(&mut tx, "monitored_mailbox", name).await?),
        };
        sqlx::query("UPDATE voicemail_boxes SET keep_messages = $1, email = $2, monitored_user_id = $3 WHERE user_id = $4")
            .bind(s.keep_messages)
            .bind(&s.email)
            .bind(monitored)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.voicemail_settings(username).await
    }

    /// The user's virtual fax device; NotFound when the user has none.
    pub async fn fax_settings(&self, username: &str) -> Result<FaxSettings> {
        let mut conn = self.read.acquire().await?;
        let user = id_of(&mut conn, "user", username).await?;
        let row: Option<FaxRow> = sqlx::query_as(
            "SELECT extension, email, header_id, format, keep_faxes FROM user_fax WHERE user_id = $1",
        )
        .bind(user)
        .fetch_optional(&mut *conn)
        .await?;
        let (extension, email, header_id, format, keep_faxes) =
            row.ok_or_else(|| StoreError::not_found("fax device of", username))?;
        Ok(FaxSettings {
            email,
            extension,
            header_id,
            format,
            keep_faxes,
        })
    }

    /// Creates or changes the user's virtual fax device.
    pub async fn set_fax_settings(&self, username: &str, s: FaxSettings) -> Result<FaxSettings> {
        validate::extension("extension", &s.extension)?;
        if let Some(email) = &s.email {
            validate::email("email", email)?;
        }
        if let Some(id) = &s.header_id {
            validate::fax_id("header_id", id)?;
        }
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        self.set_fax_extension(&mut tx, user, Some(&s.extension))
            .await?;
        sqlx::query(
            "UPDATE user_fax SET email = $1, header_id = $2, format = $3, keep_faxes = $5
              WHERE user_id = $4",
        )
        .bind(&s.email)
        .bind(&s.header_id)
        .bind(s.format)
        .bind(user)
        .bind(s.keep_faxes)
        .execute(&mut *tx)
        .await?;
        touch(&mut tx, user).await?;
        tx.commit().await?;
        self.fax_settings(username).await
    }

    pub async fn delete_fax(&self, username: &str) -> Result<()> {
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        self.set_fax_extension(&mut tx, user, None).await?;
        touch(&mut tx, user).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_phonebook(&self, username: &str) -> Result<UserPhonebook> {
        let mut conn = self.read.acquire().await?;
        let user = id_of(&mut conn, "user", username).await?;
        let (enabled, extra): (bool, String) =
            sqlx::query_as("SELECT enabled, extra FROM user_phonebook WHERE user_id = $1")
                .bind(user)
                .fetch_one(&mut *conn)
                .await?;
        Ok(UserPhonebook {
            enabled,
            extra: parse_extra(&extra),
        })
    }

    pub async fn set_user_phonebook(
        &self,
        username: &str,
        p: UserPhonebook,
    ) -> Result<UserPhonebook> {
        validate::extra_fields("extra", &p.extra)?;
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        sqlx::query("UPDATE user_phonebook SET enabled = $1, extra = $2 WHERE user_id = $3")
            .bind(p.enabled)
            .bind(print_extra(&p.extra))
            .bind(user)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.user_phonebook(username).await
    }

    pub async fn cid(&self, username: &str) -> Result<CidSettings> {
        let cid_number = self.user(username).await?.cid_number;
        Ok(CidSettings { cid_number })
    }

    pub async fn set_cid(&self, username: &str, c: CidSettings) -> Result<CidSettings> {
        if let Some(n) = &c.cid_number {
            validate::phone_number("cid_number", n)
                .or_else(|_| validate::extension("cid_number", n))?;
        }
        let mut tx = self.write.begin().await?;
        let user = id_of(&mut tx, "user", username).await?;
        sqlx::query("UPDATE users SET cid_number = $1 WHERE id = $2")
            .bind(&c.cid_number)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        touch(&mut tx, user).await?;
        tx.commit().await?;
        self.cid(username).await
    }
}

async fn touch(conn: &mut sqlx::SqliteConnection, user: i64) -> Result<()> {
    sqlx::query("UPDATE users SET updated_at = $1 WHERE id = $2")
        .bind(unix_now())
        .bind(user)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Extra phonebook fields are stored as a JSON object of strings.
pub(super) fn parse_extra(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

pub(super) fn print_extra(extra: &BTreeMap<String, String>) -> String {
    serde_json::to_string(extra).unwrap_or_else(|_| "{}".into())
}
