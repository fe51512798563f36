use std::net::SocketAddr;

use md5::Digest as _;

use super::*;
use crate::endpoint::mwi::Mailbox;

const REALM: &str = "pbx.example.com";
const WALL: UnixTime = UnixTime::from_secs(1_800_000_000);

fn endpoint() -> Endpoint {
    crate::endpoint::test_endpoint(&[("dev7", 7, "secret7")])
}

fn peer() -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: "192.0.2.10:5062".parse::<SocketAddr>().expect("addr"),
        local: "192.0.2.1:5060".parse::<SocketAddr>().expect("addr"),
    }
}

/// A SUBSCRIBE to `target`; `to_tag` for a refresh, `auth` an Authorization line.
fn subscribe(target: &str, cseq: u32, to_tag: &str, extra: &str) -> Vec<u8> {
    format!(
        "SUBSCRIBE sip:{target}@{REALM} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-s{cseq};rport\r\n\
         From: <sip:dev7@{REALM}>;tag=ph1\r\n\
         To: <sip:{target}@{REALM}>{to_tag}\r\n\
         Call-ID: mwi-1\r\n\
         CSeq: {cseq} SUBSCRIBE\r\n\
         Contact: <sip:dev7@192.0.2.10:5062>\r\n\
         Event: message-summary\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// The Authorization answering `nonce` for a SUBSCRIBE to `target` (MD5, qop=auth).
fn authorization(nonce: &str, target: &str, nc: u32) -> String {
    let h = |t: String| crate::digest::hex(&md5::Md5::digest(t.as_bytes()));
    let uri = format!("sip:{target}@{REALM}");
    let ha1 = h(format!("dev7:{REALM}:secret7"));
    let ha2 = h(format!("SUBSCRIBE:{uri}"));
    let response = h(format!("{ha1}:{nonce}:{nc:08x}:c0:auth:{ha2}"));
    format!(
        "Authorization: Digest username=\"dev7\", realm=\"{REALM}\", nonce=\"{nonce}\", \
         uri=\"{uri}\", response=\"{response}\", algorithm=MD5, qop=auth, nc={nc:08x}, \
         cnonce=\"c0\"\r\n"
    )
}

/// Everything the endpoint sent, as text.
fn sent(e: &mut Endpoint) -> Vec<String> {
    std::iter::from_fn(|| e.poll_transmit())
        .map(|t| String::from_utf8_lossy(&t.bytes).into_owned())
        .collect()
}

fn nonce_of(challenge: &str) -> String {
    let after = challenge.split("nonce=\"").nth(1).expect("nonce");
    after.split('"').next().expect("quote").to_owned()
}

fn events(e: &mut Endpoint) -> Vec<EndpointEvent> {
    std::iter::from_fn(|| e.poll_event()).collect()
}

/// Sends a challenged, then authenticated SUBSCRIBE to `target`; returns the events.
fn authenticated(e: &mut Endpoint, target: &str, now: Instant) -> Vec<EndpointEvent> {
    e.handle_message(&subscribe(target, 1, "", ""), peer(), now, WALL);
    let challenge = sent(e).pop().expect("401");
    assert!(challenge.starts_with("SIP/2.0 401 "), "{challenge}");
    assert!(
        events(e).is_empty(),
        "a first SUBSCRIBE is no failed attempt"
    );
    let auth = authorization(&nonce_of(&challenge), target, 1);
    e.handle_message(&subscribe(target, 2, "", &auth), peer(), now, WALL);
    events(e)
}

fn granted(user: i64, new: u32, old: u32) -> Access {
    Access::Granted(Mailbox {
        user: Some(user),
        account: format!("sip:100@{REALM}"),
        summary: Summary { new, old },
        own: false,
    })
}

#[test]
fn a_subscriber_gets_the_counts_at_once_and_after_each_change() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let asked = authenticated(&mut e, "100", now);
    assert_eq!(
        asked,
        vec![EndpointEvent::Subscribe {
            key: 1,
            device: 7,
            user: "100".into()
        }]
    );
    assert!(sent(&mut e).is_empty(), "no answer before the store's");
    e.handle_mailbox_access(1, granted(3, 1, 4), now);
    let out = sent(&mut e);
    assert!(out[0].starts_with("SIP/2.0 200 OK\r\n"), "{}", out[0]);
    assert!(out[0].contains("\r\nExpires: 3600\r\n"), "{}", out[0]);
    let notify = &out[1];
    assert!(notify.starts_with("NOTIFY sip:dev7@192.0.2.10:5062 SIP/2.0\r\n"));
    for line in [
        "\r\nEvent: message-summary\r\n",
        "\r\nSubscription-State: active;expires=3600\r\n",
        "\r\nContent-Type: application/simple-message-summary\r\n",
        "\r\nCSeq: 1 NOTIFY\r\n",
        ";tag=ph1\r\n",
        "Messages-Waiting: yes\r\nMessage-Account: sip:100@pbx.example.com\r\nVoice-Message: 1/4 (0/0)\r\n",
    ] {
        assert!(notify.contains(line), "{line:?} in {notify}");
    }
    e.notify_mailbox(3, "100", Summary { new: 0, old: 5 }, &[7], now);
    let out = sent(&mut e);
    assert_eq!(out.len(), 1, "the subscriber only, no unsolicited copy");
    assert!(out[0].contains("\r\nCSeq: 2 NOTIFY\r\n"), "{}", out[0]);
    assert!(out[0].contains("Messages-Waiting: no\r\n"), "{}", out[0]);
    assert!(out[0].contains("Voice-Message: 0/5 (0/0)"), "{}", out[0]);
}

#[test]
fn unknown_mailboxes_are_named_only_after_authentication() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let names = |m: &str| -> Vec<String> {
        m.lines()
            .filter_map(|l| l.split(':').next())
            .map(str::to_owned)
            .collect()
    };
    e.handle_message(&subscribe("999", 1, "", ""), peer(), now, WALL);
    let unknown = sent(&mut e).pop().expect("answer");
    e.handle_message(&subscribe("100", 1, "", ""), peer(), now, WALL);
    let known = sent(&mut e).pop().expect("answer");
    assert!(unknown.starts_with("SIP/2.0 401 "), "{unknown}");
    assert_eq!(names(&unknown), names(&known), "no extension oracle");
    let mut e = endpoint();
    authenticated(&mut e, "999", now);
    e.handle_mailbox_access(1, Access::Unknown, now);
    let answer = sent(&mut e).pop().expect("answer");
    assert!(answer.starts_with("SIP/2.0 404 "), "{answer}");
}

#[test]
fn a_wrong_password_counts_as_a_failed_attempt() {
    let mut e = endpoint();
    let now = crate::clock::now();
    e.handle_message(&subscribe("100", 1, "", ""), peer(), now, WALL);
    let nonce = nonce_of(&sent(&mut e).pop().expect("401"));
    let wrong = authorization(&nonce, "100", 1).replace("response=\"", "response=\"0");
    e.handle_message(&subscribe("100", 2, "", &wrong), peer(), now, WALL);
    assert!(
        sent(&mut e)
            .pop()
            .expect("answer")
            .starts_with("SIP/2.0 401 ")
    );
    let ip = peer().addr.ip();
    assert_eq!(
        events(&mut e),
        vec![EndpointEvent::Denied {
            ip,
            reason: "bad-credentials"
        }]
    );
}

#[test]
fn other_event_packages_get_489() {
    let mut e = endpoint();
    let text = String::from_utf8(subscribe("100", 1, "", "")).expect("text");
    let presence = text.replace("Event: message-summary", "Event: presence");
    e.handle_message(presence.as_bytes(), peer(), crate::clock::now(), WALL);
    let answer = sent(&mut e).pop().expect("answer");
    assert!(answer.starts_with("SIP/2.0 489 Bad Event\r\n"), "{answer}");
    assert!(answer.contains("\r\nAllow-Events: message-summary, dialog\r\n"));
}

#[test]
fn a_subscription_ends_with_a_last_notify_when_its_time_is_up() {
    let mut e = endpoint();
    let now = crate::clock::now();
    authenticated(&mut e, "100", now);
    e.handle_mailbox_access(1, granted(3, 0, 0), now);
    sent(&mut e);
    e.handle_timeout(now + Duration::from_secs(3599), WALL);
    assert!(sent(&mut e).iter().all(|m| !m.starts_with("NOTIFY")));
    e.handle_timeout(now + Duration::from_secs(3600), WALL);
    let last = sent(&mut e).pop().expect("notify");
    assert!(
        last.contains("\r\nSubscription-State: terminated;reason=timeout\r\n"),
        "{last}"
    );
    e.notify_mailbox(3, "100", Summary { new: 1, old: 0 }, &[], now);
    assert!(sent(&mut e).is_empty(), "nobody subscribed any more");
}

#[test]
fn a_refresh_in_the_dialog_renews_and_expires_zero_ends_it() {
    let mut e = endpoint();
    let now = crate::clock::now();
    authenticated(&mut e, "100", now);
    e.handle_mailbox_access(1, granted(3, 0, 0), now);
    let ok = sent(&mut e).remove(0);
    let tag = ok
        .split("To: ")
        .nth(1)
        .and_then(|t| t.split(";tag=").nth(1));
    let tag = tag.and_then(|t| t.split("\r\n").next()).expect("to tag");
    let to_tag = format!(";tag={tag}");
    e.handle_message(&subscribe("100", 3, &to_tag, ""), peer(), now, WALL);
    let nonce = nonce_of(&sent(&mut e).pop().expect("401"));
    let auth = authorization(&nonce, "100", 1) + "Expires: 0\r\n";
    e.handle_message(&subscribe("100", 4, &to_tag, &auth), peer(), now, WALL);
    let out = sent(&mut e);
    assert!(out.iter().any(|m| m.starts_with("SIP/2.0 200 ")), "{out:?}");
    assert!(
        out.iter()
            .any(|m| m.contains("Subscription-State: terminated")),
        "{out:?}"
    );
    e.notify_mailbox(3, "100", Summary { new: 1, old: 0 }, &[], now);
    assert!(sent(&mut e).is_empty(), "ended");
}

#[test]
fn a_subscription_to_the_own_address_follows_a_workplace_login() {
    let mut e = endpoint();
    let now = crate::clock::now();
    authenticated(&mut e, "dev7", now);
    let nobody = Mailbox {
        user: None,
        account: format!("sip:dev7@{REALM}"),
        summary: Summary::default(),
        own: true,
    };
    e.handle_mailbox_access(1, Access::Granted(nobody), now);
    sent(&mut e);
    // Anna logs in at the phone's workplace; her box has 2 new messages.
    e.show_mailbox(7, Some(3), "100", Summary { new: 2, old: 0 }, now);
    let out = sent(&mut e);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].contains("Voice-Message: 2/0 (0/0)"), "{}", out[0]);
    // Her box changes: the phone, now hers, hears it in its dialog.
    e.notify_mailbox(3, "100", Summary { new: 3, old: 0 }, &[7], now);
    let out = sent(&mut e);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].contains("\r\nCSeq: 3 NOTIFY\r\n"), "{}", out[0]);
    assert!(out[0].contains("Voice-Message: 3/0 (0/0)"), "{}", out[0]);
}
