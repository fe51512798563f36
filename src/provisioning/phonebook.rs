//! The remote phonebook at `/phonebook/<device token>/<file>`, in each vendor's XML dialect:
//! the global phonebook and every user whose phonebook entry is enabled.

use std::net::IpAddr;

use super::fetch::Answer;
use super::snapshot::RenderKey;
use super::{Provisioning, ProvisioningError};
use crate::net::canonical_ip;

impl Provisioning {
    pub async fn phonebook(
        &self,
        token: &str,
        file: &str,
        peer: IpAddr,
        now: crate::clock::Instant,
    ) -> Result<Answer, ProvisioningError> {
        let peer = canonical_ip(peer);
        if !self.allows(peer) {
            tracing::warn!("provisioning: denied {peer} network-not-allowed");
            return Ok(Answer::Forbidden);
        }
        if self.inner.limiter.is_banned(peer, now) {
            return Ok(Answer::Banned);
        }
        let snap = self.snapshot().await?;
        let Some(dev) = snap
            .device_by_token(token)
            .filter(|d| token.len() >= 32 && d.vendor.is_some())
        else {
            self.deny(peer, "unknown-token", now);
            return Ok(Answer::NotFound);
        };
        let def = self
            .inner
            .catalog
            .get(dev.vendor.unwrap_or(crate::store::Vendor::Yealink));
        if file != def.phonebook_file {
            return Ok(Answer::NotFound);
        }
        let site = &self.inner.site;
        let language = site.language_of(dev).to_owned();
        let key = RenderKey::Phonebook {
            vendor: def.vendor,
            language: language.clone(),
        };
        let rendered = snap.rendered(key, || {
            let ctx = site.phonebook(&snap.phonebook, &language);
            self.inner
                .renderer
                .render(def.vendor, &def.phonebook.template, &ctx)
        })?;
        Ok(Answer::File {
            file: rendered,
            content_type: def.phonebook.content_type.clone(),
        })
    }
}
