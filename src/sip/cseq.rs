//! `CSeq` (RFC 3261 §20.16): a sequence number and the request method.

use std::fmt;

use super::error::SipError;
use super::lex;
use super::method::Method;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    /// Parses `1*DIGIT LWS Method`. Numbers beyond 32 bits are refused (RFC 4475 `scalar02`).
    pub fn parse(s: &str) -> Result<CSeq, SipError> {
        let bad = |reason| SipError::BadHeader {
            header: "CSeq",
            reason,
        };
        let s = lex::trim_ws(s);
        let split = s.find([' ', '\t']).ok_or(bad("no method"))?;
        let (number, method) = (&s[..split], lex::trim_ws(&s[split..]));
        let seq = lex::digits_saturating(number).ok_or(bad("sequence number is not a number"))?;
        let seq = u32::try_from(seq).map_err(|_| bad("sequence number out of range"))?;
        let method = Method::parse(method).ok_or(bad("bad method"))?;
        Ok(CSeq { seq, method })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let c = CSeq::parse("0009 \t INVITE").expect("valid");
        assert_eq!((c.seq, &c.method), (9, &Method::Invite));
        assert_eq!(c.to_string(), "9 INVITE");
        assert_eq!(CSeq::parse("4294967295 X").expect("valid").seq, u32::MAX);
    }

    #[test]
    fn rejects_overlarge_and_malformed() {
        for bad in [
            "36893488147419103232 REGISTER",
            "4294967296 X",
            "-1 INVITE",
            "1",
            "x INVITE",
        ] {
            assert!(CSeq::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            CSeq::parse("1 A B").expect_err("must fail").to_string(),
            "malformed CSeq header: bad method"
        );
    }
}
