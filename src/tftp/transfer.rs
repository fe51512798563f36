//! The sans-IO core of one read transfer: OACK, DATA windows, ACKs, retransmission.
//!
//! No socket and no clock: time comes in as `now`, datagrams come in through
//! [`Transfer::handle_packet`] (only those from the transfer's peer: the driver checks the TID)
//! and go out through [`Transfer::poll_transmit`]. After [`Transfer::new`] and after every
//! `handle_*` call the driver sends everything `poll_transmit` yields to the peer, then waits for
//! a datagram or for [`Transfer::poll_timeout`], whichever comes first. When
//! [`Transfer::is_finished`], a last ERROR may still be waiting in `poll_transmit`.
//!
//! Blocks are counted from 1 as `u64` inside and go on the wire modulo 65536, so block 65535 is
//! followed by block 0 (what tftp-hpa and atftp expect). A duplicate ACK changes nothing — no
//! re-send, no new timer (RFC 1123 4.2.3.1, the Sorcerer's Apprentice bug); lost blocks are sent
//! again only on a timeout, from the first unacknowledged one (RFC 7440).

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::error::TftpError;
use super::limits::TftpLimits;
use super::netascii;
use super::options::Options;
use super::packet::{DEFAULT_BLKSIZE, Mode, Packet, Request};

/// One read transfer of one file to one peer.
pub struct Transfer {
    /// The bytes as they go on the wire (netascii already applied).
    file: Bytes,
    blksize: usize,
    window: u64,
    timeout: Duration,
    max_retries: u8,
    /// Retransmissions of the current window (or OACK) so far.
    retries: u8,
    /// DATA blocks in the file, the last one shorter than `blksize` (possibly empty).
    blocks: u64,
    phase: Phase,
    /// Blocks acknowledged: `acked + 1` is the first block of the current window.
    acked: u64,
    /// The next block `poll_transmit` sends.
    next: u64,
    /// The highest block sent so far; an ACK beyond it is bogus.
    sent: u64,
    deadline: Option<Instant>,
    /// An OACK or ERROR waiting for `poll_transmit`.
    outgoing: Option<Vec<u8>>,
    outcome: Option<Result<(), TftpError>>,
}

#[derive(Debug)]
enum Phase {
    /// The OACK went out; ACK 0 starts the data.
    Negotiating {
        oack: Vec<u8>,
    },
    Sending,
    Finished,
}

impl Transfer {
    /// Starts serving `file` for `request`: an OACK when options were accepted, else block 1.
    pub fn new(request: &Request, file: Bytes, now: Instant, limits: &TftpLimits) -> Transfer {
        let file = match request.mode {
            Mode::Octet => file,
            Mode::Netascii => netascii::encode(&file),
        };
        let granted = negotiate(request, file.len(), limits);
        let blksize = usize::from(granted.blksize.unwrap_or(DEFAULT_BLKSIZE));
        let timeout = granted
            .timeout
            .map_or(limits.default_timeout, |s| Duration::from_secs(s.into()));
        let (phase, outgoing) = if granted.is_empty() {
            (Phase::Sending, None)
        } else {
            let oack = Packet::Oack(granted).to_vec();
            (Phase::Negotiating { oack: oack.clone() }, Some(oack))
        };
        Transfer {
            blocks: (file.len() / blksize) as u64 + 1,
            file,
            blksize,
            window: granted.windowsize.map_or(1, u64::from),
            timeout,
            max_retries: limits.retries,
            retries: 0,
            phase,
            acked: 0,
            next: 1,
            sent: 0,
            deadline: Some(now + timeout),
            outgoing,
            outcome: None,
        }
    }

    /// Takes in one datagram from the peer. Anything but an ACK or an ERROR is ignored: one
    /// corrupt datagram should not end a firmware download.
    pub fn handle_packet(&mut self, datagram: &[u8], now: Instant) {
        if self.is_finished() {
            return;
        }
        match Packet::parse(datagram) {
            Ok(Packet::Ack { block }) => self.on_ack(block, now),
            Ok(Packet::Error { code, message }) => {
                let peer = TftpError::Peer {
                    code: code.0,
                    message,
                };
                self.finish(Err(peer), None);
            }
            Ok(other) => tracing::debug!(packet = ?other, "TFTP transfer: unexpected packet"),
            Err(e) => tracing::debug!("TFTP transfer: bad packet: {e}"),
        }
    }

    /// Retransmits (or gives up) when the deadline from [`Transfer::poll_timeout`] has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_none_or(|d| d > now) {
            return;
        }
        if self.retries >= self.max_retries {
            let error = TftpError::TimedOut(self.retries);
            let packet = error.error_packet().map(|p| p.to_vec());
            self.finish(Err(error), packet);
            return;
        }
        self.retries += 1;
        match &self.phase {
            Phase::Negotiating { oack } => self.outgoing = Some(oack.clone()),
            Phase::Sending => self.next = self.acked + 1,
            Phase::Finished => return,
        }
        self.deadline = Some(now + self.timeout);
    }

    /// The next datagram for the peer.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if let Some(packet) = self.outgoing.take() {
            return Some(packet);
        }
        let window_end = (self.acked + self.window).min(self.blocks);
        if !matches!(self.phase, Phase::Sending) || self.next > window_end {
            return None;
        }
        let block = self.next;
        self.next += 1;
        self.sent = self.sent.max(block);
        Some(self.data(block))
    }

    /// When [`Transfer::handle_timeout`] wants to be called; `None` once finished.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn is_finished(&self) -> bool {
        self.outcome.is_some()
    }

    /// How the transfer ended: `Ok` when the last block was acknowledged.
    pub fn outcome(&self) -> Option<&Result<(), TftpError>> {
        self.outcome.as_ref()
    }

    /// The bytes that go on the wire.
    pub fn size(&self) -> usize {
        self.file.len()
    }

    /// The negotiated block size and window size.
    pub fn negotiated(&self) -> (usize, u64) {
        (self.blksize, self.window)
    }

    fn on_ack(&mut self, block: u16, now: Instant) {
        match self.phase {
            Phase::Negotiating { .. } if block == 0 => {
                self.phase = Phase::Sending;
                self.outgoing = None;
                self.restart_timer(now);
            }
            Phase::Sending => {
                // How far past the last acknowledged block; 0 is a duplicate, and more than
                // was sent is stale or bogus. Both are ignored.
                let ahead = u64::from(block.wrapping_sub(wire_block(self.acked)));
                if ahead == 0 || ahead > self.sent - self.acked {
                    return;
                }
                self.acked += ahead;
                if self.acked == self.blocks {
                    self.finish(Ok(()), None);
                } else {
                    // The next window starts after the acknowledged block, also when the ACK
                    // was for a block inside the window (RFC 7440: the rest got lost).
                    self.next = self.acked + 1;
                    self.restart_timer(now);
                }
            }
            Phase::Negotiating { .. } | Phase::Finished => {}
        }
    }

    fn restart_timer(&mut self, now: Instant) {
        self.retries = 0;
        self.deadline = Some(now + self.timeout);
    }

    fn finish(&mut self, outcome: Result<(), TftpError>, last: Option<Vec<u8>>) {
        self.phase = Phase::Finished;
        self.deadline = None;
        self.outgoing = last;
        self.outcome = Some(outcome);
    }

    /// The DATA packet of block `block` (counted from 1).
    fn data(&self, block: u64) -> Vec<u8> {
        let start = (block as usize - 1) * self.blksize;
        let end = (start + self.blksize).min(self.file.len());
        Packet::Data {
            block: wire_block(block),
            data: self.file.slice(start..end),
        }
        .to_vec()
    }
}

/// The options granted for a request: only those asked for and accepted.
fn negotiate(request: &Request, size: usize, limits: &TftpLimits) -> Options {
    let asked = &request.options;
    Options {
        blksize: asked.blksize.map(|b| limits.blksize(b)),
        timeout: asked.timeout.filter(|&t| t <= limits.max_timeout),
        // In netascii the client's size after converting back differs: say nothing (as tftpd-hpa).
        tsize: asked
            .tsize
            .filter(|_| request.mode == Mode::Octet)
            .map(|_| size as u64),
        windowsize: asked.windowsize.map(|w| limits.windowsize(w)),
    }
}

/// A block number as it goes on the wire: 65535 is followed by 0.
fn wire_block(block: u64) -> u16 {
    (block % 65536) as u16
}

/// Shows the progress, never the file's bytes.
impl fmt::Debug for Transfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transfer")
            .field("size", &self.file.len())
            .field("blksize", &self.blksize)
            .field("window", &self.window)
            .field("blocks", &self.blocks)
            .field("acked", &self.acked)
            .field("phase", &self.phase)
            .field("retries", &self.retries)
            .field("outcome", &self.outcome)
            .finish_non_exhaustive()
    }
}
