//! Whose media is accepted (negotiated address, latching), DTMF, payload types, flush.

use super::*;

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
    assert_eq!(
        call.session.last_heard(),
        Some(call.at(0)),
        "strangers do not count"
    );
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
    // Nothing heard while learning: silence only.
    assert!(call.frames().iter().all(|f| f.concealed == 160));
    assert_eq!(call.session.latched(), None);
    assert_eq!(call.session.stats().learning, 6);
    send(&mut call, 17, 42, 120);
    assert_eq!(LEARN_PACKETS, 4);
    assert_eq!(call.session.latched(), Some(nat()));
    // The first packet heard lands where the call is at 120 ms: the silence before it (out to
    // 60 ms so far) keeps its time and goes out as its window passes, then the packet.
    call.tick(159);
    assert_eq!(levels(&call.frames()).last(), Some(&None));
    call.tick(160);
    let frames = call.frames();
    assert_eq!(frames.last().map(|f| f.position), Some(960));
    assert_eq!(levels(&frames).last(), Some(&Some(heard(400))));
    // Media goes back where it comes from; the negotiated address is now a stranger.
    call.session.play(&[0; 160]);
    call.tick(160);
    assert_eq!(call.transmits()[0].dest, nat());
    call.audio(1, 180);
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
    // A receiver report multiplexed onto the RTP port (RFC 5761): PT 201 & 0x7f = 73, marker.
    let mut rr = vec![0x81, 0xc9, 0x00, 0x07, 0x0b, 0xad, 0xca, 0xfe];
    rr.extend([0; 24]);
    call.send(remote(), &rr, 50);
    call.audio(3, 60);
    let frames = call.frames();
    assert!(frames.iter().all(|f| f.samples[0] != heard(-9000)));
    let stats = call.session.stats();
    assert_eq!(
        (
            stats.comfort_noise,
            stats.ignored,
            stats.lost,
            stats.accepted
        ),
        (1, 2, 0, 2)
    );
    call.send(remote(), b"not rtp", 70);
    call.send(remote(), &rtp(DTMF, 4, 640, false, &[11, 0x80]), 75);
    call.send(remote(), &rtp(PCMA, 5, 800, false, &[]), 80);
    let s = call.session.stats();
    assert_eq!((s.malformed, s.ignored, s.accepted), (2, 3, 2));
    // Found by the rtp_session fuzz target: a bad telephone-event was counted accepted too.
    let sorted = s.malformed + s.strangers + s.learning + s.comfort_noise + s.ignored;
    assert_eq!(sorted + s.duplicates + s.accepted, s.received);
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
