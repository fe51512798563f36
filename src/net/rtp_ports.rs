//! The sockets of `[sip] rtp_ports`, shared by everything that answers calls (voicemail, fax):
//! one pool, so two services never hand out the same port, and a lease that gives its port back
//! when the call drops it. (Here, not in `media`: that module is sans-IO, and the fuzz targets
//! build it on its own.)

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::net::UdpSocket;

use crate::media::PortPool;

/// Ports of the pool tried for one call before it is refused: another program (or another
/// zentrale on a test machine) may hold some ports of the range. A port that will not bind
/// goes back to the end of the pool, to be tried again much later.
const BIND_TRIES: usize = 64;

/// The pool of `[sip] rtp_ports`; clones share it.
#[derive(Debug, Clone)]
pub struct RtpPorts {
    pool: Arc<Mutex<PortPool>>,
}

/// A socket bound to a port of the pool; the port goes back when this is dropped. The socket
/// is tokio's (read on readiness) or, from [`RtpPorts::bind_std`], a non-blocking std one.
#[derive(Debug)]
pub struct PortLease<S = UdpSocket> {
    pub socket: S,
    pub port: u16,
    pool: Arc<Mutex<PortPool>>,
}

impl RtpPorts {
    /// The even ports of `first..last` (RTP on the even one, RTCP on the odd one above it, RFC
    /// 3550 §11), as [`PortPool::new`] counts them.
    pub fn new((first, last): (u16, u16)) -> RtpPorts {
        RtpPorts {
            pool: Arc::new(Mutex::new(PortPool::new(first, last))),
        }
    }

    /// A socket on a free even port of the pool at `ip`; None when none is free or binds.
    pub async fn bind(&self, ip: IpAddr) -> Option<PortLease> {
        self.bind_with(ip, UdpSocket::from_std)
    }

    /// The same with a non-blocking std socket that tokio's reactor does not watch: for a
    /// driver that reads its socket on a timer, so a datagram's arrival wakes no thread (at
    /// 50 packets a second per call, those wakes were most of what 1,000 recordings cost).
    pub fn bind_std(&self, ip: IpAddr) -> Option<PortLease<std::net::UdpSocket>> {
        self.bind_with(ip, Ok)
    }

    fn bind_with<S>(
        &self,
        ip: IpAddr,
        wrap: impl Fn(std::net::UdpSocket) -> std::io::Result<S>,
    ) -> Option<PortLease<S>> {
        for _ in 0..BIND_TRIES {
            let port = self.pool.lock().ok()?.allocate()?;
            let bound = std::net::UdpSocket::bind((ip, port))
                .and_then(|s| s.set_nonblocking(true).map(|()| s))
                .and_then(&wrap);
            match bound {
                Ok(socket) => {
                    let pool = self.pool.clone();
                    return Some(PortLease { socket, port, pool });
                }
                Err(e) => {
                    tracing::debug!("rtp: port {port}: {e}");
                    release(&self.pool, port);
                }
            }
        }
        None
    }
}

impl<S> Drop for PortLease<S> {
    fn drop(&mut self) {
        release(&self.pool, self.port);
    }
}

fn release(pool: &Mutex<PortPool>, port: u16) {
    if let Ok(mut pool) = pool.lock() {
        pool.release(port);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[tokio::test]
    async fn a_dropped_lease_gives_its_port_back_and_clones_share_the_pool() {
        let probe = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("a port");
        let base = probe.local_addr().expect("its address").port() & !1;
        drop(probe);
        let ports = RtpPorts::new((base, base + 2));
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let lease = ports.bind(ip).await.expect("one port");
        assert_eq!(lease.port, base);
        assert!(
            ports.clone().bind(ip).await.is_none(),
            "the only port is leased"
        );
        drop(lease);
        assert_eq!(ports.bind(ip).await.map(|l| l.port), Some(base));
    }
}
