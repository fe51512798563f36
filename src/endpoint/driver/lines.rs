//! The driver's half of BLF: whose line a `dialog` SUBSCRIBE watches (the store), the devices'
//! line states published for the admin API's phone status, and watchers following a ring set
//! that changed (a workplace login).

use super::Driver;
use crate::clock::now;
use crate::endpoint::blf::Watch;
use crate::endpoint::mwi::Access;
use crate::registrar::presence::LineState;
use crate::store::routing::Dialled;
use crate::store::{StoreError, User};

impl Driver {
    /// Answers the `dialog` SUBSCRIBE the endpoint asked about as `key`: `device` wants the
    /// line of the user at `target`. Any device of ours may watch any user (BLF keys watch
    /// colleagues); only what names no user is unknown.
    pub(super) async fn resolve_line_watch(&mut self, key: u64, device: i64, target: &str) {
        let access = match self.watched_user(target).await {
            Ok(Some(user)) => {
                tracing::info!("sip: device {device} subscribed to the line of {target}");
                let entity = format!("sip:{target}@{}", self.domain);
                let devices = user.phone_status.ring_devices;
                Access::Granted(Watch::new(
                    &user.username,
                    &user.display_name,
                    &entity,
                    devices,
                ))
            }
            Ok(None) => Access::Unknown,
            Err(e) => {
                tracing::warn!("sip: finding the user of a dialog subscription: {e}");
                Access::Unavailable
            }
        };
        self.endpoint.handle_line_access(key, access, now());
    }

    async fn watched_user(&self, target: &str) -> Result<Option<User>, StoreError> {
        let Dialled::User(username) = self.store.dialled(target).await? else {
            return Ok(None);
        };
        match self.store.user(&username).await {
            Ok(user) => Ok(Some(user)),
            Err(StoreError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Shows the devices' line states in the admin API.
    pub(super) fn publish_lines(&self, changed: &[(i64, LineState)]) {
        for &(device, state) in changed {
            self.presence.set_line(device, state);
        }
    }

    /// Users, devices or workplaces changed: each watched user's ring set is read again.
    pub(super) async fn refresh_line_watches(&mut self) {
        for username in self.endpoint.watched_users() {
            match self.store.user(&username).await {
                Ok(user) => {
                    let devices = &user.phone_status.ring_devices;
                    self.endpoint.set_line_devices(&username, devices, now());
                }
                Err(StoreError::NotFound { .. }) => {
                    self.endpoint.set_line_devices(&username, &[], now());
                }
                Err(e) => tracing::warn!("sip: reading the ring set of {username}: {e}"),
            }
        }
    }
}
