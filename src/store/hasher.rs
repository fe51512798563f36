//! Argon2id hashing on a few dedicated threads.
//!
//! Each hash needs 19 MiB of 64-byte-aligned blocks. Allocated afresh per hash (what
//! `PasswordHasher::hash_password` does), glibc fragmented them: 20 users with password and PIN
//! left the daemon at 770 MB RSS, one thread alone kept 157 MB. So each of a fixed set of workers
//! allocates its block memory once, on first use, and reuses it: RSS stays under
//! `workers × 7 MiB` (see [`argon`]), and a burst of logins can take at most `workers` cores.

use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::oneshot;

use super::StoreError;
use super::secret::Secret;

enum Job {
    Hash(Secret, oneshot::Sender<Result<String, String>>),
    Verify(Secret, String, oneshot::Sender<bool>),
}

/// Handle to the hashing workers; they stop when the last handle is dropped.
#[derive(Debug, Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Job")
    }
}

impl Hasher {
    /// Starts `workers` hashing threads.
    pub fn new(workers: usize) -> Hasher {
        let (tx, rx) = sync_channel::<Job>(256);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers.max(1) {
            let rx = Arc::clone(&rx);
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&rx))
                .expect("spawning a hashing thread");
        }
        Hasher { jobs: tx }
    }

    /// One worker per core, at most four.
    pub fn for_this_machine() -> Hasher {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Hasher::new(cores.min(4))
    }

    /// Hashes a secret with argon2id and a fresh salt, as a PHC string.
    pub async fn hash(&self, secret: &Secret) -> Result<String, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.send(Job::Hash(secret.clone(), tx))?;
        rx.await
            .map_err(|_| StoreError::Hash("hashing worker gone".into()))?
            .map_err(StoreError::Hash)
    }

    /// Checks a secret against a stored PHC string; anything unparsable is a mismatch.
    pub async fn verify(&self, secret: &Secret, stored: &str) -> bool {
        let (tx, rx) = oneshot::channel();
        if self
            .send(Job::Verify(secret.clone(), stored.to_owned(), tx))
            .is_err()
        {
            return false;
        }
        rx.await.unwrap_or(false)
    }

    /// Queues a job without waiting: a full queue (a storm of logins with wrong passwords)
    /// answers "busy" instead of blocking the async runtime that serves everyone else.
    fn send(&self, job: Job) -> Result<(), StoreError> {
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => StoreError::Busy,
            TrySendError::Disconnected(_) => StoreError::Hash("hashing workers stopped".into()),
        })
    }
}

fn work(rx: &Mutex<Receiver<Job>>) {
    let mut memory: Vec<Block> = Vec::new();
    loop {
        let job = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        match job {
            Ok(Job::Hash(secret, reply)) => {
                let _ = reply.send(hash_with(&mut memory, &secret));
            }
            Ok(Job::Verify(secret, stored, reply)) => {
                let _ = reply.send(verify_with(&mut memory, &secret, &stored).unwrap_or(false));
            }
            Err(_) => return,
        }
    }
}

/// Stored hashes are ours, but a damaged one must not make a worker allocate without bound.
const MAX_BLOCKS: usize = 256 * 1024;

/// Runs argon2 in `memory`, growing it only when the parameters need more.
fn compute(
    memory: &mut Vec<Block>,
    argon: &Argon2,
    pwd: &[u8],
    salt: &[u8],
    len: usize,
) -> Result<Output, String> {
    let need = argon.params().block_count();
    if need > MAX_BLOCKS {
        return Err("argon2 parameters ask for too much memory".into());
    }
    if memory.len() < need {
        memory.resize(need, Block::default());
    }
    Output::init_with(len, |out| {
        argon
            .hash_password_into_with_memory(pwd, salt, out, &mut memory[..need])
            .map_err(|_| argon2::password_hash::Error::Crypto)
    })
    .map_err(|e| e.to_string())
}

/// One of OWASP's equivalent argon2id settings (m = 7 MiB, t = 5, p = 1): same cost to an
/// attacker as the 19 MiB default, a third of the memory each worker keeps.
fn argon() -> Result<Argon2<'static>, String> {
    let params = Params::new(7 * 1024, 5, 1, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// argon2id with [`argon`]'s parameters and a fresh salt, as a PHC string.
fn hash_with(memory: &mut Vec<Block>, secret: &Secret) -> Result<String, String> {
    let argon = argon()?;
    let salt = SaltString::generate(&mut OsRng);
    let mut buf = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut buf).map_err(|e| e.to_string())?;
    let output = compute(
        memory,
        &argon,
        secret.expose().as_bytes(),
        salt_bytes,
        Params::DEFAULT_OUTPUT_LEN,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| e.to_string())?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Recomputes with the stored parameters and salt; `Output` compares in constant time.
fn verify_with(memory: &mut Vec<Block>, secret: &Secret, stored: &str) -> Option<bool> {
    let phc = PasswordHash::new(stored).ok()?;
    let algorithm = Algorithm::try_from(phc.algorithm).ok()?;
    let version = phc
        .version
        .map(Version::try_from)
        .transpose()
        .ok()?
        .unwrap_or_default();
    let params = Params::try_from(&phc).ok()?;
    let expected = phc.hash?;
    let mut buf = [0u8; 64];
    let salt = phc.salt?.decode_b64(&mut buf).ok()?;
    let argon = Argon2::new(algorithm, version, params);
    let output = compute(
        memory,
        &argon,
        secret.expose().as_bytes(),
        salt,
        expected.len(),
    )
    .ok()?;
    Some(output == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_verifies_only_the_right_secret() {
        let hasher = Hasher::new(2);
        let h = hasher
            .hash(&Secret::new("correct horse"))
            .await
            .expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(!h.contains("correct horse"));
        assert!(hasher.verify(&Secret::new("correct horse"), &h).await);
        assert!(!hasher.verify(&Secret::new("wrong horse"), &h).await);
        assert!(!hasher.verify(&Secret::new("x"), "not a hash").await);
    }

    /// Hashes made here verify with the argon2 crate's own verifier, and the other way round.
    #[tokio::test]
    async fn interoperates_with_the_crate_verifier() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let hasher = Hasher::new(1);
        let ours = hasher.hash(&Secret::new("pin-4711")).await.expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(
            Argon2::default()
                .verify_password(b"pin-4711", &parsed)
                .is_ok()
        );
        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::default()
            .hash_password(b"pin-4711", &salt)
            .expect("hash")
            .to_string();
        assert!(hasher.verify(&Secret::new("pin-4711"), &theirs).await);
        assert!(!hasher.verify(&Secret::new("pin-4712"), &theirs).await);
    }

    #[tokio::test]
    async fn the_same_secret_hashes_differently() {
        let hasher = Hasher::new(1);
        let a = hasher.hash(&Secret::new("12345678")).await.expect("hash");
        let b = hasher.hash(&Secret::new("12345678")).await.expect("hash");
        assert_ne!(a, b, "fresh salt each time");
    }

    fn rss_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .expect("VmRSS");
        line.split_whitespace()
            .nth(1)
            .and_then(|n| n.parse().ok())
            .expect("number")
    }

    /// Regression: per-hash aligned allocations once left 157 MB behind after 20 hashes.
    #[tokio::test]
    async fn memory_stays_bounded_over_many_hashes() {
        let hasher = Hasher::new(1);
        hasher.hash(&Secret::new("warm-up-1")).await.expect("hash");
        let before = rss_kib();
        for i in 0..30 {
            hasher
                .hash(&Secret::new(format!("password-{i}")))
                .await
                .expect("hash");
        }
        let grown = rss_kib().saturating_sub(before);
        assert!(grown < 16 * 1024, "RSS grew by {grown} KiB over 30 hashes");
    }
}
