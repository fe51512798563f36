//! Sequence-number bookkeeping of the received stream: duplicates, and packets lost as RFC 3550
//! A.3 counts them (expected from the highest sequence number minus received).

/// How far back duplicates are recognised (packets); older ones the jitter buffer drops as late.
const WINDOW: u16 = 64;

#[derive(Debug, Default)]
pub(super) struct SeqWindow {
    stream: Option<Stream>,
    /// Lost in streams (SSRCs) before the current one.
    lost_before: u64,
}

#[derive(Debug)]
struct Stream {
    ssrc: u32,
    /// Extended (wrap-counting) highest sequence number and the first one.
    highest: u64,
    first: u64,
    /// Bit i: `highest - i` was received.
    seen: u64,
    received: u64,
}

impl SeqWindow {
    /// Records a packet; false for a duplicate.
    pub(super) fn record(&mut self, ssrc: u32, sequence: u16) -> bool {
        if self.stream.as_ref().is_none_or(|s| s.ssrc != ssrc) {
            self.lost_before += self.current_lost();
            // Start one cycle up so a reordered packet just below the first still extends.
            let start = (1 << 16) + u64::from(sequence);
            self.stream = Some(Stream {
                ssrc,
                highest: start,
                first: start,
                seen: 1,
                received: 1,
            });
            return true;
        }
        let Some(stream) = &mut self.stream else {
            return true;
        };
        let delta = sequence.wrapping_sub(stream.highest as u16) as i16;
        if delta > 0 {
            let d = delta as u32;
            stream.seen = if d >= 64 { 0 } else { stream.seen << d } | 1;
            stream.highest += u64::from(d);
        } else {
            let back = delta.unsigned_abs();
            if back < WINDOW {
                if stream.seen & (1 << back) != 0 {
                    return false;
                }
                stream.seen |= 1 << back;
            }
            stream.first = stream
                .first
                .min(stream.highest.saturating_sub(u64::from(back)));
        }
        stream.received += 1;
        true
    }

    /// Packets never received, over all streams.
    pub(super) fn lost(&self) -> u64 {
        self.lost_before + self.current_lost()
    }

    fn current_lost(&self) -> u64 {
        self.stream
            .as_ref()
            .map_or(0, |s| (s.highest - s.first + 1).saturating_sub(s.received))
    }
}
