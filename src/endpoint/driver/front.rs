//! The stateless front of the SIP driver, on a thread (and current-thread runtime) of its own:
//! it receives the UDP datagrams, sheds flooding sources ([`FloodGate`]), drops keepalives and
//! parses each message, then hands them in batches over a short bounded channel to the one
//! task that owns the [`super::Endpoint`]. The endpoint's thread was the bottleneck of the
//! REGISTER and call benchmarks (one core busy, the other idle); parsing is the part of its
//! work that needs no state.
//!
//! Nothing changes on the wire: the flood gate is the same one the TCP connections report to
//! (shared), a flooding source is logged for fail2ban here exactly as before, and the auth ban
//! ([`crate::provisioning::limiter::Limiter`], fed by the endpoint's denials) is still checked
//! by the endpoint's task before a message (or the stateless answer to one that did not parse)
//! is acted on. The channel is short, so an overload backs up into the socket's buffer, where
//! the kernel drops it, as before.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{MAX_DATAGRAM, RECV_BATCH, fatal};
use crate::clock::now;
use crate::endpoint::flood::{FloodGate, Gate};
use crate::endpoint::{Peer, Transport};
use crate::net::Udp;
use crate::sip::{Message, SipLimits};

/// Batches in flight to the endpoint at most (each up to [`RECV_BATCH`] messages): a few
/// milliseconds of work, so a queue never adds retransmission-sized delays.
const QUEUE: usize = 8;

/// The flood gate, shared by the front (datagrams) and the endpoint's task (TCP).
pub(super) type SharedGate = Arc<Mutex<FloodGate>>;

/// One received message, parsed.
#[derive(Debug)]
pub(super) struct Inbound {
    pub peer: Peer,
    /// The message, or the stateless answer to one that did not parse (None: drop it).
    pub message: Result<Message, Option<Vec<u8>>>,
}

/// What the front hands over: a batch, or the error that ended the socket.
pub(super) type Batch = Result<Vec<Inbound>, std::io::Error>;

/// True when a packet from `ip` is over its source's rate and goes unread (before any
/// parsing, the store or the auth ban); the first of a ban period is logged for fail2ban.
pub(super) fn shed(gate: &SharedGate, ip: std::net::IpAddr) -> bool {
    let verdict = match gate.lock() {
        Ok(mut g) => g.handle_packet(ip, now()),
        Err(poisoned) => poisoned.into_inner().handle_packet(ip, now()),
    };
    match verdict {
        Gate::Pass => false,
        Gate::Shed => true,
        Gate::ShedAndReport => {
            tracing::warn!("sip: denied {ip} flood");
            true
        }
    }
}

/// Parses `bytes`; on failure the stateless answer ([`crate::sip::reject`]), if any.
pub(super) fn parse(bytes: &[u8], limits: &SipLimits) -> Result<Message, Option<Vec<u8>>> {
    Message::parse(bytes, limits).map_err(|e| crate::sip::reject(bytes, &e, limits))
}

pub(super) struct Front {
    /// A handle on the endpoint's socket ([`Udp::try_clone_std`]); bound to the front's
    /// runtime when it starts.
    pub socket: Option<std::net::UdpSocket>,
    pub udp_local: SocketAddr,
    pub gate: SharedGate,
    pub limits: SipLimits,
}

impl Front {
    /// Starts the front's thread; its batches come out of the returned receiver, which ends
    /// when `stop` is cancelled, the receiver is dropped, or the socket failed (the last
    /// batch is then that error).
    pub fn spawn(mut self, stop: CancellationToken) -> std::io::Result<mpsc::Receiver<Batch>> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let batches = tx.clone();
        let work = move || async move {
            let socket = self.socket.take().ok_or(std::io::ErrorKind::NotFound)?;
            self.run(socket, batches, stop).await
        };
        super::own_thread("sip-front", work, move |outcome| {
            if let Err(e) = outcome.and_then(|r| r) {
                let _ = tx.blocking_send(Err(e));
            }
        })?;
        Ok(rx)
    }

    async fn run(
        self,
        socket: std::net::UdpSocket,
        tx: mpsc::Sender<Batch>,
        stop: CancellationToken,
    ) -> Result<(), std::io::Error> {
        let udp = Udp::from_std(socket)?;
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let received = tokio::select! {
                () = stop.cancelled() => return Ok(()),
                () = tx.closed() => return Ok(()),
                received = udp.recv(&mut buf) => received,
            };
            let mut batch = Vec::new();
            match received {
                Ok(dg) => self.take(&buf, dg, &mut batch),
                Err(e) if fatal(&e) => return Err(e),
                Err(e) => tracing::debug!("sip: UDP receive: {e}"),
            }
            // What else is waiting goes in the same batch: one hand-over (and one wake-up of
            // the endpoint) per burst, not per datagram.
            for _ in 1..RECV_BATCH {
                let Ok(dg) = udp.try_recv(&mut buf) else {
                    break;
                };
                self.take(&buf, dg, &mut batch);
            }
            if !batch.is_empty() && tx.send(Ok(batch)).await.is_err() {
                return Ok(());
            }
        }
    }

    /// One received datagram (in `buf`), unless its source floods or it is a keepalive.
    fn take(&self, buf: &[u8], dg: crate::net::udp::Datagram, batch: &mut Vec<Inbound>) {
        if shed(&self.gate, dg.from.ip()) {
            return;
        }
        let bytes = buf.get(..dg.len).unwrap_or_default();
        if crate::sip::is_keepalive(bytes) {
            return;
        }
        let ip = dg.local.unwrap_or(self.udp_local.ip());
        let peer = Peer {
            transport: Transport::Udp,
            addr: dg.from,
            local: SocketAddr::new(ip, self.udp_local.port()),
        };
        batch.push(Inbound {
            peer,
            message: parse(bytes, &self.limits),
        });
    }
}
