//! [`SipError`], every fault the message layer finds, and its one mapping to the wire: the
//! status a stateless server answers a broken request with (RFC 3261 §8.2, §16.3, RFC 4475), or
//! "drop" for a broken response (§18.1.2: a client cannot answer a response).

/// A message that cannot be framed or parsed. The text names the fault; it goes out in the
/// `Warning` of the 400 (never with the peer's bytes in it beyond what the header names).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    #[error("message larger than {0} bytes")]
    TooLarge(usize),
    #[error("more than {0} header fields")]
    TooManyHeaders(usize),
    #[error("a header line is longer than {0} bytes")]
    LineTooLong(usize),
    #[error("no empty line after the header fields")]
    NoEndOfHeaders,
    #[error("the message head is not UTF-8")]
    NotUtf8,
    #[error("malformed start line")]
    BadStartLine,
    #[error("unsupported SIP version")]
    BadVersion,
    #[error("status code not in 100..=699")]
    BadStatus,
    #[error("malformed Request-URI: {0}")]
    BadRequestUri(&'static str),
    #[error("unsupported URI scheme in the Request-URI")]
    UnsupportedScheme,
    #[error("malformed header line")]
    BadHeaderLine,
    #[error("malformed {header} header: {reason}")]
    BadHeader {
        header: &'static str,
        reason: &'static str,
    },
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    #[error("more than one {0} header")]
    DuplicateHeader(&'static str),
    #[error("the CSeq method does not match the request method")]
    CSeqMismatch,
    #[error("Content-Length is larger than the body")]
    BodyTooShort,
    #[error("a stream message without Content-Length")]
    NoContentLength,
}

/// What a stateless server does with a message that failed to parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Answer with this status (the reason phrase and Warning come from the error).
    Respond(u16),
    /// Say nothing: a broken response, an ACK, or a request too broken to answer.
    Drop,
}

impl SipError {
    /// The status a request with this fault gets (RFC 3261 §21; RFC 4475 §3.1.2).
    pub fn status(&self) -> u16 {
        match self {
            SipError::TooLarge(_) => 513,
            SipError::BadVersion => 505,
            SipError::UnsupportedScheme => 416,
            _ => 400,
        }
    }

    /// The standard reason phrase for [`SipError::status`].
    pub fn reason(&self) -> &'static str {
        match self.status() {
            513 => "Message Too Large",
            505 => "Version Not Supported",
            416 => "Unsupported URI Scheme",
            _ => "Bad Request",
        }
    }

    /// Whether a stream connection can go on after this fault: only if the message could still
    /// be framed (a bad header inside a framed message leaves the next message's start known).
    pub fn keeps_framing(&self) -> bool {
        !matches!(
            self,
            SipError::TooLarge(_)
                | SipError::NoContentLength
                | SipError::NoEndOfHeaders
                | SipError::LineTooLong(_)
                | SipError::TooManyHeaders(_)
        ) && !matches!(
            self,
            SipError::BadHeader {
                header: "Content-Length",
                ..
            } | SipError::DuplicateHeader("Content-Length")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_rfc_4475() {
        assert_eq!(SipError::BadVersion.status(), 505);
        assert_eq!(SipError::UnsupportedScheme.status(), 416);
        assert_eq!(SipError::CSeqMismatch.status(), 400);
        assert_eq!(SipError::TooLarge(10).reason(), "Message Too Large");
        let e = SipError::BadHeader {
            header: "CSeq",
            reason: "number out of range",
        };
        assert_eq!(e.to_string(), "malformed CSeq header: number out of range");
        assert!(e.keeps_framing());
        assert!(!SipError::DuplicateHeader("Content-Length").keeps_framing());
    }
}
