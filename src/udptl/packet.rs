//! One UDPTL packet: parse and print.
//!
//! The layout is the ASN.1 `UDPTLPacket` of ITU-T T.38 (clause 9.1 and its ASN.1 module in
//! Annex A), encoded with the aligned PER of ITU-T X.691:
//!
//! ```text
//! seq-number          2 octets, big-endian
//! primary-ifp-packet  open type: length determinant, then the IFP octets
//! error-recovery      1 octet: 0x00 secondary-ifp-packets, 0x80 fec-info
//!   secondary-ifp-packets  length determinant (count), then count open types, newest first
//!   fec-info               fec-npackets (unconstrained INTEGER: 1 length octet, then the value),
//!                          fec-data (length determinant (count), then count OCTET STRINGs)
//! ```
//!
//! A length determinant (X.691 10.9) is one octet below 128, two octets (`10xxxxxx xxxxxxxx`)
//! below 16384, else fragmented (`11xxxxxx`), which no IFP needs and we refuse.

use super::UdptlError;

/// Largest datagram we parse or print; a T.38 peer announces far less (T38FaxMaxDatagram).
pub const MAX_DATAGRAM: usize = 1500;
/// Most FEC entries and largest span we accept (what the T.38 implementations in the field send
/// is 3 or so of each; Asterisk caps both at 16).
pub const MAX_FEC: usize = 16;

/// A parsed UDPTL packet borrowing the datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<'a> {
    pub seq: u16,
    pub primary: &'a [u8],
    pub recovery: Recovery<'a>,
}

/// The error-recovery part of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery<'a> {
    /// Earlier IFPs, newest first: entry `i` is the IFP of `seq - 1 - i`.
    Redundancy(Vec<&'a [u8]>),
    /// Parity: entry `m` is the XOR of the IFPs `seq + m - span*n + j*n` for `j < span`,
    /// where `n` is the number of entries (T.38 9.1, the way Asterisk and spandsp build it).
    Fec { span: u8, entries: Vec<&'a [u8]> },
}

/// A cursor over the datagram in the style of rustls' `codec::Reader`.
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], UdptlError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let end = end.ok_or(UdptlError::Truncated(field))?;
        let out = &self.buf[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self, field: &'static str) -> Result<u8, UdptlError> {
        Ok(self.take(1, field)?[0])
    }

    fn length(&mut self, field: &'static str) -> Result<usize, UdptlError> {
        let first = self.u8(field)?;
        match first {
            0..=0x7f => Ok(usize::from(first)),
            0x80..=0xbf => {
                let second = self.u8(field)?;
                Ok(usize::from(first & 0x3f) << 8 | usize::from(second))
            }
            _ => Err(UdptlError::Fragmented(field)),
        }
    }

    fn open_type(&mut self, field: &'static str) -> Result<&'a [u8], UdptlError> {
        let len = self.length(field)?;
        self.take(len, field)
    }
}

impl<'a> Packet<'a> {
    /// Parses one datagram; anything but exactly one well-formed packet is an error.
    pub fn parse(datagram: &'a [u8]) -> Result<Self, UdptlError> {
        if datagram.len() > MAX_DATAGRAM {
            return Err(UdptlError::TooLarge(datagram.len()));
        }
        let mut r = Reader {
            buf: datagram,
            pos: 0,
        };
        let seq = r.take(2, "seq-number")?;
        let seq = u16::from_be_bytes([seq[0], seq[1]]);
        let primary = r.open_type("primary-ifp-packet")?;
        let recovery = match r.u8("error-recovery")? {
            0x00 => {
                let count = r.length("secondary-ifp-packets")?;
                let mut list = Vec::new();
                for _ in 0..count {
                    list.push(r.open_type("secondary-ifp-packet")?);
                }
                Recovery::Redundancy(list)
            }
            0x80 => {
                let int_len = r.length("fec-npackets")?;
                let span = match r.take(int_len, "fec-npackets")? {
                    [span] if usize::from(*span) <= MAX_FEC => *span,
                    _ => return Err(UdptlError::FecSpan),
                };
                let count = r.length("fec-data")?;
                if count > MAX_FEC {
                    return Err(UdptlError::FecEntries(count));
                }
                let mut entries = Vec::with_capacity(count);
                for _ in 0..count {
                    entries.push(r.open_type("fec-data entry")?);
                }
                Recovery::Fec { span, entries }
            }
            other => return Err(UdptlError::ErrorRecoveryChoice(other)),
        };
        if r.pos != datagram.len() {
            return Err(UdptlError::TrailingBytes(datagram.len() - r.pos));
        }
        Ok(Packet {
            seq,
            primary,
            recovery,
        })
    }

    /// Prints the packet; fails only if a part is too long for a non-fragmented length.
    pub fn print(&self) -> Result<Vec<u8>, UdptlError> {
        let mut out = Vec::with_capacity(64 + self.primary.len());
        out.extend_from_slice(&self.seq.to_be_bytes());
        put_open(&mut out, self.primary)?;
        match &self.recovery {
            Recovery::Redundancy(list) => {
                out.push(0x00);
                put_length(&mut out, list.len())?;
                for ifp in list {
                    put_open(&mut out, ifp)?;
                }
            }
            Recovery::Fec { span, entries } => {
                out.push(0x80);
                out.extend_from_slice(&[1, *span]);
                put_length(&mut out, entries.len())?;
                for e in entries {
                    put_open(&mut out, e)?;
                }
            }
        }
        if out.len() > MAX_DATAGRAM {
            return Err(UdptlError::TooLarge(out.len()));
        }
        Ok(out)
    }
}

fn put_length(out: &mut Vec<u8>, len: usize) -> Result<(), UdptlError> {
    match u16::try_from(len) {
        Ok(l) if l < 0x80 => out.push(l as u8),
        Ok(l) if l < 0x4000 => out.extend_from_slice(&(l | 0x8000).to_be_bytes()),
        _ => return Err(UdptlError::TooLarge(len)),
    }
    Ok(())
}

fn put_open(out: &mut Vec<u8>, data: &[u8]) -> Result<(), UdptlError> {
    put_length(out, data.len())?;
    out.extend_from_slice(data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redundancy_packet_round_trips() {
        // seq 0x0102, primary [0x00] (an indicator: no-signal), two secondaries.
        let bytes = [1, 2, 1, 0x00, 0x00, 2, 1, 0x02, 2, 0x03, 0x04];
        let p = Packet::parse(&bytes).expect("parses");
        assert_eq!(p.seq, 0x0102);
        assert_eq!(p.primary, &[0x00]);
        assert_eq!(
            p.recovery,
            Recovery::Redundancy(vec![&[2][..], &[3, 4][..]])
        );
        assert_eq!(p.print().expect("prints"), bytes);
    }

    #[test]
    fn fec_packet_round_trips() {
        let bytes = [0, 9, 2, 0xaa, 0xbb, 0x80, 1, 3, 1, 2, 0x11, 0x22];
        let p = Packet::parse(&bytes).expect("parses");
        let Recovery::Fec { span, entries } = &p.recovery else {
            panic!("not FEC: {p:?}");
        };
        assert_eq!((*span, entries.as_slice()), (3, &[&[0x11, 0x22][..]][..]));
        assert_eq!(p.print().expect("prints"), bytes);
    }

    #[test]
    fn two_octet_lengths_round_trip() {
        let ifp = vec![7u8; 300];
        let p = Packet {
            seq: 5,
            primary: &ifp,
            recovery: Recovery::Redundancy(vec![]),
        };
        let bytes = p.print().expect("prints");
        assert_eq!(&bytes[2..4], &[0x81, 0x2c]);
        assert_eq!(Packet::parse(&bytes).expect("parses"), p);
    }

    #[test]
    fn garbage_gets_the_exact_error() {
        use UdptlError::*;
        let cases: &[(&[u8], UdptlError)] = &[
            (&[], Truncated("seq-number")),
            (&[0, 1, 5, 1], Truncated("primary-ifp-packet")),
            (&[0, 1, 0xc1], Fragmented("primary-ifp-packet")),
            (&[0, 1, 1, 0], Truncated("error-recovery")),
            (&[0, 1, 1, 0, 0x40], ErrorRecoveryChoice(0x40)),
            (&[0, 1, 1, 0, 0, 1, 4, 1], Truncated("secondary-ifp-packet")),
            (&[0, 1, 1, 0, 0, 0, 9], TrailingBytes(1)),
            (&[0, 1, 1, 0, 0x80, 2, 0, 3, 0], FecSpan),
            (&[0, 1, 1, 0, 0x80, 1, 99, 0], FecSpan),
            (&[0, 1, 1, 0, 0x80, 1, 3, 17], FecEntries(17)),
        ];
        for (bytes, want) in cases {
            assert_eq!(Packet::parse(bytes).as_ref().err(), Some(want), "{bytes:?}");
        }
        assert_eq!(Packet::parse(&[0; 1501]).err(), Some(TooLarge(1501)));
    }
}
