//! The receive side's jitter buffer: decoded samples placed on a timeline by their RTP
//! timestamp, released as 20 ms frames in timestamp order.
//!
//! * A frame goes out as soon as all its samples are there. A frame with a hole waits until
//!   the window ([`WINDOW`] unless set) after the hole's samples were due, then goes out with silence in the hole: a
//!   lost packet becomes silence of its length, and while nothing arrives at all (also before
//!   the first packet), silence frames keep coming in real time, so the audio lasts as long as
//!   the call did.
//! * "Due" follows the earliest arrivals: the line `arrival - timestamp` is moved earlier by any
//!   packet that beats it, and later by a packet that missed its frame (so a sender whose clock
//!   runs slow costs one late packet per window of drift, not all of them).
//! * 60 ms is three 20 ms packets: it absorbs the reordering and jitter of an office LAN or a
//!   decent Internet path (a few tens of ms) while a '#' or a hang-up still ends the recording
//!   quickly; recordings need no lower latency than that, calls to humans need no more.
//! * Talkspurts: a sender that stops during silence (VAD/DTX) and marks its next packet
//!   (RFC 3551 §4.1) needs no special case. Its timestamps moved on with real time, and so did
//!   the silence frames released meanwhile, so the new talkspurt lands close to the next frame.
//! * Timeline breaks: a new SSRC, a jump of more than [`MAX_AHEAD`] (plus the window's excess
//!   over [`WINDOW`]) forward or [`MAX_BEHIND`] back (a sender that restarted its timestamps).
//!   What is buffered is released and the new timeline starts where the earliest-arrival line
//!   is at the packet's arrival, so a jump never turns into silence and never takes time away:
//!   the audio still lasts as long as the call did.
//! * A longer window (a recording, which nobody hears live: see the voicemail driver) makes a
//!   sender that stalls and then bursts lose nothing, at the cost of holding packets behind a
//!   hole for longer. [`Jitter::catch_up`] releases everything due by `now` without waiting
//!   (hang-up, a key that ends a recording, the maximum length), so waiting longer never
//!   shortens or delays the end of the audio.

use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use crate::clock::Instant;

use super::session::{Event, Stats};

/// Samples per frame: 20 ms at 8 kHz.
pub const FRAME: usize = 160;
/// How long a hole is waited for before it becomes silence, unless the owner sets another
/// ([`crate::rtp::Session::with_window`]).
pub const WINDOW: Duration = Duration::from_millis(60);
/// A packet further ahead of the next frame than this (in samples, 200 ms) starts a new
/// timeline instead of being waited for, with the default window. A longer window adds its
/// excess: while nothing arrives (VAD/DTX silence) the frames go out a window behind real
/// time, so the next talkspurt lands ahead of the next frame by up to the window.
pub const MAX_AHEAD: i64 = 1600;
/// A packet further behind the next frame than this (in samples, 1 s) starts a new timeline
/// instead of being dropped as late.
pub const MAX_BEHIND: i64 = 8000;
/// The most packets held with the default window (a 20 ms stream keeps 3-4; this bounds a peer
/// sending overlaps); a longer window scales it with its [`MAX_AHEAD`].
const MAX_PACKETS: usize = 64;
const SAMPLE: Duration = Duration::from_micros(125);

/// 20 ms of 8 kHz audio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Always [`FRAME`] samples (boxed: an event queue of frames stays small).
    pub samples: Box<[i16; FRAME]>,
    /// Samples released before this frame: its place in the call's audio.
    pub position: u64,
    /// How many of the samples are silence put in for audio that did not arrive in time.
    pub concealed: u16,
}

impl Frame {
    /// Where this frame starts in the call's audio.
    pub fn media_time(&self) -> Duration {
        Duration::from_micros(self.position.saturating_mul(125))
    }
}

#[derive(Debug, Clone, Copy)]
struct Timeline {
    /// None before the first packet: a line of silence from the answer on.
    ssrc: Option<u32>,
    /// The RTP timestamp of the sample at `Jitter::next`.
    next_ts: u32,
    /// The earliest-arrival line: the packet starting at `base_pos` was due at `base_at`.
    base_at: Instant,
    base_pos: u64,
}

impl Timeline {
    /// When the packet starting at `position` is expected on the earliest-arrival line.
    fn expected(&self, position: u64) -> Instant {
        let delta = position as i64 - self.base_pos as i64;
        let offset = SAMPLE * u32::try_from(delta.unsigned_abs()).unwrap_or(u32::MAX);
        if delta >= 0 {
            self.base_at.checked_add(offset).unwrap_or(self.base_at)
        } else {
            self.base_at.checked_sub(offset).unwrap_or(self.base_at)
        }
    }

    /// The position expected to arrive at `now` on the earliest-arrival line.
    fn position_at(&self, now: Instant) -> u64 {
        let samples = |d: Duration| u64::try_from(d.as_micros() / SAMPLE.as_micros());
        match now.checked_duration_since(self.base_at) {
            Some(ahead) => self
                .base_pos
                .saturating_add(samples(ahead).unwrap_or(u64::MAX)),
            None => (self.base_pos).saturating_sub(samples(self.base_at - now).unwrap_or(u64::MAX)),
        }
    }
}

#[derive(Debug)]
pub(super) struct Jitter {
    timeline: Option<Timeline>,
    /// Decoded packets by the position of their first sample; every key is at or after `next`.
    held: BTreeMap<u64, Vec<i16>>,
    /// The position of the next frame's first sample.
    next: u64,
    /// How long a hole is waited for.
    window: Duration,
    /// Bounds that follow from the window: see [`Bounds`].
    bounds: Bounds,
    /// Samples in `held`.
    held_samples: usize,
}

/// What the window allows: how far ahead a packet is waited for, and how much is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Bounds {
    /// Samples a packet may lie ahead of the next frame before it starts a new timeline.
    pub(super) max_ahead: i64,
    /// Packets held at most.
    pub(super) max_packets: usize,
    /// Samples held at most: twice what lies between the next frame and `max_ahead` (a peer
    /// sending overlapping packets or packets of a second each gets no more memory than that).
    pub(super) max_samples: usize,
}

impl Bounds {
    /// The bounds of `window`. The default 60 ms: 1,600 samples ahead, 64 packets, 3,520
    /// samples (7 KB). 2 s: 17,120 samples (2.14 s) ahead, 428 packets, 34,560 samples
    /// (69 KB, and some 20 KB for the packets' bookkeeping).
    pub(super) fn of(window: Duration) -> Bounds {
        let extra = window.saturating_sub(WINDOW).as_micros() / SAMPLE.as_micros();
        let max_ahead = MAX_AHEAD.saturating_add(i64::try_from(extra).unwrap_or(i64::MAX));
        let ahead = usize::try_from(max_ahead).unwrap_or(usize::MAX);
        Bounds {
            max_ahead,
            // 5 ms packets (40 samples) all the way ahead.
            max_packets: MAX_PACKETS.max(ahead / 40),
            max_samples: ahead.saturating_add(FRAME).saturating_mul(2),
        }
    }
}

impl Jitter {
    /// A buffer whose silence runs from `now` (the answer): what the caller does not send
    /// before their first packet is silence too, so a recording started before it lasts as
    /// long as it ran.
    pub(super) fn started(now: Instant) -> Jitter {
        Jitter {
            timeline: Some(Timeline {
                ssrc: None,
                next_ts: 0,
                base_at: now,
                base_pos: 0,
            }),
            held: BTreeMap::new(),
            next: 0,
            window: WINDOW,
            bounds: Bounds::of(WINDOW),
            held_samples: 0,
        }
    }

    pub(super) fn set_window(&mut self, window: Duration) {
        self.window = window;
        self.bounds = Bounds::of(window);
    }

    /// Where the caller's audio is at `now` (the position a packet arriving on time now would
    /// have); None after [`Jitter::flush`].
    pub(super) fn position_at(&self, now: Instant) -> Option<u64> {
        Some(self.timeline?.position_at(now))
    }

    /// Places the samples of the packet (SSRC, RTP timestamp); frames are released by
    /// [`Jitter::release`].
    pub(super) fn insert(
        &mut self,
        (ssrc, ts): (u32, u32),
        mut samples: Vec<i16>,
        now: Instant,
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) {
        let Some(line) = self.timeline else {
            return self.restart(ssrc, ts, samples, now, events, stats);
        };
        let ahead = i64::from(ts.wrapping_sub(line.next_ts) as i32);
        if line.ssrc != Some(ssrc) || !(-MAX_BEHIND..=self.bounds.max_ahead).contains(&ahead) {
            return self.restart(ssrc, ts, samples, now, events, stats);
        }
        let start = self.next as i64 + ahead;
        let end = start + samples.len() as i64;
        if let Ok(position) = u64::try_from(start) {
            let behind = now.saturating_duration_since(line.expected(position));
            stats.most_behind = stats.most_behind.max(behind);
        }
        if end <= self.next as i64 {
            stats.late += 1;
            self.set_line(now, start);
            return;
        }
        if start < self.next as i64 {
            samples.drain(..(self.next as i64 - start) as usize);
        }
        let start = start.max(self.next as i64) as u64;
        if start == self.next && self.held.is_empty() {
            // The next frame, whole, nothing waiting: out as it is (most packets).
            match Box::<[i16; FRAME]>::try_from(samples) {
                Ok(whole) => {
                    if now < line.expected(start) {
                        self.set_line(now, start as i64);
                    }
                    return self.put_out(whole, 0, events, stats);
                }
                Err(other) => samples = other,
            }
        }
        if self.held.contains_key(&start) {
            stats.same_timestamp += 1;
            return;
        }
        let full = self.held_samples + samples.len() > self.bounds.max_samples;
        if full || self.held.len() >= self.bounds.max_packets {
            stats.overflow += 1;
            return;
        }
        if now < line.expected(start) {
            self.set_line(now, start as i64);
        }
        self.hold(start, samples);
    }

    /// Releases every frame that is complete or whose hole has waited the window.
    pub(super) fn release(
        &mut self,
        now: Instant,
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) {
        while let Some(line) = self.timeline {
            match self.first_hole() {
                Some(hole) if now < line.expected(hole) + self.window => break,
                _ => self.emit(events, stats),
            }
        }
    }

    /// Releases every frame whose audio was due by `now` (its last sample's time has come)
    /// without waiting for what is missing: its holes go out as silence at once.
    pub(super) fn catch_up(
        &mut self,
        now: Instant,
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) {
        let frame_time = SAMPLE * FRAME as u32;
        while let Some(line) = self.timeline {
            if self.first_hole().is_some() && now < line.expected(self.next) + frame_time {
                break;
            }
            self.emit(events, stats);
        }
    }

    /// When the next frame goes out even if its hole stays open.
    pub(super) fn deadline(&self) -> Option<Instant> {
        let line = self.timeline?;
        Some(line.expected(self.first_hole()?) + self.window)
    }

    /// Releases everything held, holes as silence, and stops the timeline (hang-up).
    pub(super) fn flush(&mut self, events: &mut VecDeque<Event>, stats: &mut Stats) {
        while !self.held.is_empty() {
            self.emit(events, stats);
        }
        self.timeline = None;
    }

    /// A new timeline from this packet on. It starts where the old line is at `now`, rounded
    /// to a frame (or at the next frame if that is later): the time that passed since the
    /// last frame stays in the audio, as silence released in real time, give or take half a
    /// frame. On a frame boundary, a stream of 20 ms packets keeps filling whole frames.
    fn restart(
        &mut self,
        ssrc: u32,
        ts: u32,
        samples: Vec<i16>,
        now: Instant,
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) {
        let at = self.position_at(now).unwrap_or(0);
        self.flush(events, stats);
        let frame = FRAME as u64;
        let start = (at + frame / 2) / frame * frame;
        let start = start.max(self.next);
        self.timeline = Some(Timeline {
            ssrc: Some(ssrc),
            next_ts: ts.wrapping_sub((start - self.next) as u32),
            base_at: now,
            base_pos: start,
        });
        if self.held_samples + samples.len() > self.bounds.max_samples {
            stats.overflow += 1;
            return;
        }
        self.hold(start, samples);
    }

    fn hold(&mut self, start: u64, samples: Vec<i16>) {
        self.held_samples += samples.len();
        self.held.insert(start, samples);
    }

    fn set_line(&mut self, now: Instant, position: i64) {
        if let Some(line) = &mut self.timeline {
            line.base_at = now;
            line.base_pos = position.max(0) as u64;
        }
    }

    /// The first position of the next frame that no held packet covers.
    fn first_hole(&self) -> Option<u64> {
        if self.held.is_empty() {
            // Between the packets of an in-order stream: asked on every packet and timeout.
            return Some(self.next);
        }
        let end = self.next + FRAME as u64;
        let mut covered = self.next;
        for (&start, samples) in self.held.range(..end) {
            if start > covered {
                return Some(covered);
            }
            covered = covered.max(start + samples.len() as u64);
        }
        (covered < end).then_some(covered)
    }

    /// Puts out the next frame from what is held, silence where nothing is.
    fn emit(&mut self, events: &mut VecDeque<Event>, stats: &mut Stats) {
        let end = self.next + FRAME as u64;
        let mut frame = Frame {
            samples: Box::new([0; FRAME]),
            position: self.next,
            concealed: 0,
        };
        let mut filled = [false; FRAME];
        while let Some(entry) = self.held.first_entry() {
            if *entry.key() >= end {
                break;
            }
            let (start, samples) = entry.remove_entry();
            self.held_samples -= samples.len();
            let offset = (start - self.next) as usize;
            let take = samples.len().min(FRAME - offset);
            frame.samples[offset..offset + take].copy_from_slice(&samples[..take]);
            filled[offset..offset + take].fill(true);
            if take < samples.len() {
                // The rest belongs to the next frame; an overlap already held there wins.
                if !self.held.contains_key(&end) {
                    self.hold(end, samples[take..].to_vec());
                }
            }
        }
        let concealed = filled.iter().filter(|f| !**f).count() as u16;
        self.put_out(frame.samples, concealed, events, stats);
    }

    /// The next frame goes out.
    fn put_out(
        &mut self,
        samples: Box<[i16; FRAME]>,
        concealed: u16,
        events: &mut VecDeque<Event>,
        stats: &mut Stats,
    ) {
        stats.concealed_samples += u64::from(concealed);
        let frame = Frame {
            samples,
            position: self.next,
            concealed,
        };
        self.next += FRAME as u64;
        if let Some(line) = &mut self.timeline {
            line.next_ts = line.next_ts.wrapping_add(FRAME as u32);
        }
        events.push_back(Event::Audio(frame));
    }
}
