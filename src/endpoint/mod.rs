//! zentrale's SIP endpoint: the transaction user over [`crate::sip`]. It answers REGISTER
//! (through [`crate::registrar`]) and OPTIONS, carries calls through dispatch as a B2BUA,
//! serves SUBSCRIBE to `message-summary` ([`mwi`]) and `dialog` ([`blf`]), and refuses what it
//! does not serve.
//!
//! The core [`Endpoint`] is sans-IO (quinn's shape): the driver ([`driver`]) feeds it every
//! message with its [`Peer`] and the time, sends what [`Endpoint::poll_transmit`] yields, acts
//! on [`Endpoint::poll_event`] (log and count denials, write bindings behind), and calls
//! [`Endpoint::handle_timeout`] at [`Endpoint::poll_timeout`].

pub mod blf;
pub mod calls;
mod dialog;
pub mod driver;
pub mod flood;
mod in_call;
mod invite;
pub mod local;
mod local_reinvite;
pub mod mwi;
mod peer;
mod prack;
mod relay;
pub mod resync;
mod subscribe;
pub mod trunk;
mod trunk_calls;
mod trunk_register;

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;

pub use peer::{Peer, Transport};

use crate::clock::{Instant, UnixTime};
use crate::digest::Nonces;
use crate::registrar::auth::{Context, Replays};
use crate::registrar::register::{Accounts, register, reply};
use crate::registrar::{Origin, Registrar, RegistrarLimits, Write};
use crate::sip::transaction::{Incoming, TransactionId, Transmit};
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
    /// `[[sip.trunks]]`.
    pub trunks: Vec<crate::config::TrunkConfig>,
    /// `[calls]`: forwarding depth, the busy rule.
    pub dispatch: crate::dispatch::DispatchConfig,
}

/// What the driver must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointEvent {
    /// A failed attempt from `ip`: log `sip: denied <ip> <reason>` and count it.
    Denied { ip: IpAddr, reason: &'static str },
    /// Binding changes to write behind.
    Bindings(Vec<Write>),
    /// Device `device` asks to watch the mailbox at `user` (the Request-URI's user part): the
    /// driver answers with [`Endpoint::handle_mailbox_access`] and `key`.
    Subscribe { key: u64, device: i64, user: String },
    /// Device `device` asks to watch the line of the user at `user` (the Request-URI's user
    /// part; BLF): the driver answers with [`Endpoint::handle_line_access`] and `key`.
    WatchLine { key: u64, device: i64, user: String },
    /// What these devices' lines are doing changed (for the API's phone status).
    Lines(Vec<(i64, crate::registrar::presence::LineState)>),
    /// Device `device` calls `dialled` (the Request-URI's user part): the driver answers with
    /// [`Endpoint::handle_route`] and `key`.
    Invite {
        key: u64,
        device: i64,
        dialled: String,
    },
    /// A call from a trunk to one of its DIDs: the driver answers with
    /// [`Endpoint::handle_route`] and `key`.
    FromTrunk {
        key: u64,
        target: crate::config::DidTarget,
        caller: calls::CallerId,
    },
    /// A trunk's registration changed: the driver publishes [`Endpoint::trunk_states`].
    TrunksChanged,
    /// A call ended: its record.
    CallEnded(Box<calls::Ended>),
    /// A call zentrale answers itself: the driver sets up its media and answers with
    /// [`Endpoint::handle_local_answer`].
    Answer(Box<local::AnswerRequest>),
    /// A call we answered (or were about to) ended from the caller's side, or failed.
    LocalEnded { key: u64 },
    /// The caller of a call we answered sent a DTMF digit as SIP INFO.
    LocalDtmf { key: u64, digit: char },
    /// The caller of a call we answered (whose application reads offers) re-INVITEs with this
    /// offer: the driver answers with [`Endpoint::handle_local_reanswer`].
    LocalOffer { key: u64, offer: Bytes },
    /// What became of our re-INVITE ([`Endpoint::reoffer_locally`]): the caller's SDP answer,
    /// or the final status (408 for no answer).
    LocalAnswered {
        key: u64,
        answer: Result<Bytes, u16>,
    },
}

/// The methods this endpoint answers (RFC 3261 §20.5 Allow).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, REGISTER, OPTIONS, SUBSCRIBE, UPDATE, INFO";

/// Whom a request is for: the Request-URI's user, else (a request addressed to the server
/// itself, as sipp's Digest requires) the To URI's.
fn addressed_user(request: &Request) -> Option<String> {
    [&request.uri, &request.head.to.uri]
        .into_iter()
        .find_map(|uri| uri.as_sip().and_then(|u| u.user.clone()))
}

#[derive(Debug)]
pub struct Endpoint {
    config: EndpointConfig,
    transactions: Transactions<Peer>,
    registrar: Registrar,
    accounts: Accounts,
    nonces: Nonces,
    replays: Replays,
    /// Stateless answers (to messages that failed to parse, or when the table is full).
    direct: VecDeque<Transmit<Peer>>,
    events: VecDeque<EndpointEvent>,
    resyncs: resync::Resyncs,
    /// The resync event of each device that is waiting for one.
    resync_events: HashMap<i64, String>,
    /// Live TCP connections by the address they come from (requests to a phone that
    /// registered over TCP reuse its connection).
    connections: HashMap<SocketAddr, u64>,
    subscriptions: mwi::Subscriptions,
    pending: HashMap<u64, subscribe::Pending>,
    next_pending: u64,
    calls: HashMap<u64, calls::Call>,
    /// The call each INVITE transaction (the caller's, and ours to each contact) belongs to.
    call_of_tx: HashMap<TransactionId, u64>,
    /// The call each Call-ID (the caller's; the answering callee's) belongs to.
    call_of_id: HashMap<String, u64>,
    next_call: u64,
    trunks: trunk::Trunks,
    /// The trunk each of our REGISTER transactions is for.
    trunk_of_tx: HashMap<TransactionId, usize>,
    /// Each device's calls as BLF last saw them ([`blf`]).
    lines: blf::Lines,
    dispatch: crate::dispatch::DispatchConfig,
    /// Makes Call-IDs, tags and branches of our own requests unique.
    seed: u64,
    sent: u64,
}

impl Endpoint {
    pub fn new(config: EndpointConfig, accounts: Accounts) -> Endpoint {
        Endpoint {
            transactions: Transactions::new(config.timers, config.max_transactions),
            registrar: Registrar::new(config.registrar),
            nonces: Nonces::new(config.nonce_secs),
            // Each registered contact holds about one nonce at a time, subscriptions another.
            replays: Replays::new(
                config.nonce_secs,
                config.registrar.max_bindings.saturating_mul(2),
            ),
            direct: VecDeque::new(),
            events: VecDeque::new(),
            resyncs: resync::Resyncs::default(),
            resync_events: HashMap::new(),
            connections: HashMap::new(),
            // One subscription per binding, roughly.
            subscriptions: mwi::Subscriptions::new(config.registrar.max_bindings),
            pending: HashMap::new(),
            next_pending: 0,
            calls: HashMap::new(),
            call_of_tx: HashMap::new(),
            call_of_id: HashMap::new(),
            next_call: 0,
            trunks: trunk::Trunks::new(config.trunks.clone()),
            trunk_of_tx: HashMap::new(),
            lines: blf::Lines::default(),
            dispatch: config.dispatch,
            seed: rand::random(),
            sent: 0,
            accounts,
            config,
        }
    }

    /// A TCP connection `id` with `addr` opened (accepted, or ours to a trunk).
    pub fn handle_connection_opened(&mut self, addr: SocketAddr, id: u64, now: Instant) {
        self.connections.insert(addr, id);
        self.trunk_connected(addr, now);
    }

    /// Connection `id` from `addr` closed (a newer one from the same address stays).
    pub fn handle_connection_closed(&mut self, addr: SocketAddr, id: u64) {
        if self.connections.get(&addr) == Some(&id) {
            self.connections.remove(&addr);
        }
    }

    /// The configs of `devices` changed (each with its vendor's resync event): registered ones
    /// get a NOTIFY once the changes settle.
    pub fn handle_config_change(&mut self, devices: Vec<(i64, String)>, now: Instant) {
        let registered: Vec<(i64, String)> = devices
            .into_iter()
            .filter(|(d, _)| !self.registrar.bindings(*d).is_empty())
            .collect();
        self.resyncs
            .changed(registered.iter().map(|(d, _)| *d), now);
        self.resync_events.extend(registered);
    }

    /// Sends the NOTIFYs that are due.
    fn send_resyncs(&mut self, now: Instant) {
        for device in self.resyncs.due(now) {
            let Some(event) = self.resync_events.remove(&device) else {
                continue;
            };
            let bindings = self.registrar.bindings(device).to_vec();
            for b in &bindings {
                self.send_notify(b, &event, now);
            }
        }
    }

    fn send_notify(&mut self, b: &crate::registrar::Binding, event: &str, now: Instant) {
        // RFC 6665 §4.2.2: no subscription, so it is over as soon as it is sent.
        let headers =
            format!("Event: {event}\r\nSubscription-State: terminated;reason=noresource\r\n");
        self.send_unsolicited(b, &headers, None, now);
    }

    /// A NOTIFY out of any dialog to binding `b`, over the transport it registered with.
    fn send_unsolicited(
        &mut self,
        b: &crate::registrar::Binding,
        headers: &str,
        body: Option<(&str, &str)>,
        now: Instant,
    ) {
        let Some(peer) = self.binding_peer(b) else {
            return;
        };
        let (transport, addr, local) = (peer.transport, peer.addr, peer.local);
        let unique = self.unique();
        let local_text = local.to_string();
        let from = resync::NotifyFrom {
            local: &local_text,
            domain: &self.config.domain,
            unique: &unique,
        };
        let Some(request) = resync::notify(b, headers, body, &from) else {
            return;
        };
        let peer = Peer {
            transport,
            addr,
            local,
        };
        let reliable = transport.is_reliable();
        if let Err(e) = self.transactions.send_request(request, peer, reliable, now) {
            tracing::debug!("sip: NOTIFY to device {}: {e}", b.device_id);
        }
    }

    /// Where binding `b` is reached: its source address, over the transport it registered
    /// with (None: its TCP connection is gone; it re-registers anyway).
    fn binding_peer(&self, b: &crate::registrar::Binding) -> Option<Peer> {
        let addr: SocketAddr = b.origin.source.parse().ok()?;
        let local: SocketAddr = b.origin.local.parse().ok()?;
        let transport = match b.origin.transport.as_str() {
            "tcp" => Transport::Tcp(*self.connections.get(&addr)?),
            _ => Transport::Udp,
        };
        Some(Peer {
            transport,
            addr,
            local,
        })
    }

    /// Something unique for a Call-ID, tag or branch of ours.
    fn unique(&mut self) -> String {
        self.sent += 1;
        format!("{:x}{:x}", self.seed, self.sent)
    }

    /// What dispatch runs with (the driver builds views as deep as it follows).
    pub fn dispatch_config(&self) -> crate::dispatch::DispatchConfig {
        self.dispatch
    }

    pub fn registrar(&self) -> &Registrar {
        &self.registrar
    }

    pub fn registrar_mut(&mut self) -> &mut Registrar {
        &mut self.registrar
    }

    /// Replaces the accounts; subscriptions of devices that may no longer register end.
    pub fn set_accounts(&mut self, accounts: Accounts) {
        self.accounts = accounts;
        self.drop_subscriptions_of_unknown_devices();
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    /// One message (a datagram, or one framed stream message) from `peer`.
    pub fn handle_message(&mut self, bytes: &[u8], peer: Peer, now: Instant, wall: UnixTime) {
        self.take_message(bytes, peer, now, wall);
        self.update_lines(now);
    }

    /// One message the driver parsed already (off this core's thread; as
    /// [`Endpoint::handle_message`] does with [`Message::parse`]).
    pub fn handle_parsed(&mut self, message: Message, peer: Peer, now: Instant, wall: UnixTime) {
        self.take_parsed(message, peer, now, wall);
        self.update_lines(now);
    }

    /// The stateless answer ([`crate::sip::reject`]) to a message from `peer` that did not
    /// parse, to send as it is.
    pub fn handle_unparsable(&mut self, answer: Vec<u8>, peer: Peer) {
        self.send_direct(peer, answer);
    }

    fn take_message(&mut self, bytes: &[u8], peer: Peer, now: Instant, wall: UnixTime) {
        match Message::parse(bytes, &self.config.limits) {
            Ok(message) => self.take_parsed(message, peer, now, wall),
            Err(e) => {
                if let Some(answer) = crate::sip::reject(bytes, &e, &self.config.limits) {
                    self.send_direct(peer, answer);
                }
            }
        }
    }

    fn take_parsed(&mut self, message: Message, peer: Peer, now: Instant, wall: UnixTime) {
        match message {
            Message::Request(mut request) => {
                peer.stamp_via(&mut request);
                let reliable = peer.transport.is_reliable();
                match self
                    .transactions
                    .handle_request(request, peer.clone(), reliable, now)
                {
                    Incoming::New(id, request) => {
                        let Some(response) = self.answer(&id, &request, &peer, now, wall) else {
                            return;
                        };
                        if let Err(e) = self.transactions.respond(&id, response, now) {
                            tracing::debug!("sip: responding: {e}");
                        }
                    }
                    Incoming::Cancel {
                        id,
                        request,
                        invite,
                    } => {
                        let Some(invite) = invite else {
                            let response = reply(&request, 481, "Call/Transaction Does Not Exist");
                            let _ = self.transactions.respond(&id, response, now);
                            return self.pump(now);
                        };
                        let ok = Response::for_request(&request, 200, "OK");
                        let _ = self.transactions.respond(&id, ok, now);
                        if !self.cancel_relayed(&request, &invite, now) {
                            self.caller_cancelled(&invite, now);
                        }
                    }
                    Incoming::Full(request) => {
                        let mut busy = reply(&request, 503, "Service Unavailable");
                        busy.head.headers.push(HeaderName::RETRY_AFTER, "5");
                        self.send_direct(peer, busy.print());
                    }
                    Incoming::Ack(ack) => self.caller_ack(&ack),
                    Incoming::Absorbed => {}
                }
            }
            Message::Response(response) => {
                use crate::sip::transaction::ResponseOutcome;
                if let ResponseOutcome::Stray(r) = self.transactions.handle_response(response, now)
                {
                    self.stray_response(&r);
                }
            }
        }
        self.pump(now);
    }

    /// The transaction user's answer to a new request; None when it comes later.
    fn answer(
        &mut self,
        id: &TransactionId,
        request: &Request,
        peer: &Peer,
        now: Instant,
        wall: UnixTime,
    ) -> Option<Response> {
        let caps = match request.method {
            Method::Info => relay::INFO_CAPABILITIES,
            _ => Capabilities::default(),
        };
        if let Err(refusal) = crate::sip::screen(request, &caps) {
            return Some(refusal.response(request, "zr", &caps));
        }
        Some(match request.method {
            Method::Register => self.register(request, peer, wall),
            Method::Options => self.options(request),
            Method::Subscribe => return self.subscribe(id, request, peer, now, wall),
            Method::Invite => return self.invite(id, request, peer, now, wall),
            Method::Bye => match self.local_request(request, now) {
                Some(answer) => answer,
                None => self.bye_in_call(request, now),
            },
            Method::Update | Method::Info => match self.local_request(request, now) {
                Some(answer) => answer,
                None => return self.in_dialog(id, request, now),
            },
            // RFC 3262 §3: we never send reliable provisionals, so no PRACK is expected.
            Method::Prack => reply(request, 481, "Call/Transaction Does Not Exist"),
            // RFC 3261 §8.2.1: a method we know but do not serve here.
            Method::Notify => self.not_allowed(request),
            _ => {
                let mut r = reply(request, 501, "Not Implemented");
                r.head.headers.push(HeaderName::ALLOW, ALLOW);
                r
            }
        })
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
        let mut ctx = Context {
            realm: &self.config.domain,
            nonces: &self.nonces,
            accounts: &self.accounts,
            algorithms: &self.config.algorithms,
            replays: &mut self.replays,
        };
        let answer = register(request, &origin, &mut self.registrar, &mut ctx, wall);
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
        h.push(HeaderName::ALLOW_EVENTS, subscribe::ALLOW_EVENTS);
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
        self.pump(now);
        self.call_timeouts(now);
        self.trunk_timeouts(now);
        self.send_resyncs(now);
        self.expire_subscriptions(now);
        self.registrar.handle_timeout(wall);
        while self.registrar.poll_event().is_some() {}
        self.flush_writes();
        self.update_lines(now);
    }

    /// When the transactions next need [`Endpoint::handle_timeout`]. Binding expiry is
    /// coarse (seconds): the driver also calls it once a second.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [
            self.transactions.poll_timeout(),
            self.resyncs.poll_timeout(),
            self.calls_timeout(),
            self.relays_timeout(),
            self.trunks_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit<Peer>> {
        self.direct
            .pop_front()
            .or_else(|| self.transactions.poll_transmit())
    }

    pub fn poll_event(&mut self) -> Option<EndpointEvent> {
        self.events.pop_front()
    }
}

/// For the endpoint's tests: a core for realm `pbx.example.com` (MD5 offered) with `accounts`
/// (username, device, password), all phones assigned.
#[cfg(test)]
fn test_endpoint(accounts: &[(&str, i64, &str)]) -> Endpoint {
    test_endpoint_with_trunks(accounts, Vec::new())
}

/// [`test_endpoint`] with `trunks`.
#[cfg(test)]
fn test_endpoint_with_trunks(
    accounts: &[(&str, i64, &str)],
    trunks: Vec<crate::config::TrunkConfig>,
) -> Endpoint {
    use crate::store::{DeviceKind, registrations::SipAccount};
    let config = EndpointConfig {
        domain: "pbx.example.com".into(),
        timers: Timers::default(),
        limits: SipLimits::default(),
        registrar: RegistrarLimits::default(),
        max_transactions: 100,
        nonce_secs: 300,
        algorithms: vec![crate::digest::Algorithm::Md5],
        trunks,
        dispatch: crate::dispatch::DispatchConfig::default(),
    };
    let accounts = accounts.iter().map(|(name, id, password)| {
        let account = SipAccount {
            device_id: *id,
            kind: DeviceKind::IpPhone,
            password: (*password).to_owned(),
            assigned: true,
        };
        ((*name).to_owned(), account)
    });
    Endpoint::new(config, Accounts::new(accounts))
}

/// For the endpoint's tests: `user`'s phone (device `device`) registered over UDP from `addr`
/// (to 192.0.2.1:5060) at `wall`, for an hour.
#[cfg(test)]
fn test_binding(device: i64, user: &str, addr: &str, wall: UnixTime) -> crate::registrar::Binding {
    crate::registrar::Binding {
        device_id: device,
        contact: format!("<sip:{user}@{addr}>"),
        key: "k".into(),
        expires_at: wall.after(std::time::Duration::from_secs(3600)),
        q: None,
        origin: Origin {
            transport: "udp".into(),
            source: addr.into(),
            local: "192.0.2.1:5060".into(),
            user_agent: None,
            call_id: "r".into(),
            cseq: 1,
        },
        registered_at: wall,
    }
}

/// For the endpoint's tests: the driver's route for a call from anna (device 1, extension 100)
/// to bert, whose one phone is device 2.
#[cfg(test)]
fn test_route_anna_to_bert() -> calls::Route {
    use crate::dispatch::{CallClass, CallRequest, Caller, Destination, DeviceView, Reach, View};
    let mut view = View::default();
    view.insert_user(crate::dispatch::UserView {
        username: "bert".into(),
        devices: vec![DeviceView {
            id: 2,
            followme: Default::default(),
            reach: Reach::Registered,
        }],
        ..Default::default()
    });
    calls::Route::Dispatch {
        request: CallRequest {
            target: Destination::User("bert".into()),
            class: CallClass::Internal,
            caller: Caller {
                device: Some(1),
                user: Some("anna".into()),
            },
        },
        view,
        caller: calls::CallerId {
            name: "Anna".into(),
            number: "100".into(),
            ours: None,
        },
    }
}
