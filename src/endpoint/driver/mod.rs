//! The SIP driver: the only place where the [`Endpoint`] meets sockets, the clock and the
//! store. UDP and TCP listen on the same address; each TCP connection has a task that frames
//! its stream and hands messages to the one endpoint task, which owns the core.
//!
//! At start it reads every SIP account and the stored bindings; it follows the store's change
//! feed to keep the accounts current (a device deleted, unassigned or disabled loses its
//! bindings at once) and writes binding changes behind through [`BindingWriter`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

mod calls;
mod front;
mod lines;
pub mod local;
mod mailbox;
mod recorder;
mod route_cache;
mod sender;
mod tcp;
mod trunks;
pub mod view;
mod writer;

use self::front::{Front, Inbound, SharedGate};
use self::local::LocalSignal;
use self::recorder::CallRecorder;
use self::tcp::ConnMsg;
use self::writer::BindingWriter;
use super::flood::{FloodGate, FloodLimits};
use super::{Endpoint, EndpointConfig, EndpointEvent, Peer, Transport};
use crate::clock::{UnixTime, now};
use crate::net::{Acceptor, Udp};
use crate::provisioning::limiter::{Hit, Limiter};
use crate::registrar::presence::Presence;
use crate::registrar::register::Accounts;
use crate::store::{Store, StoreError, Vendor};

/// The largest datagram read (a UDP payload cannot be larger).
const MAX_DATAGRAM: usize = 65_535;
/// Datagrams handled per wake-up at most (then timers, TCP and changes get their turn).
const RECV_BATCH: usize = 32;
/// The SIP socket's receive buffer: what arrives while the front is busy or not scheduled
/// waits here, and what does not fit is dropped by the kernel and costs its sender a
/// retransmission (500 ms at T1). The default (`net.core.rmem_default`, 208 KiB on Debian)
/// holds about 150 REGISTERs; 2 MiB holds a burst of some 1,500 (all phones re-registering
/// after a power cut), which the front works off in well under T1. Kamailio likewise raises
/// its UDP receive buffer at start (its `maxbuffer` auto-probing, kamailio(8) `-b`). Without
/// root the kernel grants at most `net.core.rmem_max`: the .deb raises that to this
/// (`packaging/sysctl/30-zentrale.conf`).
const RECV_BUFFER: usize = 2 << 20;
/// Call records past retention are pruned this often (and at start).
const PRUNE_EVERY: Duration = Duration::from_secs(86_400);
/// Binding expiry is checked at least this often.
const TICK: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EndpointError {
    #[error("SIP/UDP socket: {0}")]
    Udp(std::io::Error),
    #[error("loading SIP accounts and bindings: {0}")]
    Store(#[from] StoreError),
    #[error("the SIP thread: {0}")]
    Thread(std::io::Error),
}

/// Failed attempts per source before it is ignored for a while.
#[derive(Debug, Clone, Copy)]
pub struct Bans {
    pub failures: u32,
    pub window: Duration,
    pub ban: Duration,
    /// Packets per source before any parsing ([`FloodGate`]).
    pub flood: FloodLimits,
}

/// The SIP service.
#[derive(Debug)]
pub struct SipServer {
    pub udp: Udp,
    pub tcp: Acceptor,
    pub store: Store,
    pub config: EndpointConfig,
    pub bans: Bans,
    /// Where the admin API reads phone status.
    pub presence: Presence,
    /// Each vendor's resync event (its provisioning manifest's `notify_event`).
    pub notify_events: HashMap<Vendor, String>,
    /// How long call records are kept (pruned daily).
    pub calls: crate::config::CallsConfig,
    /// What answers calls locally (voicemail); None: such calls get 480.
    pub answerer: Option<std::sync::Arc<dyn local::Answerer>>,
    /// The number that reaches one's own mailbox (`[voicemail] feature_code`).
    pub mailbox_code: Option<String>,
}

struct Driver {
    endpoint: Endpoint,
    udp: Udp,
    /// To the thread that sends UDP datagrams ([`sender`]).
    out: mpsc::Sender<Vec<crate::sip::transaction::Transmit<Peer>>>,
    udp_local: SocketAddr,
    store: Store,
    conns: HashMap<u64, (mpsc::Sender<Bytes>, SocketAddr)>,
    limiter: Limiter,
    /// Shared with the [`Front`], which sheds datagrams; the TCP connections' go here.
    flood: SharedGate,
    writes: mpsc::UnboundedSender<crate::registrar::Write>,
    /// Records of ended calls, to the [`CallRecorder`].
    records: mpsc::UnboundedSender<crate::store::NewCall>,
    seen_generation: u64,
    presence: Presence,
    notify_events: HashMap<Vendor, String>,
    /// The SIP domain (MWI's `Message-Account`).
    domain: String,
    /// `[calls] emergency_numbers`.
    emergency: Vec<String>,
    locals: local::Locals,
    mailbox_code: Option<String>,
    route_cache: route_cache::RouteCache,
}

impl SipServer {
    /// Calls zentrale answers itself go to `answerer` (voicemail); `[voicemail] feature_code`
    /// reaches one's own mailbox.
    pub fn answered_by(
        mut self,
        answerer: std::sync::Arc<dyn local::Answerer>,
        voicemail: &crate::config::VoicemailConfig,
    ) -> SipServer {
        self.answerer = Some(answerer);
        self.mailbox_code = Some(voicemail.feature_code.clone()).filter(|c| !c.is_empty());
        self
    }

    /// Runs the service on a thread and runtime of its own: one task owns the endpoint, and on
    /// tokio's shared runtime it was moved between worker threads at every wake-up (task
    /// switches topped the REGISTER benchmark's profile).
    pub async fn run_on_own_thread(self, shutdown: CancellationToken) -> Result<(), EndpointError> {
        let (done, result) = tokio::sync::oneshot::channel();
        let work = move || self.rebound_run(shutdown);
        own_thread("sip", work, move |outcome| {
            let _ = done.send(outcome.map_err(EndpointError::Thread).and_then(|r| r));
        })
        .map_err(EndpointError::Thread)?;
        result
            .await
            .unwrap_or(Err(EndpointError::Thread(std::io::Error::other(
                "the SIP thread ended without a word",
            ))))
    }

    async fn rebound_run(mut self, shutdown: CancellationToken) -> Result<(), EndpointError> {
        self.udp = self.udp.rebind().map_err(EndpointError::Udp)?;
        self.tcp = self.tcp.rebind().map_err(EndpointError::Thread)?;
        self.run(shutdown).await
    }

    pub async fn run(self, shutdown: CancellationToken) -> Result<(), EndpointError> {
        let seen_generation = self.store.generation();
        let accounts = Accounts::new(self.store.sip_account_list().await?);
        let limits = self.config.limits.clone();
        let max_expires = Duration::from_secs(u64::from(self.config.registrar.max_expires));
        let stored = self.store.load_bindings(UnixTime::now()).await?;
        let (kept, gone): (Vec<_>, Vec<_>) = stored
            .into_iter()
            .partition(|b| accounts.allows(b.device_id));
        let domain = self.config.domain.clone();
        let mut endpoint = Endpoint::new(self.config, accounts);
        endpoint
            .registrar_mut()
            .load(kept.into_iter().map(writer::from_stored));
        // Devices disabled or unassigned while we were down: their rows go now.
        for b in gone {
            endpoint
                .registrar_mut()
                .forget_stored(b.device_id, b.contact);
        }
        let (writes, writer) = BindingWriter::new(self.store.clone());
        let writer = tokio::spawn(writer.run());
        let (records, recorder) = CallRecorder::new(self.store.clone());
        let recorder = tokio::spawn(recorder.run());
        let (conn_tx, mut conn_rx) = mpsc::channel(4096);
        let stop = shutdown.clone();
        let tcp_limits = (max_expires, self.bans.flood);
        let dialers: Vec<_> = (endpoint.tcp_trunk_hosts().into_iter())
            .map(|(index, host, port)| {
                // Outgoing connections are numbered far above accepted ones.
                let first = (index as u64 + 1) << 48;
                let bounds = (
                    limits.clone(),
                    tcp_limits.0 + tcp::IDLE_MARGIN,
                    tcp_limits.1,
                );
                let dial = tcp::dial((host, port), first, conn_tx.clone(), bounds, stop.clone());
                tokio::spawn(dial)
            })
            .collect();
        let acceptor = tokio::spawn(tcp::accept(
            self.tcp,
            conn_tx,
            limits.clone(),
            tcp_limits,
            stop,
        ));
        let (locals, mut local_rx) = local::Locals::new(self.answerer);
        let flood: SharedGate =
            std::sync::Arc::new(std::sync::Mutex::new(FloodGate::new(self.bans.flood)));
        let udp_local = self.udp.local_addr().map_err(EndpointError::Udp)?;
        match self.udp.set_recv_buffer(RECV_BUFFER) {
            Ok(granted) => tracing::debug!("sip: UDP receive buffer {granted} bytes"),
            Err(e) => tracing::warn!("sip: cannot enlarge the UDP receive buffer: {e}"),
        }
        let front = Front {
            socket: Some(self.udp.try_clone_std().map_err(EndpointError::Udp)?),
            udp_local,
            gate: flood.clone(),
            limits: limits.clone(),
        };
        let front_stop = shutdown.child_token();
        let mut inbound = front
            .spawn(front_stop.clone())
            .map_err(EndpointError::Thread)?;
        let out = sender::spawn(self.udp.try_clone_std().map_err(EndpointError::Udp)?)
            .map_err(EndpointError::Thread)?;
        let mut d = Driver {
            endpoint,
            out,
            udp_local,
            udp: self.udp,
            store: self.store.clone(),
            conns: HashMap::new(),
            limiter: Limiter::new(self.bans.failures, self.bans.window, self.bans.ban),
            flood,
            writes,
            records,
            seen_generation,
            presence: self.presence,
            notify_events: self.notify_events,
            domain,
            emergency: self.calls.emergency_numbers.clone(),
            locals,
            mailbox_code: self.mailbox_code,
            route_cache: Default::default(),
        };
        d.publish_trunks();
        let devices: Vec<i64> = d.endpoint.registrar().devices().collect();
        for device in devices {
            d.publish(device);
        }
        let mut changes = self.store.watch_changes();
        let mut prune = tokio::time::interval(PRUNE_EVERY);
        let (resolved_tx, mut resolved) = mpsc::channel(16);
        let resolver = tokio::spawn(trunks::resolve(d.endpoint.trunk_hosts(), resolved_tx));
        let retention = self.calls;
        let result = loop {
            let deadline = d.deadline();
            tokio::select! {
                () = shutdown.cancelled() => break Ok(()),
                // A burst of datagrams, parsed by the front: one flush per burst.
                batch = inbound.recv() => match batch {
                    Some(Ok(batch)) => {
                        d.catch_up().await;
                        batch.into_iter().for_each(|m| d.inbound(m));
                    }
                    Some(Err(e)) => break Err(EndpointError::Udp(e)),
                    None if shutdown.is_cancelled() => break Ok(()),
                    None => break Err(EndpointError::Thread(std::io::Error::other(
                        "the SIP front thread ended",
                    ))),
                },
                Some(msg) = conn_rx.recv() => {
                    d.catch_up().await;
                    d.connection(msg);
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    d.endpoint.handle_timeout(now(), UnixTime::now());
                }
                Ok(()) = changes.changed() => d.follow_changes().await,
                _ = prune.tick() => d.prune_calls(&retention).await,
                Some(r) = resolved.recv() => d.trunk_resolved(r),
                Some((key, reply)) = local_rx.recv() => d.local_reply(key, reply),
            }
            d.flush().await;
        };
        front_stop.cancel();
        acceptor.abort();
        resolver.abort();
        dialers.iter().for_each(tokio::task::JoinHandle::abort);
        drop(d);
        // The writers end when their channels close: every change reaches the store.
        let _ = writer.await;
        let _ = recorder.await;
        result
    }
}

impl Driver {
    fn deadline(&self) -> crate::clock::Instant {
        let tick = now() + TICK;
        self.endpoint.poll_timeout().map_or(tick, |t| t.min(tick))
    }

    /// One datagram the front let through and parsed, unless its source is banned.
    fn inbound(&mut self, m: Inbound) {
        if self.limiter.is_banned(m.peer.addr.ip(), now()) {
            return;
        }
        match m.message {
            Ok(message) => {
                self.endpoint
                    .handle_parsed(message, m.peer, now(), UnixTime::now());
            }
            Err(Some(answer)) => self.endpoint.handle_unparsable(answer, m.peer),
            Err(None) => {}
        }
    }

    fn message(&mut self, bytes: &[u8], peer: Peer) {
        if crate::sip::is_keepalive(bytes) || self.limiter.is_banned(peer.addr.ip(), now()) {
            return;
        }
        self.endpoint
            .handle_message(bytes, peer, now(), UnixTime::now());
    }

    fn connection(&mut self, msg: ConnMsg) {
        match msg {
            ConnMsg::Opened { id, addr, tx } => {
                self.conns.insert(id, (tx, addr));
                self.endpoint.handle_connection_opened(addr, id, now());
            }
            ConnMsg::Message { peer, bytes } if !front::shed(&self.flood, peer.addr.ip()) => {
                self.message(&bytes, peer);
            }
            ConnMsg::Message { .. } => {}
            ConnMsg::Flood { ip } => {
                let mut gate = self.flood.lock().unwrap_or_else(|p| p.into_inner());
                if gate.handle_flood_elsewhere(ip, now()) {
                    tracing::warn!("sip: denied {ip} flood");
                }
            }
            ConnMsg::Closed { id } => {
                if let Some((_, addr)) = self.conns.remove(&id) {
                    self.endpoint.handle_connection_closed(addr, id);
                }
            }
        }
    }

    /// Sends what the endpoint produced and acts on its events (which may produce more).
    /// Events go first: a phone that has its 200 must already show as registered in the API
    /// (a test that asked right after the 200 sometimes saw it still unregistered).
    async fn flush(&mut self) {
        loop {
            let events: Vec<EndpointEvent> =
                std::iter::from_fn(|| self.endpoint.poll_event()).collect();
            let done = events.is_empty();
            for event in events {
                self.act(event).await;
            }
            self.transmit().await;
            if done {
                return;
            }
        }
    }

    async fn act(&mut self, event: EndpointEvent) {
        match event {
            EndpointEvent::Denied { ip, reason } => self.deny(ip, reason),
            EndpointEvent::Bindings(writes) => {
                for w in writes {
                    self.publish(w.device());
                    let _ = self.writes.send(w);
                }
            }
            EndpointEvent::Subscribe { key, device, user } => {
                self.resolve_subscription(key, device, &user).await;
            }
            EndpointEvent::WatchLine { key, device, user } => {
                self.resolve_line_watch(key, device, &user).await;
            }
            EndpointEvent::Lines(changed) => self.publish_lines(&changed),
            EndpointEvent::Invite {
                key,
                device,
                dialled,
            } => self.route_call(key, device, &dialled).await,
            EndpointEvent::FromTrunk {
                key,
                target,
                caller,
            } => self.route_from_trunk(key, target, caller).await,
            EndpointEvent::TrunksChanged => self.publish_trunks(),
            EndpointEvent::CallEnded(ended) => self.record_call(*ended),
            EndpointEvent::Answer(request) => self.start_local(*request),
            EndpointEvent::LocalEnded { key } => self.local_signal(key, LocalSignal::Ended),
            EndpointEvent::LocalOffer { key, offer } => {
                self.local_signal(key, LocalSignal::Offer(offer));
            }
            EndpointEvent::LocalAnswered { key, answer } => {
                self.local_signal(key, LocalSignal::Answered(answer));
            }
            EndpointEvent::LocalDtmf { key, digit } => {
                self.local_signal(key, LocalSignal::Dtmf(digit));
            }
        }
    }

    async fn transmit(&mut self) {
        let mut datagrams = Vec::new();
        while let Some(t) = self.endpoint.poll_transmit() {
            match t.to.transport {
                Transport::Udp => datagrams.push(t),
                Transport::Tcp(id) => {
                    if let Some((tx, _)) = self.conns.get(&id)
                        && tx.try_send(t.bytes).is_err()
                    {
                        tracing::debug!("sip: connection {id} is not taking more");
                    }
                }
            }
        }
        if datagrams.is_empty() {
            return;
        }
        // Only if the sending thread is gone (it never ends first): send them here.
        if let Err(mpsc::error::SendError(datagrams)) = self.out.send(datagrams).await {
            for t in datagrams {
                let from = Some(t.to.local.ip());
                if let Err(e) = self.udp.send(&t.bytes, t.to.addr, from).await {
                    tracing::debug!("sip: sending to {}: {e}", t.to.addr);
                }
            }
        }
    }

    /// Shows `device`'s bindings in the admin API.
    fn publish(&self, device: i64) {
        self.presence
            .set(device, self.endpoint.registrar().bindings(device));
    }

    /// Logs a refusal in the one format fail2ban reads, and counts it against the source.
    fn deny(&mut self, ip: std::net::IpAddr, reason: &str) {
        tracing::warn!("sip: denied {ip} {reason}");
        if self.limiter.hit(ip, now()) == Hit::Banned {
            let secs = self.limiter.ban().as_secs();
            tracing::warn!("sip: denied {ip} banned-for-{secs}s");
        }
    }

    /// Follows changes this process just committed (an account the API created a moment ago
    /// must register at once); a cheap check when there are none.
    async fn catch_up(&mut self) {
        if self.store.has_unread_commits() || self.store.generation() != self.seen_generation {
            self.follow_changes().await;
        }
    }

    /// Follows the change feed: reloads the accounts when devices, users or workplaces
    /// changed (bindings of devices that may no longer register go at once), and has the
    /// registered phones whose config changed told to fetch it.
    async fn follow_changes(&mut self) {
        use crate::store::changes::Since;
        // The cursor moves to what was read, never past it: the follower may publish more
        // between the read and now, and that must come next time.
        let before = self.store.generation();
        let since = match self.store.changes_since(self.seen_generation).await {
            Ok(since) => since,
            Err(e) => return tracing::warn!("sip: reading the change feed: {e}"),
        };
        self.seen_generation = match &since {
            Since::Changes(list) => list.last().map_or(self.seen_generation, |c| c.generation),
            Since::Lagged => before,
        };
        let touched = Touched::of(&since);
        if touched.accounts {
            self.reload_accounts().await;
            self.refresh_line_watches().await;
        }
        self.notify_mailboxes(&touched.mailboxes).await;
        self.show_workplace_mailboxes(&touched.workplaces).await;
        if touched.is_empty() {
            return;
        }
        match self.changed_devices(&touched).await {
            Ok(devices) => {
                tracing::debug!("sip: {touched:?} reaches devices {devices:?}");
                self.endpoint.handle_config_change(devices, now());
            }
            Err(e) => tracing::warn!("sip: finding the phones a change reaches: {e}"),
        }
    }

    async fn reload_accounts(&mut self) {
        let list = match self.store.sip_account_list().await {
            Ok(list) => list,
            Err(e) => return tracing::warn!("sip: reloading accounts: {e}"),
        };
        let accounts = Accounts::new(list);
        let gone: Vec<i64> = self
            .endpoint
            .registrar()
            .devices()
            .filter(|d| !accounts.allows(*d))
            .collect();
        self.endpoint.set_accounts(accounts);
        for device in gone {
            tracing::info!("sip: device {device} may no longer register; its bindings are gone");
            self.endpoint.registrar_mut().remove_device(device);
        }
        self.endpoint.handle_timeout(now(), UnixTime::now());
    }

    /// The registered devices a change reaches, each with its vendor's resync event.
    async fn changed_devices(&self, t: &Touched) -> Result<Vec<(i64, String)>, StoreError> {
        let registered: Vec<i64> = self.endpoint.registrar().devices().collect();
        let devices = match t.everything {
            true => registered,
            false => t.devices.clone(),
        };
        let found = self
            .store
            .provisioning_devices(&devices, &t.users, &t.workplaces)
            .await?;
        Ok(found
            .into_iter()
            .filter_map(|d| Some((d.id, self.notify_events.get(&d.vendor?)?.clone())))
            .collect())
    }
}

/// What a stretch of the change feed touched, as far as SIP cares.
#[derive(Debug, Default)]
struct Touched {
    /// Devices, users or workplaces changed: who may register may have changed.
    accounts: bool,
    devices: Vec<i64>,
    users: Vec<i64>,
    workplaces: Vec<i64>,
    /// A firmware choice, or more than the feed's window: every registered phone.
    everything: bool,
    /// Users whose mailbox counts changed (MWI).
    mailboxes: Vec<i64>,
}

impl Touched {
    fn of(since: &crate::store::changes::Since) -> Touched {
        use crate::store::changes::{Entity, Since};
        let Since::Changes(list) = since else {
            return Touched {
                accounts: true,
                everything: true,
                ..Touched::default()
            };
        };
        let mut t = Touched::default();
        for c in list {
            match c.entity {
                Entity::Device | Entity::FollowMe => t.devices.push(c.id),
                Entity::User => t.users.push(c.id),
                Entity::Workplace => t.workplaces.push(c.id),
                Entity::Firmware => t.everything = true,
                Entity::Mailbox => {
                    t.mailboxes.push(c.id);
                    continue;
                }
                _ => continue,
            }
            t.accounts |= matches!(c.entity, Entity::Device | Entity::User | Entity::Workplace);
        }
        for list in [
            &mut t.devices,
            &mut t.users,
            &mut t.workplaces,
            &mut t.mailboxes,
        ] {
            list.sort_unstable();
            list.dedup();
        }
        t
    }

    fn is_empty(&self) -> bool {
        !self.everything
            && self.devices.is_empty()
            && self.users.is_empty()
            && self.workplaces.is_empty()
    }
}

/// Errors that mean the socket itself is gone; anything else (an ICMP unreachable reported
/// for an earlier datagram, a truncated control message) concerns one datagram only.
/// Runs the future `work` makes to its end on a new thread `name` with a current-thread
/// runtime of its own; `done` gets its output there, or the error that kept the runtime from
/// starting (outside the runtime: it may block).
fn own_thread<W, F>(
    name: &str,
    work: W,
    done: impl FnOnce(std::io::Result<F::Output>) + Send + 'static,
) -> std::io::Result<()>
where
    W: FnOnce() -> F + Send + 'static,
    F: std::future::Future,
{
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let outcome = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map(|rt| rt.block_on(work()));
            done(outcome);
        })
        .map(drop)
}

fn fatal(e: &std::io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EBADF | libc::ENOTSOCK))
}

#[cfg(test)]
mod tests {
    /// The .deb lets an unprivileged daemon have the buffer it asks for: the two must agree.
    #[test]
    fn the_packaged_rmem_max_is_the_receive_buffer_the_sip_socket_asks_for() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/packaging/sysctl/30-zentrale.conf"
        );
        let conf = std::fs::read_to_string(path).expect("sysctl drop-in");
        let value = conf
            .lines()
            .find_map(|l| l.strip_prefix("net.core.rmem_max = "))
            .expect("net.core.rmem_max");
        assert_eq!(value.parse::<usize>().expect("number"), super::RECV_BUFFER);
        // The postinst raises it at once, to the same value.
        let postinst = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/debian/postinst");
        let script = std::fs::read_to_string(postinst).expect("postinst");
        let raised = format!("echo {} ", super::RECV_BUFFER);
        assert!(
            script.contains(&raised),
            "postinst does not raise rmem_max to the buffer"
        );
    }
}
