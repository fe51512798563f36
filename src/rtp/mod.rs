//! RTP for zentrale's own media endpoints (voicemail, later fax over G.711), sans-IO.
//!
//! ```text
//!  UDP datagram ─> Session::handle_datagram ─┬─ latch (negotiated address / symmetric RTP)
//!                                            ├─ packet::Packet::parse ─ sequence window
//!                                            ├─ audio PT ─ G.711 decode ─> jitter ─> Event::Audio(Frame)
//!                                            └─ telephone-event PT ─ event::Event ─> Event::Dtmf(char)
//!  Session::play(pcm) ─> sender (20 ms pacing) ─> Session::poll_transmit ─> UDP datagram
//! ```
//!
//! Call contract (one [`Session`] per call, owned by the driver that owns the call's socket):
//! feed every datagram to [`Session::handle_datagram`]`(from, data, now)`; call
//! [`Session::handle_timeout`]`(now)` when [`Session::poll_timeout`] is reached; after either,
//! drain [`Session::poll_transmit`] (send each to its `dest`) and [`Session::poll_event`].
//! [`Session::play`] queues audio (then poll the timeout again: the first packet is due at
//! once); [`Session::flush`] at hang-up releases what the jitter buffer still holds. The core
//! reads no clock and opens no socket: `now` is [`crate::clock::Instant`].

mod event;
mod jitter;
mod latch;
mod packet;
mod sender;
mod seq;
mod session;

#[cfg(test)]
mod tests;

pub use event::{EVENT_LEN, Event as TelephoneEvent, code as dtmf_code, digit as dtmf_digit};
pub use jitter::{FRAME, Frame, MAX_AHEAD, MAX_BEHIND, WINDOW};
pub use latch::LEARN_PACKETS;
pub(crate) use latch::{Latch, Verdict};
pub use packet::{Extension, HEADER_LEN, Packet};
pub use session::{Event, Session, SessionParams, Stats, Transmit};

/// Why a datagram is not an RTP packet (or a payload not a telephone-event) zentrale reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Shorter than the 12-octet fixed header.
    #[error("RTP packet truncated")]
    Truncated,
    /// RFC 3550 §5.1: only version 2 exists.
    #[error("RTP version {0}, not 2")]
    Version(u8),
    #[error("RTP CSRC list runs past the packet")]
    CsrcTruncated,
    #[error("RTP header extension runs past the packet")]
    ExtensionTruncated,
    /// The P bit with a count of 0 or more octets than follow the header (RFC 3550 §5.1, A.1).
    #[error("RTP padding count {0} is invalid")]
    Padding(u8),
    /// A telephone-event payload that is not whole 4-octet blocks (RFC 4733 §2.3).
    #[error("telephone-event payload of {0} octets")]
    EventLength(usize),
}
