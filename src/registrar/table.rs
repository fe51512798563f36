//! The bindings, by device, with an index by expiry time.

use std::collections::{BTreeSet, HashMap};

use super::Origin;
use crate::clock::UnixTime;

/// One registered contact of one device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub device_id: i64,
    /// The Contact header value as registered.
    pub contact: String,
    /// Its comparison key (URI equality).
    pub key: String,
    pub expires_at: UnixTime,
    pub q: Option<String>,
    pub origin: Origin,
    pub registered_at: UnixTime,
}

impl Binding {
    /// Seconds left at `now` (for the 200's `expires` parameter).
    pub fn remaining(&self, now: UnixTime) -> u64 {
        self.expires_at.since(now).as_secs()
    }
}

#[derive(Debug, Default)]
pub(super) struct Table {
    by_device: HashMap<i64, Vec<Binding>>,
    /// (expiry, device, key) of every binding.
    by_expiry: BTreeSet<(UnixTime, i64, String)>,
    len: usize,
}

impl Table {
    pub(super) fn of(&self, device: i64) -> &[Binding] {
        self.by_device.get(&device).map_or(&[], Vec::as_slice)
    }

    pub(super) fn has(&self, device: i64) -> bool {
        self.by_device.contains_key(&device)
    }

    pub(super) fn get(&self, device: i64, key: &str) -> Option<&Binding> {
        self.of(device).iter().find(|b| b.key == key)
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn devices(&self) -> impl Iterator<Item = i64> + '_ {
        self.by_device.keys().copied()
    }

    /// Adds `b`, replacing (and returning) the device's binding with the same key.
    pub(super) fn insert(&mut self, b: Binding) -> Option<Binding> {
        let replaced = self.remove(b.device_id, &b.key);
        self.by_expiry
            .insert((b.expires_at, b.device_id, b.key.clone()));
        self.by_device.entry(b.device_id).or_default().push(b);
        self.len += 1;
        replaced
    }

    pub(super) fn remove(&mut self, device: i64, key: &str) -> Option<Binding> {
        let list = self.by_device.get_mut(&device)?;
        let at = list.iter().position(|b| b.key == key)?;
        let b = list.swap_remove(at);
        if list.is_empty() {
            self.by_device.remove(&device);
        }
        self.by_expiry
            .remove(&(b.expires_at, device, b.key.clone()));
        self.len -= 1;
        Some(b)
    }

    pub(super) fn remove_device(&mut self, device: i64) -> Vec<Binding> {
        let list = self.by_device.remove(&device).unwrap_or_default();
        for b in &list {
            self.by_expiry
                .remove(&(b.expires_at, device, b.key.clone()));
        }
        self.len -= list.len();
        list
    }

    /// Removes and returns the bindings expired at `now`.
    pub(super) fn expire(&mut self, now: UnixTime) -> Vec<Binding> {
        let mut gone = Vec::new();
        while let Some((at, device, key)) = self.by_expiry.first().cloned() {
            if at > now {
                break;
            }
            match self.remove(device, &key) {
                Some(b) => gone.push(b),
                None => _ = self.by_expiry.remove(&(at, device, key)),
            }
        }
        gone
    }

    pub(super) fn next_expiry(&self) -> Option<UnixTime> {
        self.by_expiry.first().map(|(at, _, _)| *at)
    }
}
