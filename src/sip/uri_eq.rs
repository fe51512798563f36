//! SIP URI equality (RFC 3261 §19.1.4), what a registrar compares Contacts with (§10.3 step 7).

use super::lex;
use super::uri::SipUri;

impl SipUri {
    /// URI equality (RFC 3261 §19.1.4), what a registrar compares Contacts with (§10.3 step
    /// 7): user and password case-sensitive, everything else case-insensitive, all after
    /// unescaping; no port is not port 5060; `user`, `ttl`, `method`, `maddr` and `transport`
    /// must agree, other parameters only where both have them; headers must all agree.
    pub fn matches(&self, other: &SipUri) -> bool {
        let password = |u: &SipUri| u.password.as_deref().map(lex::unescape);
        let same_base = self.secure == other.secure
            && self.user_octets() == other.user_octets()
            && password(self) == password(other)
            && self.host.eq_ignore_ascii_case(&other.host)
            && self.port == other.port;
        if !same_base {
            return false;
        }
        let (a, b) = (self.folded_params(), other.folded_params());
        let find =
            |p: &[Folded], name: &[u8]| p.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        let special_ok = SPECIAL
            .iter()
            .all(|name| find(&a, name.as_bytes()) == find(&b, name.as_bytes()));
        let common_ok = a.iter().all(|(n, v)| find(&b, n).is_none_or(|w| w == *v));
        special_ok && common_ok && self.folded_headers() == other.folded_headers()
    }

    /// A canonical string for the equality of [`SipUri::matches`], made transitive so it can key
    /// a table (the registrar's bindings): scheme, user and password unescaped and re-escaped
    /// uniformly, host in lower case, port, the parameters `user`, `ttl`, `method`, `maddr` and
    /// `transport`, and the headers, sorted. Other parameters are left out, so URIs that differ
    /// only in one both carry (`;security=on` and `;security=off`) share a key where §19.1.4
    /// calls them different — for a phone's Contacts the useful answer.
    pub fn comparison_key(&self) -> String {
        let mut key = String::from(if self.secure { "sips:" } else { "sip:" });
        if let Some(user) = self.user_octets() {
            key.push_str(&escape(&user));
            if let Some(pw) = &self.password {
                key.push(':');
                key.push_str(&escape(&lex::unescape(pw)));
            }
            key.push('@');
        }
        key.push_str(&self.host.to_ascii_lowercase());
        if let Some(port) = self.port {
            key.push_str(&format!(":{port}"));
        }
        let mut special: Vec<Folded> = self
            .folded_params()
            .into_iter()
            .filter(|(n, _)| SPECIAL.iter().any(|s| s.as_bytes() == n.as_slice()))
            .collect();
        special.sort();
        for (name, value) in special {
            key.push(';');
            key.push_str(&escape(&name));
            if let Some(v) = value {
                key.push('=');
                key.push_str(&escape(&v));
            }
        }
        for (i, (name, value)) in self.folded_headers().into_iter().enumerate() {
            key.push(if i == 0 { '?' } else { '&' });
            key.push_str(&escape(&name));
            key.push('=');
            key.push_str(&escape(&value.unwrap_or_default()));
        }
        key
    }

    fn folded_params(&self) -> Vec<Folded> {
        self.params
            .iter()
            .map(|(n, v)| (fold(n), v.as_deref().map(fold)))
            .collect()
    }

    fn folded_headers(&self) -> Vec<Folded> {
        let mut headers: Vec<Folded> = self
            .headers
            .iter()
            .flat_map(|h| h.split('&'))
            .map(|kv| kv.split_once('=').unwrap_or((kv, "")))
            .map(|(n, v)| (fold(n), Some(fold(v))))
            .collect();
        headers.sort();
        headers
    }
}

/// The parameters that must agree when either URI has them (§19.1.4).
const SPECIAL: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];

/// Octets with everything but unreserved characters as `%HH`.
fn escape(octets: &[u8]) -> String {
    let mut out = String::with_capacity(octets.len());
    for &b in octets {
        if lex::is_unreserved(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// A name and value unescaped and in lower case, for comparison.
type Folded = (Vec<u8>, Option<Vec<u8>>);

fn fold(s: &str) -> Vec<u8> {
    lex::unescape(s).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use crate::sip::{SipUri, Uri};

    fn sip(s: &str) -> SipUri {
        match Uri::parse(s) {
            Ok(Uri::Sip(u)) => u,
            other => panic!("{s}: {other:?}"),
        }
    }

    #[test]
    fn equality_per_rfc_3261_section_19_1_4() {
        let same = [
            (
                "sip:%61lice@atlanta.com;transport=TCP",
                "sip:alice@AtLanTa.CoM;Transport=tcp",
            ),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;newparam=5"),
            ("sip:carol@chicago.com", "sip:carol@chicago.com;security=on"),
            (
                "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
                "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com",
            ),
            (
                "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
                "sip:alice@atlanta.com?priority=urgent&subject=project%20x",
            ),
        ];
        for (a, b) in same {
            assert!(
                sip(a).matches(&sip(b)) && sip(b).matches(&sip(a)),
                "{a} = {b}"
            );
            let (ka, kb) = (sip(a).comparison_key(), sip(b).comparison_key());
            let only_other_params = b.contains("newparam") || b.contains("security");
            assert!(ka == kb || only_other_params, "{ka} {kb}");
        }
        let different = [
            (
                "SIP:ALICE@AtLanTa.CoM;Transport=udp",
                "sip:alice@AtLanTa.CoM;Transport=UDP",
            ),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"),
            ("sip:bob@biloxi.com", "sip:bob@biloxi.com;transport=udp"),
            (
                "sip:bob@biloxi.com",
                "sip:bob@biloxi.com:6000;transport=tcp",
            ),
            (
                "sip:carol@chicago.com",
                "sip:carol@chicago.com?Subject=next%20meeting",
            ),
            ("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"),
            (
                "sip:carol@chicago.com;security=on",
                "sip:carol@chicago.com;security=off",
            ),
            ("sip:a@b", "sips:a@b"),
        ];
        for (a, b) in different {
            assert!(
                !sip(a).matches(&sip(b)) && !sip(b).matches(&sip(a)),
                "{a} != {b}"
            );
            if !a.contains("security") {
                assert_ne!(sip(a).comparison_key(), sip(b).comparison_key());
            }
        }
    }

    #[test]
    fn comparison_keys() {
        let key = |s: &str| sip(s).comparison_key();
        assert_eq!(
            key("SIP:%61lice@AtLanTa.CoM:5070;Transport=TCP;lr;q=x?B=2&a=1"),
            "sip:alice@atlanta.com:5070;transport=tcp?a=1&b=2"
        );
        assert_eq!(key("sip:null-%00@h"), "sip:null-%00@h");
        assert_eq!(
            key("sip:carol@chicago.com;newparam=5"),
            key("sip:carol@chicago.com")
        );
    }
}
