//! Flood shedding in front of the SIP parser: a token bucket per source address (`rate`
//! packets a second, up to `burst` at once). What is over goes unread, so a flood from one
//! source costs a table lookup per datagram, not a parse, a transaction and an answer; phones
//! at other addresses keep their own buckets. The first packet shed in a ban period is
//! reported once so the driver logs `sip: denied <ip> flood` for fail2ban.
//!
//! The same shape as [`crate::provisioning::limiter::Limiter`] (a bounded map of sources, time
//! as an input, stepped in tests), with a bucket instead of a window count: a window count lets
//! twice its limit through across a window's edge and then shuts a phone out until the window
//! ends; a bucket sheds only the excess, smoothly.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use crate::clock::Instant;

/// Sources tracked at most (as the provisioning limiter): a flood from many addresses cannot
/// grow the table without bound.
const MAX_SOURCES: usize = 100_000;
/// A full table is swept of idle sources at most this often (a sweep walks the whole table).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A source's allowance.
#[derive(Debug, Clone, Copy)]
pub struct FloodLimits {
    /// Packets a second, sustained.
    pub rate: u32,
    /// Packets at once (the bucket's size).
    pub burst: u32,
    /// A flooding source is reported at most once in this time.
    pub report_every: Duration,
}

/// What to do with one packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    Pass,
    /// Over the limit: drop it unread.
    Shed,
    /// Over the limit, the first time in this report period: drop it and report the source.
    ShedAndReport,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
    reported_until: Option<Instant>,
}

impl Bucket {
    fn full(limits: &FloodLimits, now: Instant) -> Bucket {
        Bucket {
            tokens: f64::from(limits.burst),
            at: now,
            reported_until: None,
        }
    }

    fn refill(&mut self, limits: &FloodLimits, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        let burst = f64::from(limits.burst);
        self.tokens = (self.tokens + elapsed * f64::from(limits.rate)).min(burst);
        self.at = now;
    }

    fn take(&mut self, limits: &FloodLimits, now: Instant) -> Gate {
        self.refill(limits, now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Gate::Pass;
        }
        if self.reported_until.is_some_and(|until| now < until) {
            return Gate::Shed;
        }
        self.reported_until = Some(now + limits.report_every);
        Gate::ShedAndReport
    }

    /// Full again and not flooding: the same as no entry at all.
    fn idle(&self, limits: &FloodLimits, now: Instant) -> bool {
        let mut b = *self;
        b.refill(limits, now);
        b.tokens >= f64::from(limits.burst) && self.reported_until.is_none_or(|u| now >= u)
    }
}

/// The per-source buckets.
#[derive(Debug)]
pub struct FloodGate {
    limits: FloodLimits,
    sources: HashMap<IpAddr, Bucket>,
    /// Shared by new sources while the table is full of busy ones.
    overflow: Option<Bucket>,
    swept: Option<Instant>,
}

impl FloodGate {
    pub fn new(limits: FloodLimits) -> FloodGate {
        FloodGate {
            limits,
            sources: HashMap::new(),
            overflow: None,
            swept: None,
        }
    }

    /// Counts one packet from `ip` at `now`.
    pub fn handle_packet(&mut self, ip: IpAddr, now: Instant) -> Gate {
        let limits = self.limits;
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(&ip) {
            self.sweep(now);
            if self.sources.len() >= MAX_SOURCES {
                let overflow = self
                    .overflow
                    .get_or_insert_with(|| Bucket::full(&limits, now));
                return overflow.take(&limits, now);
            }
        }
        self.sources
            .entry(ip)
            .or_insert_with(|| Bucket::full(&limits, now))
            .take(&limits, now)
    }

    /// `ip` was found flooding elsewhere (by a TCP connection's own gate): true when it is
    /// to be reported, i.e. not reported within the report period, as for
    /// [`Gate::ShedAndReport`]. One report per source and period whichever gate saw it.
    pub fn handle_flood_elsewhere(&mut self, ip: IpAddr, now: Instant) -> bool {
        let limits = self.limits;
        if self.sources.len() >= MAX_SOURCES && !self.sources.contains_key(&ip) {
            return false;
        }
        let bucket = self
            .sources
            .entry(ip)
            .or_insert_with(|| Bucket::full(&limits, now));
        if bucket.reported_until.is_some_and(|until| now < until) {
            return false;
        }
        bucket.reported_until = Some(now + limits.report_every);
        true
    }

    /// Sources tracked now.
    pub fn len(&self) -> usize {
        self.sources.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    fn sweep(&mut self, now: Instant) {
        if self
            .swept
            .is_some_and(|t| now.saturating_duration_since(t) < SWEEP_EVERY)
        {
            return;
        }
        self.swept = Some(now);
        let limits = self.limits;
        self.sources.retain(|_, b| !b.idle(&limits, now));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    fn gate(rate: u32, burst: u32) -> FloodGate {
        FloodGate::new(FloodLimits {
            rate,
            burst,
            report_every: Duration::from_secs(600),
        })
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_burst_passes_then_the_excess_is_shed_and_reported_once() {
        let mut g = gate(10, 5);
        let t = crate::clock::now();
        for _ in 0..5 {
            assert_eq!(g.handle_packet(A, t), Gate::Pass);
        }
        assert_eq!(g.handle_packet(A, t), Gate::ShedAndReport);
        for _ in 0..1000 {
            assert_eq!(g.handle_packet(A, t), Gate::Shed);
        }
        assert_eq!(g.handle_packet(B, t), Gate::Pass, "others keep their own");
    }

    #[test]
    fn a_flood_gets_the_rate_through_and_no_more() {
        // 10,000 packets a second for 2 s against 100/s with a burst of 50.
        let mut g = gate(100, 50);
        let t = crate::clock::now();
        let mut passed = 0;
        let mut reports = 0;
        for i in 0..20_000u64 {
            match g.handle_packet(A, t + Duration::from_micros(i * 100)) {
                Gate::Pass => passed += 1,
                Gate::ShedAndReport => reports += 1,
                Gate::Shed => {}
            }
        }
        // The burst, then 100/s for the 2 s.
        assert!((249..=251).contains(&passed), "{passed}");
        assert_eq!(reports, 1, "once per report period");
    }

    #[test]
    fn a_flood_seen_by_another_gate_is_reported_once_per_period_with_this_ones() {
        let mut g = gate(10, 1);
        let t = crate::clock::now();
        assert!(g.handle_flood_elsewhere(A, t));
        assert!(!g.handle_flood_elsewhere(A, t + ms(10)));
        assert_eq!(
            g.handle_packet(A, t),
            Gate::Pass,
            "its own bucket is untouched"
        );
        assert_eq!(g.handle_packet(A, t), Gate::Shed, "already reported");
        assert!(g.handle_flood_elsewhere(A, t + Duration::from_secs(600)));
    }

    #[test]
    fn tokens_come_back_at_the_rate() {
        let mut g = gate(10, 2);
        let t = crate::clock::now();
        assert_eq!(g.handle_packet(A, t), Gate::Pass);
        assert_eq!(g.handle_packet(A, t), Gate::Pass);
        assert_eq!(g.handle_packet(A, t), Gate::ShedAndReport);
        assert_eq!(g.handle_packet(A, t + ms(50)), Gate::Shed, "half a token");
        assert_eq!(g.handle_packet(A, t + ms(150)), Gate::Pass);
        // Idle for long: back to the full burst, never more.
        let later = t + Duration::from_secs(60);
        assert_eq!(g.handle_packet(A, later), Gate::Pass);
        assert_eq!(g.handle_packet(A, later), Gate::Pass);
        assert_eq!(g.handle_packet(A, later), Gate::Shed, "still reported");
    }

    #[test]
    fn a_source_still_flooding_after_the_report_period_is_reported_again() {
        let mut g = gate(1, 1);
        let t = crate::clock::now();
        assert_eq!(g.handle_packet(A, t), Gate::Pass);
        assert_eq!(g.handle_packet(A, t), Gate::ShedAndReport);
        let mut reports = 0;
        // 10 packets a second for 20 minutes: two more report periods.
        for i in 1..=12_005u64 {
            if g.handle_packet(A, t + ms(i * 100)) == Gate::ShedAndReport {
                reports += 1;
            }
        }
        assert_eq!(reports, 2);
    }

    #[test]
    fn the_table_is_bounded_and_idle_sources_make_room() {
        let mut g = gate(1, 1);
        let t = crate::clock::now();
        let ip = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from(i));
        for i in 0..MAX_SOURCES as u32 {
            assert_eq!(g.handle_packet(ip(i), t), Gate::Pass);
        }
        assert_eq!(g.len(), MAX_SOURCES);
        // Every source busy: newcomers share one bucket instead of growing the table.
        assert_eq!(g.handle_packet(ip(u32::MAX), t), Gate::Pass);
        assert_eq!(g.handle_packet(ip(u32::MAX - 1), t), Gate::ShedAndReport);
        assert_eq!(g.len(), MAX_SOURCES);
        // Two seconds on every bucket is full again: the sweep frees the table.
        assert_eq!(
            g.handle_packet(ip(u32::MAX - 2), t + Duration::from_secs(2)),
            Gate::Pass
        );
        assert_eq!(g.len(), 1);
    }
}
