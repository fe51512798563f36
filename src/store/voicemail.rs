//! The messages in users' voicemail boxes (the rows; the WAV files are the voicemail module's).
//!
//! Every write that adds, changes or removes a message sets the box's `mailbox_counts` from
//! the rows in the same transaction, so the counts phones show (MWI) never disagree with the
//! messages, and the counts' triggers log the change for the SIP side.

use sqlx::SqliteConnection;

use super::boxes::{BoxTable, Pending, Recipient};
use super::{Result, Store, StoreError};
use crate::clock::UnixTime;

/// A message to store, as the voicemail module hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVoicemail {
    pub user: i64,
    /// The WAV's name in the user's box directory.
    pub file: String,
    pub caller_number: String,
    pub caller_name: String,
    /// `busy` or `unavailable`.
    pub reason: &'static str,
    pub received_at: UnixTime,
    pub duration_ms: u64,
    /// Whether a mail was queued for it (`queued`), or the user has no address (`none`).
    pub mail_queued: bool,
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct VoicemailRow {
    pub id: i64,
    pub user_id: i64,
    pub file: String,
    pub caller_number: String,
    pub caller_name: String,
    pub reason: String,
    pub received_at: i64,
    pub duration_ms: i64,
    pub heard: bool,
    /// `none`, `queued`, `delivered` or `failed`.
    pub mail: String,
}

/// Where and how a user's voicemails are mailed: `email` is the box's voicemail email
/// [Voicemail Email], else the user's; `keep` is [Voicemails speichern] (a user without a box
/// row keeps: nothing is deleted unasked).
pub type VoicemailRecipient = Recipient;

/// A message row written but not committed: see [`Pending`].
pub type PendingVoicemail = Pending;

const VOICEMAIL: BoxTable = BoxTable {
    table: "voicemail_messages",
    columns: COLUMNS,
    reference: "file",
    settings: "voicemail_boxes",
    keep: "keep_messages",
};

const COLUMNS: &str = "id, user_id, file, caller_number, caller_name, reason, received_at, \
                       duration_ms, heard, mail";

impl Store {
    /// The id of user `username`.
    pub async fn user_id(&self, username: &str) -> Result<i64> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.read)
            .await?;
        row.map(|(id,)| id)
            .ok_or_else(|| StoreError::not_found("user", username))
    }

    /// Whether user `id` exists (a box directory of a deleted user is removed).
    pub async fn user_exists(&self, id: i64) -> Result<bool> {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        Ok(row.is_some())
    }

    /// Where `user`'s voicemails go; None for a user that does not exist.
    pub async fn voicemail_recipient(&self, user: i64) -> Result<Option<VoicemailRecipient>> {
        self.box_recipient(&VOICEMAIL, user).await
    }

    /// Inserts a message and sets the box's counts, uncommitted; see [`PendingVoicemail`].
    pub async fn begin_voicemail(&self, new: &NewVoicemail) -> Result<PendingVoicemail> {
        let mut tx = self.write.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO voicemail_messages (user_id, file, caller_number, caller_name, reason,
                                             received_at, duration_ms, mail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(new.user)
        .bind(&new.file)
        .bind(&new.caller_number)
        .bind(&new.caller_name)
        .bind(new.reason)
        .bind(new.received_at.secs())
        .bind(i64::try_from(new.duration_ms).unwrap_or(i64::MAX))
        .bind(if new.mail_queued { "queued" } else { "none" })
        .fetch_one(&mut *tx)
        .await?;
        recount(&mut tx, new.user).await?;
        Ok(Pending { tx, id })
    }

    /// `user`'s messages, newest first.
    pub async fn voicemail_messages(&self, user: i64) -> Result<Vec<VoicemailRow>> {
        self.box_rows(&VOICEMAIL, user).await
    }

    pub async fn voicemail_message(&self, user: i64, id: i64) -> Result<Option<VoicemailRow>> {
        self.box_row(&VOICEMAIL, user, id).await
    }

    /// The files of `user`'s messages (to tell a stray file in the box from a message).
    pub async fn voicemail_files(&self, user: i64) -> Result<Vec<String>> {
        self.box_files(&VOICEMAIL, user).await
    }

    /// Marks a message heard (or new again); false when there is no such message.
    pub async fn set_voicemail_heard(&self, user: i64, id: i64, heard: bool) -> Result<bool> {
        let mut tx = self.write.begin().await?;
        let done =
            sqlx::query("UPDATE voicemail_messages SET heard = $3 WHERE user_id = $1 AND id = $2")
                .bind(user)
                .bind(id)
                .bind(heard)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        recount(&mut tx, user).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Removes a message's row and recounts; returns its file (the caller removes it), None
    /// when there is no such message.
    pub async fn delete_voicemail(&self, user: i64, id: i64) -> Result<Option<String>> {
        let mut tx = self.write.begin().await?;
        let row: Option<(String,)> = sqlx::query_as(
            "DELETE FROM voicemail_messages WHERE user_id = $1 AND id = $2 RETURNING file",
        )
        .bind(user)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        if row.is_some() {
            recount(&mut tx, user).await?;
            tx.commit().await?;
        }
        Ok(row.map(|(f,)| f))
    }

    /// Records the mail outcome of the message with `file`. Delivered to a box that does not
    /// keep messages, the row goes (in the same transaction as the recount) and its user and
    /// file are returned for the caller to remove the file.
    pub async fn voicemail_mailed(
        &self,
        file: &str,
        delivered: bool,
    ) -> Result<Option<(i64, String)>> {
        let (mut tx, gone) = self.box_mailed(&VOICEMAIL, file, delivered).await?;
        if let Some((user, _)) = gone {
            recount(&mut tx, user).await?;
        }
        tx.commit().await?;
        Ok(gone.map(|(user, _)| (user, file.to_owned())))
    }
}

/// Sets `user`'s counts from the rows; an unchanged count is not written (no NOTIFY for
/// nothing).
async fn recount(conn: &mut SqliteConnection, user: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO mailbox_counts (user_id, new_messages, old_messages)
         SELECT $1, COALESCE(SUM(CASE WHEN heard THEN 0 ELSE 1 END), 0),
                COALESCE(SUM(CASE WHEN heard THEN 1 ELSE 0 END), 0)
           FROM voicemail_messages WHERE user_id = $1
         ON CONFLICT (user_id) DO UPDATE
            SET new_messages = excluded.new_messages, old_messages = excluded.old_messages
          WHERE new_messages != excluded.new_messages OR old_messages != excluded.old_messages",
    )
    .bind(user)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
#[path = "voicemail_tests.rs"]
mod tests;
