//! Phone status [Telefonstatus] for the admin API: the registrar's bindings per device, and
//! whether each device rings or is in a call (BLF, `endpoint::blf`), as the SIP driver last
//! published them. A shared handle; the registrar core itself stays single-owner.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::Binding;
use crate::store::{Registration, SipStatus, TrunkStatus};

#[derive(Debug, Clone, Default)]
pub struct Presence {
    registrations: Arc<RwLock<HashMap<i64, Vec<Registration>>>>,
    lines: Arc<RwLock<HashMap<i64, LineState>>>,
    trunks: Arc<RwLock<Vec<TrunkStatus>>>,
}

/// What a device's line is doing: rung for a call, in one (as caller or callee), or both
/// (a second call rings while it talks). Neither: idle.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineState {
    pub ringing: bool,
    pub busy: bool,
}

impl Presence {
    /// Publishes the bindings of `device` (none: not registered).
    pub fn set(&self, device: i64, bindings: &[Binding]) {
        let list: Vec<Registration> = bindings
            .iter()
            .map(|b| Registration {
                contact: b.contact.clone(),
                transport: b.origin.transport.clone(),
                source: b.origin.source.clone(),
                user_agent: b.origin.user_agent.clone(),
                expires_at: b.expires_at,
            })
            .collect();
        let mut map = (self.registrations.write()).unwrap_or_else(|e| e.into_inner());
        if list.is_empty() {
            map.remove(&device);
        } else {
            map.insert(device, list);
        }
    }

    /// Publishes every trunk's state.
    pub fn set_trunks(&self, trunks: Vec<TrunkStatus>) {
        *self.trunks.write().unwrap_or_else(|e| e.into_inner()) = trunks;
    }

    pub fn trunks(&self) -> Vec<TrunkStatus> {
        (self.trunks.read().unwrap_or_else(|e| e.into_inner())).clone()
    }

    /// Publishes what `device`'s line is doing.
    pub fn set_line(&self, device: i64, state: LineState) {
        let mut map = self.lines.write().unwrap_or_else(|e| e.into_inner());
        if state == LineState::default() {
            map.remove(&device);
        } else {
            map.insert(device, state);
        }
    }

    pub fn line(&self, device: i64) -> LineState {
        let map = self.lines.read().unwrap_or_else(|e| e.into_inner());
        map.get(&device).copied().unwrap_or_default()
    }

    pub fn status(&self, device: i64) -> SipStatus {
        let map = (self.registrations.read()).unwrap_or_else(|e| e.into_inner());
        let registrations = map.get(&device).cloned().unwrap_or_default();
        let line = self.line(device);
        SipStatus {
            registered: !registrations.is_empty(),
            registrations,
            ringing: line.ringing,
            busy: line.busy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_s_status_shows_its_line_until_it_is_idle_again() {
        let presence = Presence::default();
        assert_eq!(presence.status(7), SipStatus::default());
        let ringing = LineState {
            ringing: true,
            busy: false,
        };
        presence.set_line(7, ringing);
        let status = presence.status(7);
        assert!(
            status.ringing && !status.busy && !status.registered,
            "{status:?}"
        );
        assert_eq!(presence.line(8), LineState::default(), "another device");
        presence.set_line(7, LineState::default());
        assert_eq!(presence.status(7), SipStatus::default());
    }
}
