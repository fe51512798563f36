//! The table's deadline index under a stepped clock: with thousands of lingering transactions
//! only the due ones fire, `poll_timeout` is always the earliest timer of any live transaction,
//! and a transaction that ended never fires again.

use std::time::Duration;

use super::{base, ms, request, response};
use crate::clock::Instant;
use crate::sip::Request;
use crate::sip::transaction::*;

type Peer = &'static str;

const TIMER_J: Duration = Duration::from_secs(32);

fn table() -> Transactions<Peer> {
    Transactions::new(Timers::default(), 100_000)
}

/// A REGISTER server transaction answered at `at` (UDP: it lingers for Timer J).
fn answered(t: &mut Transactions<Peer>, branch: &str, at: Instant) -> TransactionId {
    let reg = request("REGISTER", branch);
    let Incoming::New(id, _) = t.handle_request(reg.clone(), "phone", false, at) else {
        panic!("new")
    };
    t.respond(&id, response(&reg, 200), at).expect("open");
    assert!(t.poll_transmit().is_some(), "the 200");
    id
}

#[test]
fn of_thousands_lingering_only_the_due_ones_end() {
    let t0 = base();
    let mut t = table();
    let ids: Vec<_> = (0..2000)
        .map(|i| answered(&mut t, &format!("z9hG4bKr{i}"), t0 + ms(i)))
        .collect();
    assert_eq!(t.len(), 2000);
    assert_eq!(t.poll_timeout(), Some(t0 + TIMER_J));

    t.handle_timeout(t0 + TIMER_J + ms(999));
    assert_eq!(t.len(), 1000, "the first thousand reached Timer J");
    assert!(ids[..1000].iter().all(|id| t.server(id).is_none()));
    assert!(ids[1000..].iter().all(|id| t.server(id).is_some()));
    assert_eq!(t.poll_timeout(), Some(t0 + TIMER_J + ms(1000)));
    assert_eq!(t.poll_transmit(), None, "lingering sends nothing");
    assert_eq!(t.poll_event(), None);

    // A retransmission of a lingering one is still absorbed, and its Timer J is unchanged.
    let again = request("REGISTER", "z9hG4bKr1500");
    assert_eq!(
        t.handle_request(again, "phone", false, t0 + TIMER_J + ms(1000)),
        Incoming::Absorbed
    );
    assert!(t.poll_transmit().is_some(), "the 200 again");
    t.handle_timeout(t0 + TIMER_J + ms(1500));
    assert_eq!(t.len(), 499);
    t.handle_timeout(t0 + TIMER_J + ms(1999));
    assert!(t.is_empty());
    assert_eq!(t.poll_timeout(), None);
    assert_eq!(t.scheduled(), 0, "nothing is left in the index");
}

#[test]
fn a_timer_among_lingering_transactions_fires_alone() {
    let t0 = base();
    let mut t = table();
    for i in 0..500 {
        answered(&mut t, &format!("z9hG4bKl{i}"), t0);
    }
    let id = t
        .send_request(request("OPTIONS", "z9hG4bKping"), "trunk", false, t0)
        .expect("room");
    assert_eq!(t.poll_transmit().map(|x| x.to), Some("trunk"));
    // Timer E: the first retransmission after T1.
    assert_eq!(t.poll_timeout(), Some(t0 + ms(500)));
    t.handle_timeout(t0 + ms(500));
    assert_eq!(t.poll_transmit().map(|x| x.to), Some("trunk"));
    assert_eq!(t.poll_transmit(), None, "only the due transaction sent");
    assert_eq!(t.poll_timeout(), Some(t0 + ms(1500)), "Timer E doubled");
    assert!(t.client(&id).is_some());
    assert_eq!(t.len(), 501);
}

#[test]
fn an_ended_transaction_never_fires() {
    let t0 = base();
    let mut t = table();
    let client = t
        .send_request(request("OPTIONS", "z9hG4bKgone"), "trunk", false, t0)
        .expect("room");
    let server = answered(&mut t, "z9hG4bKgone2", t0);
    assert!(t.poll_transmit().is_some(), "the OPTIONS");
    t.handle_transport_error(&client);
    t.handle_transport_error(&server);
    assert_eq!(
        t.poll_event(),
        Some((client, TransactionEvent::TransportError))
    );
    assert_eq!(
        t.poll_event(),
        Some((server, TransactionEvent::TransportError))
    );
    assert!(t.is_empty());
    assert_eq!(t.poll_timeout(), None);
    assert_eq!(t.scheduled(), 0);
    // Past every timer both would have had (E, F, J): nothing is sent or reported.
    for s in [1, 10, 33, 64] {
        t.handle_timeout(t0 + Duration::from_secs(s));
        assert_eq!(t.poll_transmit(), None);
        assert_eq!(t.poll_event(), None);
    }
}

#[test]
fn a_client_answered_leaves_its_retransmission_timer() {
    let t0 = base();
    let mut t = table();
    let options = request("OPTIONS", "z9hG4bKans");
    t.send_request(options.clone(), "trunk", false, t0)
        .expect("room");
    assert!(t.poll_transmit().is_some());
    let mut ok = response(&options, 200);
    ok.head.via.truncate(1);
    assert_eq!(
        t.handle_response(ok, t0 + ms(100)),
        ResponseOutcome::Matched
    );
    // Completed: only Timer K (T4) is left, no retransmission at 500 ms.
    assert_eq!(
        t.poll_timeout(),
        Some(t0 + ms(100) + Duration::from_secs(5))
    );
    t.handle_timeout(t0 + ms(500));
    assert_eq!(t.poll_transmit(), None);
    t.handle_timeout(t0 + ms(5100));
    assert!(t.is_empty());
    assert_eq!(t.scheduled(), 0);
}

/// A small deterministic generator, so the mixed run below is the same every time.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The timers of every live transaction, read from the transactions themselves (the slow way
/// the index replaces).
fn timers(
    t: &Transactions<Peer>,
    servers: &[(TransactionId, Request)],
    clients: &[TransactionId],
) -> Vec<Instant> {
    let s = servers
        .iter()
        .filter_map(|(id, _)| t.server(id)?.poll_timeout());
    let c = clients.iter().filter_map(|id| t.client(id)?.poll_timeout());
    s.chain(c).collect()
}

#[test]
fn poll_timeout_is_the_earliest_timer_through_a_mixed_run() {
    let t0 = base();
    let mut t = table();
    let mut rng = Lcg(7);
    let (mut servers, mut clients) = (Vec::new(), Vec::new());
    let mut now = t0;
    let mut fired = 0;
    for step in 0..3000 {
        now += ms(rng.next(40));
        match rng.next(6) {
            0 => {
                let m = ["INVITE", "REGISTER", "OPTIONS"][rng.next(3) as usize];
                let req = request(m, &format!("z9hG4bKs{step}"));
                if let Incoming::New(id, req) =
                    t.handle_request(req, "phone", rng.next(4) == 0, now)
                {
                    servers.push((id, req));
                }
            }
            1 => {
                let Some((id, req)) = servers.get(rng.next(servers.len().max(1) as u64) as usize)
                else {
                    continue;
                };
                let open = |s: &ServerTransaction| {
                    matches!(s.state(), ServerState::Trying | ServerState::Proceeding)
                };
                if t.server(id).is_some_and(open) {
                    let status = [180, 200, 486][rng.next(3) as usize];
                    let _ = t.respond(id, response(req, status), now);
                }
            }
            2 => {
                let m = ["INVITE", "OPTIONS", "NOTIFY"][rng.next(3) as usize];
                let req = request(m, &format!("z9hG4bKc{step}"));
                if let Ok(id) = t.send_request(req, "trunk", rng.next(4) == 0, now) {
                    clients.push(id);
                }
            }
            3 => {
                let Some(id) = clients.get(rng.next(clients.len().max(1) as u64) as usize) else {
                    continue;
                };
                if let Some(req) = t.client(id).map(|c| c.request().clone()) {
                    let mut r = response(&req, [100, 180, 200, 404][rng.next(4) as usize]);
                    r.head.via.truncate(1);
                    let _ = t.handle_response(r, now);
                }
            }
            _ => {
                if let Some(at) = t.poll_timeout().filter(|&at| at <= now) {
                    fired += 1;
                    t.handle_timeout(at);
                }
            }
        }
        while t.poll_transmit().is_some() {}
        while t.poll_event().is_some() {}
        let timers = timers(&t, &servers, &clients);
        assert_eq!(
            t.poll_timeout(),
            timers.iter().copied().min(),
            "step {step}"
        );
        assert_eq!(
            t.scheduled(),
            timers.len(),
            "one key per waiting transaction, step {step}"
        );
    }
    assert!(fired > 100, "the run exercised the timers ({fired})");
    assert!(
        t.len() > 100,
        "and kept many transactions alive ({})",
        t.len()
    );
}

#[test]
fn a_lingering_transaction_keeps_no_request() {
    let t0 = base();
    let mut t = table();
    let reg = request("REGISTER", "z9hG4bKkeep");
    let Incoming::New(id, _) = t.handle_request(reg.clone(), "phone", false, t0) else {
        panic!("new")
    };
    assert_eq!(
        t.server(&id).map(|s| s.request()),
        Some(None),
        "a non-INVITE transaction never copies its request (the TU has it)"
    );
    t.respond(&id, response(&reg, 200), t0).expect("open");
    assert_eq!(
        t.server(&id).map(|s| s.request()),
        Some(None),
        "Timer J holds bytes only"
    );
    // What it resends is still there.
    t.poll_transmit();
    t.handle_request(reg.clone(), "phone", false, t0 + ms(10));
    let again = t.poll_transmit().expect("the 200 again");
    assert!(again.bytes.starts_with(b"SIP/2.0 200"));

    // An INVITE keeps it through a provisional response (the TU may still answer).
    let invite = request("INVITE", "z9hG4bKkeepi");
    let Incoming::New(id, _) = t.handle_request(invite.clone(), "phone", false, t0) else {
        panic!("new")
    };
    t.respond(&id, response(&invite, 180), t0).expect("open");
    assert_eq!(t.server(&id).and_then(|s| s.request()), Some(&invite));
    t.respond(&id, response(&invite, 486), t0).expect("open");
    assert_eq!(t.server(&id).map(|s| s.request()), Some(None));
}
