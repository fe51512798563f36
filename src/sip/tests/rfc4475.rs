//! Every message of RFC 4475 (tests/fixtures/rfc4475, copied byte-exact from
//! ../shared/conformance), handled as the fixture README says: valid ones parse with the fields
//! the RFC describes and print back into the same message; invalid requests get their status
//! with a Warning naming the fault; invalid responses are dropped; the application-layer ones
//! parse and then meet the refusal (`screen`) or carry what the registrar needs to decide.

use std::path::Path;

use super::rfc4475_cases::CASES;
use crate::sip::{Capabilities, Message, Refusal, Request, SipLimits, check_frame, reject, screen};

/// What the README asks for one message.
pub(super) enum Expect {
    /// Parses; the function checks the fields.
    Valid(fn(&Message)),
    /// Refused with this status; the Warning contains the text.
    Reject(u16, &'static str),
    /// A broken response: no answer.
    Drop,
    /// Parses, then `screen` refuses it with this.
    Refused(fn() -> Refusal),
}

use Expect::*;

fn req(m: &Message) -> &Request {
    match m {
        Message::Request(r) => r,
        Message::Response(_) => panic!("not a request"),
    }
}

fn check(name: &str, raw: &[u8], expect: &Expect) {
    let limits = SipLimits::default();
    let parsed = Message::parse(raw, &limits);
    match expect {
        Valid(fields) => {
            let m = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
            fields(&m);
            let again = Message::parse(&m.print(), &limits);
            assert_eq!(
                again.as_ref(),
                Ok(&m),
                "{name}: printed form parses the same"
            );
            if let Message::Request(r) = &m
                && !matches!(
                    name,
                    "badbranch" | "unksm2" | "regaut01" | "sdp01" | "zeromf"
                )
            {
                assert_eq!(screen(r, &Capabilities::default()), Ok(()), "{name}");
            }
        }
        Reject(status, warning) => {
            let err = parsed.expect_err(name);
            let out = reject(raw, &err, &limits).unwrap_or_else(|| panic!("{name}: dropped"));
            let out = String::from_utf8(out).expect("ASCII");
            assert!(
                out.starts_with(&format!("SIP/2.0 {status} ")),
                "{name}: {out}"
            );
            let warning_line = out
                .lines()
                .find(|l| l.starts_with("Warning: 399 zentrale \""));
            assert!(
                warning_line.is_some_and(|l| l.contains(warning)),
                "{name}: {err} / {out}"
            );
            assert!(out.ends_with("Content-Length: 0\r\n\r\n"), "{name}");
        }
        Drop => {
            let err = parsed.expect_err(name);
            assert_eq!(reject(raw, &err, &limits), None, "{name}");
        }
        Refused(refusal) => {
            let m = parsed.unwrap_or_else(|e| panic!("{name}: {e}"));
            let r = req(&m);
            let caps = Capabilities::default();
            assert_eq!(screen(r, &caps), Err(refusal()), "{name}");
            let answer = refusal().response(r, "t1", &caps);
            assert_eq!(
                Message::parse(&answer.print(), &limits),
                Ok(Message::Response(answer))
            );
        }
    }
}

#[test]
fn every_rfc4475_message_is_handled_as_its_readme_says() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rfc4475");
    let mut visited = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("fixtures present") {
        let path = entry.expect("readable").path();
        if path.extension().is_none_or(|e| e != "dat") {
            continue;
        }
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 name")
            .to_owned();
        let (_, expect) = CASES
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{name} has no expectation"));
        check(&name, &std::fs::read(&path).expect("readable"), expect);
        visited.push(name);
    }
    visited.sort();
    visited.dedup();
    assert_eq!(visited.len(), 49, "all 49 messages visited: {visited:?}");
}

/// Over a stream, mcl01's two Content-Lengths leave the next message's start unknown: the
/// connection is closed (RFC 4475 §3.3.11).
#[test]
fn mcl01_cannot_be_framed_on_a_stream() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rfc4475");
    let raw = std::fs::read(dir.join("mcl01.dat")).expect("fixture");
    let err = check_frame(&raw, &SipLimits::default()).expect_err("unframeable");
    assert!(!err.keeps_framing(), "{err}");
}

#[test]
fn every_valid_message_frames_on_a_stream_where_it_has_content_length() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rfc4475");
    for name in ["wsinv", "esc01", "longreq", "mpart01", "dblreq"] {
        let raw = std::fs::read(dir.join(format!("{name}.dat"))).expect("fixture");
        let frame = check_frame(&raw, &SipLimits::default())
            .expect(name)
            .expect(name);
        let m = Message::parse(&raw[..frame.len()], &SipLimits::default()).expect(name);
        assert!(matches!(m, Message::Request(_)), "{name}");
        if name == "dblreq" {
            let rest = &raw[frame.len()..];
            assert!(
                check_frame(rest, &SipLimits::default())
                    .expect("frames")
                    .is_some()
            );
        }
    }
}
