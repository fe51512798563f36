//! Writes call records behind the SIP loop. A call's end is queued, never awaited there: the
//! insert commits with a sync to disk (~1.5 ms on the benchmark machine), and a store held by
//! another writer (a backup, an admin's sqlite3) waits up to its busy timeout, 10 s, during
//! which an awaiting loop answered no SIP at all. Records that pile up meanwhile are written
//! together, one commit for all.

use tokio::sync::mpsc;

use super::writer::{LAST_TRIES, RETRY_FIRST, RETRY_MAX};
use crate::store::{NewCall, Store, StoreError};

#[derive(Debug)]
pub struct CallRecorder {
    store: Store,
    rx: mpsc::UnboundedReceiver<NewCall>,
}

impl CallRecorder {
    pub fn new(store: Store) -> (mpsc::UnboundedSender<NewCall>, CallRecorder) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, CallRecorder { store, rx })
    }

    /// Runs until every sender is gone and what it got is written (or, with the store
    /// failing on the way out, given up on after [`LAST_TRIES`], logged). A failed write
    /// is tried again after [`RETRY_FIRST`], doubling up to [`RETRY_MAX`], as the binding
    /// writer does; the records stay queued meanwhile.
    pub async fn run(mut self) {
        let mut queue = Vec::new();
        let mut open = true;
        let mut failures = 0;
        loop {
            if queue.is_empty() {
                match self.rx.recv().await {
                    Some(call) => queue.push(call),
                    None => return,
                }
            }
            while open {
                match self.rx.try_recv() {
                    Ok(call) => queue.push(call),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            match self.write(&mut queue).await {
                Ok(()) => failures = 0,
                Err(e) => {
                    failures += 1;
                    let n = queue.len();
                    if !open && failures > LAST_TRIES {
                        tracing::error!("sip: {n} call records are lost: {e}");
                        return;
                    }
                    tracing::warn!("sip: recording {n} calls (will try again): {e}");
                    let delay = RETRY_FIRST.saturating_mul(1 << (failures - 1).min(5));
                    tokio::time::sleep(delay.min(RETRY_MAX)).await;
                }
            }
        }
    }

    /// All of `queue` in one commit, and out of it; when one is refused for its times (the
    /// recording side's bug), the others one by one and that one logged and dropped, as it
    /// can never be written. On a failure the rest stays queued.
    async fn write(&self, queue: &mut Vec<NewCall>) -> Result<(), StoreError> {
        match self.store.record_calls(queue).await {
            Err(StoreError::Invalid { .. }) => {}
            other => {
                if other.is_ok() {
                    queue.clear();
                }
                return other;
            }
        }
        while let Some(call) = queue.first() {
            match self.store.record_call(call).await {
                Ok(_) => {}
                Err(e @ StoreError::Invalid { .. }) => {
                    tracing::warn!("sip: a call record refused: {e}");
                }
                Err(e) => return Err(e),
            }
            queue.remove(0);
        }
        Ok(())
    }
}
