//! [`Head`]: the header fields every request and response carries (RFC 3261 §8.1.1), typed, plus
//! all other fields in [`Headers`]. Content-Length is not kept: it is checked on the way in and
//! printed from the body on the way out.

use std::fmt::Write as _;

use super::contact::Contacts;
use super::cseq::CSeq;
use super::error::SipError;
use super::header_name::HeaderName;
use super::headers::Headers;
use super::lex;
use super::name_addr::NameAddr;
use super::via::Via;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Every Via value, topmost first (at least one).
    pub via: Vec<Via>,
    pub from: NameAddr,
    pub to: NameAddr,
    pub call_id: String,
    pub cseq: CSeq,
    /// Absent in responses and in RFC 2543 requests (RFC 4475 `inv2543`).
    pub max_forwards: Option<u8>,
    pub contact: Contacts,
    pub headers: Headers,
}

/// Collects header fields of one message as they are read.
#[derive(Debug, Default)]
pub(super) struct HeadBuilder {
    via: Vec<Via>,
    from: Option<NameAddr>,
    to: Option<NameAddr>,
    call_id: Option<String>,
    cseq: Option<CSeq>,
    max_forwards: Option<u8>,
    contact: Contacts,
    headers: Headers,
    pub content_length: Option<usize>,
}

fn once<T>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), SipError> {
    if slot.is_some() {
        return Err(SipError::DuplicateHeader(name));
    }
    *slot = Some(value);
    Ok(())
}

impl HeadBuilder {
    pub fn add(&mut self, name: HeaderName, value: &str) -> Result<(), SipError> {
        let bad = |reason| SipError::BadHeader {
            header: name.static_name(),
            reason,
        };
        match name.as_str() {
            "Via" => {
                let elements = lex::split_list(value).ok_or(bad("empty or unbalanced element"))?;
                for e in elements {
                    self.via.push(Via::parse(e)?);
                }
            }
            "From" => once(&mut self.from, NameAddr::parse(value, "From")?, "From")?,
            "To" => once(&mut self.to, NameAddr::parse(value, "To")?, "To")?,
            "Call-ID" => once(&mut self.call_id, parse_call_id(value)?, "Call-ID")?,
            "CSeq" => once(&mut self.cseq, CSeq::parse(value)?, "CSeq")?,
            "Max-Forwards" => {
                if self.max_forwards.is_some() {
                    return Err(SipError::DuplicateHeader("Max-Forwards"));
                }
                let n = lex::digits_saturating(value).ok_or(bad("not a number"))?;
                self.max_forwards = Some(u8::try_from(n).map_err(|_| bad("larger than 255"))?);
            }
            "Contact" => self.contact.add_line(value)?,
            "Content-Length" => {
                let n = lex::digits_saturating(value).ok_or(bad("not a number"))?;
                let n = usize::try_from(n).unwrap_or(usize::MAX);
                once(&mut self.content_length, n, "Content-Length")?;
            }
            _ => self.headers.push(name, value),
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Head, SipError> {
        if self.via.is_empty() {
            return Err(SipError::MissingHeader("Via"));
        }
        self.headers.validate()?;
        Ok(Head {
            via: self.via,
            from: self.from.ok_or(SipError::MissingHeader("From"))?,
            to: self.to.ok_or(SipError::MissingHeader("To"))?,
            call_id: self.call_id.ok_or(SipError::MissingHeader("Call-ID"))?,
            cseq: self.cseq.ok_or(SipError::MissingHeader("CSeq"))?,
            max_forwards: self.max_forwards,
            contact: self.contact,
            headers: self.headers,
        })
    }
}

/// `Call-ID = word [ "@" word ]` (§25.1).
fn parse_call_id(value: &str) -> Result<String, SipError> {
    let ok = |w: &str| !w.is_empty() && w.bytes().all(lex::is_word_char);
    let valid = match value.split_once('@') {
        Some((a, b)) => ok(a) && ok(b),
        None => ok(value),
    };
    if !valid {
        return Err(SipError::BadHeader {
            header: "Call-ID",
            reason: "not word[@word]",
        });
    }
    Ok(value.to_owned())
}

impl Head {
    /// Writes the header fields and the empty line, with `Content-Length: body_len`.
    pub(super) fn print(&self, out: &mut String, body_len: usize) {
        // Writing to a String cannot fail.
        for v in &self.via {
            let _ = write!(out, "Via: {v}\r\n");
        }
        let _ = write!(out, "From: {}\r\nTo: {}\r\n", self.from, self.to);
        let _ = write!(out, "Call-ID: {}\r\nCSeq: {}\r\n", self.call_id, self.cseq);
        if let Some(mf) = self.max_forwards {
            let _ = write!(out, "Max-Forwards: {mf}\r\n");
        }
        if !self.contact.is_empty() {
            let _ = write!(out, "Contact: {}\r\n", self.contact);
        }
        for h in self.headers.iter() {
            let _ = write!(out, "{}: {}\r\n", h.name, h.value);
        }
        let _ = write!(out, "Content-Length: {body_len}\r\n\r\n");
    }

    /// The header fields a response to this request copies (§8.2.6.2): Via, From, To, Call-ID,
    /// CSeq; nothing else.
    pub fn for_response(&self) -> Head {
        Head {
            via: self.via.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            call_id: self.call_id.clone(),
            cseq: self.cseq.clone(),
            max_forwards: None,
            contact: Contacts::default(),
            headers: Headers::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(lines: &[(&str, &str)]) -> Result<Head, SipError> {
        let mut b = HeadBuilder::default();
        for (n, v) in lines {
            b.add(HeaderName::parse(n).expect("valid"), v)?;
        }
        b.finish()
    }

    const MINIMAL: [(&str, &str); 5] = [
        ("v", "SIP/2.0/UDP h;branch=z9hG4bK1, SIP/2.0/TCP g"),
        ("f", "<sip:a@b>;tag=1"),
        ("t", "sip:c@d"),
        ("i", "x@y"),
        ("CSeq", "1 OPTIONS"),
    ];

    #[test]
    fn mandatory_fields_typed() {
        let h = build(&MINIMAL).expect("valid");
        assert_eq!(h.via.len(), 2);
        assert_eq!(h.from.tag().as_deref(), Some("1"));
        assert_eq!(h.call_id, "x@y");
        let mut out = String::new();
        h.print(&mut out, 0);
        assert!(out.starts_with("Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\nVia: SIP/2.0/TCP g\r\n"));
        assert!(out.ends_with("CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"));
    }

    #[test]
    fn missing_duplicate_and_bad_fields() {
        assert_eq!(build(&MINIMAL[1..]), Err(SipError::MissingHeader("Via")));
        assert_eq!(build(&MINIMAL[..4]), Err(SipError::MissingHeader("CSeq")));
        let mut twice = MINIMAL.to_vec();
        twice.push(("Call-ID", "z"));
        assert_eq!(build(&twice), Err(SipError::DuplicateHeader("Call-ID")));
        let mut mf = MINIMAL.to_vec();
        mf.push(("Max-Forwards", "300"));
        assert!(build(&mf).is_err());
        assert!(parse_call_id("a b").is_err() && parse_call_id("a@b@c").is_err());
    }
}
