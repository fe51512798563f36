//! Fax reception for a user's virtual fax device: T.38 over UDPTL, or fax over G.711 audio for a
//! peer that refuses T.38, into a TIFF (as received) and a PDF.
//!
//! spandsp does T.30 and the modems; [`spandsp`] is the only module with `unsafe` code and the
//! only one that touches spandsp. Everything is sans-IO: nothing here opens a socket or reads a
//! clock.
//!
//! Call contract (T.38, after the SIP side agreed on `m=image … udptl t38`):
//!
//! 1. `T38Terminal::new(false, &T30Config { ident: device.header_id, ecm: true,
//!    receive_into: Some(tiff_path), send_file: None })`.
//! 2. Every UDPTL datagram goes through [`crate::udptl::Receiver::handle_datagram`]; each IFP
//!    it yields (in sequence order) goes to [`T38Terminal::handle_ifp`].
//! 3. Every 20 ms of the session's clock: `send_timeout(160)`; then drain
//!    [`T38Terminal::poll_transmit`] into [`crate::udptl::Sender::send`] and the socket
//!    (each datagram `copies` times).
//! 4. [`T38Terminal::poll_result`] gives the [`Reception`] once T.30 reached phase E (or
//!    `send_timeout` returns true). The TIFF is then closed; [`document`] fsyncs it, writes the PDF
//!    and returns the [`FaxMetadata`].
//!
//! Over audio the same with [`AudioTerminal`]: every 20 ms `handle_audio(&160 samples)` (or
//! `handle_missing(160)` for a lost packet) and `poll_audio(&mut [0; 160])` for the frame to send.

mod call;
pub mod document;
mod inbox;
mod inbox_deposit;
mod inbox_service;
pub mod sdp;
mod service;
pub mod spandsp;

#[cfg(test)]
mod inbox_tests;
#[cfg(test)]
#[path = "tests_peer.rs"]
mod testing;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

pub use document::{DocumentFormat, FaxDocument, FaxMetadata, write_document};
pub use inbox::{
    FaxFileFormat, FaxId, FaxInbox, FaxInboxService, FaxInfo, FaxMailState, InboxError, ReceivedFax,
};
pub use service::FaxService;
pub use spandsp::{AudioTerminal, CngDetector, OutgoingIfp, T38Params, T38Terminal};

/// One 20 ms step of the session clock, in 8 kHz samples.
pub const SAMPLES_PER_TICK: u32 = 160;

/// What a T.30 session needs to know about us.
#[derive(Debug, Clone, Default)]
pub struct T30Config {
    /// Our station id: the CSI when receiving, the TSI when sending (the fax device's outgoing
    /// fax id, at most 20 characters of digits, `+` and space by T.30 5.3.6.2.4).
    pub ident: String,
    /// Error correction mode (T.30 Annex A).
    pub ecm: bool,
    /// Where the received pages are written (TIFF/F).
    pub receive_into: Option<PathBuf>,
    /// The TIFF to send (test senders only).
    pub send_file: Option<PathBuf>,
}

/// The outcome of one T.30 session, as spandsp reports it at phase E.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reception {
    /// T.30 completion code (spandsp's `t30_err_e`; 0 is success).
    pub completion_code: i32,
    /// Its text, e.g. "OK" or "Disconnected after permitted retries".
    pub completion_text: String,
    /// Pages transferred (received when receiving).
    pub pages: u32,
    /// The other side's station id (its TSI when we receive).
    pub remote_station_id: String,
    /// The image data rate, bit/s.
    pub bit_rate: u32,
    /// Whether error correction mode was used.
    pub ecm: bool,
    /// The TIFF the pages were written to (a receiving terminal's `receive_into`; it may hold
    /// fewer pages than sent, or not exist when none arrived).
    pub tiff: Option<PathBuf>,
}

impl Reception {
    /// True when T.30 ended normally.
    pub fn is_ok(&self) -> bool {
        self.completion_code == 0
    }
}

/// Everything that can go wrong in this module.
#[derive(Debug, thiserror::Error)]
pub enum FaxError {
    /// spandsp could not allocate or set up a state (out of memory).
    #[error("spandsp: {0} failed")]
    Init(&'static str),
    /// The station id holds a NUL byte or is longer than T.30 allows.
    #[error("station id must be at most 20 characters without NUL")]
    BadIdent,
    /// A path spandsp cannot take (holds a NUL byte).
    #[error("path not usable by spandsp: {0}")]
    BadPath(PathBuf),
    /// Reading the received TIFF or writing the document failed.
    #[error("fax document {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The received TIFF is not one we can embed (what is wrong with it).
    #[error("received TIFF {path}: {reason}")]
    Tiff { path: PathBuf, reason: String },
}
