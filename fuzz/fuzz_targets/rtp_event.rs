//! Fuzzes the RFC 4733 telephone-event payload codec: parsing never panics, a parsed event
//! prints to the first block with the R bit cleared, and the DTMF mapping is total.
//! Run: `cargo +nightly fuzz run rtp_event`.

#![no_main]

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
    let Ok(event) = rtp::TelephoneEvent::parse(data) else {
        assert!(data.is_empty() || data.len() % rtp::EVENT_LEN != 0);
        return;
    };
    let mut printed = Vec::new();
    event.print(&mut printed);
    assert_eq!(printed, [data[0], data[1] & !0x40, data[2], data[3]]);
    assert_eq!(rtp::TelephoneEvent::parse(&printed), Ok(event));
    if let Some(key) = event.digit() {
        assert_eq!(rtp::dtmf_code(key), Some(event.code));
    }
});
