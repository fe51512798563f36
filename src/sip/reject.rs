//! The stateless answer to a message that failed to parse (RFC 3261 §8.2, §18.1.2, RFC 4475
//! §3.1.2): a response with the status of [`SipError::status`] and a `Warning` naming the
//! fault, built from the header fields that can be salvaged from the raw bytes — or nothing for
//! a broken response, an ACK, or a request without a Via to answer along.

use std::fmt::Write as _;
use std::hash::{Hash, Hasher};

use super::error::{Disposition, SipError};
use super::lex;
use super::limits::SipLimits;
use super::message::find;

/// What to do with `raw`, which failed with `err`.
pub fn disposition(raw: &[u8], err: &SipError) -> Disposition {
    let start = raw.trim_ascii_start();
    let is_response = start.len() >= 4 && start[..4].eq_ignore_ascii_case(b"SIP/");
    let is_ack = start.starts_with(b"ACK ");
    if is_response || is_ack {
        Disposition::Drop
    } else {
        Disposition::Respond(err.status())
    }
}

/// The response to send for `raw`, or `None` to drop it. The header fields copied are the
/// request's own Via, From, To, Call-ID and CSeq lines, as far as they are readable and within
/// `limits.max_line`; without a Via there is nowhere to send a response (§18.2.2).
pub fn reject(raw: &[u8], err: &SipError, limits: &SipLimits) -> Option<Vec<u8>> {
    let Disposition::Respond(status) = disposition(raw, err) else {
        return None;
    };
    let raw = &raw[..raw.len().min(limits.max_message)];
    let head = &raw[..find(raw, b"\r\n\r\n").unwrap_or(raw.len())];
    let fields = salvage(&String::from_utf8_lossy(head), limits);
    if !fields.iter().any(|(name, _)| *name == "Via") {
        return None;
    }
    let mut out = format!("SIP/2.0 {status} {}\r\n", err.reason());
    for (name, value) in &fields {
        let _ = write!(out, "{name}: {value}");
        if *name == "To" && !value.to_ascii_lowercase().contains("tag=") {
            let _ = write!(out, ";tag={:x}", tag_for(&fields));
        }
        out.push_str("\r\n");
    }
    let warning = err.to_string().replace(['"', '\\'], "'");
    let _ = write!(out, "Warning: 399 zentrale {}\r\n", lex::quote(&warning));
    out.push_str("Content-Length: 0\r\n\r\n");
    Some(out.into_bytes())
}

/// The fields a response copies, with compact names expanded, folded lines joined and control
/// characters dropped.
fn salvage(head: &str, limits: &SipLimits) -> Vec<(&'static str, String)> {
    const COPIED: [(&str, &str, &str); 5] = [
        ("Via", "v", "Via"),
        ("From", "f", "From"),
        ("To", "t", "To"),
        ("Call-ID", "i", "Call-ID"),
        ("CSeq", "cseq", "CSeq"),
    ];
    let mut fields: Vec<(&'static str, String)> = Vec::new();
    let mut current: Option<usize> = None;
    for line in head.split("\r\n").skip(1).take(limits.max_headers) {
        if line.starts_with([' ', '\t']) {
            if let Some(i) = current {
                fields[i].1.push(' ');
                fields[i].1.push_str(lex::trim_ws(line));
            }
            continue;
        }
        current = None;
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = lex::trim_ws(name);
        let known = COPIED.iter().find(|(full, compact, _)| {
            name.eq_ignore_ascii_case(full) || name.eq_ignore_ascii_case(compact)
        });
        if let Some((_, _, canonical)) = known {
            current = Some(fields.len());
            fields.push((canonical, lex::trim_ws(value).to_owned()));
        }
    }
    fields.retain(|(_, v)| v.len() <= limits.max_line);
    for (_, v) in &mut fields {
        v.retain(|c| !c.is_control());
    }
    fields
}

/// A To tag that is the same for every retransmission of the same broken request, so the
/// client sees one answer (no randomness: the core has none).
fn tag_for(fields: &[(&'static str, String)]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    fields.hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_a_broken_request_with_its_own_fields() {
        let raw = b"INVITE sip:u@h SIP/2.0\r\nv: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n\
            f: <sip:a@b>;tag=9\r\nt: <sip:u@h>\r\ni: abc\r\nCSeq: 1\r\n  INVITE\r\n\
            Max-Forwards: 300\r\n\r\n";
        let err = SipError::BadHeader {
            header: "Max-Forwards",
            reason: "larger than 255",
        };
        let out = String::from_utf8(reject(raw, &err, &SipLimits::default()).expect("valid"))
            .expect("valid");
        assert!(
            out.starts_with(
                "SIP/2.0 400 Bad Request\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\n"
            ),
            "{out}"
        );
        assert!(out.contains("\r\nCSeq: 1 INVITE\r\n"), "{out}");
        assert!(out.contains("\r\nTo: <sip:u@h>;tag="), "{out}");
        assert!(out.contains(
            "Warning: 399 zentrale \"malformed Max-Forwards header: larger than 255\"\r\n"
        ));
        assert!(out.ends_with("Content-Length: 0\r\n\r\n"));
        assert_eq!(
            reject(raw, &err, &SipLimits::default()).expect("valid"),
            out.as_bytes()
        );
    }

    #[test]
    fn drops_responses_acks_and_requests_without_via() {
        let err = SipError::BadStatus;
        let limits = SipLimits::default();
        assert_eq!(
            reject(b"SIP/2.0 4294967301 x\r\nVia: a\r\n\r\n", &err, &limits),
            None
        );
        assert_eq!(
            reject(b"ACK sip:a@b SIP/2.0\r\nVia: a\r\n\r\n", &err, &limits),
            None
        );
        assert_eq!(
            reject(b"INVITE sip:a@b SIP/2.0\r\nTo: a\r\n\r\n", &err, &limits),
            None
        );
        assert_eq!(reject(b"", &err, &limits), None);
        assert_eq!(disposition(b"sip/2.0 200 OK", &err), Disposition::Drop);
        assert_eq!(
            disposition(b"OPTIONS x SIP/3.0", &SipError::BadVersion),
            Disposition::Respond(505)
        );
    }
}
