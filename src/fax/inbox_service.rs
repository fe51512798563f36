//! Upkeep of the fax inboxes: removing what a crash left behind, the keep/delete rule after a
//! mail's outcome, and the inboxes of deleted users.

use std::path::Path;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::inbox::{FaxInbox, InboxError, blocking, sync_dir};
use crate::mail::MailOutcome;
use crate::spool::Kind;
use crate::store::changes::{Entity, Since};

/// Applies mail outcomes to the inboxes and removes those of deleted users, until shut down.
#[derive(Debug)]
pub struct FaxInboxService {
    inbox: FaxInbox,
    outcomes: broadcast::Receiver<MailOutcome>,
}

impl FaxInboxService {
    pub(super) fn new(inbox: FaxInbox) -> FaxInboxService {
        let outcomes = inbox.inner().mail.outcomes();
        FaxInboxService { inbox, outcomes }
    }

    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), InboxError> {
        let store = self.inbox.inner().store.clone();
        let mut changes = store.watch_changes();
        let mut seen = store.generation();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                got = self.outcomes.recv() => match got {
                    Ok(outcome) => self.inbox.mailed(outcome).await,
                    Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(
                        "fax: missed {n} mail outcomes; those faxes stay in their inboxes"
                    ),
                    Err(broadcast::error::RecvError::Closed) => return Ok(()),
                },
                changed = changes.changed() => {
                    if changed.is_err() {
                        return Ok(());
                    }
                    seen = self.inbox.users_changed(seen).await;
                }
            }
        }
    }
}

impl FaxInbox {
    /// The keep/delete rule once a fax's mail is delivered or failed for good.
    pub(super) async fn mailed(&self, outcome: MailOutcome) {
        if outcome.kind != Kind::Fax {
            return;
        }
        let store = &self.inner().store;
        match store
            .fax_mailed(&outcome.reference, outcome.delivered)
            .await
        {
            Ok(Some((user, file))) => {
                if let Some(file) = &file {
                    self.remove_file(user, file).await;
                }
                tracing::info!(
                    "fax: {} of user {user} mailed and removed from the inbox",
                    outcome.reference
                );
            }
            Ok(None) => {}
            Err(e) => tracing::warn!("fax: recording the mail of {}: {e}", outcome.reference),
        }
    }

    /// Removes the inboxes of users deleted since generation `after`; returns the new cursor.
    async fn users_changed(&self, after: u64) -> u64 {
        let store = &self.inner().store;
        let now = store.generation();
        let users = match store.changes_since(after).await {
            Ok(Since::Changes(changes)) => changes
                .into_iter()
                .filter(|c| c.entity == Entity::User)
                .map(|c| c.id)
                .collect::<Vec<_>>(),
            Ok(Since::Lagged) => {
                if let Err(e) = self.sweep().await {
                    tracing::warn!("fax: {e}");
                }
                return now;
            }
            Err(e) => {
                tracing::warn!("fax: reading changes: {e}");
                return after;
            }
        };
        for user in users {
            if let Err(e) = self.remove_if_gone(user).await {
                tracing::warn!("fax: {e}");
            }
        }
        now
    }

    /// Removes user `user`'s inbox directory if the user no longer exists.
    async fn remove_if_gone(&self, user: i64) -> Result<bool, InboxError> {
        if self.inner().store.user_exists(user).await? {
            return Ok(false);
        }
        let dir = self.user_dir(user);
        let root = self.inner().root.clone();
        blocking(move || match std::fs::remove_dir_all(&dir) {
            Ok(()) => {
                tracing::info!("fax: removed the inbox of deleted user {user}");
                sync_dir(&root).map(|()| true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(InboxError::io(&dir)(e)),
        })
        .await
    }

    /// Removes inboxes of users that are gone and documents without a row (a deposit cut off
    /// between moving the file and committing the row).
    pub(super) async fn sweep(&self) -> Result<(), InboxError> {
        let root = self.inner().root.clone();
        let users: Vec<i64> = std::fs::read_dir(&root)
            .map_err(InboxError::io(&root))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        for user in users {
            if self.remove_if_gone(user).await? {
                continue;
            }
            let files = self.inner().store.fax_files(user).await?;
            let dir = self.user_dir(user);
            let Ok(list) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in list.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !files.contains(&name) {
                    tracing::info!("fax: removing {name} of user {user} (no fax)");
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }
}

/// Removes receptions that processes no longer running left in `tmp/`.
pub(super) fn clean_tmp(tmp: &Path) -> Result<(), InboxError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(tmp).map_err(InboxError::io(tmp))? {
        let entry = entry.map_err(InboxError::io(tmp))?;
        if writer_alive(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        std::fs::remove_file(&path).map_err(InboxError::io(&path))?;
        removed += 1;
    }
    if removed > 0 {
        tracing::info!("fax: removed {removed} files of receptions cut off by a stop");
        sync_dir(tmp)?;
    }
    Ok(())
}

/// Whether `tmp/<pid>.…` belongs to another process still running.
fn writer_alive(name: &str) -> bool {
    match name
        .split_once('.')
        .and_then(|(pid, _)| pid.parse::<u32>().ok())
    {
        Some(pid) if pid != std::process::id() => Path::new(&format!("/proc/{pid}")).exists(),
        _ => false,
    }
}
