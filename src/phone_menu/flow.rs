//! One menu request, from path and parameters to a [`Screen`]. URLs below `/menu/<token>/`:
//! `` (main menu), `login` (extension), `login/pin?ext=` (PIN), `login/<ext>/submit?pin=`,
//! `logout`, `status`, `forwardings[/<id>/toggle]`, `followme[/<id>/toggle]`.

use std::net::IpAddr;

use super::screen::{Field, Item, Screen};
use super::texts::{Texts, texts};
use super::{MenuError, PhoneMenu, Request};
use crate::store::menu::MenuDevice;
use crate::store::secret::Secret;
use crate::store::{ForwardingPatch, StoreError};

pub(super) struct Flow<'a> {
    menu: &'a PhoneMenu,
    req: &'a Request<'a>,
    peer: IpAddr,
    device: MenuDevice,
    t: &'static Texts,
}

type Shown = Result<Screen, MenuError>;

/// Extensions are digits (the store's rule allows 1 to 20); PINs 4 to 32 digits.
fn digits(text: &str, len: std::ops::RangeInclusive<usize>) -> bool {
    len.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
}

impl<'a> Flow<'a> {
    pub(super) fn new(
        menu: &'a PhoneMenu,
        req: &'a Request<'a>,
        peer: IpAddr,
        device: MenuDevice,
    ) -> Flow<'a> {
        let language = device.language.as_deref().unwrap_or(&menu.inner.language);
        Flow {
            t: texts(language),
            menu,
            req,
            peer,
            device,
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("{}/menu/{}/{rest}", self.req.base, self.req.token)
    }

    fn text(&self, title: &str, text: impl Into<String>) -> Shown {
        Ok(Screen::Text {
            title: title.into(),
            text: text.into(),
            back: self.url(""),
        })
    }

    pub(super) async fn run(self) -> Shown {
        let path = self.req.path.clone();
        let workplace = self.device.workplace.clone();
        let owner = self.device.owner.clone();
        match (path.as_slice(), workplace, owner) {
            ([] | [""], _, _) => self.main(),
            (["status"], _, _) => self.status().await,
            (["login"], Some(_), _) => self.ask_extension(),
            (["login", "pin"], Some(_), _) => self.ask_pin(),
            (["login", ext, "submit"], Some(w), _) => self.submit(ext, &w).await,
            (["logout"], Some(w), _) => {
                self.menu.inner.store.logout(&w).await?;
                self.text(self.t.logout, self.t.logged_out)
            }
            (["forwardings"], _, Some(u)) => self.forwardings(&u).await,
            (["forwardings", id, "toggle"], _, Some(u)) => self.toggle_forwarding(&u, id).await,
            (["followme"], _, Some(u)) => self.followme(&u).await,
            (["followme", id, "toggle"], _, Some(u)) => self.toggle_followme(&u, id).await,
            _ => self.main(),
        }
    }

    fn main(&self) -> Shown {
        let t = self.t;
        let item = |label: &str, rest: &str| Item {
            label: label.into(),
            url: self.url(rest),
        };
        let items = match (&self.device.workplace, &self.device.owner) {
            (Some(_), _) => vec![
                item(t.login, "login"),
                item(t.logout, "logout"),
                item(t.status, "status"),
            ],
            (None, Some(_)) => vec![
                item(t.forwardings, "forwardings"),
                item(t.followme, "followme"),
                item(t.status, "status"),
            ],
            (None, None) => return self.text(t.menu, t.not_assigned),
        };
        Ok(Screen::Menu {
            title: t.menu.into(),
            items,
        })
    }

    fn ask_extension(&self) -> Shown {
        Ok(Screen::Input {
            title: self.t.login.into(),
            prompt: self.t.extension.into(),
            action: self.url("login/pin"),
            field: Field {
                name: "ext",
                pin: false,
            },
        })
    }

    /// The PIN screen for any well-formed extension: whether it exists shows nowhere.
    fn ask_pin(&self) -> Shown {
        let ext = self.req.param("ext").unwrap_or_default().trim();
        if !digits(ext, 1..=20) {
            return self.text(self.t.login, self.t.bad_input);
        }
        Ok(Screen::Input {
            title: format!("{} {ext}", self.t.login),
            prompt: self.t.pin.into(),
            action: self.url(&format!("login/{ext}/submit")),
            field: Field {
                name: "pin",
                pin: true,
            },
        })
    }

    async fn submit(&self, ext: &str, workplace: &str) -> Shown {
        let pin = self.req.param("pin").unwrap_or_default();
        if !digits(ext, 1..=20) {
            return self.text(self.t.login, self.t.bad_input);
        }
        let Some(user) = self.check_pin(ext, pin).await? else {
            return self.text(self.t.login, self.t.wrong);
        };
        let t = texts(&user.language);
        match self.menu.inner.store.login(workplace, &user.username).await {
            Ok(_) => {
                tracing::info!(
                    "menu: {} logged in at {workplace} from {}",
                    user.username,
                    self.peer
                );
                self.text(t.login, format!("{}: {}", t.logged_in, user.display_name))
            }
            Err(StoreError::Forbidden(_)) => self.text(t.login, t.not_allowed),
            Err(e) => Err(e.into()),
        }
    }

    /// The user behind `ext` if `pin` is theirs; None for a wrong PIN, an unknown extension and
    /// a refused attempt alike (the answer says which only for a lockout).
    async fn check_pin(
        &self,
        ext: &str,
        pin: &str,
    ) -> Result<Option<crate::store::menu::MenuUser>, MenuError> {
        let guard = &self.menu.inner.guard;
        let attempt = match guard.with(|l, now| l.begin(ext, self.device.id, now)) {
            Ok(a) => a,
            Err(refused) => {
                tracing::debug!("menu: refused {} {} (locked)", self.peer, refused.subject);
                return Err(MenuError::Locked);
            }
        };
        let store = &self.menu.inner.store;
        let secret = Secret::new(pin);
        self.menu
            .inner
            .evaluated
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let user = store.menu_user(ext).await;
        let ok = match &user {
            Ok(Some(u)) if digits(pin, 4..=32) && u.pin_hash.is_some() => {
                store
                    .verify_secret(&secret, u.pin_hash.as_deref().unwrap_or_default())
                    .await
            }
            // Unknown extensions and malformed PINs cost what a check costs.
            _ => {
                store.spend_a_hash(&secret).await;
                false
            }
        };
        for started in guard.with(|l, now| l.finish(attempt, ok, now)) {
            tracing::warn!(
                "menu: lockout {} {} for {}s",
                self.peer,
                started.subject,
                started.secs
            );
        }
        if !ok {
            tracing::info!(
                "menu: failed login {} device={} extension={ext}",
                self.peer,
                self.device.id
            );
        }
        Ok(user?.filter(|_| ok))
    }

    async fn status(&self) -> Shown {
        let t = self.t;
        let store = &self.menu.inner.store;
        if let Some(w) = &self.device.workplace {
            let w = store.workplace(w).await?;
            let text = match (&w.current_user, w.logged_in_since) {
                (Some(user), Some(since)) => {
                    let name = store
                        .user(user)
                        .await
                        .map(|u| u.display_name)
                        .unwrap_or_else(|_| user.clone());
                    format!(
                        "{}: {name} {} {}",
                        t.logged_in,
                        t.since,
                        clock(since, self.menu.inner.offset_minutes)
                    )
                }
                _ => t.nobody.into(),
            };
            return self.text(t.status, format!("{}: {text}", w.display_name));
        }
        match &self.device.owner {
            Some(u) => {
                let user = store.user(u).await?;
                self.text(t.status, format!("{} {}", t.direct, user.display_name))
            }
            None => self.text(t.status, t.not_assigned),
        }
    }

    async fn forwardings(&self, user: &str) -> Shown {
        let t = self.t;
        let list = self.menu.inner.store.forwardings(Some(user)).await?;
        if list.is_empty() {
            return self.text(t.forwardings, t.none);
        }
        let items = list
            .iter()
            .map(|f| Item {
                label: format!(
                    "{} {}: {}",
                    f.condition,
                    f.target,
                    if f.active { t.on } else { t.off }
                ),
                url: self.url(&format!("forwardings/{}/toggle", f.id)),
            })
            .collect();
        Ok(Screen::Menu {
            title: t.forwardings.into(),
            items,
        })
    }

    async fn toggle_forwarding(&self, user: &str, id: &str) -> Shown {
        let store = &self.menu.inner.store;
        let Ok(id) = id.parse::<i64>() else {
            return self.forwardings(user).await;
        };
        let current = store
            .forwardings(Some(user))
            .await?
            .into_iter()
            .find(|f| f.id == id);
        if let Some(f) = current {
            let patch = ForwardingPatch {
                active: Some(!f.active),
                ..ForwardingPatch::default()
            };
            store.update_forwarding(user, id, patch).await?;
        }
        self.forwardings(user).await
    }

    async fn followme(&self, user: &str) -> Shown {
        let t = self.t;
        let list = self.menu.inner.store.own_configurable_devices(user).await?;
        if list.is_empty() {
            return self.text(t.followme, t.none);
        }
        let items = list
            .iter()
            .map(|d| Item {
                label: format!("{}: {}", d.label, if d.enabled { t.on } else { t.off }),
                url: self.url(&format!("followme/{}/toggle", d.id)),
            })
            .collect();
        Ok(Screen::Menu {
            title: t.followme.into(),
            items,
        })
    }

    async fn toggle_followme(&self, user: &str, id: &str) -> Shown {
        if let Ok(id) = id.parse::<i64>() {
            match self.menu.inner.store.toggle_own_followme(user, id).await {
                Ok(_) | Err(StoreError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.followme(user).await
    }
}

/// `HH:MM` of a unix time, at the site's standard offset.
fn clock(at: crate::clock::UnixTime, offset_minutes: i32) -> String {
    let local = at.secs() + i64::from(offset_minutes) * 60;
    let minutes = local.rem_euclid(86_400) / 60;
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}
