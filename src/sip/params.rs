//! Header parameters, `*( SEMI generic-param )` (§25.1), kept as received: names keep their
//! case, values keep their quotes, so a Contact stored by the registrar prints back exactly
//! (RFC 4475 `cparam01`).

use std::fmt;

use super::error::SipError;
use super::lex;

/// One `name[=value]`; `value` is raw (a token, a host or a quoted string with its quotes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    pub name: String,
    pub value: Option<String>,
}

/// The parameters after a header value, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Params(pub Vec<Param>);

impl Params {
    /// Parses `;a=1;b;c="x"` (leading `;` included, white space around `;` and `=` allowed).
    /// `header` names the header in the error.
    pub fn parse(s: &str, header: &'static str) -> Result<Params, SipError> {
        let bad = |reason| SipError::BadHeader { header, reason };
        let s = lex::trim_ws(s);
        if s.is_empty() {
            return Ok(Params::default());
        }
        let rest = s.strip_prefix(';').ok_or(bad("text after the value"))?;
        let pieces = lex::split_outside(rest, b';').ok_or(bad("unbalanced quote"))?;
        let mut params = Vec::with_capacity(pieces.len());
        for piece in pieces {
            params.push(Param::parse(piece).ok_or(bad("bad parameter"))?);
        }
        Ok(Params(params))
    }

    /// The raw value of the first parameter called `name` (case-insensitive): `Some(None)` for a
    /// parameter without value (`;lr`, `;rport`).
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        let p = self.0.iter().find(|p| p.name.eq_ignore_ascii_case(name))?;
        Some(p.value.as_deref())
    }

    /// The value of `name` with quotes removed, if it has one.
    pub fn value(&self, name: &str) -> Option<String> {
        self.get(name).flatten().map(lex::unquote)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Sets `name` (replacing the first one present, else appending). The value must be a token,
    /// a host or a quoted string; the caller builds it (`lex::quote` for free text).
    pub fn set(&mut self, name: &str, value: Option<String>) {
        match self
            .0
            .iter_mut()
            .find(|p| p.name.eq_ignore_ascii_case(name))
        {
            Some(p) => p.value = value,
            None => self.0.push(Param {
                name: name.to_owned(),
                value,
            }),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|p| !p.name.eq_ignore_ascii_case(name));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Param {
    fn parse(piece: &str) -> Option<Param> {
        let (name, value) = match piece.split_once('=') {
            Some((n, v)) => (lex::trim_ws(n), Some(lex::trim_ws(v))),
            None => (piece, None),
        };
        if !lex::is_token(name) {
            return None;
        }
        if let Some(v) = value {
            // An IPv6 `received` is written without brackets (RFC 3261 §25.1, RFC 5118 §4.5).
            let ipv6 = v.parse::<std::net::Ipv6Addr>().is_ok();
            let ok = lex::is_token(v) || lex::is_host(v) || lex::is_quoted_string(v) || ipv6;
            if !ok {
                return None;
            }
        }
        Some(Param {
            name: name.to_owned(),
            value: value.map(str::to_owned),
        })
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            match &p.value {
                Some(v) => write!(f, ";{}={v}", p.name)?,
                None => write!(f, ";{}", p.name)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_with_white_space_and_quotes() {
        let p = Params::parse(" ;   tag    = 1918181833n ; newparam = \"a;b\" ;lr", "To")
            .expect("valid");
        assert_eq!(p.get("TAG"), Some(Some("1918181833n")));
        assert_eq!(p.value("newparam").as_deref(), Some("a;b"));
        assert_eq!(p.get("lr"), Some(None));
        assert_eq!(p.to_string(), ";tag=1918181833n;newparam=\"a;b\";lr");
    }

    #[test]
    fn rejects_empty_and_garbage() {
        for bad in [";;", "; ;", ";a=", ";=b", "x;a", ";a=b c", ";a=\"open"] {
            assert!(Params::parse(bad, "Via").is_err(), "{bad}");
        }
    }

    #[test]
    fn set_replaces_or_appends() {
        let mut p = Params::parse(";rport;branch=z9hG4bKx", "Via").expect("valid");
        p.set("rport", Some("5070".into()));
        p.set("received", Some("192.0.2.1".into()));
        assert_eq!(
            p.to_string(),
            ";rport=5070;branch=z9hG4bKx;received=192.0.2.1"
        );
        p.remove("RPORT");
        assert!(!p.contains("rport"));
    }
}
