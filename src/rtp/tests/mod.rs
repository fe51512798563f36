//! The session's rules, each with constructed packets and a stepped clock: `jitter` (frames,
//! loss, reordering, timelines), `long_window` (a recording's 2 s window), `source` (latching, strangers, DTMF, payload types), `send`
//! (pacing, PlayDone). This file holds the helpers they share.

mod jitter;
mod long_window;
mod send;
mod source;

pub(super) use std::net::SocketAddr;
pub(super) use std::time::Duration;

pub(super) use super::*;
pub(super) use crate::clock::Instant;
pub(super) use crate::media::Codec;

pub(super) const PCMA: u8 = 8;
pub(super) const DTMF: u8 = 101;
pub(super) const SSRC: u32 = 0x0bad_cafe;

pub(super) fn remote() -> SocketAddr {
    "192.0.2.10:4000".parse().expect("addr")
}

pub(super) fn nat() -> SocketAddr {
    "198.51.100.7:61000".parse().expect("addr")
}

pub(super) fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub(super) struct Call {
    pub(super) session: Session,
    pub(super) t0: Instant,
}

impl Call {
    pub(super) fn new() -> Call {
        let t0 = crate::clock::now();
        let params = SessionParams {
            codec: Codec::Pcma,
            payload_type: PCMA,
            dtmf: Some(DTMF),
            remote: remote(),
            ssrc: 0x1234_5678,
        };
        Call {
            session: Session::new(params, t0),
            t0,
        }
    }

    pub(super) fn at(&self, millis: u64) -> Instant {
        self.t0 + ms(millis)
    }

    /// A 20 ms PCMA packet of the caller's stream: sequence `n`, timestamp `160 * n`, every
    /// sample `level(n)`.
    pub(super) fn audio(&mut self, n: u16, millis: u64) {
        let data = rtp(PCMA, n, 160 * u32::from(n), false, &pcma(level(n), 160));
        self.session
            .handle_datagram(remote(), &data, self.at(millis));
    }

    pub(super) fn send(&mut self, from: SocketAddr, data: &[u8], millis: u64) {
        self.session.handle_datagram(from, data, self.at(millis));
    }

    pub(super) fn tick(&mut self, millis: u64) {
        self.session.handle_timeout(self.at(millis));
    }

    pub(super) fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    /// The events but audio (which flows, silence at least, from the answer on).
    pub(super) fn signals(&mut self) -> Vec<Event> {
        (self.events().into_iter())
            .filter(|e| !matches!(e, Event::Audio(_)))
            .collect()
    }

    pub(super) fn frames(&mut self) -> Vec<Frame> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Audio(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    pub(super) fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.session.poll_transmit()).collect()
    }
}

pub(super) fn level(n: u16) -> i16 {
    1000 + 64 * (n % 256) as i16
}

/// What a sample of `level` is after the A-law round trip.
pub(super) fn heard(level: i16) -> i16 {
    Codec::Pcma.decode_sample(Codec::Pcma.encode_sample(level))
}

pub(super) fn pcma(level: i16, samples: usize) -> Vec<u8> {
    vec![Codec::Pcma.encode_sample(level); samples]
}

pub(super) fn rtp(pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    rtp_from(SSRC, pt, seq, ts, marker, payload)
}

pub(super) fn rtp_from(
    ssrc: u32,
    pt: u8,
    seq: u16,
    ts: u32,
    marker: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut out = Vec::new();
    Packet {
        marker,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
        csrc: &[],
        extension: None,
        payload,
        padding: 0,
    }
    .print(&mut out);
    out
}

/// The level of each frame, `None` for a frame that is all concealment silence.
pub(super) fn levels(frames: &[Frame]) -> Vec<Option<i16>> {
    frames
        .iter()
        .map(|f| {
            assert!(
                f.samples.iter().all(|&s| s == f.samples[0]),
                "one level per frame"
            );
            (f.concealed == 0).then_some(f.samples[0])
        })
        .collect()
}
