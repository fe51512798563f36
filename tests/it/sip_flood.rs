//! A flood from one address (10,000 packets a second of OPTIONS, REGISTER, INVITE and noise,
//! from 127.0.0.2) is shed before parsing while a phone at 127.0.0.1 registers with Digest
//! and is answered; the flooder is logged once for fail2ban.

use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::harness::{Daemon, eventually};
use crate::sip::{phone_account, sip_status, sipp};

/// The flood's rate, packets a second.
const FLOOD_RATE: u64 = 10_000;
/// The flood lasts at least this long, and until the phone is done.
const FLOOD_FOR: Duration = Duration::from_secs(2);
/// The flooder's address: another loopback address than the harness's 127.0.0.1.
const FLOODER: &str = "127.0.0.2";

/// Packet `n` of the flood: requests with fresh branches and Call-IDs (none is a
/// retransmission), and now and then noise.
fn packet(n: u64, to: SocketAddr, from: SocketAddr) -> Vec<u8> {
    let method = ["OPTIONS", "REGISTER", "INVITE", "noise"][(n % 4) as usize];
    if method == "noise" {
        return format!("\u{0}\u{ff}garbage {n}\r\n\r\n").into_bytes();
    }
    format!(
        "{method} sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {from};branch=z9hG4bK-flood-{n};rport\r\n\
         From: <sip:flood@{from}>;tag={n}\r\nTo: <sip:100@{to}>\r\nCall-ID: flood-{n}\r\n\
         CSeq: 1 {method}\r\nContact: <sip:flood@{from}>\r\nMax-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

/// Every datagram waiting on `s`, without waiting for more.
fn drain(s: &UdpSocket, buf: &mut [u8]) -> u64 {
    let mut n = 0;
    while s.recv(buf).is_ok() {
        n += 1;
    }
    n
}

/// Floods `to` from 127.0.0.2 at [`FLOOD_RATE`] for at least [`FLOOD_FOR`] and until `stop`;
/// the socket (still open, to read late answers from), packets sent, answers read.
#[allow(clippy::disallowed_methods)] // the flood's own pacing clock
fn flood(to: SocketAddr, stop: &AtomicBool) -> (UdpSocket, u64, u64) {
    let s = UdpSocket::bind((FLOODER, 0)).expect("127.0.0.2 is loopback on Linux");
    s.set_nonblocking(true).expect("nonblocking");
    let from = s.local_addr().expect("local");
    let mut buf = vec![0u8; 65_535];
    let (mut sent, mut answers) = (0u64, 0u64);
    let start = std::time::Instant::now();
    loop {
        let elapsed = start.elapsed();
        let due = elapsed.as_micros() as u64 * FLOOD_RATE / 1_000_000;
        while sent < due {
            // A full send buffer drops the packet, as a real flood would lose it.
            let _ = s.send_to(&packet(sent, to, from), to);
            sent += 1;
        }
        answers += drain(&s, &mut buf);
        if elapsed >= FLOOD_FOR && stop.load(Ordering::Relaxed) {
            return (s, sent, answers);
        }
        // Pacing of the load, not a wait for anything: ten packets a millisecond.
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// An OPTIONS from 127.0.0.1; the answer's status line. The daemon answers its UDP socket in
/// order, so once this is answered every packet sent before it has been handled.
fn ping(to: SocketAddr) -> String {
    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let local = s.local_addr().expect("local");
    let ping = format!(
        "OPTIONS sip:{to} SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-after-flood;rport\r\n\
         From: <sip:ping@{local}>;tag=1\r\nTo: <sip:{to}>\r\nCall-ID: after-flood\r\n\
         CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    );
    s.send_to(ping.as_bytes(), to).expect("send");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut buf = vec![0u8; 65_535];
    let n = s
        .recv(&mut buf)
        .expect("the daemon answers after the flood");
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    text.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn a_flood_from_one_address_is_shed_while_a_phone_elsewhere_registers_and_is_answered() {
    let d = Daemon::start();
    let (user, password) = phone_account(&d);
    let sip = d.addr("SIP/UDP");
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let flooder = std::thread::spawn(move || flood(sip, &flag));
    let denied = format!("sip: denied {FLOODER} flood");
    // Shedding has begun: wait for its log line.
    let shedding = eventually(Duration::from_secs(20), || {
        d.log().contains(&denied).then_some(())
    });
    assert!(shedding.is_some(), "the flood was not shed:\n{}", d.log());
    // The phone at 127.0.0.1, during the flood.
    assert!(
        sipp(&d, "register.xml", "u1", &user, &password),
        "registered"
    );
    assert!(sipp(&d, "options.xml", "u1", "-", "-"), "OPTIONS answered");
    stop.store(true, Ordering::Relaxed);
    let (socket, sent, mut answers) = flooder.join().expect("flooder");
    assert_eq!(ping(sip), "SIP/2.0 200 OK");
    answers += drain(&socket, &mut vec![0u8; 65_535]);

    assert_eq!(sip_status(&d)["registered"], true);
    let log = d.log();
    let lines: Vec<String> = log
        .lines()
        .filter(|l| l.contains(&denied))
        .map(|l| format!("{l}\n"))
        .collect();
    assert_eq!(lines.len(), 1, "logged once per ban period: {lines:?}");
    assert_eq!(
        crate::provisioning::fail2ban_matches(&lines.concat()),
        1,
        "fail2ban reads the flood line"
    );
    assert!(
        sent >= FLOOD_RATE * FLOOD_FOR.as_secs() && answers * 5 < sent,
        "{answers} answers to {sent} packets"
    );
    eprintln!("flood: {sent} packets sent, {answers} answered");
}

/// Connects to `to` from 127.0.0.2 (std cannot bind before connecting; tokio's socket can).
fn connect_from_flooder(to: SocketAddr) -> std::net::TcpStream {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("runtime");
    let stream = runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::from(([127, 0, 0, 2], 0)))
            .expect("127.0.0.2 is loopback on Linux");
        socket.connect(to).await.expect("connect")
    });
    let stream = stream.into_std().expect("std stream");
    stream.set_nonblocking(false).expect("blocking");
    stream
}

#[test]
fn a_flood_over_one_tcp_connection_is_shed_while_a_phone_registers_over_tcp() {
    use std::io::{Read, Write};
    let d = Daemon::start();
    let (user, password) = phone_account(&d);
    let sip = d.addr("SIP/TCP");
    let stream = connect_from_flooder(sip);
    let from = stream.local_addr().expect("local");
    let at_least = FLOOD_RATE * FLOOD_FOR.as_secs();
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let mut reader = stream.try_clone().expect("clone");
    // A bound for a broken run only: the daemon closes after our end of stream.
    reader
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let answers = std::thread::spawn(move || {
        let mut all = Vec::new();
        let _ = reader.read_to_end(&mut all);
        String::from_utf8_lossy(&all)
            .matches("SIP/2.0 200 OK\r\n")
            .count() as u64
    });
    // As fast as the daemon reads, until the phone is done and at least `at_least` are out.
    let writer = std::thread::spawn(move || {
        let mut stream = stream;
        let mut n = 0u64;
        while n < at_least || !flag.load(Ordering::Relaxed) {
            // OPTIONS only: each answered one is one 200 on the stream.
            if stream.write_all(&packet(n * 4, sip, from)).is_err() {
                break;
            }
            n += 1;
        }
        let _ = stream.shutdown(std::net::Shutdown::Write);
        n
    });
    let denied = format!("sip: denied {FLOODER} flood");
    let shedding = eventually(Duration::from_secs(20), || {
        d.log().contains(&denied).then_some(())
    });
    assert!(shedding.is_some(), "the flood was not shed:\n{}", d.log());
    assert!(
        sipp(&d, "register.xml", "t1", &user, &password),
        "registered over TCP during the flood"
    );
    stop.store(true, Ordering::Relaxed);
    let sent = writer.join().expect("writer");
    let answers = answers.join().expect("reader");
    assert_eq!(sip_status(&d)["registered"], true);
    let log = d.log();
    assert_eq!(log.matches(&denied).count(), 1, "logged once: {log}");
    assert!(
        sent >= at_least && answers > 0 && answers * 5 < sent,
        "{answers} answers to {sent} messages"
    );
    eprintln!("TCP flood: {sent} messages sent, {answers} answered");
}
