//! Users' fax inboxes on disk and in the store, and the mail of each received fax.
//!
//! Layout under `<data_dir>/fax/`:
//!
//! * `tmp/` — receptions in progress (`<pid>.<random>.tif`, and the PDF written beside it);
//!   after a crash, garbage;
//! * `<user id>/fax-<secs>-<random>.pdf` (or `.tif`) — a received document; its row names it.
//!
//! A deposit ([`FaxInbox::deposit`]) moves the fsynced document into the inbox (fsyncing the
//! directory), writes the row in a store transaction, and while that transaction is open links
//! the file into the spool's `incoming/` and enqueues the mail; the transaction commits last.
//! Any failure undoes what was done, so there is never a row without its file or a queued mail
//! whose row is missing. A crash between the steps leaves at most a file without a row, which
//! [`FaxInbox::open`] removes. A failed or partial reception is stored and mailed too (with
//! the pages that arrived, if any): nothing is dropped silently.
//!
//! When SMTP accepted a fax's mail and the device does not keep faxes (`keep_faxes: false`),
//! the fax is deleted ([`FaxInboxService`]); a mail that failed for good leaves it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::document::DocumentFormat;
use crate::clock::UnixTime;
use crate::mail::{MailError, MailHandle};
use crate::spool::SpoolError;
use crate::spool::boxes::{BoxError, Boxes};
use crate::store::fax::FaxRow;
use crate::store::{Store, StoreError};

pub use super::inbox_service::{FaxInboxService, Faxes};

/// What can go wrong with an inbox.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// No space left: nothing of the fax stays.
    #[error("the fax disk is full")]
    Full,
    #[error("fax inbox {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Spool(SpoolError),
    #[error(transparent)]
    Mail(MailError),
    #[error("no such {0}")]
    NotFound(&'static str),
}

impl BoxError for InboxError {
    fn full() -> Self {
        InboxError::Full
    }

    fn at(path: PathBuf, source: std::io::Error) -> Self {
        InboxError::Io { path, source }
    }

    fn store(e: StoreError) -> Self {
        e.into()
    }
}

impl From<SpoolError> for InboxError {
    fn from(e: SpoolError) -> Self {
        match e {
            SpoolError::Full => InboxError::Full,
            e => InboxError::Spool(e),
        }
    }
}

impl From<MailError> for InboxError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Spool(e) => e.into(),
            e => InboxError::Mail(e),
        }
    }
}

/// A received fax's id (the store row's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct FaxId(pub i64);

/// What the call side knows about a reception besides the document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedFax {
    pub user: i64,
    /// The calling number (SIP From), as far as known.
    pub caller_number: String,
    /// The format the document was written in (the device's `format`).
    pub format: DocumentFormat,
    pub received_at: UnixTime,
    /// The reception's TIFF ([`super::Reception::tiff`]); when it is in `tmp/` the deposit
    /// removes it (the document has been moved out; a PDF was made from it).
    pub tiff: Option<PathBuf>,
}

/// Where a fax's mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FaxMailState {
    /// Nobody has an address: the fax is only in the inbox.
    None,
    Queued,
    /// Accepted by SMTP (and kept, or it would be gone).
    Delivered,
    /// Failed for good; the fax stays.
    Failed,
}

/// `pdf` or `tiff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FaxFileFormat {
    Pdf,
    Tiff,
}

impl FaxFileFormat {
    pub(super) fn from_word(word: &str) -> FaxFileFormat {
        match word {
            "tiff" => FaxFileFormat::Tiff,
            _ => FaxFileFormat::Pdf,
        }
    }

    /// The document's MIME type (mail attachment, API download).
    pub fn content_type(self) -> &'static str {
        match self {
            FaxFileFormat::Pdf => "application/pdf",
            FaxFileFormat::Tiff => "image/tiff",
        }
    }
}

/// A received fax as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct FaxInfo {
    pub id: FaxId,
    pub caller_number: String,
    /// The sender's station id (TSI).
    pub remote_station_id: String,
    pub pages: u32,
    /// Image data rate, bit/s.
    pub bit_rate: u32,
    /// Whether error correction mode was used.
    pub ecm: bool,
    pub duration_ms: u64,
    /// True when T.30 ended normally; false for a failed or partial reception.
    pub complete: bool,
    /// The T.30 result: "OK" or the cause.
    pub result: String,
    /// Unix seconds.
    #[schema(value_type = i64)]
    pub received_at: UnixTime,
    pub format: FaxFileFormat,
    /// False when not a single page arrived (`…/document` is then 404).
    pub document: bool,
    pub mail: FaxMailState,
}

impl FaxInfo {
    fn from_row(row: &FaxRow) -> FaxInfo {
        let num = |v: i64| u32::try_from(v).unwrap_or(0);
        FaxInfo {
            id: FaxId(row.id),
            caller_number: row.caller_number.clone(),
            remote_station_id: row.remote_id.clone(),
            pages: num(row.pages),
            bit_rate: num(row.bit_rate),
            ecm: row.ecm,
            duration_ms: u64::try_from(row.duration_ms).unwrap_or(0),
            complete: row.completion_code == 0,
            result: row.result.clone(),
            received_at: UnixTime::from_secs(row.received_at),
            format: FaxFileFormat::from_word(&row.format),
            document: row.file.is_some(),
            mail: match row.mail.as_str() {
                "queued" => FaxMailState::Queued,
                "delivered" => FaxMailState::Delivered,
                "failed" => FaxMailState::Failed,
                _ => FaxMailState::None,
            },
        }
    }
}

/// Every user's fax inbox; cheap to clone.
pub type FaxInbox = Boxes<Faxes>;

impl FaxInbox {
    /// Opens the inboxes under `<data_dir>/fax/`, removing receptions a dead process left in
    /// `tmp/`, the inboxes of users that no longer exist and documents without a row.
    pub async fn open(
        data_dir: &Path,
        store: Store,
        mail: MailHandle,
    ) -> Result<FaxInbox, InboxError> {
        FaxInbox::open_in(data_dir, store, mail).await
    }

    /// A fresh path in `tmp/` for spandsp to write a reception's TIFF into
    /// ([`super::T30Config::receive_into`]); [`super::write_document`] puts the PDF beside it.
    pub fn reception_path(&self) -> PathBuf {
        self.tmp_file("tif")
    }

    /// `user`'s faxes, newest first.
    pub async fn faxes(&self, user: i64) -> Result<Vec<FaxInfo>, InboxError> {
        let rows = self.inner().store.faxes(user).await?;
        Ok(rows.iter().map(FaxInfo::from_row).collect())
    }

    pub async fn fax(&self, user: i64, id: FaxId) -> Result<FaxInfo, InboxError> {
        Ok(FaxInfo::from_row(&self.row(user, id).await?))
    }

    /// The fax's document and its format; NotFound when no page arrived.
    pub async fn document(
        &self,
        user: i64,
        id: FaxId,
    ) -> Result<(PathBuf, FaxFileFormat), InboxError> {
        let row = self.row(user, id).await?;
        let info = FaxInfo::from_row(&row);
        let file = row.file.ok_or(InboxError::NotFound("document"))?;
        Ok((self.user_dir(user).join(file), info.format))
    }

    async fn row(&self, user: i64, id: FaxId) -> Result<FaxRow, InboxError> {
        self.inner()
            .store
            .fax(user, id.0)
            .await?
            .ok_or(InboxError::NotFound("fax"))
    }

    /// Deletes a fax: the row, then its file.
    pub async fn delete(&self, user: i64, id: FaxId) -> Result<(), InboxError> {
        let file = self.inner().store.delete_fax_message(user, id.0).await?;
        if let Some(file) = file.ok_or(InboxError::NotFound("fax"))? {
            self.remove_file(user, &file).await;
        }
        Ok(())
    }
}
