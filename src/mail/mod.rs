//! Mail: delivers the [`crate::spool`] over SMTP with lettre, and composes the messages.
//!
//! * [`MailHandle`] is what the rest of the daemon holds: queue a message (voicemail, fax, the
//!   admin's test mail), list, retry and delete entries. It wakes the driver.
//! * [`MailService::run`] is the driver (`service.rs`): schedule, pooled SMTP, outcomes.
//! * `templates.rs` renders subjects and bodies per language; `compose.rs` builds the RFC 5322
//!   message with lettre's builder; `transport.rs` maps `[smtp]` onto lettre and its answers
//!   onto the spool's retry policy (2xx delivered, 4xx/network deferred, 5xx failed).
//!
//! How voicemail and fax hand over a message: write the recording or the PDF into
//! [`Spool::incoming_dir`] and fsync it; render the text with
//! `handle.templates().render(lang, "voicemail", &VoicemailFacts { … })` (or `"fax"` with
//! [`FaxFacts`]); then `handle.enqueue(Message { kind, to, subject, body, attachments, keep },
//! now)`. When that returns `Ok(id)` the message is on disk and will be delivered or reported;
//! `Err(SpoolError::Full)` is the caller's "mailbox unavailable".

mod compose;
mod schedule;
mod service;
pub mod templates;
mod transport;

use std::sync::Arc;

use tokio::sync::Notify;

pub use service::MailService;
pub use templates::{FaxFacts, Rendered, Templates, VoicemailFacts};

use crate::clock::UnixTime;
use crate::config::Config;
use crate::spool::{
    Address, Counts, Id, Kind, Message, Spool, SpoolError, Status, Stored, Summary,
};

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error("mail template {file}: {reason}")]
    Template { file: String, reason: String },
    #[error("{0}")]
    Tls(String),
}

/// The spool with the templates: what voicemail, fax, the API and the CLI use.
#[derive(Debug, Clone)]
pub struct MailHandle {
    pub spool: Spool,
    templates: Arc<Templates>,
    wake: Arc<Wake>,
    /// `server.public_host`: names this system in mails, Message-IDs and EHLO.
    host: String,
    language: String,
    /// Delivered or failed-for-good mails that carry a reference, for their senders.
    outcomes: tokio::sync::broadcast::Sender<MailOutcome>,
}

/// What became of a mail that carried a [`Message::reference`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailOutcome {
    pub kind: Kind,
    pub reference: String,
    /// True: the SMTP server accepted it; false: it failed for good.
    pub delivered: bool,
}

/// Outcomes held for a listener that is behind; one that falls further behind misses some
/// (logged): the sender then keeps what it would have deleted.
const OUTCOMES: usize = 1024;

impl MailHandle {
    /// Opens (and recovers) `<data_dir>/spool` and loads the checked templates; a CA file that
    /// cannot be used is an error here, at start, not at the first delivery.
    pub fn open(config: &Config) -> Result<MailHandle, MailError> {
        let templates = Templates::load(Some(&template_dir(config)))?;
        if let Some(server) = &config.smtp.server {
            transport::tls_parameters(&config.smtp, server)?;
        }
        let spool = Spool::open(
            &config.server.data_dir.join("spool"),
            &config.server.public_host,
        )?;
        Ok(MailHandle {
            spool,
            templates: Arc::new(templates),
            wake: Arc::default(),
            host: config.server.public_host.clone(),
            language: config.server.language.clone(),
            outcomes: tokio::sync::broadcast::channel(OUTCOMES).0,
        })
    }

    /// The driver that delivers this spool.
    pub fn service(&self, config: &Config) -> MailService {
        MailService {
            handle: self.clone(),
            config: config.smtp.clone(),
        }
    }

    /// Outcomes of referenced mails from now on (see [`MailOutcome`]).
    pub fn outcomes(&self) -> tokio::sync::broadcast::Receiver<MailOutcome> {
        self.outcomes.subscribe()
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Queues a message durably and wakes the driver.
    pub async fn enqueue(&self, message: Message, now: UnixTime) -> Result<Id, SpoolError> {
        let id = self.spool.enqueue(message, now).await?;
        self.wake.new_entry(id);
        Ok(id)
    }

    /// The admin's test mail to `to`.
    pub async fn send_test(&self, to: &str, now: UnixTime) -> Result<Id, MailError> {
        let ctx = minijinja::context! { server => self.host, time => format_utc(now) };
        let text = self.templates.render(&self.language, "test", &ctx)?;
        let message = Message {
            kind: Kind::Test,
            to: Address {
                email: to.to_owned(),
                name: None,
            },
            subject: text.subject,
            body: text.body,
            attachments: Vec::new(),
            keep: false,
            reference: None,
        };
        Ok(self.enqueue(message, now).await?)
    }

    /// Makes an entry due now.
    pub fn retry(&self, id: Id) -> Result<Status, SpoolError> {
        let status = self.spool.retry(id)?;
        self.wake.changed();
        Ok(status)
    }

    /// Removes an entry with its files.
    pub fn delete(&self, id: Id) -> Result<(), SpoolError> {
        self.spool.remove(id)?;
        self.wake.changed();
        Ok(())
    }

    pub fn list(&self) -> Result<Vec<Summary>, SpoolError> {
        self.spool.list()
    }

    pub fn counts(&self) -> Result<Counts, SpoolError> {
        self.spool.counts()
    }

    /// Queues the report about failed entry `id` for the admin.
    async fn admin_notice(
        &self,
        admin: &str,
        id: Id,
        stored: &Stored,
        status: &Status,
        now: UnixTime,
    ) -> Result<Id, MailError> {
        let ctx = minijinja::context! {
            server => self.host, id => id.0, to => stored.to.email, subject => stored.subject,
            attempts => status.attempts, error => status.last_error.as_deref().unwrap_or(""),
        };
        let text = self.templates.render(&self.language, "failed", &ctx)?;
        let message = Message {
            kind: Kind::AdminNotice,
            to: Address {
                email: admin.to_owned(),
                name: None,
            },
            subject: text.subject,
            body: text.body,
            attachments: Vec::new(),
            keep: false,
            reference: None,
        };
        Ok(self.spool.enqueue(message, now).await?)
    }
}

/// What in-process callers tell the driver: new entries by id (planned at once, no listing),
/// or that entries changed (read all again).
#[derive(Debug, Default)]
struct Wake {
    news: std::sync::Mutex<(Vec<Id>, bool)>,
    notify: Notify,
}

impl Wake {
    fn new_entry(&self, id: Id) {
        self.lock().0.push(id);
        self.notify.notify_one();
    }

    fn changed(&self) {
        self.lock().1 = true;
        self.notify.notify_one();
    }

    /// The new ids and whether everything must be read again, since the last call.
    fn take(&self) -> (Vec<Id>, bool) {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<Id>, bool)> {
        self.news.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where the admin's template overrides are.
pub fn template_dir(config: &Config) -> std::path::PathBuf {
    config.server.data_dir.join("templates").join("mail")
}

/// What `zentrale check` and the start check: the templates render, the CA file is usable.
pub fn check(config: &Config) -> Result<(), MailError> {
    Templates::load(Some(&template_dir(config)))?;
    if let Some(server) = &config.smtp.server {
        transport::tls_parameters(&config.smtp, server)?;
    }
    Ok(())
}

/// `2026-12-04 07:30 UTC`: a timestamp for mail texts (civil date from days, after
/// Howard Hinnant's `civil_from_days`).
pub fn format_utc(t: UnixTime) -> String {
    let secs = t.secs();
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_format_like_date_u() {
        assert_eq!(format_utc(UnixTime::from_secs(0)), "1970-01-01 00:00 UTC");
        // `date -u -d @1796369400` → 2026-12-04 07:30
        assert_eq!(
            format_utc(UnixTime::from_secs(1_796_369_400)),
            "2026-12-04 07:30 UTC"
        );
        assert_eq!(
            format_utc(UnixTime::from_secs(951_782_400)),
            "2000-02-29 00:00 UTC"
        );
    }
}
