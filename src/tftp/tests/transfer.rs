//! The sans-IO transfer core, driven by hand with a stepped clock.

use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::tftp::{ErrorCode, Mode, Options, Packet, Request, TftpError, TftpLimits, Transfer};

fn request(options: Options) -> Request {
    Request {
        filename: "f".into(),
        mode: Mode::Octet,
        options,
    }
}

fn file(len: usize) -> Bytes {
    (0..len)
        .map(|i| (i % 251) as u8)
        .collect::<Vec<u8>>()
        .into()
}

fn limits() -> TftpLimits {
    TftpLimits {
        retries: 3,
        default_timeout: Duration::from_secs(1),
        ..TftpLimits::default()
    }
}

/// Everything the transfer wants to send now, parsed.
fn sent(t: &mut Transfer) -> Vec<Packet> {
    std::iter::from_fn(|| t.poll_transmit())
        .map(|d| Packet::parse(&d).expect("the core sends valid packets"))
        .collect()
}

/// The block numbers of the DATA packets in `packets` (panics on anything else).
fn blocks(packets: &[Packet]) -> Vec<u16> {
    packets
        .iter()
        .map(|p| match p {
            Packet::Data { block, .. } => *block,
            other => panic!("expected DATA, got {other:?}"),
        })
        .collect()
}

fn ack(t: &mut Transfer, block: u16, now: Instant) {
    t.handle_packet(&Packet::Ack { block }.to_vec(), now);
}

#[test]
fn without_options_there_is_no_oack_and_blocks_are_512_bytes() {
    let now = crate::clock::now();
    let mut t = Transfer::new(&request(Options::default()), file(1000), now, &limits());
    let first = sent(&mut t);
    assert!(matches!(&first[..], [Packet::Data { block: 1, data }] if data.len() == 512));
    ack(&mut t, 1, now);
    let second = sent(&mut t);
    assert!(
        matches!(&second[..], [Packet::Data { block: 2, data }] if data[..] == file(1000)[512..])
    );
    ack(&mut t, 2, now);
    assert_eq!(t.outcome(), Some(&Ok(())));
    assert_eq!(t.poll_timeout(), None);
    assert!(sent(&mut t).is_empty());
}

#[test]
fn accepted_options_come_back_in_an_oack_and_data_waits_for_ack_0() {
    let now = crate::clock::now();
    let asked = Options {
        blksize: Some(65464),
        timeout: Some(3),
        tsize: Some(0),
        windowsize: Some(500),
    };
    let mut t = Transfer::new(&request(asked), file(10_000), now, &limits());
    let granted = Options {
        blksize: Some(1468),
        timeout: Some(3),
        tsize: Some(10_000),
        windowsize: Some(64),
    };
    assert_eq!(sent(&mut t), vec![Packet::Oack(granted)]);
    ack(&mut t, 1, now);
    assert!(sent(&mut t).is_empty(), "only ACK 0 answers an OACK");
    ack(&mut t, 0, now);
    assert_eq!(blocks(&sent(&mut t)), vec![1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(t.poll_timeout(), Some(now + Duration::from_secs(3)));
    assert_eq!(t.negotiated(), (1468, 64));

    // A timeout beyond max_timeout is declined (RFC 2349 wants it echoed unchanged or not at all).
    let patient = Options {
        timeout: Some(200),
        ..Options::default()
    };
    let mut t = Transfer::new(&request(patient), file(10), now, &limits());
    assert_eq!(blocks(&sent(&mut t)), [1], "no OACK: nothing was granted");
    assert_eq!(t.poll_timeout(), Some(now + Duration::from_secs(1)));
}

#[test]
fn netascii_converts_the_file_and_does_not_answer_tsize() {
    let now = crate::clock::now();
    let mut r = request(Options {
        tsize: Some(0),
        ..Options::default()
    });
    r.mode = Mode::Netascii;
    let mut t = Transfer::new(&r, Bytes::from_static(b"a\nb"), now, &limits());
    let packets = sent(&mut t);
    assert!(matches!(&packets[..], [Packet::Data { block: 1, data }] if data[..] == b"a\r\nb"[..]));
}

#[test]
fn a_window_waits_for_the_ack_of_its_last_block_and_a_partial_ack_moves_it() {
    let now = crate::clock::now();
    let asked = Options {
        blksize: Some(8),
        windowsize: Some(4),
        ..Options::default()
    };
    // 83 bytes in 8-byte blocks: 10 full blocks and a 3-byte eleventh.
    let mut t = Transfer::new(&request(asked), file(83), now, &limits());
    assert!(matches!(&sent(&mut t)[..], [Packet::Oack(_)]));
    ack(&mut t, 0, now);
    assert_eq!(blocks(&sent(&mut t)), [1, 2, 3, 4]);
    ack(&mut t, 4, now);
    assert_eq!(blocks(&sent(&mut t)), [5, 6, 7, 8]);
    ack(&mut t, 6, now);
    assert_eq!(
        blocks(&sent(&mut t)),
        [7, 8, 9, 10],
        "a partial ACK restarts after it"
    );
    ack(&mut t, 10, now);
    let last = sent(&mut t);
    assert!(matches!(&last[..], [Packet::Data { block: 11, data }] if data.len() == 3));
    ack(&mut t, 11, now);
    assert_eq!(t.outcome(), Some(&Ok(())));
}

#[test]
fn block_numbers_wrap_from_65535_to_0() {
    let now = crate::clock::now();
    // 65536 full blocks of 512 bytes and a 10-byte one: the last two go out as 0 and 1.
    let size = 65536 * 512 + 10;
    let mut t = Transfer::new(&request(Options::default()), file(size), now, &limits());
    let mut received = 0usize;
    let mut numbers = Vec::new();
    while !t.is_finished() {
        let packets = sent(&mut t);
        let [Packet::Data { block, data }] = &packets[..] else {
            panic!("expected one DATA, got {packets:?}");
        };
        received += data.len();
        if *block <= 1 || *block >= 65534 {
            numbers.push(*block);
        }
        ack(&mut t, *block, now);
    }
    assert_eq!(numbers, [1, 65534, 65535, 0, 1]);
    assert_eq!(received, size);
    assert_eq!(t.outcome(), Some(&Ok(())));
}

#[test]
fn a_duplicate_ack_sends_nothing_and_keeps_the_timer() {
    let t0 = crate::clock::now();
    let mut t = Transfer::new(&request(Options::default()), file(2000), t0, &limits());
    assert_eq!(blocks(&sent(&mut t)), [1]);
    let t1 = t0 + Duration::from_millis(300);
    ack(&mut t, 1, t1);
    assert_eq!(blocks(&sent(&mut t)), [2]);
    let deadline = t.poll_timeout();
    for late in [1, 1, 0, 3, 4, 65535] {
        ack(&mut t, late, t1 + Duration::from_millis(500));
        assert!(
            sent(&mut t).is_empty(),
            "ACK {late} must not trigger a re-send"
        );
        assert_eq!(
            t.poll_timeout(),
            deadline,
            "ACK {late} must not move the timer"
        );
    }
    ack(&mut t, 2, t1);
    assert_eq!(blocks(&sent(&mut t)), [3]);
}

#[test]
fn a_timeout_resends_the_window_and_gives_up_after_the_retries() {
    let t0 = crate::clock::now();
    let asked = Options {
        windowsize: Some(2),
        ..Options::default()
    };
    let mut t = Transfer::new(&request(asked), file(5000), t0, &limits());
    assert!(matches!(&sent(&mut t)[..], [Packet::Oack(_)]));
    let second = Duration::from_secs(1);
    t.handle_timeout(t0 + second);
    assert!(
        matches!(&sent(&mut t)[..], [Packet::Oack(_)]),
        "the OACK is resent"
    );
    ack(&mut t, 0, t0 + second);
    assert_eq!(blocks(&sent(&mut t)), [1, 2]);
    let mut now = t0 + second;
    t.handle_timeout(now + second - Duration::from_millis(1));
    assert!(sent(&mut t).is_empty(), "not yet due");
    for _ in 0..3 {
        now += second;
        assert_eq!(t.poll_timeout(), Some(now));
        t.handle_timeout(now);
        assert_eq!(blocks(&sent(&mut t)), [1, 2]);
    }
    now += second;
    t.handle_timeout(now);
    assert_eq!(t.outcome(), Some(&Err(TftpError::TimedOut(3))));
    let last = sent(&mut t);
    assert!(matches!(
        &last[..],
        [Packet::Error {
            code: ErrorCode::NOT_DEFINED,
            ..
        }]
    ));
    assert_eq!(t.poll_timeout(), None);
}

#[test]
fn an_ack_after_a_retransmission_resets_the_retry_count() {
    let t0 = crate::clock::now();
    let mut t = Transfer::new(&request(Options::default()), file(3000), t0, &limits());
    let mut now = t0;
    for block in 1..=5u16 {
        assert_eq!(blocks(&sent(&mut t)), [block]);
        for _ in 0..3 {
            now += Duration::from_secs(1);
            t.handle_timeout(now);
            assert_eq!(blocks(&sent(&mut t)), [block]);
        }
        ack(&mut t, block, now);
    }
    assert!(!t.is_finished());
}

#[test]
fn an_error_from_the_client_ends_the_transfer_unanswered() {
    let now = crate::clock::now();
    let asked = Options {
        blksize: Some(1024),
        ..Options::default()
    };
    let mut t = Transfer::new(&request(asked), file(5000), now, &limits());
    assert!(matches!(&sent(&mut t)[..], [Packet::Oack(_)]));
    let refusal = Packet::Error {
        code: ErrorCode::OPTION_REFUSED,
        message: "no thanks".into(),
    };
    t.handle_packet(&refusal.to_vec(), now);
    let expected = TftpError::Peer {
        code: 8,
        message: "no thanks".into(),
    };
    assert_eq!(t.outcome(), Some(&Err(expected)));
    assert!(sent(&mut t).is_empty());
    assert_eq!(t.poll_timeout(), None);
    ack(&mut t, 0, now);
    assert!(
        sent(&mut t).is_empty(),
        "a finished transfer stays finished"
    );
}

#[test]
fn garbage_from_the_peer_changes_nothing() {
    let now = crate::clock::now();
    let mut t = Transfer::new(&request(Options::default()), file(600), now, &limits());
    assert_eq!(blocks(&sent(&mut t)), [1]);
    for junk in [
        &b""[..],
        b"\x00",
        b"\x00\x04\x00",
        b"\x00\x03\x00\x01data",
        b"\x00\x09",
    ] {
        t.handle_packet(junk, now);
        assert!(sent(&mut t).is_empty());
    }
    ack(&mut t, 1, now);
    assert_eq!(blocks(&sent(&mut t)), [2]);
}

#[test]
fn a_size_that_is_a_multiple_of_the_block_size_ends_with_an_empty_block() {
    let now = crate::clock::now();
    for (size, expected) in [(1024, vec![512, 512, 0]), (0, vec![0])] {
        let mut t = Transfer::new(&request(Options::default()), file(size), now, &limits());
        let mut lengths = Vec::new();
        while !t.is_finished() {
            let packets = sent(&mut t);
            let [Packet::Data { block, data }] = &packets[..] else {
                panic!("{packets:?}");
            };
            lengths.push(data.len());
            ack(&mut t, *block, now);
        }
        assert_eq!(lengths, expected, "size {size}");
    }
}
