//! Registering at a trunk with a stepped clock: the challenge answered, the refresh at half the
//! granted expiry with the same Call-ID, and the back-off after refusals.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;
use crate::clock::UnixTime;
use crate::digest::Answer;
use crate::endpoint::test_endpoint_with_trunks;

const WALL: UnixTime = UnixTime::from_secs(1_800_000_000);
const PROVIDER: &str = "192.0.2.50:5070";

fn endpoint(now: Instant) -> Endpoint {
    let text = r#"
[[sip.trunks]]
name = "carrier"
address = "sip.carrier.example:5070"
username = "0301234567"
password = "Trunk-Pass-1"
"#;
    let config = crate::config::Config::parse(text).expect("config");
    let mut e = test_endpoint_with_trunks(&[], config.sip.trunks);
    let provider: SocketAddr = PROVIDER.parse().expect("addr");
    let local: SocketAddr = "192.0.2.1:5060".parse().expect("addr");
    e.handle_trunk_resolved(0, vec![provider], local, now);
    e
}

/// The next REGISTER we sent, after running the timers at `now`.
fn sent_register(e: &mut Endpoint, now: Instant) -> Request {
    e.handle_timeout(now, WALL);
    let t = e.poll_transmit().expect("a REGISTER");
    assert_eq!(t.to.addr.to_string(), PROVIDER);
    match Message::parse(&t.bytes, &SipLimits::default()).expect("parses") {
        Message::Request(r) => r,
        Message::Response(r) => panic!("a response: {r:?}"),
    }
}

fn answer(e: &mut Endpoint, request: &Request, status: u16, extra: &str, now: Instant) {
    let mut r = Response::for_request(request, status, "Whatever");
    r.head.to.params.set("tag", Some("prov".into()));
    let mut bytes = r.print();
    if !extra.is_empty() {
        let text = String::from_utf8(bytes).expect("utf8");
        let (head, _) = text.split_once("\r\n\r\n").expect("head");
        bytes = format!("{head}\r\n{extra}\r\n\r\n").into_bytes();
    }
    let peer = Peer {
        transport: crate::endpoint::Transport::Udp,
        addr: PROVIDER.parse().expect("addr"),
        local: "192.0.2.1:5060".parse().expect("addr"),
    };
    e.handle_message(&bytes, peer, now, WALL);
}

#[test]
fn a_challenged_register_is_answered_and_refreshed_at_half_the_granted_expiry() {
    let t0 = crate::clock::now();
    let mut e = endpoint(t0);
    let first = sent_register(&mut e, t0);
    assert_eq!(first.uri.to_string(), "sip:sip.carrier.example:5070");
    assert_eq!(first.head.headers.get(&HeaderName::EXPIRES), Some("3600"));
    assert!(first.head.headers.get(&HeaderName::AUTHORIZATION).is_none());
    let challenge =
        "WWW-Authenticate: Digest realm=\"carrier\", nonce=\"abc123\", qop=\"auth\", algorithm=MD5";
    answer(&mut e, &first, 401, challenge, t0);
    let second = e.poll_transmit().expect("the answer");
    let Ok(Message::Request(second)) = Message::parse(&second.bytes, &SipLimits::default()) else {
        panic!("a request");
    };
    assert_eq!(second.head.call_id, first.head.call_id);
    assert_eq!(second.head.cseq.seq, first.head.cseq.seq + 1);
    let header = second
        .head
        .headers
        .get(&HeaderName::AUTHORIZATION)
        .expect("answered");
    let proof = Answer::parse(header).expect("parses");
    assert_eq!(
        (proof.username, proof.realm, proof.uri),
        ("0301234567", "carrier", "sip:sip.carrier.example:5070")
    );
    assert!(proof.proves("REGISTER", "Trunk-Pass-1"));
    // The provider grants 120 s of the 3600 asked for (in the Contact, as most do).
    answer(
        &mut e,
        &second,
        200,
        "Contact: <sip:0301234567@192.0.2.1:5060>;expires=120",
        t0,
    );
    let until = e.trunks.0[0].registration.registered_until;
    assert_eq!(until, Some(t0 + Duration::from_secs(120)));
    assert_eq!(e.trunks_timeout(), Some(t0 + Duration::from_secs(60)));
    e.handle_timeout(t0 + Duration::from_secs(59), WALL);
    assert!(e.poll_transmit().is_none(), "not before half the expiry");
    let refresh = sent_register(&mut e, t0 + Duration::from_secs(60));
    assert_eq!(refresh.head.call_id, first.head.call_id);
    assert!(refresh.head.cseq.seq > second.head.cseq.seq);
}

#[test]
fn refused_credentials_are_not_sent_twice_and_retries_back_off() {
    let t0 = crate::clock::now();
    let mut e = endpoint(t0);
    let challenge = "Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"n1\"";
    let first = sent_register(&mut e, t0);
    answer(&mut e, &first, 407, challenge, t0);
    let Some(t) = e.poll_transmit() else {
        panic!("answered")
    };
    let Ok(Message::Request(second)) = Message::parse(&t.bytes, &SipLimits::default()) else {
        panic!("a request");
    };
    assert!(
        second
            .head
            .headers
            .get(&HeaderName::PROXY_AUTHORIZATION)
            .is_some()
    );
    // The same challenge again: the password is wrong, no third try now.
    answer(&mut e, &second, 407, challenge, t0);
    assert!(e.poll_transmit().is_none());
    assert_eq!(e.trunks.0[0].registration.last_status, Some(407));
    let mut at = t0;
    for wait in [30, 60, 120] {
        assert_eq!(e.trunks_timeout(), Some(at + Duration::from_secs(wait)));
        at += Duration::from_secs(wait);
        let again = sent_register(&mut e, at);
        answer(&mut e, &again, 403, "", at);
    }
    assert_eq!(backoff(20), Duration::from_secs(1800));
}

#[test]
fn a_stale_nonce_is_answered_again_and_423_asks_for_the_minimum() {
    let t0 = crate::clock::now();
    let mut e = endpoint(t0);
    let first = sent_register(&mut e, t0);
    answer(&mut e, &first, 423, "Min-Expires: 7200", t0);
    let Some(t) = e.poll_transmit() else {
        panic!("again")
    };
    let Ok(Message::Request(longer)) = Message::parse(&t.bytes, &SipLimits::default()) else {
        panic!("a request");
    };
    assert_eq!(longer.head.headers.get(&HeaderName::EXPIRES), Some("7200"));
    answer(
        &mut e,
        &longer,
        401,
        "WWW-Authenticate: Digest realm=\"c\", nonce=\"n1\"",
        t0,
    );
    let Some(t) = e.poll_transmit() else {
        panic!("answered")
    };
    let Ok(Message::Request(answered)) = Message::parse(&t.bytes, &SipLimits::default()) else {
        panic!("a request");
    };
    answer(
        &mut e,
        &answered,
        401,
        "WWW-Authenticate: Digest realm=\"c\", nonce=\"n2\", stale=true",
        t0,
    );
    assert!(
        e.poll_transmit().is_some(),
        "a stale nonce is answered with the new one"
    );
}
