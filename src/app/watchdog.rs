//! Pets the systemd watchdog while the database answers; a hung store gets us restarted.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

#[derive(Debug)]
pub struct Watchdog {
    pub store: Store,
}

impl Watchdog {
    /// Returns at once when systemd asked for no watchdog.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), std::convert::Infallible> {
        let Some(interval) = interval() else {
            return Ok(());
        };
        let period = interval / 2;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return Ok(()),
                () = tokio::time::sleep(period) => {}
            }
            match tokio::time::timeout(period, self.store.ping()).await {
                Ok(Ok(())) => super::notify(&[sd_notify::NotifyState::Watchdog]),
                _ => tracing::warn!("store did not answer; not petting the watchdog"),
            }
        }
    }
}

/// The watchdog interval systemd asked for, as libsystemd's `sd_watchdog_enabled` reads it:
/// `WATCHDOG_USEC`, and `WATCHDOG_PID` only if set. (sd-notify's own check insists on the PID,
/// which a supervisor other than systemd may leave out.)
fn interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok()? != std::process::id()
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}
