//! `name-addr / addr-spec` with header parameters (RFC 3261 §20.10, §20.20, §20.39, §25.1):
//! the value of From, To, Contact, Route, Record-Route.
//!
//! Without angle brackets the URI ends at the first `;` — what follows are header parameters
//! (RFC 4475 `cparam01`) — and a URI that holds `,`, `;` or `?` must be bracketed (§20,
//! RFC 4475 `regbadct`). The display name is a quoted string or tokens (`baddn`), `<` follows
//! it directly or after white space (`lwsdisp`) and the URI has no white space inside the
//! brackets (`badaspec`).

use std::fmt;

use super::error::SipError;
use super::lex;
use super::params::Params;
use super::uri::Uri;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name as received: a quoted string with its quotes, or tokens joined by one
    /// space.
    pub display: Option<String>,
    pub uri: Uri,
    /// Whether the URI was (and will be printed) in `<...>`.
    pub angle: bool,
    pub params: Params,
}

impl NameAddr {
    /// A bracketed address without display name or parameters.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display: None,
            uri,
            angle: true,
            params: Params::default(),
        }
    }

    pub fn parse(s: &str, header: &'static str) -> Result<NameAddr, SipError> {
        let bad = |reason| SipError::BadHeader { header, reason };
        let s = lex::trim_ws(s);
        let (display, rest) = if s.starts_with('"') {
            let len = lex::quoted_len(s).ok_or(bad("unterminated quoted string"))?;
            let rest = lex::trim_ws(&s[len..]);
            if !rest.starts_with('<') {
                return Err(bad("display name without <URI>"));
            }
            (Some(s[..len].to_owned()), rest)
        } else if let Some(lt) = s.find('<') {
            let words: Vec<&str> = s[..lt]
                .split([' ', '\t'])
                .filter(|w| !w.is_empty())
                .collect();
            if !words.iter().all(|w| lex::is_token(w)) {
                return Err(bad("display name is neither tokens nor quoted"));
            }
            let display = (!words.is_empty()).then(|| words.join(" "));
            (display, &s[lt..])
        } else {
            return Self::parse_addr_spec(s, header);
        };
        let gt = rest.find('>').ok_or(bad("unterminated <URI>"))?;
        let uri = Uri::parse(&rest[1..gt]).map_err(bad)?;
        let params = Params::parse(&rest[gt + 1..], header)?;
        Ok(NameAddr {
            display,
            uri,
            angle: true,
            params,
        })
    }

    fn parse_addr_spec(s: &str, header: &'static str) -> Result<NameAddr, SipError> {
        let bad = |reason| SipError::BadHeader { header, reason };
        let end = s.find(';').unwrap_or(s.len());
        let uri = lex::trim_ws(&s[..end]);
        if uri.contains(['?', ',', '>', '"']) {
            return Err(bad("a URI with '?' or ',' must be in <>"));
        }
        Ok(NameAddr {
            display: None,
            uri: Uri::parse(uri).map_err(bad)?,
            angle: false,
            params: Params::parse(&s[end..], header)?,
        })
    }

    /// The `tag` parameter (From, To).
    pub fn tag(&self) -> Option<String> {
        self.params.value("tag")
    }

    /// The `expires` contact parameter in seconds; values past 32 bits saturate (RFC 4475
    /// `scalar02`: treat as the registrar's maximum, not as an error).
    pub fn expires(&self) -> Option<u32> {
        let v = self.params.value("expires")?;
        let n = lex::digits_saturating(&v)?;
        Some(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// The `q` contact parameter as received.
    pub fn q(&self) -> Option<String> {
        self.params.value("q")
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            write!(f, "{d} ")?;
        }
        if self.angle || self.display.is_some() {
            write!(f, "<{}>", self.uri)?;
        } else {
            write!(f, "{}", self.uri)?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> NameAddr {
        NameAddr::parse(s, "To").unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn forms_of_name_addr() {
        let a = ok(r#""J Rosenberg \\\""       <sip:jdrosen@example.com> ; tag = 98asjd8"#);
        assert_eq!(a.display.as_deref(), Some(r#""J Rosenberg \\\"""#));
        assert_eq!(a.tag().as_deref(), Some("98asjd8"));
        let b = ok("caller<sip:caller@example.com>;tag=323");
        assert_eq!(b.display.as_deref(), Some("caller"));
        assert_eq!(b.to_string(), "caller <sip:caller@example.com>;tag=323");
        let c = ok("token1~` token2'+_ token3*%!.- <sip:mundane@example.com>");
        assert_eq!(c.display.as_deref(), Some("token1~` token2'+_ token3*%!.-"));
    }

    #[test]
    fn addr_spec_params_belong_to_the_header() {
        let a = ok("sip:+19725552222@gw1.example.net;unknownparam");
        assert!(!a.angle && a.params.contains("unknownparam"));
        assert!(a.uri.as_sip().expect("valid").params.is_empty());
        assert_eq!(
            a.to_string(),
            "sip:+19725552222@gw1.example.net;unknownparam"
        );
        let b = ok("<sip:+19725552222@gw1.example.net;unknownparam>");
        assert!(b.params.is_empty());
        assert_eq!(
            b.uri.as_sip().expect("valid").param("unknownparam"),
            Some(None)
        );
    }

    #[test]
    fn contact_expires_and_q() {
        let a = ok("<sip:u@h>;expires=280297596632815;q=0.33");
        assert_eq!(a.expires(), Some(u32::MAX));
        assert_eq!(a.q().as_deref(), Some("0.33"));
    }

    #[test]
    fn rfc_4475_invalid_forms() {
        for bad in [
            r#""Mr. J. User <sip:j.user@example.com>"#,
            "Bell, Alexander <sip:a.g.bell@example.com>;tag=43",
            r#""Watson, Thomas" < sip:t.watson@example.org >"#,
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            r#""Joe" <sip:joe@example.org>;;;;"#,
            "<sip:a@b",
            r#""x" sip:a@b"#,
        ] {
            assert!(NameAddr::parse(bad, "To").is_err(), "{bad}");
        }
    }
}
