//! The RTP port pool: which local ports calls may use, from `[sip] rtp_ports`.
//!
//! RTP takes an even port and RTCP the odd one above it (RFC 3550 §11: "RTP SHOULD use an even
//! destination port number and the corresponding RTCP stream SHOULD use the next higher (odd)
//! destination port number"), so the pool hands out even ports and keeps each pair whole.
//!
//! Freed ports go to the back of the queue: a port is reused as late as possible, so a stray
//! packet of the call that had it (a phone that keeps sending after BYE) is unlikely to reach the
//! next call on it. The pool belongs to the one media driver and needs no lock; were several
//! tasks to allocate, the driver would own it and answer them over a channel rather than share it.

use std::collections::VecDeque;

/// Even RTP ports of a range, each with its RTCP port above it.
#[derive(Debug, Clone)]
pub struct PortPool {
    free: VecDeque<u16>,
    /// One flag per pair: handed out and not yet released (so a double release is ignored).
    in_use: Vec<bool>,
    first: u16,
}

impl PortPool {
    /// The pairs in `first..last`, `last` exclusive as in `[sip] rtp_ports` ("10000-20000" is
    /// RTP ports 10000, 10002, … 19998). An odd `first` starts at the next even port; a pair
    /// whose RTCP port would be `last` or above is left out. An empty range makes an empty pool.
    pub fn new(first: u16, last: u16) -> PortPool {
        let first = first.saturating_add(first % 2);
        let pairs = if last > first {
            usize::from(last - first) / 2
        } else {
            0
        };
        let free = (0..pairs)
            .filter_map(|i| u16::try_from(usize::from(first) + 2 * i).ok())
            .collect();
        PortPool {
            free,
            in_use: vec![false; pairs],
            first,
        }
    }

    /// An even port whose pair is free, or `None` when all are in use.
    pub fn allocate(&mut self) -> Option<u16> {
        let port = self.free.pop_front()?;
        if let Some(slot) = self.slot(port) {
            self.in_use[slot] = true;
        }
        Some(port)
    }

    /// Gives a port back. A port not from this pool, or not handed out, is ignored, so a
    /// double release cannot put a pair into the queue twice.
    pub fn release(&mut self, port: u16) {
        let Some(slot) = self.slot(port) else {
            return;
        };
        if std::mem::take(&mut self.in_use[slot]) {
            self.free.push_back(port);
        }
    }

    /// Ports handed out and not released.
    pub fn in_use(&self) -> usize {
        self.in_use.len() - self.free.len()
    }

    /// How many calls the pool can hold at once.
    pub fn capacity(&self) -> usize {
        self.in_use.len()
    }

    fn slot(&self, port: u16) -> Option<usize> {
        let offset = port.checked_sub(self.first)?;
        let slot = usize::from(offset / 2);
        (offset % 2 == 0 && slot < self.in_use.len()).then_some(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_even_ports_with_their_rtcp_pair_inside_the_range() {
        let mut pool = PortPool::new(10000, 10008);
        let ports: Vec<u16> = std::iter::from_fn(|| pool.allocate()).collect();
        assert_eq!(ports, [10000, 10002, 10004, 10006]);
        assert_eq!((pool.in_use(), pool.capacity()), (4, 4));
        assert_eq!(pool.allocate(), None, "bounded by the range");
    }

    #[test]
    fn odd_bounds_keep_pairs_whole() {
        let mut pool = PortPool::new(10001, 10006);
        let ports: Vec<u16> = std::iter::from_fn(|| pool.allocate()).collect();
        assert_eq!(ports, [10002, 10004], "10006/10007 would leave the range");
        assert_eq!(PortPool::new(20000, 20000).allocate(), None);
        assert_eq!(PortPool::new(20000, 10000).allocate(), None);
        assert_eq!(PortPool::new(65534, 65535).capacity(), 0);
        let mut top = PortPool::new(65532, 65535);
        assert_eq!(top.allocate(), Some(65532));
        assert_eq!(top.allocate(), None);
    }

    #[test]
    fn released_ports_come_back_last_and_only_once() {
        let mut pool = PortPool::new(10000, 10006);
        let a = pool.allocate().expect("free");
        let b = pool.allocate().expect("free");
        pool.release(a);
        pool.release(a);
        pool.release(10001);
        pool.release(9998);
        pool.release(40000);
        assert_eq!(pool.in_use(), 1);
        assert_eq!(pool.allocate(), Some(10004), "the never-used pair first");
        assert_eq!(pool.allocate(), Some(a));
        assert_eq!(pool.allocate(), None);
        pool.release(b);
        assert_eq!(pool.allocate(), Some(b));
    }
}
