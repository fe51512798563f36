//! The composition root: open the store, bind every socket, serve, and drain on SIGTERM.
//!
//! Order matters: the config is checked before anything binds; systemd hears READY only after
//! every socket is bound and the database is migrated; on SIGTERM new connections stop at once
//! and running requests get `server.shutdown_grace_secs` to finish. The long-running parts are
//! the typed [`Services`], all started, supervised and drained the same way.

mod follower;
mod services;
mod watchdog;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

pub use follower::ChangeFollower;
pub use services::{ServiceError, Services};
pub use watchdog::Watchdog;

use crate::config::Config;
use crate::endpoint::EndpointConfig;
use crate::endpoint::driver::{Bans, SipServer};
use crate::net::{self, http::HttpLimits, http::HttpServer};
use crate::provisioning::firmware::FirmwareDir;
use crate::provisioning::{self, Provisioning, Transport, Urls};
use crate::store::{Store, StoreOptions};
use crate::tftp::TftpServer;

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
    let voicemail =
        crate::voicemail::Mailboxes::open(&config.server.data_dir, store.clone(), mail.clone())
            .await
            .context("voicemail")?;
    let fax = crate::fax::FaxInbox::open(&config.server.data_dir, store.clone(), mail.clone())
        .await
        .context("fax")?;
    let prompts = crate::voicemail::Prompts::load(&config.server.data_dir).context("prompts")?;
    let rtp_ports = crate::media::RtpPorts::new(config.sip.rtp_ports);
    let answerer = Arc::new(crate::endpoint::driver::local::ByApp {
        voicemail: Arc::new(crate::voicemail::VoicemailService::new(
            store.clone(),
            voicemail.clone(),
            prompts,
            config.voicemail.clone(),
            rtp_ports.clone(),
        )),
        fax: Arc::new(crate::fax::FaxService::new(
            store.clone(),
            fax.clone(),
            config.fax.clone(),
            rtp_ports,
        )),
    });
    let http = net::bind_tcp(config.http.listen, "HTTP").await?;
    let tftp = net::Udp::bind(config.tftp.listen, "TFTP").await?;
    let (sip_udp, sip_tcp) = bind_sip(&config).await?;
    let https = match config.http.https_listen {
        Some(addr) => Some((net::bind_tcp(addr, "HTTPS").await?, tls_config(&config)?)),
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
    let (prov, fetch_records) = Provisioning::new(&config, store.clone(), urls)?;
    let guard = crate::phone_menu::Guard::new(&config.menu);
    let menu = crate::phone_menu::PhoneMenu::new(&config, store.clone(), guard.clone());
    let presence = crate::registrar::presence::Presence::default();
    let admin = crate::admin::AdminParts {
        presence: presence.clone(),
        store: store.clone(),
        firmware: firmware.clone(),
        guard,
        fetches: prov.fetch_log(),
        max_body_bytes: config.http.max_body_bytes,
    };
    let router = |transport| {
        crate::admin::router(admin.clone())
            .layer(axum::Extension(mail.clone()))
            .layer(axum::Extension(voicemail.clone()))
            .layer(axum::Extension(fax.clone()))
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
    let timeout = Duration::from_secs(config.http.header_read_timeout_secs);
    let limits = HttpLimits {
        header_read_timeout: timeout,
        handshake_timeout: timeout,
    };
    let server = |listener, tls, transport, proto| HttpServer {
        acceptor: net::Acceptor::new(listener, config.http.max_connections, proto),
        tls,
        router: router(transport),
        limits,
    };
    net::listening("TFTP", tftp.local_addr()?);
    net::listening("SIP/UDP", sip_udp.local_addr()?);
    net::listening("SIP/TCP", sip_tcp.local_addr()?);
    let https = https.map(|(listener, tls)| server(listener, Some(tls), Transport::Https, "HTTPS"));
    if let Some(addr) = https_addr {
        net::listening("HTTPS", addr);
    }
    let services = Services {
        http: server(http, None, Transport::Http, "HTTP"),
        https,
        tftp: TftpServer {
            socket: tftp,
            files: provisioning::TftpRoot::new(prov.clone(), firmware.clone()),
            limits: config.tftp.limits,
        },
        fetch_records,
        sip: sip_server(&config, (sip_udp, sip_tcp), store.clone(), presence, &prov)
            .answered_by(answerer, &config.voicemail),
        changes: ChangeFollower {
            store: store.clone(),
        },
        watchdog: Watchdog {
            store: store.clone(),
        },
        mail: mail.service(&config),
        voicemail: voicemail.service(),
        fax: fax.service(),
    };
    // Last: tests and scripts take this line as "everything is bound".
    net::listening("HTTP", http_addr);
    notify(&[sd_notify::NotifyState::Ready]);
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let result = services.run(shutdown, grace).await;
    store.close().await;
    tracing::info!("stopped");
    Ok(result?)
}

/// SIP/UDP and SIP/TCP on the same address. With port 0 (tests), TCP takes the port UDP got;
/// if another process holds that port for TCP, both try again on a new one.
async fn bind_sip(config: &Config) -> anyhow::Result<(net::Udp, tokio::net::TcpListener)> {
    let listen = config.sip.listen;
    let mut attempts = if listen.port() == 0 { 20 } else { 1 };
    loop {
        let udp = net::Udp::bind(listen, "SIP/UDP").await?;
        let tcp_addr = std::net::SocketAddr::new(listen.ip(), udp.local_addr()?.port());
        match net::bind_tcp(tcp_addr, "SIP/TCP").await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) if attempts > 1 => {
                tracing::debug!("{e}; trying another port");
                attempts -= 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn sip_server(
    config: &Config,
    (udp, tcp): (net::Udp, tokio::net::TcpListener),
    store: Store,
    presence: crate::registrar::presence::Presence,
    prov: &Provisioning,
) -> SipServer {
    let notify_events = crate::store::Vendor::ALL
        .iter()
        .map(|v| (*v, prov.catalog().get(*v).notify_event.clone()))
        .collect();
    let sip = &config.sip;
    SipServer {
        udp,
        tcp: net::Acceptor::new(tcp, sip.max_connections, "SIP/TCP"),
        store,
        config: EndpointConfig {
            domain: sip.domain.clone(),
            timers: sip.timers,
            limits: crate::sip::SipLimits::default(),
            registrar: sip.registrar,
            max_transactions: sip.max_transactions,
            nonce_secs: sip.nonce_secs,
            algorithms: sip.digest_algorithms.clone(),
            trunks: sip.trunks.clone(),
            dispatch: config.calls.dispatch(),
        },
        bans: Bans {
            failures: sip.auth_failures,
            window: Duration::from_secs(sip.auth_window_secs),
            ban: Duration::from_secs(sip.ban_secs),
            flood: crate::endpoint::flood::FloodLimits {
                rate: sip.flood_rate,
                burst: sip.flood_burst,
                // ban_secs = 0 (no ban) must not log every shed packet.
                report_every: Duration::from_secs(sip.ban_secs.max(1)),
            },
        },
        presence,
        notify_events,
        calls: config.calls.clone(),
        answerer: None,
        mailbox_code: None,
    }
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

pub(crate) fn notify(state: &[sd_notify::NotifyState]) {
    if let Err(e) = sd_notify::notify(false, state) {
        tracing::debug!("sd_notify: {e}");
    }
}
