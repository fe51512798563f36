//! [`FaxInbox::deposit`]: a finished reception becomes a fax in the inbox, durably, or nothing
//! at all (the order of the steps is in the `inbox` module doc).

use std::path::{Path, PathBuf};

use super::document::{DocumentFormat, FaxDocument};
use super::inbox::{FaxFileFormat, FaxId, FaxInbox, InboxError, ReceivedFax};
use crate::clock::UnixTime;
use crate::mail::FaxFacts;
use crate::spool::boxes::{BoxError, blocking, ensure_dir, link_or_copy, sync_dir};
use crate::spool::{Address, Attachment, Id, Kind, Message};
use crate::store::fax::{FaxRecipient, NewFax};

/// What a deposit has placed on disk so far, removed again if a later step fails.
#[derive(Debug, Default)]
struct Placed {
    /// The document in the inbox.
    file: Option<PathBuf>,
    /// Its link (or copy) in the spool's `incoming/`.
    link: Option<PathBuf>,
}

impl Placed {
    fn undo(self, e: InboxError) -> InboxError {
        for path in [self.link, self.file].into_iter().flatten() {
            let _ = std::fs::remove_file(path);
        }
        e
    }
}

impl FaxInbox {
    /// Stores `document` as a fax of `fax.user` and queues its mail (to the fax device's email,
    /// else the user's; none: no mail); see the module doc. Returns only when all of it is
    /// durable; on an error nothing of it stays (the document is removed too). Either way the
    /// reception's TIFF in `tmp/` ([`ReceivedFax::tiff`]) is gone afterwards.
    pub async fn deposit(
        &self,
        document: FaxDocument,
        fax: ReceivedFax,
    ) -> Result<FaxId, InboxError> {
        let tiff = fax.tiff.clone();
        let result = self.deposit_document(document, fax).await;
        let tmp = self.inner().root.join("tmp");
        if let Some(tiff) = tiff.filter(|t| t.starts_with(&tmp)) {
            let _ = std::fs::remove_file(tiff);
        }
        result
    }

    async fn deposit_document(
        &self,
        document: FaxDocument,
        fax: ReceivedFax,
    ) -> Result<FaxId, InboxError> {
        let store = &self.inner().store;
        let to = match store.fax_recipient(fax.user).await {
            Ok(Some(to)) => to,
            Ok(None) => return Err(discard(document, InboxError::NotFound("user"))),
            Err(e) => return Err(discard(document, e.into())),
        };
        let name = format!(
            "fax-{}-{:08x}",
            fax.received_at.secs(),
            rand::random::<u32>()
        );
        let (ext, format) = match fax.format {
            DocumentFormat::Pdf => ("pdf", "pdf"),
            DocumentFormat::Tiff => ("tif", "tiff"),
        };
        let file = document.path.as_ref().map(|_| format!("{name}.{ext}"));
        let placed = self
            .place(fax.user, &document, file.as_deref(), to.email.is_some())
            .await?;
        let m = &document.metadata;
        let row = NewFax {
            user: fax.user,
            name: name.clone(),
            file,
            format,
            caller_number: fax.caller_number.clone(),
            remote_id: m.remote_station_id.clone(),
            pages: m.pages,
            bit_rate: m.bit_rate,
            ecm: m.ecm,
            duration_ms: u64::try_from(m.duration.as_millis()).unwrap_or(u64::MAX),
            completion_code: m.completion_code,
            result: m.result.clone(),
            received_at: fax.received_at,
            mail_queued: to.email.is_some(),
        };
        let pending = match store.begin_fax(&row).await {
            Ok(p) => p,
            Err(e) => return Err(placed.undo(e.into())),
        };
        let queued = match self.queue_mail(&to, &row, &placed).await {
            Ok(queued) => queued,
            Err(e) => return Err(placed.undo(e)),
        };
        let id = match self.commit(pending, queued).await {
            Ok(id) => id,
            Err(e) => return Err(placed.undo(e)),
        };
        let mailed = if queued.is_some() {
            ", mail queued"
        } else {
            ""
        };
        tracing::info!(
            "fax: {name} for user {}: {} pages, {}{mailed}",
            fax.user,
            m.pages,
            m.result
        );
        Ok(FaxId(id))
    }

    /// Moves the document into the inbox and, with a mail to send, links it into the spool.
    async fn place(
        &self,
        user: i64,
        document: &FaxDocument,
        file: Option<&str>,
        mail: bool,
    ) -> Result<Placed, InboxError> {
        let (Some(from), Some(file)) = (document.path.clone(), file) else {
            return Ok(Placed::default());
        };
        let dir = self.user_dir(user);
        let target = dir.join(file);
        let link = mail.then(|| {
            let incoming = self.inner().mail.spool.incoming_dir();
            incoming.join(file)
        });
        blocking(move || place(&from, &dir, target, link)).await
    }

    /// Queues the mail of a deposited fax; None when nobody has an address.
    async fn queue_mail(
        &self,
        to: &FaxRecipient,
        row: &NewFax,
        placed: &Placed,
    ) -> Result<Option<Id>, InboxError> {
        let Some(email) = &to.email else {
            return Ok(None);
        };
        let facts = FaxFacts {
            mailbox: to.display_name.clone(),
            caller_number: row.caller_number.clone(),
            station_id: row.remote_id.trim().to_owned(),
            pages: row.pages,
            time: crate::mail::format_utc(row.received_at),
            complete: row.completion_code == 0,
            result: row.result.clone(),
            attached: placed.link.is_some(),
        };
        let mail = &self.inner().mail;
        let text = mail.templates().render(&to.language, "fax", &facts)?;
        let attachments = placed
            .link
            .iter()
            .map(|link| Attachment {
                path: link.clone(),
                filename: attachment_name(row.received_at, row.format),
                content_type: FaxFileFormat::from_word(row.format).content_type().into(),
            })
            .collect();
        let message = Message {
            kind: Kind::Fax,
            to: Address {
                email: email.clone(),
                name: Some(to.display_name.clone()),
            },
            subject: text.subject,
            body: text.body,
            attachments,
            // The inbox holds the document; the spool's copy goes once delivered.
            keep: false,
            reference: Some(row.name.clone()),
        };
        Ok(Some(mail.enqueue(message, UnixTime::now()).await?))
    }
}

/// A failed deposit removes the document it was handed.
fn discard(document: FaxDocument, e: InboxError) -> InboxError {
    if let Some(path) = document.path {
        let _ = std::fs::remove_file(path);
    }
    e
}

/// Moves the document into `dir` (rename, or copy + fsync across filesystems), fsyncs the
/// directories, and links the document into the spool.
fn place(
    from: &Path,
    dir: &Path,
    target: PathBuf,
    link: Option<PathBuf>,
) -> Result<Placed, InboxError> {
    let moved = ensure_dir(dir).and_then(|()| move_file(from, &target));
    if let Err(e) = moved {
        let _ = std::fs::remove_file(from);
        let _ = std::fs::remove_file(&target);
        return Err(e);
    }
    let mut placed = Placed {
        file: Some(target.clone()),
        link: None,
    };
    if let Err(e) = sync_dir(dir) {
        return Err(placed.undo(e));
    }
    if let Some(from_dir) = from.parent() {
        let _ = sync_dir::<InboxError>(from_dir);
    }
    let Some(link) = link else {
        return Ok(placed);
    };
    placed.link = Some(link.clone());
    if let Err(e) = link_or_copy(&target, &link) {
        return Err(placed.undo(e));
    }
    Ok(placed)
}

fn move_file(from: &Path, to: &Path) -> Result<(), InboxError> {
    if std::fs::rename(from, to).is_ok() {
        return Ok(());
    }
    std::fs::copy(from, to)
        .and_then(|_| std::fs::File::open(to)?.sync_all())
        .map_err(InboxError::io(to))?;
    let _ = std::fs::remove_file(from);
    Ok(())
}

/// `fax-2026-12-04-0730.pdf`: the name the recipient sees.
fn attachment_name(at: UnixTime, format: &str) -> String {
    let ext = if format == "tiff" { "tif" } else { "pdf" };
    crate::spool::boxes::attachment_name("fax", at, ext)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_attachment_is_named_by_its_time_and_format() {
        let at = crate::clock::UnixTime::from_secs(1_796_369_400);
        assert_eq!(super::attachment_name(at, "pdf"), "fax-2026-12-04-0730.pdf");
        assert_eq!(
            super::attachment_name(at, "tiff"),
            "fax-2026-12-04-0730.tif"
        );
    }
}
