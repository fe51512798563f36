//! Passwords and PINs of the file's users, decided and hashed before the batch takes the
//! writer (argon2 costs milliseconds each; the writer must not wait for it).
//!
//! A user created by the import gets the file's secrets. A user who exists keeps the secrets
//! they have: people change their password in the client, and re-importing the first file must
//! not undo that. A secret the user does not have yet is set. With `reset_secrets`, a file's
//! secret that differs from the stored one (argon2 check) replaces it.

use std::collections::HashMap;

use tokio::task::JoinSet;

use super::{Options, Phase};
use crate::import::records::UserRow;
use crate::store::secret::Secret;
use crate::store::{Hashed, Result, Store, StoreError};

/// Argon2 jobs in flight: enough to keep every hashing worker busy.
const IN_FLIGHT: usize = 8;

/// What a user row sets: its secrets hashed, and which they are.
#[derive(Debug, Default)]
pub(in crate::import) struct Planned {
    pub hashed: Hashed,
    pub password: bool,
    pub pin: bool,
}

#[derive(Debug, Default)]
pub(in crate::import) struct Secrets {
    pub planned: HashMap<String, Planned>,
    /// Existing users whose stored secret stays although the file has one.
    pub kept: usize,
}

/// One row's secrets and what the user has.
struct Job {
    username: String,
    password: Option<Secret>,
    pin: Option<Secret>,
    /// (has a password, has a PIN) for an existing user.
    has: Option<(bool, bool)>,
}

pub(super) async fn plan(
    store: &Store,
    users: &[UserRow],
    options: &Options,
    progress: &mut (dyn FnMut(Phase, usize, usize) + Send),
) -> Result<Secrets> {
    let existing: HashMap<String, (bool, bool)> = store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.username, (u.has_password, u.has_pin)))
        .collect();
    let mut jobs: Vec<Job> = users
        .iter()
        .filter(|r| r.password.value().is_some() || r.pin.value().is_some())
        .map(|r| Job {
            username: r.username.clone(),
            password: r.password.value().cloned(),
            pin: r.pin.value().cloned(),
            has: existing.get(&r.username).copied(),
        })
        .collect();
    let total = jobs.len();
    let mut secrets = Secrets::default();
    let mut running = JoinSet::new();
    let mut done = 0;
    while !jobs.is_empty() || !running.is_empty() {
        while running.len() < IN_FLIGHT {
            let Some(job) = jobs.pop() else { break };
            let (store, options) = (store.clone(), (options.reset_secrets, options.dry_run));
            running.spawn(async move { decide(&store, job, options.0, options.1).await });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (username, planned, kept) =
            joined.map_err(|e| StoreError::Hash(format!("hashing task: {e}")))??;
        secrets.kept += usize::from(kept);
        if let Some(p) = planned {
            secrets.planned.insert(username, p);
        }
        done += 1;
        progress(Phase::Secrets, done, total);
    }
    Ok(secrets)
}

/// Which secrets a row sets, hashed (a dry run only marks them), and whether the user keeps one.
async fn decide(
    store: &Store,
    job: Job,
    reset: bool,
    dry_run: bool,
) -> Result<(String, Option<Planned>, bool)> {
    let (has_password, has_pin) = job.has.unwrap_or((false, false));
    let mut password = job.password.clone().filter(|_| !has_password);
    let mut pin = job.pin.clone().filter(|_| !has_pin);
    let stored_password = job.password.as_ref().filter(|_| has_password);
    let stored_pin = job.pin.as_ref().filter(|_| has_pin);
    let mut kept = false;
    if stored_password.is_some() || stored_pin.is_some() {
        if reset {
            let (same_password, same_pin) = store
                .secrets_match(&job.username, stored_password, stored_pin)
                .await?;
            if !same_password {
                password = stored_password.cloned();
            }
            if !same_pin {
                pin = stored_pin.cloned();
            }
        } else {
            kept = true;
        }
    }
    if password.is_none() && pin.is_none() {
        return Ok((job.username, None, kept));
    }
    let hashed = if dry_run {
        Hashed::placeholder(password.is_some(), pin.is_some())
    } else {
        store.hash_secrets(password.as_ref(), pin.as_ref()).await?
    };
    let planned = Planned {
        hashed,
        password: password.is_some(),
        pin: pin.is_some(),
    };
    Ok((job.username, Some(planned), kept))
}
