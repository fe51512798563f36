use super::*;
use crate::sip::{Contacts, HeaderName};

const REGISTER: &[u8] = b"REGISTER sip:pbx.example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.10:5060;rport;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: <sip:201@pbx.example.com>\r\n\
From: \"Empfang\" <sip:201@pbx.example.com>;tag=456248\r\n\
Call-ID: 843817637684230@998sdasdh09\r\n\
CSeq: 1826 REGISTER\r\n\
Contact: <sip:201@192.0.2.10:5060;transport=udp>;expires=3600;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n\
Supported: path, gruu\r\n\
Authorization: Digest username=\"201\", realm=\"zentrale\", nonce=\"n\", uri=\"sip:pbx.example.com\", response=\"r\"\r\n\
Content-Length: 0\r\n\r\n";

fn parse(b: &[u8]) -> Result<Message, SipError> {
    Message::parse(b, &SipLimits::default())
}

fn request(b: &[u8]) -> Request {
    match parse(b) {
        Ok(Message::Request(r)) => r,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_phone_register_parses_into_typed_fields() {
    let r = request(REGISTER);
    assert_eq!(r.method, Method::Register);
    assert_eq!(r.uri.to_string(), "sip:pbx.example.com");
    assert_eq!(r.head.via[0].rport(), Some(None));
    assert_eq!(r.head.from.display.as_deref(), Some("\"Empfang\""));
    assert_eq!(r.head.cseq.seq, 1826);
    assert_eq!(r.head.max_forwards, Some(70));
    let Contacts::List(contacts) = &r.head.contact else {
        panic!("star")
    };
    assert_eq!(contacts[0].expires(), Some(3600));
    let auth = r
        .head
        .headers
        .auths(&HeaderName::AUTHORIZATION)
        .expect("valid");
    assert_eq!(auth[0].get("username").as_deref(), Some("201"));
}

#[test]
fn print_then_parse_gives_the_same_message() {
    let m = parse(REGISTER).expect("valid");
    let printed = m.print();
    assert_eq!(parse(&printed).expect("valid"), m);
    assert_eq!(m.print(), printed);
}

#[test]
fn response_for_a_request_copies_the_dialog_fields() {
    let r = request(REGISTER);
    let mut resp = Response::for_request(&r, 200, "OK");
    resp.head.to.params.set("tag", Some("abc".into()));
    let text = String::from_utf8(resp.print()).expect("valid");
    assert!(text.starts_with("SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;rport;branch="));
    assert!(text.contains("To: <sip:201@pbx.example.com>;tag=abc\r\n"));
    assert!(!text.contains("Contact") && !text.contains("Authorization"));
    let Ok(Message::Response(back)) = parse(text.as_bytes()) else {
        panic!("{text}")
    };
    assert_eq!(back, resp);
}

#[test]
fn content_length_bounds_the_body() {
    let base = "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP h\r\nf: <sip:a@b>;tag=1\r\nt: sip:c@d\r\ni: x\r\nCSeq: 1 OPTIONS\r\n";
    let long = format!("{base}l: 3\r\n\r\nabcdef");
    assert_eq!(&request(long.as_bytes()).body[..], b"abc");
    let short = format!("{base}l: 9\r\n\r\nabc");
    assert_eq!(parse(short.as_bytes()), Err(SipError::BodyTooShort));
    let none = format!("{base}\r\nabc");
    assert_eq!(&request(none.as_bytes()).body[..], b"abc");
    let crlf_first = format!("\r\n\r\n{base}\r\n");
    assert!(parse(crlf_first.as_bytes()).is_ok());
}

#[test]
fn limits_are_enforced_before_work() {
    let limits = SipLimits {
        max_message: 200,
        max_headers: 3,
        max_line: 40,
    };
    assert_eq!(
        Message::parse(&[b'x'; 201], &limits),
        Err(SipError::TooLarge(200))
    );
    let many = b"OPTIONS sip:a@b SIP/2.0\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n";
    assert_eq!(
        Message::parse(many, &limits),
        Err(SipError::TooManyHeaders(3))
    );
    let long =
        b"OPTIONS sip:a@b SIP/2.0\r\na: 1\r\n  22222222222222222222222222222222222222\r\n\r\n";
    assert_eq!(
        Message::parse(long, &limits),
        Err(SipError::LineTooLong(40))
    );
}

#[test]
fn start_line_faults_are_named() {
    let cases: [(&[u8], SipError); 8] = [
        (b"OPTIONS sip:a@b SIP/2.1\r\n\r\n", SipError::BadVersion),
        (b"OPTIONS sip:a@b HTTP/1.1\r\n\r\n", SipError::BadStartLine),
        (b"OPTIONS  sip:a@b SIP/2.0\r\n\r\n", SipError::BadStartLine),
        (
            b"OPTIONS <sip:a@b> SIP/2.0\r\n\r\n",
            SipError::BadRequestUri("bad scheme"),
        ),
        (b"SIP/2.0 1000 x\r\n\r\n", SipError::BadStatus),
        (b"SIP/2.0 099 x\r\n\r\n", SipError::BadStatus),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\nVia: x",
            SipError::NoEndOfHeaders,
        ),
        (
            b"OPTIONS sip:a@b SIP/2.0\r\n\xff: x\r\n\r\n",
            SipError::NotUtf8,
        ),
    ];
    for (raw, want) in cases {
        assert_eq!(parse(raw), Err(want), "{}", String::from_utf8_lossy(raw));
    }
    let bare_cr = b"OPTIONS sip:a@b SIP/2.0\r\nX: a\rb\r\n\r\n";
    assert_eq!(parse(bare_cr), Err(SipError::BadHeaderLine));
    let continuation_first = b"OPTIONS sip:a@b SIP/2.0\r\n x\r\n\r\n";
    assert_eq!(parse(continuation_first), Err(SipError::BadHeaderLine));
}
