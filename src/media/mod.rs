//! Media negotiation and samples, no I/O: G.711 companding, SDP offer/answer, the RTP port pool.
//!
//! ```text
//!  INVITE body ── sdp::parse_offer ── Offer ── sdp::answer(offer, local, id) ── Answer
//!                                                                                │ codec, payload types,
//!  PortPool::allocate ─> local port ─────────────────────────────────────────────┘ remote ─> rtp::Session
//! ```
//!
//! Call contract: the SIP side takes a port from [`PortPool`] (None: answer 503), reads the
//! offer with [`parse_offer`], and answers 200 with [`Answer::sdp`] or 488 on any
//! [`SdpError`]; [`Answer`] carries what [`crate::rtp::SessionParams`] needs. At hang-up the
//! port goes back with [`PortPool::release`]. [`offer`] is the body for calls zentrale starts.

mod g711;
mod ports;
mod sdp;
mod sdp_answer;

#[cfg(test)]
mod sdp_tests;

pub use g711::Codec;
pub use ports::PortPool;
pub use sdp::{
    Direction, MAX_BODY, MAX_FORMATS, MAX_MAPS, MAX_MEDIA, MAX_OTHER, Media, Offer, RtpMap,
    SdpError, parse_offer,
};
pub use sdp_answer::{Answer, answer, offer};
