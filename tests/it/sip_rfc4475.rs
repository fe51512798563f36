//! The RFC 4475 torture messages against the running daemon over UDP, each as one datagram
//! from a socket of its own, handled as tests/fixtures/rfc4475/README.md says: valid requests
//! are processed (answered, never 400), invalid ones get their status with a Warning naming the
//! fault, broken responses and datagrams with no Via to answer along get nothing; and the
//! daemon still answers a plain OPTIONS after them. The parser-level checks of every field are
//! in src/sip/tests/rfc4475.rs.

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::time::Duration;

use crate::harness::Daemon;

/// What the daemon must send back for one message.
#[derive(Debug, Clone, Copy)]
enum Wire {
    /// A valid request: processed as our endpoint processes its method (200, 401, 405, 501,
    /// …), which is any final answer but 400.
    Processed,
    /// Refused with this status.
    Status(u16),
    /// Refused with this status and a `Warning: 399` naming the fault (a parse failure).
    Rejected(u16),
    /// Nothing: a response nobody asked for, or one that cannot be read.
    Silent,
}

use Wire::*;

/// Each message's expected answer (README of the fixtures; RFC 4475 section in brackets).
const CASES: [(&str, Wire); 49] = [
    // 3.1.1 valid: normal processing. unreason and noreason are responses to nothing.
    ("wsinv", Processed),
    ("intmeth", Processed),
    ("esc01", Processed),
    ("escnull", Processed),
    ("esc02", Processed),
    ("lwsdisp", Processed),
    ("longreq", Processed),
    ("dblreq", Processed),
    ("semiuri", Processed),
    ("transports", Processed),
    ("mpart01", Processed),
    ("unreason", Silent),
    ("noreason", Silent),
    // 3.1.2 invalid: 400 (505 for the version), broken responses dropped.
    ("badinv01", Rejected(400)),
    ("clerr", Rejected(400)),
    ("ncl", Rejected(400)),
    ("scalar02", Rejected(400)),
    ("scalarlg", Silent),
    ("quotbal", Rejected(400)),
    ("ltgtruri", Rejected(400)),
    ("lwsruri", Rejected(400)),
    ("lwsstart", Rejected(400)),
    ("trws", Rejected(400)),
    ("escruri", Rejected(400)),
    ("baddate", Rejected(400)),
    ("regbadct", Rejected(400)),
    ("badaspec", Rejected(400)),
    ("baddn", Rejected(400)),
    ("badvers", Rejected(505)),
    ("mismatch01", Rejected(400)),
    ("mismatch02", Rejected(400)),
    ("bigcode", Silent),
    // 3.2: parsed, matched the RFC 2543 way.
    ("badbranch", Processed),
    // 3.3 application layer.
    ("insuf", Rejected(400)),
    ("unkscm", Status(416)),
    ("novelsc", Status(416)),
    ("unksm2", Status(400)),
    ("bext01", Status(420)),
    ("invut", Status(415)),
    ("regaut01", Status(401)),
    ("multi01", Rejected(400)),
    ("mcl01", Rejected(400)),
    ("bcast", Silent),
    ("zeromf", Processed),
    ("cparam01", Status(401)),
    ("cparam02", Status(401)),
    ("regescrt", Status(401)),
    ("sdp01", Processed),
    // 3.4 RFC 2543 syntax: accepted.
    ("inv2543", Processed),
];

/// Beyond the RFC: what has no Via to answer along (RFC 3261 §18.2.2) gets nothing.
const NO_WAY_BACK: [(&str, &[u8]); 3] = [
    (
        "no Via",
        b"OPTIONS sip:user@example.com SIP/2.0\r\nCall-ID: no-via\r\nCSeq: 1 OPTIONS\r\n\r\n",
    ),
    (
        "binary noise",
        b"\x00\xff\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ),
    ("a bare line", b"hello\r\n\r\n"),
];

/// Bounds the wait for the answer to the closing OPTIONS (an answer that is due, not a wait
/// for absence: absence is read after it, see below).
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rfc4475")
        .join(format!("{name}.dat"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").expect("bind")
}

/// Every datagram waiting on `s`, without waiting for more.
fn drain(s: &UdpSocket) -> Vec<String> {
    s.set_nonblocking(true).expect("nonblocking");
    let mut buf = vec![0u8; 65_535];
    let mut got = Vec::new();
    while let Ok(n) = s.recv(&mut buf) {
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    got
}

/// The status code of a response's start line.
fn status(response: &str) -> u16 {
    response
        .strip_prefix("SIP/2.0 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not a response: {response}"))
}

/// A plain OPTIONS from `s`; the answer's status.
fn options(s: &UdpSocket, to: SocketAddr) -> u16 {
    let local = s.local_addr().expect("local");
    let ping = format!(
        "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-after-4475;rport\r\n\
         From: <sip:ping@{local}>;tag=1\r\nTo: <sip:{to}>\r\nCall-ID: after-4475\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    s.send_to(ping.as_bytes(), to).expect("send");
    s.set_read_timeout(Some(ANSWER_WITHIN)).expect("timeout");
    let mut buf = vec![0u8; 65_535];
    let n = s
        .recv(&mut buf)
        .expect("the daemon answers OPTIONS after the torture messages");
    status(&String::from_utf8_lossy(&buf[..n]))
}

fn check(name: &str, expect: Wire, answers: &[String]) {
    let finals: Vec<&String> = answers.iter().filter(|a| status(a) >= 200).collect();
    match expect {
        Silent => assert!(answers.is_empty(), "{name} must get no answer: {answers:?}"),
        Processed => {
            assert_eq!(finals.len(), 1, "{name}: one final answer: {answers:?}");
            assert_ne!(status(finals[0]), 400, "{name} is valid: {}", finals[0]);
        }
        Status(code) => {
            assert_eq!(finals.len(), 1, "{name}: one final answer: {answers:?}");
            assert_eq!(status(finals[0]), code, "{name}: {}", finals[0]);
        }
        Rejected(code) => {
            assert_eq!(finals.len(), 1, "{name}: one final answer: {answers:?}");
            assert_eq!(status(finals[0]), code, "{name}: {}", finals[0]);
            assert!(
                finals[0].contains("\r\nWarning: 399 zentrale \""),
                "{name}: the fault is named: {}",
                finals[0]
            );
        }
    }
}

/// The start line's method and the first Via line: what RFC 3261 §17.2.3 matches a server
/// transaction by (branch, sent-by, method), read textually.
fn transaction_key(raw: &[u8]) -> (String, String) {
    let text = String::from_utf8_lossy(raw);
    let method = text.split(' ').next().unwrap_or_default().to_owned();
    let via = text
        .split("\r\n")
        .find(|l| {
            let name = l.split(':').next().unwrap_or_default().trim();
            name.eq_ignore_ascii_case("via") || name.eq_ignore_ascii_case("v")
        })
        .unwrap_or_default();
    (method, via.split(',').next().unwrap_or_default().to_owned())
}

/// The cases in rounds, so that no two messages of one round share a transaction key. Several
/// messages of the RFC reuse one Via (escnull and regescrt, cparam01 and cparam02, unkscm and
/// novelsc): sent together, the second is rightly absorbed as a retransmission of the first.
fn rounds() -> Vec<Vec<(&'static str, Wire, Vec<u8>)>> {
    let mut rounds: Vec<Vec<(&'static str, Wire, Vec<u8>)>> = Vec::new();
    let fixtures = CASES
        .iter()
        .map(|&(name, expect)| (name, expect, fixture(name)));
    let extra = NO_WAY_BACK
        .iter()
        .map(|&(name, raw)| (name, Silent, raw.to_vec()));
    for (name, expect, raw) in fixtures.chain(extra) {
        let key = transaction_key(&raw);
        let free = rounds
            .iter()
            .position(|r| r.iter().all(|(_, _, other)| transaction_key(other) != key));
        match free {
            Some(i) => rounds[i].push((name, expect, raw)),
            None => rounds.push(vec![(name, expect, raw)]),
        }
    }
    rounds
}

/// Sends one round to a daemon of its own and checks every answer.
fn run_round(round: &[(&'static str, Wire, Vec<u8>)]) {
    let d = Daemon::start();
    let sip = d.addr("SIP/UDP");
    let sent: Vec<(&str, Wire, UdpSocket)> = round
        .iter()
        .map(|(name, expect, raw)| {
            let s = socket();
            s.send_to(raw, sip).expect("send");
            (*name, *expect, s)
        })
        .collect();
    // The daemon reads its one UDP socket in order and sends each answer before it reads the
    // next datagram, so once the OPTIONS sent last is answered, every answer to the messages
    // before it is already in its socket's buffer: what is not there now never comes.
    assert_eq!(options(&socket(), sip), 200);
    for (name, expect, s) in &sent {
        check(name, *expect, &drain(s));
    }
    let log = d.log();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn every_rfc4475_message_sent_to_the_running_daemon_over_udp_gets_what_its_readme_says() {
    let rounds = rounds();
    let sent: usize = rounds.iter().map(Vec::len).sum();
    assert_eq!(sent, 49 + NO_WAY_BACK.len(), "all 49 messages sent");
    assert!(rounds.len() <= 3, "{} rounds", rounds.len());
    for round in &rounds {
        run_round(round);
    }
}
