//! Sender → receiver with loss, reordering and duplicates on a stepped clock.

use super::*;
use std::time::Duration;

fn ifps(n: usize) -> Vec<Vec<u8>> {
    // Different lengths so FEC's zero padding is exercised.
    (0..n).map(|i| vec![i as u8; 1 + i % 7]).collect()
}

/// Sends every IFP, drops those `lose` says, delivers the rest in order; returns what came out.
fn run(
    ec: ErrorCorrection,
    n: usize,
    lose: impl Fn(usize) -> bool,
) -> (Vec<(u16, Vec<u8>)>, UdptlStats) {
    let mut tx = Sender::new(ec, 400);
    let mut rx = Receiver::new();
    let mut now = crate::clock::now();
    let mut out = Vec::new();
    for (i, ifp) in ifps(n).iter().enumerate() {
        let datagram = tx.send(ifp).expect("fits");
        now += Duration::from_millis(20);
        if !lose(i) {
            rx.handle_datagram(&datagram, now).expect("parses");
        }
        if rx.poll_timeout().is_some_and(|at| at <= now) {
            rx.handle_timeout(now);
        }
        while let Some(p) = rx.poll_ifp() {
            out.push(p);
        }
    }
    now += Duration::from_secs(1);
    rx.handle_timeout(now);
    while let Some(p) = rx.poll_ifp() {
        out.push(p);
    }
    (out, rx.stats().clone())
}

#[test]
fn redundancy_recovers_isolated_losses_in_order() {
    let (out, stats) = run(ErrorCorrection::Redundancy { depth: 2 }, 60, |i| i % 5 == 3);
    let want: Vec<(u16, Vec<u8>)> = ifps(60)
        .into_iter()
        .enumerate()
        .map(|(i, f)| (i as u16, f))
        .collect();
    // The last packet (59) is not lost; every lost one is carried by the next packet.
    assert_eq!(out, want);
    assert_eq!((stats.recovered, stats.lost), (12, 0));
}

#[test]
fn fec_recovers_one_loss_per_parity_group() {
    let ec = ErrorCorrection::Fec {
        span: 3,
        entries: 2,
    };
    let (out, stats) = run(ec, 80, |i| i % 10 == 4);
    let got: Vec<u16> = out.iter().map(|(s, _)| *s).collect();
    assert_eq!(got, (0..80).collect::<Vec<u16>>());
    for (seq, ifp) in &out {
        let want = &ifps(80)[usize::from(*seq)];
        // A rebuilt IFP is the parity's length: the original then zero padding.
        assert_eq!(&ifp[..want.len()], &want[..], "seq {seq}");
        assert!(ifp[want.len()..].iter().all(|&b| b == 0));
    }
    assert_eq!(stats.lost, 0);
    assert!(stats.recovered >= 8, "{stats:?}");
}

#[test]
fn loss_past_recovery_is_skipped_after_the_wait() {
    // Five in a row are lost; depth 2 brings back the last two.
    let (out, stats) = run(ErrorCorrection::Redundancy { depth: 2 }, 30, |i| {
        (10..15).contains(&i)
    });
    let got: Vec<u16> = out.iter().map(|(s, _)| *s).collect();
    let want: Vec<u16> = (0..30).filter(|s| !(10..13).contains(s)).collect();
    assert_eq!(got, want);
    assert_eq!((stats.lost, stats.recovered), (3, 2));
}

#[test]
fn late_and_duplicate_packets_come_out_once_in_order() {
    let mut tx = Sender::new(ErrorCorrection::None, 400);
    let d: Vec<Vec<u8>> = ifps(5).iter().map(|f| tx.send(f).expect("fits")).collect();
    let mut rx = Receiver::new();
    let now = crate::clock::now();
    for i in [0, 2, 1, 1, 4, 3, 0] {
        rx.handle_datagram(&d[i], now).expect("parses");
    }
    let got: Vec<u16> = std::iter::from_fn(|| rx.poll_ifp())
        .map(|(s, _)| s)
        .collect();
    assert_eq!(got, vec![0, 1, 2, 3, 4]);
    assert_eq!(rx.stats().duplicates, 2);
    assert_eq!(rx.poll_timeout(), None);
}

#[test]
fn sequence_numbers_wrap() {
    let mut rx = Receiver::new();
    let now = crate::clock::now();
    for seq in [65534u16, 65535, 0, 1] {
        let p = Packet {
            seq,
            primary: &[seq as u8],
            recovery: Recovery::Redundancy(vec![]),
        };
        rx.handle_datagram(&p.print().expect("prints"), now)
            .expect("parses");
    }
    let got: Vec<u16> = std::iter::from_fn(|| rx.poll_ifp())
        .map(|(s, _)| s)
        .collect();
    assert_eq!(got, vec![65534, 65535, 0, 1]);
}

#[test]
fn a_full_window_skips_the_gap_without_waiting() {
    let mut tx = Sender::new(ErrorCorrection::None, 400);
    let d: Vec<Vec<u8>> = ifps(40).iter().map(|f| tx.send(f).expect("fits")).collect();
    let mut rx = Receiver::new();
    let now = crate::clock::now();
    rx.handle_datagram(&d[0], now).expect("parses");
    for datagram in &d[2..] {
        rx.handle_datagram(datagram, now).expect("parses");
    }
    let got: Vec<u16> = std::iter::from_fn(|| rx.poll_ifp())
        .map(|(s, _)| s)
        .collect();
    assert_eq!(got, std::iter::once(0).chain(2..40).collect::<Vec<u16>>());
    assert_eq!(rx.stats().lost, 1);
}

#[test]
fn redundancy_is_trimmed_to_the_peers_datagram_size() {
    let mut tx = Sender::new(ErrorCorrection::Redundancy { depth: 3 }, 100);
    for _ in 0..3 {
        tx.send(&[1; 40]).expect("fits");
    }
    let d = tx.send(&[2; 40]).expect("fits");
    let p = Packet::parse(&d).expect("parses");
    assert_eq!(p.recovery, Recovery::Redundancy(vec![&[1; 40][..]]));
}

/// Feeds a byte string the way the fuzz target does: a length octet, then the datagram; every
/// 30 ms of clock. Returns the sequence numbers handed out.
pub(super) fn replay(data: &[u8]) -> Vec<u16> {
    let start = crate::clock::now();
    let mut rx = Receiver::new();
    let mut rest = data;
    let mut out = Vec::new();
    let mut tick = 0;
    while let Some((&len, tail)) = rest.split_first() {
        let (datagram, tail) = tail.split_at(usize::from(len).min(tail.len()));
        rest = tail;
        tick += 1;
        let now = start + Duration::from_millis(tick * 30);
        let _ = rx.handle_datagram(datagram, now);
        if rx.poll_timeout().is_some_and(|at| at <= now) {
            rx.handle_timeout(now);
        }
        out.extend(std::iter::from_fn(|| rx.poll_ifp()).map(|(s, _)| s));
    }
    out
}

#[test]
fn fuzz_regressions_hand_out_sequence_numbers_in_order() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-udptl");
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures") {
        let data = std::fs::read(entry.expect("entry").path()).expect("reads");
        let seqs = replay(&data);
        for w in seqs.windows(2) {
            // Forward on the 16-bit circle: the receiver takes a packet up to 32767 ahead of the
            // next expected one, so up to 32768 past the last one handed out.
            assert!((1..=32768).contains(&w[1].wrapping_sub(w[0])), "{seqs:?}");
        }
        seen += 1;
    }
    assert!(seen > 0);
}
