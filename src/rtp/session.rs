//! One call's media as a sans-IO state machine: the call contract is in the module doc of
//! [`crate::rtp`].

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use crate::clock::Instant;
use crate::media::Codec;

use super::event::Event as TelephoneEvent;
use super::jitter::{Frame, Jitter};
use super::latch::{Latch, Verdict};
use super::packet::Packet;
use super::sender::Sender;
use super::seq::SeqWindow;

/// Comfort noise (RFC 3389, static payload type 13 in RFC 3551 §6): ignored, the jitter buffer
/// fills the gap with silence in real time.
const COMFORT_NOISE: u8 = 13;
/// RTCP packet types 200-204 read as RTP payload types 72-76 with the marker bit (RFC 5761
/// §4). zentrale offers no rtcp-mux, but a peer that muxes anyway must not disturb the
/// sequence accounting or the latching with RTCP's length field and SSRC.
const RTCP_AS_RTP: std::ops::RangeInclusive<u8> = 72..=76;

/// What the SDP answer negotiated, and our SSRC (random, drawn by the driver).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionParams {
    pub codec: Codec,
    /// The codec's payload type number, as the offer numbered it.
    pub payload_type: u8,
    /// The telephone-event payload type, if negotiated.
    pub dtmf: Option<u8>,
    /// Where the SDP said the caller's media comes from and goes to.
    pub remote: SocketAddr,
    pub ssrc: u32,
}

impl SessionParams {
    /// The parameters an SDP answer negotiated, with our SSRC.
    pub fn from_answer(answer: &crate::media::Answer, ssrc: u32) -> SessionParams {
        SessionParams {
            codec: answer.codec,
            payload_type: answer.payload_type,
            dtmf: answer.dtmf,
            remote: answer.remote,
            ssrc,
        }
    }
}

/// What the session tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The next 20 ms of the caller's audio, in timestamp order, holes as silence.
    Audio(Frame),
    /// A key the caller pressed (RFC 4733), once per key press.
    Dtmf(char),
    /// Everything queued by `play` has been sent (with the last packet, so the far end hears
    /// its end about 20 ms plus its own jitter buffer later).
    PlayDone,
}

/// One datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    pub dest: SocketAddr,
    pub data: Vec<u8>,
}

/// Counters for the benchmark and the log, all since the session started. Every datagram is
/// counted once in `received` and once in exactly one of `malformed`, `strangers`, `learning`,
/// `comfort_noise`, `ignored`, `duplicates`, `accepted`; `late`, `same_timestamp` and
/// `overflow` count accepted packets the jitter buffer could not use.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handed in.
    pub received: u64,
    /// RTP packets from the accepted source with a negotiated payload type, not duplicates.
    pub accepted: u64,
    /// Datagrams that are not RTP version 2, and telephone-events that do not parse.
    pub malformed: u64,
    /// Dropped: from a source other than the accepted one.
    pub strangers: u64,
    /// Dropped while a NATed source was being learned.
    pub learning: u64,
    /// From the accepted source: comfort noise, ignored (silence fills its time).
    pub comfort_noise: u64,
    /// A payload type not negotiated (from the accepted source), or RTCP sent to the RTP port.
    pub ignored: u64,
    pub duplicates: u64,
    /// Arrived after their frame had gone out as silence.
    pub late: u64,
    /// A new sequence number but the timestamp of a packet held (a sender's repeat).
    pub same_timestamp: u64,
    /// Dropped because the jitter buffer held its maximum of packets.
    pub overflow: u64,
    /// Never arrived, counted from sequence numbers (RFC 3550 A.3).
    pub lost: u64,
    /// Samples released as silence for audio that did not arrive in time.
    pub concealed_samples: u64,
    /// The most an audio packet arrived after the earliest-arrival line expected it: the
    /// path's (and the sender's) worst jitter; beyond the window a packet is late.
    pub most_behind: Duration,
    /// Packets sent.
    pub sent: u64,
}

/// One call's RTP: receive (latching, jitter buffer, DTMF) and send (paced playback).
#[derive(Debug)]
pub struct Session {
    params: SessionParams,
    latch: Latch,
    sequence: SeqWindow,
    jitter: Jitter,
    sender: Sender,
    /// The last telephone-event seen: (SSRC, RTP timestamp), which names one key press.
    last_key: Option<(u32, u32)>,
    events: VecDeque<Event>,
    transmits: VecDeque<Transmit>,
    now: Instant,
    /// When the accepted source last sent anything (RTP inactivity ends a dead call).
    last_heard: Option<Instant>,
    stats: Stats,
}

impl Session {
    pub fn new(params: SessionParams, now: Instant) -> Session {
        Session {
            params,
            latch: Latch::new(params.remote),
            sequence: SeqWindow::default(),
            jitter: Jitter::started(now),
            sender: Sender::new(params.codec, params.payload_type, params.ssrc),
            last_key: None,
            events: VecDeque::new(),
            transmits: VecDeque::new(),
            now,
            last_heard: None,
            stats: Stats::default(),
        }
    }

    /// The same session with its jitter buffer waiting `window` for a missing packet (default
    /// [`super::WINDOW`]); how far ahead a packet is waited for and how much is held grow with
    /// it (see [`super::MAX_AHEAD`]).
    pub fn with_window(mut self, window: Duration) -> Session {
        self.jitter.set_window(window);
        self
    }

    /// One datagram that arrived on the call's port.
    pub fn handle_datagram(&mut self, from: SocketAddr, data: &[u8], now: Instant) {
        self.now = self.now.max(now);
        self.stats.received += 1;
        // Frames already due go first, so the packet is placed against the current timeline.
        self.jitter
            .release(self.now, &mut self.events, &mut self.stats);
        self.receive(from, data);
        self.handle_timeout(now);
    }

    /// Releases audio whose time has come and sends the packets that are due.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = self.now.max(now);
        let now = self.now;
        self.jitter.release(now, &mut self.events, &mut self.stats);
        let dest = self.latch.destination();
        let (transmits, stats) = (&mut self.transmits, &mut self.stats);
        let drained = self.sender.poll(now, |data| {
            stats.sent += 1;
            transmits.push_back(Transmit { dest, data });
        });
        if drained {
            self.events.push_back(Event::PlayDone);
        }
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// When [`Session::handle_timeout`] is next needed: the jitter buffer's next deadline or
    /// the next packet to send.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let jitter = self.jitter.deadline();
        let sender = self.sender.deadline(self.now);
        match (jitter, sender) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Appends 8 kHz PCM to the play queue; sending starts at the next `handle_timeout`.
    pub fn play(&mut self, samples: &[i16]) {
        self.sender.play(samples);
    }

    /// Empties the play queue (no `PlayDone` follows).
    pub fn stop_playing(&mut self) {
        self.sender.stop();
    }

    pub fn is_playing(&self) -> bool {
        self.sender.is_playing()
    }

    /// At hang-up: releases everything the jitter buffer holds, holes as silence. Call
    /// [`Session::catch_up`] first for the audio up to the hang-up.
    pub fn flush(&mut self) {
        self.jitter.flush(&mut self.events, &mut self.stats);
    }

    /// Releases the audio due by `now` without waiting for what is missing (its holes are
    /// silence): when the audio up to a moment is wanted at once — a hang-up, or a deadline
    /// that ends a recording. A key press does this by itself, so its audio comes before it.
    pub fn catch_up(&mut self, now: Instant) {
        self.now = self.now.max(now);
        self.jitter
            .catch_up(self.now, &mut self.events, &mut self.stats);
    }

    /// Where the caller's audio is at `now`: the [`Frame::position`] of the sample a packet
    /// arriving on time now would carry (the audio before it was spoken before `now`); None
    /// after [`Session::flush`].
    pub fn position_at(&self, now: Instant) -> Option<u64> {
        self.jitter.position_at(now)
    }

    pub fn stats(&self) -> Stats {
        Stats {
            lost: self.sequence.lost(),
            ..self.stats
        }
    }

    pub fn params(&self) -> &SessionParams {
        &self.params
    }

    /// When the accepted source last sent a packet (any payload type): a driver ends a call
    /// whose phone vanished without BYE after some seconds of nothing, as Asterisk's
    /// `rtptimeout` does.
    pub fn last_heard(&self) -> Option<Instant> {
        self.last_heard
    }

    /// The source media is accepted from, once one is (negotiated or learned).
    pub fn latched(&self) -> Option<SocketAddr> {
        self.latch.latched()
    }

    fn receive(&mut self, from: SocketAddr, data: &[u8]) {
        let Ok(packet) = Packet::parse(data) else {
            self.stats.malformed += 1;
            return;
        };
        if RTCP_AS_RTP.contains(&packet.payload_type) {
            self.stats.ignored += 1;
            return;
        }
        match self.latch.check(from, packet.ssrc, packet.sequence) {
            Verdict::Accept => {}
            Verdict::Learning => return self.stats.learning += 1,
            Verdict::Stranger => return self.stats.strangers += 1,
        }
        self.last_heard = Some(self.now);
        let pt = packet.payload_type;
        let audio = pt == self.params.payload_type;
        if !audio && Some(pt) != self.params.dtmf {
            // Comfort noise and payload types not negotiated are ignored, but they still use
            // up sequence numbers.
            self.sequence.record(packet.ssrc, packet.sequence);
            if pt == COMFORT_NOISE {
                self.stats.comfort_noise += 1;
            } else {
                self.stats.ignored += 1;
            }
            return;
        }
        if !self.sequence.record(packet.ssrc, packet.sequence) {
            self.stats.duplicates += 1;
            return;
        }
        if !audio {
            return self.telephone_event(&packet);
        }
        if packet.payload.is_empty() {
            self.stats.ignored += 1;
            return;
        }
        self.stats.accepted += 1;
        let mut samples = Vec::with_capacity(packet.payload.len());
        self.params.codec.decode(packet.payload, &mut samples);
        let key = (packet.ssrc, packet.timestamp);
        let (events, stats) = (&mut self.events, &mut self.stats);
        self.jitter.insert(key, samples, self.now, events, stats);
    }

    /// RFC 4733 §2.5: the updates and end retransmissions of one event share its RTP
    /// timestamp, so a key is reported on the first packet with a new (SSRC, timestamp) — at
    /// once, so a '#' ends a recording without waiting for the key's release.
    fn telephone_event(&mut self, packet: &Packet<'_>) {
        let Ok(event) = TelephoneEvent::parse(packet.payload) else {
            self.stats.malformed += 1;
            return;
        };
        self.stats.accepted += 1;
        let key = (packet.ssrc, packet.timestamp);
        if self.last_key == Some(key) {
            return;
        }
        self.last_key = Some(key);
        if let Some(digit) = event.digit() {
            // What was said before the key comes before it, however long the window.
            (self.jitter).catch_up(self.now, &mut self.events, &mut self.stats);
            self.events.push_back(Event::Dtmf(digit));
        }
    }
}
