//! Call forwardings [Rufumleitungen] on the wire: Anna (100) calls Bert (101); Bert's `busy`,
//! `no-answer` and `unavailable` forwardings take the call to Carl (102), whose phone answers;
//! a loop Bert → Carl → Bert stops at the repeat and runs Carl's action Nachher, here a
//! forward to an outside number through a sipp provider trunk.

use serde_json::json;

use crate::calls::last_call;
use crate::harness::Daemon;
use crate::mwi::free_port;
use crate::sip::{dial, ended, phone_account, phone_on};

/// User `name` with extension `ext` and a softphone ringing 1 s for every class; its SIP
/// account and device id.
fn user_with_softphone(d: &Daemon, name: &str, ext: &str) -> ((String, String), i64) {
    let ring = json!({"enabled": true, "wait": 0, "timeout": 1});
    let followme = json!({"internal": ring, "external": ring, "team": ring});
    crate::sip::user_with_softphone(d, (name, ext), followme)
}

fn forward(d: &Daemon, from: &str, condition: &str, to: &str) {
    let body = json!({"condition": condition, "target": to, "active": true});
    let (s, fwd) = d.call(
        "POST",
        &format!("/api/v1/users/{from}/forwardings"),
        Some(body),
    );
    assert_eq!(s, 201, "{fwd}");
}

/// Anna calls 101 and is connected (to whoever answers); true when she was.
fn anna_calls_bert(d: &Daemon) -> bool {
    dial(d, "call_uac.xml", &phone_account(d), "101")
}

/// Bert's phone runs `bert_scenario` (None: not registered), his forwarding with `condition`
/// goes to Carl, whose phone answers: Carl's device took the call.
fn forwarded_to_carl(condition: &str, bert_scenario: Option<&str>) {
    let d = Daemon::start();
    let (bert, _) = user_with_softphone(&d, "bert", "101");
    let (carl, carl_id) = user_with_softphone(&d, "carl", "102");
    forward(&d, "bert", condition, "carl");
    let bert_phone = bert_scenario.map(|s| phone_on(&d, &bert, &free_port(), s));
    let carl_phone = phone_on(&d, &carl, &free_port(), "answer_uas.xml");
    assert!(anna_calls_bert(&d), "{condition}: Anna was not connected");
    assert!(
        ended(carl_phone),
        "{condition}: Carl's phone did not answer Anna's call"
    );
    if let Some(phone) = bert_phone {
        assert!(
            ended(phone),
            "{condition}: Bert's phone did not see its part"
        );
    }
    let record = last_call(&d);
    assert_eq!(
        (&record["outcome"], &record["answered_by"]),
        (&json!("answered"), &json!(carl_id)),
        "{record}"
    );
}

#[test]
fn a_busy_forwarding_takes_the_call_from_a_busy_phone() {
    forwarded_to_carl("busy", Some("busy_uas.xml"));
}

#[test]
fn a_no_answer_forwarding_takes_the_call_after_the_ring_time() {
    forwarded_to_carl("no-answer", Some("ring_uas.xml"));
}

#[test]
fn an_unavailable_forwarding_takes_the_call_when_nothing_is_registered() {
    forwarded_to_carl("unavailable", None);
}

#[test]
fn a_forwarding_loop_stops_at_the_repeat_and_runs_the_last_users_action() {
    let port = std::net::UdpSocket::bind(("127.0.0.2", 0))
        .and_then(|s| s.local_addr())
        .expect("a port on 127.0.0.2")
        .port()
        .to_string();
    let far_end = crate::trunk_calls::provider("provider_call_uas.xml", &port, &[], None);
    let d = crate::trunk_calls::daemon(&port, "register = false");
    user_with_softphone(&d, "bert", "101");
    user_with_softphone(&d, "carl", "102");
    forward(&d, "bert", "always", "carl");
    forward(&d, "carl", "always", "bert");
    let action = json!({"scope": "internal", "timing": "after", "kind": "forward-number", "target": "0301234"});
    let (s, body) = d.call("POST", "/api/v1/users/carl/actions", Some(action));
    assert_eq!(s, 201, "{body}");
    assert!(
        anna_calls_bert(&d),
        "Anna was not connected to Carl's forward-number"
    );
    assert!(
        ended(far_end),
        "the provider did not get the forwarded call with Anna's number"
    );
    let record = last_call(&d);
    assert_eq!(
        (&record["after_action"], &record["outcome"]),
        (&json!("forward-number"), &json!("answered")),
        "{record}"
    );
}
