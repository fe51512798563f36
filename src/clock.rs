//! The two kinds of time in zentrale, and the only places that read a clock.
//!
//! * [`Instant`] (monotonic) measures timeouts, retransmissions, lockouts and rate windows. The
//!   protocol cores never read it: every `handle_*`/`poll_*` takes `now` as an argument, so a
//!   30-second timer is tested in microseconds. Drivers read it with [`now`], which goes through
//!   `tokio::time::Instant`, so `tokio::time::pause` controls it in async tests.
//! * [`UnixTime`] (wall clock, whole seconds since the Unix epoch) is what the store keeps and
//!   what people read: created-at, last seen, enrollment windows, mail dates. Read with
//!   [`UnixTime::now`].
//!
//! `clippy.toml` forbids `std::time::Instant::now` and `SystemTime::now` everywhere else.

use std::time::Duration;

/// Monotonic time as the cores take it (a plain `std` instant: cores know nothing of tokio).
pub type Instant = std::time::Instant;

/// The monotonic time now, as drivers pass it into the cores.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Wall-clock time in whole seconds since the Unix epoch: the store's timestamp.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, serde::Serialize, sqlx::Type,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The wall clock now (0 if the clock is set before 1970).
    #[allow(clippy::disallowed_methods)] // the one wall-clock read
    pub fn now() -> UnixTime {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        UnixTime(since.map(|d| d.as_secs() as i64).unwrap_or_default())
    }

    pub const fn from_secs(secs: i64) -> UnixTime {
        UnixTime(secs)
    }

    pub const fn secs(self) -> i64 {
        self.0
    }

    /// `self` plus `d`, saturating.
    pub fn after(self, d: Duration) -> UnixTime {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        UnixTime(self.0.saturating_add(secs))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: UnixTime) -> Duration {
        Duration::from_secs(self.0.saturating_sub(earlier.0).max(0) as u64)
    }
}

impl std::fmt::Display for UnixTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_arithmetic_saturates() {
        let t = UnixTime::from_secs(100);
        assert_eq!(t.after(Duration::from_secs(5)).secs(), 105);
        assert_eq!(
            UnixTime::from_secs(i64::MAX - 1)
                .after(Duration::MAX)
                .secs(),
            i64::MAX
        );
        assert_eq!(t.since(UnixTime::from_secs(40)), Duration::from_secs(60));
        assert_eq!(t.since(UnixTime::from_secs(400)), Duration::ZERO);
    }

    #[test]
    fn the_wall_clock_is_after_2026() {
        assert!(UnixTime::now().secs() > 1_767_225_600);
    }
}
