//! `Via` (RFC 3261 §20.42, §18.2.1; RFC 3581 `rport`): one hop of the path a response retraces.

use std::fmt;

use super::error::SipError;
use super::lex;
use super::params::Params;

/// RFC 3261 §8.1.1.7: a branch starting with this was made by an RFC 3261 element.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, `TLS`, … as received.
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    /// Parses one via-parm: `SIP / 2.0 / UDP host[:port] *(;param)`, white space allowed around
    /// `/` and `:` (RFC 4475 `wsinv`).
    pub fn parse(s: &str) -> Result<Via, SipError> {
        let bad = |reason| SipError::BadHeader {
            header: "Via",
            reason,
        };
        let mut parts = s.splitn(3, '/');
        let (name, version) = (parts.next().unwrap_or_default(), parts.next());
        let rest = lex::trim_ws(parts.next().ok_or(bad("no sent-protocol"))?);
        let version = version.map(lex::trim_ws).unwrap_or_default();
        if !lex::trim_ws(name).eq_ignore_ascii_case("SIP") || version != "2.0" {
            return Err(bad("not SIP/2.0"));
        }
        let transport_end = rest.find(|c: char| !lex::is_token_char(c as u8) || !c.is_ascii());
        let transport_end = transport_end.ok_or(bad("no sent-by"))?;
        let (transport, rest) = rest.split_at(transport_end);
        if transport.is_empty() || !rest.starts_with([' ', '\t']) {
            return Err(bad("bad transport"));
        }
        let end = rest.find(';').unwrap_or(rest.len());
        let (host, port) = parse_sent_by(&rest[..end]).ok_or(bad("bad sent-by"))?;
        Ok(Via {
            transport: transport.to_owned(),
            host: host.to_owned(),
            port,
            params: Params::parse(&rest[end..], "Via")?,
        })
    }

    pub fn branch(&self) -> Option<String> {
        self.params.value("branch")
    }

    /// Whether the branch has the RFC 3261 magic cookie and something after it (RFC 4475
    /// `badbranch` has only the cookie).
    pub fn has_rfc3261_branch(&self) -> bool {
        self.branch()
            .is_some_and(|b| b.len() > MAGIC_COOKIE.len() && b.starts_with(MAGIC_COOKIE))
    }

    pub fn received(&self) -> Option<String> {
        self.params.value("received")
    }

    /// `rport`: `Some(None)` when the client asked for it (no value), `Some(Some(port))` once
    /// a server filled it in (RFC 3581 §4).
    pub fn rport(&self) -> Option<Option<u16>> {
        let v = self.params.get("rport")?;
        Some(v.and_then(|v| v.parse().ok()))
    }

    /// `host[:port]` as a server compares it in transaction matching (§17.2.3).
    pub fn sent_by(&self) -> String {
        let host = self.host.to_ascii_lowercase();
        match self.port {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }

    /// Records where the request really came from (§18.2.1, RFC 3581 §4).
    pub fn set_received(&mut self, ip: std::net::IpAddr, port: u16) {
        // Without brackets for IPv6 (RFC 5118 §4.5).
        self.params.set("received", Some(ip.to_string()));
        if self.params.contains("rport") {
            self.params.set("rport", Some(port.to_string()));
        }
    }
}

fn parse_sent_by(s: &str) -> Option<(&str, Option<u16>)> {
    let s = lex::trim_ws(s);
    let (host, port) = match s.rfind(':') {
        Some(i) if !s[i..].contains(']') => {
            (lex::trim_ws(&s[..i]), Some(lex::trim_ws(&s[i + 1..])))
        }
        _ => (s, None),
    };
    if !lex::is_host(host) {
        return None;
    }
    let port = match port {
        Some(p) if p.len() <= 5 => Some(u16::try_from(lex::digits_saturating(p)?).ok()?),
        Some(_) => return None,
        None => None,
    };
    Some((host, port))
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn white_space_everywhere_rfc_4475_wsinv() {
        let v = Via::parse("SIP  /   2.0 /UDP    192.0.2.2;branch=390skdjuw").expect("valid");
        assert_eq!(
            (v.transport.as_str(), v.host.as_str()),
            ("UDP", "192.0.2.2")
        );
        assert_eq!(v.branch().as_deref(), Some("390skdjuw"));
        assert!(!v.has_rfc3261_branch());
        let w =
            Via::parse("SIP / 2.0 / TCP spindle.example.com : 5070  ;  branch  =   z9hG4bK9ikj8");
        let w = w.expect("valid");
        assert_eq!(
            (w.port, w.sent_by().as_str()),
            (Some(5070), "spindle.example.com:5070")
        );
        assert!(w.has_rfc3261_branch());
    }

    #[test]
    fn rport_and_received() {
        let mut v6 = Via::parse("SIP/2.0/UDP [2001:db8::9]:5060;branch=z9hG4bKb").expect("valid");
        v6.set_received("2001:db8::9:255".parse().expect("valid"), 5060);
        assert_eq!(v6.received().as_deref(), Some("2001:db8::9:255"));
        assert_eq!(v6.rport(), None, "rport only when asked for");
        assert_eq!(Via::parse(&v6.to_string()).as_ref(), Ok(&v6));
        let mut v =
            Via::parse("SIP/2.0/UDP [2001:db8::9]:5060;rport;branch=z9hG4bKa").expect("valid");
        assert_eq!(v.rport(), Some(None));
        v.set_received("192.0.2.7".parse().expect("valid"), 40000);
        assert_eq!(v.rport(), Some(Some(40000)));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP [2001:db8::9]:5060;rport=40000;branch=z9hG4bKa;received=192.0.2.7"
        );
        assert_eq!(Via::parse(&v.to_string()).expect("valid"), v);
    }

    #[test]
    fn refuses_bad_vias() {
        for bad in [
            "SIP/2.0/UDP 192.0.2.15;;",
            "SIP/7.0/UDP c.example.com",
            "SIP/2.0/UDP",
            "SIP/2.0/UDP host:99999",
            "SIP/2.0 host",
            "SIP/2.0/UDPhost",
        ] {
            assert!(Via::parse(bad).is_err(), "{bad}");
        }
        assert!(
            Via::parse("SIP/2.0/UDP 192.0.2.5")
                .expect("valid")
                .branch()
                .is_none()
        );
    }
}
