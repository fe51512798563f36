//! Header field names (RFC 3261 §7.3, §20): case-insensitive, with the compact forms of §7.3.3
//! (`v` is Via, `l` Content-Length, …) mapped to the full name so the rest of the code never
//! sees them. Unknown names are kept as received (`C%6Fntact` is not Contact, RFC 4475 `esc02`).

use std::borrow::Cow;
use std::fmt;

use super::lex;

/// A header field name: a known one in its canonical spelling, or an extension as received.
#[derive(Debug, Clone, Eq)]
pub struct HeaderName(Cow<'static, str>);

/// Canonical spelling and compact form (RFC 3261 §7.3.3, RFC 3265, RFC 3515, RFC 4028).
const KNOWN: &[(&str, Option<&str>)] = &[
    ("Accept", None),
    ("Accept-Encoding", None),
    ("Accept-Language", None),
    ("Alert-Info", None),
    ("Allow", None),
    ("Allow-Events", Some("u")),
    ("Authentication-Info", None),
    ("Authorization", None),
    ("Call-ID", Some("i")),
    ("Call-Info", None),
    ("Contact", Some("m")),
    ("Content-Disposition", None),
    ("Content-Encoding", Some("e")),
    ("Content-Language", None),
    ("Content-Length", Some("l")),
    ("Content-Type", Some("c")),
    ("CSeq", None),
    ("Date", None),
    ("Error-Info", None),
    ("Event", Some("o")),
    ("Expires", None),
    ("From", Some("f")),
    ("In-Reply-To", None),
    ("Max-Forwards", None),
    ("MIME-Version", None),
    ("Min-Expires", None),
    ("Organization", None),
    ("Path", None),
    ("Priority", None),
    ("Proxy-Authenticate", None),
    ("Proxy-Authorization", None),
    ("Proxy-Require", None),
    ("Reason", None),
    ("Record-Route", None),
    ("Refer-To", Some("r")),
    ("Referred-By", Some("b")),
    ("Reply-To", None),
    ("Require", None),
    ("Retry-After", None),
    ("Route", None),
    ("Server", None),
    ("Session-Expires", Some("x")),
    ("Subject", Some("s")),
    ("Subscription-State", None),
    ("Supported", Some("k")),
    ("Timestamp", None),
    ("To", Some("t")),
    ("Unsupported", None),
    ("User-Agent", None),
    ("Via", Some("v")),
    ("Warning", None),
    ("WWW-Authenticate", None),
];

macro_rules! names {
    ($($konst:ident = $name:literal),* $(,)?) => {
        impl HeaderName {
            $(pub const $konst: HeaderName = HeaderName(Cow::Borrowed($name));)*
        }
    };
}

names! {
    ACCEPT = "Accept", ALLOW = "Allow", ALLOW_EVENTS = "Allow-Events",
    AUTHORIZATION = "Authorization", CALL_ID = "Call-ID", CONTACT = "Contact",
    CONTENT_LENGTH = "Content-Length", CONTENT_TYPE = "Content-Type", CSEQ = "CSeq",
    DATE = "Date", EVENT = "Event", EXPIRES = "Expires", FROM = "From",
    MAX_FORWARDS = "Max-Forwards", MIN_EXPIRES = "Min-Expires",
    PROXY_AUTHENTICATE = "Proxy-Authenticate", PROXY_AUTHORIZATION = "Proxy-Authorization",
    PROXY_REQUIRE = "Proxy-Require", REASON = "Reason", RECORD_ROUTE = "Record-Route",
    REQUIRE = "Require",
    RETRY_AFTER = "Retry-After", ROUTE = "Route", SERVER = "Server",
    SUBSCRIPTION_STATE = "Subscription-State", SUPPORTED = "Supported", TO = "To",
    UNSUPPORTED = "Unsupported", USER_AGENT = "User-Agent", VIA = "Via", WARNING = "Warning",
    WWW_AUTHENTICATE = "WWW-Authenticate",
}

impl HeaderName {
    /// The name for a received field name; `None` unless it is a token.
    pub fn parse(s: &str) -> Option<HeaderName> {
        if !lex::is_token(s) {
            return None;
        }
        let known = KNOWN.iter().find(|(full, compact)| {
            full.eq_ignore_ascii_case(s) || compact.is_some_and(|c| c.eq_ignore_ascii_case(s))
        });
        Some(match known {
            Some((full, _)) => HeaderName(Cow::Borrowed(full)),
            None => HeaderName(Cow::Owned(s.to_owned())),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name for error messages: the canonical one, or "extension" for unknown names (an
    /// error text never carries the peer's bytes).
    pub fn static_name(&self) -> &'static str {
        match &self.0 {
            Cow::Borrowed(s) => s,
            Cow::Owned(_) => "extension",
        }
    }
}

impl PartialEq for HeaderName {
    fn eq(&self, other: &HeaderName) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }
}

impl fmt::Display for HeaderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_and_case_insensitive() {
        assert_eq!(HeaderName::parse("v").expect("valid"), HeaderName::VIA);
        assert_eq!(
            HeaderName::parse("MaX-fOrWaRdS").expect("valid").as_str(),
            "Max-Forwards"
        );
        assert_eq!(
            HeaderName::parse("l").expect("valid"),
            HeaderName::CONTENT_LENGTH
        );
        assert_eq!(
            HeaderName::parse("i").expect("valid").static_name(),
            "Call-ID"
        );
        let ext = HeaderName::parse("C%6Fntact").expect("valid");
        assert_ne!(ext, HeaderName::CONTACT);
        assert_eq!(
            (ext.as_str(), ext.static_name()),
            ("C%6Fntact", "extension")
        );
        assert_eq!(
            HeaderName::parse("x-foo").expect("valid"),
            HeaderName::parse("X-FOO").expect("valid")
        );
        assert!(HeaderName::parse("bad name").is_none() && HeaderName::parse("").is_none());
    }

    #[test]
    fn every_known_name_parses_to_itself() {
        for (full, compact) in KNOWN {
            assert_eq!(HeaderName::parse(full).expect("valid").as_str(), *full);
            if let Some(c) = compact {
                assert_eq!(HeaderName::parse(c).expect("valid").as_str(), *full);
            }
        }
    }
}
