//! The RFC 4733 telephone-event payload (§2.3): one named event per packet, its end bit, volume
//! and duration so far.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |     event     |E|R| volume    |          duration             |
//! ```
//!
//! The packet's RTP timestamp is the event's start (RFC 4733 §2.3, §2.5): every update of one
//! key press and the retransmissions of its final (E bit) packet carry the same timestamp, which
//! is how the session reports each key once.

use super::RtpError;

/// The telephone-event payload is four octets (RFC 4733 §2.3).
pub const EVENT_LEN: usize = 4;

/// One telephone-event block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    /// The event code (§3.2 for DTMF: 0-9, 10 `*`, 11 `#`, 12-15 A-D, 16 flash).
    pub code: u8,
    /// E: the event has ended.
    pub end: bool,
    /// Power level in -dBm0, 0..=63.
    pub volume: u8,
    /// Duration so far in timestamp units.
    pub duration: u16,
}

impl Event {
    /// Reads the payload of a telephone-event packet.
    ///
    /// The length must be a whole number of 4-octet blocks; of a longer payload (a sender that
    /// packs several blocks) the first block is read. The R bit is ignored, as §2.3 says a
    /// receiver must.
    pub fn parse(payload: &[u8]) -> Result<Event, RtpError> {
        if payload.is_empty() || !payload.len().is_multiple_of(EVENT_LEN) {
            return Err(RtpError::EventLength(payload.len()));
        }
        let [code, flags, d0, d1] = [payload[0], payload[1], payload[2], payload[3]];
        Ok(Event {
            code,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([d0, d1]),
        })
    }

    /// Appends the four octets; a volume above 63 is cut to its 6 bits.
    pub fn print(&self, out: &mut Vec<u8>) {
        out.push(self.code);
        out.push(u8::from(self.end) << 7 | (self.volume & 0x3f));
        out.extend_from_slice(&self.duration.to_be_bytes());
    }

    /// The DTMF key this event is, for codes 0-15 (RFC 4733 §3.2); `None` for flash
    /// and everything else.
    pub fn digit(&self) -> Option<char> {
        digit(self.code)
    }
}

/// The key for a DTMF event code (RFC 4733 §3.2): 0-9 → '0'-'9', 10 → '*', 11 → '#',
/// 12-15 → 'A'-'D'.
pub fn digit(code: u8) -> Option<char> {
    match code {
        0..=9 => Some(char::from(b'0' + code)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + code - 12)),
        _ => None,
    }
}

/// The event code for a DTMF key, the inverse of [`digit`] (lowercase a-d accepted).
pub fn code(key: char) -> Option<u8> {
    match key {
        '0'..='9' => Some(key as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(key as u8 - b'A' + 12),
        'a'..='d' => Some(key as u8 - b'a' + 12),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_hash_end_packet_from_the_rfc_layout() {
        // Event 11 (#), E=1, R=1 (ignored), volume 10, duration 800 (100 ms at 8 kHz).
        let p = Event::parse(&[0x0b, 0xca, 0x03, 0x20]).expect("valid");
        assert_eq!(
            p,
            Event {
                code: 11,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        assert_eq!(p.digit(), Some('#'));
        let mut out = Vec::new();
        p.print(&mut out);
        assert_eq!(out, [0x0b, 0x8a, 0x03, 0x20]);
    }

    #[test]
    fn maps_every_dtmf_code_and_back() {
        let keys: String = (0..=15).filter_map(digit).collect();
        assert_eq!(keys, "0123456789*#ABCD");
        for c in 0..=15 {
            assert_eq!(code(digit(c).expect("dtmf")), Some(c));
        }
        assert_eq!(digit(16), None, "flash is not a key");
        assert_eq!(digit(255), None);
        assert_eq!(code('x'), None);
        assert_eq!(code('d'), Some(15));
    }

    #[test]
    fn refuses_lengths_that_are_not_whole_blocks() {
        for len in [0, 1, 3, 5, 7] {
            assert_eq!(Event::parse(&vec![0; len]), Err(RtpError::EventLength(len)));
        }
        let two = Event::parse(&[1, 0x80, 0, 160, 2, 0, 0, 80]).expect("two blocks");
        assert_eq!((two.code, two.end, two.duration), (1, true, 160));
    }
}
