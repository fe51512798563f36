//! HTTP authentication of phones: RFC 7616 Digest with MD5 (what phone firmware speaks) over
//! [`crate::digest`], and RFC 7617 Basic for the few that cannot do Digest.

use crate::clock::UnixTime;
pub use crate::digest::verify_basic;
use crate::digest::{Algorithm, Answer, Freshness, Nonces};

pub const REALM: &str = "zentrale provisioning";
/// How long a nonce is accepted.
pub const NONCE_SECS: u64 = 300;

/// The outcome of checking an `Authorization` header against one credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Valid,
    /// Right credential, expired nonce: the phone should retry with a fresh one.
    Stale,
    Invalid,
}

/// Issues and checks nonces; one per process.
#[derive(Debug, Clone)]
pub struct Authenticator {
    nonces: Nonces,
}

impl Authenticator {
    pub fn new() -> Authenticator {
        Authenticator {
            nonces: Nonces::new(NONCE_SECS),
        }
    }

    /// The `WWW-Authenticate` value for a Digest challenge at `now`.
    pub fn digest_challenge(&self, now: UnixTime, stale: bool) -> String {
        let nonce = self.nonces.issue(now);
        crate::digest::challenge(REALM, Algorithm::Md5, &nonce, stale)
    }

    pub fn basic_challenge() -> String {
        format!("Basic realm=\"{REALM}\"")
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
        let Some(answer) = Answer::parse(header) else {
            return Verdict::Invalid;
        };
        let names_path = answer.uri.split('?').next() == Some(path);
        if answer.username != user || answer.realm != REALM || !names_path {
            return Verdict::Invalid;
        }
        if !answer.proves(method, password) {
            return Verdict::Invalid;
        }
        match self.nonces.check(answer.nonce, now) {
            Freshness::Fresh => Verdict::Valid,
            Freshness::Stale => Verdict::Stale,
            Freshness::Forged => Verdict::Invalid,
        }
    }
}

impl Default for Authenticator {
    fn default() -> Self {
        Authenticator::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use md5::{Digest as _, Md5};

    fn md5_hex(text: &str) -> String {
        crate::digest::hex(&Md5::digest(text.as_bytes()))
    }

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
