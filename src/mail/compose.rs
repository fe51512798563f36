//! A spool entry as an RFC 5322 message, built with lettre's builder: every value from a caller
//! (names, subject) goes through typed headers that encode it (RFC 2047), never into raw header
//! text, so a CR/LF in a caller name cannot add a header.

use std::time::{Duration, SystemTime};

use lettre::Message as Email;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

use super::templates::one_line;
use crate::spool::{Id, Spool, Stored};

/// Why a message cannot be built; it never will be, so the entry fails.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the message: {0}")]
pub struct ComposeError(String);

/// Builds the message of entry `id`, reading its attachments from the spool.
pub async fn compose(
    spool: &Spool,
    id: Id,
    stored: &Stored,
    from: &str,
) -> Result<Email, ComposeError> {
    let err = |what: &str, e: &dyn std::fmt::Display| ComposeError(format!("{what}: {e}"));
    let from: Mailbox = from.parse().map_err(|e| err("from", &e))?;
    let email = stored.to.email.parse().map_err(|e| err("to", &e))?;
    let to = Mailbox::new(stored.to.name.as_deref().map(one_line), email);
    let date = SystemTime::UNIX_EPOCH + Duration::from_secs(stored.created.secs().max(0) as u64);
    let builder = Email::builder()
        .from(from)
        .to(to)
        .subject(one_line(&stored.subject))
        .message_id(Some(stored.message_id.clone()))
        .date(date);
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(stored.body.clone());
    if stored.attachments.is_empty() {
        return builder.singlepart(text).map_err(|e| err("message", &e));
    }
    let mut parts = MultiPart::mixed().singlepart(text);
    for a in &stored.attachments {
        let path = spool.attachment_path(id, a);
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|e| err(&path.display().to_string(), &e))?;
        let kind = ContentType::parse(&a.content_type).map_err(|e| err("content type", &e))?;
        parts = parts.singlepart(Attachment::new(one_line(&a.filename)).body(bytes, kind));
    }
    builder.multipart(parts).map_err(|e| err("message", &e))
}
