//! Users' voicemail boxes on disk and in the store, and the mail of each new message.
//!
//! Layout under `<data_dir>/voicemail/`:
//!
//! * `tmp/` — recordings in progress (`<pid>.<random>.wav`); after a crash, garbage;
//! * `<user id>/msg-<secs>-<random>.wav` — a message; its row names the file;
//! * `<user id>/greeting-unavailable.wav`, `greeting-busy.wav` — the user's own greetings.
//!
//! A deposit ([`Mailboxes::deposit`]) finalizes and fsyncs the WAV, moves it into the box
//! (fsyncing the directory), writes the row and the MWI counts in one store transaction, and
//! while that transaction is open links the file into the spool's `incoming/` and enqueues the
//! mail; the transaction commits last. Any failure undoes what was done, so there is never a
//! row without a file or a queued mail whose row is missing. A crash between the steps leaves
//! at most a file without a row, which [`Mailboxes::open`] removes (the mail, if it was queued,
//! still goes: the caller may have heard nothing, the owner still gets the message).
//!
//! When SMTP accepted a message's mail and the box does not keep messages [Voicemails
//! speichern: NEIN], the message is deleted ([`super::MailboxService`]); a mail that failed for good
//! leaves it in the box.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use super::mailbox_recording::Recording;
use super::mailbox_recording::write_wav;
pub use super::prompts::GreetingKind;
use crate::clock::UnixTime;
use crate::mail::{MailError, MailHandle};
use crate::spool::SpoolError;
use crate::spool::boxes::{BoxError, Boxes, blocking, ensure_dir, sync_dir};
use crate::store::voicemail::VoicemailRow;
use crate::store::{Store, StoreError};

pub use super::mailbox_service::Voicemails;

/// What can go wrong with a mailbox. The call side maps every error of a deposit to "mailbox
/// unavailable".
#[derive(Debug, thiserror::Error)]
pub enum MailboxError {
    /// No space left: nothing of the message stays.
    #[error("the voicemail disk is full")]
    Full,
    #[error("voicemail {}: {source}", path.display())]
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
    /// An uploaded greeting that is not usable audio (the uploader's fault).
    #[error("{0}")]
    BadAudio(String),
}

impl BoxError for MailboxError {
    fn full() -> Self {
        MailboxError::Full
    }

    fn at(path: PathBuf, source: std::io::Error) -> Self {
        MailboxError::Io { path, source }
    }

    fn store(e: StoreError) -> Self {
        e.into()
    }
}

impl MailboxError {
    pub(super) fn wav(path: &Path, e: hound::Error) -> MailboxError {
        match e {
            hound::Error::IoError(e) => MailboxError::io(path)(e),
            other => MailboxError::io(path)(std::io::Error::other(other)),
        }
    }
}

impl From<SpoolError> for MailboxError {
    fn from(e: SpoolError) -> Self {
        match e {
            SpoolError::Full => MailboxError::Full,
            e => MailboxError::Spool(e),
        }
    }
}

impl From<MailError> for MailboxError {
    fn from(e: MailError) -> Self {
        match e {
            MailError::Spool(e) => e.into(),
            e => MailboxError::Mail(e),
        }
    }
}

/// A message's id (the store row's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(transparent)]
pub struct MessageId(pub i64);

/// Why the caller reached the box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    Busy,
    Unavailable,
}

impl Reason {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Reason::Busy => "busy",
            Reason::Unavailable => "unavailable",
        }
    }
}

/// The file a user's own greeting of `kind` is kept in.
fn greeting_file(kind: GreetingKind) -> &'static str {
    match kind {
        GreetingKind::Unavailable => "greeting-unavailable.wav",
        GreetingKind::Busy => "greeting-busy.wav",
    }
}

/// A message to deposit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub user: i64,
    pub caller_number: String,
    pub caller_name: String,
    pub reason: Reason,
    pub received_at: UnixTime,
}

/// Where a message's mail is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MailState {
    /// The owner has no address: the message is only in the box.
    None,
    Queued,
    /// Accepted by SMTP (and kept, or it would be gone).
    Delivered,
    /// Failed for good; the message stays.
    Failed,
}

/// A message as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct MessageInfo {
    pub id: MessageId,
    pub caller_number: String,
    pub caller_name: String,
    /// Unix seconds.
    #[schema(value_type = i64)]
    pub received_at: UnixTime,
    pub duration_ms: u64,
    pub reason: Reason,
    pub heard: bool,
    pub mail: MailState,
}

impl MessageInfo {
    fn from_row(row: &VoicemailRow) -> MessageInfo {
        MessageInfo {
            id: MessageId(row.id),
            caller_number: row.caller_number.clone(),
            caller_name: row.caller_name.clone(),
            received_at: UnixTime::from_secs(row.received_at),
            duration_ms: u64::try_from(row.duration_ms).unwrap_or(0),
            reason: match row.reason.as_str() {
                "busy" => Reason::Busy,
                _ => Reason::Unavailable,
            },
            heard: row.heard,
            mail: match row.mail.as_str() {
                "queued" => MailState::Queued,
                "delivered" => MailState::Delivered,
                "failed" => MailState::Failed,
                _ => MailState::None,
            },
        }
    }
}

/// Every user's box; cheap to clone.
pub type Mailboxes = Boxes<Voicemails>;

impl Mailboxes {
    /// Opens the boxes under `<data_dir>/voicemail/`, removing recordings a dead process left in
    /// `tmp/`, the box directories of users that no longer exist and message files without a row.
    pub async fn open(
        data_dir: &Path,
        store: Store,
        mail: MailHandle,
    ) -> Result<Mailboxes, MailboxError> {
        Mailboxes::open_in(data_dir, store, mail).await
    }

    /// Starts a recording in `tmp/`.
    pub fn start_recording(&self) -> Result<Recording, MailboxError> {
        Recording::create(self.tmp_file("wav"))
    }

    /// `user`'s messages, newest first.
    pub async fn messages(&self, user: i64) -> Result<Vec<MessageInfo>, MailboxError> {
        let rows = self.inner().store.voicemail_messages(user).await?;
        Ok(rows.iter().map(MessageInfo::from_row).collect())
    }

    pub async fn message(&self, user: i64, id: MessageId) -> Result<MessageInfo, MailboxError> {
        let row = self.row(user, id).await?;
        Ok(MessageInfo::from_row(&row))
    }

    /// The message's WAV.
    pub async fn audio_path(&self, user: i64, id: MessageId) -> Result<PathBuf, MailboxError> {
        let row = self.row(user, id).await?;
        Ok(self.user_dir(user).join(row.file))
    }

    async fn row(&self, user: i64, id: MessageId) -> Result<VoicemailRow, MailboxError> {
        self.inner()
            .store
            .voicemail_message(user, id.0)
            .await?
            .ok_or(MailboxError::NotFound("message"))
    }

    pub async fn mark_heard(
        &self,
        user: i64,
        id: MessageId,
        heard: bool,
    ) -> Result<(), MailboxError> {
        match self
            .inner()
            .store
            .set_voicemail_heard(user, id.0, heard)
            .await?
        {
            true => Ok(()),
            false => Err(MailboxError::NotFound("message")),
        }
    }

    /// Deletes a message: row and counts in one transaction, then the file.
    pub async fn delete(&self, user: i64, id: MessageId) -> Result<(), MailboxError> {
        let file = self.inner().store.delete_voicemail(user, id.0).await?;
        let file = file.ok_or(MailboxError::NotFound("message"))?;
        self.remove_file(user, &file).await;
        Ok(())
    }

    /// The user's own greeting of `kind`, if they recorded or uploaded one.
    pub fn greeting_path(&self, user: i64, kind: GreetingKind) -> Option<PathBuf> {
        let path = self.user_dir(user).join(greeting_file(kind));
        path.is_file().then_some(path)
    }

    /// Replaces the user's greeting with `samples` (8 kHz mono) atomically: temp file, fsync,
    /// rename, fsync of the directory.
    pub async fn put_greeting(
        &self,
        user: i64,
        kind: GreetingKind,
        samples: Vec<i16>,
    ) -> Result<(), MailboxError> {
        if !self.inner().store.user_exists(user).await? {
            return Err(MailboxError::NotFound("user"));
        }
        let dir = self.user_dir(user);
        blocking(move || {
            ensure_dir::<MailboxError>(&dir)?;
            let tmp = dir.join(format!(".{}.tmp", greeting_file(kind)));
            let _ = std::fs::remove_file(&tmp);
            if let Err(e) = write_wav(&tmp, &samples) {
                let _ = std::fs::remove_file(&tmp);
                return Err(e);
            }
            let target = dir.join(greeting_file(kind));
            if let Err(e) = std::fs::rename(&tmp, &target) {
                let _ = std::fs::remove_file(&tmp);
                return Err(MailboxError::io(&target)(e));
            }
            sync_dir(&dir)
        })
        .await
    }

    /// Removes the user's greeting: callers hear the shipped prompt again.
    pub async fn delete_greeting(&self, user: i64, kind: GreetingKind) -> Result<(), MailboxError> {
        let dir = self.user_dir(user);
        blocking(move || {
            let path = dir.join(greeting_file(kind));
            match std::fs::remove_file(&path) {
                Ok(()) => sync_dir(&dir),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    Err(MailboxError::NotFound("greeting"))
                }
                Err(e) => Err(MailboxError::io(&path)(e)),
            }
        })
        .await
    }
}

/// `0:42`, `12:05`: minutes and seconds, rounded to the nearest second.
pub fn format_duration(ms: u64) -> String {
    let secs = (ms + 500) / 1000;
    format!("{}:{:02}", secs / 60, secs % 60)
}
