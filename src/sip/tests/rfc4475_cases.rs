//! What RFC 4475's README (tests/fixtures/rfc4475/README.md) asks of each message, with the
//! fields the RFC describes for the valid ones.

use super::rfc4475::Expect::{self, *};
use crate::sip::{
    Capabilities, HeaderName, Message, Method, Refusal, Request, Response, Uri, screen,
};

fn req(m: &Message) -> &Request {
    match m {
        Message::Request(r) => r,
        Message::Response(_) => panic!("not a request"),
    }
}

fn resp(m: &Message) -> &Response {
    match m {
        Message::Response(r) => r,
        Message::Request(_) => panic!("not a response"),
    }
}

fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    let name = HeaderName::parse(name).expect("a token");
    m.head().headers.get(&name)
}

pub(super) const CASES: [(&str, Expect); 49] = [
    // 3.1.1 valid
    (
        "wsinv",
        Valid(|m| {
            let r = req(m);
            assert_eq!(r.head.to.tag().as_deref(), Some("1918181833n"));
            assert_eq!(
                r.head.from.display.as_deref(),
                Some(r#""J Rosenberg \\\"""#)
            );
            assert_eq!(r.head.from.tag().as_deref(), Some("98asjd8"));
            assert_eq!((r.head.max_forwards, r.head.cseq.seq), (Some(68), 9));
            let branches: Vec<_> = r.head.via.iter().filter_map(|v| v.branch()).collect();
            assert_eq!(branches, ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"]);
            let contact = &r.head.contact.addresses()[0];
            assert_eq!(contact.display.as_deref(), Some(r#""Quoted string \"\"""#));
            assert_eq!(contact.q().as_deref(), Some("0.33"));
            assert_eq!(contact.params.get("newparam"), Some(Some("newvalue")));
            assert_eq!(header(m, "Subject"), Some(""));
            assert_eq!(
                header(m, "NewFangledHeader"),
                Some("newfangled value continued newfangled value")
            );
            assert_eq!(r.body.len(), 150);
        }),
    ),
    (
        "intmeth",
        Valid(|m| {
            let r = req(m);
            assert_eq!(
                r.method,
                Method::Other("!interesting-Method0123456789_*+`.%indeed'~".into())
            );
            let uri = r.uri.as_sip().expect("sip");
            assert_eq!(
                uri.user.as_deref(),
                Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
            );
            assert_eq!(
                uri.password.as_deref(),
                Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
            );
            assert!(
                r.head
                    .to
                    .display
                    .as_deref()
                    .is_some_and(|d| d.contains('\0'))
            );
            assert_eq!(
                r.head.call_id,
                "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{"
            );
            assert!(header(m, "extensionHeader-!.%*+_`'~").is_some());
        }),
    ),
    (
        "esc01",
        Valid(|m| {
            let r = req(m);
            let user = r.uri.as_sip().and_then(|u| u.user_octets());
            assert_eq!(user.as_deref(), Some(&b"sips:user@example.com"[..]));
            let to = r.head.to.uri.as_sip().and_then(|u| u.user_octets());
            assert_eq!(to.as_deref(), Some(&b"user"[..]));
            let contact = r.head.contact.addresses()[0].uri.as_sip().expect("sip");
            assert_eq!(contact.param("lr"), Some(None));
            assert_eq!(contact.param("name"), Some(Some("v%61lue%25%34%31")));
        }),
    ),
    (
        "escnull",
        Valid(|m| {
            let r = req(m);
            let to = r.head.to.uri.as_sip().and_then(|u| u.user_octets());
            assert_eq!(to.as_deref(), Some(&b"null-\0-null"[..]));
            assert_eq!(r.head.contact.addresses().len(), 2);
        }),
    ),
    (
        "esc02",
        Valid(|m| {
            let r = req(m);
            assert_eq!(r.method, Method::Other("RE%47IST%45R".into()));
            assert_eq!(
                r.head.contact.addresses().len(),
                2,
                "C%6Fntact is not Contact"
            );
            assert_eq!(
                header(m, "C%6Fntact"),
                Some("<sip:alias2@host2.example.com>")
            );
        }),
    ),
    (
        "lwsdisp",
        Valid(|m| assert_eq!(req(m).head.from.display.as_deref(), Some("caller"))),
    ),
    (
        "longreq",
        Valid(|m| {
            let r = req(m);
            assert_eq!(r.head.via.len(), 34);
            assert!(r.head.to.uri.as_sip().is_some_and(|u| u.params.len() == 3));
        }),
    ),
    (
        "dblreq",
        Valid(|m| {
            let r = req(m);
            assert_eq!((r.method.clone(), r.body.len()), (Method::Register, 0));
        }),
    ),
    (
        "semiuri",
        Valid(|m| {
            let uri = req(m).uri.as_sip().expect("sip").clone();
            assert_eq!(
                (uri.user.as_deref(), uri.host.as_str()),
                (Some("user;par=u%40example.net"), "example.com")
            );
            assert!(uri.params.is_empty());
        }),
    ),
    (
        "transports",
        Valid(|m| {
            let t: Vec<_> = req(m)
                .head
                .via
                .iter()
                .map(|v| v.transport.as_str())
                .collect();
            assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
        }),
    ),
    (
        "mpart01",
        Valid(|m| {
            let r = req(m);
            let ct = r.head.headers.content_type().expect("valid");
            assert_eq!(ct.as_deref(), Some("multipart/mixed"));
            assert_eq!(r.body.len(), 553);
            assert_eq!(screen(r, &Capabilities::default()), Ok(()));
        }),
    ),
    (
        "unreason",
        Valid(|m| {
            let r = resp(m);
            assert_eq!(r.status, 200);
            assert!(r.reason.starts_with("= 2**3 * 5**2 но сто девяносто"));
        }),
    ),
    (
        "noreason",
        Valid(|m| assert_eq!((resp(m).status, resp(m).reason.as_str()), (100, ""))),
    ),
    // 3.1.2 invalid
    ("badinv01", Reject(400, "malformed Via header")),
    (
        "clerr",
        Reject(400, "Content-Length is larger than the body"),
    ),
    ("ncl", Reject(400, "malformed Content-Length header")),
    (
        "scalar02",
        Reject(400, "malformed CSeq header: sequence number out of range"),
    ),
    ("scalarlg", Drop),
    (
        "quotbal",
        Reject(400, "malformed To header: unterminated quoted string"),
    ),
    ("ltgtruri", Reject(400, "malformed Request-URI")),
    ("lwsruri", Reject(400, "malformed start line")),
    ("lwsstart", Reject(400, "malformed start line")),
    ("trws", Reject(400, "malformed start line")),
    (
        "escruri",
        Reject(400, "malformed Request-URI: headers part"),
    ),
    ("baddate", Reject(400, "malformed Date header")),
    (
        "regbadct",
        Reject(
            400,
            "malformed Contact header: a URI with '?' or ',' must be in <>",
        ),
    ),
    ("badaspec", Reject(400, "malformed To header")),
    ("baddn", Reject(400, "malformed From header: display name")),
    ("badvers", Reject(505, "unsupported SIP version")),
    ("mismatch01", Reject(400, "CSeq method does not match")),
    ("mismatch02", Reject(400, "CSeq method does not match")),
    ("bigcode", Drop),
    // 3.2 transaction layer: parses; the transaction table falls back to RFC 2543 matching.
    (
        "badbranch",
        Valid(|m| assert!(!req(m).head.via[0].has_rfc3261_branch())),
    ),
    // 3.3 application layer
    ("insuf", Reject(400, "missing")),
    ("unkscm", Refused(|| Refusal::UnsupportedScheme)),
    ("novelsc", Refused(|| Refusal::UnsupportedScheme)),
    (
        "unksm2",
        Valid(|m| {
            // The registrar answers 400: To is not a SIP URI.
            assert!(matches!(req(m).head.to.uri, Uri::Other { .. }));
        }),
    ),
    (
        "bext01",
        Refused(|| {
            Refusal::BadExtension(vec![
                "nothingSupportsThis".into(),
                "nothingSupportsThisEither".into(),
            ])
        }),
    ),
    ("invut", Refused(|| Refusal::UnsupportedMediaType)),
    (
        "regaut01",
        Valid(|m| {
            let auth = req(m)
                .head
                .headers
                .auths(&HeaderName::AUTHORIZATION)
                .expect("parses");
            assert!(!auth[0].is_digest(), "the registrar challenges with Digest");
        }),
    ),
    ("multi01", Reject(400, "more than one")),
    ("mcl01", Reject(400, "more than one Content-Length header")),
    (
        "bcast",
        Valid(|m| assert_eq!(resp(m).head.via.len(), 2, "a client drops it (§18.1.2)")),
    ),
    (
        "zeromf",
        Valid(|m| assert_eq!(req(m).head.max_forwards, Some(0))),
    ),
    (
        "cparam01",
        Valid(|m| {
            let c = &req(m).head.contact.addresses()[0];
            assert!(
                c.params.contains("unknownparam"),
                "a contact-param, not a uri-param"
            );
            assert_eq!(
                c.to_string(),
                "sip:+19725552222@gw1.example.net;unknownparam"
            );
        }),
    ),
    (
        "cparam02",
        Valid(|m| {
            let c = &req(m).head.contact.addresses()[0];
            assert!(c.params.is_empty());
            assert_eq!(
                c.to_string(),
                "<sip:+19725552222@gw1.example.net;unknownparam>"
            );
        }),
    ),
    (
        "regescrt",
        Valid(|m| {
            let c = &req(m).head.contact.addresses()[0];
            assert_eq!(
                c.to_string(),
                "<sip:user@example.com?Route=%3Csip:sip.example.com%3E>"
            );
        }),
    ),
    (
        "sdp01",
        Valid(|m| {
            // The INVITE's answer would be SDP, which Accept excludes: the TU answers 406.
            assert_eq!(header(m, "Accept"), Some("text/nobodyKnowsThis"));
        }),
    ),
    // 3.4
    (
        "inv2543",
        Valid(|m| {
            let r = req(m);
            assert_eq!((r.head.max_forwards, r.head.via[0].branch()), (None, None));
            assert!(r.body.starts_with(b"v=0"));
        }),
    ),
];
