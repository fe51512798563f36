//! The transaction layer (RFC 3261 §17): retransmissions, timers and matching, as plain state
//! machines that take `now` and never read a clock.
//!
//! * `client`, `server` — one transaction each, INVITE and non-INVITE, with `handle_*` and
//!   `poll_transmit` / `poll_event` / `poll_timeout`.
//! * `table` — [`Transactions`]: matching received messages (§17.1.3, §17.2.3, CANCEL §9.2),
//!   the bound on live transactions, and the queues the driver drains.
//! * `deadlines` — the table's index of when each transaction next needs a timeout.
//! * `id` — [`TransactionId`], with the RFC 2543 fallback; `timers` — [`Timers`] (T1, T2, T4).
//!
//! Over a reliable transport the retransmission timers (A, E, G) never start and the waiting
//! ones (D, I, J, K) are zero. The INVITE server transaction has RFC 6026's Accepted state
//! (Timer L), so an INVITE retransmitted after the 2xx is absorbed rather than seen as new; the
//! client side ends at the 2xx as in RFC 3261, its retransmissions come out of
//! [`Transactions::handle_response`] as strays, which is what RFC 6026's Accepted would do too
//! (pass them to the TU).

mod client;
mod deadlines;
mod id;
mod server;
mod table;
mod timers;

#[cfg(test)]
mod tests;

pub use client::{ClientEvent, ClientState, ClientTransaction, ack_for};
pub use id::TransactionId;
pub use server::{ServerEvent, ServerState, ServerTransaction};
pub use table::{Incoming, ResponseOutcome, TransactionEvent, Transactions, Transmit};
pub use timers::Timers;

/// A TU asked the transaction layer for something it cannot do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionError {
    #[error("the transaction table is full ({0} transactions)")]
    Full(usize),
    #[error("no such transaction")]
    NotFound,
    #[error("a transaction with this branch exists")]
    Exists,
    #[error("the request's top Via has no RFC 3261 branch")]
    NoBranch,
    #[error("an ACK for a 2xx is sent by the TU outside any transaction")]
    AckOutsideTransaction,
    #[error("the transaction has already sent its final response")]
    AlreadyAnswered,
}
