//! Re-INVITEs in a fax call, with a stepped clock: the caller's T.38 offer answered by the
//! application, ours answered by the caller, glare, and the ACKs around them.

use super::*;
use crate::endpoint::invite::tests::{WALL, caller, endpoint, sent};
use crate::endpoint::local::App;
use crate::endpoint::local::tests::{SDP, answered, events, in_dialog, local_call};
use crate::sip::Timers;

const T38: &str = "v=0\r\nc=IN IP4 192.0.2.10\r\nm=image 4000 udptl t38\r\n";
const OURS: &str = "v=0\r\nc=IN IP4 192.0.2.1\r\nm=image 30000 udptl t38\r\n";

fn fax_call(e: &mut Endpoint, now: Instant) -> (u64, String) {
    let key = local_call(
        e,
        App::Fax {
            user: "anna".into(),
        },
        now,
    );
    let ok = answered(e, key, now);
    e.handle_message(&in_dialog(&ok, "ACK", 2, "", ""), caller(), now, WALL);
    (key, ok)
}

fn sdp_header() -> &'static str {
    "Content-Type: application/sdp\r\n"
}

#[test]
fn the_callers_t38_offer_waits_for_the_application_and_its_answer_is_resent_until_the_ack() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (key, ok) = fax_call(&mut e, now);
    let reinvite = in_dialog(&ok, "INVITE", 3, sdp_header(), T38);
    e.handle_message(&reinvite, caller(), now, WALL);
    let out = sent(&mut e);
    assert!(out.iter().all(|m| !m.starts_with("SIP/2.0 200")), "{out:?}");
    let offered = events(&mut e).into_iter().find_map(|ev| match ev {
        EndpointEvent::LocalOffer { key: k, offer } if k == key => Some(offer),
        _ => None,
    });
    assert_eq!(offered.as_deref(), Some(T38.as_bytes()));
    e.handle_local_reanswer(key, MediaAnswer::Sdp(OURS.into()), now);
    let out = sent(&mut e);
    let answer = out.iter().find(|m| m.starts_with("SIP/2.0 200 OK"));
    let answer = answer.unwrap_or_else(|| panic!("no 200: {out:?}"));
    assert!(
        answer.contains("CSeq: 3 INVITE") && answer.ends_with(OURS),
        "{answer}"
    );
    let t1 = Timers::default().t1;
    e.handle_timeout(now + t1, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 200 OK")));
    // A late copy of the first ACK does not stop the new 2xx; its own ACK does.
    e.handle_message(&in_dialog(&ok, "ACK", 2, "", ""), caller(), now + t1, WALL);
    e.handle_timeout(now + t1 * 3, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 200 OK")));
    e.handle_message(
        &in_dialog(&ok, "ACK", 3, "", ""),
        caller(),
        now + t1 * 3,
        WALL,
    );
    e.handle_timeout(now + t1 * 64, WALL);
    assert_eq!(sent(&mut e), Vec::<String>::new());
}

#[test]
fn a_refused_reoffer_keeps_the_call_and_a_second_one_meanwhile_is_told_to_retry() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (key, ok) = fax_call(&mut e, now);
    e.handle_message(
        &in_dialog(&ok, "INVITE", 3, sdp_header(), T38),
        caller(),
        now,
        WALL,
    );
    e.handle_message(
        &in_dialog(&ok, "INVITE", 4, sdp_header(), T38),
        caller(),
        now,
        WALL,
    );
    let out = sent(&mut e);
    assert!(
        out.iter()
            .any(|m| m.starts_with("SIP/2.0 500") && m.contains("Retry-After: 1")),
        "{out:?}"
    );
    e.handle_local_reanswer(key, MediaAnswer::Refuse(488), now);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 488")));
    e.handle_message(&in_dialog(&ok, "BYE", 5, "", ""), caller(), now, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 200 OK")));
}

#[test]
fn our_reoffer_is_acked_and_its_answer_handed_on_and_a_repeated_2xx_gets_the_ack_again() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (key, ok) = fax_call(&mut e, now);
    e.reoffer_locally(key, OURS, now);
    let out = sent(&mut e);
    let invite = out
        .iter()
        .find(|m| m.starts_with("INVITE sip:anna@192.0.2.10:5062"));
    let invite = invite.unwrap_or_else(|| panic!("no re-INVITE: {out:?}"));
    assert!(invite.ends_with(OURS) && invite.contains("Content-Type: application/sdp"));
    let branch = invite_line(invite, "Via:");
    let cseq = invite_line(invite, "CSeq:");
    let answer = format!(
        "SIP/2.0 200 OK\r\n{branch}\r\n{from}\r\n{to}\r\nCall-ID: call-1\r\n{cseq}\r\n\
         Contact: <sip:anna@192.0.2.10:5064>\r\nContent-Type: application/sdp\r\n\
         Content-Length: {len}\r\n\r\n{T38}",
        from = invite_line(invite, "From:"),
        to = invite_line(invite, "To:"),
        len = T38.len(),
    );
    e.handle_message(answer.as_bytes(), caller(), now, WALL);
    let out = sent(&mut e);
    assert!(
        out.iter()
            .any(|m| m.starts_with("ACK sip:anna@192.0.2.10:5064")),
        "the ACK goes to the new target: {out:?}"
    );
    let got = events(&mut e).into_iter().find_map(|ev| match ev {
        EndpointEvent::LocalAnswered { key: k, answer } if k == key => Some(answer),
        _ => None,
    });
    assert_eq!(got, Some(Ok(bytes::Bytes::from(T38))));
    e.handle_message(answer.as_bytes(), caller(), now, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("ACK sip:anna@")));
    let _ = ok;
}

#[test]
fn glare_and_a_refusal_of_our_reoffer_come_back_as_statuses() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (key, ok) = fax_call(&mut e, now);
    e.reoffer_locally(key, OURS, now);
    let invite = sent(&mut e).into_iter().find(|m| m.starts_with("INVITE "));
    let invite = invite.expect("our re-INVITE");
    e.reoffer_locally(key, OURS, now);
    let second = events(&mut e);
    assert!(
        second.contains(&EndpointEvent::LocalAnswered {
            key,
            answer: Err(491)
        }),
        "{second:?}"
    );
    e.handle_message(
        &in_dialog(&ok, "INVITE", 3, sdp_header(), T38),
        caller(),
        now,
        WALL,
    );
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 491")));
    let refusal = format!(
        "SIP/2.0 488 Not Acceptable Here\r\n{}\r\n{}\r\n{};tag=x\r\nCall-ID: call-1\r\n{}\r\n\
         Content-Length: 0\r\n\r\n",
        invite_line(&invite, "Via:"),
        invite_line(&invite, "From:"),
        invite_line(&invite, "To:")
            .split(";tag=")
            .next()
            .unwrap_or_default(),
        invite_line(&invite, "CSeq:"),
    );
    e.handle_message(refusal.as_bytes(), caller(), now, WALL);
    let got = events(&mut e);
    assert!(
        got.contains(&EndpointEvent::LocalAnswered {
            key,
            answer: Err(488)
        }),
        "{got:?}"
    );
    // The session stays: the caller's next re-INVITE reaches the application.
    e.handle_message(
        &in_dialog(&ok, "INVITE", 4, sdp_header(), T38),
        caller(),
        now,
        WALL,
    );
    assert!(
        events(&mut e)
            .iter()
            .any(|ev| matches!(ev, EndpointEvent::LocalOffer { .. }))
    );
}

#[test]
fn a_mailbox_call_gets_its_first_answer_again_and_other_streams_get_488() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let app = App::Mailbox {
        user: "anna".into(),
        device: 1,
    };
    let key = local_call(&mut e, app, now);
    let ok = answered(&mut e, key, now);
    // The caller's first offer again (a session refresh): our first answer again.
    let refresh = in_dialog(&ok, "INVITE", 3, sdp_header(), "v=0\n");
    e.handle_message(&refresh, caller(), now, WALL);
    let out = sent(&mut e);
    let again = out.iter().find(|m| m.starts_with("SIP/2.0 200 OK"));
    assert!(again.is_some_and(|m| m.ends_with(SDP)), "{out:?}");
    // T.38 in place of audio: voicemail cannot, and says so (RFC 3264 §6).
    let t38 = in_dialog(&ok, "INVITE", 4, sdp_header(), T38);
    e.handle_message(&t38, caller(), now, WALL);
    assert!(sent(&mut e).iter().any(|m| m.starts_with("SIP/2.0 488")));
    assert!(
        !events(&mut e)
            .iter()
            .any(|ev| matches!(ev, EndpointEvent::LocalOffer { .. }))
    );
}

/// The line of `message` that starts with `name`.
fn invite_line(message: &str, name: &str) -> String {
    let found = message.lines().find(|l| l.starts_with(name));
    found
        .unwrap_or_else(|| panic!("{name} in {message}"))
        .to_owned()
}
