//! The store's change feed: `(entity, id, generation)` for every committed change to the tables
//! that phone configs, the menu, call routing and the registrar depend on.
//!
//! Triggers append each change to `change_log` inside the writing transaction (so a rolled-back
//! change never appears, and a change another process commits appears the same way as ours).
//! The log's `seq` is the store generation. This process reads the log right after its own
//! commits (the write connection's update hook marks it dirty; releasing the connection
//! counts a local commit) and, for other processes' commits, whenever [`Store::catch_up`] runs
//! (the daemon's follower service, every second).
//!
//! Consumers keep their own cursor: [`Store::changes_since`] gives what came after it, or
//! [`Since::Lagged`] when the in-memory window no longer reaches back that far (reload all).
//! High-rate runtime state (fetch records, resync marks, registrations) is never logged.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::watch;

use super::{Result, Store};

/// Changes kept in memory for consumers that are behind.
const WINDOW: usize = 16_384;
/// Rows read from the log at a time.
const PAGE: i64 = 4_096;
/// Rows kept in `change_log` when it is pruned (a consumer further behind reloads everything).
const KEEP_ROWS: i64 = 100_000;

/// What changed. The id is the entity's own row id (a user's for its forwardings, actions,
/// voicemail box and fax device; a device's for its FollowMe).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Entity {
    User,
    Device,
    Workplace,
    /// A global phonebook entry.
    Phonebook,
    /// A firmware choice (id: the row id, of no use beyond "some model's choice changed").
    Firmware,
    FollowMe,
    Forwarding,
    Action,
    ActionTemplate,
    SpeedDial,
    Voicemail,
    Fax,
    /// A voicemail box's message counts (MWI; no config depends on them).
    Mailbox,
    /// A team or its members (id: the team's).
    Team,
}

impl Entity {
    fn parse(name: &str) -> Option<Entity> {
        Some(match name {
            "user" => Entity::User,
            "device" => Entity::Device,
            "workplace" => Entity::Workplace,
            "phonebook" => Entity::Phonebook,
            "firmware" => Entity::Firmware,
            "followme" => Entity::FollowMe,
            "forwarding" => Entity::Forwarding,
            "action" => Entity::Action,
            "action_template" => Entity::ActionTemplate,
            "speed_dial" => Entity::SpeedDial,
            "voicemail" => Entity::Voicemail,
            "fax" => Entity::Fax,
            "mailbox" => Entity::Mailbox,
            "team" => Entity::Team,
            _ => return None,
        })
    }
}

/// One committed change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Change {
    pub entity: Entity,
    pub id: i64,
    /// The store generation this change made.
    pub generation: u64,
}

/// The answer to [`Store::changes_since`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Since {
    /// Every change after the cursor, oldest first (maybe none).
    Changes(Vec<Change>),
    /// The cursor is older than the window: reload everything.
    Lagged,
}

/// The recent changes, and the generation below which they are no longer complete.
#[derive(Debug, Default)]
struct Window {
    changes: VecDeque<Change>,
    /// Every change after this generation is in `changes`.
    floor: u64,
}

#[derive(Debug)]
pub(super) struct Feed {
    /// The last generation read from the log.
    generation: AtomicU64,
    /// Set by the update hook when the write connection touched a logged table.
    dirty: AtomicBool,
    /// Commits of this process that touched a logged table, and how many the last read saw.
    local: AtomicU64,
    local_read: AtomicU64,
    window: Mutex<Window>,
    /// One reader of the log at a time.
    reading: tokio::sync::Mutex<()>,
    notify: watch::Sender<u64>,
    /// Woken when this process commits a change, so the log is read at once.
    committed: tokio::sync::Notify,
}

impl Feed {
    pub(super) fn new(generation: u64) -> Feed {
        Feed {
            generation: AtomicU64::new(generation),
            dirty: AtomicBool::new(false),
            local: AtomicU64::new(0),
            local_read: AtomicU64::new(0),
            window: Mutex::new(Window {
                changes: VecDeque::new(),
                floor: generation,
            }),
            reading: tokio::sync::Mutex::new(()),
            notify: watch::Sender::new(generation),
            committed: tokio::sync::Notify::new(),
        }
    }

    /// The update hook saw a change to `table` on the write connection. Every logged change
    /// inserts into `change_log` (by trigger, which the hook sees too); runtime tables (fetch
    /// records, resync marks, SIP bindings) and pruning the log do not count.
    pub(super) fn touched(&self, table: &str, insert: bool) {
        if table == "change_log" && insert {
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// A transaction is being rolled back: what it touched did not change.
    pub(super) fn forget_uncommitted(&self) {
        self.dirty.store(false, Ordering::Release);
    }

    /// The write connection went back to the pool: what it touched is committed.
    pub(super) fn released(&self) {
        if self.dirty.swap(false, Ordering::AcqRel) {
            self.local.fetch_add(1, Ordering::AcqRel);
            self.committed.notify_one();
        }
    }

    /// This process wrote to the log and the log has not been read since. The pool marks the
    /// commit when the connection comes back, which sqlx does in a task of its own, so a write
    /// that just returned may still only show as `dirty`.
    fn local_pending(&self) -> bool {
        self.dirty.load(Ordering::Acquire)
            || self.local.load(Ordering::Acquire) != self.local_read.load(Ordering::Acquire)
    }

    fn window(&self) -> std::sync::MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn publish(&self, rows: Vec<(i64, String, i64)>) {
        let Some(&(last, _, _)) = rows.last() else {
            return;
        };
        let mut window = self.window();
        for (seq, entity, id) in rows {
            let Some(entity) = Entity::parse(&entity) else {
                tracing::warn!("store: change log names an unknown entity {entity:?}");
                continue;
            };
            if window.changes.len() == WINDOW
                && let Some(old) = window.changes.pop_front()
            {
                window.floor = old.generation;
            }
            let generation = seq as u64;
            window.changes.push_back(Change {
                entity,
                id,
                generation,
            });
        }
        self.generation.store(last as u64, Ordering::Release);
        drop(window);
        self.notify.send_replace(last as u64);
    }

    fn since(&self, after: u64) -> Since {
        let window = self.window();
        let current = self.generation.load(Ordering::Acquire);
        if after >= current {
            return Since::Changes(Vec::new());
        }
        if after < window.floor {
            return Since::Lagged;
        }
        let from = window.changes.partition_point(|c| c.generation <= after);
        Since::Changes(window.changes.range(from..).copied().collect())
    }
}

/// The highest generation the log ever had (it survives pruning in `sqlite_sequence`).
pub(super) async fn last_generation(pool: &sqlx::SqlitePool) -> Result<u64> {
    generation_in(&mut *pool.acquire().await?).await
}

/// The generation as seen inside a transaction, including its own uncommitted changes.
pub(super) async fn generation_in(conn: &mut sqlx::SqliteConnection) -> Result<u64> {
    let (seq,): (i64,) = sqlx::query_as(
        "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'change_log'), 0)",
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(seq.max(0) as u64)
}

impl Store {
    /// The store generation: the last change this process has read from the log.
    pub fn generation(&self) -> u64 {
        self.changes.generation.load(Ordering::Acquire)
    }

    /// Whether this process committed changes the log has not been read for yet.
    pub fn has_unread_commits(&self) -> bool {
        self.changes.local_pending()
    }

    /// Resolves when this process commits a change (the follower then reads the log).
    pub async fn committed(&self) {
        self.changes.committed.notified().await;
    }

    /// Wakes on every new generation (for services that react to changes).
    pub fn watch_changes(&self) -> watch::Receiver<u64> {
        self.changes.notify.subscribe()
    }

    /// Every change after generation `after`. Reads the log first if this process committed
    /// since the last read, so a caller sees its own writes at once.
    pub async fn changes_since(&self, after: u64) -> Result<Since> {
        if self.changes.local_pending() {
            self.catch_up().await?;
        }
        if after >= self.generation() {
            // The hot path: nothing new, no lock taken.
            return Ok(Since::Changes(Vec::new()));
        }
        Ok(self.changes.since(after))
    }

    /// Reads what was committed to the log since the last read, by any process, and publishes
    /// it. Returns how many changes it read.
    pub async fn catch_up(&self) -> Result<usize> {
        let _one = self.changes.reading.lock().await;
        // Commits counted before this read are covered by it.
        let local = self.changes.local.load(Ordering::Acquire);
        let mut read = 0;
        loop {
            let after = self.generation() as i64;
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                "SELECT seq, entity, entity_id FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
            )
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.read)
            .await?;
            let n = rows.len();
            read += n;
            self.changes.publish(rows);
            if (n as i64) < PAGE {
                break;
            }
        }
        self.changes.local_read.store(local, Ordering::Release);
        Ok(read)
    }

    /// Drops log rows far behind the newest (consumers that far behind reload everything).
    pub async fn prune_changes(&self) -> Result<u64> {
        let done = sqlx::query("DELETE FROM change_log WHERE seq <= $1")
            .bind(self.generation() as i64 - KEEP_ROWS)
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }
}

#[cfg(test)]
#[path = "changes_tests.rs"]
mod tests;
