//! What the driver read from the store to route calls, kept until the store changes: who calls
//! from a device, where a dialled number leads, and the dispatch [`View`] of a destination.
//! Reading them took 8–10 queries per INVITE, each a hop to SQLite's worker thread and back
//! on the SIP loop (a third of the call benchmark's samples were those thread switches).
//!
//! Every change to what routing reads (users, devices, FollowMe, forwardings, actions,
//! templates, teams, workplaces, speed dials) is in the store's change feed, so the cache is
//! valid exactly as long as the store generation stays the same; the driver reads the feed
//! before every message it handles. Registrations are not store changes: a kept view is told
//! again which phones are registered ([`View::refresh_reach`]) each time it is used.

use std::collections::HashMap;

use crate::dispatch::{Destination, View};
use crate::store::routing::CallingUser;

/// Entries kept at most per map; past it the map starts over (a scanner dialling random
/// numbers must not grow it without bound).
const MAX_ENTRIES: usize = 4_096;

#[derive(Debug, Default)]
pub(super) struct RouteCache {
    generation: u64,
    callers: HashMap<i64, Option<CallingUser>>,
    destinations: HashMap<String, Destination>,
    views: HashMap<Destination, View>,
}

impl RouteCache {
    /// Forgets everything when the store is no longer at the generation it was read at.
    pub(super) fn at(&mut self, generation: u64) -> &mut RouteCache {
        if generation != self.generation {
            self.callers.clear();
            self.destinations.clear();
            self.views.clear();
            self.generation = generation;
        }
        self
    }

    pub(super) fn caller(&self, device: i64) -> Option<&Option<CallingUser>> {
        self.callers.get(&device)
    }

    pub(super) fn keep_caller(&mut self, device: i64, user: Option<CallingUser>) {
        bounded(&mut self.callers);
        self.callers.insert(device, user);
    }

    pub(super) fn destination(&self, dialled: &str) -> Option<&Destination> {
        self.destinations.get(dialled)
    }

    pub(super) fn keep_destination(&mut self, dialled: &str, to: Destination) {
        bounded(&mut self.destinations);
        self.destinations.insert(dialled.to_owned(), to);
    }

    pub(super) fn view(&self, target: &Destination) -> Option<&View> {
        self.views.get(target)
    }

    pub(super) fn keep_view(&mut self, target: Destination, view: View) {
        bounded(&mut self.views);
        self.views.insert(target, view);
    }
}

fn bounded<K, V>(map: &mut HashMap<K, V>) {
    if map.len() >= MAX_ENTRIES {
        map.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_generation_forgets_everything() {
        let mut cache = RouteCache::default();
        let c = cache.at(7);
        c.keep_destination("100", Destination::User("anna".into()));
        c.keep_caller(1, None);
        c.keep_view(Destination::User("anna".into()), View::default());
        assert!(cache.at(7).destination("100").is_some());
        let c = cache.at(8);
        assert!(c.destination("100").is_none());
        assert!(c.caller(1).is_none());
        assert!(c.view(&Destination::User("anna".into())).is_none());
    }

    #[test]
    fn a_kept_view_is_told_who_is_registered_now() {
        use crate::dispatch::{DeviceView, Reach, UserView};
        let device = |id, reach| DeviceView {
            id,
            followme: Default::default(),
            reach,
        };
        let mut view = View::default();
        view.insert_user(UserView {
            username: "anna".into(),
            devices: vec![
                device(1, Reach::Registered),
                device(
                    2,
                    Reach::Mobile {
                        number: "+491701234567".into(),
                    },
                ),
            ],
            workplace_devices: vec![device(3, Reach::Unregistered)],
            ..Default::default()
        });
        view.refresh_reach(|d| d == 3);
        let anna = &view.users["anna"];
        let reach: Vec<&Reach> = anna.ring_set().map(|d| &d.reach).collect();
        let mobile = Reach::Mobile {
            number: "+491701234567".into(),
        };
        assert_eq!(
            reach,
            [&Reach::Unregistered, &mobile, &Reach::Registered],
            "a mobile stays a mobile"
        );
    }

    #[test]
    fn a_full_map_starts_over() {
        let mut cache = RouteCache::default();
        for n in 0..MAX_ENTRIES + 1 {
            cache.keep_destination(&n.to_string(), Destination::Number(n.to_string()));
        }
        assert!(cache.destinations.len() <= MAX_ENTRIES);
        assert!(cache.destination(&MAX_ENTRIES.to_string()).is_some());
    }
}
