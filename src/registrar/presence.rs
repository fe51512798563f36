//! Phone status [Telefonstatus] for the admin API: the registrar's bindings per device, as the
//! SIP driver last published them. A shared handle; the registrar core itself stays single-owner.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::Binding;
use crate::store::{Registration, SipStatus};

#[derive(Debug, Clone, Default)]
pub struct Presence(Arc<RwLock<HashMap<i64, Vec<Registration>>>>);

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
        let mut map = self.0.write().unwrap_or_else(|e| e.into_inner());
        if list.is_empty() {
            map.remove(&device);
        } else {
            map.insert(device, list);
        }
    }

    pub fn status(&self, device: i64) -> SipStatus {
        let map = self.0.read().unwrap_or_else(|e| e.into_inner());
        let registrations = map.get(&device).cloned().unwrap_or_default();
        SipStatus {
            registered: !registrations.is_empty(),
            registrations,
        }
    }
}
