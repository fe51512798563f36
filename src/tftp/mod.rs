//! TFTP: a read-only server for phone provisioning — RFC 1350 with option negotiation
//! (RFC 2347), `blksize` (2348), `timeout` and `tsize` (2349) and `windowsize` (7440).
//!
//! ```text
//!  listening socket ── serve ──┬─ RRQ ─> checked_name ─> TftpFiles::open ─> task with its own socket
//!                              │                                           └─ drive ⇄ Transfer (sans-IO)
//!                              └─ WRQ, garbage ─> ERROR 2 / 4 / 8 from the listening socket
//! ```
//!
//! * `packet`, `options` — the codec: [`Packet::parse`] validates, [`Packet::print`] writes.
//! * `transfer` — [`Transfer`], one transfer as a sans-IO state machine (its doc has the call
//!   contract); `netascii` converts a file for `netascii` mode.
//! * `server` — [`serve`], the async driver: listening socket, one task per transfer, TIDs.
//! * `files` — [`TftpFiles`], what the provisioning module implements, and the name check.
//! * `error` — [`TftpError`] and its one mapping to ERROR packets.
//!
//! The crate `async-tftp` was not used: it silently drops datagrams from a wrong TID instead of
//! answering ERROR 5, keeps waiting for ACKs after the client sent ERROR, and is not sans-IO.

mod error;
mod files;
mod limits;
mod netascii;
mod options;
mod packet;
mod server;
mod transfer;

#[cfg(test)]
mod tests;

pub use error::TftpError;
pub use files::{TftpDenied, TftpFiles, checked_name};
pub use limits::TftpLimits;
pub use options::{BadValues, MAX_OPTIONS, Options};
pub use packet::{DEFAULT_BLKSIZE, ErrorCode, MAX_BLKSIZE, MAX_FILENAME, Mode, Packet, Request};
pub use server::{TftpServer, serve};
pub use transfer::Transfer;
