//! The transaction state machines under a stepped clock: every timer, every transition, the
//! retransmission counts of RFC 3261 §17 (no sleeps: `now` is a base instant plus an offset).

use std::time::Duration;

use bytes::Bytes;

use super::*;
use crate::clock::Instant;
use crate::sip::{Message, Method, Request, Response, SipLimits};

fn base() -> Instant {
    // The one clock read of these tests: only offsets from it matter.
    crate::clock::now()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn request(method: &str, branch: &str) -> Request {
    let text = format!(
        "{method} sip:201@pbx.example.com SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5060;branch={branch}\r\n\
         From: <sip:100@pbx.example.com>;tag=f1\r\nTo: <sip:201@pbx.example.com>\r\n\
         Call-ID: c1@192.0.2.10\r\nCSeq: 7 {method}\r\nMax-Forwards: 70\r\n\
         Route: <sip:proxy.example.com;lr>\r\nContent-Length: 0\r\n\r\n"
    );
    match Message::parse(text.as_bytes(), &SipLimits::default()) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

fn response(req: &Request, status: u16) -> Response {
    let mut r = Response::for_request(req, status, "X");
    if status > 100 {
        r.head.to.params.set("tag", Some("t9".into()));
    }
    r
}

fn parse(bytes: &Bytes) -> Message {
    Message::parse(bytes, &SipLimits::default()).expect("we print valid messages")
}

/// Runs a client transaction's timers up to `end`: the offsets at which it transmitted.
fn client_sends(tx: &mut ClientTransaction, start: Instant, end: Duration) -> Vec<Duration> {
    let mut sent = Vec::new();
    while let Some(at) = tx.poll_timeout().filter(|&at| at <= start + end) {
        tx.handle_timeout(at);
        while tx.poll_transmit().is_some() {
            sent.push(at - start);
        }
    }
    sent
}

fn server_sends(tx: &mut ServerTransaction, start: Instant, end: Duration) -> Vec<Duration> {
    let mut sent = Vec::new();
    while let Some(at) = tx.poll_timeout().filter(|&at| at <= start + end) {
        tx.handle_timeout(at);
        while tx.poll_transmit().is_some() {
            sent.push(at - start);
        }
    }
    sent
}

#[test]
fn invite_client_timer_a_doubles_until_timer_b() {
    let t0 = base();
    let mut tx =
        ClientTransaction::new(request("INVITE", "z9hG4bKa"), false, Timers::default(), t0);
    assert!(tx.poll_transmit().is_some());
    let sent = client_sends(&mut tx, t0, Duration::from_secs(40));
    assert_eq!(
        sent,
        [ms(500), ms(1500), ms(3500), ms(7500), ms(15500), ms(31500)]
    );
    assert_eq!(
        tx.poll_event(),
        Some(ClientEvent::Timeout),
        "Timer B at 64*T1"
    );
    assert!(tx.is_terminated() && tx.poll_timeout().is_none());
}

#[test]
fn invite_client_provisional_stops_timers_and_2xx_terminates() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKa");
    let mut tx = ClientTransaction::new(req.clone(), false, Timers::default(), t0);
    tx.handle_response(response(&req, 180), t0 + ms(700));
    assert_eq!(tx.state(), ClientState::Proceeding);
    assert_eq!(tx.poll_timeout(), None, "no timer in Proceeding");
    assert!(matches!(tx.poll_event(), Some(ClientEvent::Response(r)) if r.status == 180));
    tx.handle_response(response(&req, 200), t0 + ms(900));
    assert!(matches!(tx.poll_event(), Some(ClientEvent::Response(r)) if r.status == 200));
    assert!(tx.is_terminated());
    assert_eq!(
        tx.poll_transmit().map(|_| ()),
        Some(()),
        "only the INVITE itself, no ACK"
    );
    assert_eq!(tx.poll_transmit(), None);
}

#[test]
fn invite_client_acks_a_failure_and_absorbs_its_retransmission() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKa");
    let mut tx = ClientTransaction::new(req.clone(), false, Timers::default(), t0);
    tx.poll_transmit();
    tx.handle_response(response(&req, 486), t0 + ms(100));
    assert_eq!(tx.state(), ClientState::Completed);
    let Message::Request(ack) = parse(&tx.poll_transmit().expect("ACK")) else {
        panic!("not a request")
    };
    assert_eq!(
        (
            ack.method.clone(),
            ack.head.cseq.seq,
            ack.head.cseq.method.clone()
        ),
        (Method::Ack, 7, Method::Ack)
    );
    assert_eq!(ack.head.to.tag().as_deref(), Some("t9"));
    assert_eq!(ack.head.via, req.head.via[..1]);
    assert_eq!(ack.uri, req.uri);
    assert_eq!(
        ack.head.headers.get(&crate::sip::HeaderName::ROUTE),
        Some("<sip:proxy.example.com;lr>")
    );
    assert!(matches!(tx.poll_event(), Some(ClientEvent::Response(r)) if r.status == 486));
    tx.handle_response(response(&req, 486), t0 + ms(600));
    assert!(tx.poll_transmit().is_some(), "ACK again");
    assert_eq!(tx.poll_event(), None, "the retransmission is not passed up");
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(100) + Duration::from_secs(32)),
        "Timer D"
    );
    tx.handle_timeout(t0 + ms(100) + Duration::from_secs(32));
    assert!(tx.is_terminated());
}

#[test]
fn invite_client_over_tcp_has_no_timer_a_and_zero_timer_d() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKa");
    let mut tx = ClientTransaction::new(req.clone(), true, Timers::default(), t0);
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + Duration::from_secs(32)),
        "only Timer B"
    );
    tx.handle_response(response(&req, 404), t0 + ms(10));
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(10)));
    tx.handle_timeout(t0 + ms(10));
    assert!(tx.is_terminated());
}

#[test]
fn non_invite_client_timer_e_caps_at_t2_until_timer_f() {
    let t0 = base();
    let mut tx =
        ClientTransaction::new(request("OPTIONS", "z9hG4bKo"), false, Timers::default(), t0);
    tx.poll_transmit();
    let sent = client_sends(&mut tx, t0, Duration::from_secs(40));
    let expected: Vec<Duration> = [
        500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]
    .into_iter()
    .map(ms)
    .collect();
    assert_eq!(sent, expected);
    assert_eq!(tx.poll_event(), Some(ClientEvent::Timeout), "Timer F");
    assert!(tx.is_terminated());
}

#[test]
fn non_invite_client_proceeding_retransmits_every_t2_and_lingers_t4() {
    let t0 = base();
    let req = request("REGISTER", "z9hG4bKr");
    let mut tx = ClientTransaction::new(req.clone(), false, Timers::default(), t0);
    tx.poll_transmit();
    assert_eq!(client_sends(&mut tx, t0, ms(700)), [ms(500)]);
    tx.handle_response(response(&req, 100), t0 + ms(700));
    assert_eq!(tx.state(), ClientState::Proceeding);
    assert_eq!(
        client_sends(&mut tx, t0, ms(10_000)),
        [ms(1500), ms(5500), ms(9500)]
    );
    tx.handle_response(response(&req, 200), t0 + ms(10_000));
    assert_eq!(tx.state(), ClientState::Completed);
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(15_000)), "Timer K = T4");
    tx.handle_response(response(&req, 200), t0 + ms(10_500));
    let events: Vec<_> = std::iter::from_fn(|| tx.poll_event()).collect();
    assert_eq!(events.len(), 2, "100 and the first 200 only: {events:?}");
    assert_eq!(
        tx.poll_transmit(),
        None,
        "nothing is sent for a non-INVITE final"
    );
    tx.handle_timeout(t0 + ms(15_000));
    assert!(tx.is_terminated());
}

#[test]
fn non_invite_client_over_tcp_has_zero_timer_k() {
    let t0 = base();
    let req = request("OPTIONS", "z9hG4bKo");
    let mut tx = ClientTransaction::new(req.clone(), true, Timers::default(), t0);
    tx.handle_response(response(&req, 200), t0 + ms(5));
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(5)));
    tx.handle_timeout(t0 + ms(5));
    assert!(tx.is_terminated());
}

#[test]
fn client_transport_error_ends_it() {
    let t0 = base();
    let mut tx =
        ClientTransaction::new(request("OPTIONS", "z9hG4bKo"), false, Timers::default(), t0);
    tx.handle_transport_error();
    assert_eq!(tx.poll_event(), Some(ClientEvent::TransportError));
    assert!(tx.is_terminated());
}

#[test]
fn invite_server_sends_100_trying_after_200_ms_of_silence() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKi");
    let mut tx = ServerTransaction::new(&req, false, Timers::default(), t0);
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(200)));
    tx.handle_timeout(t0 + ms(200));
    let Message::Response(trying) = parse(&tx.poll_transmit().expect("100")) else {
        panic!("not a response")
    };
    assert_eq!((trying.status, trying.head.to.tag()), (100, None));
    tx.handle_request(&req, t0 + ms(500));
    assert_eq!(
        tx.poll_transmit().map(|b| parse(&b)),
        Some(Message::Response(trying)),
        "a retransmission gets the last provisional"
    );
    let mut quick = ServerTransaction::new(&req, false, Timers::default(), t0);
    quick
        .respond(response(&req, 180), t0 + ms(50))
        .expect("open");
    quick.poll_transmit();
    assert_eq!(quick.poll_timeout(), None, "no 100 once the TU answered");
}

#[test]
fn invite_server_timer_g_doubles_to_t2_until_timer_h() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKi");
    let mut tx = ServerTransaction::new(&req, false, Timers::default(), t0);
    tx.respond(response(&req, 486), t0).expect("open");
    assert!(tx.poll_transmit().is_some());
    assert_eq!(tx.state(), ServerState::Completed);
    let sent = server_sends(&mut tx, t0, Duration::from_secs(40));
    let expected: Vec<Duration> = [
        500, 1500, 3500, 7500, 11500, 15500, 19500, 23500, 27500, 31500,
    ]
    .into_iter()
    .map(ms)
    .collect();
    assert_eq!(sent, expected);
    assert_eq!(
        tx.poll_event(),
        Some(ServerEvent::Timeout),
        "Timer H: never ACKed"
    );
    assert!(tx.is_terminated());
}

#[test]
fn invite_server_ack_confirms_then_timer_i_ends_it() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKi");
    let mut tx = ServerTransaction::new(&req, false, Timers::default(), t0);
    tx.respond(response(&req, 603), t0).expect("open");
    tx.poll_transmit();
    tx.handle_request(&req, t0 + ms(100));
    assert!(
        tx.poll_transmit().is_some(),
        "INVITE retransmission gets the final again"
    );
    let ack = request("ACK", "z9hG4bKi");
    tx.handle_request(&ack, t0 + ms(200));
    assert_eq!(tx.state(), ServerState::Confirmed);
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(5200)), "Timer I = T4");
    tx.handle_request(&ack, t0 + ms(300));
    assert_eq!(
        (tx.poll_transmit(), tx.state()),
        (None, ServerState::Confirmed)
    );
    assert_eq!(
        tx.respond(response(&req, 500), t0 + ms(300)),
        Err(TransactionError::AlreadyAnswered)
    );
    tx.handle_timeout(t0 + ms(5200));
    assert!(tx.is_terminated() && tx.poll_event().is_none());
}

#[test]
fn invite_server_over_tcp_no_timer_g_zero_timer_i() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKi");
    let mut tx = ServerTransaction::new(&req, true, Timers::default(), t0);
    tx.respond(response(&req, 486), t0 + ms(10)).expect("open");
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(10) + Duration::from_secs(32)),
        "only Timer H"
    );
    tx.handle_request(&request("ACK", "z9hG4bKi"), t0 + ms(20));
    assert_eq!(tx.poll_timeout(), Some(t0 + ms(20)));
    tx.handle_timeout(t0 + ms(20));
    assert!(tx.is_terminated());
}

#[test]
fn invite_server_2xx_is_accepted_until_timer_l() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKi");
    let mut tx = ServerTransaction::new(&req, false, Timers::default(), t0);
    tx.respond(response(&req, 200), t0 + ms(10)).expect("open");
    assert_eq!(tx.state(), ServerState::Accepted);
    assert!(tx.poll_transmit().is_some());
    assert!(
        tx.handle_request(&req, t0 + ms(500)),
        "INVITE retransmission absorbed"
    );
    assert_eq!(
        tx.poll_transmit(),
        None,
        "the TU retransmits its 2xx, not the transaction"
    );
    tx.respond(response(&req, 200), t0 + ms(510))
        .expect("2xx retransmission");
    assert!(tx.poll_transmit().is_some());
    assert_eq!(
        tx.respond(response(&req, 486), t0 + ms(520)),
        Err(TransactionError::AlreadyAnswered)
    );
    assert!(
        !tx.handle_request(&request("ACK", "z9hG4bKi"), t0 + ms(600)),
        "the ACK goes to the TU"
    );
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(10) + Duration::from_secs(32)),
        "Timer L = 64*T1"
    );
    tx.handle_timeout(t0 + ms(10) + Duration::from_secs(32));
    assert!(tx.is_terminated() && tx.poll_event().is_none());
}

#[test]
fn non_invite_server_absorbs_then_repeats_then_timer_j() {
    let t0 = base();
    let req = request("REGISTER", "z9hG4bKr");
    let mut tx = ServerTransaction::new(&req, false, Timers::default(), t0);
    assert_eq!(
        (tx.state(), tx.poll_timeout()),
        (ServerState::Trying, None),
        "no 100 for non-INVITE"
    );
    tx.handle_request(&req, t0 + ms(500));
    assert_eq!(tx.poll_transmit(), None, "Trying: retransmission discarded");
    tx.respond(response(&req, 100), t0 + ms(600)).expect("open");
    tx.poll_transmit();
    tx.handle_request(&req, t0 + ms(1500));
    assert!(
        tx.poll_transmit().is_some(),
        "Proceeding: the provisional again"
    );
    tx.respond(response(&req, 200), t0 + ms(1600))
        .expect("open");
    assert!(tx.poll_transmit().is_some());
    tx.handle_request(&req, t0 + ms(3500));
    assert!(tx.poll_transmit().is_some(), "Completed: the final again");
    assert_eq!(
        tx.poll_timeout(),
        Some(t0 + ms(1600) + Duration::from_secs(32)),
        "Timer J = 64*T1"
    );
    tx.handle_timeout(t0 + ms(33_600));
    assert!(tx.is_terminated());
    let mut tcp = ServerTransaction::new(&req, true, Timers::default(), t0);
    tcp.respond(response(&req, 200), t0).expect("open");
    assert_eq!(tcp.poll_timeout(), Some(t0), "Timer J is zero over TCP");
}

#[test]
fn server_transport_error_ends_it() {
    let t0 = base();
    let req = request("INVITE", "z9hG4bKi");
    let mut tx = ServerTransaction::new(&req, false, Timers::default(), t0);
    tx.handle_transport_error();
    assert_eq!(tx.poll_event(), Some(ServerEvent::TransportError));
    assert!(tx.is_terminated());
}

mod deadlines;
mod table;
