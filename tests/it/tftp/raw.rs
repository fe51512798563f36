//! Raw UDP from the test for what no client does on purpose: a wrong TID, duplicate ACKs,
//! garbage at the server port, a shutdown in the middle of a transfer.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use bytes::Bytes;
use zentrale::tftp::{ErrorCode, Mode, Options, Packet, Request, TftpLimits};

use super::{Server, content};

/// A raw UDP peer with a bounded wait for each answer.
fn raw_peer() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    socket
}

fn send(socket: &UdpSocket, packet: &Packet, to: SocketAddr) {
    socket.send_to(&packet.to_vec(), to).expect("send");
}

fn recv(socket: &UdpSocket) -> (Packet, SocketAddr) {
    let mut buf = vec![0u8; 65536];
    let (len, from) = socket.recv_from(&mut buf).expect("an answer within 10 s");
    (
        Packet::parse(&buf[..len]).expect("the server sends valid packets"),
        from,
    )
}

fn rrq(name: &str, options: Options) -> Packet {
    Packet::Rrq(Request {
        filename: name.into(),
        mode: Mode::Octet,
        options,
    })
}

/// Receives DATA `expected` and returns its payload and sender.
fn data(socket: &UdpSocket, expected: u16) -> (Bytes, SocketAddr) {
    match recv(socket) {
        (Packet::Data { block, data }, from) if block == expected => (data, from),
        other => panic!("expected DATA {expected}, got {other:?}"),
    }
}

#[test]
fn tftp_wrong_tid_gets_error_5_and_the_transfer_goes_on() {
    let file = content(1500);
    let server = Server::start(&[("f.bin", file.clone())], TftpLimits::default());
    let phone = raw_peer();
    send(&phone, &rrq("f.bin", Options::default()), server.addr);
    let (first, tid) = data(&phone, 1);
    assert_ne!(tid, server.addr, "a transfer has its own port");

    let stranger = raw_peer();
    send(&stranger, &Packet::Ack { block: 1 }, tid);
    match recv(&stranger) {
        (Packet::Error { code, .. }, from) => {
            assert_eq!(code, ErrorCode::UNKNOWN_TID);
            assert_eq!(from, tid);
        }
        other => panic!("expected ERROR 5, got {other:?}"),
    }

    let mut got = first.to_vec();
    for block in 1..=2 {
        send(&phone, &Packet::Ack { block }, tid);
        got.extend_from_slice(&data(&phone, block + 1).0);
    }
    send(&phone, &Packet::Ack { block: 3 }, tid);
    assert!(got == file[..], "{} bytes", got.len());
}

#[test]
fn tftp_duplicate_acks_get_no_second_data() {
    let file = content(10 * 512 + 100);
    let limits = TftpLimits {
        // No retransmission by timeout during the test: every DATA counted answers an ACK.
        default_timeout: Duration::from_secs(60),
        ..TftpLimits::default()
    };
    let server = Server::start(&[("f.bin", file.clone())], limits);
    let phone = raw_peer();
    send(&phone, &rrq("f.bin", Options::default()), server.addr);
    let (mut got, tid) = data(&phone, 1);
    let mut received = 1;
    for block in 1..=10u16 {
        send(&phone, &Packet::Ack { block }, tid);
        send(&phone, &Packet::Ack { block }, tid);
        // A re-sent DATA `block + 1` would arrive here before DATA `block + 2`.
        let (payload, _) = data(&phone, block + 1);
        got = [&got[..], &payload[..]].concat().into();
        received += 1;
    }
    send(&phone, &Packet::Ack { block: 11 }, tid);
    assert_eq!(received, 11);
    assert!(got == file, "{} bytes", got.len());
}

#[test]
fn tftp_server_port_answers_garbage_and_drains_on_shutdown() {
    let file = content(700);
    let mut server = Server::start(&[("f.bin", file.clone())], TftpLimits::default());
    let phone = raw_peer();
    for (datagram, code) in [
        (&b"\x00\x09junk"[..], ErrorCode::ILLEGAL_OPERATION),
        (b"\x00\x01f.bin\x00mail\x00", ErrorCode::ILLEGAL_OPERATION),
        (
            b"\x00\x01f.bin\x00octet\x00x\x001\x00X\x001\x00",
            ErrorCode::OPTION_REFUSED,
        ),
        (b"\x00\x02f.bin\x00octet\x00", ErrorCode::ACCESS_VIOLATION),
        (
            b"\x00\x01..\\f.bin\x00octet\x00",
            ErrorCode::ACCESS_VIOLATION,
        ),
    ] {
        phone.send_to(datagram, server.addr).expect("send");
        match recv(&phone) {
            (Packet::Error { code: got, .. }, _) => assert_eq!(got, code, "{datagram:?}"),
            other => panic!("{datagram:?}: expected ERROR {code:?}, got {other:?}"),
        }
    }

    // An invalid option value is declined: no OACK, the data starts at once.
    let declined = b"\x00\x01f.bin\x00octet\x00blksize\x007\x00tsize\x00enable\x00";
    phone.send_to(declined, server.addr).expect("send");
    let (_, tid) = data(&phone, 1);
    send(&phone, &Packet::Ack { block: 1 }, tid);
    data(&phone, 2);
    send(&phone, &Packet::Ack { block: 2 }, tid);

    // A transfer running at shutdown is finished, then `serve` returns.
    let options = Options {
        blksize: Some(512),
        ..Options::default()
    };
    send(&phone, &rrq("f.bin", options), server.addr);
    let (oack, tid) = recv(&phone);
    assert!(
        matches!(oack, Packet::Oack(o) if o.blksize == Some(512)),
        "{oack:?}"
    );
    server.shutdown.cancel();
    send(&phone, &Packet::Ack { block: 0 }, tid);
    let (first, _) = data(&phone, 1);
    send(&phone, &Packet::Ack { block: 1 }, tid);
    let (second, _) = data(&phone, 2);
    send(&phone, &Packet::Ack { block: 2 }, tid);
    assert_eq!([&first[..], &second[..]].concat(), file);
    server.stop().expect("serve ends cleanly");
}
