//! What the fax inbox's rows and the voicemail boxes' rows share: a table of users' documents,
//! each mailed to a recipient and kept or deleted after its mail's outcome by a per-user
//! setting (see [`crate::spool::boxes`] for the files).

use sqlx::{Sqlite, Transaction};

use super::{Result, Store};

/// One kind's table of documents and where its mail settings are.
pub(super) struct BoxTable {
    /// `fax_messages`, `voicemail_messages`.
    pub table: &'static str,
    /// The columns of its row type, in order.
    pub columns: &'static str,
    /// The column the mail's reference is.
    pub reference: &'static str,
    /// The per-user settings table (`user_id`, `email`, and the keep column).
    pub settings: &'static str,
    /// The settings' keep column.
    pub keep: &'static str,
}

/// Where and how a user's documents are mailed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub display_name: String,
    pub language: String,
    /// The settings' email (fax device, voicemail box), else the user's email; None: no mail.
    pub email: Option<String>,
    /// The keep setting; a user without a settings row keeps (nothing is deleted unasked).
    pub keep: bool,
}

/// A row written but not committed: the caller makes the rest durable (the mail entry), then
/// commits. Dropped without commit, nothing was stored.
#[derive(Debug)]
pub struct Pending {
    pub(super) tx: Transaction<'static, Sqlite>,
    pub id: i64,
}

impl Pending {
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Display name, language, settings email, user email, keep.
type RecipientRow = (String, String, Option<String>, Option<String>, Option<bool>);

impl Store {
    /// Where `user`'s documents of table `t` go; None for a user that does not exist.
    pub(super) async fn box_recipient(&self, t: &BoxTable, user: i64) -> Result<Option<Recipient>> {
        let row: Option<RecipientRow> = sqlx::query_as(&format!(
            "SELECT u.display_name, u.language, s.email, u.email, s.{}
                   FROM users u LEFT JOIN {} s ON s.user_id = u.id
                  WHERE u.id = $1",
            t.keep, t.settings
        ))
        .bind(user)
        .fetch_optional(&self.read)
        .await?;
        let nonempty = |e: Option<String>| e.filter(|e| !e.trim().is_empty());
        Ok(
            row.map(|(display_name, language, own, user, keep)| Recipient {
                display_name,
                language,
                email: nonempty(own).or(nonempty(user)),
                keep: keep.unwrap_or(true),
            }),
        )
    }

    /// `user`'s rows, newest first.
    pub(super) async fn box_rows<R>(&self, t: &BoxTable, user: i64) -> Result<Vec<R>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
    {
        Ok(sqlx::query_as(&format!(
            "SELECT {} FROM {} WHERE user_id = $1 ORDER BY received_at DESC, id DESC",
            t.columns, t.table
        ))
        .bind(user)
        .fetch_all(&self.read)
        .await?)
    }

    pub(super) async fn box_row<R>(&self, t: &BoxTable, user: i64, id: i64) -> Result<Option<R>>
    where
        R: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
    {
        Ok(sqlx::query_as(&format!(
            "SELECT {} FROM {} WHERE user_id = $1 AND id = $2",
            t.columns, t.table
        ))
        .bind(user)
        .bind(id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// The files `user`'s rows name (to tell a stray file in the box from a document).
    pub(super) async fn box_files(&self, t: &BoxTable, user: i64) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT file FROM {} WHERE user_id = $1 AND file IS NOT NULL",
            t.table
        ))
        .bind(user)
        .fetch_all(&self.write)
        .await?;
        Ok(rows.into_iter().map(|(f,)| f).collect())
    }

    /// Records the mail outcome of the document whose reference is `reference`. Delivered
    /// while its user does not keep, the row goes and its user and file are returned for the
    /// caller to remove. The transaction is the caller's to commit (after recounting).
    pub(super) async fn box_mailed(
        &self,
        t: &BoxTable,
        reference: &str,
        delivered: bool,
    ) -> Result<(Transaction<'static, Sqlite>, Option<(i64, Option<String>)>)> {
        let mut tx = self.write.begin().await?;
        let row: Option<(i64, i64, Option<String>, Option<bool>)> = sqlx::query_as(&format!(
            "SELECT m.id, m.user_id, m.file, s.{} FROM {} m
               LEFT JOIN {} s ON s.user_id = m.user_id WHERE m.{} = $1",
            t.keep, t.table, t.settings, t.reference
        ))
        .bind(reference)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((id, user, file, keep)) = row else {
            return Ok((tx, None));
        };
        if delivered && keep == Some(false) {
            sqlx::query(&format!("DELETE FROM {} WHERE id = $1", t.table))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            return Ok((tx, Some((user, file))));
        }
        sqlx::query(&format!("UPDATE {} SET mail = $2 WHERE id = $1", t.table))
            .bind(id)
            .bind(if delivered { "delivered" } else { "failed" })
            .execute(&mut *tx)
            .await?;
        Ok((tx, None))
    }
}
