//! zentrale's registration at a trunk (RFC 3261 §10.2, as the client): a REGISTER once the
//! driver resolved the trunk, the Digest answer when the provider challenges it (401 or 407,
//! RFC 3261 §22.2), and a refresh at half the expiry the provider granted — the granted one,
//! which is often shorter than asked for — as third-party registration clients do (Oracle
//! USM "Third Party Registration Expiration"). 423 is answered with its Min-Expires (§10.2.8).
//! Failures are retried with RFC 5626 §4.5's back-off: `min(1800 s, 30 s · 2^failures)`,
//! without its random part (one appliance does not make an avalanche).
//!
//! The Call-ID stays the same for every refresh and the CSeq grows (§10.2.4).

use std::net::SocketAddr;
use std::time::Duration;

use super::{Endpoint, Peer};
use crate::clock::Instant;
use crate::digest::{Challenge, Credentials};
use crate::sip::transaction::{TransactionEvent, TransactionId};
use crate::sip::{HeaderName, Message, Request, Response, SipLimits};
use crate::store::TrunkStatus;

/// What we ask for: Asterisk's outbound registration default (`res_pjsip_outbound_registration`
/// `expiration`, 3600 s).
pub const EXPIRES: u32 = 3600;
/// RFC 5626 §4.5 `base-time` (all flows failed) and `max-time`.
const BACKOFF_BASE: Duration = Duration::from_secs(30);
const BACKOFF_MAX: Duration = Duration::from_secs(1800);

/// One trunk's registration.
#[derive(Debug, Default)]
pub struct Registration {
    call_id: String,
    tag: String,
    seq: u32,
    /// The expiry asked for (0: [`EXPIRES`]).
    expires: u32,
    pending: Option<TransactionId>,
    /// The pending REGISTER already answers a challenge: another one is a refusal.
    answered: bool,
    /// Times this nonce was answered (`nc`).
    nc: u32,
    next: Option<Instant>,
    failures: u32,
    /// Until when the provider has us (None: not registered).
    pub registered_until: Option<Instant>,
    /// The provider's last final status.
    pub last_status: Option<u16>,
}

impl Endpoint {
    /// The driver resolved trunk `index`'s host to `addrs`; requests to it leave from `local`.
    /// A registering trunk registers now (the first time) or at its next refresh.
    pub fn handle_trunk_resolved(
        &mut self,
        index: usize,
        addrs: Vec<SocketAddr>,
        local: SocketAddr,
        now: Instant,
    ) {
        let Some(trunk) = self.trunks.0.get_mut(index) else {
            return;
        };
        trunk.route = addrs.first().map(|a| (*a, local));
        trunk.addrs = addrs;
        let r = &mut trunk.registration;
        if trunk.config.register && r.next.is_none() && r.pending.is_none() {
            r.next = Some(now);
        }
    }

    /// Each trunk's index, host and port, for the driver to resolve.
    pub fn trunk_hosts(&self) -> Vec<(usize, String, u16)> {
        self.trunks.hosts(false)
    }

    /// The TCP trunks' index, host and port, for the driver to keep a connection to.
    pub fn tcp_trunk_hosts(&self) -> Vec<(usize, String, u16)> {
        self.trunks.hosts(true)
    }

    /// Every trunk's state for the admin API; `now` and `wall` are the same moment on both
    /// clocks (registrations expire at an [`Instant`], the API shows unix time).
    pub fn trunk_states(&self, now: Instant, wall: crate::clock::UnixTime) -> Vec<TrunkStatus> {
        let unix = |t: Instant| {
            let ahead = t.saturating_duration_since(now).as_secs();
            crate::clock::UnixTime::from_secs(wall.secs().saturating_add_unsigned(ahead))
        };
        (self.trunks.0.iter().enumerate())
            .map(|(i, t)| {
                let until = t.registration.registered_until.filter(|u| *u > now);
                TrunkStatus {
                    name: t.config.name.clone(),
                    address: self.trunks.host(i).unwrap_or_default(),
                    transport: match t.config.transport {
                        crate::config::TrunkTransport::Udp => "udp".into(),
                        crate::config::TrunkTransport::Tcp => "tcp".into(),
                    },
                    register: t.config.register,
                    registered: until.is_some(),
                    expires_at: until.map(unix),
                    last_status: t.registration.last_status,
                    resolved: t.addrs.iter().map(ToString::to_string).collect(),
                }
            })
            .collect()
    }

    /// Where requests to trunk `index` go now.
    pub(super) fn trunk_peer(&self, index: usize) -> Option<Peer> {
        self.trunks.peer(index, &self.connections)
    }

    /// A connection to `addr` opened: a TCP trunk there registers (again) now, so the
    /// provider reaches us over the new connection.
    pub(super) fn trunk_connected(&mut self, addr: SocketAddr, now: Instant) {
        let Some(index) = self.trunks.tcp_at(addr) else {
            return;
        };
        let trunk = &mut self.trunks.0[index];
        if trunk.config.register && trunk.registration.pending.is_none() {
            trunk.registration.next = Some(now);
        }
    }

    /// The trunk a dialled outside `number` goes through (the first whose prefix it has).
    pub fn trunk_for(&self, number: &str) -> Option<usize> {
        self.trunks.for_number(number)
    }

    /// The trunk an emergency number goes through: the one its prefix picks, else the first.
    pub fn trunk_for_emergency(&self, number: &str) -> Option<usize> {
        (self.trunks.for_number(number)).or((!self.trunks.0.is_empty()).then_some(0))
    }

    /// Registrations due at `now`.
    pub(super) fn trunk_timeouts(&mut self, now: Instant) {
        for index in 0..self.trunks.0.len() {
            let r = &mut self.trunks.0[index].registration;
            if r.next.is_some_and(|t| t <= now) && r.pending.is_none() {
                r.next = None;
                r.answered = false;
                self.send_register(index, None, now);
            }
        }
    }

    /// When the next registration is due.
    pub(super) fn trunks_timeout(&self) -> Option<Instant> {
        (self.trunks.0.iter())
            .filter_map(|t| t.registration.next)
            .min()
    }

    /// A REGISTER to trunk `index`, carrying `auth` (header name, value) when it answers a
    /// challenge.
    fn send_register(&mut self, index: usize, auth: Option<(HeaderName, String)>, now: Instant) {
        let unique = self.unique();
        let domain = self.config.domain.clone();
        let (Some(peer), Some(host)) = (self.trunk_peer(index), self.trunks.host(index)) else {
            // A TCP trunk without its connection: retried, and at once when it opens.
            return self.registration_failed(index, None, now);
        };
        let trunk = &mut self.trunks.0[index];
        let r = &mut trunk.registration;
        if r.call_id.is_empty() {
            r.call_id = format!("{unique}@{domain}");
            r.tag = unique.clone();
        }
        r.seq += 1;
        let expires = if r.expires == 0 { EXPIRES } else { r.expires };
        let text = register_text(&trunk.config.username, &host, &peer, r, expires, &unique);
        let Some(mut request) = parse_request(&text) else {
            return;
        };
        if let Some((name, value)) = auth {
            request.head.headers.push(name, &value);
        }
        let reliable = peer.transport.is_reliable();
        match self.transactions.send_request(request, peer, reliable, now) {
            Ok(id) => {
                self.trunks.0[index].registration.pending = Some(id.clone());
                self.trunk_of_tx.insert(id, index);
            }
            Err(e) => {
                tracing::warn!("sip: registering at trunk {}: {e}", self.trunk_name(index));
                self.registration_failed(index, None, now);
            }
        }
    }

    /// What came of a REGISTER to trunk `index`.
    pub(super) fn trunk_response(
        &mut self,
        id: &TransactionId,
        event: TransactionEvent,
        now: Instant,
    ) {
        let Some(index) = self.trunk_of_tx.remove(id) else {
            return;
        };
        let r = match event {
            TransactionEvent::Response(r) if r.status < 200 => {
                self.trunk_of_tx.insert(id.clone(), index);
                return;
            }
            TransactionEvent::Response(r) => *r,
            TransactionEvent::Timeout | TransactionEvent::TransportError => {
                self.trunks.0[index].registration.pending = None;
                return self.registration_failed(index, None, now);
            }
        };
        let reg = &mut self.trunks.0[index].registration;
        reg.pending = None;
        reg.last_status = Some(r.status);
        match r.status {
            200..=299 => self.registered(index, &r, now),
            401 | 407 => self.answer_challenge(index, &r, now),
            423 => {
                let min = (r.head.headers.get(&HeaderName::MIN_EXPIRES))
                    .and_then(|v| v.trim().parse::<u32>().ok());
                match min {
                    Some(min) if min > reg.expires && !reg.answered => {
                        reg.expires = min;
                        self.send_register(index, None, now);
                    }
                    _ => self.registration_failed(index, Some(423), now),
                }
            }
            status => self.registration_failed(index, Some(status), now),
        }
    }

    fn registered(&mut self, index: usize, r: &Response, now: Instant) {
        let name = self.trunk_name(index);
        let reg = &mut self.trunks.0[index].registration;
        let asked = if reg.expires == 0 {
            EXPIRES
        } else {
            reg.expires
        };
        let granted = granted_expiry(r, asked);
        if granted == 0 {
            return self.registration_failed(index, Some(r.status), now);
        }
        let was = reg.registered_until.is_some_and(|t| t > now);
        reg.failures = 0;
        reg.registered_until = Some(now + Duration::from_secs(granted.into()));
        reg.next = Some(now + Duration::from_secs(u64::from(granted).div_ceil(2)));
        if !was {
            tracing::info!("sip: trunk {name} registered for {granted} s");
        }
        self.events.push_back(super::EndpointEvent::TrunksChanged);
    }

    fn answer_challenge(&mut self, index: usize, r: &Response, now: Instant) {
        let (header, answer_as) = match r.status {
            401 => (HeaderName::WWW_AUTHENTICATE, HeaderName::AUTHORIZATION),
            _ => (
                HeaderName::PROXY_AUTHENTICATE,
                HeaderName::PROXY_AUTHORIZATION,
            ),
        };
        let challenge = r.head.headers.get(&header).and_then(Challenge::parse);
        let unique = self.unique();
        let (Some(challenge), Some(host)) = (challenge, self.trunks.host(index)) else {
            return self.registration_failed(index, Some(r.status), now);
        };
        let trunk = &mut self.trunks.0[index];
        let reg = &mut trunk.registration;
        if reg.answered && !challenge.stale {
            tracing::warn!(
                "sip: trunk {} refused our credentials ({})",
                trunk.config.name,
                r.status
            );
            return self.registration_failed(index, Some(r.status), now);
        }
        reg.answered = true;
        reg.nc = 1;
        let uri = format!("sip:{host}");
        let value = challenge.answer(&Credentials {
            method: "REGISTER",
            uri: &uri,
            username: &trunk.config.username,
            password: trunk.config.password.expose(),
            cnonce: &unique,
            nc: reg.nc,
        });
        self.send_register(index, Some((answer_as, value)), now);
    }

    /// A failed attempt: try again after the back-off.
    fn registration_failed(&mut self, index: usize, status: Option<u16>, now: Instant) {
        let name = self.trunk_name(index);
        let reg = &mut self.trunks.0[index].registration;
        reg.failures = reg.failures.saturating_add(1);
        let wait = backoff(reg.failures);
        reg.next = Some(now + wait);
        if reg.registered_until.is_some_and(|t| t <= now) {
            reg.registered_until = None;
        }
        self.events.push_back(super::EndpointEvent::TrunksChanged);
        let why = status.map_or_else(|| "no answer".to_owned(), |s| s.to_string());
        tracing::warn!(
            "sip: trunk {name} registration failed ({why}); next try in {} s",
            wait.as_secs()
        );
    }

    pub(super) fn trunk_name(&self, index: usize) -> String {
        (self.trunks.0.get(index)).map_or_else(String::new, |t| t.config.name.clone())
    }
}

/// RFC 5626 §4.5's wait after `failures` consecutive failures.
pub fn backoff(failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    BACKOFF_BASE.saturating_mul(factor).min(BACKOFF_MAX)
}

/// The expiry a 2xx grants: our Contact's `expires`, else the Expires header, else `asked`.
fn granted_expiry(r: &Response, asked: u32) -> u32 {
    let contact = r.head.contact.addresses().iter().find_map(|c| c.expires());
    let header = (r.head.headers.get(&HeaderName::EXPIRES)).and_then(|v| v.trim().parse().ok());
    contact.or(header).unwrap_or(asked)
}

fn register_text(
    user: &str,
    host: &str,
    peer: &Peer,
    r: &Registration,
    expires: u32,
    unique: &str,
) -> String {
    let domain = host.rsplit_once(':').map_or(host, |(h, _)| h);
    let (via, contact) = match peer.transport.is_reliable() {
        true => ("TCP", ";transport=tcp"),
        false => ("UDP", ""),
    };
    format!(
        "REGISTER sip:{host} SIP/2.0\r\n\
         Via: SIP/2.0/{via} {local};branch=z9hG4bK{unique};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{user}@{domain}>;tag={tag}\r\n\
         To: <sip:{user}@{domain}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} REGISTER\r\n\
         Contact: <sip:{user}@{local}{contact}>\r\n\
         Expires: {expires}\r\n\
         Allow: {allow}\r\n\
         Content-Length: 0\r\n\r\n",
        local = peer.local,
        tag = r.tag,
        call_id = r.call_id,
        seq = r.seq,
        allow = super::ALLOW,
    )
}

pub(super) fn parse_request(text: &str) -> Option<Request> {
    match Message::parse(text.as_bytes(), &SipLimits::default()).ok()? {
        Message::Request(r) => Some(r),
        Message::Response(_) => None,
    }
}

#[cfg(test)]
#[path = "trunk_register_tests.rs"]
mod tests;
