//! The composition root: open the store, bind every socket, serve, and drain on SIGTERM.
//!
//! Order matters: the config is checked before anything binds; systemd hears READY only after
//! every socket is bound and the database is migrated; on SIGTERM new connections stop at once
//! and running requests get `server.shutdown_grace_secs` to finish.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::provisioning::firmware::FirmwareDir;
use crate::provisioning::{self, Provisioning, Transport, Urls};
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
    let mail = crate::mail::MailHandle::open(&config).context("mail")?;
    let http = bind(config.http.listen, "HTTP").await?;
    let tftp = tokio::net::UdpSocket::bind(config.tftp.listen)
        .await
        .with_context(|| format!("binding TFTP to {}", config.tftp.listen))?;
    let https = match config.http.https_listen {
        Some(addr) => Some((bind(addr, "HTTPS").await?, tls_config(&config)?)),
        None => None,
    };
    let http_addr = http.local_addr()?;
    let https_addr = https.as_ref().map(|(l, _)| l.local_addr()).transpose()?;

    let https_port = https_addr.map(|a| a.port());
    let urls = Urls::new(&config.server.public_host, http_addr.port(), https_port);
    let firmware = FirmwareDir::new(
        config.server.data_dir.join("firmware"),
        config.provisioning.max_firmware_bytes,
    );
    let prov = Provisioning::new(&config, store.clone(), urls)?;
    let guard = crate::phone_menu::Guard::new(&config.menu);
    let menu = crate::phone_menu::PhoneMenu::new(&config, store.clone(), guard.clone());
    let router = |transport| {
        let admin =
            crate::admin::router(store.clone(), firmware.clone(), config.http.max_body_bytes);
        admin
            .layer(axum::Extension(guard.clone()))
            .layer(axum::Extension(mail.clone()))
            .merge(provisioning::http::router(
                prov.clone(),
                firmware.clone(),
                transport,
            ))
            .merge(crate::phone_menu::http::router(
                menu.clone(),
                transport == Transport::Https,
            ))
    };
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let mut tasks = tokio::task::JoinSet::new();
    tracing::info!("listening for TFTP on {}", tftp.local_addr()?);
    let root = provisioning::TftpRoot::new(prov.clone(), firmware.clone());
    let limits = crate::tftp::TftpLimits::default();
    let stop = shutdown.clone();
    tasks.spawn(async move {
        if let Err(e) = crate::tftp::serve(tftp, root, limits, stop).await {
            tracing::error!("tftp: {e}");
        }
    });
    if let Some((listener, tls)) = https {
        tracing::info!("listening for HTTPS on {}", listener.local_addr()?);
        let https_router = router(Transport::Https);
        tasks.spawn(crate::https::serve(
            listener,
            tls,
            https_router,
            shutdown.clone(),
            grace,
        ));
    }
    // Last: tests and scripts take this line as "everything is bound".
    tracing::info!("listening for HTTP on {http_addr}");
    let http_router = router(Transport::Http);
    let stop = shutdown.clone();
    let mut server = tokio::spawn(async move {
        axum::serve(
            http,
            http_router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move { stop.cancelled().await })
        .await
    });

    notify(&[sd_notify::NotifyState::Ready]);
    let watchdog = tokio::spawn(watchdog(store.clone(), shutdown.clone()));
    tasks.spawn(follow_other_writers(store.clone(), shutdown.clone()));
    let mail = mail.service(&config).run(shutdown.clone());
    tasks.spawn(async move { mail.await.unwrap_or_else(|e| tracing::error!("mail: {e}")) });
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
    // A finished JoinHandle must not be polled again.
    if !server_done && tokio::time::timeout(grace, &mut server).await.is_err() {
        tracing::warn!("requests still running after {grace:?}; closing them");
        server.abort();
    }
    watchdog.abort();
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    prov.flush().await;
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn bind(addr: SocketAddr, proto: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {proto} to {addr}"))
}

/// The TLS setup from the admin's certificate, or our self-signed one.
fn tls_config(config: &Config) -> anyhow::Result<std::sync::Arc<rustls::ServerConfig>> {
    let (cert, key) = crate::https::certificate_files(
        &config.http.tls_cert,
        &config.http.tls_key,
        &config.server.data_dir,
        &config.server.public_host,
    )?;
    Ok(crate::https::server_config(&cert, &key)?)
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

/// How soon a change the CLI (or any other process) commits reaches the phones.
const OTHER_WRITERS_EVERY: Duration = Duration::from_secs(1);

/// Polls for changes other processes commit, so configs are rendered again for them.
async fn follow_other_writers(store: Store, shutdown: CancellationToken) {
    loop {
        if let Err(e) = store.notice_other_writers().await {
            tracing::warn!("store: cannot read its change count: {e}");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(OTHER_WRITERS_EVERY) => {}
        }
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
    if let Ok(pid) = std::env::var("WATCHDOG_PID")
        && pid.parse::<u32>().ok()? != std::process::id()
    {
        return None;
    }
    (usec > 0).then(|| Duration::from_micros(usec))
}

fn notify(state: &[sd_notify::NotifyState]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::debug!("sd_notify: {e}");
    }
}
