//! Who may try a PIN now: a sans-IO counter of failed attempts per extension and per phone.
//!
//! Contract: [`Lockouts::begin`] with `now` reserves one attempt (or refuses it at once); the
//! caller verifies the PIN only when it got an [`Attempt`], then reports the outcome with
//! [`Lockouts::finish`]. A reserved attempt counts as failed until it is finished, so a burst of
//! concurrent guesses can never evaluate more PINs than the limits allow. Time is an input:
//! tests step it instead of sleeping.

use std::collections::HashMap;
use std::time::Duration;

use crate::clock::Instant;

use serde::Serialize;

use crate::config::MenuConfig;

/// What is counted: one extension, or one phone (by device id).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Subject {
    Extension(String),
    Device(i64),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Extension(e) => write!(f, "extension={e}"),
            Subject::Device(d) => write!(f, "device={d}"),
        }
    }
}

/// A reserved attempt; hand it back to [`Lockouts::finish`].
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    extension: Subject,
    device: Subject,
}

/// Why an attempt was refused without looking at the PIN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub subject: Subject,
    pub until: Instant,
}

/// A lockout that `finish` just started, to be logged once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub subject: Subject,
    pub secs: u64,
}

/// One current lockout, as the admin sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Lockout {
    /// `extension` or `device`.
    pub kind: String,
    /// The extension, or the device id.
    pub key: String,
    /// Seconds until attempts are allowed again.
    pub remaining_secs: u64,
}

impl Subject {
    /// The subject an admin names by `kind` and `key`.
    pub fn parse(kind: &str, key: &str) -> Option<Subject> {
        match kind {
            "extension" => Some(Subject::Extension(key.to_owned())),
            "device" => key.parse().ok().map(Subject::Device),
            _ => None,
        }
    }

    fn kind_key(&self) -> (String, String) {
        match self {
            Subject::Extension(e) => ("extension".into(), e.clone()),
            Subject::Device(d) => ("device".into(), d.to_string()),
        }
    }
}

#[derive(Debug, Default)]
struct Entry {
    /// Times of failed (or still running) attempts within the window.
    failures: Vec<Instant>,
    locked_until: Option<Instant>,
}

/// Limits per subject kind.
#[derive(Debug, Clone, Copy)]
struct Limit {
    attempts: usize,
    window: Duration,
}

/// The counters (sans-IO: `now` comes from the caller).
#[derive(Debug)]
pub struct Lockouts {
    extension: Limit,
    device: Limit,
    lockout: Duration,
    entries: HashMap<Subject, Entry>,
}

impl Lockouts {
    pub fn new(c: &MenuConfig) -> Lockouts {
        let secs = Duration::from_secs;
        Lockouts {
            extension: Limit {
                attempts: c.extension_attempts as usize,
                window: secs(c.extension_window_secs),
            },
            device: Limit {
                attempts: c.device_attempts as usize,
                window: secs(c.device_window_secs),
            },
            lockout: secs(c.lockout_secs),
            entries: HashMap::new(),
        }
    }

    fn limit(&self, s: &Subject) -> Limit {
        match s {
            Subject::Extension(_) => self.extension,
            Subject::Device(_) => self.device,
        }
    }

    /// Reserves an attempt for `extension` from `device`, or says who is locked.
    pub fn begin(
        &mut self,
        extension: &str,
        device: i64,
        now: Instant,
    ) -> Result<Attempt, Refused> {
        let subjects = [
            Subject::Extension(extension.to_owned()),
            Subject::Device(device),
        ];
        for s in &subjects {
            self.expire(s, now);
            let limit = self.limit(s);
            let Some(e) = self.entries.get(s) else {
                continue;
            };
            if let Some(until) = e.locked_until {
                return Err(Refused {
                    subject: s.clone(),
                    until,
                });
            }
            if e.failures.len() >= limit.attempts {
                // Reserved attempts still running fill the allowance: refuse without a lockout.
                return Err(Refused {
                    subject: s.clone(),
                    until: now,
                });
            }
        }
        for s in &subjects {
            self.entries
                .entry(s.clone())
                .or_default()
                .failures
                .push(now);
        }
        let [extension, device] = subjects;
        Ok(Attempt { extension, device })
    }

    /// Reports how a reserved attempt ended: the lockouts it started, if any.
    pub fn finish(&mut self, attempt: Attempt, success: bool, now: Instant) -> Vec<Started> {
        let mut started = Vec::new();
        for s in [attempt.extension, attempt.device] {
            let limit = self.limit(&s);
            let lockout = self.lockout;
            let Some(e) = self.entries.get_mut(&s) else {
                continue;
            };
            if success {
                // The reserved slot was not a failure; a right PIN also forgives the extension.
                e.failures.pop();
                if matches!(s, Subject::Extension(_)) {
                    e.failures.clear();
                }
            } else if e.failures.len() >= limit.attempts && e.locked_until.is_none() {
                e.locked_until = Some(now + lockout);
                started.push(Started {
                    subject: s.clone(),
                    secs: lockout.as_secs(),
                });
            }
            if e.failures.is_empty() && e.locked_until.is_none() {
                self.entries.remove(&s);
            }
        }
        started
    }

    /// Drops failures older than the window and lockouts that ended.
    fn expire(&mut self, s: &Subject, now: Instant) {
        let window = self.limit(s).window;
        let Some(e) = self.entries.get_mut(s) else {
            return;
        };
        if e.locked_until.is_some_and(|u| u <= now) {
            e.locked_until = None;
            e.failures.clear();
        }
        e.failures
            .retain(|t| now.saturating_duration_since(*t) < window);
        if e.failures.is_empty() && e.locked_until.is_none() {
            self.entries.remove(s);
        }
    }

    /// Current lockouts, sorted.
    pub fn list(&mut self, now: Instant) -> Vec<Lockout> {
        let keys: Vec<Subject> = self.entries.keys().cloned().collect();
        for k in &keys {
            self.expire(k, now);
        }
        let mut out: Vec<Lockout> = self
            .entries
            .iter()
            .filter_map(|(s, e)| {
                let until = e.locked_until?;
                let (kind, key) = s.kind_key();
                Some(Lockout {
                    kind,
                    key,
                    remaining_secs: until.saturating_duration_since(now).as_secs().max(1),
                })
            })
            .collect();
        out.sort_by(|a, b| (&a.kind, &a.key).cmp(&(&b.kind, &b.key)));
        out
    }

    /// Ends the lockout and forgets the failures of `subject`; false if there was nothing.
    pub fn clear(&mut self, subject: &Subject) -> bool {
        self.entries.remove(subject).is_some()
    }

    /// Ends every lockout; how many there were.
    pub fn clear_all(&mut self) -> usize {
        let n = self
            .entries
            .values()
            .filter(|e| e.locked_until.is_some())
            .count();
        self.entries.clear();
        n
    }
}

#[cfg(test)]
#[path = "lockout_tests.rs"]
mod tests;
