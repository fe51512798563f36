use super::*;
use crate::digest::{Algorithm, Nonces};
use crate::registrar::RegistrarLimits;
use crate::registrar::auth::Replays;
use crate::sip::{Message, SipLimits};
use crate::store::DeviceKind;

const REALM: &str = "pbx.example.com";
const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

fn accounts() -> Accounts {
    let account = |id, assigned| SipAccount {
        device_id: id,
        kind: DeviceKind::IpPhone,
        password: format!("secret{id}"),
        assigned,
    };
    Accounts::new([
        ("dev7".to_owned(), account(7, true)),
        ("dev8".to_owned(), account(8, false)),
    ])
}

fn origin() -> Origin {
    Origin {
        transport: "udp".into(),
        source: "192.0.2.10:5062".into(),
        local: "192.0.2.1".into(),
        user_agent: None,
        call_id: "reg-1".into(),
        cseq: 1,
    }
}

/// A REGISTER for `user`, with `extra` header lines (CRLF-terminated).
fn request(user: &str, extra: &str) -> Request {
    let text = format!(
        "REGISTER sip:{REALM} SIP/2.0\r\n\
         Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK-1;rport\r\n\
         From: <sip:{user}@{REALM}>;tag=a1\r\n\
         To: <sip:{user}@{REALM}>\r\n\
         Call-ID: reg-1\r\n\
         CSeq: 1 REGISTER\r\n\
         Contact: <sip:{user}@192.0.2.10:5062;transport=udp>;expires=600\r\n\
         {extra}Content-Length: 0\r\n\r\n"
    );
    match Message::parse(text.as_bytes(), &SipLimits::default()).expect("parses") {
        Message::Request(r) => r,
        Message::Response(_) => panic!("a request"),
    }
}

/// The client side: the Authorization line answering `challenge` with `password`.
fn authorization(challenge: &Response, user: &str, password: &str, sha: bool) -> String {
    authorization_nc(challenge, user, password, sha, 1)
}

/// Like [`authorization`], with nonce count `nc` (each use of a nonce counts up).
fn authorization_nc(
    challenge: &Response,
    user: &str,
    password: &str,
    sha: bool,
    nc: u32,
) -> String {
    let nonce = challenge
        .head
        .headers
        .get_all(&HeaderName::WWW_AUTHENTICATE)
        .next()
        .and_then(|c| c.split("nonce=\"").nth(1))
        .and_then(|r| r.split('"').next())
        .expect("nonce")
        .to_owned();
    let (algorithm, h): (&str, fn(&str) -> String) = if sha {
        ("SHA-256", |t| {
            crate::digest::hex(&Sha256::digest(t.as_bytes()))
        })
    } else {
        ("MD5", |t| {
            use md5::Digest as _;
            crate::digest::hex(&md5::Md5::digest(t.as_bytes()))
        })
    };
    let uri = format!("sip:{REALM}");
    let ha1 = h(&format!("{user}:{REALM}:{password}"));
    let ha2 = h(&format!("REGISTER:{uri}"));
    let response = h(&format!("{ha1}:{nonce}:{nc:08x}:c0ffee:auth:{ha2}"));
    format!(
        "Authorization: Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", \
         uri=\"{uri}\", response=\"{response}\", algorithm={algorithm}, qop=auth, \
         nc={nc:08x}, cnonce=\"c0ffee\"\r\n"
    )
}

struct Fixture {
    nonces: Nonces,
    replays: Replays,
    accounts: Accounts,
    registrar: Registrar,
}

impl Fixture {
    fn new() -> Fixture {
        Fixture {
            nonces: Nonces::new(300),
            replays: Replays::new(300, 100),
            accounts: accounts(),
            registrar: Registrar::new(RegistrarLimits::default()),
        }
    }

    fn send(&mut self, req: &Request, now: UnixTime) -> Answer {
        let mut ctx = Context {
            realm: REALM,
            nonces: &self.nonces,
            accounts: &self.accounts,
            algorithms: &[Algorithm::Sha256, Algorithm::Md5],
            replays: &mut self.replays,
        };
        let origin = Origin {
            cseq: req.head.cseq.seq,
            ..origin()
        };
        register(req, &origin, &mut self.registrar, &mut ctx, now)
    }
}

#[test]
fn a_phone_registers_with_either_algorithm_after_one_challenge() {
    for sha in [true, false] {
        let mut f = Fixture::new();
        let first = f.send(&request("dev7", ""), NOW);
        assert_eq!(first.response.status, 401);
        assert_eq!(first.denied, None, "a first REGISTER is no failed attempt");
        let offered: Vec<&str> = first
            .response
            .head
            .headers
            .get_all(&HeaderName::WWW_AUTHENTICATE)
            .collect();
        assert!(offered[0].contains("algorithm=SHA-256") && offered[1].contains("algorithm=MD5"));
        let auth = authorization(&first.response, "dev7", "secret7", sha);
        let ok = f.send(&request("dev7", &auth), NOW);
        assert_eq!(ok.response.status, 200, "sha={sha}");
        assert_eq!(ok.device, Some(7));
        let contact = ok
            .response
            .head
            .headers
            .get(&HeaderName::CONTACT)
            .expect("contact");
        assert!(contact.ends_with(";expires=600"), "{contact}");
        assert!(ok.response.head.to.tag().is_some());
        assert_eq!(f.registrar.bindings(7).len(), 1);
    }
}

#[test]
fn unknown_users_and_wrong_passwords_get_the_same_answer() {
    let mut f = Fixture::new();
    let challenge = f.send(&request("dev7", ""), NOW).response;
    let wrong = f.send(
        &request("dev7", &authorization(&challenge, "dev7", "guess", true)),
        NOW,
    );
    let unknown = f.send(
        &request(
            "nobody",
            &authorization(&challenge, "nobody", "guess", true),
        ),
        NOW,
    );
    assert_eq!((wrong.response.status, unknown.response.status), (401, 401));
    assert_eq!(wrong.denied, Some("bad-credentials"));
    assert_eq!(unknown.denied, Some("unknown-user"));
    let headers = |a: &Answer| {
        let mut names: Vec<String> = a
            .response
            .head
            .headers
            .iter()
            .map(|h| h.name.to_string())
            .collect();
        names.sort();
        names
    };
    assert_eq!(headers(&wrong), headers(&unknown));
    assert!(f.registrar.is_empty());
}

#[test]
fn a_stale_nonce_is_challenged_again_without_counting() {
    let mut f = Fixture::new();
    let challenge = f.send(&request("dev7", ""), NOW).response;
    let auth = authorization(&challenge, "dev7", "secret7", false);
    let late = f.send(
        &request("dev7", &auth),
        NOW.after(std::time::Duration::from_secs(301)),
    );
    assert_eq!(late.response.status, 401);
    assert_eq!(late.denied, None);
    let offered = late
        .response
        .head
        .headers
        .get(&HeaderName::WWW_AUTHENTICATE)
        .expect("challenge");
    assert!(offered.contains("stale=true"), "{offered}");
}

#[test]
fn an_unassigned_device_or_another_address_of_record_is_forbidden() {
    let mut f = Fixture::new();
    let challenge = f.send(&request("dev8", ""), NOW).response;
    let auth = authorization(&challenge, "dev8", "secret8", true);
    assert_eq!(f.send(&request("dev8", &auth), NOW).response.status, 403);
    // dev7's password does not register dev8's address of record... nor anyone else's.
    let auth = authorization_nc(&challenge, "dev7", "secret7", true, 2);
    let mut text = request("dev7", &auth);
    text.head.to = crate::sip::NameAddr::parse(&format!("<sip:boss@{REALM}>"), "To").expect("to");
    assert_eq!(f.send(&text, NOW).response.status, 403);
    assert!(f.registrar.is_empty());
}

#[test]
fn registrar_refusals_map_to_their_status() {
    let mut f = Fixture::new();
    let challenge = f.send(&request("dev7", ""), NOW).response;
    let auth = authorization(&challenge, "dev7", "secret7", true);
    let mut brief = request("dev7", &auth);
    brief.head.contact = Contacts::default();
    brief
        .head
        .contact
        .add_line("<sip:dev7@192.0.2.10>;expires=10")
        .expect("contact");
    let r = f.send(&brief, NOW).response;
    assert_eq!(r.status, 423);
    assert_eq!(r.head.headers.get(&HeaderName::MIN_EXPIRES), Some("60"));

    let mut star = request(
        "dev7",
        &authorization_nc(&challenge, "dev7", "secret7", true, 2),
    );
    star.head.contact = Contacts::Star;
    assert_eq!(
        f.send(&star, NOW).response.status,
        400,
        "* without Expires: 0"
    );
}

#[test]
fn contact_keys_ignore_case_of_host_but_not_transport() {
    let key = |s: &str| uri_key(&Uri::parse(s).expect("uri"));
    assert_eq!(
        key("sip:100@EXAMPLE.com:5060"),
        key("sip:100@example.com:5060")
    );
    assert_ne!(
        key("sip:100@example.com"),
        key("sip:100@example.com;transport=tcp")
    );
    assert_ne!(key("sip:100@example.com"), key("sip:101@example.com"));
}

#[test]
fn only_the_first_answer_for_our_realm_is_judged() {
    let mut f = Fixture::new();
    let challenge = f.send(&request("dev7", ""), NOW).response;
    let mut many = String::new();
    for i in 0..20 {
        many.push_str(&authorization(
            &challenge,
            "dev7",
            &format!("guess{i}"),
            true,
        ));
    }
    // The right password after twenty guesses does not get in: one request, one try.
    many.push_str(&authorization(&challenge, "dev7", "secret7", true));
    let a = f.send(&request("dev7", &many), NOW);
    assert_eq!(a.response.status, 401);
    assert_eq!(a.denied, Some("bad-credentials"));
    assert!(f.registrar.is_empty());
}

#[test]
fn an_answer_for_another_request_uri_is_void() {
    let mut f = Fixture::new();
    let challenge = f.send(&request("dev7", ""), NOW).response;
    let auth = authorization(&challenge, "dev7", "secret7", true);
    let mut other = request("dev7", &auth);
    other.uri = Uri::parse("sip:other.example.com").expect("uri");
    let a = f.send(&other, NOW);
    assert_eq!(a.response.status, 401);
    assert!(f.registrar.is_empty());
}

#[test]
fn the_ok_states_the_granted_expiry_once() {
    let mut f = Fixture::new();
    let challenge = f.send(&request("dev7", ""), NOW).response;
    let auth = authorization(&challenge, "dev7", "secret7", true);
    let mut long = request("dev7", &auth);
    long.head.contact = Contacts::default();
    long.head
        .contact
        .add_line("<sip:dev7@192.0.2.10:5062>;expires=7200")
        .expect("contact");
    let ok = f.send(&long, NOW).response;
    assert_eq!(ok.status, 200);
    let contact = ok.head.headers.get(&HeaderName::CONTACT).expect("contact");
    assert_eq!(contact, "<sip:dev7@192.0.2.10:5062>;expires=3600");
}

#[test]
fn a_captured_register_cannot_be_sent_again() {
    let mut f = Fixture::new();
    let challenge = f.send(&request("dev7", ""), NOW).response;
    let auth = authorization(&challenge, "dev7", "secret7", true);
    assert_eq!(f.send(&request("dev7", &auth), NOW).response.status, 200);
    let replay = f.send(&request("dev7", &auth), NOW);
    assert_eq!(replay.response.status, 401, "the same nonce count twice");
    assert_eq!(
        replay.denied, None,
        "a replay is answered like a stale nonce"
    );
    let offered = replay
        .response
        .head
        .headers
        .get(&HeaderName::WWW_AUTHENTICATE);
    assert!(offered.is_some_and(|c| c.contains("stale=true")));
    // The phone itself counts on: its next refresh with the same nonce is good.
    let mut next = request(
        "dev7",
        &authorization_nc(&challenge, "dev7", "secret7", true, 2),
    );
    next.head.cseq.seq = 2;
    assert_eq!(f.send(&next, NOW).response.status, 200);
}
