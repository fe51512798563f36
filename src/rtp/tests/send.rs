//! Playback: one packet per 20 ms with correct headers, PlayDone, stop.

use super::*;

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
    assert_eq!(call.signals(), [Event::PlayDone]);
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
    assert!(call.signals().is_empty(), "stop sends no PlayDone");
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
