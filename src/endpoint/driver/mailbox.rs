//! The driver's half of MWI: asking the store which mailbox a SUBSCRIBE may watch, and telling
//! the endpoint when a mailbox's counts changed (the change feed's `Entity::Mailbox`).

use super::Driver;
use crate::clock::now;
use crate::endpoint::mwi::{Access, Mailbox, Summary};
use crate::store::mailboxes::MailboxAccess;

impl Driver {
    /// Answers the SUBSCRIBE the endpoint asked about as `key`: `device` wants the mailbox at
    /// the Request-URI user `target`.
    pub(super) async fn resolve_subscription(&mut self, key: u64, device: i64, target: &str) {
        let access = match self.store.mailbox_access(device, target).await {
            Ok(MailboxAccess::Unknown) => Access::Unknown,
            Ok(MailboxAccess::Forbidden) => Access::Forbidden,
            Ok(MailboxAccess::Granted { user, new, old }) => {
                tracing::info!("sip: device {device} subscribed to the mailbox at {target}");
                Access::Granted(Mailbox {
                    user,
                    account: format!("sip:{target}@{}", self.domain),
                    summary: Summary { new, old },
                })
            }
            Err(e) => {
                tracing::warn!("sip: finding the mailbox of a subscription: {e}");
                Access::Unavailable
            }
        };
        self.endpoint.handle_mailbox_access(key, access, now());
    }

    /// The counts of `users`' mailboxes changed: their subscribers and phones hear it.
    pub(super) async fn notify_mailboxes(&mut self, users: &[i64]) {
        for &user in users {
            match self.store.mailbox_state(user).await {
                Ok(Some(state)) => {
                    let summary = Summary {
                        new: state.new,
                        old: state.old,
                    };
                    let devices = &state.devices;
                    let at = now();
                    self.endpoint
                        .notify_mailbox(user, &state.account, summary, devices, at);
                }
                Ok(None) => {}
                Err(e) => tracing::warn!("sip: reading mailbox {user}: {e}"),
            }
        }
    }
}
