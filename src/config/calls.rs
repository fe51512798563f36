//! `[calls]`: how dispatch follows a call (forwarding depth, what "everyone busy" means) and
//! how long call records are kept.

use super::section::Section;
use crate::dispatch::{BusyRule, DispatchConfig};

/// `[calls]`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallsConfig {
    /// Call records older than this many days are pruned (daily).
    pub retention_days: u32,
    /// Forwardings one call follows at most (the seed warns of "Umleitungs-Endlosschleifen").
    pub max_forward_hops: usize,
    /// Every rung phone busy and no `busy` forwarding: 486, or the user's after-action.
    pub when_all_busy: BusyRule,
    /// Numbers any phone of ours may call, also one nobody is logged in at, through the first
    /// trunk whose prefix matches, else the first trunk: 110 and 112 by default (Germany's
    /// police and fire/ambulance; 112 EU-wide, Council Decision 91/396/EEC).
    pub emergency_numbers: Vec<String>,
}

impl CallsConfig {
    /// Calls that started before this are past retention at `now` (for `Store::prune_calls`).
    pub fn cutoff(&self, now: crate::clock::UnixTime) -> crate::clock::UnixTime {
        let keep = i64::from(self.retention_days) * 86_400;
        crate::clock::UnixTime::from_secs(now.secs().saturating_sub(keep))
    }

    /// What the dispatch core runs with.
    pub fn dispatch(&self) -> DispatchConfig {
        DispatchConfig {
            max_forward_hops: self.max_forward_hops,
            busy: self.when_all_busy,
        }
    }
}

/// Most days of call records kept: ten years is past any retention rule we know of.
const MAX_RETENTION_DAYS: u32 = 3650;
/// Longer forwarding chains than this are a loop by another name.
const MAX_HOPS: usize = 32;

pub(super) fn calls(mut s: Section) -> CallsConfig {
    let retention_days: u32 = s.get("retention_days", || 90);
    if !(1..=MAX_RETENTION_DAYS).contains(&retention_days) {
        s.problem(
            "retention_days",
            &format!("must be 1 to {MAX_RETENTION_DAYS} days"),
        );
    }
    let defaults = DispatchConfig::default();
    let max_forward_hops: usize = s.get("max_forward_hops", || defaults.max_forward_hops);
    if !(1..=MAX_HOPS).contains(&max_forward_hops) {
        s.problem("max_forward_hops", &format!("must be 1 to {MAX_HOPS}"));
    }
    let when_all_busy = match s.get("when_all_busy", || "reject".to_owned()).as_str() {
        "reject" => BusyRule::Reject,
        "after-action" => BusyRule::AfterAction,
        _ => {
            s.problem("when_all_busy", "must be \"reject\" or \"after-action\"");
            BusyRule::Reject
        }
    };
    let emergency_numbers: Vec<String> = s.get("emergency_numbers", || {
        vec!["110".to_owned(), "112".to_owned()]
    });
    if (emergency_numbers.iter())
        .any(|n| n.is_empty() || n.len() > 20 || !n.bytes().all(|b| b.is_ascii_digit()))
    {
        s.problem("emergency_numbers", "each must be 1 to 20 digits");
    }
    s.finish();
    CallsConfig {
        retention_days,
        max_forward_hops,
        when_all_busy,
        emergency_numbers,
    }
}
