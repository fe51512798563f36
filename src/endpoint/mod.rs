//! zentrale's SIP endpoint: the transaction user over [`crate::sip`]. It answers REGISTER
//! (through [`crate::registrar`]), OPTIONS, and refuses what it does not serve; later it hands
//! INVITEs to dispatch.
//!
//! The core [`Endpoint`] is sans-IO (quinn's shape): the driver ([`driver`]) feeds it every
//! message with its [`Peer`] and the time, sends what [`Endpoint::poll_transmit`] yields, acts
//! on [`Endpoint::poll_event`] (log and count denials, write bindings behind), and calls
//! [`Endpoint::handle_timeout`] at [`Endpoint::poll_timeout`].

pub mod driver;
mod peer;
mod tcp;
mod writer;

use std::collections::VecDeque;
use std::net::IpAddr;

use bytes::Bytes;

pub use peer::{Peer, Transport};

use crate::clock::{Instant, UnixTime};
use crate::digest::Nonces;
use crate::registrar::register::{Accounts, Context, register, reply};
use crate::registrar::{Origin, Registrar, RegistrarLimits, Write};
use crate::sip::transaction::{Incoming, Transmit};
use crate::sip::{
    Capabilities, HeaderName, Message, Method, Request, Response, SipLimits, Timers, Transactions,
};

/// What the endpoint allows and answers with.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// The SIP domain: the realm of challenges.
    pub domain: String,
    pub timers: Timers,
    pub limits: SipLimits,
    pub registrar: RegistrarLimits,
    pub max_transactions: usize,
    /// How long a nonce is good for.
    pub nonce_secs: u64,
    /// Digest algorithms offered, most preferred first.
    pub algorithms: Vec<crate::digest::Algorithm>,
}

/// What the driver must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointEvent {
    /// A failed attempt from `ip`: log `sip: denied <ip> <reason>` and count it.
    Denied { ip: IpAddr, reason: &'static str },
    /// Binding changes to write behind.
    Bindings(Vec<Write>),
}

/// The methods this endpoint answers (RFC 3261 §20.5 Allow).
pub const ALLOW: &str = "REGISTER, OPTIONS";

#[derive(Debug)]
pub struct Endpoint {
    config: EndpointConfig,
    transactions: Transactions<Peer>,
    registrar: Registrar,
    accounts: Accounts,
    nonces: Nonces,
    /// Stateless answers (to messages that failed to parse, or when the table is full).
    direct: VecDeque<Transmit<Peer>>,
    events: VecDeque<EndpointEvent>,
}

impl Endpoint {
    pub fn new(config: EndpointConfig, accounts: Accounts) -> Endpoint {
        Endpoint {
            transactions: Transactions::new(config.timers, config.max_transactions),
            registrar: Registrar::new(config.registrar),
            nonces: Nonces::new(config.nonce_secs),
            accounts,
            config,
            direct: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    pub fn registrar_mut(&mut self) -> &mut Registrar {
        &mut self.registrar
    }

    pub fn accounts_mut(&mut self) -> &mut Accounts {
        &mut self.accounts
    }

    /// One message (a datagram, or one framed stream message) from `peer`.
    pub fn handle_message(&mut self, bytes: &[u8], peer: Peer, now: Instant, wall: UnixTime) {
        let message = match Message::parse(bytes, &self.config.limits) {
            Ok(m) => m,
            Err(e) => {
                if let Some(answer) = crate::sip::reject(bytes, &e, &self.config.limits) {
                    self.send_direct(peer, answer);
                }
                return;
            }
        };
        match message {
            Message::Request(mut request) => {
                peer.stamp_via(&mut request);
                let reliable = peer.transport.is_reliable();
                match self
                    .transactions
                    .handle_request(request, peer.clone(), reliable, now)
                {
                    Incoming::New(id, request) => {
                        let response = self.answer(&request, &peer, wall);
                        if let Err(e) = self.transactions.respond(&id, response, now) {
                            tracing::debug!("sip: responding: {e}");
                        }
                    }
                    Incoming::Cancel { id, request, .. } => {
                        // Nothing of ours is pending long enough to cancel (no INVITE yet).
                        let response = reply(&request, 481, "Call/Transaction Does Not Exist");
                        let _ = self.transactions.respond(&id, response, now);
                    }
                    Incoming::Full(request) => {
                        let mut busy = reply(&request, 503, "Service Unavailable");
                        busy.head.headers.push(HeaderName::RETRY_AFTER, "5");
                        self.send_direct(peer, busy.print());
                    }
                    Incoming::Ack(_) | Incoming::Absorbed => {}
                }
            }
            Message::Response(response) => {
                let _ = self.transactions.handle_response(response, now);
            }
        }
    }

    /// The transaction user's answer to a new request.
    fn answer(&mut self, request: &Request, peer: &Peer, wall: UnixTime) -> Response {
        if let Err(refusal) = crate::sip::screen(request, &Capabilities::default()) {
            return refusal.response(request, "zr", &Capabilities::default());
        }
        match request.method {
            Method::Register => self.register(request, peer, wall),
            Method::Options => self.options(request),
            // RFC 3261 §8.2.1: a method we know but do not serve here.
            Method::Invite | Method::Bye | Method::Subscribe | Method::Notify => {
                self.not_allowed(request)
            }
            _ => {
                let mut r = reply(request, 501, "Not Implemented");
                r.head.headers.push(HeaderName::ALLOW, ALLOW);
                r
            }
        }
    }

    fn register(&mut self, request: &Request, peer: &Peer, wall: UnixTime) -> Response {
        let origin = Origin {
            transport: peer.transport.as_str().to_owned(),
            source: peer.addr.to_string(),
            local: peer.local.to_string(),
            user_agent: request
                .head
                .headers
                .get(&HeaderName::USER_AGENT)
                .map(|ua| ua.chars().take(256).collect()),
            call_id: request.head.call_id.clone(),
            cseq: request.head.cseq.seq,
        };
        let ctx = Context {
            realm: &self.config.domain,
            nonces: &self.nonces,
            accounts: &self.accounts,
            algorithms: &self.config.algorithms,
        };
        let answer = register(request, &origin, &mut self.registrar, &ctx, wall);
        if let Some(reason) = answer.denied {
            self.events.push_back(EndpointEvent::Denied {
                ip: peer.addr.ip(),
                reason,
            });
        }
        self.flush_writes();
        answer.response
    }

    fn options(&self, request: &Request) -> Response {
        let mut r = reply(request, 200, "OK");
        let h = &mut r.head.headers;
        h.push(HeaderName::ALLOW, ALLOW);
        h.push(HeaderName::ACCEPT, "application/sdp");
        h.push(HeaderName::SUPPORTED, "path, outbound");
        r
    }

    fn not_allowed(&self, request: &Request) -> Response {
        let mut r = reply(request, 405, "Method Not Allowed");
        r.head.headers.push(HeaderName::ALLOW, ALLOW);
        r
    }

    fn send_direct(&mut self, to: Peer, bytes: Vec<u8>) {
        self.direct.push_back(Transmit {
            to,
            bytes: Bytes::from(bytes),
        });
    }

    fn flush_writes(&mut self) {
        let writes = self.registrar.poll_writes();
        if !writes.is_empty() {
            self.events.push_back(EndpointEvent::Bindings(writes));
        }
    }

    /// Timers: transactions at `now`, binding expiry at `wall`.
    pub fn handle_timeout(&mut self, now: Instant, wall: UnixTime) {
        self.transactions.handle_timeout(now);
        self.registrar.handle_timeout(wall);
        while self.registrar.poll_event().is_some() {}
        self.flush_writes();
    }

    /// When the transactions next need [`Endpoint::handle_timeout`]. Binding expiry is
    /// coarse (seconds): the driver also calls it once a second.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.transactions.poll_timeout()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit<Peer>> {
        self.direct
            .pop_front()
            .or_else(|| self.transactions.poll_transmit())
    }

    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        while self.transactions.poll_event().is_some() {}
        self.events.pop_front()
    }
}
