//! The receiving half of a UDPTL session: recovery, reordering, duplicate suppression.
//!
//! IFPs come out strictly in sequence order, each once. A missing one is waited for (it may come
//! late, or in a later packet's redundancy or FEC) for at most [`REORDER_WAIT`] or until
//! [`AHEAD`] later packets are held; then it is skipped and spandsp sees the gap in the sequence
//! numbers. Memory is bounded: a fixed ring of slots holds the packets ahead of the gap and the
//! last delivered ones (which FEC parity needs), each at most one datagram long.

use std::collections::VecDeque;
use std::time::Duration;

use super::packet::{Packet, Recovery};
use super::{UdptlError, UdptlStats};
use crate::clock::Instant;

/// Slots in the ring: half ahead of the next sequence number, half behind it.
const SLOTS: usize = 32;
/// How far ahead of the next expected sequence number packets are held.
pub const AHEAD: u16 = (SLOTS / 2) as u16;
/// How long a gap is waited for before it is skipped.
pub const REORDER_WAIT: Duration = Duration::from_millis(100);

#[derive(Debug, Default, Clone)]
struct Slot {
    seq: u16,
    ifp: Option<Vec<u8>>,
    fec: Option<(u8, Vec<Vec<u8>>)>,
}

/// Receives UDPTL datagrams and yields the IFPs in order (sans-IO).
#[derive(Debug)]
pub struct Receiver {
    slots: Vec<Slot>,
    next: Option<u16>,
    ready: VecDeque<(u16, Vec<u8>)>,
    gap_deadline: Option<Instant>,
    stats: UdptlStats,
}

impl Default for Receiver {
    fn default() -> Self {
        Receiver {
            slots: vec![Slot::default(); SLOTS],
            next: None,
            ready: VecDeque::new(),
            gap_deadline: None,
            stats: UdptlStats::default(),
        }
    }
}

/// Signed distance of `seq` from `base` on the 16-bit circle.
fn distance(seq: u16, base: u16) -> i32 {
    i32::from(seq.wrapping_sub(base) as i16)
}

impl Receiver {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one datagram. A malformed one is refused with its error and changes nothing.
    pub fn handle_datagram(&mut self, datagram: &[u8], now: Instant) -> Result<(), UdptlError> {
        let packet = match Packet::parse(datagram) {
            Ok(p) => p,
            Err(e) => {
                self.stats.malformed += 1;
                return Err(e);
            }
        };
        let secondaries = match &packet.recovery {
            Recovery::Redundancy(list) => list.len().min(usize::from(AHEAD)) as u16,
            Recovery::Fec { .. } => 0,
        };
        let next = *self
            .next
            .get_or_insert(packet.seq.wrapping_sub(secondaries));
        let d = distance(packet.seq, next);
        if d < 0 {
            self.stats.duplicates += 1;
            return Ok(());
        }
        if d >= i32::from(AHEAD) {
            // Far ahead: give up on everything before the new packet's own recovery window.
            self.skip_to(packet.seq.wrapping_sub(AHEAD - 1));
        }
        if !self.store(packet.seq, packet.primary) {
            self.stats.duplicates += 1;
        }
        match &packet.recovery {
            Recovery::Redundancy(list) => {
                for (i, ifp) in list.iter().enumerate().take(usize::from(AHEAD) - 1) {
                    let seq = packet.seq.wrapping_sub(i as u16 + 1);
                    if self.store(seq, ifp) {
                        self.stats.recovered += 1;
                    }
                }
            }
            Recovery::Fec { span, entries } => {
                let slot = self.slot_mut(packet.seq);
                slot.fec = Some((*span, entries.iter().map(|e| e.to_vec()).collect()));
                self.repair_all();
            }
        }
        self.deliver(now);
        Ok(())
    }

    /// The next IFP in order with its sequence number.
    pub fn poll_ifp(&mut self) -> Option<(u16, Vec<u8>)> {
        self.ready.pop_front()
    }

    /// When a gap will be given up if nothing fills it.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.gap_deadline
    }

    /// Skips a gap whose time is up.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.gap_deadline.is_some_and(|at| now >= at) {
            self.gap_deadline = None;
            if let Some(first) = self.first_held() {
                self.skip_to(first);
            }
            self.deliver(now);
        }
    }

    pub fn stats(&self) -> &UdptlStats {
        &self.stats
    }

    fn slot_mut(&mut self, seq: u16) -> &mut Slot {
        let slot = &mut self.slots[usize::from(seq) % SLOTS];
        if slot.seq != seq {
            *slot = Slot {
                seq,
                ifp: None,
                fec: None,
            };
        }
        slot
    }

    fn ifp(&self, seq: u16) -> Option<&[u8]> {
        let slot = &self.slots[usize::from(seq) % SLOTS];
        (slot.seq == seq).then_some(slot.ifp.as_deref()).flatten()
    }

    /// Stores an IFP not yet delivered; false if it is old or already there.
    fn store(&mut self, seq: u16, ifp: &[u8]) -> bool {
        let Some(next) = self.next else { return false };
        let d = distance(seq, next);
        if !(0..i32::from(AHEAD)).contains(&d) || self.ifp(seq).is_some() {
            return false;
        }
        self.slot_mut(seq).ifp = Some(ifp.to_vec());
        true
    }

    /// Tries every stored parity entry on the IFP it alone is missing.
    fn repair_all(&mut self) {
        let Some(next) = self.next else { return };
        let mut repairs = Vec::new();
        for slot in &self.slots {
            let Some((span, entries)) = &slot.fec else {
                continue;
            };
            let n = entries.len() as u16;
            for (m, parity) in entries.iter().enumerate() {
                let limit = slot.seq.wrapping_add(m as u16);
                let first = limit.wrapping_sub(u16::from(*span) * n);
                let covered: Vec<u16> = (0..u16::from(*span))
                    .map(|j| first.wrapping_add(j * n))
                    .collect();
                let missing: Vec<u16> = covered
                    .iter()
                    .copied()
                    .filter(|&s| self.ifp(s).is_none())
                    .collect();
                if let [lost] = missing[..]
                    && (0..i32::from(AHEAD)).contains(&distance(lost, next))
                {
                    let mut data = parity.clone();
                    for s in covered.iter().filter(|&&s| s != lost) {
                        for (b, x) in data.iter_mut().zip(self.ifp(*s).unwrap_or_default()) {
                            *b ^= x;
                        }
                    }
                    repairs.push((lost, data));
                }
            }
        }
        for (seq, data) in repairs {
            if self.store(seq, &data) {
                self.stats.recovered += 1;
            }
        }
    }

    /// Hands out every IFP from `next` on that is there; arms the gap timer if one is held back.
    fn deliver(&mut self, now: Instant) {
        let Some(mut next) = self.next else { return };
        while let Some(ifp) = self.ifp(next) {
            self.ready.push_back((next, ifp.to_vec()));
            next = next.wrapping_add(1);
        }
        self.next = Some(next);
        self.retire();
        match self.first_held() {
            None => self.gap_deadline = None,
            Some(first) if distance(first, next) >= i32::from(AHEAD) - 1 => {
                self.skip_to(first);
                self.deliver(now);
            }
            Some(_) => {
                self.gap_deadline.get_or_insert(now + REORDER_WAIT);
            }
        }
    }

    fn first_held(&self) -> Option<u16> {
        let next = self.next?;
        (1..AHEAD)
            .map(|d| next.wrapping_add(d))
            .find(|&s| self.ifp(s).is_some())
    }

    /// Gives up on everything before `seq`.
    fn skip_to(&mut self, seq: u16) {
        if let Some(next) = self.next {
            let lost = distance(seq, next).max(0) as u64;
            let held = (0..lost as u16)
                .filter(|d| self.ifp(next.wrapping_add(*d)).is_some())
                .count() as u64;
            // Held ones before `seq` are delivered in order, the rest counted lost.
            for d in 0..lost as u16 {
                let s = next.wrapping_add(d);
                if let Some(ifp) = self.ifp(s) {
                    self.ready.push_back((s, ifp.to_vec()));
                }
            }
            self.stats.lost += lost - held;
        }
        self.next = Some(seq);
        self.gap_deadline = None;
        self.retire();
    }

    /// Empties every slot outside the window around `next`, so an IFP stored long ago can never
    /// pass for a pending one once the 16-bit sequence numbers come round again.
    fn retire(&mut self) {
        let Some(next) = self.next else { return };
        let window = -i32::from(AHEAD)..i32::from(AHEAD);
        for slot in &mut self.slots {
            if !window.contains(&distance(slot.seq, next)) {
                slot.ifp = None;
                slot.fec = None;
            }
        }
    }
}
