//! Fuzzes the SIP message layer: framing (whole and byte by byte), parsing, the stateless
//! reject, and the round trip print → parse → print, which must give back the same message and
//! the same bytes; parsed requests and responses then go through a transaction table.
//!
//! The `sip` module is compiled in from the daemon's sources (it needs only `bytes` and
//! `thiserror`), so the fuzzer does not build the daemon's ~300 dependencies with sanitizers.
//! Run: `cargo +nightly fuzz run sip_parse` (seeded with the RFC 4475 messages in
//! corpus/sip_parse).

#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, unused_imports)]
#[path = "../../src/sip/mod.rs"]
mod sip;

/// What `crate::clock` is in the daemon: the cores take a plain `std` instant.
mod clock {
    pub type Instant = std::time::Instant;
}

fuzz_target!(|data: &[u8]| {
    let limits = sip::SipLimits::default();
    let whole = sip::check_frame(data, &limits);
    if let Ok(Some(frame)) = whole {
        assert!(frame.len() <= data.len());
    }
    // Bytes arriving one at a time are framed exactly as the whole buffer is.
    let mut framer = sip::Framer::default();
    let mut incremental = Ok(None);
    for end in 0..=data.len() {
        incremental = framer.check(&data[..end], &limits);
        if !matches!(incremental, Ok(None)) {
            break;
        }
    }
    assert_eq!(incremental, whole);
    let message = match sip::Message::parse(data, &limits) {
        Ok(m) => m,
        Err(e) => {
            let _ = sip::reject(data, &e, &limits);
            return;
        }
    };
    let printed = message.print();
    let again = match sip::Message::parse(&printed, &limits) {
        Ok(m) => m,
        // Printing may add a few bytes (Content-Length, full header names); past the size limit
        // that is a refusal, not a bug.
        Err(sip::SipError::TooLarge(_)) if printed.len() > limits.max_message => return,
        Err(sip::SipError::LineTooLong(_)) => return,
        Err(e) => panic!(
            "printed message does not parse: {e}\n{}",
            String::from_utf8_lossy(&printed)
        ),
    };
    assert_eq!(again, message, "{}", String::from_utf8_lossy(&printed));
    assert_eq!(again.print(), printed);

    let now = std::time::Instant::now();
    let mut table = sip::Transactions::new(sip::Timers::default(), 4);
    match message {
        sip::Message::Request(r) => {
            if let sip::transaction::Incoming::New(id, r) = table.handle_request(r, (), false, now)
            {
                let _ = table.respond(&id, sip::Response::for_request(&r, 486, "Busy"), now);
            }
        }
        sip::Message::Response(r) => {
            let _ = table.handle_response(r, now);
        }
    }
    while let Some(at) = table.poll_timeout() {
        table.handle_timeout(at);
        while table.poll_transmit().is_some() {}
    }
});
