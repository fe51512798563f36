//! What the server allows: how many transfers, how large a block and window, how patient.

use std::time::Duration;

use super::packet::MAX_BLKSIZE;

/// Bounds for the server and for each transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TftpLimits {
    /// Transfers running at once; a read request beyond this is dropped (see [`super::serve`]).
    pub max_transfers: usize,
    /// The largest `blksize` granted; larger requests are clamped to it (kept within 8..=65464).
    pub max_blksize: u16,
    /// The largest `windowsize` granted; larger requests are clamped to it (at least 1).
    pub max_windowsize: u16,
    /// The largest `timeout` (seconds) granted; a larger request is declined and
    /// `default_timeout` used, so that one silent client holds its slot for a bounded time.
    pub max_timeout: u8,
    /// Retransmissions of an unacknowledged window (or OACK) before the transfer is given up.
    pub retries: u8,
    /// The retransmission timeout when the client does not ask for one with `timeout`.
    pub default_timeout: Duration,
}

impl Default for TftpLimits {
    fn default() -> Self {
        TftpLimits {
            max_transfers: 1000,
            // Ethernet MTU 1500 less IP (20), UDP (8) and TFTP (4) headers: no fragmentation.
            max_blksize: 1468,
            max_windowsize: 64,
            max_timeout: 10,
            retries: 5,
            default_timeout: Duration::from_secs(2),
        }
    }
}

impl TftpLimits {
    /// The granted block size for a requested one.
    pub(super) fn blksize(&self, requested: u16) -> u16 {
        requested.min(self.max_blksize.clamp(8, MAX_BLKSIZE))
    }

    /// The granted window size for a requested one.
    pub(super) fn windowsize(&self, requested: u16) -> u16 {
        requested.min(self.max_windowsize.max(1))
    }
}
