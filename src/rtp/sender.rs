//! The send side: a queue of PCM cut into 20 ms packets, one every 20 ms of `now`.
//!
//! RFC 3550 §5.1: the sequence number goes up by one per packet; the timestamp counts sampling
//! instants, so after a pause (nothing to play: no packets, no comfort noise) it jumps by the
//! pause's length, and the first packet after it (the first of a talkspurt) carries the
//! marker bit (RFC 3551 §4.1). Initial sequence number and timestamp "SHOULD be random"
//! (§5.1); they are derived from the SSRC, which the driver draws at random, so the core
//! needs no random source.

use std::collections::VecDeque;
use std::time::Duration;

use crate::clock::Instant;
use crate::media::Codec;

use super::jitter::FRAME;
use super::packet::Packet;

/// One packet's worth of time.
const PTIME: Duration = Duration::from_millis(20);
/// If the driver falls this many packets behind (a stalled task), the pacing restarts from
/// `now` instead of sending the backlog in a burst the caller's jitter buffer would drop.
const MAX_BURST: u32 = 3;

#[derive(Debug)]
pub(super) struct Sender {
    codec: Codec,
    payload_type: u8,
    ssrc: u32,
    sequence: u16,
    /// The timestamp of the next packet of the current talkspurt.
    timestamp: u32,
    queue: VecDeque<i16>,
    /// When the next packet is due, while a talkspurt runs.
    next_at: Option<Instant>,
    /// The end of the last talkspurt: when its next packet would have been due.
    paused_at: Option<Instant>,
}

impl Sender {
    pub(super) fn new(codec: Codec, payload_type: u8, ssrc: u32) -> Sender {
        Sender {
            codec,
            payload_type,
            ssrc,
            sequence: (ssrc >> 16) as u16 ^ (ssrc as u16).rotate_left(7),
            timestamp: ssrc.rotate_left(13) ^ 0x9e37_79b9,
            queue: VecDeque::new(),
            next_at: None,
            paused_at: None,
        }
    }

    pub(super) fn play(&mut self, samples: &[i16]) {
        self.queue.extend(samples);
    }

    /// Drops what is queued; no `PlayDone` follows.
    pub(super) fn stop(&mut self) {
        self.pause();
    }

    pub(super) fn is_playing(&self) -> bool {
        !self.queue.is_empty()
    }

    /// When the next packet is due: at `now_hint` (the last `now` seen) for a new talkspurt.
    pub(super) fn deadline(&self, now_hint: Instant) -> Option<Instant> {
        self.is_playing().then(|| self.next_at.unwrap_or(now_hint))
    }

    /// Sends every packet due by `now`; true when the queue ran dry (the last one went out).
    pub(super) fn poll(&mut self, now: Instant, mut send: impl FnMut(Vec<u8>)) -> bool {
        let mut drained = false;
        while self.is_playing() {
            let marker = match self.next_at {
                Some(at) if at > now => break,
                Some(at) if now.duration_since(at) >= PTIME * MAX_BURST => {
                    // The skipped time is a gap in the media, as a pause is.
                    self.paused_at = Some(at);
                    self.resume(now);
                    false
                }
                Some(_) => false,
                None => {
                    self.resume(now);
                    true
                }
            };
            send(self.packet(marker));
            self.next_at = self.next_at.map(|at| at + PTIME);
            if !self.is_playing() {
                self.pause();
                drained = true;
            }
        }
        drained
    }

    /// A new talkspurt at `now`: the timestamp moves on by the pause.
    fn resume(&mut self, now: Instant) {
        if let Some(paused) = self.paused_at.take() {
            let pause = now.saturating_duration_since(paused);
            let samples = (pause.as_micros() / 125) as u32;
            self.timestamp = self.timestamp.wrapping_add(samples);
        }
        self.next_at = Some(now);
    }

    /// The end of a talkspurt; the queue's memory (a greeting is about 100 KB) goes back.
    fn pause(&mut self) {
        self.queue = VecDeque::new();
        if let Some(at) = self.next_at.take() {
            self.paused_at = Some(at);
        }
    }

    /// The next 20 ms from the queue (the last, short one padded with silence).
    fn packet(&mut self, marker: bool) -> Vec<u8> {
        let take = self.queue.len().min(FRAME);
        let mut payload = Vec::with_capacity(FRAME);
        let codec = self.codec;
        payload.extend(self.queue.drain(..take).map(|s| codec.encode_sample(s)));
        payload.resize(FRAME, codec.encode_sample(0));
        let packet = Packet {
            marker,
            payload_type: self.payload_type,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            csrc: &[],
            extension: None,
            payload: &payload,
            padding: 0,
        };
        let mut out = Vec::with_capacity(packet.len());
        packet.print(&mut out);
        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(FRAME as u32);
        out
    }
}
