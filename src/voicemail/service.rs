//! The voicemail service: what every voicemail call shares — the boxes, the prompts, the RTP
//! port pool and the PIN lockout — and the [`Answerer`] the SIP driver hands calls to. Each
//! call runs as a task of its own on the runtime the service was made on (the main one: media
//! never runs on the SIP thread), see [`super::call`].

use std::sync::{Arc, Mutex};

use super::mailbox::Mailboxes;
use super::prompts::Prompts;
use crate::clock::Instant;
use crate::config::VoicemailConfig;
use crate::endpoint::driver::local::{Answerer, LocalCall};
use crate::net::RtpPorts;
use crate::phone_menu::lockout::{Attempt, Lockouts};
use crate::store::Store;
use crate::store::secret::Secret;

/// What the calls share.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) store: Store,
    pub(super) mailboxes: Mailboxes,
    pub(super) prompts: Prompts,
    pub(super) config: VoicemailConfig,
    pub(super) ports: RtpPorts,
    /// When the service started: the calls read their sockets on a grid from here.
    pub(super) epoch: Instant,
    lockouts: Mutex<Lockouts>,
    runtime: tokio::runtime::Handle,
}

/// The voicemail service, handed to the SIP driver as its [`Answerer`].
#[derive(Debug, Clone)]
pub struct VoicemailService {
    shared: Arc<Shared>,
}

impl VoicemailService {
    /// The service; its calls run on the current runtime, on ports of `rtp_ports`;
    /// the mailbox PIN is locked out like the menu key's, with `[voicemail]`'s limits.
    pub fn new(
        store: Store,
        mailboxes: Mailboxes,
        prompts: Prompts,
        config: VoicemailConfig,
        rtp_ports: RtpPorts,
    ) -> VoicemailService {
        let lockout = config.lockout();
        let shared = Shared {
            store,
            mailboxes,
            prompts,
            config,
            ports: rtp_ports,
            epoch: crate::clock::now(),
            lockouts: Mutex::new(Lockouts::new(&lockout)),
            runtime: tokio::runtime::Handle::current(),
        };
        VoicemailService {
            shared: Arc::new(shared),
        }
    }
}

impl Answerer for VoicemailService {
    fn start(&self, call: LocalCall) {
        let shared = self.shared.clone();
        self.shared.runtime.spawn(super::call::run(shared, call));
    }
}

impl Shared {
    /// Reserves a PIN attempt for mailbox `extension` from `device`; None while locked.
    pub(super) fn begin_attempt(
        &self,
        extension: &str,
        device: i64,
        now: Instant,
    ) -> Option<Attempt> {
        self.lockouts
            .lock()
            .ok()?
            .begin(extension, device, now)
            .ok()
    }

    pub(super) fn finish_attempt(&self, attempt: Attempt, right: bool, now: Instant) {
        if let Ok(mut lockouts) = self.lockouts.lock() {
            for started in lockouts.finish(attempt, right, now) {
                tracing::warn!(
                    "voicemail: lockout {} for {}s",
                    started.subject,
                    started.secs
                );
            }
        }
    }

    /// Whether `pin` is the PIN of the user at `extension`. A missing user or PIN costs a
    /// hash all the same (no oracle in the timing).
    pub(super) async fn verify_pin(&self, extension: &str, pin: &str) -> bool {
        let secret = Secret::new(pin);
        match self.store.menu_user(extension).await {
            Ok(Some(user)) if user.pin_hash.is_some() && !pin.is_empty() => {
                let hash = user.pin_hash.as_deref().unwrap_or_default();
                self.store.verify_secret(&secret, hash).await
            }
            _ => {
                self.store.spend_a_hash(&secret).await;
                false
            }
        }
    }
}
