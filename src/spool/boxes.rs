//! Users' boxes of mailed documents: the fax inbox and the voicemail boxes are one thing on
//! disk, `<data_dir>/<kind>/tmp/` for files being written and `<data_dir>/<kind>/<user id>/`
//! for the documents, each named by a store row and kept until its mail's outcome says
//! otherwise. [`Boxes`] holds what the two share; a [`BoxKind`] says what differs (the store
//! queries, which files are strays, the words of the log lines, the module's error type).
//!
//! What is kept true here: a file in `tmp/` left by a process no longer running is removed on
//! open ([`clean_tmp`], the pid check, as in the spool's `tmp/`); a document without a row and
//! the box of a deleted user are removed on open and when the store's change feed says users
//! went; after a mail outcome the keep/delete rule of the store is applied
//! ([`BoxService`]).

use std::future::Future;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::{Id, Kind};
use crate::mail::{MailHandle, MailOutcome};
use crate::store::boxes::Pending;
use crate::store::changes::{Entity, Since};
use crate::store::{Store, StoreError};

/// A box module's error type: what the shared code needs to build one.
pub trait BoxError: std::fmt::Debug + std::fmt::Display + Send + Sized + 'static {
    /// No space left (or over quota).
    fn full() -> Self;
    /// Any other I/O error on `path`.
    fn at(path: PathBuf, source: std::io::Error) -> Self;
    /// The module's wrapping of a store error.
    fn store(e: StoreError) -> Self;

    /// An I/O error on `path`; a full disk becomes [`BoxError::full`].
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| {
            if super::durable::is_full(&source) {
                Self::full()
            } else {
                Self::at(path.to_owned(), source)
            }
        }
    }
}

/// The words of one kind's log lines (`fax: removed the inbox of deleted user 7`).
#[derive(Debug)]
pub struct Words {
    /// `inbox`, `box`.
    pub a_box: &'static str,
    /// `inboxes`, `boxes`.
    pub boxes: &'static str,
    /// `fax`, `message`.
    pub document: &'static str,
    /// `faxes`, `messages`.
    pub documents: &'static str,
    /// What `tmp/` holds after a stop: `files of receptions`, `recordings`.
    pub cut_off: &'static str,
}

/// What differs between the kinds of boxes.
pub trait BoxKind: std::fmt::Debug + Clone + Send + Sync + 'static {
    type Error: BoxError;
    /// The directory under the data dir, the log lines' prefix.
    const NAME: &'static str;
    /// The kind of the mails whose outcomes concern these boxes.
    const MAIL: Kind;
    const WORDS: Words;

    /// The files the rows of `user` name.
    fn files(
        store: &Store,
        user: i64,
    ) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;

    /// Records the outcome of the mail of the document `reference`; `Some((user, file))` when
    /// its row went (delivered, not kept) and the file is to be removed.
    fn mailed(
        store: &Store,
        reference: &str,
        delivered: bool,
    ) -> impl Future<Output = Result<Option<(i64, Option<String>)>, StoreError>> + Send;

    /// Whether `name` in a user's box is a leftover (`files`: what the rows name).
    fn is_stray(name: &str, files: &[String]) -> bool;
}

/// Every user's box of one kind; cheap to clone.
#[derive(Debug, Clone)]
pub struct Boxes<K> {
    inner: Arc<Inner>,
    kind: PhantomData<K>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    /// `<data_dir>/<kind>`.
    pub root: PathBuf,
    pub store: Store,
    pub mail: MailHandle,
}

impl<K: BoxKind> Boxes<K> {
    /// Opens the boxes under `<data_dir>/<kind>/`, removing files a dead process left in
    /// `tmp/`, the boxes of users that no longer exist and documents without a row.
    pub(crate) async fn open_in(
        data_dir: &Path,
        store: Store,
        mail: MailHandle,
    ) -> Result<Self, K::Error> {
        let root = data_dir.join(K::NAME);
        let tmp = root.join("tmp");
        std::fs::create_dir_all(&tmp).map_err(K::Error::io(&tmp))?;
        let boxes = Boxes {
            inner: Arc::new(Inner { root, store, mail }),
            kind: PhantomData,
        };
        clean_tmp::<K>(&tmp)?;
        boxes.sweep().await?;
        Ok(boxes)
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// The service that applies the keep/delete rule after mail outcomes and removes the boxes
    /// of deleted users; subscribe now, run it with the daemon's services.
    pub fn service(&self) -> BoxService<K> {
        let outcomes = self.inner.mail.outcomes();
        BoxService {
            boxes: self.clone(),
            outcomes,
        }
    }

    /// A fresh path in `tmp/` (`<pid>.<random>.<ext>`: see [`clean_tmp`]).
    pub(crate) fn tmp_file(&self, ext: &str) -> PathBuf {
        let name = format!(
            "{}.{:016x}.{ext}",
            std::process::id(),
            rand::random::<u64>()
        );
        self.inner.root.join("tmp").join(name)
    }

    pub(crate) fn user_dir(&self, user: i64) -> PathBuf {
        self.inner.root.join(user.to_string())
    }

    /// Removes a document whose row is gone; a failure only leaves a file the next open
    /// removes.
    pub(crate) async fn remove_file(&self, user: i64, file: &str) {
        let dir = self.user_dir(user);
        let path = dir.join(file);
        let gone = blocking(move || {
            std::fs::remove_file(&path).map_err(K::Error::io(&path))?;
            sync_dir::<K::Error>(&dir)
        })
        .await;
        if let Err(e) = gone {
            tracing::warn!("{}: {e}", K::NAME);
        }
    }

    /// The last step of a deposit: commits the document's row; when that fails, the mail
    /// queued for it is withdrawn (the caller removes its files).
    pub(crate) async fn commit(
        &self,
        pending: Pending,
        queued: Option<Id>,
    ) -> Result<i64, K::Error> {
        let id = pending.id;
        if let Err(e) = pending.commit().await {
            if let Some(queued) = queued {
                let _ = self.inner.mail.delete(queued);
            }
            return Err(K::Error::store(e));
        }
        Ok(id)
    }

    /// The keep/delete rule once a document's mail is delivered or failed for good.
    pub(crate) async fn mailed(&self, outcome: MailOutcome) {
        if outcome.kind != K::MAIL {
            return;
        }
        let reference = &outcome.reference;
        match K::mailed(&self.inner.store, reference, outcome.delivered).await {
            Ok(Some((user, file))) => {
                if let Some(file) = &file {
                    self.remove_file(user, file).await;
                }
                let (name, a_box) = (K::NAME, K::WORDS.a_box);
                tracing::info!(
                    "{name}: {reference} of user {user} mailed and removed from the {a_box}"
                );
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("{}: recording the mail of {reference}: {e}", K::NAME),
        }
    }

    /// Removes the boxes of users deleted since generation `after`; returns the new cursor.
    async fn users_changed(&self, after: u64) -> u64 {
        let store = &self.inner.store;
        let now = store.generation();
        let users = match store.changes_since(after).await {
            Ok(Since::Changes(changes)) => changes
                .into_iter()
                .filter(|c| c.entity == Entity::User)
                .map(|c| c.id)
                .collect::<Vec<_>>(),
            Ok(Since::Lagged) => {
                if let Err(e) = self.sweep().await {
                    tracing::warn!("{}: {e}", K::NAME);
                }
                return now;
            }
            Err(e) => {
                tracing::warn!("{}: reading changes: {e}", K::NAME);
                return after;
            }
        };
        for user in users {
            if let Err(e) = self.remove_if_gone(user).await {
                tracing::warn!("{}: {e}", K::NAME);
            }
        }
        now
    }

    /// Removes user `user`'s box directory if the user no longer exists.
    async fn remove_if_gone(&self, user: i64) -> Result<bool, K::Error> {
        let exists = self.inner.store.user_exists(user).await;
        if exists.map_err(K::Error::store)? {
            return Ok(false);
        }
        let dir = self.user_dir(user);
        let root = self.inner.root.clone();
        blocking(move || match std::fs::remove_dir_all(&dir) {
            Ok(()) => {
                let (name, a_box) = (K::NAME, K::WORDS.a_box);
                tracing::info!("{name}: removed the {a_box} of deleted user {user}");
                sync_dir(&root).map(|()| true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(K::Error::io(&dir)(e)),
        })
        .await
    }

    /// Removes boxes of users that are gone and documents without a row (a deposit cut off
    /// between moving the file and committing the row).
    async fn sweep(&self) -> Result<(), K::Error> {
        let root = &self.inner.root;
        let users: Vec<i64> = std::fs::read_dir(root)
            .map_err(K::Error::io(root))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        for user in users {
            if self.remove_if_gone(user).await? {
                continue;
            }
            let files = K::files(&self.inner.store, user)
                .await
                .map_err(K::Error::store)?;
            let Ok(list) = std::fs::read_dir(self.user_dir(user)) else {
                continue;
            };
            for entry in list.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if K::is_stray(&name, &files) {
                    let (kind, document) = (K::NAME, K::WORDS.document);
                    tracing::info!("{kind}: removing {name} of user {user} (no {document})");
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }
}

/// Applies mail outcomes to the boxes and removes the boxes of deleted users, until shut down.
#[derive(Debug)]
pub struct BoxService<K> {
    boxes: Boxes<K>,
    outcomes: broadcast::Receiver<MailOutcome>,
}

impl<K: BoxKind> BoxService<K> {
    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), K::Error> {
        let store = self.boxes.inner.store.clone();
        let mut changes = store.watch_changes();
        let mut seen = store.generation();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                got = self.outcomes.recv() => match got {
                    Ok(outcome) => self.boxes.mailed(outcome).await,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let (name, w) = (K::NAME, K::WORDS);
                        tracing::warn!(
                            "{name}: missed {n} mail outcomes; those {} stay in their {}",
                            w.documents,
                            w.boxes
                        );
                    }
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    seen = self.boxes.users_changed(seen).await;
                }
            }
        }
    }
}

/// Removes files that processes no longer running left in `tmp/`.
fn clean_tmp<K: BoxKind>(tmp: &Path) -> Result<(), K::Error> {
    let mut removed = 0;
    for entry in std::fs::read_dir(tmp).map_err(K::Error::io(tmp))? {
        let entry = entry.map_err(K::Error::io(tmp))?;
        // The CLI beside the daemon must not remove what the daemon is writing.
        if super::writer_alive(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        std::fs::remove_file(&path).map_err(K::Error::io(&path))?;
        removed += 1;
    }
    if removed > 0 {
        let (name, cut_off) = (K::NAME, K::WORDS.cut_off);
        tracing::info!("{name}: removed {removed} {cut_off} cut off by a stop");
        sync_dir::<K::Error>(tmp)?;
    }
    Ok(())
}

/// Creates `dir` (and fsyncs its parent) unless it is there.
pub fn ensure_dir<E: BoxError>(dir: &Path) -> Result<(), E> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(E::io(dir))?;
    match dir.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}

pub fn sync_dir<E: BoxError>(dir: &Path) -> Result<(), E> {
    super::durable::sync_dir(dir).map_err(E::io(dir))
}

/// Runs blocking file work off the async threads.
pub async fn blocking<T: Send + 'static, E: BoxError>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, E> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| E::at(PathBuf::new(), std::io::Error::other(e)))?
}

/// Hard-links `from` to `to` (a copy, fsynced, across filesystems) and fsyncs `to`'s
/// directory: a document handed to the spool's `incoming/`.
pub fn link_or_copy<E: BoxError>(from: &Path, to: &Path) -> Result<(), E> {
    if std::fs::hard_link(from, to).is_err() {
        std::fs::copy(from, to)
            .and_then(|_| std::fs::File::open(to)?.sync_all())
            .map_err(E::io(to))?;
    }
    sync_dir(to.parent().unwrap_or(Path::new(".")))
}

/// `<prefix>-2026-12-04-0730.<ext>`: an attachment's name as the recipient sees it.
pub fn attachment_name(prefix: &str, at: crate::clock::UnixTime, ext: &str) -> String {
    let stamp = crate::mail::format_utc(at);
    let digits: String = stamp
        .trim_end_matches(" UTC")
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '-' || *c == ' ')
        .collect();
    format!("{prefix}-{}.{ext}", digits.replace(' ', "-"))
}

#[cfg(test)]
#[path = "boxes_testing.rs"]
pub(crate) mod testing;
