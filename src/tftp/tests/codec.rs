//! The codec: what it accepts, how it prints, and how errors map to the wire.

use bytes::Bytes;

use super::bad_packets::rrq;
use crate::tftp::{BadValues, ErrorCode, Mode, Options, Packet, Request, TftpError};

#[test]
fn codec_errors_map_to_illegal_operation_and_option_errors_to_code_8() {
    let code = |e: TftpError| match e.error_packet() {
        Some(Packet::Error { code, .. }) => code,
        other => panic!("{other:?}"),
    };
    assert_eq!(code(TftpError::Truncated), ErrorCode::ILLEGAL_OPERATION);
    assert_eq!(
        code(TftpError::BadMode("mail".into())),
        ErrorCode::ILLEGAL_OPERATION
    );
    assert_eq!(code(TftpError::TooManyOptions), ErrorCode::OPTION_REFUSED);
    assert_eq!(code(TftpError::ReadOnly), ErrorCode::ACCESS_VIOLATION);
    assert_eq!(code(TftpError::NotFound), ErrorCode::FILE_NOT_FOUND);
    assert_eq!(code(TftpError::UnknownTid), ErrorCode::UNKNOWN_TID);
    let peer = TftpError::Peer {
        code: 0,
        message: String::new(),
    };
    assert_eq!(peer.error_packet(), None, "an ERROR is never answered");
}

#[test]
fn requests_parse_case_insensitively_and_skip_unknown_options() {
    let d = rrq(
        "/Y000000000044.cfg",
        "OcTeT",
        &[
            ("BLKSIZE", "1468"),
            ("multicast", ""),
            ("tsize", "0"),
            ("WindowSize", "8"),
        ],
    );
    let expected = Request {
        filename: "/Y000000000044.cfg".into(),
        mode: Mode::Octet,
        options: Options {
            blksize: Some(1468),
            timeout: None,
            tsize: Some(0),
            windowsize: Some(8),
        },
    };
    assert_eq!(Packet::parse(&d), Ok(Packet::Rrq(expected)));
    let netascii = Packet::parse(&rrq("f", "NETASCII", &[]));
    assert!(matches!(
        netascii,
        Ok(Packet::Rrq(Request {
            mode: Mode::Netascii,
            ..
        }))
    ));
}

#[test]
fn boundaries_are_accepted() {
    let eight: Vec<(String, &str)> = (0..8).map(|i| (format!("x-{i}"), "1")).collect();
    let eight: Vec<(&str, &str)> = eight.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let padded = [rrq("f", "octet", &[("blksize", "8")]), vec![0, 0, 0]].concat();
    let long_name = "ä".repeat(127) + "a";
    let ok = [
        rrq(&long_name, "octet", &[]),
        rrq("", "octet", &[]),
        rrq("f", "octet", &eight),
        rrq(
            "f",
            "octet",
            &[("blksize", "8"), ("timeout", "1"), ("windowsize", "1")],
        ),
        rrq(
            "f",
            "octet",
            &[
                ("blksize", "65464"),
                ("timeout", "255"),
                ("windowsize", "65535"),
            ],
        ),
        rrq(
            "f",
            "octet",
            &[("tsize", "18446744073709551615"), ("blksize", "000512")],
        ),
        padded,
        vec![0, 3, 0, 9],
        vec![0, 6],
    ];
    for datagram in ok {
        assert!(Packet::parse(&datagram).is_ok(), "{datagram:?}");
    }
}

#[test]
fn invalid_option_values_can_be_declined_instead() {
    let d = rrq(
        "f",
        "octet",
        &[("tsize", "enable"), ("blksize", "7"), ("windowsize", "4")],
    );
    let Ok(Packet::Rrq(request)) = Packet::parse_with(&d, BadValues::Ignore) else {
        panic!("declined, not refused");
    };
    let expected = Options {
        windowsize: Some(4),
        ..Options::default()
    };
    assert_eq!(request.options, expected);
    let twice = rrq("f", "octet", &[("blksize", "7"), ("blksize", "8")]);
    let result = Packet::parse_with(&twice, BadValues::Ignore);
    assert_eq!(result, Err(TftpError::DuplicateOption("blksize".into())));
}

#[test]
fn an_error_without_terminator_still_parses() {
    let d = b"\x00\x05\x00\x08option refused";
    let expected = Packet::Error {
        code: ErrorCode::OPTION_REFUSED,
        message: "option refused".into(),
    };
    assert_eq!(Packet::parse(d), Ok(expected));
}

#[test]
fn printed_packets_parse_back() {
    let options = Options {
        blksize: Some(1428),
        timeout: Some(3),
        tsize: Some(4_000_000),
        windowsize: Some(8),
    };
    let request = Request {
        filename: "cfg000b82aabbcc.xml".into(),
        mode: Mode::Netascii,
        options,
    };
    let packets = [
        Packet::Rrq(request.clone()),
        Packet::Wrq(request),
        Packet::Data {
            block: 65535,
            data: Bytes::from_static(b"\x00\x01binary\xff"),
        },
        Packet::Data {
            block: 0,
            data: Bytes::new(),
        },
        Packet::Ack { block: 0 },
        Packet::Error {
            code: ErrorCode::UNKNOWN_TID,
            message: "unknown transfer ID".into(),
        },
        Packet::Oack(options),
        Packet::Oack(Options::default()),
    ];
    for packet in packets {
        assert_eq!(Packet::parse(&packet.to_vec()), Ok(packet.clone()));
    }
}
