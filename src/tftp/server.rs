//! The async driver: the only place where TFTP meets sockets and the clock.
//!
//! The listening socket takes requests. A read request that passes the name check gets its own
//! task and its own socket on the listener's IP with a fresh port (a new TID, RFC 1350), asks
//! [`TftpFiles::open`] for the file and drives a [`Transfer`]. Everything else is answered from
//! the listening socket: WRQ with ERROR 2, garbage with ERROR 4 (ERROR 8 for too many or
//! duplicate options), an ERROR not at all. An option with an invalid value is declined, not
//! refused: the request is served as if it had not been sent (as tftpd-hpa does).
//!
//! At `limits.max_transfers` running transfers a further read request is dropped, not refused:
//! the client sends its request again after its own timeout and is served once a slot is free,
//! whereas an ERROR would end that phone's provisioning for this boot.

use std::io;
use std::net::{IpAddr, SocketAddr};

use tokio::net::UdpSocket;
use tokio::task::{JoinError, JoinSet};
use tokio_util::sync::CancellationToken;

use crate::clock::now;
use crate::net::Udp;

use super::error::TftpError;
use super::files::{TftpFiles, checked_name};
use super::limits::TftpLimits;
use super::options::BadValues;
use super::packet::{Packet, Request};
use super::transfer::Transfer;

/// The largest UDP payload: a request is never cut short by the buffer.
const MAX_DATAGRAM: usize = 65536;
/// What a transfer socket reads: an ACK is 4 bytes, an ERROR a short message.
const TRANSFER_BUF: usize = 1024;

/// The TFTP service: a listening socket, the files it serves, and its limits.
#[derive(Debug)]
pub struct TftpServer<F> {
    pub socket: Udp,
    pub files: F,
    pub limits: TftpLimits,
}

impl<F: TftpFiles> TftpServer<F> {
    /// See [`serve`].
    pub async fn run(self, shutdown: CancellationToken) -> io::Result<()> {
        serve(self.socket, self.files, self.limits, shutdown).await
    }
}

/// Serves read requests arriving at `socket` until `shutdown` is cancelled, then waits for the
/// running transfers to finish. The caller bounds that wait with its grace period: dropping
/// this future aborts the transfers. Returns an error only when the listening socket fails.
/// Each transfer's socket is bound to the address its request arrived on, so the phone hears
/// back from the address it asked even when `socket` listens on every address.
pub async fn serve<F: TftpFiles>(
    socket: Udp,
    files: F,
    limits: TftpLimits,
    shutdown: CancellationToken,
) -> io::Result<()> {
    let bound_ip = socket.local_addr()?.ip();
    let mut transfers = JoinSet::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let received = tokio::select! {
            () = shutdown.cancelled() => break,
            Some(joined) = transfers.join_next() => {
                log_join(joined);
                continue;
            }
            received = socket.recv(&mut buf) => match received {
                Ok(received) => received,
                Err(e) if is_transient(&e) => continue,
                Err(e) => return Err(e),
            },
        };
        let (peer, local_ip) = (received.from, received.local.unwrap_or(bound_ip));
        let datagram = buf.get(..received.len).unwrap_or_default();
        match admit(datagram, transfers.len(), &limits) {
            Admit::Start(request, name) => {
                let task = transfer(files.clone(), request, name, peer, local_ip, limits);
                transfers.spawn(task);
            }
            Admit::Refuse(error) => refuse(&socket, peer, received.local, &error).await,
            Admit::Ignore(why) => tracing::debug!(%peer, "TFTP datagram dropped: {why}"),
        }
    }
    if !transfers.is_empty() {
        tracing::info!(running = transfers.len(), "TFTP: letting transfers finish");
    }
    while let Some(joined) = transfers.join_next().await {
        log_join(joined);
    }
    Ok(())
}

/// What to do with a datagram at the listening socket.
#[derive(Debug)]
enum Admit {
    /// A read request, with the name to open.
    Start(Request, String),
    Refuse(TftpError),
    Ignore(&'static str),
}

fn admit(datagram: &[u8], running: usize, limits: &TftpLimits) -> Admit {
    let packet = match Packet::parse(datagram) {
        Err(e @ TftpError::BadOptionValue { .. }) => {
            tracing::debug!("TFTP request: declining {e}");
            Packet::parse_with(datagram, BadValues::Ignore)
        }
        other => other,
    };
    match packet {
        Ok(Packet::Rrq(_)) if running >= limits.max_transfers => {
            Admit::Ignore("busy: max_transfers running")
        }
        Ok(Packet::Rrq(request)) => match checked_name(&request.filename) {
            Ok(name) => {
                let name = name.to_owned();
                Admit::Start(request, name)
            }
            Err(error) => Admit::Refuse(error),
        },
        Ok(Packet::Wrq(_)) => Admit::Refuse(TftpError::ReadOnly),
        Ok(Packet::Error { .. }) => Admit::Ignore("an ERROR at the server port"),
        Ok(Packet::Data { .. } | Packet::Ack { .. } | Packet::Oack(_)) => {
            Admit::Refuse(TftpError::Unexpected)
        }
        Err(error) => Admit::Refuse(error),
    }
}

/// Answers a refused datagram at the listening socket, from the address it was sent to.
async fn refuse(socket: &Udp, peer: SocketAddr, local: Option<IpAddr>, error: &TftpError) {
    // A refused read or write is news for an admin; garbage is not worth a line each.
    if matches!(error, TftpError::ReadOnly | TftpError::UnsafeName) {
        tracing::info!(%peer, "TFTP request refused: {error}");
    } else {
        tracing::debug!(%peer, "TFTP datagram refused: {error}");
    }
    let Some(packet) = error.error_packet() else {
        return;
    };
    if let Err(e) = socket.send(&packet.to_vec(), peer, local).await {
        tracing::debug!(%peer, "TFTP: sending ERROR failed: {e}");
    }
}

/// One read request, in its own task with its own socket; logs how it ended.
async fn transfer<F: TftpFiles>(
    files: F,
    request: Request,
    name: String,
    peer: SocketAddr,
    local_ip: IpAddr,
    limits: TftpLimits,
) {
    let started = now();
    match run(files, &request, &name, peer, local_ip, &limits).await {
        Ok(Ok(bytes)) => tracing::info!(
            %peer, file = ?name, bytes, elapsed_ms = now().duration_since(started).as_millis(),
            "TFTP file sent"
        ),
        Ok(Err(error)) => tracing::info!(%peer, file = ?name, "TFTP transfer failed: {error}"),
        Err(error) => tracing::warn!(%peer, file = ?name, "TFTP transfer socket: {error}"),
    }
}

/// Opens the file and drives the transfer; the inner result is the transfer's outcome with
/// the bytes sent.
async fn run<F: TftpFiles>(
    files: F,
    request: &Request,
    name: &str,
    peer: SocketAddr,
    local_ip: IpAddr,
    limits: &TftpLimits,
) -> io::Result<Result<usize, TftpError>> {
    let socket = UdpSocket::bind(SocketAddr::new(local_ip, 0)).await?;
    let file = match files.open(name, peer).await {
        Ok(file) => file,
        Err(denied) => {
            let error = TftpError::from(denied);
            send_error(&socket, peer, &error).await;
            return Ok(Err(error));
        }
    };
    let mut core = Transfer::new(request, file, now(), limits);
    drive(&socket, peer, &mut core).await?;
    Ok(match core.outcome() {
        Some(Err(error)) => Err(error.clone()),
        _ => Ok(core.size()),
    })
}

/// Runs `core` until it is finished: sends what it yields, feeds it the peer's datagrams and
/// its timeouts, and answers datagrams from anyone else with ERROR 5 without stopping.
async fn drive(socket: &UdpSocket, peer: SocketAddr, core: &mut Transfer) -> io::Result<()> {
    let mut buf = [0u8; TRANSFER_BUF];
    loop {
        while let Some(datagram) = core.poll_transmit() {
            socket.send_to(&datagram, peer).await?;
        }
        let Some(deadline) = core.poll_timeout() else {
            return Ok(());
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline.into()) => {
                core.handle_timeout(now());
            }
            received = socket.recv_from(&mut buf) => match received {
                Ok((len, from)) => {
                    let datagram = buf.get(..len).unwrap_or_default();
                    if from == peer {
                        core.handle_packet(datagram, now());
                    } else {
                        answer_stranger(socket, from, datagram).await;
                    }
                }
                Err(e) if is_transient(&e) => {}
                Err(e) => return Err(e),
            },
        }
    }
}

/// RFC 1350: a datagram from a wrong TID gets ERROR 5, and the transfer goes on.
async fn answer_stranger(socket: &UdpSocket, from: SocketAddr, datagram: &[u8]) {
    if matches!(Packet::parse(datagram), Ok(Packet::Error { .. })) {
        return;
    }
    tracing::debug!(%from, "TFTP datagram from an unknown transfer ID");
    send_error(socket, from, &TftpError::UnknownTid).await;
}

/// Sends the ERROR packet for `error`, if it has one. Errors are sent once, never retransmitted.
async fn send_error(socket: &UdpSocket, to: SocketAddr, error: &TftpError) {
    let Some(packet) = error.error_packet() else {
        return;
    };
    if let Err(e) = socket.send_to(&packet.to_vec(), to).await {
        tracing::debug!(%to, "TFTP: sending ERROR failed: {e}");
    }
}

/// Errors a UDP socket reports for an earlier datagram (an ICMP unreachable), not for itself.
fn is_transient(error: &io::Error) -> bool {
    let transient = matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused | io::ErrorKind::ConnectionReset
    );
    if transient {
        tracing::debug!("TFTP socket: {error}");
    }
    transient
}

fn log_join(joined: Result<(), JoinError>) {
    if let Err(e) = joined
        && e.is_panic()
    {
        tracing::error!("TFTP transfer task panicked: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::{Admit, admit};
    use crate::tftp::{Packet, TftpError, TftpLimits};

    fn rrq(name: &str) -> Vec<u8> {
        let mut datagram = vec![0, 1];
        datagram.extend_from_slice(name.as_bytes());
        datagram.extend_from_slice(b"\0octet\0");
        datagram
    }

    #[test]
    fn the_listening_socket_admits_only_safe_read_requests() {
        let limits = TftpLimits::default();
        let start = |d: &[u8]| match admit(d, 0, &limits) {
            Admit::Start(_, name) => name,
            other => panic!("{other:?}"),
        };
        let refused = |d: &[u8]| match admit(d, 0, &limits) {
            Admit::Refuse(error) => error,
            other => panic!("{other:?}"),
        };
        assert_eq!(start(&rrq("/y000000000044.cfg")), "y000000000044.cfg");
        assert_eq!(refused(&rrq("../etc/passwd")), TftpError::UnsafeName);
        assert_eq!(refused(b"\x00\x02f\x00octet\x00"), TftpError::ReadOnly);
        assert_eq!(refused(b"\x00\x04\x00\x01"), TftpError::Unexpected);
        assert_eq!(refused(b"\x00\x09"), TftpError::BadOpcode(9));
        let error = Packet::Error {
            code: crate::tftp::ErrorCode::UNKNOWN_TID,
            message: String::new(),
        };
        assert!(matches!(
            admit(&error.to_vec(), 0, &limits),
            Admit::Ignore(_)
        ));
    }

    #[test]
    fn a_read_request_beyond_max_transfers_is_dropped() {
        let limits = TftpLimits {
            max_transfers: 2,
            ..TftpLimits::default()
        };
        assert!(matches!(admit(&rrq("a"), 1, &limits), Admit::Start(..)));
        assert!(matches!(admit(&rrq("a"), 2, &limits), Admit::Ignore(_)));
    }
}
