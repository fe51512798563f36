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
            Ok(MailboxAccess::Granted {
                user,
                own,
                new,
                old,
            }) => {
                tracing::info!("sip: device {device} subscribed to the mailbox at {target}");
                Access::Granted(Mailbox {
                    user,
                    account: format!("sip:{target}@{}", self.domain),
                    summary: Summary { new, old },
                    own,
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

impl Driver {
    /// Someone logged in or out at `workplaces`: their phones show the box of whoever is there
    /// now (nobody: an empty one).
    pub(super) async fn show_workplace_mailboxes(&mut self, workplaces: &[i64]) {
        let phones = match self.store.workplace_mailboxes(workplaces).await {
            Ok(phones) => phones,
            Err(e) => return tracing::warn!("sip: reading the mailboxes of workplaces: {e}"),
        };
        let count = |n: i64| u32::try_from(n).unwrap_or(0);
        for p in phones {
            let account = p.account.unwrap_or(p.sip_username);
            let summary = Summary {
                new: count(p.new_messages),
                old: count(p.old_messages),
            };
            self.endpoint
                .show_mailbox(p.device, p.user_id, &account, summary, now());
        }
    }
}
