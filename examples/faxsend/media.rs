//! The fax machine's media: a sending spandsp terminal on G.711 RTP ([`AudioLeg`]) or on UDPTL
//! ([`T38Leg`]), stepped every 20 ms, and the [`Link`] every outgoing datagram passes, which
//! drops some at random (`--loss`) or all once cut (`--cut-after`).

use std::net::{SocketAddr, UdpSocket};

use zentrale::clock::Instant;
use zentrale::fax::{AudioTerminal, Reception, SAMPLES_PER_TICK, T38Params, T38Terminal};
use zentrale::media::Codec;
use zentrale::rtp::Packet;
use zentrale::udptl::{ErrorCorrection, Receiver, Sender};

use crate::sdp::{RemoteAudio, T38Desc};

const FRAME: usize = SAMPLES_PER_TICK as usize;

/// Where outgoing media goes, and what gets lost on the way.
#[derive(Debug)]
pub struct Link {
    percent: u32,
    state: u32,
    cut: bool,
    stopped: bool,
    pub sent: u64,
    pub dropped: u64,
}

impl Link {
    /// Loses `percent` of the datagrams, chosen by an xorshift sequence from `seed` (a run is
    /// repeatable).
    pub fn new(percent: u32, seed: u32) -> Link {
        Link {
            percent,
            state: seed | 1,
            cut: false,
            stopped: false,
            sent: 0,
            dropped: 0,
        }
    }

    /// From now on nothing gets through.
    pub fn cut(&mut self) {
        self.cut = true;
    }

    pub fn is_cut(&self) -> bool {
        self.cut
    }

    /// The call is over: nothing goes out any more, and that is no loss.
    pub fn stop(&mut self) {
        self.stopped = true;
    }

    fn send(&mut self, socket: &UdpSocket, to: SocketAddr, datagram: &[u8]) {
        if self.stopped {
            return;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        if self.cut || self.state % 100 < self.percent {
            self.dropped += 1;
            return;
        }
        self.sent += 1;
        // A full socket buffer is loss like any other on UDP.
        let _ = socket.send_to(datagram, to);
    }
}

/// Fax over G.711: the terminal's samples go out as RTP every 20 ms, what comes back is fed in,
/// a sequence gap as that many missing frames.
#[derive(Debug)]
pub struct AudioLeg {
    pub terminal: AudioTerminal,
    socket: UdpSocket,
    remote: RemoteAudio,
    seq: u16,
    timestamp: u32,
    ssrc: u32,
    last_rx: Option<u16>,
}

impl AudioLeg {
    pub fn new(terminal: AudioTerminal, socket: UdpSocket, remote: RemoteAudio) -> AudioLeg {
        AudioLeg {
            terminal,
            socket,
            remote,
            seq: rand::random(),
            timestamp: rand::random(),
            ssrc: rand::random(),
            last_rx: None,
        }
    }

    /// One 20 ms step: receive what arrived, send the next frame.
    pub fn tick(&mut self, link: &mut Link) {
        self.receive();
        let mut frame = [0i16; FRAME];
        self.terminal.poll_audio(&mut frame);
        let mut payload = Vec::with_capacity(FRAME);
        self.remote.codec.encode(&frame, &mut payload);
        let packet = Packet {
            marker: false,
            payload_type: self.remote.codec.static_payload_type(),
            sequence: self.seq,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            csrc: &[],
            extension: None,
            payload: &payload,
            padding: 0,
        };
        let mut datagram = Vec::with_capacity(packet.len());
        packet.print(&mut datagram);
        link.send(&self.socket, self.remote.addr, &datagram);
        self.seq = self.seq.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(SAMPLES_PER_TICK);
    }

    fn receive(&mut self) {
        let mut buf = [0u8; 2048];
        let mut samples = Vec::with_capacity(FRAME);
        while let Ok(n) = self.socket.recv(&mut buf) {
            let Ok(packet) = Packet::parse(&buf[..n]) else {
                continue;
            };
            // PCMU and PCMA by their static numbers (zentrale answers with those); anything
            // else (telephone-event, comfort noise) is not fax.
            let Some(codec) = Codec::from_static(packet.payload_type) else {
                continue;
            };
            if let Some(last) = self.last_rx {
                let gap = packet.sequence.wrapping_sub(last);
                if gap == 0 || gap > 0x8000 {
                    continue; // a duplicate or a late packet: its moment has passed
                }
                if gap > 1 {
                    self.terminal
                        .handle_missing(u32::from(gap - 1) * SAMPLES_PER_TICK);
                }
            }
            self.last_rx = Some(packet.sequence);
            samples.clear();
            codec.decode(packet.payload, &mut samples);
            self.terminal.handle_audio(&samples);
        }
    }

    pub fn poll_result(&mut self) -> Option<Reception> {
        self.terminal.poll_result()
    }
}

/// Fax over T.38: the terminal's IFPs go out in UDPTL datagrams (with redundancy or FEC),
/// datagrams that come back go through the UDPTL receiver into the terminal in order.
#[derive(Debug)]
pub struct T38Leg {
    pub terminal: T38Terminal,
    socket: UdpSocket,
    remote: SocketAddr,
    tx: Sender,
    rx: Receiver,
}

impl T38Leg {
    pub fn new(mut terminal: T38Terminal, socket: UdpSocket, remote: &T38Desc) -> T38Leg {
        terminal.set_params(&T38Params {
            version: remote.version,
            local_tcf: remote.local_tcf,
            fill_bit_removal: false,
            max_ifp: max_ifp(remote),
        });
        T38Leg {
            terminal,
            socket,
            remote: remote.addr,
            tx: Sender::new(remote.ec, remote.max_datagram),
            rx: Receiver::new(),
        }
    }

    /// One 20 ms step: receive what arrived, advance the terminal, send what it queued (each
    /// datagram as often as spandsp asked, every copy through the link).
    pub fn tick(&mut self, link: &mut Link, now: Instant) -> bool {
        self.receive(now);
        let done = self.terminal.send_timeout(SAMPLES_PER_TICK);
        while let Some(out) = self.terminal.poll_transmit() {
            let Ok(datagram) = self.tx.send(&out.ifp) else {
                eprintln!(
                    "faxsend: an IFP of {} octets fits no datagram",
                    out.ifp.len()
                );
                continue;
            };
            for _ in 0..out.copies {
                link.send(&self.socket, self.remote, &datagram);
            }
        }
        done
    }

    fn receive(&mut self, now: Instant) {
        let mut buf = [0u8; 2048];
        while let Ok(n) = self.socket.recv(&mut buf) {
            if let Err(e) = self.rx.handle_datagram(&buf[..n], now) {
                eprintln!("faxsend: a malformed UDPTL datagram: {e}");
            }
        }
        if self.rx.poll_timeout().is_some_and(|at| at <= now) {
            self.rx.handle_timeout(now);
        }
        while let Some((seq, ifp)) = self.rx.poll_ifp() {
            self.terminal.handle_ifp(&ifp, seq);
        }
    }

    pub fn poll_result(&mut self) -> Option<Reception> {
        self.terminal.poll_result()
    }

    /// IFPs rebuilt from redundancy or FEC, and given up on, in what zentrale sent us.
    pub fn udptl_stats(&self) -> zentrale::udptl::UdptlStats {
        self.rx.stats().clone()
    }
}

/// The largest IFP spandsp may send: room in the peer's largest datagram for the primary and,
/// with redundancy, the earlier IFPs each packet repeats (a few octets of UDPTL framing each).
fn max_ifp(remote: &T38Desc) -> u16 {
    let copies = match remote.ec {
        ErrorCorrection::Redundancy { depth } => 1 + usize::from(depth),
        ErrorCorrection::Fec { entries, .. } => 1 + usize::from(entries),
        ErrorCorrection::None => 1,
    };
    let each = remote.max_datagram.saturating_sub(8) / copies;
    u16::try_from(each.clamp(32, 1_000)).unwrap_or(1_000)
}

#[cfg(test)]
#[path = "media_tests.rs"]
mod tests;
