//! Framing SIP on a stream (RFC 3261 §18.3, RFC 5626 §3.5.1), in the manner of mini-redis'
//! `Frame::check`: look at the buffered bytes and say how long the next frame is, or that more
//! bytes are needed — which is not an error. The driver then hands exactly that many bytes to
//! [`super::Message::parse`] and drops them from its buffer.
//!
//! A stream message must have a Content-Length (§18.3, §20.14), and only one: with none or two
//! (RFC 4475 `mcl01`) the next message's start is unknown and the connection has to be closed.

use super::error::SipError;
use super::lex;
use super::limits::SipLimits;
use super::message::find;

/// The next thing on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// `CRLF CRLF`, a keep-alive ping: answer with one CRLF (RFC 5626 §3.5.1).
    Ping,
    /// A lone `CRLF` (a pong, or the noise §7.5 says to ignore before a start line).
    Pong,
    /// A message of this many bytes.
    Message(usize),
}

impl Frame {
    /// How many bytes of the buffer this frame takes.
    pub fn len(&self) -> usize {
        match self {
            Frame::Ping => 4,
            Frame::Pong => 2,
            Frame::Message(n) => *n,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a datagram is a keep-alive rather than a message: nothing but CR, LF and NUL, as
/// phones send them over UDP to keep a NAT binding open (the `CRLF CRLF` of RFC 5626 §3.5.1
/// carried in a datagram, or `\0\0\0\0`). Not answered, not an error.
pub fn is_keepalive(datagram: &[u8]) -> bool {
    !datagram.is_empty() && datagram.len() <= 16 && datagram.iter().all(|b| b"\r\n\0".contains(b))
}

/// The frame at the start of `buf`; `Ok(None)` when more bytes are needed. An error means the
/// stream cannot be framed any more: close it (after a 400 or 513 if the driver wants).
pub fn check_frame(buf: &[u8], limits: &SipLimits) -> Result<Option<Frame>, SipError> {
    Framer::default().check(buf, limits)
}

/// [`check_frame`] for one connection that remembers how far it has searched for the end of
/// the head, so a head arriving a byte at a time costs linear, not quadratic, time. Call
/// [`Framer::check`] with the connection's buffer (same start) until it returns a frame, then
/// drop that frame's bytes from the buffer.
#[derive(Debug, Default, Clone)]
pub struct Framer {
    searched: usize,
}

impl Framer {
    pub fn check(&mut self, buf: &[u8], limits: &SipLimits) -> Result<Option<Frame>, SipError> {
        if let Some(rest) = buf.strip_prefix(b"\r\n") {
            let frame = match rest {
                [] | [b'\r'] => return Ok(None),
                [b'\r', b'\n', ..] => Frame::Ping,
                _ => Frame::Pong,
            };
            self.searched = 0;
            return Ok(Some(frame));
        }
        let window = &buf[..buf.len().min(limits.max_message)];
        let from = self.searched.saturating_sub(3).min(window.len());
        let Some(end) = find(&window[from..], b"\r\n\r\n").map(|i| i + from) else {
            self.searched = window.len();
            if buf.len() >= limits.max_message {
                return Err(SipError::TooLarge(limits.max_message));
            }
            return Ok(None);
        };
        self.searched = end;
        let length = content_length(&buf[..end])?.ok_or(SipError::NoContentLength)?;
        let total = (end + 4).saturating_add(length);
        if total > limits.max_message {
            return Err(SipError::TooLarge(limits.max_message));
        }
        if buf.len() < total {
            return Ok(None);
        }
        self.searched = 0;
        Ok(Some(Frame::Message(total)))
    }
}

/// The Content-Length among the head's fields, folded lines joined; the head may be any bytes.
fn content_length(head: &[u8]) -> Result<Option<usize>, SipError> {
    let bad = |reason| SipError::BadHeader {
        header: "Content-Length",
        reason,
    };
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut in_field = false;
    for line in head.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.first().is_some_and(|&b| lex::is_ws(b)) {
            if in_field && let Some(v) = values.last_mut() {
                v.extend_from_slice(line);
            }
            continue;
        }
        in_field = false;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            in_field = true;
            values.push(line[colon + 1..].to_vec());
        }
    }
    match values.as_slice() {
        [] => Ok(None),
        [one] => {
            let text = std::str::from_utf8(one.trim_ascii()).map_err(|_| bad("not a number"))?;
            let n = lex::digits_saturating(text).ok_or(bad("not a number"))?;
            Ok(Some(usize::try_from(n).unwrap_or(usize::MAX)))
        }
        _ => Err(SipError::DuplicateHeader("Content-Length")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSG: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nl: 5\r\n\r\nhello";

    #[test]
    fn need_more_bytes_is_not_an_error() {
        let limits = SipLimits::default();
        for cut in 0..MSG.len() {
            assert_eq!(check_frame(&MSG[..cut], &limits), Ok(None), "{cut}");
        }
        let mut two = MSG.to_vec();
        two.extend_from_slice(MSG);
        assert_eq!(
            check_frame(&two, &limits),
            Ok(Some(Frame::Message(MSG.len())))
        );
    }

    #[test]
    fn a_framer_fed_byte_by_byte_finds_each_message() {
        let limits = SipLimits::default();
        let mut stream = MSG.to_vec();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(MSG);
        let (mut framer, mut buf, mut frames) = (Framer::default(), Vec::new(), Vec::new());
        for &b in &stream {
            buf.push(b);
            while let Some(frame) = framer.check(&buf, &limits).expect("frames") {
                frames.push(frame);
                buf.drain(..frame.len());
            }
        }
        let whole = Frame::Message(MSG.len());
        assert_eq!(frames, [whole, Frame::Ping, whole]);
        assert!(buf.is_empty());
    }

    #[test]
    fn keep_alives() {
        let limits = SipLimits::default();
        assert_eq!(check_frame(b"\r\n\r\nOPT", &limits), Ok(Some(Frame::Ping)));
        assert_eq!(check_frame(b"\r\nOPT", &limits), Ok(Some(Frame::Pong)));
        assert_eq!(check_frame(b"\r\n\r", &limits), Ok(None));
        assert_eq!(check_frame(b"\r\n", &limits), Ok(None));
        assert_eq!(Frame::Ping.len() + Frame::Pong.len(), 6);
        assert!(is_keepalive(b"\r\n\r\n") && is_keepalive(b"\0\0\0\0") && is_keepalive(b"\r\n"));
        assert!(!is_keepalive(b"") && !is_keepalive(b"\r\nOPTIONS") && !is_keepalive(&[b'\n'; 17]));
    }

    #[test]
    fn folded_content_length_counts() {
        let m = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length:\r\n 2\r\n\r\nhi";
        assert_eq!(
            check_frame(m, &SipLimits::default()),
            Ok(Some(Frame::Message(m.len())))
        );
    }

    #[test]
    fn unframeable_streams_fail() {
        let limits = SipLimits {
            max_message: 64,
            ..SipLimits::default()
        };
        let none = b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n";
        assert_eq!(check_frame(none, &limits), Err(SipError::NoContentLength));
        let two = b"OPTIONS sip:a@b SIP/2.0\r\nl: 1\r\nContent-Length: 2\r\n\r\n";
        assert_eq!(
            check_frame(two, &limits),
            Err(SipError::DuplicateHeader("Content-Length"))
        );
        let big = b"OPTIONS sip:a@b SIP/2.0\r\nl: 100\r\n\r\n";
        assert_eq!(check_frame(big, &limits), Err(SipError::TooLarge(64)));
        assert_eq!(
            check_frame(&[b'a'; 64], &limits),
            Err(SipError::TooLarge(64))
        );
        assert!(check_frame(b"X\r\nl: -3\r\n\r\n", &limits).is_err());
    }
}
