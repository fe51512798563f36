//! Frames in timestamp order, loss as silence, late and duplicate packets, timeline breaks.

use super::*;

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
    assert_eq!(
        levels(&call.frames()),
        [heard(level(0)), heard(level(1))].map(Some)
    );
    // A repeat under a new sequence number while its packet is held (packet 2 is missing).
    call.audio(3, 60);
    let again = rtp(PCMA, 4, 480, false, &pcma(-3000, 160));
    call.send(remote(), &again, 61);
    call.session.flush();
    assert_eq!(levels(&call.frames()), [None, Some(heard(level(3)))]);
    let stats = call.session.stats();
    assert_eq!((stats.duplicates, stats.same_timestamp), (2, 1));
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
    // A talkspurt 300 ms ahead of where the timeline is (beyond MAX_AHEAD).
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

#[test]
fn a_pause_without_packets_keeps_its_length_when_the_next_talkspurt_starts() {
    let mut call = Call::new();
    let mut frames = Vec::new();
    // 200 ms of speech, 2 s of nothing (a VAD sender), then 220 ms of speech, the first packet
    // marked; the driver ticks every 20 ms as it would.
    for t in (0..=2420).step_by(20) {
        let n = (t / 20) as u16;
        if !(10..110).contains(&n) {
            let data = rtp(PCMA, n, 160 * u32::from(n), n == 110, &pcma(level(n), 160));
            call.send(remote(), &data, t);
        }
        call.tick(t);
        frames.extend(call.frames());
    }
    call.session.flush();
    frames.extend(call.frames());
    let positions: Vec<u64> = frames.iter().map(|f| f.position).collect();
    assert_eq!(positions, (0..122).map(|k| 160 * k).collect::<Vec<_>>());
    assert_eq!(
        frames[110].samples[0],
        heard(level(110)),
        "speech resumes where it was said"
    );
}

#[test]
fn before_the_first_packet_silence_flows_in_real_time() {
    let mut call = Call::new();
    call.tick(500);
    let frames = call.frames();
    // 500 ms less the window: the frames whose time has passed, all silence.
    assert!((20..=25).contains(&frames.len()), "{} frames", frames.len());
    assert!(frames.iter().all(|f| f.concealed == 160));
    // The caller's first packet continues the line: no frame is lost or repeated.
    let next = frames.last().map_or(0, |f| f.position + 160);
    call.audio(0, 500);
    call.tick(600);
    let later = call.frames();
    assert_eq!(later.first().map(|f| f.position), Some(next));
}

#[test]
fn the_stats_keep_the_most_a_packet_arrived_behind_the_earliest_arrivals() {
    let mut call = Call::new();
    call.audio(0, 0);
    call.audio(1, 20);
    // Due at 40 ms on the line packets 0 and 1 drew; 35 ms behind it, still in the window.
    call.audio(2, 75);
    call.audio(3, 62);
    call.audio(4, 81);
    let stats = call.session.stats();
    assert_eq!(stats.most_behind, ms(35));
    assert_eq!((stats.late, call.frames().len()), (0, 5));
    // 90 ms behind: the frame went out as silence first, the packet is late.
    call.tick(500);
    call.audio(25, 590);
    let stats = call.session.stats();
    assert_eq!((stats.most_behind, stats.late), (ms(90), 1));
}

#[test]
fn a_longer_window_waits_longer_for_a_missing_packet() {
    let mut call = Call::new();
    call.session = Session::new(*call.session.params(), call.t0).with_window(ms(200));
    call.audio(0, 0);
    call.audio(2, 40);
    // Packet 1 was due at 20 ms: its hole waits until 220 ms.
    assert_eq!(call.session.poll_timeout(), Some(call.at(220)));
    call.tick(219);
    call.audio(1, 215);
    let frames = call.frames();
    assert_eq!(levels(&frames), [0, 1, 2].map(|n| Some(heard(level(n)))));
    assert_eq!(call.session.stats().late, 0);
}

#[test]
fn a_new_timeline_starts_on_a_frame_boundary_so_packets_stay_whole_frames() {
    let mut call = Call::new();
    // The first packet arrives 507 ms after the answer, between two frames' times.
    let mut frames = Vec::new();
    for n in 0..5u16 {
        call.audio(n, 507 + 20 * u64::from(n));
        frames.extend(call.frames());
    }
    call.session.catch_up(call.at(607));
    frames.extend(call.frames());
    let speech: Vec<&Frame> = frames.iter().filter(|f| f.concealed == 0).collect();
    assert_eq!(speech.len(), 5, "each packet one whole frame");
    // 507 ms is 4,056 samples: the line starts at the nearest frame, 4,000 (500 ms).
    assert_eq!(speech[0].position, 4_000);
    assert_eq!(
        levels(&frames[frames.len() - 5..]),
        (0..5).map(|n| Some(heard(level(n)))).collect::<Vec<_>>()
    );
}
