//! Every input the fuzzer (fuzz/fuzz_targets/sip_parse.rs) crashed on, kept in
//! tests/fixtures/fuzz-sip: each must now parse or be refused without a panic, and a parsed one
//! must survive the print → parse round trip.

use std::path::Path;

use crate::sip::{Message, SipLimits, check_frame, reject};

#[test]
fn inputs_that_once_crashed_the_parser() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fuzz-sip");
    let limits = SipLimits::default();
    let mut visited = 0;
    for entry in std::fs::read_dir(dir).expect("fixtures present") {
        let path = entry.expect("readable").path();
        let raw = std::fs::read(&path).expect("readable");
        let _ = check_frame(&raw, &limits);
        match Message::parse(&raw, &limits) {
            Ok(m) => {
                let printed = m.print();
                assert_eq!(
                    Message::parse(&printed, &limits).as_ref(),
                    Ok(&m),
                    "{path:?}"
                );
            }
            Err(e) => {
                let _ = reject(&raw, &e, &limits);
            }
        }
        visited += 1;
    }
    assert!(visited >= 1, "no regression inputs found");
}
