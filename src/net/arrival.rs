//! Receiving RTP with the time the kernel took each datagram in (`SO_TIMESTAMPNS`, socket(7)),
//! not the time a busy task got round to reading it.
//!
//! The jitter buffer decides "late" against arrival times. With a thousand calls on two cores
//! a call's task can be woken tens of milliseconds after its packet was queued; stamped with
//! the read time, a packet that arrived in time would count as late and its frame as silence.
//! The kernel's stamp is wall-clock time; [`crate::clock::wall_age`] turns it into an age, and
//! the arrival is the monotonic `now` less that age.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd};
use std::time::Duration;

use nix::sys::socket::{
    ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, setsockopt, sockopt,
};
use nix::sys::time::TimeSpec;
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::clock::Instant;

/// An age beyond this is not believed (a wall clock stepped while the datagram waited); a
/// socket's receive buffer holds a few seconds of a call's packets.
const MAX_AGE: Duration = Duration::from_secs(10);

/// One datagram: its length in the buffer, its source, and how long it waited in the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arrived {
    pub len: usize,
    pub from: SocketAddr,
    /// Zero when the kernel gave no timestamp.
    pub waited: Duration,
}

impl Arrived {
    /// When it arrived, for a read at `now`.
    pub fn at(&self, now: Instant) -> Instant {
        now.checked_sub(self.waited).unwrap_or(now)
    }
}

/// Asks the kernel to stamp every datagram `socket` receives.
pub fn stamp_arrivals(socket: &impl AsFd) -> io::Result<()> {
    setsockopt(socket, sockopt::ReceiveTimestampns, &true).map_err(io::Error::from)
}

/// Waits for a datagram.
pub async fn recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Arrived> {
    socket
        .async_io(Interest::READABLE, || recv_stamped(socket, buf))
        .await
}

/// A datagram already waiting (`WouldBlock` when none is).
pub fn try_recv(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Arrived> {
    socket.try_io(Interest::READABLE, || recv_stamped(socket, buf))
}

/// A datagram already waiting on a non-blocking std socket (`WouldBlock` when none is).
pub fn try_recv_std(socket: &std::net::UdpSocket, buf: &mut [u8]) -> io::Result<Arrived> {
    recv_stamped(socket, buf)
}

fn recv_stamped(socket: &impl AsRawFd, buf: &mut [u8]) -> io::Result<Arrived> {
    let mut space = nix::cmsg_space!(TimeSpec);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )?;
    let mut waited = Duration::ZERO;
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmTimestampns(ts) = cmsg {
            let at = Duration::new(ts.tv_sec().max(0) as u64, ts.tv_nsec() as u32);
            waited = crate::clock::wall_age(at).min(MAX_AGE);
        }
    }
    let from = msg
        .address
        .and_then(|a| super::udp::socket_addr(&a))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "datagram without sender"))?;
    Ok(Arrived {
        len: msg.bytes,
        from,
        waited,
    })
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[tokio::test]
    async fn a_datagram_that_waited_in_the_socket_says_how_long() {
        let rx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).await.expect("rx");
        stamp_arrivals(&rx).expect("SO_TIMESTAMPNS");
        let tx = std::net::UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).expect("tx");
        tx.send_to(b"first", rx.local_addr().expect("addr"))
            .expect("send");
        let mut buf = [0u8; 64];
        let got = recv(&rx, &mut buf).await.expect("the datagram");
        assert_eq!(&buf[..got.len], b"first");
        assert_eq!(got.from, tx.local_addr().expect("tx addr"));
        // Leave the next ones in the socket for a while before reading them: the wait is what is
        // measured, not a wait for readiness (a loopback send is queued at the receiver before
        // send_to returns, so the datagram is there at once). The kernel turns
        // its receive stamps on a moment after the first socket asks (net_enable_timestamp
        // defers it to a work queue); until then a datagram is stamped when it is read.
        let wait = Duration::from_millis(30);
        let mut waited = Vec::new();
        for _ in 0..10 {
            tx.send_to(b"next", rx.local_addr().expect("addr"))
                .expect("send");
            std::thread::sleep(wait);
            let got = try_recv(&rx, &mut buf).expect("waiting already");
            assert_eq!(&buf[..got.len], b"next");
            waited.push(got.waited);
            if got.waited >= wait {
                break;
            }
        }
        let last = waited.last().copied().unwrap_or_default();
        assert!((wait..MAX_AGE).contains(&last), "waited {waited:?}");
        let none = try_recv(&rx, &mut buf).expect_err("nothing more");
        assert_eq!(none.kind(), io::ErrorKind::WouldBlock);
    }
}
