//! Which entries are due when: a sans-IO timer wheel for the delivery driver. Time goes in as
//! `now`; nothing here reads a clock or touches the spool.

use std::collections::{BTreeSet, HashMap};

use crate::clock::Instant;
use crate::spool::Id;

#[derive(Debug, Default)]
pub struct Schedule {
    due: BTreeSet<(Instant, Id)>,
    at: HashMap<Id, Instant>,
}

impl Schedule {
    /// Plans `id` for `at`, replacing an earlier plan.
    pub fn insert(&mut self, id: Id, at: Instant) {
        self.remove(id);
        self.due.insert((at, id));
        self.at.insert(id, at);
    }

    pub fn remove(&mut self, id: Id) {
        if let Some(at) = self.at.remove(&id) {
            self.due.remove(&(at, id));
        }
    }

    /// The next entry due at `now`, taken out of the plan (earliest first, then oldest id).
    pub fn poll_due(&mut self, now: Instant) -> Option<Id> {
        let &(at, id) = self.due.first()?;
        if at > now {
            return None;
        }
        self.remove(id);
        Some(id)
    }

    /// When the next entry is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.due.first().map(|&(at, _)| at)
    }

    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn entries_come_due_in_time_order() {
        let t0 = crate::clock::now();
        let mut s = Schedule::default();
        s.insert(Id(3), t0 + Duration::from_secs(30));
        s.insert(Id(2), t0);
        s.insert(Id(1), t0);
        assert_eq!(s.poll_timeout(), Some(t0));
        assert_eq!(s.poll_due(t0), Some(Id(1)));
        assert_eq!(s.poll_due(t0), Some(Id(2)));
        assert_eq!(s.poll_due(t0 + Duration::from_secs(29)), None);
        assert_eq!(s.poll_timeout(), Some(t0 + Duration::from_secs(30)));
        assert_eq!(s.poll_due(t0 + Duration::from_secs(30)), Some(Id(3)));
        assert!(s.is_empty());
        assert_eq!(s.poll_timeout(), None);
    }

    #[test]
    fn a_new_plan_replaces_the_old_and_remove_forgets() {
        let t0 = crate::clock::now();
        let mut s = Schedule::default();
        s.insert(Id(1), t0 + Duration::from_secs(60));
        s.insert(Id(1), t0);
        assert_eq!(s.len(), 1);
        assert_eq!(s.poll_due(t0), Some(Id(1)));
        s.insert(Id(2), t0);
        s.remove(Id(2));
        assert_eq!(s.len(), 0);
        assert_eq!(s.poll_due(t0), None);
    }
}
