//! The retry policy, as a pure function of the attempt's outcome, the attempt count, `now` and
//! a jitter value the driver draws: no clock, no randomness, no I/O here, so every path of the
//! schedule is tested by stepping numbers.
//!
//! Modelled on Postfix's queue manager (`postconf(5)`: `minimal_backoff_time`,
//! `maximal_backoff_time`, `maximal_queue_lifetime` = 5d): a transient failure defers with a
//! delay that doubles per attempt, here from under a minute up to an hour, with jitter so that
//! messages deferred together do not all return together; a permanent one fails at once.

use std::time::Duration;

use super::entry::{State, Status};
use crate::clock::UnixTime;

/// The first retry comes within this delay (30–60 s with jitter).
pub const FIRST_RETRY: Duration = Duration::from_secs(60);
/// No delay between two attempts is longer.
pub const MAX_RETRY: Duration = Duration::from_secs(3600);

/// How one delivery attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered 2xx to the message.
    Accepted,
    /// Try again later: connection refused, timeout, 4xx, dropped before the final reply.
    Transient(String),
    /// Do not try again: 5xx, or a message that cannot be built.
    Permanent(String),
}

/// The settings the schedule depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// How long an entry may stay deferred before it fails.
    pub lifetime: Duration,
    /// Multiplies every delay (1.0 in production; tests use small values).
    pub scale: f64,
}

/// The delay before attempt `attempts + 1`, after `attempts` (≥ 1) failed ones. `jitter` in
/// [0, 1) picks a point in the upper half of the doubled interval.
pub fn backoff(attempts: u32, jitter: f64, scale: f64) -> Duration {
    let doublings = attempts.saturating_sub(1).min(16);
    let base = FIRST_RETRY.saturating_mul(1 << doublings).min(MAX_RETRY);
    let jitter = jitter.clamp(0.0, 1.0);
    base.mul_f64((0.5 + 0.5 * jitter) * scale.max(0.0))
}

impl RetryPolicy {
    /// The status after an attempt that ended with `outcome`, and how long until the next try
    /// (None when no further try is due).
    pub fn after_attempt(
        &self,
        status: &Status,
        created: UnixTime,
        outcome: &Outcome,
        now: UnixTime,
        jitter: f64,
    ) -> (Status, Option<Duration>) {
        let attempts = status.attempts.saturating_add(1);
        let done = |state, error: Option<&String>| Status {
            state,
            attempts,
            next_try: None,
            last_error: error.cloned().or_else(|| status.last_error.clone()),
            done: Some(now),
        };
        match outcome {
            Outcome::Accepted => (done(State::Delivered, None), None),
            Outcome::Permanent(e) => (done(State::Failed, Some(e)), None),
            Outcome::Transient(e) if now.since(created) >= self.lifetime => {
                let reason = format!("{e} (gave up after {})", human(self.lifetime));
                (done(State::Failed, Some(&reason)), None)
            }
            Outcome::Transient(e) => {
                let delay = backoff(attempts, jitter, self.scale);
                let status = Status {
                    state: State::Deferred,
                    attempts,
                    next_try: Some(now.after(delay)),
                    last_error: Some(e.clone()),
                    done: None,
                };
                (status, Some(delay))
            }
        }
    }
}

fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{} days", s / 86_400),
        s if s >= 3600 && s % 3600 == 0 => format!("{} hours", s / 3600),
        s => format!("{s} seconds"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: RetryPolicy = RetryPolicy {
        lifetime: Duration::from_secs(5 * 86_400),
        scale: 1.0,
    };
    const T0: UnixTime = UnixTime::from_secs(1_800_000_000);

    #[test]
    fn first_retry_within_a_minute_then_doubling_up_to_an_hour() {
        for jitter in [0.0, 0.5, 0.999] {
            let first = backoff(1, jitter, 1.0);
            assert!(
                first >= Duration::from_secs(30) && first < FIRST_RETRY,
                "{first:?}"
            );
        }
        assert_eq!(backoff(2, 0.0, 1.0), Duration::from_secs(60));
        assert_eq!(backoff(3, 0.0, 1.0), Duration::from_secs(120));
        for attempts in [7, 8, 40, u32::MAX] {
            let d = backoff(attempts, 0.999, 1.0);
            assert!(
                d <= MAX_RETRY && d > Duration::from_secs(1790),
                "{attempts}: {d:?}"
            );
        }
    }

    #[test]
    fn jitter_spreads_and_scale_shrinks() {
        assert!(backoff(4, 0.9, 1.0) > backoff(4, 0.1, 1.0));
        assert_eq!(backoff(1, 0.0, 0.01), Duration::from_millis(300));
        assert_eq!(backoff(1, 7.0, 1.0), FIRST_RETRY, "jitter is clamped");
    }

    #[test]
    fn accepted_is_delivered_and_counts_the_attempt() {
        let (s, next) = POLICY.after_attempt(&Status::queued(), T0, &Outcome::Accepted, T0, 0.5);
        assert_eq!(
            (s.state, s.attempts, s.done, next),
            (State::Delivered, 1, Some(T0), None)
        );
    }

    #[test]
    fn transient_defers_with_the_error_and_the_next_try() {
        let now = T0.after(Duration::from_secs(10));
        let outcome = Outcome::Transient("421 busy".into());
        let (s, next) = POLICY.after_attempt(&Status::queued(), T0, &outcome, now, 0.0);
        assert_eq!(s.state, State::Deferred);
        assert_eq!(s.last_error.as_deref(), Some("421 busy"));
        assert_eq!(next, Some(Duration::from_secs(30)));
        assert_eq!(s.next_try, Some(now.after(Duration::from_secs(30))));
        let (s2, next2) = POLICY.after_attempt(&s, T0, &outcome, now, 0.0);
        assert_eq!((s2.attempts, next2), (2, Some(Duration::from_secs(60))));
    }

    #[test]
    fn permanent_fails_at_once() {
        let outcome = Outcome::Permanent("550 no such user".into());
        let (s, next) = POLICY.after_attempt(&Status::queued(), T0, &outcome, T0, 0.0);
        assert_eq!((s.state, next), (State::Failed, None));
        assert_eq!(s.last_error.as_deref(), Some("550 no such user"));
    }

    #[test]
    fn transient_past_the_lifetime_fails_with_the_reason() {
        let late = T0.after(POLICY.lifetime);
        let outcome = Outcome::Transient("connection refused".into());
        let (s, next) = POLICY.after_attempt(&Status::queued(), T0, &outcome, late, 0.0);
        assert_eq!((s.state, next), (State::Failed, None));
        assert_eq!(
            s.last_error.as_deref(),
            Some("connection refused (gave up after 5 days)")
        );
        let just_before = T0.after(POLICY.lifetime - Duration::from_secs(1));
        let (s, _) = POLICY.after_attempt(&Status::queued(), T0, &outcome, just_before, 0.0);
        assert_eq!(s.state, State::Deferred);
    }
}
