//! Where a message came from and how to answer it (RFC 3261 §18.2.2, RFC 3581).

use std::net::SocketAddr;

use crate::sip::Request;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    /// A TCP connection, by the driver's number for it.
    Tcp(u64),
}

impl Transport {
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp(_))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp(_) => "tcp",
        }
    }
}

/// The other side of a message, and our address it reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    /// The source address (after any NAT on the way).
    pub addr: SocketAddr,
    /// Our address the message arrived at; answers leave from it.
    pub local: SocketAddr,
}

impl Peer {
    /// Records where the request really came from in its top Via (RFC 3261 §18.2.1: `received`
    /// when the sent-by host differs; RFC 3581 §4: `rport` filled in when the client asked), so
    /// the response goes back through the phone's NAT.
    pub fn stamp_via(&self, request: &mut Request) {
        let Some(via) = request.head.via.first_mut() else {
            return;
        };
        let asked_rport = via.rport().is_some();
        let host_differs = via.host.trim_matches(['[', ']']) != self.addr.ip().to_string();
        if asked_rport || host_differs {
            via.set_received(self.addr.ip(), self.addr.port());
        }
    }
}
