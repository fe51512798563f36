//! SUBSCRIBE to `message-summary` (RFC 6665, RFC 3842) and to `dialog` (RFC 4235, BLF) and the
//! NOTIFYs that follow: the endpoint's half of MWI and BLF. A new subscription is authenticated
//! like a REGISTER (failures count the same), then the driver asks the store which mailbox the
//! device may see ([`EndpointEvent::Subscribe`], answered with
//! [`Endpoint::handle_mailbox_access`]) or whose line it watches ([`EndpointEvent::WatchLine`],
//! answered with [`Endpoint::handle_line_access`]); unknown ones get 404 only after
//! authentication, so a scanner learns no extension.

use std::time::Duration;

use super::blf;
use super::dialog::{Dialog, Leaving};
use super::mwi::{self, Access, Subscription, Summary, Watched};
use super::{Endpoint, EndpointEvent, Peer, Transport};
use crate::clock::{Instant, UnixTime};
use crate::registrar::auth::{Context, authenticate};
use crate::registrar::register::reply;
use crate::sip::transaction::TransactionId;
use crate::sip::{HeaderName, Request, Response};

/// A SUBSCRIBE waiting for the store's word on its mailbox.
#[derive(Debug)]
pub(super) struct Pending {
    id: TransactionId,
    request: Request,
    peer: Peer,
    device: i64,
    expires: u32,
}

/// The event packages we serve (RFC 6665 §8.2.2 Allow-Events).
pub(super) const ALLOW_EVENTS: &str = "message-summary, dialog";

impl Endpoint {
    /// Answers a SUBSCRIBE now, or (a new subscription) asks the driver and answers later.
    pub(super) fn subscribe(
        &mut self,
        id: &TransactionId,
        request: &Request,
        peer: &Peer,
        now: Instant,
        wall: UnixTime,
    ) -> Option<Response> {
        let package = match request.head.headers.event() {
            Ok(Some(e)) if e.package == mwi::PACKAGE || e.package == blf::PACKAGE => e.package,
            _ => {
                // RFC 6665 §4.2.1.1: a package we do not serve.
                let mut r = reply(request, 489, "Bad Event");
                r.head.headers.push(HeaderName::ALLOW_EVENTS, ALLOW_EVENTS);
                return Some(r);
            }
        };
        if package == blf::PACKAGE && !blf::accepts(request) {
            let mut r = reply(request, 406, "Not Acceptable");
            r.head.headers.push(HeaderName::ACCEPT, blf::CONTENT_TYPE);
            return Some(r);
        }
        let device = match self.authenticate_device(request, peer, wall) {
            Ok(device) => device,
            Err(refusal) => return Some(*refusal),
        };
        let expires = match self.subscription_expires(request) {
            Ok(expires) => expires,
            Err(refusal) => return Some(*refusal),
        };
        if request.head.to.tag().is_some() {
            return Some(self.refresh(request, device, expires, now));
        }
        if self.pending.len() >= self.subscriptions_max() {
            let mut busy = reply(request, 503, "Service Unavailable");
            busy.head.headers.push(HeaderName::RETRY_AFTER, "5");
            return Some(busy);
        }
        // The mailbox (RFC 3842 §4) or the watched line is the Request-URI's user.
        let user = super::addressed_user(request).unwrap_or_default();
        self.next_pending += 1;
        let key = self.next_pending;
        self.pending.insert(
            key,
            Pending {
                id: id.clone(),
                request: request.clone(),
                peer: peer.clone(),
                device,
                expires,
            },
        );
        self.events.push_back(match package == blf::PACKAGE {
            true => EndpointEvent::WatchLine { key, device, user },
            false => EndpointEvent::Subscribe { key, device, user },
        });
        None
    }

    /// The store's answer for the mailbox SUBSCRIBE the driver was asked about as `key`.
    pub fn handle_mailbox_access(&mut self, key: u64, access: Access, now: Instant) {
        self.answer_pending(key, access.map(Watched::Mailbox), now);
    }

    /// The store's answer for the `dialog` SUBSCRIBE the driver was asked about as `key`.
    pub fn handle_line_access(&mut self, key: u64, access: Access<blf::Watch>, now: Instant) {
        self.answer_pending(key, access.map(Watched::Line), now);
    }

    fn answer_pending(&mut self, key: u64, access: Access<Watched>, now: Instant) {
        let Some(p) = self.pending.remove(&key) else {
            return;
        };
        let response = match access {
            Access::Unknown => reply(&p.request, 404, "Not Found"),
            Access::Forbidden => reply(&p.request, 403, "Forbidden"),
            Access::Unavailable => {
                let mut r = reply(&p.request, 503, "Service Unavailable");
                r.head.headers.push(HeaderName::RETRY_AFTER, "5");
                r
            }
            Access::Granted(watched) => return self.accept(p, watched, now),
        };
        let _ = self.transactions.respond(&p.id, response, now);
    }

    fn accept(&mut self, p: Pending, watched: Watched, now: Instant) {
        let mut ok = reply(&p.request, 200, "OK");
        let tag = ok.head.to.tag().unwrap_or_default();
        let Some(dialog) = Dialog::uas(&p.request, &tag) else {
            let bad = reply(&p.request, 400, "Missing Contact Or From Tag");
            let _ = self.transactions.respond(&p.id, bad, now);
            return;
        };
        let mut s = Subscription {
            device: p.device,
            watched,
            peer: p.peer,
            dialog,
            expires: now + Duration::from_secs(u64::from(p.expires)),
        };
        if p.expires > 0 && !self.subscriptions.insert(s.clone()) {
            let mut busy = reply(&p.request, 503, "Service Unavailable");
            busy.head.headers.push(HeaderName::RETRY_AFTER, "60");
            let _ = self.transactions.respond(&p.id, busy, now);
            return;
        }
        let h = &mut ok.head.headers;
        h.push(HeaderName::EXPIRES, p.expires.to_string());
        h.push(
            HeaderName::CONTACT,
            format!("<sip:zentrale@{}>", s.peer.local),
        );
        let _ = self.transactions.respond(&p.id, ok, now);
        // RFC 6665 §4.2.1.2: the current state at once (a fetch, Expires: 0, ends with it).
        self.notify_subscriber(&mut s, now);
        if p.expires > 0 {
            self.subscriptions.insert(s);
        }
    }

    /// A SUBSCRIBE in an existing dialog: refresh, or end it with Expires: 0.
    fn refresh(&mut self, request: &Request, device: i64, expires: u32, now: Instant) -> Response {
        let remote_tag = request.head.from.tag().unwrap_or_default();
        let call_id = &request.head.call_id;
        let found = self.subscriptions.get_mut(call_id, &remote_tag);
        let Some(s) = found.filter(|s| s.device == device) else {
            return reply(request, 481, "Subscription Does Not Exist");
        };
        s.expires = now + Duration::from_secs(u64::from(expires));
        let mut s = s.clone();
        if expires == 0 {
            self.subscriptions.remove(call_id, &remote_tag);
        }
        self.notify_subscriber(&mut s, now);
        if expires > 0 {
            self.subscriptions.insert(s);
        }
        let mut ok = reply(request, 200, "OK");
        ok.head
            .headers
            .push(HeaderName::EXPIRES, expires.to_string());
        ok
    }

    /// The device whose account the request's Digest answer proves, or the refusal (counted
    /// like a REGISTER's).
    pub(super) fn authenticate_device(
        &mut self,
        request: &Request,
        peer: &Peer,
        wall: UnixTime,
    ) -> Result<i64, Box<Response>> {
        let mut ctx = Context {
            realm: &self.config.domain,
            nonces: &self.nonces,
            accounts: &self.accounts,
            algorithms: &self.config.algorithms,
            replays: &mut self.replays,
        };
        let (account, denied) = match authenticate(request, &mut ctx, wall) {
            Ok((account, _)) if account.may_register() => (Ok(account.device_id), None),
            Ok(_) => (
                Err(Box::new(reply(request, 403, "Forbidden"))),
                Some("not-allowed"),
            ),
            Err(refused) => (Err(refused.response), refused.denied),
        };
        if let Some(reason) = denied {
            let ip = peer.addr.ip();
            self.events.push_back(EndpointEvent::Denied { ip, reason });
        }
        account
    }

    /// The granted duration: the asked one (else an hour) within the registrar's bounds; too
    /// short gets 423 (RFC 6665 §4.2.1.1).
    fn subscription_expires(&self, request: &Request) -> Result<u32, Box<Response>> {
        let limits = &self.config.registrar;
        let Ok(asked) = request.head.headers.expires() else {
            return Err(Box::new(reply(request, 400, "Bad Expires")));
        };
        match asked.unwrap_or(mwi::DEFAULT_EXPIRES) {
            0 => Ok(0),
            e if e < limits.min_expires => {
                let mut r = reply(request, 423, "Interval Too Brief");
                let min = limits.min_expires.to_string();
                r.head.headers.push(HeaderName::MIN_EXPIRES, min);
                Err(Box::new(r))
            }
            e => Ok(e.min(limits.max_expires)),
        }
    }

    /// One subscription per registered binding, roughly.
    pub(super) fn subscriptions_max(&self) -> usize {
        self.config.registrar.max_bindings
    }

    /// The NOTIFY with `s`'s current state, in its dialog.
    fn notify_subscriber(&mut self, s: &mut Subscription, now: Instant) {
        let state = match s.expires.checked_duration_since(now) {
            Some(left) if !left.is_zero() => format!("active;expires={}", left.as_secs().max(1)),
            _ => "terminated;reason=timeout".to_owned(),
        };
        let Some(peer) = self.current_peer(&s.peer) else {
            return;
        };
        let unique = self.unique();
        let local = peer.local.to_string();
        let leaving = Leaving {
            transport: peer.transport.as_str(),
            local: &local,
            unique: &unique,
        };
        let (package, kind, body) = match &mut s.watched {
            Watched::Mailbox(m) => (mwi::PACKAGE, mwi::CONTENT_TYPE, m.summary.body(&m.account)),
            Watched::Line(w) => (
                blf::PACKAGE,
                blf::CONTENT_TYPE,
                w.next_body(self.current_lines()),
            ),
        };
        let headers = format!("Event: {package}\r\nSubscription-State: {state}\r\n");
        let body = Some((kind, body.as_str()));
        if let Some(request) = s.dialog.request("NOTIFY", leaving, &headers, body) {
            let reliable = peer.transport.is_reliable();
            if let Err(e) = self.transactions.send_request(request, peer, reliable, now) {
                tracing::debug!("sip: {package} NOTIFY to device {}: {e}", s.device);
            }
        }
    }

    /// `peer` as it can be reached now: a TCP peer through its address's live connection.
    pub(super) fn current_peer(&self, peer: &Peer) -> Option<Peer> {
        let transport = match peer.transport {
            Transport::Tcp(_) => Transport::Tcp(*self.connections.get(&peer.addr)?),
            Transport::Udp => Transport::Udp,
        };
        Some(Peer {
            transport,
            ..peer.clone()
        })
    }

    /// `user`'s mailbox (at `extension`) now holds `summary`: every subscription to it hears so, and each of
    /// `devices` (the owner's and watchers' phones) that did not subscribe gets it unsolicited
    /// at each of its bindings. The voicemail service's counts reach here through the store.
    pub fn notify_mailbox(
        &mut self,
        user: i64,
        extension: &str,
        summary: Summary,
        devices: &[i64],
        now: Instant,
    ) {
        let subscribed: Vec<Subscription> = self
            .subscriptions
            .to_mailbox(user)
            .map(|s| {
                if let Some(m) = s.mailbox_mut() {
                    m.summary = summary;
                }
                s.clone()
            })
            .collect();
        self.notify_again(subscribed, now);
        for &device in devices {
            if !self.subscriptions.watches(device, user) {
                self.unsolicited_mwi(device, extension, summary, now);
            }
        }
    }

    /// `device` now serves `user` (None: nobody), whose box at `extension` holds `summary`:
    /// its subscriptions to its own address follow, and if it has none it is told unsolicited.
    pub fn show_mailbox(
        &mut self,
        device: i64,
        user: Option<i64>,
        extension: &str,
        summary: Summary,
        now: Instant,
    ) {
        let own: Vec<Subscription> = self
            .subscriptions
            .of_device(device)
            .filter(|s| s.mailbox().is_some_and(|m| m.own))
            .map(|s| {
                if let Some(m) = s.mailbox_mut() {
                    m.user = user;
                    m.summary = summary;
                }
                s.clone()
            })
            .collect();
        if own.is_empty() {
            self.unsolicited_mwi(device, extension, summary, now);
        }
        self.notify_again(own, now);
    }

    /// The NOTIFY of each of `changed` (updated copies), kept with their new CSeq.
    pub(super) fn notify_again(&mut self, changed: Vec<Subscription>, now: Instant) {
        for mut s in changed {
            self.notify_subscriber(&mut s, now);
            self.subscriptions.insert(s);
        }
    }

    /// `summary` of the box at `extension`, unsolicited, to every binding of `device`.
    fn unsolicited_mwi(&mut self, device: i64, extension: &str, summary: Summary, now: Instant) {
        let body = summary.body(&format!("sip:{extension}@{}", self.config.domain));
        let headers = format!("Event: {}\r\n", mwi::PACKAGE);
        let bindings = self.registrar.bindings(device).to_vec();
        for b in &bindings {
            self.send_unsolicited(b, &headers, Some((mwi::CONTENT_TYPE, &body)), now);
        }
    }

    /// Ends the subscriptions whose time ran out (RFC 6665 §4.2.2: a last NOTIFY says so).
    pub(super) fn expire_subscriptions(&mut self, now: Instant) {
        for mut s in self.subscriptions.expired(now) {
            self.notify_subscriber(&mut s, now);
        }
    }

    /// Drops the subscriptions of devices that may no longer register.
    pub(super) fn drop_subscriptions_of_unknown_devices(&mut self) {
        let accounts = &self.accounts;
        self.subscriptions.retain(|s| accounts.allows(s.device));
    }
}

#[cfg(test)]
#[path = "subscribe_tests.rs"]
mod tests;
