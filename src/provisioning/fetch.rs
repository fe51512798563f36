//! Answering one request for a file: who gets what. The order of checks is the security
//! contract of the module doc; every way of being refused a device file looks the same.

use std::net::IpAddr;
use std::sync::Arc;

use super::digest::{self, Verdict};
use super::identify::{self, Identified};
use super::manifest::{AuthScheme, FileDef, FileKind, VendorDef};
use super::snapshot::{RenderKey, Rendered, Snapshot};
use super::{Provisioning, ProvisioningError};
use crate::clock::{Instant, Now};
use crate::net::canonical_ip;
use crate::store::provisioning::{Fetch, ProvDevice};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Https,
    Tftp,
}

/// One request for a provisioning file, whatever the protocol.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub name: &'a str,
    pub peer: IpAddr,
    pub user_agent: Option<&'a str>,
    pub authorization: Option<&'a str>,
    /// The HTTP method and path, part of the Digest answer.
    pub method: &'a str,
    pub path: &'a str,
    pub transport: Transport,
    /// When it arrived (read by the protocol driver).
    pub now: Now,
}

/// What to send back; the protocol layer maps it to status codes or TFTP errors.
#[derive(Debug)]
pub enum Answer {
    File {
        file: Rendered,
        content_type: axum::http::HeaderValue,
    },
    /// 401 with this `WWW-Authenticate` value.
    Challenge(String),
    NotFound,
    Forbidden,
    Banned,
}

impl Provisioning {
    /// Answers a request for `/prov/<name>` (or the TFTP root).
    pub async fn fetch(&self, req: &Request<'_>) -> Result<Answer, ProvisioningError> {
        let peer = canonical_ip(req.peer);
        if !self.allows(peer) {
            tracing::warn!("provisioning: denied {peer} network-not-allowed");
            return Ok(Answer::Forbidden);
        }
        let agent = identify::user_agent(&self.inner.catalog, req.user_agent);
        let Some(id) = identify::identify(&self.inner.catalog, req.name, agent) else {
            return Ok(Answer::NotFound);
        };
        let snap = self.snapshot().await?;
        match (id.file.kind, &id.mac) {
            (FileKind::Device, Some(mac)) => self.device_file(req, peer, &id, mac, &snap).await,
            _ if self.inner.limiter.is_banned(peer, req.now.mono) => Ok(Answer::Banned),
            _ => self.common_file(&id, id.file, &snap),
        }
    }

    fn common_file(
        &self,
        id: &Identified<'_>,
        file: &FileDef,
        snap: &Snapshot,
    ) -> Result<Answer, ProvisioningError> {
        self.common_template(
            id.def,
            &file.template,
            id.model.as_deref().unwrap_or(""),
            file,
            snap,
        )
    }

    fn common_template(
        &self,
        def: &VendorDef,
        template: &str,
        model: &str,
        file: &FileDef,
        snap: &Snapshot,
    ) -> Result<Answer, ProvisioningError> {
        let site = &self.inner.site;
        let key = RenderKey::Common {
            vendor: def.vendor,
            template: template.to_owned(),
            model: model.to_owned(),
        };
        let rendered = snap.rendered(key, || {
            let fw = snap.firmware_for(def.vendor, Some(model));
            let ctx = site.common(def, model, &site.language, fw);
            self.inner.renderer.render(def.vendor, template, &ctx)
        })?;
        Ok(answer(rendered, file))
    }

    async fn device_file(
        &self,
        req: &Request<'_>,
        peer: IpAddr,
        id: &Identified<'_>,
        mac: &str,
        snap: &Snapshot,
    ) -> Result<Answer, ProvisioningError> {
        let dev = snap.device_by_mac(mac);
        if req.transport == Transport::Tftp {
            return self.tftp_device_file(req, peer, id, dev, snap);
        }
        let unix = req.now.wall;
        let verdict = self.check_proof(req, id.def, dev);
        if let (Verdict::Valid, Some(dev)) = (verdict, dev) {
            return self.full_config(req, peer, id, dev, snap);
        }
        // A banned source may still prove itself (phones behind one NAT with a scanner), but
        // gets no enrollment window, no auto-registration and no more log lines.
        if self.inner.limiter.is_banned(peer, req.now.mono) {
            return Ok(self.challenge(id.def, verdict == Verdict::Stale, unix));
        }
        if verdict == Verdict::Stale {
            return Ok(self.challenge(id.def, true, unix));
        }
        // HEAD gets no body, so it must not use up the one fetch the window allows.
        let window = dev.filter(|d| req.method != "HEAD" && in_window(d, unix));
        if let Some(dev) = window
            && self.inner.store.close_enrollment(dev.id, unix).await?
        {
            tracing::info!("provisioning: device {} enrolled from {peer}", dev.id);
            return self.full_config(req, peer, id, dev, snap);
        }
        let reason = match (dev, req.authorization) {
            (None, _) => "unknown-device",
            (Some(_), None) => "no-credentials",
            (Some(_), Some(_)) => "bad-credentials",
        };
        self.deny(peer, reason, req.now.mono);
        if dev.is_none() {
            self.maybe_auto_register(peer, id, mac, req.now.mono).await;
        }
        Ok(self.challenge(id.def, false, unix))
    }

    /// TFTP cannot authenticate: a secret-free bootstrap, the same for every MAC, unless the
    /// admin chose `tftp.serve_secrets`.
    fn tftp_device_file(
        &self,
        req: &Request<'_>,
        peer: IpAddr,
        id: &Identified<'_>,
        dev: Option<&Arc<ProvDevice>>,
        snap: &Snapshot,
    ) -> Result<Answer, ProvisioningError> {
        if self.inner.limiter.is_banned(peer, req.now.mono) {
            return Ok(Answer::Banned);
        }
        match dev {
            Some(dev) if self.inner.tftp_secrets => self.full_config(req, peer, id, dev, snap),
            _ => {
                let bootstrap = id.file.bootstrap.as_deref().unwrap_or(&id.file.template);
                self.common_template(id.def, bootstrap, "", id.file, snap)
            }
        }
    }

    fn full_config(
        &self,
        req: &Request<'_>,
        peer: IpAddr,
        id: &Identified<'_>,
        dev: &Arc<ProvDevice>,
        snap: &Snapshot,
    ) -> Result<Answer, ProvisioningError> {
        // The admin's vendor wins over the guess from a shared file name.
        let def = dev.vendor.map_or(id.def, |v| self.inner.catalog.get(v));
        let file = def
            .files
            .iter()
            .find(|f| f.kind == FileKind::Device)
            .unwrap_or(id.file);
        let key = RenderKey::Device { id: dev.id };
        let site = &self.inner.site;
        let rendered = snap.rendered(key, || {
            let fw = snap.firmware_for(def.vendor, dev.model.as_deref());
            let ctx = site.device(def, dev, fw);
            self.inner.renderer.render(def.vendor, &file.template, &ctx)
        })?;
        let now = req.now.wall;
        let key = super::recorder::FetchKey {
            id: dev.id,
            ip: peer,
            at: now,
            generation: snap.generation,
        };
        self.inner.recorder.record(key, || Fetch {
            device_id: dev.id,
            ip: peer.to_string(),
            at: now,
            file: req.name.to_owned(),
            user_agent: req.user_agent.map(|u| u.chars().take(256).collect()),
            model: id.agent.model.clone(),
            firmware: id.agent.firmware.clone(),
            // The phone now has every change up to this generation: its resync mark (if one
            // is older) goes away when the record is written.
            generation: snap.generation,
        });
        Ok(answer(rendered, file))
    }

    /// Checks the request's credentials against the device's; an unknown device is checked
    /// against a throwaway credential so both cost the same.
    fn check_proof(
        &self,
        req: &Request<'_>,
        def: &VendorDef,
        dev: Option<&Arc<ProvDevice>>,
    ) -> Verdict {
        let Some(header) = req.authorization else {
            return Verdict::Invalid;
        };
        let (user, pass) = match dev {
            Some(d) => (
                d.prov_username.as_deref().unwrap_or_default(),
                d.prov_password.as_deref().unwrap_or_default(),
            ),
            None => ("-", "-"),
        };
        if user.is_empty() || pass.is_empty() {
            return Verdict::Invalid;
        }
        let basic_ok = def.auth == AuthScheme::Basic || req.transport == Transport::Https;
        let verdict = if header.len() > 6 && header[..6].eq_ignore_ascii_case("basic ") {
            if basic_ok && digest::verify_basic(header, user, pass) {
                Verdict::Valid
            } else {
                Verdict::Invalid
            }
        } else {
            self.inner
                .auth
                .verify_digest(header, req.method, req.path, user, pass, req.now.wall)
        };
        if dev.is_none() {
            Verdict::Invalid
        } else {
            verdict
        }
    }

    fn challenge(&self, def: &VendorDef, stale: bool, now: crate::clock::UnixTime) -> Answer {
        Answer::Challenge(match def.auth {
            AuthScheme::Digest => self.inner.auth.digest_challenge(now, stale),
            AuthScheme::Basic => digest::Authenticator::basic_challenge(),
        })
    }

    /// Logs a refusal in the one format fail2ban reads, and counts it against the source.
    pub(super) fn deny(&self, peer: IpAddr, reason: &str, now: Instant) {
        tracing::warn!("provisioning: denied {peer} {reason}");
        if self.inner.limiter.hit(peer, now) == super::limiter::Hit::Banned {
            let secs = self.inner.limiter.ban().as_secs();
            tracing::warn!("provisioning: denied {peer} banned-for-{secs}s");
        }
    }

    async fn maybe_auto_register(
        &self,
        peer: IpAddr,
        id: &Identified<'_>,
        mac: &str,
        now: Instant,
    ) {
        let vendor_says =
            id.agent.vendor == Some(id.def.vendor) && id.agent.mac.as_deref() == Some(mac);
        if !self.inner.auto_register || !(id.def.has_oui(mac) || vendor_says) {
            return;
        }
        let global = IpAddr::from([0u8, 0, 0, 0]);
        if self.inner.auto_registered.hit(global, now) != super::limiter::Hit::Counted
            || self.inner.auto_registered.is_banned(global, now)
        {
            return;
        }
        let vendor = id.def.vendor;
        match self
            .inner
            .store
            .auto_register(mac, vendor, id.model.as_deref())
            .await
        {
            Ok(Some(device)) => tracing::info!(
                "provisioning: auto-registered {mac} ({vendor}) as device {device} from {peer}"
            ),
            Ok(None) => {}
            Err(e) => tracing::error!("provisioning: auto-registering {mac}: {e}"),
        }
    }
}

fn in_window(dev: &ProvDevice, now: crate::clock::UnixTime) -> bool {
    dev.prov_state == crate::store::ProvState::Enrolling
        && dev.enroll_until.is_some_and(|u| u > now)
}

fn answer(file: Rendered, def: &FileDef) -> Answer {
    Answer::File {
        file,
        content_type: def.content_type.clone(),
    }
}
