//! Netascii (RFC 1350 via RFC 764): the file as it goes on the wire in `netascii` mode.
//!
//! A line feed becomes CR LF and a lone carriage return becomes CR NUL, so the client's
//! conversion back gives the original bytes. The file is converted whole before the transfer,
//! which keeps block arithmetic the same as in octet mode.

use bytes::Bytes;

/// The netascii form of `file`.
pub fn encode(file: &[u8]) -> Bytes {
    let extra = file.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
    let mut out = Vec::with_capacity(file.len() + extra);
    for &b in file {
        match b {
            b'\n' => out.extend_from_slice(b"\r\n"),
            b'\r' => out.extend_from_slice(b"\r\0"),
            _ => out.push(b),
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn line_ends_become_cr_lf_and_a_lone_cr_becomes_cr_nul() {
        assert_eq!(&encode(b"a\nb\r\nc\r")[..], b"a\r\nb\r\0\r\nc\r\0");
        assert_eq!(&encode(b"plain")[..], b"plain");
        assert!(encode(b"").is_empty());
    }
}
