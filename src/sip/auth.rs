//! `Authorization`, `WWW-Authenticate`, `Proxy-Authenticate`, `Proxy-Authorization` (RFC 3261
//! §20.7, §20.44, §25.1; RFC 8760): a scheme and comma-separated `name=value` parameters. The
//! scheme is kept whatever it is — the registrar answers an unknown one with a Digest challenge
//! (RFC 4475 `regaut01`).

use std::fmt;

use super::error::SipError;
use super::lex;

/// Credentials or a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Auth {
    /// `Digest` or any other token.
    pub scheme: String,
    pub params: Vec<AuthParam>,
}

/// One `name=value`; `value` is raw (quotes kept), so the `response` is checked against
/// exactly what the phone sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParam {
    pub name: String,
    pub value: String,
}

impl Auth {
    pub fn parse(s: &str, header: &'static str) -> Result<Auth, SipError> {
        let bad = |reason| SipError::BadHeader { header, reason };
        let s = lex::trim_ws(s);
        let (scheme, rest) = s.split_once([' ', '\t']).ok_or(bad("no parameters"))?;
        if !lex::is_token(scheme) {
            return Err(bad("bad scheme"));
        }
        let pieces = lex::split_list(rest).ok_or(bad("bad parameter list"))?;
        let mut params = Vec::with_capacity(pieces.len());
        for piece in pieces {
            let (name, value) = piece
                .split_once('=')
                .ok_or(bad("parameter without value"))?;
            let (name, value) = (lex::trim_ws(name), lex::trim_ws(value));
            if !lex::is_token(name) || !(lex::is_token(value) || lex::is_quoted_string(value)) {
                return Err(bad("bad parameter"));
            }
            params.push(AuthParam {
                name: name.to_owned(),
                value: value.to_owned(),
            });
        }
        Ok(Auth {
            scheme: scheme.to_owned(),
            params,
        })
    }

    /// A `Digest` challenge or credentials to fill with [`Auth::push`].
    pub fn digest() -> Auth {
        Auth {
            scheme: "Digest".to_owned(),
            params: Vec::new(),
        }
    }

    /// Appends `name=value`, quoting the value when `quoted` (realm, nonce, opaque, qop in
    /// challenges) or else requiring it to be a token (algorithm, stale).
    pub fn push(&mut self, name: &str, value: &str, quoted: bool) {
        let value = if quoted || !lex::is_token(value) {
            lex::quote(value)
        } else {
            value.to_owned()
        };
        self.params.push(AuthParam {
            name: name.to_owned(),
            value,
        });
    }

    pub fn is_digest(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("Digest")
    }

    /// The value of parameter `name` (case-insensitive) with quotes removed.
    pub fn get(&self, name: &str) -> Option<String> {
        let p = self
            .params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))?;
        Some(lex::unquote(&p.value))
    }
}

impl fmt::Display for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.scheme)?;
        for (i, p) in self.params.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{}={}", p.name, p.value)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_credentials() {
        let a = Auth::parse(
            r#"Digest username="bob", realm="biloxi.com",nonce="dcd9,8b7102dd2f0e8b11d0f600bfb0c093", uri="sip:bob@biloxi.com", qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae49393a05397450978507c4ef1", algorithm=SHA-256"#,
            "Authorization",
        )
        .expect("valid");
        assert!(a.is_digest());
        assert_eq!(
            a.get("NONCE").as_deref(),
            Some("dcd9,8b7102dd2f0e8b11d0f600bfb0c093")
        );
        assert_eq!(a.get("nc").as_deref(), Some("00000001"));
        assert_eq!(a.get("algorithm").as_deref(), Some("SHA-256"));
        assert_eq!(
            Auth::parse(&a.to_string(), "Authorization").expect("valid"),
            a
        );
    }

    #[test]
    fn unknown_scheme_parses_rfc_4475_regaut01() {
        let a =
            Auth::parse("NoOneKnowsThisScheme opaque-data=here", "Authorization").expect("valid");
        assert!(!a.is_digest());
        assert_eq!(a.get("opaque-data").as_deref(), Some("here"));
    }

    #[test]
    fn challenge_is_built_and_printed() {
        let mut c = Auth::digest();
        c.push("realm", "zentrale", true);
        c.push("nonce", "abc", true);
        c.push("algorithm", "MD5", false);
        c.push("stale", "true", false);
        assert_eq!(
            c.to_string(),
            r#"Digest realm="zentrale", nonce="abc", algorithm=MD5, stale=true"#
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "Digest",
            "Digest realm",
            "Digest a=b,,c=d",
            "Digest a=\"x",
            "Dig@st a=b",
        ] {
            assert!(Auth::parse(bad, "Authorization").is_err(), "{bad}");
        }
    }
}
