//! Where zentrale meets the network, shared by every protocol driver: binding (and the one
//! `listening for <PROTO> on <addr>` line per socket), an accept loop that survives running out
//! of file descriptors and caps connections, HTTP(S) serving with header-read and handshake
//! timeouts, and UDP sockets that know the local address each datagram arrived on
//! (`IP_PKTINFO`), so a reply leaves from the address the phone sent to even when zentrale
//! listens on `0.0.0.0`.

mod accept;
mod arrival;
pub mod http;
mod rtp_ports;
pub mod udp;

use std::net::{IpAddr, SocketAddr};

pub use accept::Acceptor;
pub use arrival::{
    Arrived, recv as recv_arrival, stamp_arrivals, try_recv as try_recv_arrival,
    try_recv_std as try_recv_arrival_std,
};
pub use rtp_ports::{PortLease, RtpPorts};
pub use udp::{Datagram, Udp, receive_buffer};

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    #[error("binding {proto} to {addr}: {source}")]
    Bind {
        proto: &'static str,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("{proto}: {source}")]
    Io {
        proto: &'static str,
        source: std::io::Error,
    },
}

/// Binds a TCP listener for `proto`.
pub async fn bind_tcp(
    addr: SocketAddr,
    proto: &'static str,
) -> Result<tokio::net::TcpListener, NetError> {
    tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| NetError::Bind {
            proto,
            addr,
            source,
        })
}

/// Logs the line tests and scripts read to learn where `proto` listens.
pub fn listening(proto: &str, addr: SocketAddr) {
    tracing::info!("listening for {proto} on {addr}");
}

/// An IPv4 peer on a dual-stack socket arrives as `::ffff:a.b.c.d`; rules are written for a.b.c.d.
pub fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapped_ipv4_is_plain_ipv4() {
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            canonical_ip(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
        let v6: IpAddr = "2001:db8::1".parse().expect("ip");
        assert_eq!(canonical_ip(v6), v6);
    }
}
