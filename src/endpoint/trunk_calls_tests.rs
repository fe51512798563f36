//! Calls over a trunk with a stepped clock: a number dialled out is challenged by the provider
//! and answered once with the trunk's credentials; a call from the trunk reaches its DIDs and
//! nothing else, and is never challenged.

use std::net::SocketAddr;

use super::super::invite::tests::{REALM, WALL, caller, invited, sent};
use super::*;
use crate::digest::Answer;
use crate::endpoint::Transport;
use crate::endpoint::calls::{Ours, Route};

const PROVIDER: &str = "192.0.2.50:5070";

fn endpoint(now: Instant) -> Endpoint {
    let text = r#"
[[sip.trunks]]
name = "carrier"
address = "192.0.2.50:5070"
username = "0301234567"
password = "Trunk-Pass-1"
register = false
dids = { "+49301110" = "100", "+49301120" = "sales" }
prefixes = ["0"]
"#;
    let config = crate::config::Config::parse(text).expect("config");
    let mut e =
        crate::endpoint::test_endpoint_with_trunks(&[("anna", 1, "secret1")], config.sip.trunks);
    let provider: SocketAddr = PROVIDER.parse().expect("addr");
    e.handle_trunk_resolved(
        0,
        vec![provider],
        "192.0.2.1:5060".parse().expect("addr"),
        now,
    );
    e
}

fn provider() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: PROVIDER.parse().expect("addr"),
        local: "192.0.2.1:5060".parse().expect("addr"),
    }
}

/// A response to `request` (a printed one of ours) with `extra` header lines.
fn response(request: &str, status: &str, extra: &str) -> String {
    let line = |name: &str| {
        (request.lines())
            .find(|l| l.starts_with(name))
            .expect("header")
            .to_owned()
    };
    format!(
        "SIP/2.0 {status}\r\n{}\r\n{}\r\n{};tag=p1\r\n{}\r\n{}\r\n{extra}Content-Length: 0\r\n\r\n",
        line("Via:"),
        line("From:"),
        line("To:"),
        line("Call-ID:"),
        line("CSeq:")
    )
}

#[test]
fn a_dialled_number_goes_out_with_the_users_did_and_the_trunks_credentials() {
    let now = crate::clock::now();
    let mut e = endpoint(now);
    let key = invited(&mut e, now);
    let caller_id = CallerId {
        name: "Anna".into(),
        number: "100".into(),
        ours: Some(Ours {
            cid: None,
            extension: Some("100".into()),
        }),
    };
    let route = Route::Trunk {
        trunk: 0,
        number: "0301234".into(),
        caller: caller_id,
    };
    e.handle_route(key, route, now);
    let out = sent(&mut e);
    let first = out
        .iter()
        .find(|m| m.starts_with("INVITE "))
        .expect("INVITE out");
    assert!(
        first.starts_with("INVITE sip:0301234@192.0.2.50:5070 SIP/2.0"),
        "{first}"
    );
    assert!(
        first.contains("From: \"Anna\" <sip:+49301110@192.0.2.50>"),
        "{first}"
    );
    let challenge = "Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"n7\", qop=\"auth\"\r\n";
    e.handle_message(
        response(first, "407 Proxy Authentication Required", challenge).as_bytes(),
        provider(),
        now,
        WALL,
    );
    let out = sent(&mut e);
    assert!(
        out.iter().any(|m| m.starts_with("ACK sip:0301234@")),
        "the 407 is ACKed: {out:?}"
    );
    let second = out
        .iter()
        .find(|m| m.starts_with("INVITE "))
        .expect("INVITE again");
    assert!(second.contains("CSeq: 2 INVITE"), "{second}");
    let header = (second.lines())
        .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
        .expect("answered");
    let proof = Answer::parse(header).expect("parses");
    assert_eq!(
        (proof.username, proof.uri),
        ("0301234567", "sip:0301234@192.0.2.50:5070")
    );
    assert!(proof.proves("INVITE", "Trunk-Pass-1"));
    // The same challenge again: refused, and the caller hears 503, not a loop.
    e.handle_message(
        response(second, "407 Proxy Authentication Required", challenge).as_bytes(),
        provider(),
        now,
        WALL,
    );
    let out = sent(&mut e);
    assert!(out.iter().all(|m| !m.starts_with("INVITE ")), "{out:?}");
    assert!(out.iter().any(|m| m.starts_with("SIP/2.0 503")), "{out:?}");
}

fn from_provider(to: &str) -> Vec<u8> {
    format!(
        "INVITE sip:0301234567@192.0.2.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP {PROVIDER};branch=z9hG4bK-t{to}\r\n\
         From: \"Somebody Outside\" <sip:+4989555@carrier>;tag=x1\r\n\
         To: <sip:{to}@{REALM}>\r\n\
         Call-ID: ext-{to}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:+4989555@{PROVIDER}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

#[test]
fn a_call_from_the_trunk_reaches_its_dids_unchallenged_and_nothing_else() {
    let now = crate::clock::now();
    let mut e = endpoint(now);
    e.handle_message(&from_provider("+49301110"), provider(), now, WALL);
    let out = sent(&mut e);
    assert!(out.iter().all(|m| !m.starts_with("SIP/2.0 401")), "{out:?}");
    match std::iter::from_fn(|| e.poll_event()).last() {
        Some(EndpointEvent::FromTrunk { target, caller, .. }) => {
            assert_eq!(target, crate::config::DidTarget::Extension("100".into()));
            assert_eq!(
                (caller.name.as_str(), caller.number.as_str()),
                ("Somebody Outside", "+4989555")
            );
            assert!(caller.ours.is_none());
        }
        other => panic!("no FromTrunk event: {other:?}"),
    }
    // An outside number, or an extension that is no DID: 404, and nothing goes out.
    for to in ["0301234", "100"] {
        e.handle_message(&from_provider(to), provider(), now, WALL);
        let out = sent(&mut e);
        assert!(
            out.iter().any(|m| m.starts_with("SIP/2.0 404")),
            "{to}: {out:?}"
        );
        assert!(
            out.iter().all(|m| !m.starts_with("INVITE")),
            "{to}: {out:?}"
        );
        assert!(e.poll_event().is_none());
    }
}

/// Anna's call out through the trunk, answered by the provider: what Anna got (our 200).
fn connected_out(e: &mut Endpoint, now: Instant) -> String {
    let key = invited(e, now);
    let caller_id = CallerId {
        name: "Anna".into(),
        number: "100".into(),
        ours: None,
    };
    let route = Route::Trunk {
        trunk: 0,
        number: "0301234".into(),
        caller: caller_id,
    };
    e.handle_route(key, route, now);
    let out = sent(e);
    let ours = out
        .iter()
        .find(|m| m.starts_with("INVITE "))
        .expect("INVITE out");
    let ok = response(ours, "200 OK", "Contact: <sip:0301234@192.0.2.50:5070>\r\n");
    e.handle_message(ok.as_bytes(), provider(), now, WALL);
    let out = sent(e);
    let to_anna = out
        .iter()
        .find(|m| m.starts_with("SIP/2.0 200"))
        .expect("200 to Anna");
    to_anna.clone()
}

/// The provider challenges Anna's hold (a re-INVITE we pass on): answered once with the
/// trunk's account and a higher CSeq, and its 200 reaches Anna.
#[test]
fn a_trunk_challenging_a_relayed_reinvite_gets_the_trunks_credentials() {
    let now = crate::clock::now();
    let mut e = endpoint(now);
    let ok = connected_out(&mut e, now);
    let to = ok.lines().find(|l| l.starts_with("To:")).expect("To");
    let hold = format!(
        "INVITE sip:zentrale@192.0.2.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-hold\r\n\
         From: <sip:anna@{REALM}>;tag=a1\r\n{to}\r\nCall-ID: call-1\r\nCSeq: 3 INVITE\r\n\
         Contact: <sip:anna@192.0.2.10:5062>\r\nContent-Type: application/sdp\r\n\
         Content-Length: 11\r\n\r\na=sendonly\n"
    );
    e.handle_message(hold.as_bytes(), caller(), now, WALL);
    let out = sent(&mut e);
    let first = out
        .iter()
        .find(|m| m.starts_with("INVITE sip:0301234@"))
        .expect("re-INVITE");
    let challenge = "Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"n9\"\r\n";
    let refused = response(first, "407 Proxy Authentication Required", challenge);
    e.handle_message(refused.as_bytes(), provider(), now, WALL);
    let out = sent(&mut e);
    let again = out
        .iter()
        .find(|m| m.starts_with("INVITE sip:0301234@"))
        .expect("again");
    let seq = |m: &str| -> u32 {
        let line = m
            .lines()
            .find_map(|l| l.strip_prefix("CSeq: "))
            .expect("CSeq");
        line.split(' ')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("number")
    };
    assert!(seq(again) > seq(first), "{again}");
    let header = (again.lines())
        .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
        .expect("answered");
    let proof = Answer::parse(header).expect("parses");
    assert!(proof.proves("INVITE", "Trunk-Pass-1"), "{header}");
    assert!(again.ends_with("a=sendonly\n"), "the same SDP: {again}");
    assert!(
        out.iter().all(|m| !m.starts_with("SIP/2.0 407")),
        "not passed to Anna: {out:?}"
    );
    let ok = response(
        again,
        "200 OK",
        "Contact: <sip:0301234@192.0.2.50:5070>\r\n",
    );
    e.handle_message(ok.as_bytes(), provider(), now, WALL);
    let out = sent(&mut e);
    assert!(
        out.iter()
            .any(|m| m.starts_with("SIP/2.0 200") && m.contains("CSeq: 3 INVITE")),
        "{out:?}"
    );
}
