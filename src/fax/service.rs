//! The fax service: what every fax call shares — the store, the inboxes, the RTP port pool and
//! `[fax]` — and the [`Answerer`] the SIP driver hands calls to a fax extension. Each call runs
//! as a task of its own on the runtime the service was made on (the main one: fax never runs on
//! the SIP thread), see [`super::call`].

use std::sync::Arc;

use super::FaxInbox;
use crate::config::FaxConfig;
use crate::endpoint::driver::local::{Answerer, LocalCall};
use crate::media::RtpPorts;
use crate::store::Store;

/// What the calls share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) store: Store,
    pub(super) inbox: FaxInbox,
    pub(super) ports: RtpPorts,
    pub(super) config: FaxConfig,
    runtime: tokio::runtime::Handle,
}

/// The fax service, one of the SIP driver's [`Answerer`]s.
#[derive(Debug, Clone)]
pub struct FaxService {
    shared: Arc<Shared>,
}

impl FaxService {
    /// The service; its calls run on the current runtime, on ports of `ports` (shared with
    /// voicemail: one `[sip] rtp_ports`).
    pub fn new(store: Store, inbox: FaxInbox, config: FaxConfig, ports: RtpPorts) -> FaxService {
        let shared = Shared {
            store,
            inbox,
            ports,
            config,
            runtime: tokio::runtime::Handle::current(),
        };
        FaxService {
            shared: Arc::new(shared),
        }
    }
}

impl Answerer for FaxService {
    fn start(&self, call: LocalCall) {
        let shared = self.shared.clone();
        self.shared.runtime.spawn(super::call::run(shared, call));
    }
}
