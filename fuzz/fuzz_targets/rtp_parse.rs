//! Fuzzes the RTP packet codec: parsing never panics, and what parses prints to bytes that
//! parse back to the same packet and print to the same bytes.
//!
//! The `rtp` and `media` modules are compiled in from the daemon's sources (they need only
//! `thiserror` and `audio-codec-algorithms`). Run: `cargo +nightly fuzz run rtp_parse`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/rtp/mod.rs"]
mod rtp;

#[allow(dead_code, unused_imports)]
#[path = "../../src/media/mod.rs"]
mod media;

/// What `crate::clock` is in the daemon: the cores take a plain `std` instant.
mod clock {
    pub type Instant = std::time::Instant;
}

fuzz_target!(|data: &[u8]| {
    let Ok(packet) = rtp::Packet::parse(data) else {
        return;
    };
    assert!(packet.len() <= data.len());
    let mut printed = Vec::new();
    packet.print(&mut printed);
    assert_eq!(printed.len(), packet.len());
    // Padding octets other than the count are printed as zero, so compare fields, not bytes.
    let again = rtp::Packet::parse(&printed).expect("printed packet parses");
    assert_eq!(again, packet);
    let mut twice = Vec::new();
    again.print(&mut twice);
    assert_eq!(twice, printed);
});
