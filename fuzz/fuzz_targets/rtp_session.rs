//! Fuzzes the RTP session with a stepped clock: the input is a script of datagrams (from the
//! negotiated address or a stranger), clock steps, playback, catch-ups and flushes, with the
//! default window or a recording's 2 s one (the first byte's low bit). Nothing may panic,
//! frames come out in order and whole, and the counters add up.
//! Run: `cargo +nightly fuzz run rtp_session`.

#![no_main]

use std::net::SocketAddr;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/rtp/mod.rs"]
mod rtp;

#[allow(dead_code, unused_imports)]
#[path = "../../src/media/mod.rs"]
mod media;

mod clock {
    pub type Instant = std::time::Instant;
}

fuzz_target!(|data: &[u8]| {
    let remote: SocketAddr = "192.0.2.10:4000".parse().expect("addr");
    let stranger: SocketAddr = "198.51.100.7:61000".parse().expect("addr");
    let t0 = std::time::Instant::now();
    let mut now = t0;
    let params = rtp::SessionParams {
        codec: media::Codec::Pcma,
        payload_type: 8,
        dtmf: Some(101),
        remote,
        ssrc: 1,
    };
    let window = match data.first() {
        Some(b) if b % 2 == 1 => Duration::from_secs(2),
        _ => rtp::WINDOW,
    };
    let mut session = rtp::Session::new(params, now).with_window(window);
    let mut next_position = None;
    let mut rest = data.get(1..).unwrap_or_default();
    while let [op, arg, tail @ ..] = rest {
        rest = tail;
        match op % 7 {
            0 | 1 => {
                let len = usize::from(*arg).min(rest.len());
                let (datagram, tail) = rest.split_at(len);
                rest = tail;
                let from = if op % 7 == 0 { remote } else { stranger };
                session.handle_datagram(from, datagram, now);
            }
            2 => {
                now += Duration::from_millis(u64::from(*arg));
                session.handle_timeout(now);
            }
            3 => session.play(&vec![100; usize::from(*arg) * 8]),
            4 => session.stop_playing(),
            5 => session.catch_up(now),
            _ => session.flush(),
        }
        if let Some(at) = session.poll_timeout() {
            let limit = now + window + Duration::from_secs(3);
            assert!(at <= limit, "no timer far in the future");
        }
        while let Some(event) = session.poll_event() {
            if let rtp::Event::Audio(frame) = event {
                assert_eq!(frame.samples.len(), rtp::FRAME);
                if let Some(position) = next_position {
                    assert_eq!(frame.position, position, "frames in order, none skipped");
                }
                next_position = Some(frame.position + rtp::FRAME as u64);
            }
        }
        while let Some(transmit) = session.poll_transmit() {
            assert!(rtp::Packet::parse(&transmit.data).is_ok());
        }
    }
    let s = session.stats();
    let sorted = s.malformed
        + s.strangers
        + s.learning
        + s.comfort_noise
        + s.ignored
        + s.duplicates
        + s.accepted;
    assert_eq!(sorted, s.received, "every datagram counted once: {s:?}");
    assert!(s.late + s.same_timestamp + s.overflow <= s.accepted);
});
