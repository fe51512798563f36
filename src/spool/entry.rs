//! What a spool entry holds: the message as the caller handed it (never changed after enqueue)
//! and its delivery status (rewritten after every attempt).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::clock::UnixTime;

/// An entry's name in the spool: time-ordered, unique within one spool.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(transparent)]
pub struct Id(pub u64);

impl std::fmt::Display for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for Id {
    type Err = std::num::ParseIntError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Id)
    }
}

/// A recipient: the address, and the name shown beside it (any text; the builder encodes it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub email: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Why a message exists; an admin notice about a failed admin notice is never sent (no loop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Voicemail,
    Fax,
    /// The admin's "send a test mail".
    Test,
    /// A report to `[smtp] admin_email` that another message failed.
    AdminNotice,
}

/// A file to attach. On enqueue `path` must be a file in the spool's `incoming/` directory
/// (see [`super::Spool::incoming_dir`]); the spool takes it over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub path: PathBuf,
    /// The name the recipient sees.
    pub filename: String,
    /// A MIME type like `audio/wav` or `application/pdf`.
    pub content_type: String,
}

/// A message to send, as voicemail, fax and the admin hand it to [`super::Spool::enqueue`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    pub to: Address,
    pub subject: String,
    /// Plain text, UTF-8.
    pub body: String,
    pub attachments: Vec<Attachment>,
    /// The owner keeps messages ("Voicemails speichern: JA"): the entry stays after delivery
    /// until `[smtp] retention_days` removes it.
    pub keep: bool,
    /// The sender's own name for what this mail carries (e.g. a voicemail's file), handed back
    /// through [`crate::mail::MailHandle::outcomes`] when the mail is delivered or has failed
    /// for good. Opaque to the spool.
    pub reference: Option<String>,
}

/// The message as stored in `message.json`: written once, read for every attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stored {
    pub kind: Kind,
    pub to: Address,
    pub subject: String,
    pub body: String,
    /// Attachments with `path` relative to the entry's directory.
    pub attachments: Vec<Attachment>,
    pub keep: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The same on every attempt, so a duplicate after a dropped connection is recognisable.
    pub message_id: String,
    #[serde(with = "secs")]
    pub created: UnixTime,
}

/// Where an entry is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Queued,
    Deferred,
    Delivered,
    Failed,
}

impl State {
    /// Whether delivery is still to be tried.
    pub fn pending(self) -> bool {
        matches!(self, State::Queued | State::Deferred)
    }
}

/// The delivery status in `status.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub state: State,
    pub attempts: u32,
    /// When the next attempt is due (deferred only).
    #[serde(default, with = "opt_secs")]
    pub next_try: Option<UnixTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When it was delivered or failed.
    #[serde(default, with = "opt_secs")]
    pub done: Option<UnixTime>,
}

impl Status {
    pub fn queued() -> Status {
        Status {
            state: State::Queued,
            attempts: 0,
            next_try: None,
            last_error: None,
            done: None,
        }
    }
}

/// One entry as the queue listing shows it: never the body or the attachments' content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Summary {
    pub id: Id,
    pub state: State,
    pub attempts: u32,
    #[schema(value_type = Option<i64>)]
    pub next_try: Option<UnixTime>,
    pub last_error: Option<String>,
    pub to: String,
    pub subject: String,
    #[schema(value_type = String)]
    pub kind: Kind,
    pub message_id: String,
    #[schema(value_type = i64)]
    pub created: UnixTime,
    pub attachments: usize,
}

impl Summary {
    pub fn new(id: Id, stored: &Stored, status: &Status) -> Summary {
        Summary {
            id,
            state: status.state,
            attempts: status.attempts,
            next_try: status.next_try,
            last_error: status.last_error.clone(),
            to: stored.to.email.clone(),
            subject: stored.subject.clone(),
            kind: stored.kind,
            message_id: stored.message_id.clone(),
            created: stored.created,
            attachments: stored.attachments.len(),
        }
    }
}

/// `UnixTime` as plain seconds in the spool's JSON files.
mod secs {
    use super::UnixTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &UnixTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(t.secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<UnixTime, D::Error> {
        i64::deserialize(d).map(UnixTime::from_secs)
    }
}

mod opt_secs {
    use super::UnixTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<UnixTime>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.secs()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<UnixTime>, D::Error> {
        Option::<i64>::deserialize(d).map(|o| o.map(UnixTime::from_secs))
    }
}
