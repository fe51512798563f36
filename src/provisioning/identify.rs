//! Which vendor, model and file a request is for: the User-Agent first (vendor, model,
//! firmware, MAC), then the file name and the MAC's OUI. Never the store: the answer to an
//! unknown MAC must not differ from the answer to a known one.

use super::manifest::{Catalog, FileDef, VendorDef};
use crate::store::Vendor;

/// What a phone said about itself in its User-Agent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserAgent {
    pub vendor: Option<Vendor>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    /// 12 lowercase hex digits.
    pub mac: Option<String>,
}

/// A request name matched to one vendor's file.
#[derive(Debug)]
pub struct Identified<'c> {
    pub def: &'c VendorDef,
    pub file: &'c FileDef,
    /// From the file name, 12 lowercase hex digits.
    pub mac: Option<String>,
    /// From the file name (model or code) or else the User-Agent.
    pub model: Option<String>,
    pub agent: UserAgent,
}

/// Longest User-Agent we look at; phones send under 200 bytes.
const MAX_AGENT: usize = 512;

pub fn user_agent(catalog: &Catalog, header: Option<&str>) -> UserAgent {
    let Some(ua) = header.filter(|h| h.len() <= MAX_AGENT) else {
        return UserAgent::default();
    };
    for def in &catalog.vendors {
        for re in &def.user_agents {
            if let Some(c) = re.captures(ua) {
                let text = |n: &str| c.name(n).map(|m| m.as_str().to_owned());
                return UserAgent {
                    vendor: Some(def.vendor),
                    model: text("model").filter(|m| crate::store::validate::model("m", m).is_ok()),
                    firmware: text("firmware").filter(|f| f.len() <= 64),
                    mac: text("mac").and_then(|m| canonical_mac(&m)),
                };
            }
        }
    }
    UserAgent::default()
}

/// Matches `name` against every vendor's file patterns and picks one vendor.
pub fn identify<'c>(catalog: &'c Catalog, name: &str, agent: UserAgent) -> Option<Identified<'c>> {
    if name.is_empty() || name.len() > 128 {
        return None;
    }
    let mut candidates: Vec<Identified<'c>> = Vec::new();
    // The phone's own vendor has this name, but not for its model: nobody else's file either.
    let mut not_for_model = false;
    for (def, file) in catalog.files_matching(name) {
        if candidates.iter().any(|c| c.def.vendor == def.vendor) {
            continue;
        }
        let Some(c) = file.pattern.captures(name) else {
            continue;
        };
        let mac = c.name("mac").and_then(|m| canonical_mac(m.as_str()));
        if c.name("mac").is_some() && mac.is_none() {
            continue;
        }
        let model = c
            .name("model")
            .map(|m| m.as_str().to_owned())
            .or_else(|| {
                let code = c.name("code")?.as_str();
                def.model_for_code(code).map(str::to_owned)
            })
            .or_else(|| {
                agent
                    .model
                    .clone()
                    .filter(|_| agent.vendor == Some(def.vendor))
            });
        if let (Some(models), Some(m)) = (&file.models, model.as_deref())
            && !models.is_match(m)
        {
            not_for_model |= agent.vendor == Some(def.vendor);
            continue;
        }
        candidates.push(Identified {
            def,
            file,
            mac,
            model,
            agent: agent.clone(),
        });
    }
    if not_for_model {
        return None;
    }
    pick(candidates)
}

/// Several vendors use the same name (`<mac>.cfg`): the User-Agent decides, then the OUI.
fn pick(mut candidates: Vec<Identified<'_>>) -> Option<Identified<'_>> {
    if candidates.len() > 1 {
        let by_agent = candidates
            .iter()
            .position(|c| c.agent.vendor == Some(c.def.vendor));
        let by_oui = || {
            candidates
                .iter()
                .position(|c| c.mac.as_deref().is_some_and(|m| c.def.has_oui(m)))
        };
        let i = by_agent.or_else(by_oui).unwrap_or(0);
        return Some(candidates.swap_remove(i));
    }
    candidates.pop()
}

/// 12 lowercase hex digits from any common notation, or None.
pub fn canonical_mac(text: &str) -> Option<String> {
    let hex: String = text
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | '.'))
        .collect();
    (hex.len() == 12 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}
