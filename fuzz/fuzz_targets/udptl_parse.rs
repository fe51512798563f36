//! Fuzzes the UDPTL codec and receiver: a datagram either parses and prints back to the same
//! bytes, or is refused with an error; a receiver fed the input cut into datagrams never panics,
//! hands out each sequence number at most once and in order, and holds a bounded amount.
//!
//! The `udptl` module is compiled in from the daemon's sources (it needs only `thiserror`).
//! Run: `cargo +nightly fuzz run udptl_parse`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/udptl/mod.rs"]
mod udptl;

/// What `crate::clock` is in the daemon: the cores take a plain `std` instant.
mod clock {
    pub type Instant = std::time::Instant;
}

fuzz_target!(|data: &[u8]| {
    if let Ok(packet) = udptl::Packet::parse(data) {
        // Lengths below 128 may be written in two octets by another encoder; ours uses the short
        // form, so compare after one round.
        let printed = packet.print().expect("a parsed packet prints");
        let again = udptl::Packet::parse(&printed).expect("printed packet parses");
        assert_eq!(again, packet);
        assert_eq!(again.print().expect("prints"), printed);
    }
    // The input as a stream of datagrams: a length octet, then that many octets.
    let start = std::time::Instant::now();
    let mut rx = udptl::Receiver::new();
    let mut rest = data;
    let mut last: Option<u16> = None;
    let mut tick = 0u64;
    while let Some((&len, tail)) = rest.split_first() {
        let len = usize::from(len).min(tail.len());
        let (datagram, tail) = tail.split_at(len);
        rest = tail;
        tick += 1;
        let now = start + std::time::Duration::from_millis(tick * 30);
        let _ = rx.handle_datagram(datagram, now);
        if rx.poll_timeout().is_some_and(|at| at <= now) {
            rx.handle_timeout(now);
        }
        while let Some((seq, _)) = rx.poll_ifp() {
            if let Some(prev) = last {
                // Forward on the 16-bit circle: up to 32767 past the next expected one.
                let d = seq.wrapping_sub(prev);
                assert!((1..=32768).contains(&d), "seq {seq} after {prev}");
            }
            last = Some(seq);
        }
    }
});
