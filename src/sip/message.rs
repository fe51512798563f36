//! [`Message`]: a request or response parsed from one datagram or one framed stream message
//! (RFC 3261 §7), and printed back. The head must be UTF-8 (§25.1 allows nothing else); the
//! body is opaque bytes (SDP, multipart, message-summary are read elsewhere).
//!
//! Parsing is strict where RFC 4475 asks for a 400 — one SP between the parts of the start line
//! (`lwsstart`, `trws`, `lwsruri`), no `<>` or headers in the Request-URI (`ltgtruri`,
//! `escruri`), CSeq method equal to the request method (`mismatch01`) — and liberal where it
//! asks for that: folding and white space anywhere LWS is allowed (`wsinv`), octets after
//! Content-Length ignored (`dblreq`), no Content-Length over UDP means "the rest of the datagram"
//! (`inv2543`).

use std::borrow::Cow;
use std::fmt::Write as _;

use bytes::Bytes;

use super::error::SipError;
use super::head::{Head, HeadBuilder};
use super::header_name::HeaderName;
use super::limits::SipLimits;
use super::method::Method;
use super::uri::Uri;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub head: Head,
    pub body: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub head: Head,
    pub body: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

enum StartLine {
    Request(Method, Uri),
    Response(u16, String),
}

impl Message {
    /// Parses one message from a datagram (or from exactly the bytes [`super::check_frame`]
    /// framed on a stream). CRLFs before the start line are skipped (§7.5).
    pub fn parse(buf: &[u8], limits: &SipLimits) -> Result<Message, SipError> {
        if buf.len() > limits.max_message {
            return Err(SipError::TooLarge(limits.max_message));
        }
        let mut buf = buf;
        while let Some(rest) = buf.strip_prefix(b"\r\n") {
            buf = rest;
        }
        // A datagram that ends right after a header line lacks only the empty line: it is read
        // as a message without body (RFC 4475 `baddn` is sent that way) rather than refused.
        let (end, rest) = match find(buf, b"\r\n\r\n") {
            Some(end) => (end, &buf[end + 4..]),
            None if buf.ends_with(b"\r\n") => (buf.len() - 2, &buf[buf.len()..]),
            None => return Err(SipError::NoEndOfHeaders),
        };
        let head = std::str::from_utf8(&buf[..end]).map_err(|_| SipError::NotUtf8)?;
        let mut lines = head.split("\r\n");
        let first = lines.next().unwrap_or_default();
        let start = parse_start_line(first, limits)?;
        let mut builder = HeadBuilder::default();
        for line in unfold(lines, limits)? {
            let (name, value) = line.split_once(':').ok_or(SipError::BadHeaderLine)?;
            let name = HeaderName::parse(name.trim_end_matches([' ', '\t']))
                .ok_or(SipError::BadHeaderLine)?;
            builder.add(name, value.trim_matches([' ', '\t']))?;
        }
        let body = match builder.content_length {
            Some(n) if n > rest.len() => return Err(SipError::BodyTooShort),
            Some(n) => &rest[..n],
            None => rest,
        };
        let body = Bytes::copy_from_slice(body);
        let head = builder.finish()?;
        Ok(match start {
            StartLine::Request(method, uri) => {
                if head.cseq.method != method {
                    return Err(SipError::CSeqMismatch);
                }
                Message::Request(Request {
                    method,
                    uri,
                    head,
                    body,
                })
            }
            StartLine::Response(status, reason) => Message::Response(Response {
                status,
                reason,
                head,
                body,
            }),
        })
    }

    pub fn print(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.print(),
            Message::Response(r) => r.print(),
        }
    }

    pub fn head(&self) -> &Head {
        match self {
            Message::Request(r) => &r.head,
            Message::Response(r) => &r.head,
        }
    }
}

/// What a printed head takes, about: the buffer starts that large instead of growing (and
/// being copied) six times on the way (a tenth of the endpoint thread under bench/sip.sh went
/// to such copies).
const PRINT_CAPACITY: usize = 768;

impl Request {
    pub fn print(&self) -> Vec<u8> {
        let mut out = String::with_capacity(PRINT_CAPACITY + self.body.len());
        let _ = write!(out, "{} {} SIP/2.0\r\n", self.method, self.uri);
        self.head.print(&mut out, self.body.len());
        let mut out = out.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

impl Response {
    /// A response to `request` with Via, From, To, Call-ID and CSeq copied (§8.2.6.2); the
    /// caller adds the To tag (a UAS must, except on 100) and whatever else the status needs.
    pub fn for_request(request: &Request, status: u16, reason: &str) -> Response {
        Response {
            status,
            reason: reason.to_owned(),
            head: request.head.for_response(),
            body: Bytes::new(),
        }
    }

    pub fn print(&self) -> Vec<u8> {
        let mut out = String::with_capacity(PRINT_CAPACITY + self.body.len());
        let _ = write!(out, "SIP/2.0 {} {}\r\n", self.status, self.reason);
        self.head.print(&mut out, self.body.len());
        let mut out = out.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }

    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }
}

/// Where `needle` (non-empty) first occurs: a scan for its first byte, then a comparison.
pub(super) fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let mut from = 0;
    while let Some(p) = haystack.get(from..)?.iter().position(|&b| b == first) {
        let at = from + p;
        if haystack[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn parse_start_line(line: &str, limits: &SipLimits) -> Result<StartLine, SipError> {
    if line.len() > limits.max_line {
        return Err(SipError::LineTooLong(limits.max_line));
    }
    let (first, rest) = line.split_once(' ').ok_or(SipError::BadStartLine)?;
    if first
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
        && first.len() > 4
    {
        check_version(first)?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = match code.parse::<u16>() {
            Ok(s) if code.len() == 3 && (100..=699).contains(&s) => s,
            _ => return Err(SipError::BadStatus),
        };
        return Ok(StartLine::Response(status, reason.to_owned()));
    }
    let (uri, version) = rest.rsplit_once(' ').ok_or(SipError::BadStartLine)?;
    if uri.is_empty() || uri.contains([' ', '\t']) || version.is_empty() {
        return Err(SipError::BadStartLine);
    }
    check_version(version)?;
    let method = Method::parse(first).ok_or(SipError::BadStartLine)?;
    let uri = Uri::parse(uri).map_err(SipError::BadRequestUri)?;
    if uri.as_sip().is_some_and(|u| u.headers.is_some()) {
        // §19.1.1 table 1: headers are not allowed in a Request-URI.
        return Err(SipError::BadRequestUri("headers part"));
    }
    Ok(StartLine::Request(method, uri))
}

fn check_version(v: &str) -> Result<(), SipError> {
    if v.eq_ignore_ascii_case("SIP/2.0") {
        return Ok(());
    }
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let looks_like_version = v.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
        && v.get(4..)
            .and_then(|n| n.split_once('.'))
            .is_some_and(|(a, b)| digits(a) && digits(b));
    Err(if looks_like_version {
        SipError::BadVersion
    } else {
        SipError::BadStartLine
    })
}

/// Joins continuation lines (starting with SP or HT) to the field they continue (§7.3.1), with
/// the limits on field count and length applied as it goes.
fn unfold<'a>(
    lines: impl Iterator<Item = &'a str>,
    limits: &SipLimits,
) -> Result<Vec<Cow<'a, str>>, SipError> {
    let mut fields: Vec<Cow<'a, str>> = Vec::new();
    for line in lines {
        if line.bytes().any(|b| b == b'\r' || b == b'\n') {
            return Err(SipError::BadHeaderLine);
        }
        if line.starts_with([' ', '\t']) {
            let last = fields.last_mut().ok_or(SipError::BadHeaderLine)?;
            if last.len() + line.len() > limits.max_line {
                return Err(SipError::LineTooLong(limits.max_line));
            }
            // Appending in place keeps a field of many short continuation lines linear.
            let mut joined = std::mem::take(last).into_owned();
            joined.truncate(joined.trim_end_matches([' ', '\t']).len());
            joined.push(' ');
            joined.push_str(line.trim_start_matches([' ', '\t']));
            *last = Cow::Owned(joined);
            continue;
        }
        if line.len() > limits.max_line {
            return Err(SipError::LineTooLong(limits.max_line));
        }
        if fields.len() == limits.max_headers {
            return Err(SipError::TooManyHeaders(limits.max_headers));
        }
        fields.push(Cow::Borrowed(line));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests;
