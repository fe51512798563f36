//! Requests within an answered call, with a stepped clock: re-INVITEs for hold and resume from
//! either side, their ACKs and retransmitted 2xx, glare, a refused re-INVITE, UPDATE and INFO,
//! and PRACK for a callee's reliable provisional.

use super::*;
use crate::endpoint::invite::tests::{
    REALM, WALL, answer, callee, caller, connected, endpoint, line, rung, sent,
};
use crate::sip::Timers;

const HOLD: &str = "v=0\r\na=sendonly\r\n";
const HELD: &str = "v=0\r\na=recvonly\r\n";

/// A connected call whose first 2xx anna ACKed: our 200 to anna and our ACK to bert.
fn answered(e: &mut Endpoint, now: Instant) -> (String, String) {
    connected(e, now);
    let out = sent(e);
    let ok = out
        .iter()
        .find(|m| m.starts_with("SIP/2.0 200"))
        .expect("200");
    let ack = out
        .iter()
        .find(|m| m.starts_with("ACK sip:bert@"))
        .expect("ACK");
    let (ok, ack) = (ok.clone(), ack.clone());
    e.handle_message(&from_anna("ACK", 2, &ok, "", ""), caller(), now, WALL);
    (ok, ack)
}

/// A request from anna in her dialog (`ok` is our 200 to her: its To carries our tag).
fn from_anna(method: &str, cseq: u32, ok: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} sip:zentrale@192.0.2.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-{method}{cseq};rport\r\n\
         From: <sip:anna@{REALM}>;tag=a1\r\n{}\r\nCall-ID: call-1\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:anna@192.0.2.10:5062>\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        line(ok, "To:"),
        body.len()
    )
    .into_bytes()
}

/// A request from bert in his dialog (`ack` is our ACK to him: its tags, swapped).
fn from_bert(method: &str, cseq: u32, ack: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "{method} sip:zentrale@192.0.2.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.20:5060;branch=z9hG4bK-b{method}{cseq};rport\r\n\
         From:{}\r\nTo:{}\r\n{}\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:bert@192.0.2.20:5060>\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        &line(ack, "To:")[3..],
        &line(ack, "From:")[5..],
        line(ack, "Call-ID:"),
        body.len()
    )
    .into_bytes()
}

/// A response to `request` (one we sent) with `headers` and `body`.
fn response(request: &str, status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "SIP/2.0 {status}\r\n{}\r\n{}\r\n{}\r\n{}\r\n{}\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        line(request, "Via:"),
        line(request, "From:"),
        line(request, "To:"),
        line(request, "Call-ID:"),
        line(request, "CSeq:"),
        body.len()
    )
    .into_bytes()
}

fn starting<'a>(out: &'a [String], start: &str) -> &'a String {
    (out.iter().find(|m| m.starts_with(start))).unwrap_or_else(|| panic!("no {start}: {out:?}"))
}

const SDP: &str = "Content-Type: application/sdp\r\n";

#[test]
fn the_caller_holds_and_the_callee_hears_the_same_sdp_and_answers_back() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (ok, _) = answered(&mut e, now);
    e.handle_message(&from_anna("INVITE", 3, &ok, SDP, HOLD), caller(), now, WALL);
    let out = sent(&mut e);
    starting(&out, "SIP/2.0 100 Trying");
    assert!(!out.iter().any(|m| m.starts_with("SIP/2.0 200")), "{out:?}");
    let ours = starting(&out, "INVITE sip:bert@192.0.2.20:5060").clone();
    assert!(ours.ends_with(HOLD), "the SDP as anna sent it: {ours}");
    assert!(ours.contains("CSeq: 2 INVITE"), "our own CSeq: {ours}");
    assert!(ours.contains(";tag=b1"), "in bert's dialog: {ours}");
    assert!(ours.contains(SDP), "{ours}");

    let bert_ok = response(
        &ours,
        "200 OK",
        &format!("Contact: <sip:bert@192.0.2.20:5070>\r\n{SDP}"),
        HELD,
    );
    e.handle_message(&bert_ok, callee(), now, WALL);
    let out = sent(&mut e);
    let ack = starting(&out, "ACK sip:bert@192.0.2.20:5070");
    assert!(ack.contains("CSeq: 2 ACK"), "{ack}");
    let to_anna = starting(&out, "SIP/2.0 200 OK");
    assert!(
        to_anna.contains("CSeq: 3 INVITE") && to_anna.ends_with(HELD),
        "{to_anna}"
    );
    assert!(
        to_anna.contains("Contact: <sip:zentrale@192.0.2.1:5060>"),
        "{to_anna}"
    );
    // Bert's 200 again (our ACK was lost): the same ACK again.
    e.handle_message(&bert_ok, callee(), now, WALL);
    assert_eq!(sent(&mut e), vec![ack.clone()]);
    // No ACK from anna yet: our 200 again after T1; once she ACKs, never again.
    let t1 = Timers::default().t1;
    e.handle_timeout(now + t1, WALL);
    let again = sent(&mut e);
    assert!(
        again
            .iter()
            .any(|m| m.starts_with("SIP/2.0 200 OK") && m.ends_with(HELD)),
        "{again:?}"
    );
    e.handle_message(&from_anna("ACK", 3, &ok, "", ""), caller(), now + t1, WALL);
    assert!(
        sent(&mut e).is_empty(),
        "her ACK ends there: ours went already"
    );
    e.handle_timeout(now + t1 * 64, WALL);
    let later = sent(&mut e);
    assert!(
        later
            .iter()
            .all(|m| !m.starts_with("SIP/2.0 200") && !m.starts_with("BYE")),
        "{later:?}"
    );
    // Resume, and hang up: bert's dialog goes on with CSeq 3, then 4.
    e.handle_message(
        &from_anna("INVITE", 4, &ok, SDP, "v=0\r\na=sendrecv\r\n"),
        caller(),
        now,
        WALL,
    );
    let ours = starting(&sent(&mut e), "INVITE sip:bert@192.0.2.20:5070").clone();
    assert!(
        ours.contains("CSeq: 3 INVITE") && ours.ends_with("a=sendrecv\r\n"),
        "{ours}"
    );
    e.handle_message(&from_anna("BYE", 5, &ok, "", ""), caller(), now, WALL);
    let out = sent(&mut e);
    assert!(
        starting(&out, "BYE sip:bert@192.0.2.20:5070").contains("CSeq: 4 BYE"),
        "{out:?}"
    );
    // The re-INVITE still open when the call ended: 487.
    assert!(
        out.iter()
            .any(|m| m.starts_with("SIP/2.0 487") && m.contains("CSeq: 4 INVITE")),
        "{out:?}"
    );
}

#[test]
fn the_callee_holds_and_a_refusal_comes_back_as_it_is() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (_, ack) = answered(&mut e, now);
    e.handle_message(
        &from_bert("INVITE", 2, &ack, SDP, HOLD),
        callee(),
        now,
        WALL,
    );
    let out = sent(&mut e);
    let ours = starting(&out, "INVITE sip:anna@192.0.2.10:5062").clone();
    assert!(
        ours.ends_with(HOLD) && ours.contains("CSeq: 1 INVITE"),
        "{ours}"
    );
    assert!(
        ours.contains("From: <sip:101@pbx.example.com>;tag="),
        "we are 101 to anna: {ours}"
    );
    assert!(
        ours.contains("To: <sip:anna@pbx.example.com>;tag=a1"),
        "{ours}"
    );
    e.handle_message(
        &response(&ours, "488 Not Acceptable Here", "", ""),
        caller(),
        now,
        WALL,
    );
    let out = sent(&mut e);
    starting(&out, "ACK sip:anna@"); // the transaction's own ACK of a non-2xx (§17.1.1.3)
    let to_bert = starting(&out, "SIP/2.0 488 Not Acceptable Here");
    assert!(to_bert.contains("CSeq: 2 INVITE"), "{to_bert}");
}

#[test]
fn a_reinvite_while_one_is_open_gets_491_or_500_from_the_same_side() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (ok, ack) = answered(&mut e, now);
    e.handle_message(&from_anna("INVITE", 3, &ok, SDP, HOLD), caller(), now, WALL);
    sent(&mut e);
    e.handle_message(
        &from_bert("INVITE", 2, &ack, SDP, HOLD),
        callee(),
        now,
        WALL,
    );
    let out = sent(&mut e);
    assert!(
        starting(&out, "SIP/2.0 491 Request Pending").contains("CSeq: 2 INVITE"),
        "{out:?}"
    );
    assert!(!out.iter().any(|m| m.starts_with("INVITE ")), "{out:?}");
    e.handle_message(&from_anna("INVITE", 4, &ok, SDP, HOLD), caller(), now, WALL);
    let out = sent(&mut e);
    let refused = starting(&out, "SIP/2.0 500");
    assert!(
        refused.contains("Retry-After: ") && refused.contains("CSeq: 4 INVITE"),
        "{refused}"
    );
}

#[test]
fn a_reinvite_without_sdp_gets_its_answer_into_our_ack() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (ok, _) = answered(&mut e, now);
    e.handle_message(&from_anna("INVITE", 3, &ok, "", ""), caller(), now, WALL);
    let ours = starting(&sent(&mut e), "INVITE sip:bert@").clone();
    assert!(ours.contains("Content-Length: 0"), "{ours}");
    let offer = "v=0\r\no=bert offer\r\n";
    let bert_ok = response(&ours, "200 OK", SDP, offer);
    e.handle_message(&bert_ok, callee(), now, WALL);
    let out = sent(&mut e);
    assert!(
        !out.iter().any(|m| m.starts_with("ACK ")),
        "our ACK waits for the answer: {out:?}"
    );
    // Bert's 200 again meanwhile: still no ACK (not the one of the call's first INVITE either).
    e.handle_message(&bert_ok, callee(), now, WALL);
    let again = sent(&mut e);
    assert!(!again.iter().any(|m| m.starts_with("ACK ")), "{again:?}");
    assert!(starting(&out, "SIP/2.0 200 OK").ends_with(offer), "{out:?}");
    let answer = "v=0\r\no=anna answer\r\n";
    e.handle_message(&from_anna("ACK", 3, &ok, SDP, answer), caller(), now, WALL);
    let out = sent(&mut e);
    let ack = starting(&out, "ACK sip:bert@");
    assert!(
        ack.contains("CSeq: 2 ACK") && ack.ends_with(answer) && ack.contains(SDP),
        "{ack}"
    );
}

#[test]
fn update_and_info_pass_through_and_a_silent_side_makes_408() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (ok, ack) = answered(&mut e, now);
    e.handle_message(&from_anna("UPDATE", 3, &ok, SDP, HOLD), caller(), now, WALL);
    let ours = starting(&sent(&mut e), "UPDATE sip:bert@").clone();
    assert!(
        ours.ends_with(HOLD) && ours.contains("CSeq: 2 UPDATE"),
        "{ours}"
    );
    e.handle_message(&response(&ours, "200 OK", SDP, HELD), callee(), now, WALL);
    let out = sent(&mut e);
    let to_anna = starting(&out, "SIP/2.0 200 OK");
    assert!(
        to_anna.contains("CSeq: 3 UPDATE") && to_anna.ends_with(HELD),
        "{to_anna}"
    );

    let dtmf = "Signal=5\r\nDuration=160\r\n";
    let kind = "Content-Type: application/dtmf-relay\r\n";
    e.handle_message(&from_bert("INFO", 2, &ack, kind, dtmf), callee(), now, WALL);
    let ours = starting(&sent(&mut e), "INFO sip:anna@").clone();
    assert!(ours.contains(kind) && ours.ends_with(dtmf), "{ours}");
    // Anna never answers: after 64·T1 (Timer F) bert hears 408.
    e.handle_timeout(now + Timers::default().t1 * 64, WALL);
    let out = sent(&mut e);
    assert!(
        starting(&out, "SIP/2.0 408").contains("CSeq: 2 INFO"),
        "{out:?}"
    );
}

#[test]
fn a_request_in_no_call_gets_481_and_a_prack_to_us_too() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (ok, _) = answered(&mut e, now);
    let stranger = String::from_utf8(from_anna("UPDATE", 3, &ok, "", "")).expect("text");
    let stranger = stranger.replace("Call-ID: call-1", "Call-ID: other");
    e.handle_message(stranger.as_bytes(), caller(), now, WALL);
    starting(&sent(&mut e), "SIP/2.0 481");
    e.handle_message(
        &from_anna("PRACK", 3, &ok, "RAck: 1 2 INVITE\r\n", ""),
        caller(),
        now,
        WALL,
    );
    starting(&sent(&mut e), "SIP/2.0 481");
}

#[test]
fn a_caller_requiring_100rel_gets_420() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let invite = String::from_utf8(crate::endpoint::invite::tests::invite(1, "")).expect("text");
    let invite = invite.replace("Content-Type:", "Require: 100rel\r\nContent-Type:");
    e.handle_message(invite.as_bytes(), caller(), now, WALL);
    let out = sent(&mut e);
    assert!(
        starting(&out, "SIP/2.0 420").contains("Unsupported: 100rel"),
        "{out:?}"
    );
}

#[test]
fn a_reliable_183_gets_our_prack_and_its_sdp_answers_the_caller() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let ours = rung(&mut e, now);
    let early = "v=0\r\no=bert early\r\n";
    let progress = |rseq: u32| {
        format!(
            "SIP/2.0 183 Session Progress\r\n{}\r\n{}\r\n{};tag=b1\r\n{}\r\n{}\r\n\
             Contact: <sip:bert@192.0.2.20:5060>\r\nRequire: 100rel\r\nRSeq: {rseq}\r\n\
             {SDP}Content-Length: {}\r\n\r\n{early}",
            line(&ours, "Via:"),
            line(&ours, "From:"),
            line(&ours, "To:"),
            line(&ours, "Call-ID:"),
            line(&ours, "CSeq:"),
            early.len()
        )
    };
    e.handle_message(progress(7).as_bytes(), callee(), now, WALL);
    let out = sent(&mut e);
    let prack = starting(&out, "PRACK sip:bert@192.0.2.20:5060");
    assert!(
        prack.contains("RAck: 7 1 INVITE") && prack.contains("CSeq: 2 PRACK"),
        "{prack}"
    );
    assert!(prack.contains(";tag=b1"), "in the early dialog: {prack}");
    starting(&out, "SIP/2.0 180 Ringing");
    // The same 183 again is no new one: no second PRACK (ours retransmits by itself).
    e.handle_message(progress(7).as_bytes(), callee(), now, WALL);
    assert!(!sent(&mut e).iter().any(|m| m.starts_with("PRACK")));
    e.handle_message(&response(prack, "200 OK", "", ""), callee(), now, WALL);
    // The 2xx without SDP: the 183's is the answer.
    answer(
        &mut e,
        &ours,
        "Contact: <sip:bert@192.0.2.20:5060>\r\n",
        "",
        now,
    );
    let out = sent(&mut e);
    let ok = starting(&out, "SIP/2.0 200 OK");
    assert!(ok.ends_with(early), "{ok}");
    // A BYE from anna goes to bert after the PRACK's CSeq.
    e.handle_message(&from_anna("ACK", 2, ok, "", ""), caller(), now, WALL);
    e.handle_message(&from_anna("BYE", 3, ok, "", ""), caller(), now, WALL);
    let out = sent(&mut e);
    assert!(
        starting(&out, "BYE sip:bert@").contains("CSeq: 3 BYE"),
        "{out:?}"
    );
}

#[test]
fn a_request_with_an_old_cseq_gets_500_and_goes_nowhere() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (ok, _) = answered(&mut e, now);
    // Anna's INVITE had CSeq 2: a request in her dialog must come after it.
    e.handle_message(&from_anna("UPDATE", 2, &ok, SDP, HOLD), caller(), now, WALL);
    let out = sent(&mut e);
    assert!(
        starting(&out, "SIP/2.0 500").contains("CSeq: 2 UPDATE"),
        "{out:?}"
    );
    assert!(!out.iter().any(|m| m.starts_with("UPDATE ")), "{out:?}");
    e.handle_message(&from_anna("UPDATE", 3, &ok, SDP, HOLD), caller(), now, WALL);
    starting(&sent(&mut e), "UPDATE sip:bert@");
}

#[test]
fn a_cancelled_reinvite_is_cancelled_on_the_other_side_and_its_487_comes_back() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (ok, _) = answered(&mut e, now);
    let reinvite = from_anna("INVITE", 3, &ok, SDP, HOLD);
    e.handle_message(&reinvite, caller(), now, WALL);
    let ours = starting(&sent(&mut e), "INVITE sip:bert@").clone();
    // The CANCEL carries the re-INVITE's branch (§9.1).
    let cancel = String::from_utf8(from_anna("CANCEL", 3, &ok, "", "")).expect("text");
    let cancel = cancel.replace("z9hG4bK-CANCEL3", "z9hG4bK-INVITE3");
    e.handle_message(cancel.as_bytes(), caller(), now, WALL);
    let out = sent(&mut e);
    assert!(
        starting(&out, "SIP/2.0 200 OK").contains("CSeq: 3 CANCEL"),
        "{out:?}"
    );
    let theirs = starting(&out, "CANCEL sip:bert@");
    assert_eq!(
        line(theirs, "Via:"),
        line(&ours, "Via:"),
        "the branch of our re-INVITE"
    );
    assert!(theirs.contains("CSeq: 2 CANCEL"), "{theirs}");
    e.handle_message(
        &response(&ours, "487 Request Terminated", "", ""),
        callee(),
        now,
        WALL,
    );
    let out = sent(&mut e);
    assert!(
        starting(&out, "SIP/2.0 487").contains("CSeq: 3 INVITE"),
        "{out:?}"
    );
}

#[test]
fn a_reinvite_requiring_an_unknown_extension_gets_420_in_its_dialog() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let (ok, _) = answered(&mut e, now);
    let to = line(&ok, "To:");
    e.handle_message(
        &from_anna("INVITE", 3, &ok, "Require: foo\r\n", ""),
        caller(),
        now,
        WALL,
    );
    let out = sent(&mut e);
    let refused = starting(&out, "SIP/2.0 420");
    assert_eq!(line(refused, "To:"), to, "the dialog's To tag: {refused}");
    assert!(refused.contains("Unsupported: foo"), "{refused}");
}
