//! HTTP authentication of phones (RFC 7616 Digest with MD5, which is what phone firmware
//! speaks, and RFC 7617 Basic for the few that cannot do Digest). Nonces are stateless: a
//! timestamp and its HMAC under a per-process key, valid for [`NONCE_SECS`].

use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::clock::UnixTime;

pub const REALM: &str = "zentrale provisioning";
/// How long a nonce is accepted.
pub const NONCE_SECS: u64 = 300;
const MAX_HEADER: usize = 2048;

/// The outcome of checking an `Authorization` header against one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Right credential, expired nonce: the phone should retry with a fresh one.
    Stale,
    Invalid,
}

/// Issues and checks nonces; one per process.
#[derive(Clone)]
pub struct Authenticator {
    key: [u8; 32],
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator")
    }
}

impl Authenticator {
    pub fn new() -> Authenticator {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Authenticator { key }
    }

    /// The `WWW-Authenticate` value for a Digest challenge at unix time `now`.
    pub fn digest_challenge(&self, now: UnixTime, stale: bool) -> String {
        let stale = if stale { ", stale=true" } else { "" };
        format!(
            "Digest realm=\"{REALM}\", qop=\"auth\", algorithm=MD5, nonce=\"{}\"{stale}",
            self.nonce(now)
        )
    }

    pub fn basic_challenge() -> String {
        format!("Basic realm=\"{REALM}\"")
    }

    fn nonce(&self, now: UnixTime) -> String {
        let ts = format!("{:016x}", now.secs().max(0));
        format!("{ts}{}", self.mac(&ts))
    }

    fn mac(&self, ts: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key size");
        mac.update(ts.as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }

    /// Checks a Digest `Authorization` header for `method` on `path` against `user`/`password`.
    /// The answer must name the requested path, so one captured for another file is void.
    pub fn verify_digest(
        &self,
        header: &str,
        method: &str,
        path: &str,
        user: &str,
        password: &str,
        now: UnixTime,
    ) -> Verdict {
        let Some(p) = parse_digest(header) else {
            return Verdict::Invalid;
        };
        let (Some(nonce), Some(uri), Some(response)) =
            (p.get("nonce"), p.get("uri"), p.get("response"))
        else {
            return Verdict::Invalid;
        };
        let names_path = uri.split('?').next() == Some(path);
        if p.get("username") != Some(user) || p.get("realm") != Some(REALM) || !names_path {
            return Verdict::Invalid;
        }
        let ha1 = md5_hex(&format!("{user}:{REALM}:{password}"));
        let ha2 = md5_hex(&format!("{method}:{uri}"));
        let expected = match (p.get("qop"), p.get("nc"), p.get("cnonce")) {
            (Some("auth"), Some(nc), Some(cnonce)) => {
                md5_hex(&format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"))
            }
            (None, _, _) => md5_hex(&format!("{ha1}:{nonce}:{ha2}")),
            _ => return Verdict::Invalid,
        };
        if !constant_eq(
            expected.as_bytes(),
            response.to_ascii_lowercase().as_bytes(),
        ) {
            return Verdict::Invalid;
        }
        self.nonce_verdict(nonce, now)
    }

    fn nonce_verdict(&self, nonce: &str, now: UnixTime) -> Verdict {
        let now = now.secs().max(0) as u64;
        if nonce.len() != 48 || !nonce.is_ascii() {
            return Verdict::Invalid;
        }
        let (ts, mac) = nonce.split_at(16);
        if !constant_eq(self.mac(ts).as_bytes(), mac.as_bytes()) {
            return Verdict::Invalid;
        }
        match u64::from_str_radix(ts, 16) {
            Ok(t) if t <= now + 5 && now.saturating_sub(t) <= NONCE_SECS => Verdict::Valid,
            Ok(_) => Verdict::Stale,
            Err(_) => Verdict::Invalid,
        }
    }
}

impl Default for Authenticator {
    fn default() -> Self {
        Authenticator::new()
    }
}

/// Checks a Basic `Authorization` header against `user`/`password`.
pub fn verify_basic(header: &str, user: &str, password: &str) -> bool {
    use base64::Engine;
    let Some(b64) = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
    else {
        return false;
    };
    let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64.trim()) else {
        return false;
    };
    constant_eq(&raw, format!("{user}:{password}").as_bytes())
}

/// The parameters of a `Digest k=v, k="v"` header; None when it is not one or is malformed.
fn parse_digest(header: &str) -> Option<Params<'_>> {
    if header.len() > MAX_HEADER {
        return None;
    }
    let (scheme, mut rest) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("digest") {
        return None;
    }
    let mut params = Vec::new();
    loop {
        rest = rest.trim_start_matches([' ', ',']);
        if rest.is_empty() {
            return Some(Params(params));
        }
        let (key, after) = rest.split_once('=')?;
        let (value, tail) = match after.strip_prefix('"') {
            Some(q) => {
                let end = q.find('"')?;
                (&q[..end], &q[end + 1..])
            }
            None => after.split_at(after.find(',').unwrap_or(after.len())),
        };
        params.push((key.trim(), value));
        if params.len() > 16 {
            return None;
        }
        rest = tail;
    }
}

struct Params<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Params<'a> {
    fn get(&self, key: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
    }
}

fn md5_hex(text: &str) -> String {
    hex(&Md5::digest(text.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The client side, as curl and the phones compute it.
    fn answer(challenge: &str, user: &str, pass: &str, uri: &str) -> String {
        let nonce = challenge
            .split("nonce=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .expect("a nonce");
        let ha1 = md5_hex(&format!("{user}:{REALM}:{pass}"));
        let ha2 = md5_hex(&format!("GET:{uri}"));
        let resp = md5_hex(&format!("{ha1}:{nonce}:00000001:abcdef:auth:{ha2}"));
        format!(
            "Digest username=\"{user}\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             qop=auth, nc=00000001, cnonce=\"abcdef\", response=\"{resp}\", algorithm=MD5"
        )
    }

    #[test]
    fn a_right_answer_is_valid_and_a_wrong_password_is_not() {
        let a = Authenticator::new();
        let h = answer(
            &a.digest_challenge(UnixTime::from_secs(1000), false),
            "u1",
            "secret",
            "/prov/x.cfg",
        );
        assert_eq!(
            a.verify_digest(
                &h,
                "GET",
                "/prov/x.cfg",
                "u1",
                "secret",
                UnixTime::from_secs(1010)
            ),
            Verdict::Valid
        );
        assert_eq!(
            a.verify_digest(
                &h,
                "GET",
                "/prov/x.cfg",
                "u1",
                "other",
                UnixTime::from_secs(1010)
            ),
            Verdict::Invalid
        );
        assert_eq!(
            a.verify_digest(
                &h,
                "GET",
                "/prov/x.cfg",
                "u2",
                "secret",
                UnixTime::from_secs(1010)
            ),
            Verdict::Invalid
        );
        assert_eq!(
            a.verify_digest(
                &h,
                "GET",
                "/prov/x.cfg",
                "u1",
                "secret",
                UnixTime::from_secs(1000 + NONCE_SECS as i64 + 1)
            ),
            Verdict::Stale
        );
    }

    #[test]
    fn an_answer_for_another_path_is_invalid() {
        let a = Authenticator::new();
        let h = answer(
            &a.digest_challenge(UnixTime::from_secs(1000), false),
            "u1",
            "secret",
            "/prov/x.cfg",
        );
        assert_eq!(
            a.verify_digest(
                &h,
                "GET",
                "/prov/y.cfg",
                "u1",
                "secret",
                UnixTime::from_secs(1010)
            ),
            Verdict::Invalid
        );
    }

    #[test]
    fn a_nonce_from_another_process_is_invalid() {
        let (a, b) = (Authenticator::new(), Authenticator::new());
        let h = answer(
            &a.digest_challenge(UnixTime::from_secs(1000), false),
            "u1",
            "secret",
            "/prov/x.cfg",
        );
        assert_eq!(
            b.verify_digest(
                &h,
                "GET",
                "/prov/x.cfg",
                "u1",
                "secret",
                UnixTime::from_secs(1000)
            ),
            Verdict::Invalid
        );
    }

    #[test]
    fn garbage_headers_are_invalid_not_panics() {
        let a = Authenticator::new();
        for h in [
            "",
            "Digest",
            "Digest ",
            "Digest a",
            "Digest a=\"",
            "Basic xx",
            "Digest ,,,=,",
            &"Digest a=b,".repeat(300),
        ] {
            assert_eq!(
                a.verify_digest(h, "GET", "/prov/x.cfg", "u", "p", UnixTime::from_secs(0)),
                Verdict::Invalid,
                "{h:?}"
            );
        }
    }

    #[test]
    fn basic_checks_user_and_password() {
        assert!(verify_basic("Basic dTE6c2VjcmV0", "u1", "secret"));
        assert!(!verify_basic("Basic dTE6c2VjcmV1", "u1", "secret"));
        assert!(!verify_basic("Basic !!", "u1", "secret"));
    }
}
