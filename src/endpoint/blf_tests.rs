//! BLF with a stepped clock: a watcher of bert's extension sees his phone ring, answer and hang
//! up, document by document; the API's per-device states follow; unknown extensions are named
//! only after authentication.

use std::net::SocketAddr;
use std::time::Duration;

use md5::Digest as _;

use super::*;
use crate::clock::UnixTime;
use crate::endpoint::mwi::Access;
use crate::endpoint::{Peer, Transport};

const REALM: &str = "pbx.example.com";
const WALL: UnixTime = UnixTime::from_secs(1_800_000_000);

/// Anna (device 1) calls bert (device 2, registered at 192.0.2.20); carl's phone (device 3)
/// watches.
fn endpoint() -> Endpoint {
    let accounts = [("anna", 1, "s1"), ("bert", 2, "s2"), ("carl", 3, "s3")];
    let mut e = crate::endpoint::test_endpoint(&accounts);
    let bert = crate::endpoint::test_binding(2, "bert", "192.0.2.20:5060", WALL);
    e.registrar_mut().load([bert]);
    e
}

fn peer(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse::<SocketAddr>().expect("addr"),
        local: "192.0.2.1:5060".parse::<SocketAddr>().expect("addr"),
    }
}

const ANNA: &str = "192.0.2.10:5062";
const BERT: &str = "192.0.2.20:5060";
const CARL: &str = "192.0.2.30:5064";

/// A request from `user`'s phone at `from` to extension `target`, with `headers` (ending in
/// CRLF) and an SDP body for an INVITE.
fn request(method: &str, user: &str, from: &str, target: &str, cseq: u32, headers: &str) -> String {
    let (body, kind) = match method {
        "INVITE" => ("v=0\n", "Content-Type: application/sdp\r\n"),
        _ => ("", ""),
    };
    format!(
        "{method} sip:{target}@{REALM} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {from};branch=z9hG4bK-{user}{cseq};rport\r\n\
         From: <sip:{user}@{REALM}>;tag={user}-tag\r\n\
         To: <sip:{target}@{REALM}>\r\n\
         Call-ID: {user}-{method}\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:{user}@{from}>\r\n\
         {headers}{kind}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Sends `method` from `user` (password `password`) challenged, then with Digest; the
/// endpoint's events after the second.
fn authenticated(
    e: &mut Endpoint,
    (user, password, from): (&str, &str, &str),
    (method, target, headers): (&str, &str, &str),
    now: Instant,
) -> Vec<EndpointEvent> {
    let first = request(method, user, from, target, 1, headers);
    e.handle_message(first.as_bytes(), peer(from), now, WALL);
    let auth = answer(e, (user, password), method, target) + headers;
    let second = request(method, user, from, target, 2, &auth);
    e.handle_message(second.as_bytes(), peer(from), now, WALL);
    std::iter::from_fn(|| e.poll_event()).collect()
}

/// The Authorization line answering the 401 the endpoint just sent (MD5, no qop).
fn answer(e: &mut Endpoint, (user, password): (&str, &str), method: &str, target: &str) -> String {
    let challenge = sent(e).pop().expect("401");
    assert!(challenge.starts_with("SIP/2.0 401 "), "{challenge}");
    let nonce = challenge.split("nonce=\"").nth(1).expect("nonce");
    let nonce = nonce.split('"').next().expect("quote");
    let h = |t: String| crate::digest::hex(&md5::Md5::digest(t.as_bytes()));
    let uri = format!("sip:{target}@{REALM}");
    let ha1 = h(format!("{user}:{REALM}:{password}"));
    let response = h(format!("{ha1}:{nonce}:{}", h(format!("{method}:{uri}"))));
    format!(
        "Authorization: Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", \
         uri=\"{uri}\", response=\"{response}\", algorithm=MD5\r\n"
    )
}

fn sent(e: &mut Endpoint) -> Vec<String> {
    std::iter::from_fn(|| e.poll_transmit())
        .map(|t| String::from_utf8_lossy(&t.bytes).into_owned())
        .collect()
}

/// The dialog-info bodies of the NOTIFYs in `out`.
fn documents(out: &[String]) -> Vec<String> {
    out.iter()
        .filter(|m| m.starts_with("NOTIFY ") && m.contains("\r\nEvent: dialog\r\n"))
        .map(|m| m.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned())
        .collect()
}

/// Carl's phone subscribes to extension `target`, and the driver finds `watch` there.
fn watch(e: &mut Endpoint, target: &str, watch: Access<Watch>, now: Instant) -> Vec<String> {
    let headers = "Event: dialog\r\nAccept: application/dialog-info+xml\r\nExpires: 600\r\n";
    let asked = authenticated(e, ("carl", "s3", CARL), ("SUBSCRIBE", target, headers), now);
    assert_eq!(
        asked,
        vec![EndpointEvent::WatchLine {
            key: 1,
            device: 3,
            user: target.into()
        }]
    );
    e.handle_line_access(1, watch, now);
    sent(e)
}

/// What the driver finds at `extension`: `username`'s line over `devices`.
fn line_of(extension: &str, username: &str, devices: Vec<i64>) -> Access<Watch> {
    let entity = format!("sip:{extension}@{REALM}");
    let mut name = username.to_owned();
    name[..1].make_ascii_uppercase();
    Access::Granted(Watch::new(username, &name, &entity, devices))
}

/// Anna calls 101, routed to bert's one phone; what was sent (bert's INVITE among it).
fn call(e: &mut Endpoint, now: Instant) -> Vec<String> {
    let events = authenticated(e, ("anna", "s1", ANNA), ("INVITE", "101", ""), now);
    let Some(EndpointEvent::Invite { key, device: 1, .. }) = events.last().cloned() else {
        panic!("no Invite event: {events:?}");
    };
    let route = crate::endpoint::test_route_anna_to_bert();
    e.handle_route(key, route, now);
    sent(e)
}

/// Bert's phone answers our `invite` with `status` (To tag b1).
fn bert_says(e: &mut Endpoint, invite: &str, status: &str, now: Instant) -> Vec<String> {
    let line = |name: &str| invite.lines().find(|l| l.starts_with(name)).expect(name);
    let response = format!(
        "SIP/2.0 {status}\r\n{}\r\n{}\r\n{};tag=b1\r\n{}\r\n{}\r\n\
         Contact: <sip:bert@{BERT}>\r\nContent-Length: 0\r\n\r\n",
        line("Via:"),
        line("From:"),
        line("To:"),
        line("Call-ID:"),
        line("CSeq:")
    );
    e.handle_message(response.as_bytes(), peer(BERT), now, WALL);
    sent(e)
}

fn lines_events(e: &mut Endpoint) -> Vec<(i64, LineState)> {
    std::iter::from_fn(|| e.poll_event())
        .filter_map(|ev| match ev {
            EndpointEvent::Lines(l) => Some(l),
            _ => None,
        })
        .flatten()
        .collect()
}

const RINGING: LineState = LineState {
    ringing: true,
    busy: false,
};
const BUSY: LineState = LineState {
    ringing: false,
    busy: true,
};

#[test]
fn a_watcher_sees_the_line_ring_then_talk_then_go_idle() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let out = watch(&mut e, "101", line_of("101", "bert", vec![2]), now);
    assert!(out[0].starts_with("SIP/2.0 200 OK\r\n"), "{}", out[0]);
    assert!(out[1].contains("\r\nContent-Type: application/dialog-info+xml\r\n"));
    let idle = documents(&out);
    assert_eq!(idle.len(), 1, "{out:?}");
    assert!(idle[0].contains("version=\"0\" state=\"full\" entity=\"sip:101@pbx.example.com\""));
    assert!(
        !idle[0].contains("<dialog "),
        "idle: no dialog\n{}",
        idle[0]
    );

    let out = call(&mut e, now);
    let invite = out
        .iter()
        .find(|m| m.starts_with("INVITE sip:bert@"))
        .expect("bert's INVITE")
        .clone();
    let early = documents(&out);
    assert_eq!(early.len(), 1, "{out:?}");
    for part in [
        "version=\"1\"",
        "direction=\"recipient\">\r\n<state>early</state>",
        "<local>\r\n<identity display=\"Bert\">sip:101@pbx.example.com</identity>",
        "<remote>\r\n<identity display=\"Anna\">sip:100@pbx.example.com</identity>\r\n\
         <target uri=\"sip:100@pbx.example.com\"/>",
    ] {
        assert!(early[0].contains(part), "{part} in\n{}", early[0]);
    }
    let mut states = lines_events(&mut e);
    states.sort_by_key(|(d, _)| *d);
    assert_eq!(states, [(1, BUSY), (2, RINGING)], "anna calls, bert rings");
    assert_eq!(e.line_states().get(&2), Some(&RINGING));

    // Ringing again changes nothing a watcher sees.
    assert!(documents(&bert_says(&mut e, &invite, "180 Ringing", now)).is_empty());

    let confirmed = documents(&bert_says(&mut e, &invite, "200 OK", now));
    assert_eq!(confirmed.len(), 1);
    assert!(confirmed[0].contains("version=\"2\""), "{}", confirmed[0]);
    assert!(
        confirmed[0].contains("local-tag=\"b1\""),
        "{}",
        confirmed[0]
    );
    assert!(confirmed[0].contains("<state>confirmed</state>"));
    assert!(!confirmed[0].contains("early"), "{}", confirmed[0]);
    assert_eq!(lines_events(&mut e), [(2, BUSY)]);

    // Anna hangs up.
    let tag = e.calls.values().next().expect("the call").tag.clone();
    let bye = request("BYE", "anna", ANNA, "101", 3, "")
        .replace(
            "To: <sip:101@pbx.example.com>",
            &format!("To: <sip:101@{REALM}>;tag={tag}"),
        )
        .replace("anna-BYE", "anna-INVITE");
    e.handle_message(bye.as_bytes(), peer(ANNA), now, WALL);
    let ended = documents(&sent(&mut e));
    assert_eq!(ended.len(), 1);
    assert!(ended[0].contains("version=\"3\""), "{}", ended[0]);
    assert!(
        ended[0].contains("<state>terminated</state>"),
        "{}",
        ended[0]
    );
    assert!(!ended[0].contains("confirmed"), "{}", ended[0]);
    let mut states = lines_events(&mut e);
    states.sort_by_key(|(d, _)| *d);
    assert_eq!(
        states,
        [(1, LineState::default()), (2, LineState::default())]
    );
    assert!(e.line_states().is_empty());

    // The next document (a refresh, much later) shows the idle line, nothing terminated.
    let later = now + Duration::from_secs(300);
    let refresh = request(
        "SUBSCRIBE",
        "carl",
        CARL,
        "101",
        9,
        "Event: dialog\r\nExpires: 600\r\n",
    );
    let out = refreshed(&mut e, &refresh, later);
    let idle = documents(&out);
    assert_eq!(idle.len(), 1, "{out:?}");
    assert!(idle[0].contains("version=\"4\""), "{}", idle[0]);
    assert!(!idle[0].contains("<dialog "), "{}", idle[0]);
}

/// `subscribe` within carl's subscription dialog (authenticated after its challenge).
fn refreshed(e: &mut Endpoint, subscribe: &str, now: Instant) -> Vec<String> {
    let to_tag = e
        .subscriptions
        .iter()
        .next()
        .expect("sub")
        .dialog
        .local_tag
        .clone();
    let subscribe = subscribe.replace(
        "To: <sip:101@pbx.example.com>",
        &format!("To: <sip:101@{REALM}>;tag={to_tag}"),
    );
    e.handle_message(subscribe.as_bytes(), peer(CARL), now, WALL);
    let auth = answer(e, ("carl", "s3"), "SUBSCRIBE", "101") + "Event: dialog";
    let again = subscribe
        .replace("CSeq: 9 ", "CSeq: 10 ")
        .replace("-carl9;", "-carl10;")
        .replace("Event: dialog", &auth);
    e.handle_message(again.as_bytes(), peer(CARL), now, WALL);
    sent(e)
}

#[test]
fn the_caller_s_line_is_in_use_from_the_start() {
    let mut e = endpoint();
    let now = crate::clock::now();
    watch(&mut e, "100", line_of("100", "anna", vec![1]), now);
    let doc = documents(&call(&mut e, now));
    assert_eq!(doc.len(), 1);
    assert!(
        doc[0].contains("direction=\"initiator\">\r\n<state>confirmed</state>"),
        "{}",
        doc[0]
    );
    assert!(doc[0].contains("local-tag=\"anna-tag\""), "{}", doc[0]);
    assert!(doc[0].contains("<identity>sip:101@pbx.example.com</identity>"));
}

#[test]
fn unknown_extensions_are_named_only_after_authentication() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let out = watch(&mut e, "999", Access::Unknown, now);
    assert_eq!(out.len(), 1, "{out:?}");
    assert!(out[0].starts_with("SIP/2.0 404 "), "{}", out[0]);
    assert!(e.subscriptions.is_empty());
}

#[test]
fn a_watcher_that_takes_no_dialog_info_is_refused() {
    let mut e = endpoint();
    let now = crate::clock::now();
    let subscribe = request(
        "SUBSCRIBE",
        "carl",
        CARL,
        "101",
        1,
        "Event: dialog\r\nAccept: application/pidf+xml\r\n",
    );
    e.handle_message(subscribe.as_bytes(), peer(CARL), now, WALL);
    let out = sent(&mut e);
    assert!(out[0].starts_with("SIP/2.0 406 "), "{}", out[0]);
    assert!(out[0].contains("\r\nAccept: application/dialog-info+xml\r\n"));
}

#[test]
fn a_login_elsewhere_moves_what_the_watcher_sees() {
    let mut e = endpoint();
    let now = crate::clock::now();
    // Carl watches someone without phones; then bert's phone becomes theirs while it rings.
    watch(&mut e, "102", line_of("102", "dora", vec![]), now);
    assert!(documents(&call(&mut e, now)).is_empty(), "not dora's call");
    e.set_line_devices("dora", &[2], now);
    let doc = documents(&sent(&mut e));
    assert_eq!(doc.len(), 1);
    assert!(doc[0].contains("<state>early</state>"), "{}", doc[0]);
    assert_eq!(e.watched_users(), ["dora"]);
}

#[test]
fn escaped_names_stay_well_formed() {
    let mut w = Watch::new("x", "A <b> & \"c\"", "sip:1@h", vec![5]);
    let line = Line {
        call: 1,
        direction: Direction::Recipient,
        confirmed: false,
        call_id: "a\"b<c>".into(),
        local_tag: String::new(),
        remote_tag: "t".into(),
        remote_name: "Evil\r\n</remote>".into(),
        remote_number: "100".into(),
    };
    let lines = HashMap::from([(5, vec![line])]);
    let body = w.next_body(&lines);
    assert!(
        body.contains("display=\"A &lt;b&gt; &amp; &quot;c&quot;\""),
        "{body}"
    );
    assert!(body.contains("call-id=\"a&quot;b&lt;c&gt;\""), "{body}");
    assert!(body.contains("display=\"Evil&lt;/remote&gt;\""), "{body}");
    assert!(
        !body.contains("local-tag"),
        "no tag before an answer: {body}"
    );
}
