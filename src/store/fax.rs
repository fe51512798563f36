//! The faxes in users' fax inboxes (the rows; the documents are the fax module's files).

use sqlx::{Sqlite, Transaction};

use super::{Result, Store};
use crate::clock::UnixTime;

/// A received fax to store, as the fax inbox hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFax {
    pub user: i64,
    /// Unique; the mail's reference.
    pub name: String,
    /// The document's name in the user's inbox directory; None when no page arrived.
    pub file: Option<String>,
    /// `pdf` or `tiff`.
    pub format: &'static str,
    pub caller_number: String,
    pub remote_id: String,
    pub pages: u32,
    pub bit_rate: u32,
    pub ecm: bool,
    pub duration_ms: u64,
    pub completion_code: i32,
    pub result: String,
    pub received_at: UnixTime,
    /// Whether a mail was queued for it (`queued`), or nobody has an address (`none`).
    pub mail_queued: bool,
}

/// A stored fax.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct FaxRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub file: Option<String>,
    pub format: String,
    pub caller_number: String,
    pub remote_id: String,
    pub pages: i64,
    pub bit_rate: i64,
    pub ecm: bool,
    pub duration_ms: i64,
    pub completion_code: i64,
    pub result: String,
    pub received_at: i64,
    /// `none`, `queued`, `delivered` or `failed`.
    pub mail: String,
}

/// Where and how a user's faxes are mailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FaxRecipient {
    pub display_name: String,
    pub language: String,
    /// The fax device's email, else the user's email; None: no mail.
    pub email: Option<String>,
    /// The device's `keep_faxes`; a user without a device keeps.
    pub keep: bool,
}

/// A fax row written but not committed: the caller makes the mail entry durable, then commits.
/// Dropped without commit, nothing was stored.
#[derive(Debug)]
pub struct PendingFax {
    tx: Transaction<'static, Sqlite>,
    pub id: i64,
}

impl PendingFax {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Display name, language, device email, user email, keep.
type RecipientRow = (String, String, Option<String>, Option<String>, Option<bool>);

const COLUMNS: &str = "id, user_id, name, file, format, caller_number, remote_id, pages, \
                       bit_rate, ecm, duration_ms, completion_code, result, received_at, mail";

impl Store {
    /// Where `user`'s faxes go; None for a user that does not exist.
    pub async fn fax_recipient(&self, user: i64) -> Result<Option<FaxRecipient>> {
        let row: Option<RecipientRow> = sqlx::query_as(
            "SELECT u.display_name, u.language, f.email, u.email, f.keep_faxes
                   FROM users u LEFT JOIN user_fax f ON f.user_id = u.id
                  WHERE u.id = $1",
        )
        .bind(user)
        .fetch_optional(&self.read)
        .await?;
        let nonempty = |e: Option<String>| e.filter(|e| !e.trim().is_empty());
        Ok(
            row.map(|(display_name, language, device, own, keep)| FaxRecipient {
                display_name,
                language,
                email: nonempty(device).or(nonempty(own)),
                keep: keep.unwrap_or(true),
            }),
        )
    }

    /// Inserts a fax, uncommitted; see [`PendingFax`].
    pub async fn begin_fax(&self, new: &NewFax) -> Result<PendingFax> {
        let mut tx = self.write.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO fax_messages (user_id, name, file, format, caller_number, remote_id,
                                       pages, bit_rate, ecm, duration_ms, completion_code,
                                       result, received_at, mail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(new.user)
        .bind(&new.name)
        .bind(&new.file)
        .bind(new.format)
        .bind(&new.caller_number)
        .bind(&new.remote_id)
        .bind(i64::from(new.pages))
        .bind(i64::from(new.bit_rate))
        .bind(new.ecm)
        .bind(i64::try_from(new.duration_ms).unwrap_or(i64::MAX))
        .bind(i64::from(new.completion_code))
        .bind(&new.result)
        .bind(new.received_at.secs())
        .bind(if new.mail_queued { "queued" } else { "none" })
        .fetch_one(&mut *tx)
        .await?;
        Ok(PendingFax { tx, id })
    }

    /// `user`'s faxes, newest first.
    pub async fn faxes(&self, user: i64) -> Result<Vec<FaxRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM fax_messages WHERE user_id = $1
              ORDER BY received_at DESC, id DESC"
        ))
        .bind(user)
        .fetch_all(&self.read)
        .await?)
    }

    pub async fn fax(&self, user: i64, id: i64) -> Result<Option<FaxRow>> {
        Ok(sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM fax_messages WHERE user_id = $1 AND id = $2"
        ))
        .bind(user)
        .bind(id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// The document files of `user`'s faxes (to tell a stray file in the inbox from a fax).
    pub async fn fax_files(&self, user: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> =
            sqlx::query_as("SELECT file FROM fax_messages WHERE user_id = $1 AND file IS NOT NULL")
                .bind(user)
                .fetch_all(&self.write)
                .await?;
        Ok(rows.into_iter().map(|(f,)| f).collect())
    }

    /// Removes a fax's row; returns whether there was one and its file (the caller removes it).
    pub async fn delete_fax_message(&self, user: i64, id: i64) -> Result<Option<Option<String>>> {
        let row: Option<(Option<String>,)> = sqlx::query_as(
            "DELETE FROM fax_messages WHERE user_id = $1 AND id = $2 RETURNING file",
        )
        .bind(user)
        .bind(id)
        .fetch_optional(&self.write)
        .await?;
        Ok(row.map(|(f,)| f))
    }

    /// Records the mail outcome of the fax named `name`. Delivered for a device that does not
    /// keep faxes, the row goes and its user and file are returned for the caller to remove.
    pub async fn fax_mailed(
        &self,
        name: &str,
        delivered: bool,
    ) -> Result<Option<(i64, Option<String>)>> {
        let mut tx = self.write.begin().await?;
        let row: Option<(i64, i64, Option<String>, Option<bool>)> = sqlx::query_as(
            "SELECT m.id, m.user_id, m.file, f.keep_faxes FROM fax_messages m
               LEFT JOIN user_fax f ON f.user_id = m.user_id WHERE m.name = $1",
        )
        .bind(name)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, user, file, keep)) = row else {
            return Ok(None);
        };
        if delivered && keep == Some(false) {
            sqlx::query("DELETE FROM fax_messages WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Some((user, file)));
        }
        sqlx::query("UPDATE fax_messages SET mail = $2 WHERE id = $1")
            .bind(id)
            .bind(if delivered { "delivered" } else { "failed" })
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(None)
    }
}

#[cfg(test)]
#[path = "fax_tests.rs"]
mod tests;
