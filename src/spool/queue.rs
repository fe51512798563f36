//! Reading and changing the entries in `queue/`.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::durable;
use super::entry::{Attachment, Id, State, Status, Stored, Summary};
use super::{Spool, SpoolError};
use crate::clock::UnixTime;

/// How many entries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Counts {
    pub queued: usize,
    pub deferred: usize,
    pub delivered: usize,
    pub failed: usize,
}

impl Spool {
    fn entry_dir(&self, id: Id) -> PathBuf {
        self.root.join("queue").join(id.to_string())
    }

    /// The ids in `queue/`, oldest first.
    pub fn ids(&self) -> Result<Vec<Id>, SpoolError> {
        let queue = self.root.join("queue");
        let mut ids = Vec::new();
        for item in std::fs::read_dir(&queue).map_err(SpoolError::io(&queue))? {
            let item = item.map_err(SpoolError::io(&queue))?;
            if let Some(id) = item.file_name().to_str().and_then(|n| n.parse().ok()) {
                ids.push(id);
            }
        }
        ids.sort_unstable();
        Ok(ids)
    }

    /// An entry's message and status.
    pub fn load(&self, id: Id) -> Result<(Stored, Status), SpoolError> {
        Ok((self.read_json(id, "message.json")?, self.status(id)?))
    }

    pub fn status(&self, id: Id) -> Result<Status, SpoolError> {
        self.read_json(id, "status.json")
    }

    fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        id: Id,
        name: &str,
    ) -> Result<T, SpoolError> {
        let path = self.entry_dir(id).join(name);
        let bytes = std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SpoolError::NotFound(id),
            _ => SpoolError::io(&path)(e),
        })?;
        serde_json::from_slice(&bytes).map_err(|e| SpoolError::Damaged {
            id,
            reason: format!("{name}: {e}"),
        })
    }

    /// Where an attachment of entry `id` is.
    pub fn attachment_path(&self, id: Id, attachment: &Attachment) -> PathBuf {
        self.entry_dir(id).join(&attachment.path)
    }

    /// Records a new status durably.
    pub fn set_status(&self, id: Id, status: &Status) -> Result<(), SpoolError> {
        let dir = self.entry_dir(id);
        let json = serde_json::to_vec(status).expect("a status serialises");
        durable::replace(&dir, "status.json", &json).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SpoolError::NotFound(id),
            _ => SpoolError::io(&dir)(e),
        })
    }

    /// Removes an entry and its files: renamed out of `queue/` first, so a crash half-way
    /// leaves garbage in `tmp/` (removed at the next open), never a half entry in `queue/`.
    pub fn remove(&self, id: Id) -> Result<(), SpoolError> {
        let dir = self.entry_dir(id);
        let trash = self
            .root
            .join("tmp")
            .join(super::tmp_name(&format!("gone-{id}")));
        std::fs::rename(&dir, &trash).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => SpoolError::NotFound(id),
            _ => SpoolError::io(&dir)(e),
        })?;
        let queue = self.root.join("queue");
        durable::sync_dir(&queue).map_err(SpoolError::io(&queue))?;
        std::fs::remove_dir_all(&trash).map_err(SpoolError::io(&trash))
    }

    /// Makes an entry due now (any state; a delivered one is sent again).
    pub fn retry(&self, id: Id) -> Result<Status, SpoolError> {
        let mut status = self.status(id)?;
        status.state = State::Queued;
        status.next_try = None;
        status.done = None;
        self.set_status(id, &status)?;
        Ok(status)
    }

    /// Every entry, oldest first; damaged ones are logged and left out.
    pub fn list(&self) -> Result<Vec<Summary>, SpoolError> {
        let mut out = Vec::new();
        for id in self.ids()? {
            match self.load(id) {
                Ok((stored, status)) => out.push(Summary::new(id, &stored, &status)),
                // Removed between the listing and the read.
                Err(SpoolError::NotFound(_)) => {}
                Err(e) => tracing::warn!("spool: {e}"),
            }
        }
        Ok(out)
    }

    pub fn counts(&self) -> Result<Counts, SpoolError> {
        let mut counts = Counts::default();
        for id in self.ids()? {
            let Ok(status) = self.status(id) else {
                continue;
            };
            *match status.state {
                State::Queued => &mut counts.queued,
                State::Deferred => &mut counts.deferred,
                State::Delivered => &mut counts.delivered,
                State::Failed => &mut counts.failed,
            } += 1;
        }
        Ok(counts)
    }

    /// Removes delivered entries kept longer than `retention` (the seed's clean-up job).
    pub fn expire(&self, retention: Duration, now: UnixTime) -> Result<usize, SpoolError> {
        let mut removed = 0;
        for id in self.ids()? {
            let Ok(status) = self.status(id) else {
                continue;
            };
            let old = status.done.is_some_and(|d| now.since(d) >= retention);
            if status.state == State::Delivered && old {
                self.remove(id)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Tells a running daemon that another process changed entries (`zentrale mail retry`).
    pub fn kick(&self) -> Result<(), SpoolError> {
        let path = self.kick_path();
        std::fs::write(&path, b"").map_err(SpoolError::io(&path))
    }

    /// Whether [`Spool::kick`] was called since the last look.
    pub fn take_kick(&self) -> bool {
        std::fs::remove_file(self.kick_path()).is_ok()
    }

    fn kick_path(&self) -> PathBuf {
        self.root.join("kick")
    }
}
