//! Phone provisioning: per-vendor config files over HTTP(S) and TFTP, rendered from the store.
//!
//! Vendor knowledge is data ([`manifest`]); a request is matched to a vendor and file
//! ([`identify`]) without looking at the store, then answered by [`Provisioning::fetch`]:
//! common files to anyone; a device file in full only to the phone that proves itself with
//! the provisioning credentials its first config installed ([`digest`]), or once during its
//! enrollment window. Everyone else gets the same 401, and sources that keep asking without
//! proof are banned for a while ([`limiter`]). Renders are cached per store generation
//! ([`snapshot`]); fetches are recorded in batches ([`recorder`]).

pub mod check;
mod context;
pub mod digest;
mod fetch;
pub mod firmware;
pub mod http;
pub mod identify;
pub mod limiter;
pub mod manifest;
mod phonebook;
mod recorder;
mod refresh;
pub mod render;
mod snapshot;
mod tftp_root;
mod tzrule;

use std::net::IpAddr;

use crate::net::canonical_ip;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

pub use context::{Site, Urls};
pub use fetch::{Answer, Request, Transport};
pub use recorder::{FetchLog, RecordWriter};
pub use snapshot::Rendered;
pub use tftp_root::TftpRoot;

use crate::config::Config;
use crate::store::{Store, StoreError};
use snapshot::Snapshot;

/// What can go wrong serving phones; whose fault it is shows in the variant.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisioningError {
    /// A shipped manifest is broken (our bug, caught by the tests).
    #[error("provisioning manifest: {0}")]
    Manifest(String),
    /// A template failed to compile or render (ours, or the admin's override).
    #[error("provisioning template {vendor}/{template}: {message}")]
    Template {
        vendor: crate::store::Vendor,
        template: String,
        message: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bad firmware name or upload (the admin's).
    #[error("firmware: {0}")]
    Firmware(String),
    #[error("firmware larger than {0} bytes")]
    TooLarge(u64),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
}

/// The provisioning service; cheap to clone.
#[derive(Debug, Clone)]
pub struct Provisioning {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    catalog: manifest::Catalog,
    renderer: render::Renderer,
    site: Site,
    allowed: Vec<ipnet::IpNet>,
    auto_register: bool,
    tftp_secrets: bool,
    firmware_dir: PathBuf,
    auth: digest::Authenticator,
    limiter: limiter::Limiter,
    recorder: recorder::Recorder,
    snapshot: RwLock<Arc<Snapshot>>,
    rebuild: tokio::sync::Mutex<()>,
    auto_registered: limiter::Limiter,
}

impl Provisioning {
    /// Loads the vendor catalog (with the admin's template overrides). `urls` are the
    /// addresses phones reach us at, known once sockets are bound. The [`RecordWriter`] is the
    /// service that writes fetch records; the caller runs it.
    pub fn new(
        config: &Config,
        store: Store,
        urls: Urls,
    ) -> Result<(Provisioning, RecordWriter), ProvisioningError> {
        let data = &config.server.data_dir;
        let (catalog, renderer) = check::check_templates(config)?;
        let p = &config.provisioning;
        let secs = std::time::Duration::from_secs;
        let (recorder, writer) = recorder::Recorder::new(store.clone());
        let inner = Inner {
            recorder,
            store,
            catalog,
            renderer,
            site: Site::new(config, urls),
            allowed: p.allowed_networks.clone(),
            auto_register: p.auto_register,
            tftp_secrets: config.tftp.serve_secrets,
            firmware_dir: data.join("firmware"),
            auth: digest::Authenticator::new(),
            limiter: limiter::Limiter::new(
                p.rate_limit,
                secs(p.rate_window_secs),
                secs(p.ban_secs),
            ),
            snapshot: RwLock::new(Arc::new(Snapshot::empty())),
            rebuild: tokio::sync::Mutex::new(()),
            // At most this many unknown phones join the device list per minute.
            auto_registered: limiter::Limiter::new(30, secs(60), secs(60)),
        };
        let prov = Provisioning {
            inner: Arc::new(inner),
        };
        Ok((prov, writer))
    }

    pub fn catalog(&self) -> &manifest::Catalog {
        &self.inner.catalog
    }

    pub fn firmware_dir(&self) -> &std::path::Path {
        &self.inner.firmware_dir
    }

    /// Whether `ip` may use provisioning at all (`provisioning.allowed_networks`).
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.inner.allowed.is_empty() || self.inner.allowed.iter().any(|n| n.contains(&ip))
    }

    /// A handle that waits for queued fetch records to be written.
    pub fn fetch_log(&self) -> FetchLog {
        self.inner.recorder.fetch_log()
    }
}

#[cfg(test)]
mod facts_tests;
#[cfg(test)]
mod tests;
