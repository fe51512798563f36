//! HTTP Digest authentication as phones speak it, for provisioning over HTTP (RFC 7616) and for
//! SIP (RFC 3261 §22.4 with RFC 8760's SHA-256): challenges, parsing an `Authorization` (or
//! `Proxy-Authorization`) answer, and checking it against a password.
//!
//! Nonces are stateless: a timestamp, a serial number and their HMAC under a per-process key
//! (the serial makes every challenge's nonce its own, so nonce counts can be tracked per
//! nonce: `registrar::auth::Replays`). A nonce with a valid
//! HMAC that is older than its lifetime is *stale*: the client knew the password and should
//! simply retry with a fresh nonce (`stale=true`, RFC 7616 §3.3), which is no failed attempt.

use hmac::{Hmac, Mac};
use md5::{Digest as _, Md5};
use sha2::Sha256;

use crate::clock::UnixTime;

/// Longer `Authorization` values are refused unread.
pub const MAX_HEADER: usize = 2048;
/// A nonce is 16 hex digits of time, 16 of serial number and 32 of HMAC.
const NONCE_LEN: usize = 64;
/// The time and serial part.
const STAMP_LEN: usize = 32;
/// How far a nonce's time may lie in the future (another node's clock, a step of ours).
const CLOCK_SLACK_SECS: u64 = 5;

/// The hash of a Digest exchange (RFC 8760 §2: SHA-256 preferred, MD5 for old clients).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Md5,
    Sha256,
}

impl Algorithm {
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// The algorithm an answer names; absent means MD5 (RFC 7616 §3.3).
    fn parse(name: Option<&str>) -> Option<Algorithm> {
        match name {
            None => Some(Algorithm::Md5),
            Some(n) if n.eq_ignore_ascii_case("MD5") => Some(Algorithm::Md5),
            Some(n) if n.eq_ignore_ascii_case("SHA-256") => Some(Algorithm::Sha256),
            Some(_) => None,
        }
    }

    fn hex(self, text: &str) -> String {
        match self {
            Algorithm::Md5 => hex(&Md5::digest(text.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(text.as_bytes())),
        }
    }
}

/// What a nonce says when it comes back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// Ours, but too old: the client should retry with a fresh one.
    Stale,
    /// Not ours, or malformed.
    Forged,
}

/// Issues and checks stateless nonces; one per process.
#[derive(Clone)]
pub struct Nonces {
    key: [u8; 32],
    lifetime_secs: u64,
    /// Shared by clones, so no two nonces of one key are the same.
    serial: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nonces")
            .field("lifetime_secs", &self.lifetime_secs)
            .finish_non_exhaustive()
    }
}

impl Nonces {
    /// Nonces with a fresh random key, valid for `lifetime_secs`.
    pub fn new(lifetime_secs: u64) -> Nonces {
        use rand::RngCore;
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        Nonces {
            key,
            lifetime_secs,
            serial: Default::default(),
        }
    }

    pub fn issue(&self, now: UnixTime) -> String {
        use std::sync::atomic::Ordering;
        let serial = self.serial.fetch_add(1, Ordering::Relaxed);
        let stamp = format!("{:016x}{serial:016x}", now.secs().max(0));
        format!("{stamp}{}", self.mac(&stamp))
    }

    pub fn check(&self, nonce: &str, now: UnixTime) -> Freshness {
        if nonce.len() != NONCE_LEN || !nonce.is_ascii() {
            return Freshness::Forged;
        }
        let (stamp, mac) = nonce.split_at(STAMP_LEN);
        if !constant_eq(self.mac(stamp).as_bytes(), mac.as_bytes()) {
            return Freshness::Forged;
        }
        let ts = &stamp[..16];
        let now = now.secs().max(0) as u64;
        match u64::from_str_radix(ts, 16) {
            Ok(t) if t <= now + CLOCK_SLACK_SECS && now.saturating_sub(t) <= self.lifetime_secs => {
                Freshness::Fresh
            }
            Ok(_) => Freshness::Stale,
            Err(_) => Freshness::Forged,
        }
    }

    /// When `nonce` was issued (its timestamp part; whether it is genuine is
    /// [`Nonces::check`]'s question).
    pub fn issued_at(nonce: &str) -> Option<i64> {
        let ts = nonce.get(..16)?;
        i64::from_str_radix(ts, 16).ok()
    }

    fn mac(&self, stamp: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key size");
        mac.update(stamp.as_bytes());
        hex(&mac.finalize().into_bytes()[..16])
    }
}

/// A `WWW-Authenticate` (or `Proxy-Authenticate`) value with `qop="auth"`.
pub fn challenge(realm: &str, algorithm: Algorithm, nonce: &str, stale: bool) -> String {
    let stale = if stale { ", stale=true" } else { "" };
    format!(
        "Digest realm=\"{realm}\", nonce=\"{nonce}\", algorithm={}, qop=\"auth\"{stale}",
        algorithm.name()
    )
}

/// A client's Digest answer, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<'a> {
    pub username: &'a str,
    pub realm: &'a str,
    pub nonce: &'a str,
    pub uri: &'a str,
    pub response: &'a str,
    pub algorithm: Algorithm,
    /// `nc` and `cnonce` when `qop=auth`; None for RFC 2069 answers without qop.
    pub qop_auth: Option<(&'a str, &'a str)>,
}

impl<'a> Answer<'a> {
    /// Parses `Digest k=v, k="v", …`; None when it is not a complete Digest answer we can check
    /// (another scheme, an unknown algorithm or qop, a missing parameter).
    pub fn parse(header: &'a str) -> Option<Answer<'a>> {
        let p = Params::parse(header)?;
        let qop_auth = match p.get("qop") {
            None => None,
            Some(q) if q.eq_ignore_ascii_case("auth") => Some((p.get("nc")?, p.get("cnonce")?)),
            Some(_) => return None,
        };
        Some(Answer {
            username: p.get("username")?,
            realm: p.get("realm")?,
            nonce: p.get("nonce")?,
            uri: p.get("uri")?,
            response: p.get("response")?,
            algorithm: Algorithm::parse(p.get("algorithm"))?,
            qop_auth,
        })
    }

    /// Whether the answer proves `password` for `method` (the answer's own `uri` is hashed; the
    /// caller checks that it names what was asked for).
    pub fn proves(&self, method: &str, password: &str) -> bool {
        let h = |text: String| self.algorithm.hex(&text);
        let ha1 = h(format!("{}:{}:{password}", self.username, self.realm));
        let ha2 = h(format!("{method}:{}", self.uri));
        let expected = match self.qop_auth {
            Some((nc, cnonce)) => h(format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce)),
            None => h(format!("{ha1}:{}:{ha2}", self.nonce)),
        };
        constant_eq(
            expected.as_bytes(),
            self.response.to_ascii_lowercase().as_bytes(),
        )
    }
}

/// A server's challenge (`WWW-Authenticate` or `Proxy-Authenticate`) as a client answers it:
/// zentrale is the client when it registers at a trunk or calls through one (RFC 3261 §22.2,
/// RFC 7616 §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    pub algorithm: Algorithm,
    /// The server offers `qop=auth` (else the RFC 2069 answer without qop).
    pub qop_auth: bool,
    /// RFC 7616 §3.3: the nonce ran out, the password was right.
    pub stale: bool,
}

/// What an answer to a [`Challenge`] is made of besides the challenge.
#[derive(Debug, Clone, Copy)]
pub struct Credentials<'a> {
    pub method: &'a str,
    pub uri: &'a str,
    pub username: &'a str,
    pub password: &'a str,
    /// A fresh client nonce (only used with qop).
    pub cnonce: &'a str,
    /// How many times this nonce was answered, this one included.
    pub nc: u32,
}

impl Challenge {
    /// Parses a Digest challenge; None for another scheme, an unknown algorithm, or one
    /// offering only a qop we cannot answer (`auth-int`).
    pub fn parse(header: &str) -> Option<Challenge> {
        let p = Params::parse(header)?;
        let qop_auth = match p.get("qop") {
            None => false,
            Some(list) => {
                let auth = list
                    .split(',')
                    .any(|q| q.trim().eq_ignore_ascii_case("auth"));
                if !auth {
                    return None;
                }
                true
            }
        };
        Some(Challenge {
            realm: p.get("realm")?.to_owned(),
            nonce: p.get("nonce")?.to_owned(),
            opaque: p.get("opaque").map(str::to_owned),
            algorithm: Algorithm::parse(p.get("algorithm"))?,
            qop_auth,
            stale: p
                .get("stale")
                .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// The `Authorization` (or `Proxy-Authorization`) value answering this challenge.
    pub fn answer(&self, c: &Credentials<'_>) -> String {
        let h = |text: String| self.algorithm.hex(&text);
        let ha1 = h(format!("{}:{}:{}", c.username, self.realm, c.password));
        let ha2 = h(format!("{}:{}", c.method, c.uri));
        let nc = format!("{:08x}", c.nc);
        let (response, qop) = match self.qop_auth {
            true => (
                h(format!("{ha1}:{}:{nc}:{}:auth:{ha2}", self.nonce, c.cnonce)),
                format!(", qop=auth, nc={nc}, cnonce=\"{}\"", c.cnonce),
            ),
            false => (h(format!("{ha1}:{}:{ha2}", self.nonce)), String::new()),
        };
        let opaque = (self.opaque.as_ref()).map_or(String::new(), |o| format!(", opaque=\"{o}\""));
        format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", \
             response=\"{response}\", algorithm={}{qop}{opaque}",
            c.username,
            self.realm,
            self.nonce,
            c.uri,
            self.algorithm.name()
        )
    }
}

/// The parameters of a `Digest k=v, k="v"` header.
struct Params<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Params<'a> {
    fn parse(header: &'a str) -> Option<Params<'a>> {
        if header.len() > MAX_HEADER {
            return None;
        }
        let (scheme, mut rest) = header.trim_start().split_once([' ', '\t'])?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let mut params = Vec::new();
        loop {
            rest = rest.trim_start_matches([' ', '\t', ',', '\r', '\n']);
            if rest.is_empty() {
                return Some(Params(params));
            }
            let (key, after) = rest.split_once('=')?;
            let after = after.trim_start();
            let (value, tail) = match after.strip_prefix('"') {
                Some(q) => {
                    let end = q.find('"')?;
                    (&q[..end], &q[end + 1..])
                }
                None => {
                    let (v, t) = after.split_at(after.find(',').unwrap_or(after.len()));
                    (v.trim_end(), t)
                }
            };
            params.push((key.trim(), value));
            if params.len() > 16 {
                return None;
            }
            rest = tail;
        }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| *v)
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

/// Lower-case hex (three of these per Digest check: no formatter per byte).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// Equality in time that does not depend on where the first difference is.
pub fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[path = "digest_tests.rs"]
mod tests;
