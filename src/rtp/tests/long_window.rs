//! A recording's long window (2 s): a sender that stalls and bursts loses nothing, real loss
//! is still silence of its length, a talkspurt after DTX silence keeps the pause's length, the
//! audio up to a hang-up or a key comes out at once, and what is held stays bounded.

use super::*;
use crate::rtp::jitter::Bounds;

const LONG: Duration = Duration::from_secs(2);

fn recording() -> Call {
    let mut call = Call::new();
    call.session = Session::new(*call.session.params(), call.t0).with_window(LONG);
    call
}

/// Packet `n` of the stream arriving at `millis`; the frames it let out.
fn packet(call: &mut Call, n: u16, millis: u64) -> Vec<Frame> {
    call.audio(n, millis);
    call.frames()
}

#[test]
fn a_sender_that_stalls_for_1_5_s_and_then_bursts_loses_nothing() {
    let mut call = recording();
    let mut frames = Vec::new();
    for n in 0..50 {
        frames.extend(packet(&mut call, n, 20 * u64::from(n)));
    }
    // Packets 50..125 (1 s to 2.5 s) are held up in the sender and all arrive at 2.5 s; the
    // driver ticked every 20 ms meanwhile.
    for t in (1000..2500).step_by(20) {
        call.tick(t);
        frames.extend(call.frames());
    }
    for n in 50..150 {
        let at = 2500.max(20 * u64::from(n));
        frames.extend(packet(&mut call, n, at));
    }
    let stats = call.session.stats();
    assert_eq!((stats.late, stats.lost, stats.overflow), (0, 0, 0));
    assert_eq!(stats.most_behind, ms(1500), "packet 50 was due at 1 s");
    assert_eq!(frames.len(), 150);
    assert!(frames.iter().all(|f| f.concealed == 0), "no silence put in");
    assert_eq!(
        levels(&frames),
        (0..150).map(|n| Some(heard(level(n)))).collect::<Vec<_>>()
    );
}

#[test]
fn a_lost_packet_is_silence_of_its_length_once_the_long_window_passed() {
    let mut call = recording();
    packet(&mut call, 0, 0);
    packet(&mut call, 1, 20);
    packet(&mut call, 3, 60);
    // Packet 2 was due at 40 ms: waited for until 2.04 s.
    assert_eq!(call.session.poll_timeout(), Some(call.at(2040)));
    for n in 4..102 {
        assert!(packet(&mut call, n, 20 * u64::from(n)).is_empty(), "held");
    }
    call.tick(2039);
    assert!(call.frames().is_empty());
    call.tick(2040);
    let frames = call.frames();
    // The hole, then everything held behind it (packets 3..=101).
    assert_eq!(frames.len(), 100);
    assert_eq!((frames[0].position, frames[0].concealed), (320, 160));
    assert!(frames[1..].iter().all(|f| f.concealed == 0));
    let stats = call.session.stats();
    assert_eq!(
        (stats.lost, stats.late, stats.concealed_samples),
        (1, 0, 160)
    );
}

#[test]
fn a_talkspurt_after_five_seconds_of_dtx_silence_keeps_the_pause_s_length() {
    let mut call = recording();
    let mut frames = Vec::new();
    // 1 s of speech, 5 s of nothing (VAD/DTX), 1 s of speech, the first packet marked; the
    // talkspurt lands 2 s ahead of the next frame, beyond the default MAX_AHEAD.
    for t in (0..=7000).step_by(20) {
        let n = (t / 20) as u16;
        if !(50..300).contains(&n) {
            let data = rtp(PCMA, n, 160 * u32::from(n), n == 300, &pcma(level(n), 160));
            call.send(remote(), &data, t);
        }
        call.tick(t);
        frames.extend(call.frames());
    }
    call.session.catch_up(call.at(7020));
    call.session.flush();
    frames.extend(call.frames());
    let positions: Vec<u64> = frames.iter().map(|f| f.position).collect();
    assert_eq!(positions, (0..351).map(|k| 160 * k).collect::<Vec<_>>());
    assert_eq!(
        frames[300].samples[0],
        heard(level(300)),
        "where it was said"
    );
    assert_eq!(call.session.stats().concealed_samples, 250 * 160);
}

#[test]
fn a_hang_up_during_a_stall_still_gives_the_call_s_whole_length() {
    let mut call = recording();
    let mut frames = Vec::new();
    for n in 0..100 {
        frames.extend(packet(&mut call, n, 20 * u64::from(n)));
    }
    // Nothing after 2 s (the sender stalled); the caller hangs up at 3.5 s.
    for t in (2000..3500).step_by(20) {
        call.tick(t);
        frames.extend(call.frames());
    }
    assert!(
        frames.len() < 100 + 25,
        "the stall's silence waits the window"
    );
    call.session.catch_up(call.at(3500));
    call.session.flush();
    frames.extend(call.frames());
    assert_eq!(frames.len(), 175, "3.5 s of audio for 3.5 s of call");
    assert_eq!(
        call.session.poll_timeout(),
        None,
        "nothing after the hang-up"
    );
}

#[test]
fn a_key_comes_after_the_audio_said_before_it_however_long_the_window() {
    let mut call = recording();
    packet(&mut call, 0, 0);
    // Packet 1 is lost; 2..10 wait behind its hole, then '#' is pressed at 200 ms.
    for n in 2..10 {
        packet(&mut call, n, 20 * u64::from(n));
    }
    let key = rtp(DTMF, 10, 1600, true, &[11, 0x80, 0, 160]);
    call.send(remote(), &key, 200);
    let order: Vec<Option<u64>> = (call.events().iter())
        .map(|e| match e {
            Event::Audio(f) => Some(f.position),
            _ => None,
        })
        .collect();
    // Frames 1 (the hole, as silence) to 9, then the key.
    let mut expected: Vec<Option<u64>> = (1..10).map(|k| Some(160 * k)).collect();
    expected.push(None);
    assert_eq!(order, expected);
}

#[test]
fn recording_starts_where_the_caller_is_not_a_window_behind() {
    let mut call = recording();
    call.tick(5000);
    // Frames out so far: the first 3 s of silence and the frame due then; the caller is at
    // 5 s.
    assert_eq!(call.frames().len(), 151);
    assert_eq!(call.session.position_at(call.at(5000)), Some(40_000));
    packet(&mut call, 0, 5000);
    assert_eq!(call.session.position_at(call.at(5020)), Some(40_160));
}

#[test]
fn what_is_held_behind_a_hole_is_bounded_by_the_window() {
    assert_eq!(
        Bounds::of(WINDOW),
        Bounds {
            max_ahead: MAX_AHEAD,
            max_packets: 64,
            max_samples: 3_520
        }
    );
    let long = Bounds::of(LONG);
    assert_eq!(
        (long.max_ahead, long.max_packets, long.max_samples),
        (17_120, 428, 34_560)
    );
    // A peer sending overlapping 1,000-sample packets 20 ms apart behind a hole: what is
    // held stops at 34,560 samples (69 KB), the rest is counted as overflow.
    let mut call = recording();
    packet(&mut call, 0, 0);
    for n in 2..100u16 {
        let data = rtp(PCMA, n, 160 * u32::from(n), false, &pcma(300, 1000));
        call.send(remote(), &data, 20 * u64::from(n));
    }
    let stats = call.session.stats();
    assert_eq!((stats.accepted, stats.overflow), (99, 98 - 34));
}
