//! Request methods (RFC 3261 §7.1 and the extensions a PBX meets). Methods are case-sensitive
//! tokens: `RE%47IST%45R` is an unknown method, not REGISTER (RFC 4475 `esc02`).

use std::fmt;

use super::lex;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Subscribe,
    Notify,
    Refer,
    Info,
    Update,
    Prack,
    Message,
    Publish,
    /// An extension method: any other token (RFC 4475 `intmeth`).
    Other(String),
}

const KNOWN: [(Method, &str); 14] = [
    (Method::Invite, "INVITE"),
    (Method::Ack, "ACK"),
    (Method::Bye, "BYE"),
    (Method::Cancel, "CANCEL"),
    (Method::Register, "REGISTER"),
    (Method::Options, "OPTIONS"),
    (Method::Subscribe, "SUBSCRIBE"),
    (Method::Notify, "NOTIFY"),
    (Method::Refer, "REFER"),
    (Method::Info, "INFO"),
    (Method::Update, "UPDATE"),
    (Method::Prack, "PRACK"),
    (Method::Message, "MESSAGE"),
    (Method::Publish, "PUBLISH"),
];

impl Method {
    /// The method for a token; `None` if `s` is not a token.
    pub fn parse(s: &str) -> Option<Method> {
        if !lex::is_token(s) {
            return None;
        }
        let known = KNOWN.iter().find(|(_, name)| *name == s);
        Some(known.map_or_else(|| Method::Other(s.to_owned()), |(m, _)| m.clone()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Other(s) => s,
            known => KNOWN
                .iter()
                .find(|(m, _)| m == known)
                .map_or("", |(_, name)| name),
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_unknown_and_invalid() {
        assert_eq!(Method::parse("INVITE"), Some(Method::Invite));
        assert_eq!(
            Method::parse("invite"),
            Some(Method::Other("invite".into()))
        );
        assert_eq!(
            Method::parse("RE%47IST%45R").expect("valid").as_str(),
            "RE%47IST%45R"
        );
        assert_eq!(Method::parse("A B"), None);
        assert_eq!(Method::parse(""), None);
        for (m, name) in KNOWN {
            assert_eq!(m.as_str(), name);
        }
    }
}
