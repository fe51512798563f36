//! Which source address media is accepted from (and sent to).
//!
//! The SDP names where the caller sends from. A caller behind NAT sends from another address
//! (its router's), so symmetric RTP (RFC 4961: send from where you receive) is learned: while
//! nothing has come from the negotiated address, a source that sends [`LEARN_PACKETS`]
//! consecutive packets (sequence numbers one apart, one SSRC) is latched, and media is sent back
//! to it. Once a source is latched — the negotiated one by its first packet — every other source
//! is dropped: RTP bleed (media injected by a stranger who guessed the port) cannot get into a
//! recording or take the stream over.
//!
//! Four is Asterisk's default (`strictrtp=yes` with `probation=4` in rtp.conf): a stranger's
//! single stray packets (a previous call's phone still sending to a reused port, a port scan)
//! never qualify, while a NATed caller is learned within 80 ms of 20 ms packets. The packets
//! seen while learning are dropped, as Asterisk does: they are the caller's first 60 ms, spoken
//! over the greeting.

use std::net::SocketAddr;

/// Consecutive packets from one source needed to latch it.
pub const LEARN_PACKETS: u8 = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    Accept,
    Learning,
    Stranger,
}

#[derive(Debug, Clone, Copy)]
struct Candidate {
    from: SocketAddr,
    ssrc: u32,
    sequence: u16,
    count: u8,
}

#[derive(Debug)]
pub(crate) struct Latch {
    negotiated: SocketAddr,
    latched: Option<SocketAddr>,
    candidate: Option<Candidate>,
}

impl Latch {
    pub(crate) fn new(negotiated: SocketAddr) -> Latch {
        Latch {
            negotiated: canonical(negotiated),
            latched: None,
            candidate: None,
        }
    }

    /// Decides about one packet from `from`.
    pub(crate) fn check(&mut self, from: SocketAddr, ssrc: u32, sequence: u16) -> Verdict {
        let from = canonical(from);
        if let Some(latched) = self.latched {
            return if from == latched {
                Verdict::Accept
            } else {
                Verdict::Stranger
            };
        }
        if from == self.negotiated {
            self.latched = Some(from);
            self.candidate = None;
            return Verdict::Accept;
        }
        let count = match self.candidate {
            Some(c)
                if c.from == from && c.ssrc == ssrc && sequence == c.sequence.wrapping_add(1) =>
            {
                c.count + 1
            }
            _ => 1,
        };
        if count >= LEARN_PACKETS {
            self.latched = Some(from);
            self.candidate = None;
            return Verdict::Accept;
        }
        self.candidate = Some(Candidate {
            from,
            ssrc,
            sequence,
            count,
        });
        Verdict::Learning
    }

    /// Where media goes: the latched source, else the negotiated address.
    pub(crate) fn destination(&self) -> SocketAddr {
        self.latched.unwrap_or(self.negotiated)
    }

    pub(super) fn latched(&self) -> Option<SocketAddr> {
        self.latched
    }
}

/// A dual-stack socket reports IPv4 peers as `::ffff:a.b.c.d`; the SDP names them `a.b.c.d`.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}
