//! `Event` (RFC 6665 §8.2.1, formerly RFC 3265): the package name and its parameters, e.g.
//! `message-summary` (RFC 3842) or a vendor's `check-sync;reboot=false`.

use std::fmt;

use super::error::SipError;
use super::lex;
use super::params::Params;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `event-package *( "." event-template )`, compared case-sensitively (RFC 6665 §8.2.1).
    pub package: String,
    pub params: Params,
}

impl Event {
    pub fn parse(s: &str) -> Result<Event, SipError> {
        let s = lex::trim_ws(s);
        let end = s.find(';').unwrap_or(s.len());
        let package = lex::trim_ws(&s[..end]);
        if !lex::is_token(package) {
            return Err(SipError::BadHeader {
                header: "Event",
                reason: "bad event type",
            });
        }
        Ok(Event {
            package: package.to_owned(),
            params: Params::parse(&s[end..], "Event")?,
        })
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.package, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let e = Event::parse(" check-sync ; reboot=false").expect("valid");
        assert_eq!(e.package, "check-sync");
        assert_eq!(e.params.get("reboot"), Some(Some("false")));
        assert_eq!(e.to_string(), "check-sync;reboot=false");
        assert!(Event::parse("").is_err() && Event::parse("a b").is_err());
    }
}
