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

/// Waits until every fetch recorded so far is written (the admin API, before it shows devices).
#[derive(Debug, Clone)]
pub struct FetchLog {
    tx: mpsc::Sender<Msg>,
}

impl FetchLog {
    pub async fn flush(&self) {
        flush(&self.tx).await;
    }
}

/// The service that writes the records: runs until shutdown, then writes what is queued.
#[derive(Debug)]
pub struct RecordWriter {
    store: Store,
    rx: mpsc::Receiver<Msg>,
}

impl Recorder {
    /// The recorder, and the writer service that must run for records to reach the store.
    pub fn new(store: Store) -> (Recorder, RecordWriter) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let recorder = Recorder {
            tx,
            recent: Default::default(),
        };
        (recorder, RecordWriter { store, rx })
    }

    pub fn fetch_log(&self) -> FetchLog {
        FetchLog {
            tx: self.tx.clone(),
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
}

/// Asks the writer to write what it holds, and waits for it (not at all if it has stopped).
async fn flush(tx: &mpsc::Sender<Msg>) {
    let (done, wait) = oneshot::channel();
    if tx.send(Msg::Flush(done)).await.is_ok() {
        let _ = wait.await;
    }
}

impl RecordWriter {
    /// Writes records in batches until `shutdown`; then writes what is still queued.
    pub async fn run(
        mut self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> Result<(), std::convert::Infallible> {
        let mut pending: HashMap<i64, Fetch> = HashMap::new();
        loop {
            let msg = tokio::select! {
                msg = self.rx.recv() => msg,
                () = shutdown.cancelled() => None,
            };
            let Some(msg) = msg else { break };
            let mut waiters = Vec::new();
            take(msg, &mut pending, &mut waiters);
            let batch = tokio::time::sleep(BATCH);
            tokio::pin!(batch);
            while waiters.is_empty() {
                tokio::select! {
                    Some(msg) = self.rx.recv() => take(msg, &mut pending, &mut waiters),
                    () = &mut batch => break,
                    () = shutdown.cancelled() => break,
                }
            }
            self.write(&mut pending).await;
            for w in waiters {
                let _ = w.send(());
            }
        }
        self.rx.close();
        let mut waiters = Vec::new();
        while let Ok(msg) = self.rx.try_recv() {
            take(msg, &mut pending, &mut waiters);
        }
        self.write(&mut pending).await;
        for w in waiters {
            let _ = w.send(());
        }
        Ok(())
    }

    async fn write(&self, pending: &mut HashMap<i64, Fetch>) {
        if pending.is_empty() {
            return;
        }
        let batch: Vec<Fetch> = pending.drain().map(|(_, f)| f).collect();
        if let Err(e) = self.store.record_fetches(&batch).await {
            tracing::warn!("provisioning: recording {} fetches: {e}", batch.len());
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
