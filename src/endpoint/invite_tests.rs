//! The B2BUA with a stepped clock: the caller's INVITE, the callee's 2xx, and what happens when
//! the caller's ACK never comes.

use std::net::SocketAddr;

use md5::Digest as _;

use super::*;
use crate::endpoint::Transport;
use crate::sip::Timers;

pub(crate) const REALM: &str = "pbx.example.com";
pub(crate) const WALL: UnixTime = UnixTime::from_secs(1_800_000_000);

pub(crate) fn endpoint() -> Endpoint {
    let mut e = crate::endpoint::test_endpoint(&[("anna", 1, "secret1"), ("bert", 2, "secret2")]);
    let bert = crate::endpoint::test_binding(2, "bert", "192.0.2.20:5060", WALL);
    e.registrar_mut().load([bert]);
    e
}

pub(crate) fn caller() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: "192.0.2.10:5062".parse::<SocketAddr>().expect("addr"),
        local: "192.0.2.1:5060".parse::<SocketAddr>().expect("addr"),
    }
}

pub(crate) fn callee() -> Peer {
    Peer {
        addr: "192.0.2.20:5060".parse::<SocketAddr>().expect("addr"),
        ..caller()
    }
}

pub(crate) fn invite(cseq: u32, auth: &str) -> Vec<u8> {
    format!(
        "INVITE sip:101@{REALM} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-i{cseq};rport\r\n\
         From: <sip:anna@{REALM}>;tag=a1\r\n\
         To: <sip:101@{REALM}>\r\n\
         Call-ID: call-1\r\n\
         CSeq: {cseq} INVITE\r\n\
         Contact: <sip:anna@192.0.2.10:5062>\r\n\
         {auth}Content-Type: application/sdp\r\n\
         Content-Length: 4\r\n\r\nv=0\n"
    )
    .into_bytes()
}

pub(crate) fn authorization(nonce: &str) -> String {
    let h = |t: String| crate::digest::hex(&md5::Md5::digest(t.as_bytes()));
    let uri = format!("sip:101@{REALM}");
    let ha2 = h(format!("INVITE:{uri}"));
    let response = h(format!(
        "{}:{nonce}:{ha2}",
        h(format!("anna:{REALM}:secret1"))
    ));
    format!(
        "Authorization: Digest username=\"anna\", realm=\"{REALM}\", nonce=\"{nonce}\", \
         uri=\"{uri}\", response=\"{response}\", algorithm=MD5\r\n"
    )
}

pub(crate) fn sent(e: &mut Endpoint) -> Vec<String> {
    std::iter::from_fn(|| e.poll_transmit())
        .map(|t| String::from_utf8_lossy(&t.bytes).into_owned())
        .collect()
}

/// A connected call: anna's INVITE, routed to bert's one phone, which answered.
pub(crate) fn connected(e: &mut Endpoint, now: Instant) {
    let ours = rung(e, now);
    answer(
        e,
        &ours,
        "Contact: <sip:bert@192.0.2.20:5060>\r\n",
        "v=1\n",
        now,
    );
}

/// Bert's phone answers our INVITE `ours` with 200, `headers` and `sdp`.
pub(crate) fn answer(e: &mut Endpoint, ours: &str, headers: &str, sdp: &str, now: Instant) {
    let ok = format!(
        "SIP/2.0 200 OK\r\n{}\r\n{}\r\n{};tag=b1\r\n{}\r\n{}\r\n\
         {headers}Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
        line(ours, "Via:"),
        line(ours, "From:"),
        line(ours, "To:"),
        line(ours, "Call-ID:"),
        line(ours, "CSeq:"),
        sdp.len(),
    );
    e.handle_message(ok.as_bytes(), callee(), now, WALL);
}

/// The first line of `message` that starts with `name`.
pub(crate) fn line(message: &str, name: &str) -> String {
    (message.lines())
        .find(|l| l.starts_with(name))
        .unwrap_or_else(|| panic!("no {name} in {message}"))
        .to_owned()
}

/// Anna's INVITE, challenged and sent again with her Digest: the call's key (its Invite
/// event).
pub(crate) fn invited(e: &mut Endpoint, now: Instant) -> u64 {
    e.handle_message(&invite(1, ""), caller(), now, WALL);
    let challenge = sent(e).pop().expect("401");
    let nonce = challenge
        .split("nonce=\"")
        .nth(1)
        .and_then(|n| n.split('"').next());
    e.handle_message(
        &invite(2, &authorization(nonce.expect("nonce"))),
        caller(),
        now,
        WALL,
    );
    let events: Vec<EndpointEvent> = std::iter::from_fn(|| e.poll_event()).collect();
    let key = events.iter().find_map(|e| match e {
        EndpointEvent::Invite { key, device: 1, .. } => Some(*key),
        _ => None,
    });
    key.unwrap_or_else(|| panic!("no Invite event: {events:?}"))
}

/// Anna's INVITE, routed to bert's one phone, which is rung: our INVITE to it.
pub(crate) fn rung(e: &mut Endpoint, now: Instant) -> String {
    let key = invited(e, now);
    let route = crate::endpoint::test_route_anna_to_bert();
    e.handle_route(key, route, now);
    let out = sent(e);
    let ours = out
        .iter()
        .find(|m| m.starts_with("INVITE sip:bert@"))
        .expect("INVITE to bert");
    assert!(
        ours.contains("From: \"Anna\" <sip:100@pbx.example.com>"),
        "{ours}"
    );
    assert!(ours.ends_with("v=0\n"), "the caller's SDP: {ours}");
    ours.clone()
}

#[test]
fn the_answer_is_sent_again_until_the_caller_acks_then_the_call_ends() {
    let mut e = endpoint();
    let now = crate::clock::now();
    connected(&mut e, now);
    let out = sent(&mut e);
    assert!(
        out.iter().any(|m| m.starts_with("ACK sip:bert@")),
        "{out:?}"
    );
    let ok = out
        .iter()
        .find(|m| m.starts_with("SIP/2.0 200 OK"))
        .expect("200 to anna");
    assert!(ok.ends_with("v=1\n"), "bert's SDP: {ok}");
    // No ACK from anna: 200 again after T1, 2·T1, …, and at 64·T1 BYE to both.
    let t1 = Timers::default().t1;
    e.handle_timeout(now + t1, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 200 OK")));
    e.handle_timeout(now + t1 * 64, WALL);
    let byes: Vec<String> = sent(&mut e)
        .into_iter()
        .filter(|m| m.starts_with("BYE "))
        .collect();
    assert_eq!(byes.len(), 2, "{byes:?}");
}

#[test]
fn an_acked_answer_is_not_sent_again() {
    let mut e = endpoint();
    let now = crate::clock::now();
    connected(&mut e, now);
    let ok = sent(&mut e)
        .into_iter()
        .find(|m| m.starts_with("SIP/2.0 200 OK"))
        .expect("200");
    let to = ok.lines().find(|l| l.starts_with("To:")).expect("To");
    let ack = format!(
        "ACK sip:zentrale@192.0.2.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-ack\r\n\
         From: <sip:anna@{REALM}>;tag=a1\r\n{to}\r\nCall-ID: call-1\r\nCSeq: 2 ACK\r\n\
         Content-Length: 0\r\n\r\n"
    );
    e.handle_message(ack.as_bytes(), caller(), now, WALL);
    let t1 = Timers::default().t1;
    e.handle_timeout(now + t1 * 64, WALL);
    let later = sent(&mut e);
    assert!(
        later.iter().all(|m| !m.starts_with("SIP/2.0 200")),
        "{later:?}"
    );
    assert!(later.iter().all(|m| !m.starts_with("BYE")), "{later:?}");
}
