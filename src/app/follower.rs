//! Reads the store's change log as soon as this process commits and every second besides, so
//! what other processes commit (the CLI beside the daemon) reaches the phones too; prunes old
//! log rows now and then.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::{Store, StoreError};

/// How soon a change another process commits is noticed.
const EVERY: Duration = Duration::from_secs(1);
/// How often old change-log rows are pruned.
const PRUNE_EVERY: u32 = 3600;

#[derive(Debug)]
pub struct ChangeFollower {
    pub store: Store,
}

impl ChangeFollower {
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), StoreError> {
        let mut rounds = 0u32;
        loop {
            if let Err(e) = self.store.catch_up().await {
                tracing::warn!("store: cannot read the change log: {e}");
            }
            rounds = rounds.wrapping_add(1);
            if rounds.is_multiple_of(PRUNE_EVERY)
                && let Err(e) = self.store.prune_changes().await
            {
                tracing::warn!("store: cannot prune the change log: {e}");
            }
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = self.store.committed() => {}
                () = tokio::time::sleep(EVERY) => {}
            }
        }
    }
}
