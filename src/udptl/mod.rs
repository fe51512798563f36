//! UDPTL, the UDP transport of T.38 fax (ITU-T T.38 clause 9.1; the `UDPTLPacket` ASN.1 in
//! Annex A): the packet codec and a sans-IO session with redundancy and FEC (parity) recovery,
//! reordering and duplicate suppression.
//!
//! Call contract (one [`Sender`] and one [`Receiver`] per T.38 session; the driver owns the
//! socket and the clock):
//!
//! * each datagram from the peer: [`Receiver::handle_datagram`]`(bytes, now)` (an error is a
//!   malformed datagram: count it, drop it, go on); then drain [`Receiver::poll_ifp`] into the
//!   T.38 terminal in the order given;
//! * at [`Receiver::poll_timeout`]: [`Receiver::handle_timeout`]`(now)` (gives up on a gap);
//! * each IFP the terminal emits: [`Sender::send`]`(ifp)` gives the datagram, sent as many times
//!   as the terminal asked.
//!
//! The `udptl` crate (0.2) was looked at first: it recovers only from redundancy (not FEC), skips a
//! gap at once instead of waiting for a late packet, and brings its own sockets.

pub mod packet;
pub mod receiver;
pub mod sender;

pub use packet::{MAX_DATAGRAM, Packet, Recovery};
pub use receiver::Receiver;
pub use sender::{ErrorCorrection, Sender};

#[cfg(test)]
mod tests;

/// Why a datagram is not a UDPTL packet (the peer sent it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UdptlError {
    #[error("UDPTL datagram of {0} octets exceeds the limit")]
    TooLarge(usize),
    #[error("UDPTL datagram ends inside {0}")]
    Truncated(&'static str),
    #[error("UDPTL {0} uses a fragmented length")]
    Fragmented(&'static str),
    #[error("UDPTL error-recovery choice octet {0:#04x} is neither 0x00 nor 0x80")]
    ErrorRecoveryChoice(u8),
    #[error("UDPTL fec-npackets is not one octet up to 16")]
    FecSpan,
    #[error("UDPTL fec-data has {0} entries (at most 16)")]
    FecEntries(usize),
    #[error("UDPTL datagram has {0} octets after the packet")]
    TrailingBytes(usize),
}

/// What a receiver has seen, for the call record and the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UdptlStats {
    /// IFPs rebuilt from redundancy or FEC after their own packet went missing.
    pub recovered: u64,
    /// IFPs given up on.
    pub lost: u64,
    /// Packets seen before (or too old to use).
    pub duplicates: u64,
    /// Datagrams refused as malformed.
    pub malformed: u64,
}
