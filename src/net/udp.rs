//! A UDP socket that reports the local address each datagram arrived on (`IP_PKTINFO`,
//! `IPV6_RECVPKTINFO`; RFC 3542 §6 for IPv6) and can send from a chosen local address. A server
//! bound to `0.0.0.0` on a multi-homed box must answer from the address the phone sent to, or
//! the phone (and any NAT on the way) drops the answer; SIP Via/Contact and SDP `c=` need the
//! same address.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;

use nix::sys::socket::{
    ControlMessage, ControlMessageOwned, MsgFlags, SockaddrStorage, recvmsg, sendmsg, setsockopt,
    sockopt,
};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use super::NetError;

/// Where a datagram came from and where it went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Datagram {
    pub len: usize,
    pub from: SocketAddr,
    /// The local address it was sent to (None if the kernel did not say).
    pub local: Option<IpAddr>,
}

#[derive(Debug)]
pub struct Udp {
    socket: UdpSocket,
    v6: bool,
}

impl Udp {
    /// Binds `addr` for `proto` and asks the kernel for each datagram's local address.
    pub async fn bind(addr: SocketAddr, proto: &'static str) -> Result<Udp, NetError> {
        let bind = |source| NetError::Bind {
            proto,
            addr,
            source,
        };
        let socket = UdpSocket::bind(addr).await.map_err(bind)?;
        let on = match addr {
            SocketAddr::V4(_) => setsockopt(&socket, sockopt::Ipv4PacketInfo, &true),
            SocketAddr::V6(_) => setsockopt(&socket, sockopt::Ipv6RecvPacketInfo, &true),
        };
        on.map_err(|e| bind(e.into()))?;
        Ok(Udp {
            socket,
            v6: addr.is_ipv6(),
        })
    }

    /// The same socket on the runtime this is called in (a service with a runtime of its own
    /// takes its sockets along).
    pub fn rebind(self) -> io::Result<Udp> {
        let std = self.socket.into_std()?;
        Ok(Udp {
            socket: UdpSocket::from_std(std)?,
            v6: self.v6,
        })
    }

    /// Another handle on the same socket, for a thread with a runtime of its own (one
    /// receives while another sends): [`Udp::from_std`] it in that runtime.
    pub fn try_clone_std(&self) -> io::Result<std::net::UdpSocket> {
        use std::os::fd::AsFd;
        Ok(self.socket.as_fd().try_clone_to_owned()?.into())
    }

    /// A handle from [`Udp::try_clone_std`], on the runtime this is called in.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<Udp> {
        socket.set_nonblocking(true)?;
        let v6 = socket.local_addr()?.is_ipv6();
        Ok(Udp {
            socket: UdpSocket::from_std(socket)?,
            v6,
        })
    }

    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Asks for a receive buffer of `bytes`: see [`receive_buffer`].
    pub fn set_recv_buffer(&self, bytes: usize) -> io::Result<usize> {
        receive_buffer(&self.socket, bytes)
    }

    /// Receives one datagram into `buf` (a longer one is cut to `buf`'s length).
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<Datagram> {
        self.socket
            .async_io(Interest::READABLE, || recv_with_info(&self.socket, buf))
            .await
    }

    /// A datagram that is already waiting, without waiting for one (`WouldBlock` when none is).
    pub fn try_recv(&self, buf: &mut [u8]) -> io::Result<Datagram> {
        self.socket
            .try_io(Interest::READABLE, || recv_with_info(&self.socket, buf))
    }

    /// Sends `data` to `to`, from local address `from` when given.
    pub async fn send(
        &self,
        data: &[u8],
        to: SocketAddr,
        from: Option<IpAddr>,
    ) -> io::Result<usize> {
        let from = from.filter(|ip| !ip.is_unspecified());
        let Some(from) = from else {
            return self.socket.send_to(data, to).await;
        };
        self.socket
            .async_io(Interest::WRITABLE, || {
                send_from(&self.socket, data, to, from, self.v6)
            })
            .await
    }
}

/// Asks the kernel to hold up to `bytes` of datagrams waiting on `socket` (`SO_RCVBUFFORCE`
/// where the process may, else `SO_RCVBUF`, which the kernel caps at `net.core.rmem_max`);
/// returns what it granted (it doubles the request for its own bookkeeping, socket(7)).
pub fn receive_buffer(socket: &impl std::os::fd::AsFd, bytes: usize) -> io::Result<usize> {
    if setsockopt(socket, sockopt::RcvBufForce, &bytes).is_err() {
        setsockopt(socket, sockopt::RcvBuf, &bytes)?;
    }
    Ok(nix::sys::socket::getsockopt(socket, sockopt::RcvBuf)?)
}

fn recv_with_info(socket: &UdpSocket, buf: &mut [u8]) -> io::Result<Datagram> {
    let mut space = nix::cmsg_space!(libc::in_pktinfo, libc::in6_pktinfo);
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<SockaddrStorage>(
        socket.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::empty(),
    )?;
    let mut local = None;
    for cmsg in msg.cmsgs()? {
        match cmsg {
            ControlMessageOwned::Ipv4PacketInfo(info) => {
                local = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    info.ipi_addr.s_addr,
                ))));
            }
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                let ip = Ipv6Addr::from(info.ipi6_addr.s6_addr);
                local = Some(super::canonical_ip(IpAddr::V6(ip)));
            }
            _ => {}
        }
    }
    let from = msg
        .address
        .and_then(|a| socket_addr(&a))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "datagram without sender"))?;
    Ok(Datagram {
        len: msg.bytes,
        from,
        local,
    })
}

pub(super) fn socket_addr(a: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::new(IpAddr::V4(v4.ip()), v4.port()));
    }
    let v6 = a.as_sockaddr_in6()?;
    Some(SocketAddr::new(IpAddr::V6(v6.ip()), v6.port()))
}

fn send_from(
    socket: &UdpSocket,
    data: &[u8],
    to: SocketAddr,
    from: IpAddr,
    v6_socket: bool,
) -> io::Result<usize> {
    let iov = [IoSlice::new(data)];
    let fd = socket.as_raw_fd();
    let sent = match (from, v6_socket) {
        (IpAddr::V4(ip), false) => {
            let info = libc::in_pktinfo {
                ipi_ifindex: 0,
                ipi_spec_dst: libc::in_addr {
                    s_addr: u32::from(ip).to_be(),
                },
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            let to = SockaddrStorage::from(to);
            sendmsg(
                fd,
                &iov,
                &[ControlMessage::Ipv4PacketInfo(&info)],
                MsgFlags::empty(),
                Some(&to),
            )
        }
        (ip, _) => {
            let ip = match ip {
                IpAddr::V4(v4) => v4.to_ipv6_mapped(),
                IpAddr::V6(v6) => v6,
            };
            let info = libc::in6_pktinfo {
                ipi6_addr: libc::in6_addr {
                    s6_addr: ip.octets(),
                },
                ipi6_ifindex: 0,
            };
            let to = match to {
                SocketAddr::V4(v4) => {
                    SocketAddr::new(IpAddr::V6(v4.ip().to_ipv6_mapped()), v4.port())
                }
                v6 => v6,
            };
            let to = SockaddrStorage::from(to);
            sendmsg(
                fd,
                &iov,
                &[ControlMessage::Ipv6PacketInfo(&info)],
                MsgFlags::empty(),
                Some(&to),
            )
        }
    };
    Ok(sent?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_datagram_to_the_any_address_says_which_address_it_reached() {
        let server = Udp::bind("0.0.0.0:0".parse().expect("addr"), "TEST")
            .await
            .expect("bind");
        let port = server.local_addr().expect("addr").port();
        let client = UdpSocket::bind("127.0.0.1:0").await.expect("client");
        client
            .send_to(b"ping", ("127.0.0.2", port))
            .await
            .expect("send");
        let mut buf = [0u8; 16];
        let d = server.recv(&mut buf).await.expect("recv");
        assert_eq!(&buf[..d.len], b"ping");
        assert_eq!(d.local, Some("127.0.0.2".parse().expect("ip")));
        assert_eq!(d.from, client.local_addr().expect("addr"));

        // The answer leaves from the address the client sent to.
        server.send(b"pong", d.from, d.local).await.expect("send");
        let (n, from) = client.recv_from(&mut buf).await.expect("recv");
        assert_eq!(&buf[..n], b"pong");
        assert_eq!(
            from,
            SocketAddr::new("127.0.0.2".parse().expect("ip"), port)
        );
    }

    #[tokio::test]
    async fn the_receive_buffer_grows_as_far_as_the_kernel_allows() {
        let udp = Udp::bind("127.0.0.1:0".parse().expect("addr"), "TEST")
            .await
            .expect("bind");
        let asked = 1 << 20;
        let granted = udp.set_recv_buffer(asked).expect("set");
        // Without CAP_NET_ADMIN the kernel caps the request at rmem_max; it doubles either.
        let max: usize = std::fs::read_to_string("/proc/sys/net/core/rmem_max")
            .expect("rmem_max")
            .trim()
            .parse()
            .expect("number");
        let root =
            std::os::unix::fs::MetadataExt::uid(&std::fs::metadata("/proc/self").expect("proc"))
                == 0;
        let expected = if root { asked } else { asked.min(max) };
        assert_eq!(granted, 2 * expected);
    }
}
