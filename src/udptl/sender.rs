//! The sending half of a UDPTL session: numbers the IFPs and adds redundancy or FEC parity.

use std::collections::VecDeque;

use super::UdptlError;
use super::packet::{MAX_DATAGRAM, MAX_FEC, Packet, Recovery};

/// Which error recovery the packets carry (SDP `T38FaxUdpEC`: `t38UDPRedundancy` or `t38UDPFEC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCorrection {
    /// Only the primary IFP.
    None,
    /// Up to `depth` earlier IFPs in each packet.
    Redundancy { depth: u8 },
    /// `entries` parity entries, each over `span` earlier IFPs.
    Fec { span: u8, entries: u8 },
}

/// Turns IFPs into UDPTL datagrams (sans-IO).
#[derive(Debug)]
pub struct Sender {
    seq: u16,
    ec: ErrorCorrection,
    max_datagram: usize,
    history: VecDeque<Vec<u8>>,
}

impl Sender {
    /// `max_datagram` is the peer's T38FaxMaxDatagram (redundancy is dropped, oldest first, to
    /// stay under it).
    pub fn new(ec: ErrorCorrection, max_datagram: usize) -> Self {
        Sender {
            seq: 0,
            ec,
            max_datagram: max_datagram.clamp(32, MAX_DATAGRAM),
            history: VecDeque::new(),
        }
    }

    /// The datagram carrying `ifp` as the next primary. Send it as often as spandsp asked (same
    /// bytes, same sequence number).
    pub fn send(&mut self, ifp: &[u8]) -> Result<Vec<u8>, UdptlError> {
        let seq = self.seq;
        let datagram = match self.ec {
            ErrorCorrection::None => self.print(seq, ifp, Recovery::Redundancy(vec![]))?,
            ErrorCorrection::Redundancy { depth } => {
                let mut n = usize::from(depth).min(self.history.len());
                loop {
                    let list = self.history.iter().take(n).map(Vec::as_slice).collect();
                    match self.print(seq, ifp, Recovery::Redundancy(list)) {
                        Err(UdptlError::TooLarge(_)) if n > 0 => n -= 1,
                        other => break other?,
                    }
                }
            }
            ErrorCorrection::Fec { span, entries } => {
                let (span, parity) = self.parity(span, entries);
                let entries = parity.iter().map(Vec::as_slice).collect();
                self.print(seq, ifp, Recovery::Fec { span, entries })?
            }
        };
        self.history.push_front(ifp.to_vec());
        self.history.truncate(MAX_FEC * MAX_FEC);
        self.seq = seq.wrapping_add(1);
        Ok(datagram)
    }

    fn print(&self, seq: u16, ifp: &[u8], recovery: Recovery) -> Result<Vec<u8>, UdptlError> {
        let bytes = Packet {
            seq,
            primary: ifp,
            recovery,
        }
        .print()?;
        if bytes.len() > self.max_datagram {
            return Err(UdptlError::TooLarge(bytes.len()));
        }
        Ok(bytes)
    }

    /// How many entries and what span fit the history we have (fewer at the start).
    fn fec_shape(&self, span: u8, entries: u8) -> (usize, usize) {
        let h = self.history.len();
        let n = usize::from(entries).min(MAX_FEC).min(h);
        if n == 0 {
            return (0, 0);
        }
        (usize::from(span).min(MAX_FEC).min(h / n), n)
    }

    /// Entry `m` is the XOR of IFPs `seq + m - s*n + j*n`, `j < s` (zero-padded to the longest).
    fn parity(&self, span: u8, entries: u8) -> (u8, Vec<Vec<u8>>) {
        let (s, n) = self.fec_shape(span, entries);
        if s == 0 {
            return (0, Vec::new());
        }
        let parity = (0..n)
            .map(|m| {
                // history[0] is seq - 1, so seq - k is history[k - 1].
                let ifps: Vec<&Vec<u8>> = (0..s)
                    .filter_map(|j| self.history.get(s * n - m - j * n - 1))
                    .collect();
                let len = ifps.iter().map(|i| i.len()).max().unwrap_or(0);
                let mut out = vec![0u8; len];
                for ifp in ifps {
                    for (o, b) in out.iter_mut().zip(ifp) {
                        *o ^= b;
                    }
                }
                out
            })
            .collect();
        (s as u8, parity)
    }
}
