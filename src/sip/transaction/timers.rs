//! [`Timers`]: the timer values of RFC 3261 §17 (Table 4 of Appendix A) from which Timers A–K
//! are derived, and the 200 ms of the 100 Trying rule (§17.2.1).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timers {
    /// RTT estimate; first retransmission interval (Timers A, E, G).
    pub t1: Duration,
    /// Longest retransmission interval for non-INVITE requests and INVITE responses.
    pub t2: Duration,
    /// Longest time a message stays in the network; Timers I and K on unreliable transports.
    pub t4: Duration,
    /// Timer D on unreliable transports ("at least 32 s").
    pub timer_d: Duration,
    /// How long an INVITE server transaction waits for the TU before sending 100 Trying.
    pub trying: Duration,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
            timer_d: Duration::from_secs(32),
            trying: Duration::from_millis(200),
        }
    }
}

impl Timers {
    /// 64·T1: Timers B, F, H and J.
    pub fn timeout(&self) -> Duration {
        self.t1.saturating_mul(64)
    }

    /// `value` on unreliable transports, zero on reliable ones (§17.1.1.2, §17.1.2.2, §17.2.1,
    /// §17.2.2).
    pub(super) fn unreliable_only(&self, value: Duration, reliable: bool) -> Duration {
        if reliable { Duration::ZERO } else { value }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_rfc_3261_table_4() {
        let t = Timers::default();
        assert_eq!(
            (t.t1, t.t2, t.t4),
            (
                Duration::from_millis(500),
                Duration::from_secs(4),
                Duration::from_secs(5)
            )
        );
        assert_eq!(t.timeout(), Duration::from_secs(32));
        assert_eq!(t.unreliable_only(t.t4, true), Duration::ZERO);
        assert_eq!(t.unreliable_only(t.t4, false), t.t4);
    }
}
