//! URIs (RFC 3261 §19.1, §25.1): SIP and SIPS URIs parsed into their parts, `tel` and every other
//! absoluteURI kept opaque (a registrar answers 416 or 400 on them, RFC 4475 `unkscm`, `unksm2`).
//!
//! The parts keep their escapes exactly as received (`sip:cal%6Cer@…`), so a stored Contact prints
//! back byte for byte (RFC 4475 `regescrt`); [`lex::unescape`] gives the octets for comparison.

use std::fmt;

use super::lex;

/// A Request-URI or the URI inside a name-addr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uri {
    Sip(SipUri),
    /// `tel:` and what follows (RFC 3966), not interpreted here.
    Tel(String),
    /// Any other scheme, e.g. `http://www.example.com` in a From (RFC 4475 `unksm2`).
    Other {
        scheme: String,
        rest: String,
    },
}

/// `sip:` or `sips:` URI. Every text part is as received, escapes included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipUri {
    pub secure: bool,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: String,
    pub port: Option<u16>,
    /// uri-parameters `;name[=value]`, raw.
    pub params: Vec<(String, Option<String>)>,
    /// The headers part after `?`, raw (`Route=%3Csip:sip.example.com%3E`).
    pub headers: Option<String>,
}

fn is_user_char(b: u8) -> bool {
    lex::is_unreserved(b) || b"&=+$,;?/".contains(&b)
}

fn is_password_char(b: u8) -> bool {
    lex::is_unreserved(b) || b"&=+$,".contains(&b)
}

fn is_param_char(b: u8) -> bool {
    lex::is_unreserved(b) || b"[]/:&+$".contains(&b)
}

fn is_header_char(b: u8) -> bool {
    lex::is_unreserved(b) || b"[]/?:+$".contains(&b)
}

fn is_uric(b: u8) -> bool {
    lex::is_unreserved(b) || b";/?:@&=+$,".contains(&b)
}

impl Uri {
    /// Parses a whole URI; the error says which part is wrong.
    pub fn parse(s: &str) -> Result<Uri, &'static str> {
        let (scheme, rest) = s.split_once(':').ok_or("no scheme")?;
        let scheme_ok = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        if !scheme_ok {
            return Err("bad scheme");
        }
        if scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips") {
            let secure = scheme.len() == 4;
            return SipUri::parse_rest(rest, secure).map(Uri::Sip);
        }
        if rest.is_empty() || !lex::is_escaped_with(rest, is_uric) {
            return Err("bad characters");
        }
        if scheme.eq_ignore_ascii_case("tel") {
            return Ok(Uri::Tel(rest.to_owned()));
        }
        Ok(Uri::Other {
            scheme: scheme.to_owned(),
            rest: rest.to_owned(),
        })
    }

    pub fn as_sip(&self) -> Option<&SipUri> {
        match self {
            Uri::Sip(u) => Some(u),
            _ => None,
        }
    }

    /// Whether this is a `sip:` or `sips:` URI.
    pub fn is_sip(&self) -> bool {
        self.as_sip().is_some()
    }
}

impl SipUri {
    fn parse_rest(rest: &str, secure: bool) -> Result<SipUri, &'static str> {
        let (userinfo, hostpart) = match rest.split_once('@') {
            Some((ui, hp)) => (Some(ui), hp),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => {
                let (u, p) = match ui.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (ui, None),
                };
                if u.is_empty() || !lex::is_escaped_with(u, is_user_char) {
                    return Err("bad user");
                }
                if p.is_some_and(|p| !lex::is_escaped_with(p, is_password_char)) {
                    return Err("bad password");
                }
                (Some(u.to_owned()), p.map(str::to_owned))
            }
        };
        let (before_headers, headers) = match hostpart.split_once('?') {
            Some((b, h)) => (b, Some(h)),
            None => (hostpart, None),
        };
        let mut parts = before_headers.split(';');
        let (host, port) = split_hostport(parts.next().unwrap_or_default())?;
        let mut params = Vec::new();
        for p in parts {
            let (name, value) = match p.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            };
            let ok = |s: &str| !s.is_empty() && lex::is_escaped_with(s, is_param_char);
            if !ok(name) || value.is_some_and(|v| !ok(v)) {
                return Err("bad uri-parameter");
            }
            params.push((name.to_owned(), value.map(str::to_owned)));
        }
        if let Some(h) = headers {
            let header_ok = |kv: &str| {
                kv.split_once('=').is_some_and(|(n, v)| {
                    !n.is_empty()
                        && lex::is_escaped_with(n, is_header_char)
                        && lex::is_escaped_with(v, is_header_char)
                })
            };
            if !h.split('&').all(header_ok) {
                return Err("bad headers part");
            }
        }
        Ok(SipUri {
            secure,
            user,
            password,
            host: host.to_owned(),
            port,
            params,
            headers: headers.map(str::to_owned),
        })
    }

    /// A URI parameter by name, comparing names after unescaping (`;%6C%72` is `lr`); the value
    /// is raw.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| lex::unescape(n).eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.as_deref())
    }

    /// The user part as octets (escapes resolved).
    pub fn user_octets(&self) -> Option<Vec<u8>> {
        self.user.as_deref().map(lex::unescape)
    }
}

fn split_hostport(s: &str) -> Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if s.starts_with('[') {
        let close = s.find(']').ok_or("bad host")?;
        let (host, after) = s.split_at(close + 1);
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or("bad host")?)),
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if !lex::is_host(host) {
        return Err("bad host");
    }
    let port = match port {
        None => None,
        Some(p) => match lex::digits_saturating(p) {
            Some(n) if p.len() <= 5 && n <= u64::from(u16::MAX) => Some(n as u16),
            _ => return Err("bad port"),
        },
    };
    Ok((host, port))
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(u) => u.fmt(f),
            Uri::Tel(rest) => write!(f, "tel:{rest}"),
            Uri::Other { scheme, rest } => write!(f, "{scheme}:{rest}"),
        }
    }
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if let Some(pw) = &self.password {
                write!(f, ":{pw}")?;
            }
            f.write_str("@")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        for (name, value) in &self.params {
            match value {
                Some(v) => write!(f, ";{name}={v}")?,
                None => write!(f, ";{name}")?,
            }
        }
        if let Some(h) = &self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(s: &str) -> SipUri {
        match Uri::parse(s) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn user_password_host_port_params_headers() {
        let u = sip("sips:al%69ce:secret@[2001:db8::1]:5061;transport=tcp;lr?Subject=hi&X=");
        assert!(u.secure);
        assert_eq!(u.user.as_deref(), Some("al%69ce"));
        assert_eq!(u.user_octets().expect("valid"), b"alice");
        assert_eq!(u.password.as_deref(), Some("secret"));
        assert_eq!((u.host.as_str(), u.port), ("[2001:db8::1]", Some(5061)));
        assert_eq!(u.param("LR"), Some(None));
        assert_eq!(u.param("transport"), Some(Some("tcp")));
        assert_eq!(u.headers.as_deref(), Some("Subject=hi&X="));
    }

    #[test]
    fn semicolons_in_the_user_part_belong_to_the_user() {
        let u = sip("sip:user;par=u%40example.net@example.com");
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.host, "example.com");
        assert!(u.params.is_empty());
    }

    #[test]
    fn prints_back_exactly() {
        for s in [
            "sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31",
            "sip:user@example.com?Route=%3Csip:sip.example.com%3E",
            "sip:example.com:5060",
            "tel:+1-201-555-0123;phone-context=example.com",
            "soap.beep://192.0.2.103:3002",
        ] {
            assert_eq!(Uri::parse(s).expect("valid").to_string(), s);
        }
    }

    #[test]
    fn other_schemes_stay_opaque() {
        assert!(matches!(
            Uri::parse("isbn:2983792873"),
            Ok(Uri::Other { .. })
        ));
        assert!(
            !Uri::parse("http://www.example.com")
                .expect("valid")
                .is_sip()
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "<sip:user@example.com>",
            "sip:user@example.com; lr",
            "sip:user@exa mple.com",
            "sip:@example.com",
            "sip:u@h:99999",
            "sip:u@h:",
            "sip:u@h;=x",
            "sip:u@h?noequals",
            "sip:u%4@h",
            "1sip:x",
            "nobody:",
            "x:a b",
        ] {
            assert!(Uri::parse(bad).is_err(), "{bad}");
        }
    }
}
