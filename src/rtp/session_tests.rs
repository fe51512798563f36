//! The session's rules, each with constructed packets and a stepped clock.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::clock::Instant;
use crate::media::Codec;

const PCMA: u8 = 8;
const DTMF: u8 = 101;
const SSRC: u32 = 0x0bad_cafe;

fn remote() -> SocketAddr {
    "192.0.2.10:4000".parse().expect("addr")
}

fn nat() -> SocketAddr {
    "198.51.100.7:61000".parse().expect("addr")
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

struct Call {
    session: Session,
    t0: Instant,
}

impl Call {
    fn new() -> Call {
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

    fn at(&self, millis: u64) -> Instant {
        self.t0 + ms(millis)
    }

    /// A 20 ms PCMA packet of the caller's stream: sequence `n`, timestamp `160 * n`, every
    /// sample `level(n)`.
    fn audio(&mut self, n: u16, millis: u64) {
        let data = rtp(PCMA, n, 160 * u32::from(n), false, &pcma(level(n), 160));
        self.session
            .handle_datagram(remote(), &data, self.at(millis));
    }

    fn send(&mut self, from: SocketAddr, data: &[u8], millis: u64) {
        self.session.handle_datagram(from, data, self.at(millis));
    }

    fn tick(&mut self, millis: u64) {
        self.session.handle_timeout(self.at(millis));
    }

    fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.session.poll_event()).collect()
    }

    fn frames(&mut self) -> Vec<Frame> {
        self.events()
            .into_iter()
            .filter_map(|e| match e {
                Event::Audio(f) => Some(f),
                _ => None,
            })
            .collect()
    }

    fn transmits(&mut self) -> Vec<Transmit> {
        std::iter::from_fn(|| self.session.poll_transmit()).collect()
    }
}

fn level(n: u16) -> i16 {
    1000 + 64 * (n % 256) as i16
}

/// What a sample of `level` is after the A-law round trip.
fn heard(level: i16) -> i16 {
    Codec::Pcma.decode_sample(Codec::Pcma.encode_sample(level))
}

fn pcma(level: i16, samples: usize) -> Vec<u8> {
    vec![Codec::Pcma.encode_sample(level); samples]
}

fn rtp(pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
    rtp_from(SSRC, pt, seq, ts, marker, payload)
}

fn rtp_from(ssrc: u32, pt: u8, seq: u16, ts: u32, marker: bool, payload: &[u8]) -> Vec<u8> {
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
fn levels(frames: &[Frame]) -> Vec<Option<i16>> {
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

#[test]
fn in_order_packets_come_out_at_once_as_numbered_frames() {
    let mut call = Call::new();
    for n in 0..3 {
        call.audio(n, 20 * u64::from(n));
        let frames = call.frames();
        assert_eq!(frames.len(), 1, "packet {n} is a whole frame");
        assert_eq!(frames[0].position, 160 * u64::from(n));
        assert_eq!(frames[0].samples[0], heard(level(n)));
        assert_eq!(frames[0].media_time(), ms(20 * u64::from(n)));
    }
    let stats = call.session.stats();
    assert_eq!((stats.received, stats.accepted, stats.lost), (3, 3, 0));
}

#[test]
fn reordered_packets_come_out_in_timestamp_order() {
    let mut call = Call::new();
    call.audio(0, 0);
    call.audio(2, 40);
    assert_eq!(levels(&call.frames()), [Some(heard(level(0)))]);
    call.audio(1, 45);
    let frames = call.frames();
    assert_eq!(
        levels(&frames),
        [Some(heard(level(1))), Some(heard(level(2)))]
    );
    assert_eq!((frames[0].position, frames[1].position), (160, 320));
    assert_eq!(call.session.stats().lost, 0);
}

#[test]
fn a_lost_packet_becomes_silence_of_its_length_after_the_window() {
    let mut call = Call::new();
    call.audio(0, 0);
    call.audio(1, 20);
    call.audio(3, 60);
    assert_eq!(call.frames().len(), 2);
    // Packet 2 was due at 40 ms; it is waited for until 40 + 60 ms.
    let deadline = call.session.poll_timeout().expect("a hole waits");
    assert_eq!(deadline, call.at(100));
    call.tick(99);
    assert!(call.frames().is_empty());
    call.tick(100);
    let frames = call.frames();
    assert_eq!(levels(&frames), [None, Some(heard(level(3)))]);
    assert!(frames[0].samples.iter().all(|&s| s == 0));
    let stats = call.session.stats();
    assert_eq!((stats.lost, stats.concealed_samples), (1, 160));
}

#[test]
fn a_packet_after_its_frame_went_out_is_late_and_dropped() {
    let mut call = Call::new();
    call.audio(0, 0);
    call.audio(2, 40);
    call.tick(100);
    assert_eq!(
        levels(&call.frames()),
        [Some(heard(level(0))), None, Some(heard(level(2)))]
    );
    call.audio(1, 110);
    assert!(call.frames().is_empty());
    let stats = call.session.stats();
    assert_eq!(
        (stats.late, stats.lost, stats.concealed_samples),
        (1, 0, 160)
    );
}

#[test]
fn duplicates_are_dropped() {
    let mut call = Call::new();
    call.audio(0, 0);
    call.audio(0, 5);
    call.audio(1, 20);
    call.audio(1, 21);
    assert_eq!(call.frames().len(), 2);
    assert_eq!(call.session.stats().duplicates, 2);
}

#[test]
fn silence_keeps_coming_in_real_time_while_nothing_arrives() {
    let mut call = Call::new();
    call.audio(0, 0);
    call.tick(1000);
    let frames = call.frames();
    // Frame k is due at 20k + 60 ms: frames 1..=47 are due by one second, plus frame 0.
    assert_eq!(frames.len(), 48);
    assert!(frames[1..].iter().all(|f| f.concealed == 160));
    // The caller comes back on time: its packet joins the same timeline.
    call.audio(60, 1200);
    // Frames 58 and 59 (1160-1200 ms) never came: their holes close at 1220 and 1240 ms.
    call.tick(1239);
    assert_eq!(call.frames().last().map(|f| f.position), Some(58 * 160));
    call.tick(1240);
    let frames = call.frames();
    let last = frames.last().expect("frames");
    assert_eq!((last.position, last.concealed), (9600, 0));
}

#[test]
fn a_timestamp_jump_starts_a_new_timeline_without_inventing_silence() {
    let mut call = Call::new();
    call.audio(0, 0);
    // Ten minutes ahead (a sender restarting its clock), no marker.
    let far = rtp(PCMA, 1, 160 + 8000 * 600, false, &pcma(500, 160));
    call.send(remote(), &far, 20);
    // A talkspurt (marker) 300 ms ahead of where the timeline is.
    let spurt = rtp(
        PCMA,
        2,
        160 + 8000 * 600 + 160 + 2400,
        true,
        &pcma(700, 160),
    );
    call.send(remote(), &spurt, 40);
    let frames = call.frames();
    assert_eq!(
        levels(&frames),
        [Some(heard(level(0))), Some(heard(500)), Some(heard(700))]
    );
    assert_eq!(frames[2].position, 320, "no silence between the timelines");
    // Ten minutes back is a new timeline too.
    call.send(remote(), &rtp(PCMA, 3, 0, false, &pcma(900, 160)), 60);
    assert_eq!(levels(&call.frames()), [Some(heard(900))]);
    assert_eq!(call.session.stats().concealed_samples, 0);
}

#[test]
fn a_small_forward_jump_is_loss_bounded_by_max_ahead() {
    let mut call = Call::new();
    call.audio(0, 0);
    // 100 ms ahead without a marker: five packets lost, whose silence comes out by the time
    // the packet after them would have waited.
    call.send(remote(), &rtp(PCMA, 6, 960, false, &pcma(500, 160)), 20);
    call.tick(60);
    let frames = call.frames();
    assert_eq!(frames.len(), 7);
    assert_eq!(frames[6].position, 960);
    let silence: u64 = frames[1..6].iter().map(|f| u64::from(f.concealed)).sum();
    assert_eq!(silence, 800, "exactly the 100 ms the timestamps skipped");
}

#[test]
fn a_new_ssrc_continues_the_audio_where_the_old_one_ended() {
    let mut call = Call::new();
    call.audio(0, 0);
    let other = rtp_from(7, PCMA, 999, 123_456, false, &pcma(300, 160));
    call.send(remote(), &other, 20);
    let frames = call.frames();
    assert_eq!(levels(&frames), [Some(heard(level(0))), Some(heard(300))]);
    assert_eq!(frames[1].position, 160);
}

#[test]
fn media_from_a_stranger_is_dropped_once_the_negotiated_source_spoke() {
    let mut call = Call::new();
    call.audio(0, 0);
    let stranger: SocketAddr = "203.0.113.66:5004".parse().expect("addr");
    for n in 1..10 {
        let data = rtp_from(99, PCMA, n, 160 * u32::from(n), false, &pcma(-5000, 160));
        call.send(stranger, &data, 20 * u64::from(n));
    }
    assert!(call.frames().iter().all(|f| f.samples[0] != heard(-5000)));
    assert_eq!(call.session.stats().strangers, 9);
    assert_eq!(call.session.latched(), Some(remote()));
}

#[test]
fn a_nated_caller_is_latched_after_four_consecutive_packets() {
    let mut call = Call::new();
    let send = |call: &mut Call, seq: u16, ssrc: u32, millis: u64| {
        let data = rtp_from(
            ssrc,
            PCMA,
            seq,
            160 * u32::from(seq),
            false,
            &pcma(400, 160),
        );
        call.send(nat(), &data, millis);
    };
    // A gap in the sequence and an SSRC change each restart the count.
    send(&mut call, 10, SSRC, 0);
    send(&mut call, 11, SSRC, 20);
    send(&mut call, 13, SSRC, 40);
    send(&mut call, 14, 42, 60);
    send(&mut call, 15, 42, 80);
    send(&mut call, 16, 42, 100);
    assert!(call.frames().is_empty());
    assert_eq!(call.session.latched(), None);
    assert_eq!(call.session.stats().learning, 6);
    send(&mut call, 17, 42, 120);
    assert_eq!(LEARN_PACKETS, 4);
    assert_eq!(call.session.latched(), Some(nat()));
    assert_eq!(levels(&call.frames()), [Some(heard(400))]);
    // Media goes back where it comes from; the negotiated address is now a stranger.
    call.session.play(&[0; 160]);
    call.tick(120);
    assert_eq!(call.transmits()[0].dest, nat());
    call.audio(1, 140);
    assert_eq!(call.session.stats().strangers, 1);
}

#[test]
fn an_ipv4_mapped_source_is_the_negotiated_one() {
    let mut call = Call::new();
    let mapped: SocketAddr = "[::ffff:192.0.2.10]:4000".parse().expect("addr");
    let data = rtp(PCMA, 0, 0, false, &pcma(100, 160));
    call.send(mapped, &data, 0);
    assert_eq!(call.frames().len(), 1);
    assert_eq!(call.session.latched(), Some(remote()));
}

#[test]
fn each_key_press_comes_out_once() {
    let mut call = Call::new();
    call.audio(0, 0);
    // '#' (11) at timestamp 160: three updates, then the end packet three times.
    let mut seq = 1;
    for (duration, end) in [
        (160, false),
        (320, false),
        (480, false),
        (640, true),
        (640, true),
        (640, true),
    ] {
        let event = TelephoneEvent {
            code: 11,
            end,
            volume: 10,
            duration,
        };
        let mut payload = Vec::new();
        event.print(&mut payload);
        call.send(
            remote(),
            &rtp(DTMF, seq, 160, seq == 1, &payload),
            20 * u64::from(seq),
        );
        seq += 1;
    }
    // '5' pressed next, and '#' again: new timestamps, new keys.
    for (code, ts) in [(5, 2000), (11, 4000)] {
        let payload = [code, 0x80, 0, 160];
        call.send(
            remote(),
            &rtp(DTMF, seq, ts, true, &payload),
            20 * u64::from(seq),
        );
        seq += 1;
    }
    let keys: String = call
        .events()
        .into_iter()
        .filter_map(|e| match e {
            Event::Dtmf(c) => Some(c),
            _ => None,
        })
        .collect();
    assert_eq!(keys, "#5#");
}

#[test]
fn comfort_noise_and_other_payload_types_are_ignored_but_not_lost() {
    let mut call = Call::new();
    call.audio(0, 0);
    call.send(remote(), &rtp(13, 1, 160, false, &[40]), 20);
    call.send(remote(), &rtp(0, 2, 320, false, &pcma(-9000, 160)), 40);
    call.audio(3, 60);
    let frames = call.frames();
    assert!(frames.iter().all(|f| f.samples[0] != heard(-9000)));
    let stats = call.session.stats();
    assert_eq!((stats.ignored, stats.lost, stats.accepted), (2, 0, 2));
    call.send(remote(), b"not rtp", 70);
    assert_eq!(call.session.stats().malformed, 1);
}

#[test]
fn flush_at_hang_up_releases_what_is_held() {
    let mut call = Call::new();
    call.audio(0, 0);
    call.audio(2, 40);
    assert_eq!(call.frames().len(), 1);
    call.session.flush();
    assert_eq!(levels(&call.frames()), [None, Some(heard(level(2)))]);
    assert_eq!(
        call.session.poll_timeout(),
        None,
        "no more silence after hang-up"
    );
}

#[test]
fn playback_is_paced_at_20_ms_with_correct_headers() {
    let mut call = Call::new();
    call.session.play(&vec![1000; 3 * 160 + 80]);
    assert_eq!(call.session.poll_timeout(), Some(call.at(0)));
    call.tick(0);
    let first = call.transmits();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].dest, remote());
    let p0 = Packet::parse(&first[0].data)
        .expect("rtp")
        .to_owned_header();
    assert!(p0.marker, "first packet of a talkspurt");
    assert_eq!(
        (p0.payload_type, p0.ssrc, p0.payload_len),
        (PCMA, 0x1234_5678, 160)
    );
    assert_eq!(call.session.poll_timeout(), Some(call.at(20)));
    call.tick(19);
    assert!(call.transmits().is_empty());
    let mut headers = vec![p0];
    for t in [20, 40, 60] {
        call.tick(t);
        let sent = call.transmits();
        assert_eq!(sent.len(), 1, "one packet at {t} ms");
        headers.push(Packet::parse(&sent[0].data).expect("rtp").to_owned_header());
    }
    for (i, h) in headers.iter().enumerate().skip(1) {
        assert!(!h.marker);
        assert_eq!(h.sequence, p0.sequence.wrapping_add(i as u16));
        assert_eq!(h.timestamp, p0.timestamp.wrapping_add(160 * i as u32));
        assert_eq!(h.payload_len, 160, "the last one padded with silence");
    }
    assert_eq!(call.events(), [Event::PlayDone]);
    assert_eq!(call.session.poll_timeout(), None);
    assert_eq!(call.session.stats().sent, 4);

    // After a pause of 1 s (from 80 ms, when the next packet would have been due): a new
    // talkspurt, marker set, sequence continuing, timestamp moved on by the pause.
    call.session.play(&[0; 160]);
    call.tick(1080);
    let next = Packet::parse(&call.transmits()[0].data)
        .expect("rtp")
        .to_owned_header();
    assert!(next.marker);
    assert_eq!(next.sequence, p0.sequence.wrapping_add(4));
    assert_eq!(next.timestamp, p0.timestamp.wrapping_add(4 * 160 + 8000));
}

#[test]
fn a_stalled_driver_gets_no_burst_and_stop_ends_playback_silently() {
    let mut call = Call::new();
    call.session.play(&vec![0; 10 * 160]);
    call.tick(0);
    call.tick(200);
    assert_eq!(
        call.transmits().len(),
        2,
        "one at 0 ms, one at 200 ms, not ten"
    );
    call.session.stop_playing();
    call.tick(220);
    call.tick(400);
    assert!(call.transmits().is_empty());
    assert!(call.events().is_empty(), "stop sends no PlayDone");
    assert!(!call.session.is_playing());
}

/// The header fields a test compares, without the borrow of the datagram.
#[derive(Debug, Clone, Copy)]
struct Header {
    marker: bool,
    payload_type: u8,
    sequence: u16,
    timestamp: u32,
    ssrc: u32,
    payload_len: usize,
}

trait OwnedHeader {
    fn to_owned_header(&self) -> Header;
}

impl OwnedHeader for Packet<'_> {
    fn to_owned_header(&self) -> Header {
        Header {
            marker: self.marker,
            payload_type: self.payload_type,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
            payload_len: self.payload.len(),
        }
    }
}

#[test]
fn with_loss_and_reordering_the_audio_lasts_as_long_as_the_call() {
    let mut call = Call::new();
    // Ten seconds of 20 ms packets: every 20th lost (5%), every 7th delayed by 45 ms, so it
    // arrives after the two that follow it (reordered); the last one arrives.
    let mut arrivals: Vec<(u64, u16)> = (0..500u16)
        .filter(|n| n % 20 != 13)
        .map(|n| (20 * u64::from(n) + if n % 7 == 3 { 45 } else { 0 }, n))
        .collect();
    arrivals.sort_unstable();
    let mut frames = 0;
    for (at, n) in arrivals {
        let data = rtp(
            PCMA,
            n,
            160 * u32::from(n),
            false,
            &pcma(level(n % 50), 160),
        );
        call.send(remote(), &data, at);
        frames += call.frames().len();
    }
    call.session.flush();
    frames += call.frames().len();
    assert_eq!(frames, 500, "10 s of packets are 10 s of audio");
    let stats = call.session.stats();
    assert_eq!((stats.lost, stats.late), (25, 0));
    assert_eq!(stats.concealed_samples, 25 * 160);
}

#[test]
fn ten_ms_packets_fill_20_ms_frames() {
    let mut call = Call::new();
    for n in 0..4u16 {
        let data = rtp(PCMA, n, 80 * u32::from(n), false, &pcma(level(n), 80));
        call.send(remote(), &data, 10 * u64::from(n));
    }
    let frames = call.frames();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].samples[0], heard(level(2)));
    assert_eq!(frames[1].samples[80], heard(level(3)));
    assert_eq!(frames[1].concealed, 0);
}

#[test]
fn a_sender_with_a_slow_clock_costs_one_late_packet_per_window_of_drift() {
    let mut call = Call::new();
    // 1% slow (far worse than real oscillators' 0.01%): packet n arrives at 20.2 n ms.
    let mut frames = 0;
    for n in 0..1000u16 {
        call.audio(n, u64::from(n) * 202 / 10);
        frames += call.frames().len();
    }
    call.session.flush();
    frames += call.frames().len();
    assert_eq!(frames, 1000);
    let late = call.session.stats().late;
    assert!(
        (1..=4).contains(&late),
        "{late} late: 200 ms of drift is about three windows"
    );
}
