//! The mail spool: a durable queue of messages on their way to SMTP, after Postfix's queue.
//!
//! Layout under `<data_dir>/spool/`:
//!
//! * `incoming/` — where callers write attachment files (fsynced) before they enqueue;
//! * `tmp/<id>/` — an entry being written; anything here after a crash is garbage;
//! * `queue/<id>/` — a complete entry: `message.json` (never changed), `status.json` (rewritten
//!   atomically after each attempt) and the attachments `att-0`, `att-1`, ….
//!
//! [`Spool::enqueue`] builds the entry in `tmp/`, fsyncs its files and directories, renames it
//! into `queue/` and fsyncs `queue/`; only then does it return the [`Id`]. So a message the
//! caller was told about survives `kill -9` and power loss, and a half-written one never looks
//! complete. Opening the spool removes what `tmp/` holds from processes no longer running; every pending entry in `queue/` is sent
//! (again, if an attempt was interrupted: with the same Message-ID).
//!
//! The delivery policy is in [`retry`] (pure); the driver that sends is [`crate::mail`].
//! [`boxes`] holds what the fax inbox and the voicemail boxes share: users' documents kept on
//! disk until their mail's outcome, and the same pid-checked `tmp/`.

pub mod boxes;
mod durable;
mod entry;
mod queue;
pub mod retry;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use entry::{Address, Attachment, Id, Kind, Message, State, Status, Stored, Summary};
pub use queue::Counts;

use crate::clock::UnixTime;

/// What can go wrong with the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// No space left (or over quota): nothing was queued; what was queued before is intact.
    #[error("the spool's disk is full")]
    Full,
    #[error("no mail queue entry {0}")]
    NotFound(Id),
    /// The caller handed over something the spool does not take.
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// An entry's files cannot be read as written (disk damage, a hand edit).
    #[error("mail queue entry {id} is damaged: {reason}")]
    Damaged { id: Id, reason: String },
    #[error("spool {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl SpoolError {
    /// An I/O error on `path`; a full disk becomes [`SpoolError::Full`].
    pub fn from_io(path: &Path, source: std::io::Error) -> SpoolError {
        SpoolError::io(path)(source)
    }

    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
        move |source| {
            if durable::is_full(&source) {
                SpoolError::Full
            } else {
                SpoolError::Io {
                    path: path.to_owned(),
                    source,
                }
            }
        }
    }
}

/// The spool directory; cheap to clone, shared by the daemon's parts.
#[derive(Debug, Clone)]
pub struct Spool {
    root: Arc<PathBuf>,
    /// The domain part of Message-IDs.
    host: Arc<str>,
    last_id: Arc<Mutex<u64>>,
}

impl Spool {
    /// Opens (creating) the spool at `root` and recovers it: leftovers in `tmp/` are removed.
    pub fn open(root: &Path, host: &str) -> Result<Spool, SpoolError> {
        for dir in ["incoming", "tmp", "queue"] {
            let path = root.join(dir);
            std::fs::create_dir_all(&path).map_err(SpoolError::io(&path))?;
        }
        let tmp = root.join("tmp");
        let mut removed = 0;
        for item in std::fs::read_dir(&tmp).map_err(SpoolError::io(&tmp))? {
            let item = item.map_err(SpoolError::io(&tmp))?;
            if writer_alive(&item.file_name().to_string_lossy()) {
                continue;
            }
            let path = item.path();
            let gone = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
            gone.map_err(SpoolError::io(&path))?;
            removed += 1;
        }
        if removed > 0 {
            tracing::info!("spool: removed {removed} half-written or half-removed entries");
            durable::sync_dir(&tmp).map_err(SpoolError::io(&tmp))?;
        }
        let spool = Spool {
            root: Arc::new(root.to_owned()),
            host: if host.is_empty() {
                "zentrale.invalid"
            } else {
                host
            }
            .into(),
            last_id: Arc::new(Mutex::new(0)),
        };
        let highest = spool.ids()?.last().map_or(0, |id| id.0);
        *spool.lock_ids() = highest;
        Ok(spool)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where callers write attachment files before they hand them to [`Spool::enqueue`].
    pub fn incoming_dir(&self) -> PathBuf {
        self.root.join("incoming")
    }

    /// Queues `message` durably and returns its id; see the module doc. Blocks on fsync, so
    /// async callers use [`Spool::enqueue`].
    pub fn enqueue_blocking(&self, message: Message, now: UnixTime) -> Result<Id, SpoolError> {
        self.check(&message)?;
        let (id, tmp) = self.new_entry_dir(now)?;
        match self.fill(&tmp, message.clone(), id, now) {
            Ok(()) => {}
            Err(e) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Err(e);
            }
        }
        let queue = self.root.join("queue");
        let target = queue.join(id.to_string());
        if let Err(e) = std::fs::rename(&tmp, &target) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(SpoolError::io(&target)(e));
        }
        durable::sync_dir(&queue).map_err(SpoolError::io(&queue))?;
        // The entry holds its own links now; the caller's files can go.
        for a in &message.attachments {
            let _ = std::fs::remove_file(&a.path);
        }
        Ok(id)
    }

    /// [`Spool::enqueue_blocking`] on a blocking thread.
    pub async fn enqueue(&self, message: Message, now: UnixTime) -> Result<Id, SpoolError> {
        let spool = self.clone();
        tokio::task::spawn_blocking(move || spool.enqueue_blocking(message, now))
            .await
            .map_err(|e| SpoolError::Io {
                path: PathBuf::new(),
                source: std::io::Error::other(e),
            })?
    }

    fn check(&self, message: &Message) -> Result<(), SpoolError> {
        let invalid = |field, reason: &str| SpoolError::Invalid {
            field,
            reason: reason.into(),
        };
        if crate::store::validate::email("to", &message.to.email).is_err() {
            return Err(invalid("to", "is not a valid email address"));
        }
        let incoming = self.incoming_dir();
        for a in &message.attachments {
            if a.path.parent() != Some(incoming.as_path()) || !a.path.is_file() {
                return Err(invalid(
                    "attachments",
                    "must be files in the spool's incoming/",
                ));
            }
            if a.filename.is_empty() || a.filename.chars().any(char::is_control) {
                return Err(invalid(
                    "attachments",
                    "need a file name without control characters",
                ));
            }
            if a.content_type.parse::<mime_type::Check>().is_err() {
                return Err(invalid("attachments", "need a MIME type like audio/wav"));
            }
        }
        Ok(())
    }

    /// A fresh `tmp/<id>/` with an id above every one handed out.
    fn new_entry_dir(&self, now: UnixTime) -> Result<(Id, PathBuf), SpoolError> {
        loop {
            let id = {
                let mut last = self.lock_ids();
                let floor = u64::try_from(now.secs())
                    .unwrap_or(0)
                    .saturating_mul(1_000_000);
                *last = (*last + 1).max(floor);
                Id(*last)
            };
            let tmp = self.root.join("tmp").join(tmp_name(&id.to_string()));
            let taken = self.root.join("queue").join(id.to_string()).exists();
            match std::fs::create_dir(&tmp) {
                Ok(()) if !taken => return Ok((id, tmp)),
                Ok(()) => {
                    let _ = std::fs::remove_dir(&tmp);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(SpoolError::io(&tmp)(e)),
            }
        }
    }

    /// Links the attachments in and writes `message.json` and `status.json`, all fsynced.
    fn fill(&self, tmp: &Path, message: Message, id: Id, now: UnixTime) -> Result<(), SpoolError> {
        let mut attachments = Vec::with_capacity(message.attachments.len());
        for (i, a) in message.attachments.into_iter().enumerate() {
            let name = format!("att-{i}");
            let target = tmp.join(&name);
            std::fs::hard_link(&a.path, &target).map_err(SpoolError::io(&a.path))?;
            let file = std::fs::File::open(&target).map_err(SpoolError::io(&target))?;
            file.sync_all().map_err(SpoolError::io(&target))?;
            attachments.push(Attachment {
                path: name.into(),
                ..a
            });
        }
        let stored = Stored {
            kind: message.kind,
            to: message.to,
            subject: message.subject,
            body: message.body,
            attachments,
            keep: message.keep,
            reference: message.reference,
            message_id: format!("<{id}.{:016x}@{}>", rand::random::<u64>(), self.host),
            created: now,
        };
        let json = serde_json::to_vec(&stored).expect("a message serialises");
        let path = tmp.join("message.json");
        durable::write_new(&path, &json).map_err(SpoolError::io(&path))?;
        let json = serde_json::to_vec(&Status::queued()).expect("a status serialises");
        let path = tmp.join("status.json");
        durable::write_new(&path, &json).map_err(SpoolError::io(&path))?;
        durable::sync_dir(tmp).map_err(SpoolError::io(tmp))
    }

    fn lock_ids(&self) -> std::sync::MutexGuard<'_, u64> {
        self.last_id.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A name in `tmp/`: prefixed with our process id, so that opening the spool in one process
/// (the CLI beside the daemon) never removes what another live process is writing.
fn tmp_name(name: &str) -> String {
    format!("{}.{name}", std::process::id())
}

/// Whether the process that made `tmp/<name>` is another one still running.
fn writer_alive(name: &str) -> bool {
    match name
        .split_once('.')
        .and_then(|(pid, _)| pid.parse::<u32>().ok())
    {
        Some(pid) if pid != std::process::id() => Path::new(&format!("/proc/{pid}")).exists(),
        _ => false,
    }
}

/// A MIME type's syntax (`type/subtype`, token characters), checked before it reaches a header.
mod mime_type {
    pub struct Check;

    impl std::str::FromStr for Check {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let token = |t: &str| {
                !t.is_empty()
                    && t.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
            };
            match s.split_once('/') {
                Some((a, b)) if token(a) && token(b) && s.len() <= 127 => Ok(Check),
                _ => Err(()),
            }
        }
    }
}

#[cfg(test)]
mod tests;
