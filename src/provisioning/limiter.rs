//! Per-source limits on requests without proof (MAC sweeps): past `limit` in a window the
//! source is banned for a while. Time is an input, so tests step it instead of sleeping.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sources tracked at most; a sweep from many addresses cannot grow the map without bound.
const MAX_SOURCES: usize = 100_000;

#[derive(Debug)]
pub struct Limiter {
    limit: u32,
    window: Duration,
    ban: Duration,
    sources: Mutex<HashMap<IpAddr, Source>>,
}

#[derive(Debug, Clone, Copy)]
struct Source {
    window_start: Instant,
    count: u32,
    banned_until: Option<Instant>,
}

/// What one more request without proof did to its source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hit {
    Counted,
    /// This request crossed the limit: the source is banned from now on.
    Banned,
}

impl Limiter {
    pub fn new(limit: u32, window: Duration, ban: Duration) -> Limiter {
        Limiter {
            limit,
            window,
            ban,
            sources: Mutex::default(),
        }
    }

    pub fn ban(&self) -> Duration {
        self.ban
    }

    pub fn is_banned(&self, ip: IpAddr, now: Instant) -> bool {
        let sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        sources
            .get(&ip)
            .and_then(|s| s.banned_until)
            .is_some_and(|until| now < until)
    }

    /// Counts one request without proof from `ip`.
    pub fn hit(&self, ip: IpAddr, now: Instant) -> Hit {
        let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        if sources.len() >= MAX_SOURCES && !sources.contains_key(&ip) {
            self.forget_idle(&mut sources, now);
        }
        let s = sources.entry(ip).or_insert(Source {
            window_start: now,
            count: 0,
            banned_until: None,
        });
        if s.banned_until.is_some_and(|until| now >= until) {
            s.banned_until = None;
            s.window_start = now;
            s.count = 0;
        }
        if now.duration_since(s.window_start) >= self.window {
            s.window_start = now;
            s.count = 0;
        }
        s.count = s.count.saturating_add(1);
        if s.count > self.limit && s.banned_until.is_none() {
            s.banned_until = Some(now + self.ban);
            return Hit::Banned;
        }
        Hit::Counted
    }

    fn forget_idle(&self, sources: &mut HashMap<IpAddr, Source>, now: Instant) {
        sources.retain(|_, s| {
            s.banned_until.is_some_and(|u| now < u)
                || now.duration_since(s.window_start) < self.window
        });
        if sources.len() >= MAX_SOURCES {
            sources.retain(|_, s| s.banned_until.is_some_and(|u| now < u));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn past_the_limit_a_source_is_banned_for_a_while_and_others_are_not() {
        let l = Limiter::new(3, Duration::from_secs(60), Duration::from_secs(600));
        let t = crate::clock::now();
        for _ in 0..3 {
            assert_eq!(l.hit(A, t), Hit::Counted);
        }
        assert_eq!(l.hit(A, t), Hit::Banned);
        assert_eq!(l.hit(A, t), Hit::Counted, "banned once, logged once");
        assert!(l.is_banned(A, t + Duration::from_secs(599)));
        assert!(!l.is_banned(B, t));
        assert!(!l.is_banned(A, t + Duration::from_secs(600)));
        assert_eq!(l.hit(A, t + Duration::from_secs(600)), Hit::Counted);
    }

    #[test]
    fn a_new_window_starts_the_count_again() {
        let l = Limiter::new(2, Duration::from_secs(60), Duration::from_secs(600));
        let t = crate::clock::now();
        l.hit(A, t);
        l.hit(A, t);
        assert_eq!(l.hit(A, t + Duration::from_secs(61)), Hit::Counted);
        assert!(!l.is_banned(A, t + Duration::from_secs(61)));
    }
}
