//! The table: matching (§17.1.3, §17.2.3, RFC 2543 fallback, CANCEL §9.2), the bound, the
//! peer each transmission goes to, and finished transactions leaving.

use std::time::Duration;

use super::{base, ms, request, response};
use crate::sip::transaction::*;
use crate::sip::{Message, SipLimits, Via};

type Peer = &'static str;

fn table(max: usize) -> Transactions<Peer> {
    Transactions::new(Timers::default(), max)
}

fn rfc4475(name: &str) -> Message {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/rfc4475/{name}.dat"));
    let raw = std::fs::read(path).expect("fixture");
    Message::parse(&raw, &SipLimits::default()).expect("valid")
}

#[test]
fn retransmissions_and_the_non_2xx_ack_are_absorbed() {
    let t0 = base();
    let mut t = table(10);
    let invite = request("INVITE", "z9hG4bKi");
    let Incoming::New(id, _) = t.handle_request(invite.clone(), "phone", false, t0) else {
        panic!("new")
    };
    assert_eq!(
        t.handle_request(invite.clone(), "phone", false, t0 + ms(100)),
        Incoming::Absorbed
    );
    t.respond(&id, response(&invite, 486), t0 + ms(150))
        .expect("open");
    assert_eq!(t.poll_transmit().map(|x| x.to), Some("phone"));
    assert_eq!(
        t.handle_request(request("ACK", "z9hG4bKi"), "phone", false, t0 + ms(200)),
        Incoming::Absorbed
    );
    assert_eq!(
        t.server(&id).map(|s| s.state()),
        Some(ServerState::Confirmed)
    );
    let ack2xx = request("ACK", "z9hG4bKother");
    assert_eq!(
        t.handle_request(ack2xx.clone(), "phone", false, t0),
        Incoming::Ack(ack2xx)
    );
    t.handle_timeout(t0 + ms(5200));
    assert!(t.is_empty(), "Timer I removed it");
}

#[test]
fn cancel_finds_its_invite() {
    let t0 = base();
    let mut t = table(10);
    let invite = request("INVITE", "z9hG4bKc");
    let Incoming::New(invite_id, _) = t.handle_request(invite, "phone", false, t0) else {
        panic!("new")
    };
    match t.handle_request(request("CANCEL", "z9hG4bKc"), "phone", false, t0 + ms(50)) {
        Incoming::Cancel { id, invite, .. } => {
            assert_eq!(invite, Some(invite_id));
            assert_ne!(Some(id), invite);
        }
        other => panic!("{other:?}"),
    }
    match t.handle_request(request("CANCEL", "z9hG4bKnone"), "phone", false, t0) {
        Incoming::Cancel { invite: None, .. } => {}
        other => panic!("481 case: {other:?}"),
    }
}

#[test]
fn rfc_2543_requests_match_without_branch() {
    let t0 = base();
    let mut t = table(10);
    let Message::Request(inv) = rfc4475("inv2543") else {
        panic!("request")
    };
    let Incoming::New(id, _) = t.handle_request(inv.clone(), "gw", false, t0) else {
        panic!("new")
    };
    assert!(id.branch.starts_with("rfc2543 "));
    assert_eq!(
        t.handle_request(inv.clone(), "gw", false, t0 + ms(500)),
        Incoming::Absorbed
    );
    t.respond(&id, response(&inv, 404), t0 + ms(600))
        .expect("open");
    let mut ack = inv.clone();
    ack.method = crate::sip::Method::Ack;
    ack.head.cseq.method = crate::sip::Method::Ack;
    ack.head.to.params.set("tag", Some("t9".into()));
    assert_eq!(
        t.handle_request(ack, "gw", false, t0 + ms(700)),
        Incoming::Absorbed
    );
    assert_eq!(
        t.server(&id).map(|s| s.state()),
        Some(ServerState::Confirmed)
    );
    let Message::Request(bad) = rfc4475("badbranch") else {
        panic!("request")
    };
    let Incoming::New(bad_id, _) = t.handle_request(bad, "x", false, t0) else {
        panic!("new")
    };
    assert!(
        bad_id.branch.starts_with("rfc2543 "),
        "a bare magic cookie is no RFC 3261 branch"
    );
}

#[test]
fn responses_match_their_client_transaction() {
    let t0 = base();
    let mut t = table(10);
    let req = request("OPTIONS", "z9hG4bKo");
    let id = t
        .send_request(req.clone(), "phone", false, t0)
        .expect("room");
    assert_eq!(t.poll_transmit().map(|x| x.to), Some("phone"));
    assert_eq!(
        t.handle_response(response(&req, 200), t0 + ms(30)),
        ResponseOutcome::Matched
    );
    assert!(
        matches!(t.poll_event(), Some((i, TransactionEvent::Response(r))) if i == id && r.status == 200)
    );
    let other = response(&request("OPTIONS", "z9hG4bKnot"), 200);
    assert_eq!(
        t.handle_response(other.clone(), t0),
        ResponseOutcome::Stray(Box::new(other))
    );
    let Message::Response(bcast) = rfc4475("bcast") else {
        panic!("response")
    };
    assert_eq!(t.handle_response(bcast, t0), ResponseOutcome::Dropped);
    let mut two_vias = response(&req, 200);
    two_vias
        .head
        .via
        .push(Via::parse("SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKx").expect("valid"));
    assert_eq!(t.handle_response(two_vias, t0), ResponseOutcome::Dropped);
    t.handle_timeout(t0 + ms(30) + Duration::from_secs(5));
    assert!(t.is_empty(), "Timer K removed it");
}

#[test]
fn the_table_is_bounded_and_refuses_what_is_not_a_transaction() {
    let t0 = base();
    let mut t = table(2);
    assert!(matches!(
        t.handle_request(request("OPTIONS", "z9hG4bK1"), "a", false, t0),
        Incoming::New(..)
    ));
    t.send_request(request("OPTIONS", "z9hG4bK2"), "b", false, t0)
        .expect("room");
    assert!(matches!(
        t.handle_request(request("OPTIONS", "z9hG4bK3"), "c", false, t0),
        Incoming::Full(_)
    ));
    assert_eq!(
        t.send_request(request("OPTIONS", "z9hG4bK4"), "d", false, t0),
        Err(TransactionError::Full(2))
    );
    let mut big = table(10);
    assert_eq!(
        big.send_request(request("ACK", "z9hG4bK5"), "d", false, t0),
        Err(TransactionError::AckOutsideTransaction)
    );
    assert_eq!(
        big.send_request(request("OPTIONS", "nocookie"), "d", false, t0),
        Err(TransactionError::NoBranch)
    );
    big.send_request(request("OPTIONS", "z9hG4bK6"), "d", false, t0)
        .expect("room");
    assert_eq!(
        big.send_request(request("OPTIONS", "z9hG4bK6"), "d", false, t0),
        Err(TransactionError::Exists)
    );
    assert_eq!(
        big.respond(
            &TransactionId::server(&request("BYE", "z9hG4bK7")),
            response(&request("BYE", "z9hG4bK7"), 200),
            t0
        ),
        Err(TransactionError::NotFound)
    );
}

#[test]
fn timeouts_surface_as_events_with_the_transaction_id() {
    let t0 = base();
    let mut t = table(10);
    let id = t
        .send_request(request("INVITE", "z9hG4bKt"), "phone", false, t0)
        .expect("room");
    let mut sends = 0;
    while let Some(at) = t.poll_timeout() {
        t.handle_timeout(at);
        while t.poll_transmit().is_some() {
            sends += 1;
        }
    }
    assert_eq!(sends, 1 + 6, "the INVITE and six Timer A retransmissions");
    assert_eq!(t.poll_event(), Some((id, TransactionEvent::Timeout)));
    assert!(t.is_empty());
}

#[test]
fn an_invite_retransmitted_after_the_2xx_reaches_the_tu_once() {
    let t0 = base();
    let mut t = table(10);
    let invite = request("INVITE", "z9hG4bKa");
    let Incoming::New(id, _) = t.handle_request(invite.clone(), "phone", false, t0) else {
        panic!("new")
    };
    t.respond(&id, response(&invite, 200), t0 + ms(20))
        .expect("open");
    assert_eq!(
        t.handle_request(invite, "phone", false, t0 + ms(500)),
        Incoming::Absorbed
    );
    let ack = request("ACK", "z9hG4bKa");
    assert_eq!(
        t.handle_request(ack.clone(), "phone", false, t0 + ms(600)),
        Incoming::Ack(ack)
    );
    t.handle_timeout(t0 + ms(20) + Duration::from_secs(32));
    assert!(t.is_empty(), "Timer L removed it");
}

/// The deadline index follows every transaction: the soonest of many, each moved when its
/// transaction moves on, gone when it ends (the driver reads it after every datagram).
#[test]
fn poll_timeout_is_the_soonest_deadline_and_follows_each_transaction() {
    let t0 = base();
    let mut t = table(1000);
    let mut ids = Vec::new();
    for i in 0..100u64 {
        let req = request("OPTIONS", &format!("z9hG4bKidx{i}"));
        let Incoming::New(id, _) = t.handle_request(req.clone(), "phone", false, t0 + ms(i)) else {
            panic!("new")
        };
        t.respond(&id, response(&req, 200), t0 + ms(i))
            .expect("open");
        ids.push(id);
    }
    // Non-INVITE over UDP: completed, Timer J (64*T1) from its answer.
    let j = Timers::default().t1 * 64;
    assert_eq!(t.poll_timeout(), Some(t0 + j));
    t.handle_timeout(t0 + j + ms(49));
    assert_eq!(t.len(), 50, "only the due ones ended");
    assert_eq!(t.poll_timeout(), Some(t0 + j + ms(50)));
    // An INVITE arriving now brings the soonest deadline: its 100 Trying at 200 ms.
    let later = t0 + j + ms(49);
    let invite = request("INVITE", "z9hG4bKidxinv");
    let Incoming::New(inv, _) = t.handle_request(invite.clone(), "phone", false, later) else {
        panic!("new")
    };
    assert_eq!(t.poll_timeout(), Some(t0 + j + ms(50)));
    t.handle_timeout(t0 + j + ms(99));
    assert_eq!(t.len(), 1);
    assert_eq!(t.poll_timeout(), Some(later + ms(200)), "Timer 100 Trying");
    t.respond(&inv, response(&invite, 486), later + ms(100))
        .expect("open");
    assert!(t.poll_timeout().is_some_and(|d| d > later + ms(100)));
    t.handle_timeout(later + Duration::from_secs(64));
    assert!(t.is_empty());
    assert_eq!(t.poll_timeout(), None);
}
