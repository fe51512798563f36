//! The composition root: open the store, bind every socket, serve, and drain on SIGTERM.
//!
//! Order matters: the config is checked before anything binds; systemd hears READY only after
//! every socket is bound and the database is migrated; on SIGTERM new connections stop at once
//! and running requests get `server.shutdown_grace_secs` to finish.

use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::store::{Store, StoreOptions};

/// Opens the store the config names, creating the data directory if needed.
pub async fn open_store(config: &Config) -> anyhow::Result<Store> {
    let dir = &config.server.data_dir;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("creating data directory {}", dir.display()))?;
    let options = StoreOptions {
        url: config.store_url(),
        default_language: config.server.language.clone(),
        enrollment_window_hours: config.provisioning.enrollment_window_hours,
    };
    Store::open(&options)
        .await
        .with_context(|| format!("opening the store at {}", options.url))
}

/// Runs the daemon until SIGTERM/SIGINT (or `shutdown` is cancelled).
pub async fn serve(config: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let http = TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("binding HTTP to {}", config.http.listen))?;
    tracing::info!("listening for HTTP on {}", http.local_addr()?);

    let router = crate::admin::router(store.clone(), config.http.max_body_bytes);
    let stop = shutdown.clone();
    let mut server = tokio::spawn(async move {
        axum::serve(http, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
    });

    notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = tokio::spawn(watchdog(store.clone(), shutdown.clone()));
    let server_done = tokio::select! {
        () = signals() => { tracing::info!("shutting down"); false }
        () = shutdown.cancelled() => false,
        done = &mut server => {
            // The server ended by itself: an error is a failure; Ok means it was told to stop.
            done.context("HTTP server task")?.context("HTTP server")?;
            true
        }
    };
    notify(&[sd_notify::NotifyState::Stopping]);
    shutdown.cancel();
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    // A finished JoinHandle must not be polled again.
    if !server_done && tokio::time::timeout(grace, &mut server).await.is_err() {
        tracing::warn!("requests still running after {grace:?}; closing them");
        server.abort();
    }
    watchdog.abort();
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn signals() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

/// Pets the systemd watchdog while the database answers; a hung store gets us restarted.
async fn watchdog(store: Store, shutdown: CancellationToken) {
    let Some(interval) = watchdog_interval() else {
        return;
    };
    let period = interval / 2;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(period) => {}
        }
        match tokio::time::timeout(period, store.ping()).await {
            Ok(Ok(())) => notify(&[sd_notify::NotifyState::Watchdog]),
            _ => tracing::warn!("store did not answer; not petting the watchdog"),
        }
    }
}

/// The watchdog interval systemd asked for, as libsystemd's `sd_watchdog_enabled` reads it:
/// `WATCHDOG_USEC`, and `WATCHDOG_PID` only if set. (sd-notify's own check insists on the PID,
/// which a supervisor other than systemd may leave out.)
fn watchdog_interval() -> Option<Duration> {
    let usec: u64 = std::env::var("WATCHDOG_USEC").ok()?.parse().ok()?;
    if let Ok(pid) = std::env::var("WATCHDOG_PID") {
        if pid.parse::<u32>().ok()? != std::process::id() {
            return None;
        }
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

fn notify(state: &[sd_notify::NotifyState]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::debug!("sd_notify: {e}");
    }
}
