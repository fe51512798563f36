//! The location service (RFC 3261 §10.3): which contacts each device registered, until when.
//!
//! Sans-IO, knowing nothing of SIP messages: the REGISTER handler turns a request into
//! [`Update`]s (with each contact's comparison key, so URI equality stays the SIP layer's
//! business) and calls [`Registrar::register`] with the wall-clock `now` (bindings outlive the
//! process, so their times are [`UnixTime`]s). Output goes through `poll_*`:
//!
//! * [`Registrar::poll_timeout`] — when the next binding expires; then call
//!   [`Registrar::handle_timeout`].
//! * [`Registrar::poll_writes`] — the binding changes not yet written to the store (the
//!   driver writes them behind, in batches).
//! * [`Registrar::poll_event`] — a device became reachable or unreachable.
//!
//! Every table is bounded: contacts per device and bindings in all ([`RegistrarLimits`]).

pub mod auth;
pub mod presence;
pub mod register;
mod table;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Duration;

use crate::clock::UnixTime;
pub use table::Binding;
use table::Table;

/// Bounds and the expiry rules of RFC 3261 §10.3 step 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrarLimits {
    /// Shorter (non-zero) requests get 423 Interval Too Brief with this as `Min-Expires`.
    pub min_expires: u32,
    /// Longer requests are granted this.
    pub max_expires: u32,
    /// Granted when the request names none (RFC 3261 §10.2.1.1 suggests 3600).
    pub default_expires: u32,
    pub max_contacts_per_device: usize,
    pub max_bindings: usize,
}

impl Default for RegistrarLimits {
    fn default() -> Self {
        RegistrarLimits {
            min_expires: 60,
            max_expires: 3600,
            default_expires: 3600,
            max_contacts_per_device: 5,
            max_bindings: 20_000,
        }
    }
}

/// One Contact of a REGISTER, as the SIP layer read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The Contact header value as sent (kept exactly: parameters, escapes).
    pub contact: String,
    /// What makes two contacts the same (RFC 3261 §19.1.4 URI equality, computed by the caller).
    pub key: String,
    /// The contact's `expires` parameter, else the request's `Expires`, else None.
    pub expires: Option<u32>,
    pub q: Option<String>,
}

/// Where and how a REGISTER arrived (kept with its bindings: requests go back the same way).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub transport: String,
    pub source: String,
    pub local: String,
    pub user_agent: Option<String>,
    pub call_id: String,
    pub cseq: u32,
}

/// What a REGISTER asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// List the bindings (no Contact).
    Query,
    /// Add, refresh or remove these contacts.
    Contacts(Vec<Update>),
    /// `Contact: *` with `Expires: 0`: remove every binding of the device.
    RemoveAll,
}

/// Why a REGISTER changed nothing; the SIP layer answers with the status each names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// 423 Interval Too Brief, with `Min-Expires`.
    #[error("interval too brief (at least {min_expires} s)")]
    TooBrief { min_expires: u32 },
    /// An older request of the same Call-ID arrived after a newer one (§10.3 step 7): 500.
    #[error("out of order: CSeq not above the binding's")]
    OutOfOrder,
    /// `*` with a non-zero expiry, or with other contacts: 400.
    #[error("'Contact: *' needs Expires: 0 and no other contact")]
    BadWildcard,
    /// The device or the whole table is full: 503 (the phone retries later).
    #[error("too many bindings")]
    Full,
}

/// A change to write behind to the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    Upsert(Binding),
    Remove { device: i64, contact: String },
}

impl Write {
    /// The device the change is about.
    pub fn device(&self) -> i64 {
        match self {
            Write::Upsert(b) => b.device_id,
            Write::Remove { device, .. } => *device,
        }
    }
}

/// A device's reachability changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Reachable { device: i64 },
    Unreachable { device: i64 },
}

#[derive(Debug, Default)]
pub struct Registrar {
    limits: RegistrarLimits,
    table: Table,
    writes: Vec<Write>,
    events: VecDeque<Event>,
}

impl Registrar {
    pub fn new(limits: RegistrarLimits) -> Registrar {
        Registrar {
            limits,
            ..Registrar::default()
        }
    }

    /// Takes bindings read from the store at start (expired ones are dropped by the caller or
    /// by the first [`Registrar::handle_timeout`]).
    pub fn load(&mut self, bindings: impl IntoIterator<Item = Binding>) {
        for b in bindings {
            if let Some(old) = self.table.insert(b) {
                // Two stored rows for one contact (its text changed): the older goes.
                self.writes.push(Write::Remove {
                    device: old.device_id,
                    contact: old.contact,
                });
            }
        }
    }

    /// Applies a REGISTER of `device` (RFC 3261 §10.3 steps 6–8) and returns the device's
    /// bindings afterwards, for the 200's Contact headers. Nothing changes on an error.
    pub fn register(
        &mut self,
        device: i64,
        request: Request,
        origin: &Origin,
        now: UnixTime,
    ) -> Result<Vec<Binding>, RegisterError> {
        let was_reachable = self.table.has(device);
        match request {
            Request::Query => {}
            Request::RemoveAll => self.remove_all(device, origin)?,
            Request::Contacts(updates) => self.apply(device, &updates, origin, now)?,
        }
        self.reachability_changed(device, was_reachable);
        Ok(self.table.of(device).to_vec())
    }

    /// Has a stored binding that was not loaded removed from the store too.
    pub fn forget_stored(&mut self, device: i64, contact: String) {
        self.writes.push(Write::Remove { device, contact });
    }

    /// Forgets every binding of `device` (deleted, unassigned, disabled).
    pub fn remove_device(&mut self, device: i64) {
        let was_reachable = self.table.has(device);
        for b in self.table.remove_device(device) {
            self.writes.push(Write::Remove {
                device,
                contact: b.contact,
            });
        }
        self.reachability_changed(device, was_reachable);
    }

    /// The bindings of `device`.
    pub fn bindings(&self, device: i64) -> &[Binding] {
        self.table.of(device)
    }

    /// Every device with a binding.
    pub fn devices(&self) -> impl Iterator<Item = i64> + '_ {
        self.table.devices()
    }

    pub fn len(&self) -> usize {
        self.table.len()
    }

    pub fn is_empty(&self) -> bool {
        self.table.len() == 0
    }

    /// Removes the bindings that expired by `now`.
    pub fn handle_timeout(&mut self, now: UnixTime) {
        for b in self.table.expire(now) {
            let device = b.device_id;
            self.writes.push(Write::Remove {
                device,
                contact: b.contact,
            });
            if !self.table.has(device) {
                self.events.push_back(Event::Unreachable { device });
            }
        }
    }

    /// When the next binding expires.
    pub fn poll_timeout(&self) -> Option<UnixTime> {
        self.table.next_expiry()
    }

    /// The changes since the last call, in order, to write behind.
    pub fn poll_writes(&mut self) -> Vec<Write> {
        std::mem::take(&mut self.writes)
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    fn remove_all(&mut self, device: i64, origin: &Origin) -> Result<(), RegisterError> {
        // §10.3 step 6: a wildcard removes all, unless an existing binding of the same Call-ID
        // has a CSeq at least as high.
        if self
            .table
            .of(device)
            .iter()
            .any(|b| b.origin.call_id == origin.call_id && b.origin.cseq >= origin.cseq)
        {
            return Err(RegisterError::OutOfOrder);
        }
        self.remove_device(device);
        Ok(())
    }

    fn apply(
        &mut self,
        device: i64,
        updates: &[Update],
        origin: &Origin,
        now: UnixTime,
    ) -> Result<(), RegisterError> {
        let granted = self.check(device, updates, origin)?;
        for (update, expires) in updates.iter().zip(granted) {
            if expires == 0 {
                if let Some(b) = self.table.remove(device, &update.key) {
                    self.writes.push(Write::Remove {
                        device,
                        contact: b.contact,
                    });
                }
                continue;
            }
            let binding = Binding {
                device_id: device,
                contact: update.contact.clone(),
                key: update.key.clone(),
                expires_at: now.after(Duration::from_secs(u64::from(expires))),
                q: update.q.clone(),
                origin: origin.clone(),
                registered_at: now,
            };
            self.writes.push(Write::Upsert(binding.clone()));
            if let Some(old) = self.table.insert(binding)
                && old.contact != update.contact
            {
                // Stored under its old text: that row goes.
                self.writes.push(Write::Remove {
                    device,
                    contact: old.contact,
                });
            }
        }
        Ok(())
    }

    /// The expiry granted to each update, or why the request fails as a whole.
    fn check(
        &self,
        device: i64,
        updates: &[Update],
        origin: &Origin,
    ) -> Result<Vec<u32>, RegisterError> {
        let l = self.limits;
        let mut granted = Vec::with_capacity(updates.len());
        let mut added = 0;
        for u in updates {
            let expires = u.expires.unwrap_or(l.default_expires);
            if expires != 0 && expires < l.min_expires {
                return Err(RegisterError::TooBrief {
                    min_expires: l.min_expires,
                });
            }
            match self.table.get(device, &u.key) {
                Some(b) if b.origin.call_id == origin.call_id && b.origin.cseq >= origin.cseq => {
                    return Err(RegisterError::OutOfOrder);
                }
                None if expires != 0 => added += 1,
                _ => {}
            }
            granted.push(expires.min(l.max_expires));
        }
        let device_count = self.table.of(device).len() + added;
        if device_count > l.max_contacts_per_device || self.table.len() + added > l.max_bindings {
            return Err(RegisterError::Full);
        }
        Ok(granted)
    }

    fn reachability_changed(&mut self, device: i64, was: bool) {
        match (was, self.table.has(device)) {
            (false, true) => self.events.push_back(Event::Reachable { device }),
            (true, false) => self.events.push_back(Event::Unreachable { device }),
            _ => {}
        }
    }
}
