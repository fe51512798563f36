//! The codec's refusals: a table of bad packets with their exact errors, and random bytes.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::tftp::{Packet, TftpError};

/// An RRQ datagram with raw string fields, so that broken ones can be built too.
pub(super) fn rrq(name: &str, mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut d = vec![0, 1];
    for field in [name, mode]
        .into_iter()
        .chain(options.iter().flat_map(|(n, v)| [*n, *v]))
    {
        d.extend_from_slice(field.as_bytes());
        d.push(0);
    }
    d
}

fn bad_value(option: &'static str, value: &str) -> TftpError {
    TftpError::BadOptionValue {
        option,
        value: value.to_owned(),
    }
}

fn bad_packets() -> Vec<(&'static str, Vec<u8>, TftpError)> {
    use TftpError as E;
    let nine: Vec<(String, &str)> = (0..9).map(|i| (format!("x-{i}"), "1")).collect();
    let nine: Vec<(&str, &str)> = nine.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    let mut long_data = vec![0, 3, 0, 1];
    long_data.resize(4 + 65465, 7);
    vec![
        ("empty", vec![], E::Truncated),
        ("one byte", vec![0], E::Truncated),
        ("ACK without block", vec![0, 4, 0], E::Truncated),
        ("DATA without block", vec![0, 3], E::Truncated),
        ("ERROR without code", vec![0, 5, 0], E::Truncated),
        ("opcode 0", vec![0, 0, 1, 2], E::BadOpcode(0)),
        ("opcode 7", vec![0, 7], E::BadOpcode(7)),
        ("opcode 0xffff", vec![0xff, 0xff, 0], E::BadOpcode(0xffff)),
        (
            "overlong name",
            rrq(&"a".repeat(256), "octet", &[]),
            E::TooLong("filename"),
        ),
        (
            "unterminated overlong name",
            [&[0, 1][..], &[b'a'; 300][..]].concat(),
            E::TooLong("filename"),
        ),
        (
            "name without NUL",
            b"\x00\x01file.cfg".to_vec(),
            E::Unterminated("filename"),
        ),
        ("RRQ without name", vec![0, 1], E::Unterminated("filename")),
        (
            "name not UTF-8",
            b"\x00\x01\xff\xfe\x00octet\x00".to_vec(),
            E::NotUtf8("filename"),
        ),
        (
            "mode without NUL",
            b"\x00\x01f\x00octet".to_vec(),
            E::Unterminated("mode"),
        ),
        (
            "mode missing",
            b"\x00\x02f\x00".to_vec(),
            E::Unterminated("mode"),
        ),
        (
            "mode mail",
            rrq("f", "mail", &[]),
            E::BadMode("mail".into()),
        ),
        (
            "mode binary",
            rrq("f", "binary", &[]),
            E::BadMode("binary".into()),
        ),
        ("mode empty", rrq("f", "", &[]), E::BadMode(String::new())),
        (
            "overlong mode",
            rrq("f", &"o".repeat(256), &[]),
            E::TooLong("mode"),
        ),
        (
            "option without value",
            b"\x00\x01f\x00octet\x00blksize\x00".to_vec(),
            E::Unterminated("option value"),
        ),
        (
            "value without NUL",
            b"\x00\x01f\x00octet\x00blksize\x001024".to_vec(),
            E::Unterminated("option value"),
        ),
        (
            "name without NUL",
            b"\x00\x01f\x00octet\x00blksize".to_vec(),
            E::Unterminated("option name"),
        ),
        (
            "duplicate option",
            rrq("f", "octet", &[("blksize", "512"), ("BlkSize", "1024")]),
            E::DuplicateOption("blksize".into()),
        ),
        (
            "duplicate unknown option",
            rrq("f", "octet", &[("x", "1"), ("x", "1")]),
            E::DuplicateOption("x".into()),
        ),
        ("nine options", rrq("f", "octet", &nine), E::TooManyOptions),
        (
            "blksize 0",
            rrq("f", "octet", &[("blksize", "0")]),
            bad_value("blksize", "0"),
        ),
        (
            "blksize 7",
            rrq("f", "octet", &[("blksize", "7")]),
            bad_value("blksize", "7"),
        ),
        (
            "blksize 65465",
            rrq("f", "octet", &[("blksize", "65465")]),
            bad_value("blksize", "65465"),
        ),
        (
            "blksize abc",
            rrq("f", "octet", &[("blksize", "abc")]),
            bad_value("blksize", "abc"),
        ),
        (
            "blksize empty",
            rrq("f", "octet", &[("blksize", "")]),
            bad_value("blksize", ""),
        ),
        (
            "blksize +512",
            rrq("f", "octet", &[("blksize", "+512")]),
            bad_value("blksize", "+512"),
        ),
        (
            "blksize with space",
            rrq("f", "octet", &[("blksize", " 512")]),
            bad_value("blksize", " 512"),
        ),
        (
            "windowsize 0",
            rrq("f", "octet", &[("windowsize", "0")]),
            bad_value("windowsize", "0"),
        ),
        (
            "windowsize 65536",
            rrq("f", "octet", &[("windowsize", "65536")]),
            bad_value("windowsize", "65536"),
        ),
        (
            "timeout 0",
            rrq("f", "octet", &[("timeout", "0")]),
            bad_value("timeout", "0"),
        ),
        (
            "timeout 256",
            rrq("f", "octet", &[("timeout", "256")]),
            bad_value("timeout", "256"),
        ),
        (
            "tsize abc",
            rrq("f", "octet", &[("tsize", "abc")]),
            bad_value("tsize", "abc"),
        ),
        (
            "tsize -1",
            rrq("f", "octet", &[("tsize", "-1")]),
            bad_value("tsize", "-1"),
        ),
        (
            "tsize beyond u64",
            rrq("f", "octet", &[("tsize", "18446744073709551616")]),
            bad_value("tsize", "18446744073709551616"),
        ),
        (
            "ACK with trailing byte",
            vec![0, 4, 0, 1, 0],
            E::TrailingBytes,
        ),
        ("DATA beyond 65464", long_data, E::DataTooLong(65465)),
        (
            "OACK blksize 7",
            [&[0, 6][..], b"blksize\x007\x00"].concat(),
            bad_value("blksize", "7"),
        ),
    ]
}

#[test]
fn every_bad_packet_is_refused_with_its_exact_error() {
    let cases = bad_packets();
    assert!(cases.len() >= 40);
    for (what, datagram, expected) in cases {
        assert_eq!(Packet::parse(&datagram), Err(expected), "{what}");
    }
}

/// Random and mutated datagrams: `parse` never panics, and what it accepts prints to a
/// datagram that parses to the same packet.
#[test]
fn parse_never_panics_on_random_bytes() {
    let mut rng = StdRng::seed_from_u64(0x7f7f_2025);
    let seeds: Vec<Vec<u8>> = bad_packets().into_iter().map(|(_, d, _)| d).collect();
    let mut accepted = 0;
    for i in 0..200_000 {
        let datagram = if i % 2 == 0 {
            random_datagram(&mut rng)
        } else {
            let seed = &seeds[rng.gen_range(0..seeds.len())];
            mutate(&mut rng, seed)
        };
        if let Ok(packet) = Packet::parse(&datagram) {
            accepted += 1;
            assert_eq!(Packet::parse(&packet.to_vec()), Ok(packet), "{datagram:?}");
        }
    }
    assert!(
        accepted > 1000,
        "the generator should also produce valid packets: {accepted}"
    );
}

fn random_datagram(rng: &mut StdRng) -> Vec<u8> {
    let len = rng.gen_range(0..96);
    let mut d: Vec<u8> = (0..len)
        .map(|_| match rng.gen_range(0..4) {
            0 => 0,
            1 => rng.gen_range(b'0'..=b'9'),
            _ => rng.gen_range(0..=255),
        })
        .collect();
    if d.len() >= 2 && rng.gen_bool(0.8) {
        d[0] = 0;
        d[1] = rng.gen_range(0..=7);
    }
    d
}

fn mutate(rng: &mut StdRng, seed: &[u8]) -> Vec<u8> {
    let mut d = seed.to_vec();
    for _ in 0..rng.gen_range(1..4) {
        let at = rng.gen_range(0..=d.len());
        match rng.gen_range(0..3) {
            0 if at < d.len() => d[at] = rng.gen_range(0..=255),
            1 if at < d.len() => {
                d.remove(at);
            }
            _ => d.insert(at, rng.gen_range(0..=255)),
        }
    }
    d
}
