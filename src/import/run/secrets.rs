//! Passwords and PINs of the file's users, decided and hashed before the batch takes the
//! writer (argon2 costs milliseconds each; the writer must not wait for it).
//!
//! A user created by the import gets the file's secrets. A user who exists keeps the secrets
//! they have: people change their password in the client, and re-importing the first file must
//! not undo that. A secret the user does not have yet is set. With `reset_secrets`, the file's
//! secrets replace the stored ones, unchecked: comparing them first would tell the caller
//! whether a guess was right. A password of a user whose auth is not local is never set, and
//! nothing is planned for a user the caller may not change (whatever the file says, such a row
//! gets the same answer).

use std::collections::HashMap;

use tokio::task::JoinSet;

use super::{Options, Phase};
use crate::import::records::UserRow;
use crate::store::secret::Secret;
use crate::store::{Auth, Hashed, Result, Store, StoreError, User};

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

/// One row's secrets to hash.
struct Job {
    username: String,
    password: Option<Secret>,
    pin: Option<Secret>,
}

pub(super) async fn plan(
    store: &Store,
    users: &[UserRow],
    options: &Options,
    progress: &mut (dyn FnMut(Phase, usize, usize) + Send),
) -> Result<Secrets> {
    let existing: HashMap<String, User> = store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.username.clone(), u))
        .collect();
    let mut secrets = Secrets::default();
    let mut jobs: Vec<Job> = Vec::new();
    for row in users {
        let (job, kept) = decide(row, existing.get(&row.username), options);
        secrets.kept += usize::from(kept);
        jobs.extend(job);
    }
    let total = jobs.len();
    let mut running = JoinSet::new();
    let mut done = 0;
    while !jobs.is_empty() || !running.is_empty() {
        while running.len() < IN_FLIGHT {
            let Some(job) = jobs.pop() else { break };
            let (store, dry_run) = (store.clone(), options.dry_run);
            running.spawn(async move { hash(&store, job, dry_run).await });
        }
        let Some(joined) = running.join_next().await else {
            break;
        };
        let (username, planned) =
            joined.map_err(|e| StoreError::Hash(format!("hashing task: {e}")))??;
        secrets.planned.insert(username, planned);
        done += 1;
        progress(Phase::Secrets, done, total);
    }
    Ok(secrets)
}

/// Which of a row's secrets are set (a job to hash them), and whether the user keeps one the
/// file has.
fn decide(row: &UserRow, cur: Option<&User>, options: &Options) -> (Option<Job>, bool) {
    let mut password = row.password.value().cloned();
    let mut pin = row.pin.value().cloned();
    let mut kept = false;
    if let Some(cur) = cur {
        let may = options
            .actor
            .as_ref()
            .is_none_or(|a| a.role.may_grant(cur.role));
        if !may {
            return (None, false);
        }
        let auth = row.auth.value().copied().unwrap_or(cur.auth);
        if auth != Auth::Local {
            password = None;
        }
        if !options.reset_secrets {
            kept = (password.is_some() && cur.has_password) || (pin.is_some() && cur.has_pin);
            password = password.filter(|_| !cur.has_password);
            pin = pin.filter(|_| !cur.has_pin);
        }
    }
    if password.is_none() && pin.is_none() {
        return (None, kept);
    }
    let job = Job {
        username: row.username.clone(),
        password,
        pin,
    };
    (Some(job), kept)
}

/// The job's secrets hashed (a dry run only marks them).
async fn hash(store: &Store, job: Job, dry_run: bool) -> Result<(String, Planned)> {
    let hashed = if dry_run {
        Hashed::placeholder(job.password.is_some(), job.pin.is_some())
    } else {
        store
            .hash_secrets(job.password.as_ref(), job.pin.as_ref())
            .await?
    };
    let planned = Planned {
        hashed,
        password: job.password.is_some(),
        pin: job.pin.is_some(),
    };
    Ok((job.username, planned))
}
