//! `Contact` (RFC 3261 §20.10): a list of addresses, or `*` alone (only in a REGISTER that
//! removes every binding, §10.2.2).

use std::fmt;

use super::error::SipError;
use super::lex;
use super::name_addr::NameAddr;

/// All Contact values of a message (every Contact line, every comma-separated element).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Contacts {
    List(Vec<NameAddr>),
    /// `Contact: *`.
    Star,
}

impl Default for Contacts {
    fn default() -> Contacts {
        Contacts::List(Vec::new())
    }
}

impl Contacts {
    /// Adds the elements of one Contact line.
    pub fn add_line(&mut self, value: &str) -> Result<(), SipError> {
        let bad = |reason| SipError::BadHeader {
            header: "Contact",
            reason,
        };
        let elements = lex::split_list(value).ok_or(bad("empty or unbalanced element"))?;
        for element in elements {
            match (element == "*", &mut *self) {
                (true, Contacts::List(list)) if list.is_empty() => *self = Contacts::Star,
                (true, _) | (false, Contacts::Star) => return Err(bad("'*' with other contacts")),
                (false, Contacts::List(list)) => list.push(NameAddr::parse(element, "Contact")?),
            }
        }
        Ok(())
    }

    /// The addresses; empty for `*`.
    pub fn addresses(&self) -> &[NameAddr] {
        match self {
            Contacts::List(list) => list,
            Contacts::Star => &[],
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, Contacts::List(list) if list.is_empty())
    }
}

impl fmt::Display for Contacts {
    /// All contacts as one header value (`*`, or the elements joined by `, `).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Contacts::Star => f.write_str("*"),
            Contacts::List(list) => {
                for (i, a) in list.iter().enumerate() {
                    write!(f, "{}{a}", if i == 0 { "" } else { ", " })?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_star() {
        let mut c = Contacts::default();
        c.add_line(r#""Mr. Watson" <sip:watson@worcester.example.com>;q=0.7; expires=3600, <sip:w@b.example.com>;q=0.1"#).expect("valid");
        c.add_line("sip:x@y").expect("valid");
        assert_eq!(c.addresses().len(), 3);
        assert_eq!(c.addresses()[0].expires(), Some(3600));
        let mut star = Contacts::default();
        star.add_line(" * ").expect("valid");
        assert_eq!(
            (star.to_string(), star.addresses().len()),
            ("*".to_owned(), 0)
        );
        assert!(star.add_line("<sip:a@b>").is_err());
        assert!(c.add_line("*").is_err());
        assert!(Contacts::default().add_line("<sip:a@b>,").is_err());
    }
}
