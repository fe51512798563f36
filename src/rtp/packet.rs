//! The RTP fixed header, CSRC list, header extension and padding (RFC 3550 §5.1, §5.3.1):
//! [`Packet::parse`] validates every field before anything uses it and borrows from the
//! datagram (no allocation, whatever lengths the packet declares); [`Packet::print`] writes
//! what `parse` accepts.

use super::RtpError;

/// The fixed header is 12 octets (RFC 3550 §5.1).
pub const HEADER_LEN: usize = 12;

/// One RTP packet, borrowed from the datagram it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<'a> {
    /// M bit; for audio the first packet of a talkspurt (RFC 3551 §4.1).
    pub marker: bool,
    /// PT, 7 bits.
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// The CSRC list as on the wire: CC × 4 octets (read them with [`Packet::csrcs`]).
    pub csrc: &'a [u8],
    pub extension: Option<Extension<'a>>,
    pub payload: &'a [u8],
    /// Padding octets at the end, the count octet included; 0 when the P bit is clear.
    pub padding: u8,
}

/// The header extension (RFC 3550 §5.3.1): a profile-defined 16-bit value and a body that is
/// a whole number of 32-bit words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extension<'a> {
    pub profile: u16,
    pub data: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Reads one datagram; every error is the exact reason the datagram is refused.
    pub fn parse(datagram: &'a [u8]) -> Result<Packet<'a>, RtpError> {
        let mut r = Reader::new(datagram);
        let [b0, b1] = r.array::<2>().ok_or(RtpError::Truncated)?;
        // §5.1: "V: 2 bits ... The version defined by this specification is two (2)."
        let version = b0 >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let has_padding = b0 & 0x20 != 0;
        let has_extension = b0 & 0x10 != 0;
        let csrc_count = usize::from(b0 & 0x0f);
        let sequence = u16::from_be_bytes(r.array().ok_or(RtpError::Truncated)?);
        let timestamp = u32::from_be_bytes(r.array().ok_or(RtpError::Truncated)?);
        let ssrc = u32::from_be_bytes(r.array().ok_or(RtpError::Truncated)?);
        let csrc = r.take(csrc_count * 4).ok_or(RtpError::CsrcTruncated)?;
        let extension = if has_extension {
            // §5.3.1: 16 bits profile-defined, 16 bits length in 32-bit words "excluding the
            // four-octet extension header".
            let profile = u16::from_be_bytes(r.array().ok_or(RtpError::ExtensionTruncated)?);
            let words = u16::from_be_bytes(r.array().ok_or(RtpError::ExtensionTruncated)?);
            let data = r
                .take(usize::from(words) * 4)
                .ok_or(RtpError::ExtensionTruncated)?;
            Some(Extension { profile, data })
        } else {
            None
        };
        let mut body = r.rest();
        let mut padding = 0;
        if has_padding {
            // §5.1: "The last octet of the padding contains a count of how many padding octets
            // should be ignored, including itself"; A.1: it must be less than what follows the
            // header, so zero or more than the body is invalid.
            let count = *body.last().ok_or(RtpError::Padding(0))?;
            if count == 0 || usize::from(count) > body.len() {
                return Err(RtpError::Padding(count));
            }
            body = &body[..body.len() - usize::from(count)];
            padding = count;
        }
        Ok(Packet {
            marker: b1 & 0x80 != 0,
            payload_type: b1 & 0x7f,
            sequence,
            timestamp,
            ssrc,
            csrc,
            extension,
            payload: body,
            padding,
        })
    }

    /// The contributing sources, in order.
    pub fn csrcs(&self) -> impl Iterator<Item = u32> + 'a {
        self.csrc
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The wire length [`Packet::print`] writes.
    pub fn len(&self) -> usize {
        HEADER_LEN
            + self.csrc.len()
            + self.extension.map_or(0, |e| 4 + e.data.len())
            + self.payload.len()
            + usize::from(self.padding)
    }

    /// True for a packet without payload and padding (never parsed from a valid datagram with
    /// media, but possible).
    pub fn is_empty(&self) -> bool {
        self.payload.is_empty()
    }

    /// Appends the wire form to `out`. A CSRC list longer than 15 entries, an extension body
    /// that is not whole words or longer than 65535 words are the caller's bug: they are cut
    /// to what the header can express, so `parse` always reads back what `print` wrote.
    pub fn print(&self, out: &mut Vec<u8>) {
        let csrc_words = (self.csrc.len() / 4).min(15);
        let mut b0 = 0x80 | csrc_words as u8;
        if self.padding > 0 {
            b0 |= 0x20;
        }
        if self.extension.is_some() {
            b0 |= 0x10;
        }
        out.push(b0);
        out.push(u8::from(self.marker) << 7 | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(&self.csrc[..csrc_words * 4]);
        if let Some(ext) = self.extension {
            let words = (ext.data.len() / 4).min(usize::from(u16::MAX));
            out.extend_from_slice(&ext.profile.to_be_bytes());
            out.extend_from_slice(&(words as u16).to_be_bytes());
            out.extend_from_slice(&ext.data[..words * 4]);
        }
        out.extend_from_slice(self.payload);
        if self.padding > 0 {
            out.resize(out.len() + usize::from(self.padding) - 1, 0);
            out.push(self.padding);
        }
    }
}

/// A cursor over a datagram in the style of rustls' codec `Reader`: every read checks the
/// bytes are there first and returns `None` if not.
#[derive(Debug)]
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { rest: bytes }
    }

    fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(len)?;
        self.rest = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.rest.split_first_chunk::<N>()?;
        self.rest = rest;
        Some(*head)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn parses_a_plain_pcma_packet() {
        let data = hex("80 88 1234 000003e8 deadbeef d5d5d5");
        let p = Packet::parse(&data).expect("valid");
        assert!(p.marker);
        assert_eq!(p.payload_type, 8);
        assert_eq!(
            (p.sequence, p.timestamp, p.ssrc),
            (0x1234, 1000, 0xdead_beef)
        );
        assert_eq!(p.payload, &[0xd5; 3]);
        assert_eq!((p.csrc.len(), p.extension, p.padding), (0, None, 0));
        let mut out = Vec::new();
        p.print(&mut out);
        assert_eq!(out, data);
    }

    #[test]
    fn reads_csrcs_extension_and_padding_and_prints_them_back() {
        // V=2 P=1 X=1 CC=2; two CSRCs; extension profile 0xbede with one word; payload 2
        // octets; 3 octets of padding (count 3).
        let data =
            hex("b2 00 0001 00000002 00000003 0000000a 0000000b bede 0001 01020304 aabb 0000 03");
        let p = Packet::parse(&data).expect("valid");
        assert_eq!(p.csrcs().collect::<Vec<_>>(), [10, 11]);
        let ext = p.extension.expect("extension");
        assert_eq!((ext.profile, ext.data), (0xbede, &[1u8, 2, 3, 4][..]));
        assert_eq!((p.payload, p.padding), (&[0xaa, 0xbb][..], 3));
        assert_eq!(p.len(), data.len());
        let mut out = Vec::new();
        p.print(&mut out);
        assert_eq!(out, data);
    }

    #[test]
    fn refuses_each_malformed_part_exactly() {
        let cases: &[(&str, RtpError)] = &[
            ("", RtpError::Truncated),
            ("80 00 0001 00000002 000000", RtpError::Truncated),
            ("40 00 0001 00000002 00000003", RtpError::Version(1)),
            ("c0 00 0001 00000002 00000003", RtpError::Version(3)),
            // CC=3 but one CSRC present.
            (
                "83 00 0001 00000002 00000003 0000000a",
                RtpError::CsrcTruncated,
            ),
            // X=1 with a header cut short, and with a length past the end.
            (
                "90 00 0001 00000002 00000003 bede",
                RtpError::ExtensionTruncated,
            ),
            (
                "90 00 0001 00000002 00000003 bede ffff 00000000",
                RtpError::ExtensionTruncated,
            ),
            // P=1: count 0, count past the body, and nothing after the header at all.
            ("a0 00 0001 00000002 00000003 aabb00", RtpError::Padding(0)),
            ("a0 00 0001 00000002 00000003 aa05", RtpError::Padding(5)),
            ("a0 00 0001 00000002 00000003", RtpError::Padding(0)),
        ];
        for (input, want) in cases {
            assert_eq!(Packet::parse(&hex(input)), Err(*want), "{input}");
        }
    }

    #[test]
    fn padding_may_take_the_whole_body() {
        let data = hex("a0 0d 0001 00000002 00000003 0000 03");
        let p = Packet::parse(&data).expect("valid");
        assert_eq!((p.payload.len(), p.padding, p.payload_type), (0, 3, 13));
    }

    #[test]
    fn a_declared_length_is_never_trusted() {
        // The maximum CSRC count and extension length on a 16-octet datagram: refused, and no
        // read past the end (the slices are checked, nothing is allocated from the lengths).
        let data = hex("9f ff ffff ffffffff ffffffff ffff ffff");
        assert_eq!(Packet::parse(&data), Err(RtpError::CsrcTruncated));
    }
}
