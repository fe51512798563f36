//! The menu key app at `/menu/<device token>/…`: log in at a workplace [Arbeitsplatz] with
//! extension and PIN, log out, see who is logged in; on a user's own phone, switch call
//! forwardings and user-configurable FollowMe.
//!
//! The flow ([`flow`]) produces vendor-neutral [`screen::Screen`]s; [`dialect`] prints them as
//! the phone's XML browser expects. PIN attempts pass the sans-IO [`lockout::Lockouts`] first:
//! during a lockout the PIN is not even verified, so a flood of guesses costs no argon2 work.
//! PINs are checked on the store's hashing workers and never logged.

pub mod dialect;
mod flow;
pub mod http;
pub mod lockout;
pub mod screen;
mod texts;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::config::Config;
use crate::store::{Store, StoreError};
pub use lockout::{Lockout, Subject};

#[derive(Debug, thiserror::Error)]
pub enum MenuError {
    /// The token names no phone (or a phone without a vendor): the phone's or a scanner's fault.
    #[error("unknown menu token")]
    UnknownToken,
    /// The source is outside `provisioning.allowed_networks`.
    #[error("network not allowed")]
    Forbidden,
    /// Attempts for this extension or from this phone are refused for now (shown to the user).
    #[error("locked out")]
    Locked,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The lockout counters, shared by the menu and the admin API.
#[derive(Debug, Clone)]
pub struct Guard {
    book: Arc<Mutex<lockout::Lockouts>>,
}

impl Guard {
    pub fn new(config: &crate::config::MenuConfig) -> Guard {
        Guard {
            book: Arc::new(Mutex::new(lockout::Lockouts::new(config))),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut lockout::Lockouts, crate::clock::Instant) -> T) -> T {
        let now = crate::clock::now();
        f(
            &mut self.book.lock().unwrap_or_else(|e| e.into_inner()),
            now,
        )
    }

    /// Current lockouts.
    pub fn list(&self) -> Vec<Lockout> {
        self.with(|l, now| l.list(now))
    }

    /// Ends one lockout; false if there was none.
    pub fn clear(&self, subject: &Subject) -> bool {
        self.with(|l, _| l.clear(subject))
    }

    pub fn clear_all(&self) -> usize {
        self.with(|l, _| l.clear_all())
    }
}

/// The menu service; cheap to clone.
#[derive(Debug, Clone)]
pub struct PhoneMenu {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    guard: Guard,
    allowed: Vec<ipnet::IpNet>,
    language: String,
    /// Minutes east of UTC for the times the status shows (the provisioning time zone).
    offset_minutes: i32,
    /// PINs checked (or hashed in place of one) so far: what the lockout saves shows here.
    evaluated: std::sync::atomic::AtomicU64,
}

/// One request from a phone's XML browser.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub token: &'a str,
    /// Path below `/menu/<token>/`, split at `/`.
    pub path: Vec<&'a str>,
    /// Query parameters (`ext`, `pin`).
    pub query: Vec<(String, String)>,
    pub peer: IpAddr,
    /// `http://host[:port]` as the phone reached us; links go back there.
    pub base: String,
}

impl Request<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What to send back.
#[derive(Debug)]
pub struct Reply {
    pub body: String,
    pub content_type: &'static str,
}

impl PhoneMenu {
    pub fn new(config: &Config, store: Store, guard: Guard) -> PhoneMenu {
        PhoneMenu {
            inner: Arc::new(Inner {
                store,
                guard,
                allowed: config.provisioning.allowed_networks.clone(),
                language: config.server.language.clone(),
                offset_minutes: config.provisioning.timezone.offset_minutes,
                evaluated: Default::default(),
            }),
        }
    }

    /// Answers one menu request.
    pub async fn handle(&self, req: &Request<'_>) -> Result<Reply, MenuError> {
        let peer = crate::net::canonical_ip(req.peer);
        let allowed = &self.inner.allowed;
        if !allowed.is_empty() && !allowed.iter().any(|n| n.contains(&peer)) {
            tracing::warn!("menu: denied {peer} network-not-allowed");
            return Err(MenuError::Forbidden);
        }
        let device = match self.inner.store.menu_device(req.token).await? {
            Some(d) if d.vendor.is_some() => d,
            _ => {
                tracing::warn!("menu: denied {peer} unknown-token");
                return Err(MenuError::UnknownToken);
            }
        };
        let vendor = device.vendor.unwrap_or(crate::store::Vendor::Yealink);
        let language = device
            .language
            .clone()
            .unwrap_or_else(|| self.inner.language.clone());
        let screen = match flow::Flow::new(self, req, peer, device).run().await {
            Ok(screen) => screen,
            Err(e) => self.refusal(e, &language, req)?,
        };
        let (body, content_type) = dialect::render(vendor, &screen);
        Ok(Reply { body, content_type })
    }
}

impl PhoneMenu {
    /// How many PINs were evaluated (argon2 work done) since start.
    pub fn evaluated(&self) -> u64 {
        self.inner
            .evaluated
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Errors the user should read on the phone become a text screen; the rest stay errors.
    fn refusal(
        &self,
        e: MenuError,
        language: &str,
        req: &Request<'_>,
    ) -> Result<screen::Screen, MenuError> {
        let t = texts::texts(language);
        let text = match e {
            MenuError::Locked => t.locked,
            MenuError::Store(StoreError::Busy) => t.busy,
            other => return Err(other),
        };
        Ok(screen::Screen::Text {
            title: t.login.into(),
            text: text.into(),
            back: format!("{}/menu/{}/", req.base, req.token),
        })
    }
}

#[cfg(test)]
mod tests;
