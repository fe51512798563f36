//! Keeping the snapshot current from the store's change feed: a change to a device, its owner,
//! its workplace or the guest logged in there renders that device's files again; a phonebook
//! change renders phonebooks again; everything else keeps its renders (ETags survive). A
//! firmware choice, or a feed that ran ahead of us, loads everything again.

use std::collections::HashSet;
use std::sync::Arc;

use super::snapshot::Snapshot;
use super::{Provisioning, ProvisioningError};
use crate::store::changes::{Change, Entity, Since};

/// More changed ids than this in one step: reading everything is cheaper than a long IN list.
const MAX_IDS: usize = 500;

/// What a batch of changes touches, by kind.
#[derive(Debug, Default)]
struct Touched {
    devices: HashSet<i64>,
    users: HashSet<i64>,
    workplaces: HashSet<i64>,
    phonebook: bool,
    everything: bool,
}

impl Touched {
    fn of(changes: &[Change]) -> Touched {
        let mut t = Touched::default();
        for c in changes {
            match c.entity {
                Entity::Device => _ = t.devices.insert(c.id),
                // A user's name and extension are in the phonebook too.
                Entity::User => {
                    t.users.insert(c.id);
                    t.phonebook = true;
                }
                Entity::Workplace => _ = t.workplaces.insert(c.id),
                Entity::Phonebook => t.phonebook = true,
                Entity::Firmware => t.everything = true,
                // Call routing, not configs.
                _ => {}
            }
        }
        let ids = t.devices.len() + t.users.len() + t.workplaces.len();
        t.everything |= ids > MAX_IDS;
        t
    }
}

impl Provisioning {
    /// The snapshot of the current store generation, brought up to date if the store changed.
    pub(super) async fn snapshot(&self) -> Result<Arc<Snapshot>, ProvisioningError> {
        let current = self.current();
        if current.is_loaded()
            && no_news(&self.inner.store.changes_since(current.generation).await?)
        {
            return Ok(current);
        }
        let _one_rebuild = self.inner.rebuild.lock().await;
        let current = self.current();
        let since = match current.is_loaded() {
            true => self.inner.store.changes_since(current.generation).await?,
            false => Since::Lagged,
        };
        let fresh = match since {
            Since::Changes(changes) if changes.is_empty() => return Ok(current),
            Since::Changes(changes) => self.apply(&current, &changes).await?,
            Since::Lagged => None,
        };
        let fresh = match fresh {
            Some(s) => s,
            None => {
                let generation = self.inner.store.generation();
                Snapshot::new(generation, self.inner.store.provisioning_data().await?)
            }
        };
        let fresh = Arc::new(fresh);
        *self
            .inner
            .snapshot
            .write()
            .unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        Ok(fresh)
    }

    /// `current` with `changes` applied, or None when everything must be read again.
    async fn apply(
        &self,
        current: &Snapshot,
        changes: &[Change],
    ) -> Result<Option<Snapshot>, ProvisioningError> {
        let touched = Touched::of(changes);
        if touched.everything {
            return Ok(None);
        }
        let generation = changes.last().map_or(current.generation, |c| c.generation);
        let list = |set: &HashSet<i64>| set.iter().copied().collect::<Vec<_>>();
        let (users, workplaces) = (list(&touched.users), list(&touched.workplaces));
        // What the changed rows reach now, and what they reached before the change.
        let fresh = self
            .inner
            .store
            .provisioning_devices(&list(&touched.devices), &users, &workplaces)
            .await?;
        let mut gone = current.related(&touched.users, &touched.workplaces);
        gone.extend(&touched.devices);
        gone.extend(fresh.iter().map(|d| d.id));
        let phonebook = match touched.phonebook {
            true => Some(self.inner.store.provisioning_phonebook().await?),
            false => None,
        };
        Ok(Some(current.updated(generation, fresh, &gone, phonebook)))
    }

    pub(super) fn current(&self) -> Arc<Snapshot> {
        self.inner
            .snapshot
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

fn no_news(since: &Since) -> bool {
    matches!(since, Since::Changes(c) if c.is_empty())
}
