//! SIP over TCP (RFC 3261 §18.3): one task per connection frames the stream by Content-Length
//! and hands each message to the endpoint task; what the endpoint sends back comes through the
//! connection's queue. A CRLF CRLF keep-alive is answered with CRLF (RFC 5626 §3.5.1); a stream
//! that cannot be framed any more is closed. Each connection has its own [`FloodGate`]: what
//! is over the rate is dropped here, before it reaches the queue all connections share.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::now;
use crate::endpoint::flood::{FloodGate, FloodLimits, Gate};
use crate::endpoint::{Peer, Transport};
use crate::net::Acceptor;
use crate::sip::{Frame, Framer, SipLimits};

/// Messages queued for one connection before it counts as stuck.
const QUEUE: usize = 64;
/// A new connection must bring its first complete message within this time (slow or silent
/// clients must not hold one of the `max_connections` slots).
const FIRST_MESSAGE: Duration = Duration::from_secs(30);
/// A registered phone keeps its connection alive with REGISTER refreshes (at most
/// `max_expires` apart) or CRLF keep-alives (RFC 5626 §4.4.1); silent this much longer, closed.
pub(super) const IDLE_MARGIN: Duration = Duration::from_secs(300);
/// A peer that reads nothing back is given this long per write.
const WRITE: Duration = Duration::from_secs(10);

/// What connection tasks tell the endpoint task.
#[derive(Debug)]
pub enum ConnMsg {
    Opened {
        id: u64,
        addr: std::net::SocketAddr,
        tx: mpsc::Sender<Bytes>,
    },
    Message {
        peer: Peer,
        bytes: Bytes,
    },
    Closed {
        id: u64,
    },
    /// The connection's gate shed messages from `ip`: the endpoint task logs it (once per ban
    /// period per source, whichever gate saw the flood).
    Flood {
        ip: std::net::IpAddr,
    },
}

/// Accepts connections until `shutdown`; each gets a task and a number.
pub async fn accept(
    acceptor: Acceptor,
    to: mpsc::Sender<ConnMsg>,
    limits: SipLimits,
    (max_expires, flood): (Duration, FloodLimits),
    shutdown: CancellationToken,
) {
    let idle = max_expires + IDLE_MARGIN;
    let next = AtomicU64::new(1);
    let local = match acceptor.local_addr() {
        Ok(a) => a,
        Err(e) => return tracing::error!("sip: TCP listener: {e}"),
    };
    while let Some(accepted) = acceptor.accept(&shutdown).await {
        let id = next.fetch_add(1, Ordering::Relaxed);
        let local = accepted.stream.local_addr().unwrap_or(local);
        let peer = Peer {
            transport: Transport::Tcp(id),
            addr: accepted.peer,
            local,
        };
        let to = to.clone();
        let stop = shutdown.clone();
        let limits = limits.clone();
        tokio::spawn(async move {
            let bounds = (limits, FIRST_MESSAGE, idle, flood);
            connection(accepted.stream, peer, to, bounds, stop).await;
            drop(accepted.permit);
        });
    }
}

/// Keeps a connection to a trunk's provider at `host`:`port` open: connects, serves it like an
/// accepted one (numbered from `first_id` on), and connects again [`REDIAL`] after it closed or
/// failed. The provider need not speak first, and may stay silent for `idle`.
pub async fn dial(
    (host, port): (String, u16),
    first_id: u64,
    to: mpsc::Sender<ConnMsg>,
    (limits, idle, flood): (SipLimits, Duration, FloodLimits),
    shutdown: CancellationToken,
) {
    let mut id = first_id;
    loop {
        let connected = tokio::select! {
            () = shutdown.cancelled() => return,
            c = TcpStream::connect((host.as_str(), port)) => c,
        };
        let opened = connected.and_then(|s| Ok((s.peer_addr()?, s.local_addr()?, s)));
        match opened {
            Ok((addr, local, stream)) => {
                tracing::info!("sip: connected to trunk host {host}:{port} at {addr}");
                let peer = Peer {
                    transport: Transport::Tcp(id),
                    addr,
                    local,
                };
                let bounds = (limits.clone(), idle, idle, flood);
                connection(stream, peer, to.clone(), bounds, shutdown.clone()).await;
                id += 1;
            }
            Err(e) => tracing::warn!("sip: connecting to trunk host {host}:{port}: {e}"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(REDIAL) => {}
        }
    }
}

/// How long after a trunk connection closed (or failed to open) it is tried again.
const REDIAL: Duration = Duration::from_secs(5);

async fn connection(
    stream: TcpStream,
    peer: Peer,
    to: mpsc::Sender<ConnMsg>,
    (limits, first, idle, flood): (SipLimits, Duration, Duration, FloodLimits),
    shutdown: CancellationToken,
) {
    let Transport::Tcp(id) = peer.transport else {
        return;
    };
    let (tx, mut rx) = mpsc::channel::<Bytes>(QUEUE);
    let opened = ConnMsg::Opened {
        id,
        addr: peer.addr,
        tx,
    };
    if to.send(opened).await.is_err() {
        return;
    }
    let (mut read, mut write) = stream.into_split();
    let mut buf = BytesMut::with_capacity(4096);
    let mut framer = Framer::default();
    let mut gate = FloodGate::new(flood);
    let mut quiet = first;
    let why = loop {
        tokio::select! {
            () = shutdown.cancelled() => break "shutdown",
            Some(bytes) = rx.recv() => {
                if !matches!(tokio::time::timeout(WRITE, write.write_all(&bytes)).await, Ok(Ok(()))) {
                    break "write failed or timed out";
                }
            }
            n = tokio::time::timeout(quiet, read.read_buf(&mut buf)) => match n {
                Err(_) => break "silent too long",
                Ok(Ok(0) | Err(_)) => break "closed by peer",
                Ok(Ok(_)) => {
                    let stream = (&mut framer, &mut gate);
                    match frames(&mut buf, stream, &limits, &peer, &to, &mut write).await {
                        Ok(true) => quiet = idle,
                        Ok(false) => {}
                        Err(why) => break why,
                    }
                }
            },
        }
    };
    tracing::debug!("sip: TCP connection {id} from {}: {why}", peer.addr);
    let _ = to.send(ConnMsg::Closed { id }).await;
}

/// Takes every complete frame off `buf`; true when it held a whole message.
async fn frames(
    buf: &mut BytesMut,
    (framer, gate): (&mut Framer, &mut FloodGate),
    limits: &SipLimits,
    peer: &Peer,
    to: &mpsc::Sender<ConnMsg>,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
) -> Result<bool, &'static str> {
    let mut whole = false;
    loop {
        match framer.check(buf, limits) {
            Ok(None) => return Ok(whole),
            Ok(Some(Frame::Ping)) => {
                buf.advance(4);
                *framer = Framer::default();
                let pong = tokio::time::timeout(WRITE, write.write_all(b"\r\n")).await;
                if !matches!(pong, Ok(Ok(()))) {
                    return Err("write failed or timed out");
                }
                whole = true;
            }
            Ok(Some(Frame::Pong)) => {
                buf.advance(2);
                *framer = Framer::default();
            }
            Ok(Some(Frame::Message(n))) => {
                let bytes = buf.split_to(n).freeze();
                *framer = Framer::default();
                whole = true;
                if shed(gate, peer, to) {
                    continue;
                }
                let msg = ConnMsg::Message {
                    peer: peer.clone(),
                    bytes,
                };
                to.send(msg).await.map_err(|_| "endpoint gone")?;
            }
            Err(e) => {
                tracing::debug!("sip: TCP stream from {} cannot be framed: {e}", peer.addr);
                return Err("unframable");
            }
        }
    }
}

/// True when a message over the connection's rate goes unread; the first of a ban period is
/// reported to the endpoint task (a full queue loses the report, not the connection).
fn shed(gate: &mut FloodGate, peer: &Peer, to: &mpsc::Sender<ConnMsg>) -> bool {
    let ip = peer.addr.ip();
    match gate.handle_packet(ip, now()) {
        Gate::Pass => false,
        Gate::Shed => true,
        Gate::ShedAndReport => {
            let _ = to.try_send(ConnMsg::Flood { ip });
            true
        }
    }
}
