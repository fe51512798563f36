//! Calls the endpoint answers itself, with a stepped clock: the media request, the 2xx with the
//! media's SDP until the ACK, the caller's BYE, CANCEL and INFO digits, our own BYE.

use super::*;
use crate::dispatch::{DeviceView, Reach, Step, StepKind, UserView};
use crate::endpoint::EndpointEvent;
use crate::endpoint::invite::tests::{REALM, WALL, caller, endpoint, invited, line, sent};
use crate::sip::Timers;
use crate::store::{Scope, Timing};

pub(crate) const SDP: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\n";

pub(crate) fn events(e: &mut Endpoint) -> Vec<EndpointEvent> {
    std::iter::from_fn(|| e.poll_event()).collect()
}

/// Anna dials her mailbox: the driver is asked for media.
fn mailbox_call(e: &mut Endpoint, now: Instant) -> u64 {
    let app = App::Mailbox {
        user: "anna".into(),
        device: 1,
    };
    local_call(e, app, now)
}

/// Anna's call answered by `app`: the driver is asked for media.
pub(crate) fn local_call(e: &mut Endpoint, app: App, now: Instant) -> u64 {
    let key = invited(e, now);
    e.handle_route(key, super::super::calls::Route::Local(app.clone()), now);
    let asked = events(e).into_iter().find_map(|ev| match ev {
        EndpointEvent::Answer(r) => Some(*r),
        _ => None,
    });
    let asked = asked.expect("an Answer event");
    assert_eq!((asked.key, &asked.app), (key, &app));
    assert_eq!(&asked.offer[..], b"v=0\n", "the caller's offer");
    assert_eq!(asked.local_ip.to_string(), "192.0.2.1");
    key
}

/// Mailbox call `key` answered with [`SDP`]: our 200.
pub(crate) fn answered(e: &mut Endpoint, key: u64, now: Instant) -> String {
    sent(e);
    e.handle_local_answer(key, MediaAnswer::Sdp(SDP.into()), now);
    let out = sent(e);
    let ok = out.iter().find(|m| m.starts_with("SIP/2.0 200 OK"));
    ok.unwrap_or_else(|| panic!("no 200: {out:?}")).clone()
}

/// A request in the caller's dialog of our answer `ok`.
pub(crate) fn in_dialog(ok: &str, method: &str, cseq: u32, extra: &str, body: &str) -> Vec<u8> {
    let uri = match method {
        "ACK" => "sip:zentrale@192.0.2.1:5060".to_owned(),
        _ => format!("sip:zentrale@192.0.2.1:5060;x={cseq}"),
    };
    format!(
        "{method} {uri} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-{method}{cseq}\r\n\
         From: <sip:anna@{REALM}>;tag=a1\r\n{to}\r\nCall-ID: call-1\r\n\
         CSeq: {cseq} {method}\r\nContact: <sip:anna@192.0.2.10:5062>\r\n\
         {extra}Content-Length: {len}\r\n\r\n{body}",
        to = line(ok, "To:"),
        len = body.len(),
    )
    .into_bytes()
}

#[test]
fn the_answer_carries_the_media_sdp_and_is_resent_until_the_ack() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let key = mailbox_call(&mut e, now);
    let ok = answered(&mut e, key, now);
    assert!(ok.ends_with(SDP), "{ok}");
    assert!(ok.contains("Content-Type: application/sdp"), "{ok}");
    assert!(
        ok.contains("Contact: <sip:zentrale@192.0.2.1:5060>"),
        "{ok}"
    );
    let t1 = Timers::default().t1;
    e.handle_timeout(now + t1, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 200 OK")));
    e.handle_message(&in_dialog(&ok, "ACK", 2, "", ""), caller(), now + t1, WALL);
    e.handle_timeout(now + t1 * 64, WALL);
    let later = sent(&mut e);
    assert!(later.is_empty(), "nothing after the ACK: {later:?}");
    assert!(events(&mut e).is_empty());
}

#[test]
fn without_an_ack_the_call_ends_and_the_application_hears_it() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let key = mailbox_call(&mut e, now);
    answered(&mut e, key, now);
    e.handle_timeout(now + Timers::default().t1 * 64, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("BYE sip:anna@")));
    let ended = events(&mut e);
    assert!(
        ended
            .iter()
            .any(|ev| matches!(ev, EndpointEvent::LocalEnded { key: k } if *k == key)),
        "{ended:?}"
    );
    assert!(
        ended
            .iter()
            .any(|ev| matches!(ev, EndpointEvent::CallEnded(_))),
        "{ended:?}"
    );
}

#[test]
fn the_callers_bye_is_answered_and_ends_the_application() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let key = mailbox_call(&mut e, now);
    let ok = answered(&mut e, key, now);
    e.handle_message(&in_dialog(&ok, "ACK", 2, "", ""), caller(), now, WALL);
    e.handle_message(&in_dialog(&ok, "BYE", 3, "", ""), caller(), now, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 200 OK")));
    let ended = events(&mut e);
    assert!(
        ended
            .iter()
            .any(|ev| matches!(ev, EndpointEvent::LocalEnded { key: k } if *k == key)),
        "{ended:?}"
    );
    // The call is gone: another BYE is for no call.
    e.handle_message(&in_dialog(&ok, "BYE", 4, "", ""), caller(), now, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 481")));
}

#[test]
fn our_hang_up_is_a_bye_to_the_caller() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let key = mailbox_call(&mut e, now);
    let ok = answered(&mut e, key, now);
    e.handle_message(&in_dialog(&ok, "ACK", 2, "", ""), caller(), now, WALL);
    e.hang_up(key, now);
    let out = sent(&mut e);
    let bye = out
        .iter()
        .find(|m| m.starts_with("BYE sip:anna@192.0.2.10:5062"));
    let bye = bye.unwrap_or_else(|| panic!("no BYE: {out:?}"));
    assert!(bye.contains("Call-ID: call-1"), "{bye}");
    assert!(bye.contains(";tag=a1"), "{bye}");
    let ended = events(&mut e);
    assert!(
        !ended
            .iter()
            .any(|ev| matches!(ev, EndpointEvent::LocalEnded { .. })),
        "the application ended it itself: {ended:?}"
    );
}

#[test]
fn info_digits_reach_the_application_and_a_reinvite_gets_the_same_answer() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let key = mailbox_call(&mut e, now);
    let ok = answered(&mut e, key, now);
    e.handle_message(&in_dialog(&ok, "ACK", 2, "", ""), caller(), now, WALL);
    let relay = "Content-Type: application/dtmf-relay\r\n";
    let info = in_dialog(&ok, "INFO", 3, relay, "Signal=#\r\nDuration=160\r\n");
    e.handle_message(&info, caller(), now, WALL);
    let info = in_dialog(&ok, "INFO", 4, "Content-Type: application/dtmf\r\n", "7");
    e.handle_message(&info, caller(), now, WALL);
    let digits: Vec<char> = (events(&mut e).iter())
        .filter_map(|ev| match ev {
            EndpointEvent::LocalDtmf { key: k, digit } if *k == key => Some(*digit),
            _ => None,
        })
        .collect();
    assert_eq!(digits, ['#', '7']);
    sent(&mut e);
    let sdp = "Content-Type: application/sdp\r\n";
    let reinvite = in_dialog(&ok, "INVITE", 5, sdp, "v=0\n");
    e.handle_message(&reinvite, caller(), now, WALL);
    let out = sent(&mut e);
    let again = out.iter().find(|m| m.starts_with("SIP/2.0 200 OK"));
    let again = again.unwrap_or_else(|| panic!("no 200: {out:?}"));
    assert!(
        again.contains("CSeq: 5 INVITE") && again.ends_with(SDP),
        "{again}"
    );
}

#[test]
fn a_cancel_before_the_media_is_ready_ends_the_application() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let key = mailbox_call(&mut e, now);
    let invite = crate::endpoint::invite::tests::invite(2, "");
    let text = String::from_utf8(invite).expect("text");
    let cancel = format!(
        "CANCEL sip:101@{REALM} SIP/2.0\r\n{}\r\nFrom: <sip:anna@{REALM}>;tag=a1\r\n\
         To: <sip:101@{REALM}>\r\nCall-ID: call-1\r\nCSeq: 2 CANCEL\r\nContent-Length: 0\r\n\r\n",
        line(&text, "Via:"),
    );
    e.handle_message(cancel.as_bytes(), caller(), now, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 487")));
    let ended = events(&mut e);
    assert!(
        ended
            .iter()
            .any(|ev| matches!(ev, EndpointEvent::LocalEnded { key: k } if *k == key)),
        "{ended:?}"
    );
    // The media that comes late answers nothing.
    e.handle_local_answer(key, MediaAnswer::Sdp(SDP.into()), now);
    assert!(sent(&mut e).iter().all(|m| !m.starts_with("SIP/2.0 200")));
}

#[test]
fn media_refused_is_the_callers_final_answer() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let key = mailbox_call(&mut e, now);
    sent(&mut e);
    e.handle_local_answer(key, MediaAnswer::Refuse(488), now);
    let out = sent(&mut e);
    assert!(
        out.iter()
            .any(|m| m.starts_with("SIP/2.0 488 Not Acceptable Here")),
        "{out:?}"
    );
}

#[test]
fn dispatch_voicemail_answers_locally_with_the_reason() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let key = invited(&mut e, now);
    let mut route = crate::endpoint::test_route_anna_to_bert();
    if let super::super::calls::Route::Dispatch { view, .. } = &mut route {
        let voicemail = StepKind::Voicemail {
            mailbox: "bert".into(),
        };
        view.insert_user(UserView {
            username: "bert".into(),
            devices: vec![DeviceView {
                id: 2,
                followme: Default::default(),
                reach: Reach::Unregistered,
            }],
            actions: vec![Step {
                scope: Scope::Internal,
                timing: Timing::After,
                kind: voicemail,
            }],
            ..Default::default()
        });
    }
    e.handle_route(key, route, now);
    let asked = events(&mut e).into_iter().find_map(|ev| match ev {
        EndpointEvent::Answer(r) => Some(*r),
        _ => None,
    });
    let asked = asked.expect("an Answer event");
    let expected = App::Voicemail {
        mailbox: "bert".into(),
        reason: crate::dispatch::VoicemailReason::Unavailable,
    };
    assert_eq!(asked.app, expected);
    let ok = answered(&mut e, key, now);
    assert!(ok.ends_with(SDP), "{ok}");
}
