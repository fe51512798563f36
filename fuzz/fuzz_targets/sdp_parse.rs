//! Fuzzes the SDP offer parser and the answerer: parsing never panics or reads past its bounds,
//! and every answer given is SDP that parses back and, offered again, gets the same choice.
//! Run: `cargo +nightly fuzz run sdp_parse`.

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/media/mod.rs"]
mod media;

#[allow(dead_code, unused_imports)]
#[path = "../../src/rtp/mod.rs"]
mod rtp;

mod clock {
    pub type Instant = std::time::Instant;
}

fuzz_target!(|data: &[u8]| {
    let Ok(offer) = media::parse_offer(data) else {
        return;
    };
    assert!(offer.media.len() <= media::MAX_MEDIA);
    let local = "192.0.2.1:10000".parse().expect("addr");
    let Ok(answer) = media::answer(&offer, local, 42) else {
        return;
    };
    let back = media::parse_offer(answer.sdp.as_bytes()).expect("our answer parses");
    assert_eq!(back.media.len(), offer.media.len(), "RFC 3264 §6: as many m= lines");
    let again = media::answer(&back, local, 42).expect("our answer is acceptable as an offer");
    assert_eq!((again.codec, again.payload_type), (answer.codec, answer.payload_type));
    assert_eq!(again.dtmf, answer.dtmf);
});
