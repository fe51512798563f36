//! The driver's half of trunks: their hosts resolved by a task of their own (at start and every
//! few minutes, so a provider's DNS change is followed, and a slow resolver never holds up
//! SIP), and the local address our requests to each leave from.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::sync::mpsc;

use super::Driver;
use crate::clock::now;

/// How often trunk hosts are resolved again.
const RESOLVE_EVERY: Duration = Duration::from_secs(300);

/// A trunk's index and the addresses its host resolved to.
pub(super) type Resolved = (usize, Vec<SocketAddr>);

/// Resolves `hosts` (index, host, port) now and every [`RESOLVE_EVERY`], until the receiver
/// goes; a host that does not resolve keeps what it had (and is logged).
pub(super) async fn resolve(hosts: Vec<(usize, String, u16)>, tx: mpsc::Sender<Resolved>) {
    let mut every = tokio::time::interval(RESOLVE_EVERY);
    loop {
        every.tick().await;
        for (index, host, port) in &hosts {
            match tokio::net::lookup_host((host.as_str(), *port)).await {
                Ok(addrs) => {
                    let addrs: Vec<SocketAddr> = addrs.collect();
                    if !addrs.is_empty() && tx.send((*index, addrs)).await.is_err() {
                        return;
                    }
                }
                Err(e) => tracing::warn!("sip: resolving trunk host {host}: {e}"),
            }
        }
    }
}

impl Driver {
    /// Trunk `index` is at `addrs` now.
    pub(super) fn trunk_resolved(&mut self, (index, addrs): Resolved) {
        let Some(first) = addrs.first() else {
            return;
        };
        let local = SocketAddr::new(self.source_ip(*first), self.udp_local.port());
        self.endpoint
            .handle_trunk_resolved(index, addrs, local, now());
        self.publish_trunks();
    }

    /// Shows every trunk's state in the admin API.
    pub(super) fn publish_trunks(&self) {
        let states = self
            .endpoint
            .trunk_states(now(), crate::clock::UnixTime::now());
        self.presence.set_trunks(states);
    }

    /// The address our datagrams to `to` leave from: the bound one, or (bound to every
    /// address) the one the kernel routes `to` through.
    fn source_ip(&self, to: SocketAddr) -> IpAddr {
        let bound = self.udp_local.ip();
        if !bound.is_unspecified() {
            return bound;
        }
        let any: SocketAddr = match to {
            SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, 0).into(),
            SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
        };
        std::net::UdpSocket::bind(any)
            .and_then(|s| s.connect(to).and_then(|()| s.local_addr()))
            .map_or(bound, |a| a.ip())
    }
}
