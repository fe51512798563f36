//! Message waiting indication (RFC 3842): the `message-summary` event package. Phones subscribe
//! to a mailbox (their own address of record, or a user's extension they may watch) and get a
//! NOTIFY with the counts at once and after every change; phones that do not subscribe (many
//! ship that way) get the same NOTIFY unsolicited, as Asterisk's `transmit_notify_with_mwi`
//! sends it: out of any dialog, without Subscription-State.
//!
//! The subscription table here serves both event packages we notify: `message-summary` and
//! `dialog` (BLF, [`super::blf`]); a [`Subscription`] says which in [`Watched`].
//!
//! Sans-IO tables only; [`super::Endpoint`] sends.

use std::collections::HashMap;

use super::Peer;
use super::dialog::Dialog;
use crate::clock::Instant;

/// The event package (RFC 3842 §3.1) and its body's media type (§3.3).
pub const PACKAGE: &str = "message-summary";
pub const CONTENT_TYPE: &str = "application/simple-message-summary";
/// Subscriptions that ask for no duration get an hour (RFC 3842 §3.5).
pub const DEFAULT_EXPIRES: u32 = 3600;

/// The counts of one mailbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub new: u32,
    pub old: u32,
}

impl Summary {
    /// The body (RFC 3842 §5.2): status line, the account, the voice counts with the
    /// (unused) urgent counts.
    pub fn body(&self, account: &str) -> String {
        let waiting = if self.new > 0 { "yes" } else { "no" };
        format!(
            "Messages-Waiting: {waiting}\r\nMessage-Account: {account}\r\n\
             Voice-Message: {}/{} (0/0)\r\n",
            self.new, self.old
        )
    }
}

/// What the store says a device may see at the mailbox (or line, `T` = [`super::blf::Watch`])
/// it asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access<T = Mailbox> {
    /// No such mailbox or user (404, only ever after authentication).
    Unknown,
    /// A mailbox the device's user may not watch (403).
    Forbidden,
    Granted(T),
    /// The store could not say (503, try again).
    Unavailable,
}

impl<T> Access<T> {
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Access<U> {
        match self {
            Access::Unknown => Access::Unknown,
            Access::Forbidden => Access::Forbidden,
            Access::Granted(t) => Access::Granted(f(t)),
            Access::Unavailable => Access::Unavailable,
        }
    }
}

/// A mailbox as a subscription sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    /// The owner; None for a workplace phone nobody is logged in at (it sees no messages).
    pub user: Option<i64>,
    /// The `Message-Account` URI.
    pub account: String,
    pub summary: Summary,
    /// Asked at the device's own address: the box follows whoever the device serves (a
    /// workplace login changes it).
    pub own: bool,
}

/// What a subscription watches: a mailbox (MWI) or a user's line (BLF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    Mailbox(Mailbox),
    Line(super::blf::Watch),
}

/// One accepted subscription.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub device: i64,
    pub watched: Watched,
    pub peer: Peer,
    pub dialog: Dialog,
    pub expires: Instant,
}

impl Subscription {
    pub fn mailbox(&self) -> Option<&Mailbox> {
        match &self.watched {
            Watched::Mailbox(m) => Some(m),
            Watched::Line(_) => None,
        }
    }

    pub fn mailbox_mut(&mut self) -> Option<&mut Mailbox> {
        match &mut self.watched {
            Watched::Mailbox(m) => Some(m),
            Watched::Line(_) => None,
        }
    }

    pub fn line_mut(&mut self) -> Option<&mut super::blf::Watch> {
        match &mut self.watched {
            Watched::Line(w) => Some(w),
            Watched::Mailbox(_) => None,
        }
    }
}

/// Subscriptions by dialog (Call-ID and the subscriber's tag), bounded.
#[derive(Debug)]
pub struct Subscriptions {
    by_dialog: HashMap<(String, String), Subscription>,
    max: usize,
    /// No subscription ends before this (it may be earlier than the true first end: a
    /// refresh moves an end later), so timeouts before it cost no walk of the table.
    earliest: Option<Instant>,
}

impl Subscriptions {
    pub fn new(max: usize) -> Subscriptions {
        Subscriptions {
            by_dialog: HashMap::new(),
            max,
            earliest: None,
        }
    }

    pub fn get_mut(&mut self, call_id: &str, remote_tag: &str) -> Option<&mut Subscription> {
        self.by_dialog
            .get_mut(&(call_id.to_owned(), remote_tag.to_owned()))
    }

    /// Adds `s`; false when the table is full.
    pub fn insert(&mut self, s: Subscription) -> bool {
        let key = (s.dialog.call_id.clone(), s.dialog.remote_tag.clone());
        if self.by_dialog.len() >= self.max && !self.by_dialog.contains_key(&key) {
            return false;
        }
        self.earliest = Some(self.earliest.map_or(s.expires, |e| e.min(s.expires)));
        self.by_dialog.insert(key, s);
        true
    }

    pub fn remove(&mut self, call_id: &str, remote_tag: &str) -> Option<Subscription> {
        self.by_dialog
            .remove(&(call_id.to_owned(), remote_tag.to_owned()))
    }

    /// The subscriptions that ended by `now`.
    pub fn expired(&mut self, now: Instant) -> Vec<Subscription> {
        if self.earliest.is_none_or(|e| e > now) {
            return Vec::new();
        }
        let gone: Vec<(String, String)> = self
            .by_dialog
            .iter()
            .filter(|(_, s)| s.expires <= now)
            .map(|(k, _)| k.clone())
            .collect();
        let ended = gone
            .iter()
            .filter_map(|k| self.by_dialog.remove(k))
            .collect();
        self.earliest = self.by_dialog.values().map(|s| s.expires).min();
        ended
    }

    /// The subscriptions to `user`'s mailbox.
    pub fn to_mailbox(&mut self, user: i64) -> impl Iterator<Item = &mut Subscription> {
        self.by_dialog
            .values_mut()
            .filter(move |s| s.mailbox().is_some_and(|m| m.user == Some(user)))
    }

    /// Whether `device` subscribed to `user`'s mailbox (then it needs no unsolicited NOTIFY).
    pub fn watches(&self, device: i64, user: i64) -> bool {
        self.by_dialog
            .values()
            .any(|s| s.device == device && s.mailbox().is_some_and(|m| m.user == Some(user)))
    }

    /// The subscriptions to users' lines (BLF).
    pub fn to_lines(&mut self) -> impl Iterator<Item = &mut Subscription> {
        self.by_dialog
            .values_mut()
            .filter(|s| matches!(s.watched, Watched::Line(_)))
    }

    /// Subscriptions of `device` (its user may have changed: a workplace login).
    pub fn of_device(&mut self, device: i64) -> impl Iterator<Item = &mut Subscription> {
        self.by_dialog
            .values_mut()
            .filter(move |s| s.device == device)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Subscription> {
        self.by_dialog.values()
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&Subscription) -> bool) {
        self.by_dialog.retain(|_, s| keep(s));
    }

    pub fn len(&self) -> usize {
        self.by_dialog.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_dialog.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_says_whether_messages_wait_and_counts_them() {
        let s = Summary { new: 2, old: 8 };
        assert_eq!(
            s.body("sip:100@pbx.example.com"),
            "Messages-Waiting: yes\r\nMessage-Account: sip:100@pbx.example.com\r\n\
             Voice-Message: 2/8 (0/0)\r\n"
        );
        let none = Summary { new: 0, old: 3 }.body("sip:100@pbx.example.com");
        assert!(none.starts_with("Messages-Waiting: no\r\n"), "{none}");
    }
}
