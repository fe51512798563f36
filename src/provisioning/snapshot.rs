//! The provisioning data of one store generation, indexed for the hot path, with the files
//! rendered from it. A change in the store makes a new snapshot; renders are byte-identical
//! for unchanged input, so ETags survive it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::store::Vendor;
use crate::store::provisioning::{FirmwareModel, PhonebookLine, ProvDevice, ProvisioningData};

/// Renderings kept per snapshot at most.
const MAX_RENDERED: usize = 50_000;

/// A rendered file and its strong ETag.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Bytes,
    pub etag: Arc<str>,
    /// The same, ready to send.
    pub etag_header: axum::http::HeaderValue,
}

impl Rendered {
    pub fn new(text: String) -> Rendered {
        let digest = Sha256::digest(text.as_bytes());
        let etag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let etag = format!("\"{etag}\"");
        Rendered {
            body: Bytes::from(text),
            etag_header: axum::http::HeaderValue::from_str(&etag).expect("hex is a valid header"),
            etag: etag.into(),
        }
    }
}

/// Which rendering of which template: device files per device, common files per model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RenderKey {
    Common {
        vendor: Vendor,
        template: String,
        model: String,
    },
    /// The device's own file; the vendor's device template is implied.
    Device {
        id: i64,
    },
    Phonebook {
        vendor: Vendor,
        language: String,
    },
}

#[derive(Debug)]
pub struct Snapshot {
    pub generation: u64,
    /// False for the empty snapshot the server starts with.
    loaded: bool,
    by_mac: HashMap<String, Arc<ProvDevice>>,
    by_token: HashMap<String, Arc<ProvDevice>>,
    pub phonebook: Vec<PhonebookLine>,
    firmware: HashMap<(Vendor, String), String>,
    /// Read on every request, written once per file and generation: a read lock keeps the
    /// workers from waking each other.
    rendered: RwLock<HashMap<RenderKey, Rendered>>,
}

impl Snapshot {
    pub fn empty() -> Snapshot {
        Snapshot {
            loaded: false,
            ..Snapshot::new(0, ProvisioningData::default())
        }
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded
    }

    pub fn new(generation: u64, data: ProvisioningData) -> Snapshot {
        let devices = data.devices.into_iter().map(Arc::new);
        Snapshot::indexed(generation, devices.collect(), data.phonebook, data.firmware)
    }

    fn indexed(
        generation: u64,
        devices: Vec<Arc<ProvDevice>>,
        phonebook: Vec<PhonebookLine>,
        firmware: impl IntoIterator<Item = FirmwareModel>,
    ) -> Snapshot {
        Snapshot {
            generation,
            loaded: true,
            by_mac: devices
                .iter()
                .filter_map(|d| Some((d.mac.clone()?, d.clone())))
                .collect(),
            by_token: devices
                .iter()
                .map(|d| (d.token.clone(), d.clone()))
                .collect(),
            phonebook,
            firmware: firmware
                .into_iter()
                .map(|f| ((f.vendor, f.model), f.file))
                .collect(),
            rendered: RwLock::default(),
        }
    }

    /// The devices whose config shows one of `users` (owner or guest) or `workplaces`.
    pub fn related(&self, users: &HashSet<i64>, workplaces: &HashSet<i64>) -> HashSet<i64> {
        let reaches = |id: Option<i64>, set: &HashSet<i64>| id.is_some_and(|i| set.contains(&i));
        self.by_token
            .values()
            .filter(|d| {
                reaches(d.user_id, users)
                    || reaches(d.guest_id, users)
                    || reaches(d.workplace_id, workplaces)
            })
            .map(|d| d.id)
            .collect()
    }

    /// This snapshot at `generation`: the devices in `gone` replaced by `fresh` (those that
    /// still exist), the phonebook by `phonebook` if given. Renders of everything else stay.
    pub fn updated(
        &self,
        generation: u64,
        fresh: Vec<ProvDevice>,
        gone: &HashSet<i64>,
        phonebook: Option<Vec<PhonebookLine>>,
    ) -> Snapshot {
        let mut devices: Vec<Arc<ProvDevice>> = self
            .by_token
            .values()
            .filter(|d| !gone.contains(&d.id))
            .cloned()
            .collect();
        devices.extend(fresh.into_iter().map(Arc::new));
        let phonebook_changed = phonebook.as_ref().is_some_and(|p| *p != self.phonebook);
        let firmware = self
            .firmware
            .iter()
            .map(|((vendor, model), file)| FirmwareModel {
                vendor: *vendor,
                model: model.clone(),
                file: file.clone(),
            });
        let next = Snapshot::indexed(
            generation,
            devices,
            phonebook.unwrap_or_else(|| self.phonebook.clone()),
            firmware,
        );
        let kept: HashMap<RenderKey, Rendered> = self
            .rendered
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(key, _)| match key {
                RenderKey::Device { id } => !gone.contains(id),
                RenderKey::Phonebook { .. } => !phonebook_changed,
                RenderKey::Common { .. } => true,
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        *next.rendered.write().unwrap_or_else(|e| e.into_inner()) = kept;
        next
    }

    pub fn device_by_mac(&self, mac: &str) -> Option<&Arc<ProvDevice>> {
        self.by_mac.get(mac)
    }

    pub fn device_by_token(&self, token: &str) -> Option<&Arc<ProvDevice>> {
        self.by_token.get(token)
    }

    /// The firmware file the admin chose for `vendor`/`model`.
    pub fn firmware_for(&self, vendor: Vendor, model: Option<&str>) -> Option<&str> {
        self.firmware
            .get(&(vendor, model?.to_owned()))
            .map(String::as_str)
    }

    /// The cached rendering for `key`, or renders it with `render` and keeps it.
    pub fn rendered<E>(
        &self,
        key: RenderKey,
        render: impl FnOnce() -> Result<String, E>,
    ) -> Result<Rendered, E> {
        let cached = self
            .rendered
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
            .cloned();
        if let Some(r) = cached {
            return Ok(r);
        }
        let r = Rendered::new(render()?);
        let mut cache = self.rendered.write().unwrap_or_else(|e| e.into_inner());
        // Names a phone picks (a model in a file name) must not grow the cache without bound.
        if cache.len() < MAX_RENDERED {
            cache.insert(key, r.clone());
        }
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::provisioning::ProvDevice;

    fn device(id: i64, user: i64, name: &str) -> ProvDevice {
        let mut d = crate::provisioning::check::sample_device(Vendor::Yealink, name);
        d.id = id;
        d.mac = Some(format!("0015650000{id:02x}"));
        d.token = format!("token-{id}");
        d.user_id = Some(user);
        d
    }

    fn render(snap: &Snapshot, id: i64, text: &str) -> Rendered {
        snap.rendered(RenderKey::Device { id }, || Ok::<_, ()>(text.to_owned()))
            .expect("render")
    }

    #[test]
    fn a_change_renders_only_the_devices_it_reaches_again() {
        let data = ProvisioningData {
            devices: vec![device(1, 10, "Anna"), device(2, 20, "Ben")],
            ..ProvisioningData::default()
        };
        let snap = Snapshot::new(5, data);
        render(&snap, 1, "anna v1");
        render(&snap, 2, "ben v1");
        let pb = RenderKey::Phonebook {
            vendor: Vendor::Yealink,
            language: "de".into(),
        };
        snap.rendered(pb.clone(), || Ok::<_, ()>("book".into()))
            .expect("render");

        // User 10 was renamed: device 1 reaches it, device 2 does not.
        let gone = snap.related(&HashSet::from([10]), &HashSet::new());
        assert_eq!(gone, HashSet::from([1]));
        let next = snap.updated(6, vec![device(1, 10, "Anna B.")], &gone, Some(Vec::new()));
        assert_eq!(next.generation, 6);
        assert_eq!(render(&next, 1, "anna v2").body, "anna v2");
        assert_eq!(render(&next, 2, "ben v2").body, "ben v1", "kept its render");
        let kept = next.rendered(pb, || Err::<String, _>("rendered again"));
        assert_eq!(kept.expect("same phonebook: kept").body, "book");
        let anna = next.device_by_mac("001565000001").expect("still there");
        assert_eq!(anna.user_display.as_deref(), Some("Anna B."));
    }

    #[test]
    fn a_device_that_is_gone_leaves_the_snapshot() {
        let data = ProvisioningData {
            devices: vec![device(1, 10, "Anna"), device(2, 20, "Ben")],
            ..ProvisioningData::default()
        };
        let snap = Snapshot::new(5, data);
        let next = snap.updated(6, Vec::new(), &HashSet::from([2]), None);
        assert!(next.device_by_token("token-2").is_none());
        assert!(next.device_by_token("token-1").is_some());
        assert!(!Snapshot::empty().is_loaded() && next.is_loaded());
    }
}
