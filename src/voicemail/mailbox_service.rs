//! Upkeep of the boxes: removing what a crash left behind, the keep/delete rule after a mail's
//! outcome, and the files of deleted users.

use std::path::Path;

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::mailbox::{MailboxError, Mailboxes, blocking};
use crate::mail::MailOutcome;
use crate::spool::Kind;
use crate::store::changes::{Entity, Since};

/// Applies mail outcomes to the boxes and removes the boxes of deleted users, until shut down.
#[derive(Debug)]
pub struct MailboxService {
    boxes: Mailboxes,
    outcomes: broadcast::Receiver<MailOutcome>,
}

impl MailboxService {
    pub(super) fn new(boxes: Mailboxes) -> MailboxService {
        let outcomes = boxes.inner().mail.outcomes();
        MailboxService { boxes, outcomes }
    }

    pub async fn run(mut self, shutdown: CancellationToken) -> Result<(), MailboxError> {
        let store = self.boxes.inner().store.clone();
        let mut changes = store.watch_changes();
        let mut seen = store.generation();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                got = self.outcomes.recv() => match got {
                    Ok(outcome) => self.boxes.mailed(outcome).await,
                    Err(broadcast::error::RecvError::Lagged(n)) => tracing::warn!(
                        "voicemail: missed {n} mail outcomes; those messages stay in their boxes"
                    ),
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

impl Mailboxes {
    /// The keep/delete rule once a voicemail's mail is delivered or failed for good.
    pub(super) async fn mailed(&self, outcome: MailOutcome) {
        if outcome.kind != Kind::Voicemail {
            return;
        }
        let store = &self.inner().store;
        match store
            .voicemail_mailed(&outcome.reference, outcome.delivered)
            .await
        {
            Ok(Some((user, file))) => {
                self.remove_file(user, &file).await;
                tracing::info!("voicemail: {file} of user {user} mailed and removed from the box");
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(
                "voicemail: recording the mail of {}: {e}",
                outcome.reference
            ),
        }
    }

    /// Removes the boxes of users deleted since generation `after`; returns the new cursor.
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
                    tracing::warn!("voicemail: {e}");
                }
                return now;
            }
            Err(e) => {
                tracing::warn!("voicemail: reading changes: {e}");
                return after;
            }
        };
        for user in users {
            if let Err(e) = self.remove_if_gone(user).await {
                tracing::warn!("voicemail: {e}");
            }
        }
        now
    }

    /// Removes user `user`'s box directory if the user no longer exists.
    async fn remove_if_gone(&self, user: i64) -> Result<bool, MailboxError> {
        if self.inner().store.user_exists(user).await? {
            return Ok(false);
        }
        let dir = self.box_dir(user);
        let root = self.inner().root.clone();
        blocking(move || match std::fs::remove_dir_all(&dir) {
            Ok(()) => {
                tracing::info!("voicemail: removed the box of deleted user {user}");
                super::mailbox::sync_dir(&root).map(|()| true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(MailboxError::io(&dir)(e)),
        })
        .await
    }

    /// Removes boxes of users that are gone and message files without a row (a deposit cut
    /// off between moving the file and committing the row).
    pub(super) async fn sweep(&self) -> Result<(), MailboxError> {
        let root = self.inner().root.clone();
        let users: Vec<i64> = std::fs::read_dir(&root)
            .map_err(MailboxError::io(&root))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
            .collect();
        for user in users {
            if self.remove_if_gone(user).await? {
                continue;
            }
            let files = self.inner().store.voicemail_files(user).await?;
            let dir = self.box_dir(user);
            let Ok(list) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in list.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                let stray = name.starts_with("msg-") && !files.contains(&name);
                if stray || name.starts_with('.') {
                    tracing::info!("voicemail: removing {name} of user {user} (no message)");
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }
}

/// Removes recordings that processes no longer running left in `tmp/`.
pub(super) fn clean_tmp(tmp: &Path) -> Result<(), MailboxError> {
    let mut removed = 0;
    for entry in std::fs::read_dir(tmp).map_err(MailboxError::io(tmp))? {
        let entry = entry.map_err(MailboxError::io(tmp))?;
        if writer_alive(&entry.file_name().to_string_lossy()) {
            continue;
        }
        let path = entry.path();
        std::fs::remove_file(&path).map_err(MailboxError::io(&path))?;
        removed += 1;
    }
    if removed > 0 {
        tracing::info!("voicemail: removed {removed} recordings cut off by a stop");
        super::mailbox::sync_dir(tmp)?;
    }
    Ok(())
}

/// Whether `tmp/<pid>.…` belongs to another process still running (the CLI beside the
/// daemon must not remove the daemon's recordings).
fn writer_alive(name: &str) -> bool {
    match name
        .split_once('.')
        .and_then(|(pid, _)| pid.parse::<u32>().ok())
    {
        Some(pid) if pid != std::process::id() => Path::new(&format!("/proc/{pid}")).exists(),
        _ => false,
    }
}
