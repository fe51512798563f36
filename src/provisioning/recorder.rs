//! Records which phone fetched what, when and from where, in batches: a provisioning storm
//! must not become a storm of fsyncs. Records are best effort; a full queue drops them.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::clock::UnixTime;
use crate::store::Store;
use crate::store::provisioning::Fetch;

const QUEUE: usize = 10_000;
/// How long records gather before they are written together.
const BATCH: Duration = Duration::from_millis(500);

#[derive(Debug)]
enum Msg {
    Fetch(Fetch),
    Flush(oneshot::Sender<()>),
}

/// A phone asking again from the same address within this many seconds is not recorded again.
const SAME_FETCH: std::time::Duration = std::time::Duration::from_secs(2);

/// What tells one fetch from the next: the device, where from, when, which generation.
#[derive(Debug, Clone, Copy)]
pub struct FetchKey {
    pub id: i64,
    pub ip: std::net::IpAddr,
    pub at: UnixTime,
    pub generation: u64,
}

/// The last recorded fetch of a device.
#[derive(Debug)]
struct Seen {
    at: UnixTime,
    ip: std::net::IpAddr,
    generation: u64,
}

#[derive(Debug)]
pub struct Recorder {
    tx: mpsc::Sender<Msg>,
    /// Device → when and from where it was last recorded (the hot path's cheap filter).
    recent: std::sync::RwLock<HashMap<i64, Seen>>,
}

impl Recorder {
    /// Starts the writer task (needs a Tokio runtime).
    pub fn start(store: Store) -> Recorder {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx));
        Recorder {
            tx,
            recent: Default::default(),
        }
    }

    /// Records a fetch, unless the same device fetched the same generation from the same
    /// address just now. A fetch of a newer generation is always recorded: it may clear a
    /// resync mark.
    pub fn record(&self, key: FetchKey, fetch: impl FnOnce() -> Fetch) {
        let seen = |recent: &HashMap<i64, Seen>| {
            matches!(recent.get(&key.id), Some(s) if s.ip == key.ip
                && s.generation == key.generation
                && key.at.since(s.at) < SAME_FETCH)
        };
        if seen(&self.recent.read().unwrap_or_else(|e| e.into_inner())) {
            return;
        }
        {
            let mut recent = self.recent.write().unwrap_or_else(|e| e.into_inner());
            if seen(&recent) {
                return;
            }
            if recent.len() > 100_000 {
                recent.clear();
            }
            let seen = Seen {
                at: key.at,
                ip: key.ip,
                generation: key.generation,
            };
            recent.insert(key.id, seen);
        }
        if self.tx.try_send(Msg::Fetch(fetch())).is_err() {
            tracing::debug!("provisioning: fetch record dropped (queue full)");
        }
    }

    /// Waits until everything recorded so far is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Msg>) {
    let mut pending: HashMap<i64, Fetch> = HashMap::new();
    while let Some(msg) = rx.recv().await {
        let mut waiters = Vec::new();
        take(msg, &mut pending, &mut waiters);
        let deadline = tokio::time::Instant::now() + BATCH;
        while waiters.is_empty() {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(msg)) => take(msg, &mut pending, &mut waiters),
                _ => break,
            }
        }
        if !pending.is_empty() {
            let batch: Vec<Fetch> = pending.drain().map(|(_, f)| f).collect();
            if let Err(e) = store.record_fetches(&batch).await {
                tracing::warn!("provisioning: recording {} fetches: {e}", batch.len());
            }
        }
        for w in waiters {
            let _ = w.send(());
        }
    }
}

fn take(msg: Msg, pending: &mut HashMap<i64, Fetch>, waiters: &mut Vec<oneshot::Sender<()>>) {
    match msg {
        Msg::Fetch(f) => {
            pending.insert(f.device_id, f);
        }
        Msg::Flush(w) => waiters.push(w),
    }
}
