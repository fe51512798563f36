//! [`Mailboxes::deposit`]: a finished recording becomes a message, durably, or nothing at all
//! (the order of the steps is in the `mailbox` module doc).

use std::path::{Path, PathBuf};

use super::mailbox::{MailboxError, Mailboxes, MessageId, NewMessage, format_duration};
use super::mailbox_recording::{FinishedWav, RATE, Recording};
use crate::clock::UnixTime;
use crate::mail::VoicemailFacts;
use crate::spool::boxes::{blocking, ensure_dir, link_or_copy, sync_dir};
use crate::spool::{Address, Attachment, Id, Kind, Message};
use crate::store::voicemail::{NewVoicemail, VoicemailRecipient};

/// What a deposit has placed on disk so far, removed again if a later step fails.
struct Placed {
    wav: FinishedWav,
    /// The file's name in the box (the row's `file`, the mail's reference).
    name: String,
    /// Its link (or copy) in the spool's `incoming/`, when there is a mail to send.
    link: Option<PathBuf>,
}

impl Placed {
    fn undo(self, e: MailboxError) -> MailboxError {
        if let Some(link) = &self.link {
            let _ = std::fs::remove_file(link);
        }
        drop(self.wav);
        e
    }
}

impl Mailboxes {
    /// Stores `rec` as a message of `msg.user` and queues its mail; see the module doc. Returns
    /// only when all of it is durable; on an error nothing of it stays.
    pub async fn deposit(
        &self,
        rec: Recording,
        msg: NewMessage,
    ) -> Result<MessageId, MailboxError> {
        let store = &self.inner().store;
        let Some(to) = store.voicemail_recipient(msg.user).await? else {
            rec.discard();
            return Err(MailboxError::NotFound("user"));
        };
        let placed = self.place(rec, &msg, to.email.is_some()).await?;
        let duration_ms = placed.wav.samples * 1000 / u64::from(RATE);
        let row = NewVoicemail {
            user: msg.user,
            file: placed.name.clone(),
            caller_number: msg.caller_number.clone(),
            caller_name: msg.caller_name.clone(),
            reason: msg.reason.as_str(),
            received_at: msg.received_at,
            duration_ms,
            mail_queued: to.email.is_some(),
        };
        let pending = match store.begin_voicemail(&row).await {
            Ok(p) => p,
            Err(e) => return Err(placed.undo(e.into())),
        };
        let queued = match self.queue_mail(&to, &msg, &placed, duration_ms).await {
            Ok(queued) => queued,
            Err(e) => return Err(placed.undo(e)),
        };
        let id = match self.commit(pending, queued).await {
            Ok(id) => id,
            Err(e) => return Err(placed.undo(e)),
        };
        placed.wav.keep();
        let mailed = if queued.is_some() {
            ", mail queued"
        } else {
            ""
        };
        tracing::info!(
            "voicemail: message {id} for user {} ({duration_ms} ms){mailed}",
            msg.user
        );
        Ok(MessageId(id))
    }

    /// Finishes the recording into the box and, with a mail to send, links it into the spool.
    async fn place(
        &self,
        rec: Recording,
        msg: &NewMessage,
        mail: bool,
    ) -> Result<Placed, MailboxError> {
        let secs = msg.received_at.secs();
        let name = format!("msg-{secs}-{:08x}.wav", rand::random::<u32>());
        let dir = self.user_dir(msg.user);
        let incoming = self.inner().mail.spool.incoming_dir();
        let link = mail.then(|| incoming.join(format!("voicemail-{name}")));
        let target = dir.join(&name);
        let (wav, link) = blocking(move || place(rec, &dir, &target, link)).await?;
        Ok(Placed { wav, name, link })
    }

    /// Queues the mail of a placed message; None when the user has no address.
    async fn queue_mail(
        &self,
        to: &VoicemailRecipient,
        msg: &NewMessage,
        placed: &Placed,
        duration_ms: u64,
    ) -> Result<Option<Id>, MailboxError> {
        let (Some(email), Some(link)) = (&to.email, &placed.link) else {
            return Ok(None);
        };
        let facts = VoicemailFacts {
            mailbox: to.display_name.clone(),
            caller_name: msg.caller_name.clone(),
            caller_number: msg.caller_number.clone(),
            time: crate::mail::format_utc(msg.received_at),
            duration: format_duration(duration_ms),
        };
        let mail = &self.inner().mail;
        let text = mail.templates().render(&to.language, "voicemail", &facts)?;
        let message = Message {
            kind: Kind::Voicemail,
            to: Address {
                email: email.clone(),
                name: Some(to.display_name.clone()),
            },
            subject: text.subject,
            body: text.body,
            attachments: vec![Attachment {
                path: link.clone(),
                filename: attachment_name(msg.received_at),
                content_type: "audio/wav".into(),
            }],
            // The box holds the message; the spool's copy goes once delivered.
            keep: false,
            reference: Some(placed.name.clone()),
        };
        Ok(Some(mail.enqueue(message, UnixTime::now()).await?))
    }
}

/// Finishes the recording, moves it into the box and links it into the spool's `incoming/`
/// (a hard link when both are on one filesystem, else a copy), all fsynced.
fn place(
    rec: Recording,
    dir: &Path,
    target: &Path,
    link: Option<PathBuf>,
) -> Result<(FinishedWav, Option<PathBuf>), MailboxError> {
    let tmp_dir = rec.path().parent().map(Path::to_owned);
    let wav = rec.finish()?;
    ensure_dir::<MailboxError>(dir)?;
    let wav = wav.rename(target)?;
    sync_dir::<MailboxError>(dir)?;
    if let Some(tmp) = tmp_dir {
        sync_dir::<MailboxError>(&tmp)?;
    }
    let Some(link) = link else {
        return Ok((wav, None));
    };
    if let Err(e) = link_or_copy(target, &link) {
        let _ = std::fs::remove_file(&link);
        return Err(e);
    }
    Ok((wav, Some(link)))
}

/// `voicemail-2026-12-04-0730.wav`: the name the recipient sees.
fn attachment_name(at: UnixTime) -> String {
    crate::spool::boxes::attachment_name("voicemail", at, "wav")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_attachment_is_named_by_its_time() {
        let at = crate::clock::UnixTime::from_secs(1_796_369_400);
        assert_eq!(super::attachment_name(at), "voicemail-2026-12-04-0730.wav");
    }
}
