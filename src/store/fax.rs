//! The faxes in users' fax inboxes (the rows; the documents are the fax module's files).

use super::boxes::{BoxTable, Pending, Recipient};
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

/// Where and how a user's faxes are mailed: `email` is the fax device's, else the user's;
/// `keep` is the device's `keep_faxes` (a user without a device keeps).
pub type FaxRecipient = Recipient;

/// A fax row written but not committed: see [`Pending`].
pub type PendingFax = Pending;

const FAX: BoxTable = BoxTable {
    table: "fax_messages",
    columns: COLUMNS,
    reference: "name",
    settings: "user_fax",
    keep: "keep_faxes",
};

const COLUMNS: &str = "id, user_id, name, file, format, caller_number, remote_id, pages, \
                       bit_rate, ecm, duration_ms, completion_code, result, received_at, mail";

impl Store {
    /// Where `user`'s faxes go; None for a user that does not exist.
    pub async fn fax_recipient(&self, user: i64) -> Result<Option<FaxRecipient>> {
        self.box_recipient(&FAX, user).await
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
        Ok(Pending { tx, id })
    }

    /// `user`'s faxes, newest first.
    pub async fn faxes(&self, user: i64) -> Result<Vec<FaxRow>> {
        self.box_rows(&FAX, user).await
    }

    pub async fn fax(&self, user: i64, id: i64) -> Result<Option<FaxRow>> {
        self.box_row(&FAX, user, id).await
    }

    /// The document files of `user`'s faxes (to tell a stray file in the inbox from a fax).
    pub async fn fax_files(&self, user: i64) -> Result<Vec<String>> {
        self.box_files(&FAX, user).await
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
        let (tx, gone) = self.box_mailed(&FAX, name, delivered).await?;
        tx.commit().await?;
        Ok(gone)
    }
}

#[cfg(test)]
#[path = "fax_tests.rs"]
mod tests;
