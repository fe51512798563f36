//! Secrets: a wrapper that never prints, and random credentials (hashing is in `hasher`).

use rand::Rng;
use rand::distributions::Alphanumeric;
use serde::Deserialize;

/// A password, PIN or SIP secret. `Debug` prints `***` and there is no `Display`, so a secret in
/// a log line or an error message by accident shows nothing.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret itself; call only where it is hashed, compared or put on the wire to its owner.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// A random alphanumeric string (for SIP passwords and user names): ~5.95 bits per character.
pub fn random_alnum(len: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// A random lowercase hex token of `bytes` random bytes (device tokens, API tokens).
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill(buf.as_mut_slice());
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a high-entropy token, hex; enough for tokens, never for passwords.
pub fn token_digest(token: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let s = Secret::new("hunter22");
        assert_eq!(format!("{s:?}"), "***");
    }

    #[test]
    fn random_tokens_have_the_asked_size() {
        assert_eq!(random_hex(16).len(), 32);
        assert_eq!(random_alnum(20).len(), 20);
        assert_ne!(random_hex(16), random_hex(16));
    }
}
