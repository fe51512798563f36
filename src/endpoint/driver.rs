//! The SIP driver: the only place where the [`Endpoint`] meets sockets, the clock and the
//! store. UDP and TCP listen on the same address; each TCP connection has a task that frames
//! its stream and hands messages to the one endpoint task, which owns the core.
//!
//! At start it reads every SIP account and the stored bindings; it follows the store's change
//! feed to keep the accounts current (a device deleted, unassigned or disabled loses its
//! bindings at once) and writes binding changes behind through [`BindingWriter`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::tcp::{self, ConnMsg};
use super::writer::BindingWriter;
use super::{Endpoint, EndpointConfig, EndpointEvent, Peer, Transport};
use crate::clock::{UnixTime, now};
use crate::net::{Acceptor, Udp};
use crate::provisioning::limiter::{Hit, Limiter};
use crate::registrar::presence::Presence;
use crate::registrar::register::Accounts;
use crate::store::{Store, StoreError};

/// The largest datagram read (a UDP payload cannot be larger).
const MAX_DATAGRAM: usize = 65_535;
/// Binding expiry is checked at least this often.
const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    #[error("SIP/UDP socket: {0}")]
    Udp(std::io::Error),
    #[error("loading SIP accounts and bindings: {0}")]
    Store(#[from] StoreError),
}

/// Failed attempts per source before it is ignored for a while.
#[derive(Debug, Clone, Copy)]
pub struct Bans {
    pub failures: u32,
    pub window: Duration,
    pub ban: Duration,
}

/// The SIP service.
#[derive(Debug)]
pub struct SipServer {
    pub udp: Udp,
    pub tcp: Acceptor,
    pub store: Store,
    pub config: EndpointConfig,
    pub bans: Bans,
    /// Where the admin API reads phone status.
    pub presence: Presence,
}

struct Driver {
    endpoint: Endpoint,
    udp: Udp,
    udp_local: SocketAddr,
    store: Store,
    conns: HashMap<u64, mpsc::Sender<Bytes>>,
    limiter: Limiter,
    writes: mpsc::UnboundedSender<crate::registrar::Write>,
    seen_generation: u64,
    presence: Presence,
}

impl SipServer {
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), EndpointError> {
        let seen_generation = self.store.generation();
        let accounts = Accounts::new(self.store.sip_account_list().await?);
        let mut endpoint = Endpoint::new(self.config, accounts);
        let stored = self.store.load_bindings(UnixTime::now()).await?;
        endpoint
            .registrar_mut()
            .load(stored.into_iter().map(super::writer::from_stored));
        let (writes, writer) = BindingWriter::new(self.store.clone());
        let writer = tokio::spawn(writer.run());
        let (conn_tx, mut conn_rx) = mpsc::channel(4096);
        let stop = shutdown.clone();
        let acceptor = tokio::spawn(tcp::accept(self.tcp, conn_tx, stop));
        let mut d = Driver {
            endpoint,
            udp_local: self.udp.local_addr().map_err(EndpointError::Udp)?,
            udp: self.udp,
            store: self.store.clone(),
            conns: HashMap::new(),
            limiter: Limiter::new(self.bans.failures, self.bans.window, self.bans.ban),
            writes,
            seen_generation,
            presence: self.presence,
        };
        let devices: Vec<i64> = d.endpoint.registrar().devices().collect();
        for device in devices {
            d.publish(device);
        }
        let mut changes = self.store.watch_changes();
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let result = loop {
            let deadline = d.deadline();
            tokio::select! {
                () = shutdown.cancelled() => break Ok(()),
                received = d.udp.recv(&mut buf) => match received {
                    Ok(dg) => {
                        let local = SocketAddr::new(dg.local.unwrap_or(d.udp_local.ip()), d.udp_local.port());
                        let peer = Peer { transport: Transport::Udp, addr: dg.from, local };
                        d.catch_up().await;
                        d.message(buf.get(..dg.len).unwrap_or_default(), peer);
                    }
                    Err(e) if transient(&e) => {}
                    Err(e) => break Err(EndpointError::Udp(e)),
                },
                Some(msg) = conn_rx.recv() => {
                    d.catch_up().await;
                    d.connection(msg);
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    d.endpoint.handle_timeout(now(), UnixTime::now());
                }
                Ok(()) = changes.changed() => d.follow_changes().await,
            }
            d.flush().await;
        };
        acceptor.abort();
        drop(d);
        // The writer ends when its channel closes: every change reaches the store.
        let _ = writer.await;
        result
    }
}

impl Driver {
    fn deadline(&self) -> crate::clock::Instant {
        let tick = now() + TICK;
        self.endpoint.poll_timeout().map_or(tick, |t| t.min(tick))
    }

    fn message(&mut self, bytes: &[u8], peer: Peer) {
        if crate::sip::is_keepalive(bytes) || self.limiter.is_banned(peer.addr.ip(), now()) {
            return;
        }
        self.endpoint
            .handle_message(bytes, peer, now(), UnixTime::now());
    }

    fn connection(&mut self, msg: ConnMsg) {
        match msg {
            ConnMsg::Opened { id, tx } => _ = self.conns.insert(id, tx),
            ConnMsg::Message { peer, bytes } => self.message(&bytes, peer),
            ConnMsg::Closed { id } => _ = self.conns.remove(&id),
        }
    }

    /// Sends what the endpoint produced and acts on its events.
    async fn flush(&mut self) {
        while let Some(t) = self.endpoint.poll_transmit() {
            match t.to.transport {
                Transport::Udp => {
                    let from = Some(t.to.local.ip());
                    if let Err(e) = self.udp.send(&t.bytes, t.to.addr, from).await {
                        tracing::debug!("sip: sending to {}: {e}", t.to.addr);
                    }
                }
                Transport::Tcp(id) => {
                    if let Some(tx) = self.conns.get(&id)
                        && tx.try_send(t.bytes).is_err()
                    {
                        tracing::debug!("sip: connection {id} is not taking more");
                    }
                }
            }
        }
        while let Some(event) = self.endpoint.poll_event() {
            match event {
                EndpointEvent::Denied { ip, reason } => self.deny(ip, reason),
                EndpointEvent::Bindings(writes) => {
                    for w in writes {
                        self.publish(w.device());
                        let _ = self.writes.send(w);
                    }
                }
            }
        }
    }

    /// Shows `device`'s bindings in the admin API.
    fn publish(&self, device: i64) {
        self.presence
            .set(device, self.endpoint.registrar().bindings(device));
    }

    /// Logs a refusal in the one format fail2ban reads, and counts it against the source.
    fn deny(&mut self, ip: std::net::IpAddr, reason: &str) {
        tracing::warn!("sip: denied {ip} {reason}");
        if self.limiter.hit(ip, now()) == Hit::Banned {
            let secs = self.limiter.ban().as_secs();
            tracing::warn!("sip: denied {ip} banned-for-{secs}s");
        }
    }

    /// Follows changes this process just committed (an account the API created a moment ago
    /// must register at once); a cheap check when there are none.
    async fn catch_up(&mut self) {
        if self.store.has_unread_commits() || self.store.generation() != self.seen_generation {
            self.follow_changes().await;
        }
    }

    /// Reloads the accounts when devices, users or workplaces changed; bindings of devices
    /// that may no longer register go at once.
    async fn follow_changes(&mut self) {
        use crate::store::changes::{Entity, Since};
        let relevant = match self.store.changes_since(self.seen_generation).await {
            Ok(Since::Changes(list)) => list
                .iter()
                .any(|c| matches!(c.entity, Entity::Device | Entity::User | Entity::Workplace)),
            Ok(Since::Lagged) => true,
            Err(e) => {
                tracing::warn!("sip: reading the change feed: {e}");
                return;
            }
        };
        self.seen_generation = self.store.generation();
        if !relevant {
            return;
        }
        let list = match self.store.sip_account_list().await {
            Ok(list) => list,
            Err(e) => return tracing::warn!("sip: reloading accounts: {e}"),
        };
        let accounts = Accounts::new(list);
        let registrar = self.endpoint.registrar();
        let gone: Vec<i64> = registrar
            .devices()
            .filter(|d| !accounts.allows(*d))
            .collect();
        *self.endpoint.accounts_mut() = accounts;
        for device in gone {
            tracing::info!("sip: device {device} may no longer register; its bindings are gone");
            self.endpoint.registrar_mut().remove_device(device);
        }
        self.endpoint.handle_timeout(now(), UnixTime::now());
    }
}

/// Errors a UDP socket reports for an earlier datagram (an ICMP unreachable), not for itself.
fn transient(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::ConnectionReset
    )
}
