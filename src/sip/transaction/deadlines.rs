//! [`Deadlines`]: when each live transaction next needs `handle_timeout`, kept in order so the
//! table answers `poll_timeout` in O(log n) and `handle_timeout` visits only the due entries.
//!
//! A non-INVITE server transaction over UDP lingers 32 s (Timer J): at a few thousand
//! REGISTERs a second the table holds tens of thousands of entries, and the driver asks for
//! the next deadline after every datagram: a walk of the table made each datagram cost O(n).
//! The table keeps one key per transaction here, replaced whenever the transaction's own
//! `poll_timeout` changes (after every drain), and removed when it ends; a removed transaction
//! can therefore never fire.

use std::collections::BTreeSet;

use super::TransactionId;
use crate::clock::Instant;

/// Which map of the table the transaction lives in (a client and a server transaction may
/// share a branch, e.g. when a request loops back to us).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Side {
    Client,
    Server,
}

#[derive(Debug, Default)]
pub(super) struct Deadlines {
    order: BTreeSet<(Instant, Side, TransactionId)>,
}

impl Deadlines {
    /// Moves `id`'s key from `old` (what was indexed) to `new` (its `poll_timeout` now).
    pub(super) fn reschedule(
        &mut self,
        side: Side,
        id: &TransactionId,
        old: Option<Instant>,
        new: Option<Instant>,
    ) {
        if old == new {
            return;
        }
        if let Some(at) = old {
            self.order.remove(&(at, side, id.clone()));
        }
        if let Some(at) = new {
            self.order.insert((at, side, id.clone()));
        }
    }

    /// The earliest deadline of all.
    pub(super) fn first(&self) -> Option<Instant> {
        self.order.first().map(|(at, _, _)| *at)
    }

    /// The transactions due at `now`, earliest first.
    pub(super) fn due(&self, now: Instant) -> Vec<(Side, TransactionId)> {
        self.order
            .iter()
            .take_while(|(at, _, _)| *at <= now)
            .map(|(_, side, id)| (*side, id.clone()))
            .collect()
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.order.len()
    }
}
