//! faxsend's media legs against a receiving spandsp terminal over real UDP sockets, on a
//! stepped clock: the plumbing (RTP framing and gaps, UDPTL with loss, the link's cut) is
//! checked here, so a failing wire test points at zentrale rather than at the test peer.

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::time::Duration;

use zentrale::clock::Instant;
use zentrale::fax::{AudioTerminal, Reception, SAMPLES_PER_TICK, T30Config, T38Terminal};
use zentrale::media::Codec;
use zentrale::rtp::Packet;
use zentrale::udptl::{Receiver, Sender};

use super::*;
use crate::sdp::{REDUNDANCY, RemoteAudio, T38Desc};

/// Long enough for any T.30 session here (its own timers end a broken one first).
const MAX_TICKS: u32 = 10 * 60 * 50;

fn socket() -> UdpSocket {
    let s = UdpSocket::bind("127.0.0.1:0").expect("binds");
    s.set_nonblocking(true).expect("nonblocking");
    s
}

fn addr(s: &UdpSocket) -> SocketAddr {
    s.local_addr().expect("bound")
}

fn chart(dir: &Path, pages: u32) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fax/chart.sh");
    let out = dir.join("sent.tif");
    let ok = std::process::Command::new(script)
        .arg(&out)
        .arg(pages.to_string())
        .status()
        .expect("chart.sh (netpbm, libtiff-tools)");
    assert!(ok.success());
    out
}

fn config(send: Option<PathBuf>, receive: Option<PathBuf>) -> T30Config {
    T30Config {
        ident: "+49 1".into(),
        ecm: true,
        receive_into: receive,
        send_file: send,
    }
}

fn identical(a: &Path, b: &Path) -> bool {
    // tiffcmp -t lists differing tags (compression, fill order) but fails only on pixels.
    let out = std::process::Command::new("tiffcmp")
        .arg("-t")
        .arg(a)
        .arg(b)
        .output()
        .expect("tiffcmp");
    out.status.success()
}

/// The receiving side of a T.38 test: a terminal behind its own UDPTL halves.
struct T38Far {
    terminal: T38Terminal,
    socket: UdpSocket,
    tx: Sender,
    rx: Receiver,
}

impl T38Far {
    fn step(&mut self, to: SocketAddr, now: Instant) -> Option<Reception> {
        let mut buf = [0u8; 2048];
        while let Ok(n) = self.socket.recv(&mut buf) {
            self.rx
                .handle_datagram(&buf[..n], now)
                .expect("well-formed");
        }
        if self.rx.poll_timeout().is_some_and(|at| at <= now) {
            self.rx.handle_timeout(now);
        }
        while let Some((seq, ifp)) = self.rx.poll_ifp() {
            self.terminal.handle_ifp(&ifp, seq);
        }
        self.terminal.send_timeout(SAMPLES_PER_TICK);
        while let Some(out) = self.terminal.poll_transmit() {
            let datagram = self.tx.send(&out.ifp).expect("fits");
            for _ in 0..out.copies {
                self.socket.send_to(&datagram, to).expect("sends");
            }
        }
        self.terminal.poll_result()
    }
}

/// Runs faxsend's T.38 leg against a receiving terminal; the receiver's result.
fn t38_run(dir: &Path, pages: u32, link: &mut Link, cut_after_pages: Option<u32>) -> Reception {
    let sent = chart(dir, pages);
    let far = socket();
    let mut far = T38Far {
        terminal: T38Terminal::new(false, &config(None, Some(dir.join("got.tif")))).expect("rx"),
        tx: Sender::new(REDUNDANCY, 400),
        rx: Receiver::new(),
        socket: far,
    };
    let ours = socket();
    let to_ours = addr(&ours);
    let remote = T38Desc::ours(addr(&far.socket), 0, REDUNDANCY);
    let terminal = T38Terminal::new(true, &config(Some(sent), None)).expect("tx");
    let mut leg = T38Leg::new(terminal, ours, &remote);
    let start = zentrale::clock::now();
    for tick in 0..MAX_TICKS {
        let now = start + Duration::from_millis(20 * u64::from(tick));
        if cut_after_pages.is_some_and(|n| leg.terminal.pages_so_far() >= n) {
            link.cut();
        }
        leg.tick(link, now);
        if let Some(r) = far.step(to_ours, now) {
            return r;
        }
    }
    panic!("no result");
}

#[test]
fn the_t38_leg_delivers_a_chart_through_five_percent_loss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut link = Link::new(5, 11);
    let r = t38_run(dir.path(), 2, &mut link, None);
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(r.pages, 2);
    assert!(
        link.dropped > 0 && link.sent > 20 * link.dropped / 2,
        "{link:?}"
    );
    assert!(identical(
        &dir.path().join("sent.tif"),
        &dir.path().join("got.tif")
    ));
}

#[test]
fn a_cut_link_leaves_the_receiver_with_the_pages_before_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut link = Link::new(0, 1);
    let r = t38_run(dir.path(), 3, &mut link, Some(1));
    assert!(!r.is_ok(), "{r:?}");
    assert_eq!(r.pages, 1, "{r:?}");
}

#[test]
fn the_audio_leg_delivers_a_chart_over_pcmu_rtp() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sent = chart(dir.path(), 1);
    let (ours, far) = (socket(), socket());
    let (to_ours, to_far) = (addr(&ours), addr(&far));
    let remote = RemoteAudio {
        addr: to_far,
        codec: Codec::Pcmu,
    };
    let terminal = AudioTerminal::new(true, &config(Some(sent.clone()), None)).expect("tx");
    let mut leg = AudioLeg::new(terminal, ours, remote);
    let got = dir.path().join("got.tif");
    let mut rx = AudioTerminal::new(false, &config(None, Some(got.clone()))).expect("rx");
    let mut link = Link::new(0, 1);
    let mut seq = 0u16;
    for _ in 0..MAX_TICKS {
        leg.tick(&mut link);
        let mut buf = [0u8; 2048];
        let mut samples = Vec::new();
        while let Ok(n) = far.recv(&mut buf) {
            let packet = Packet::parse(&buf[..n]).expect("RTP");
            assert_eq!(packet.payload_type, 0, "PCMU as the answer said");
            samples.clear();
            Codec::Pcmu.decode(packet.payload, &mut samples);
            rx.handle_audio(&samples);
        }
        let mut frame = [0i16; 160];
        rx.poll_audio(&mut frame);
        let mut payload = Vec::new();
        Codec::Pcmu.encode(&frame, &mut payload);
        let mut datagram = Vec::new();
        Packet {
            marker: false,
            payload_type: 0,
            sequence: seq,
            timestamp: u32::from(seq) * SAMPLES_PER_TICK,
            ssrc: 7,
            csrc: &[],
            extension: None,
            payload: &payload,
            padding: 0,
        }
        .print(&mut datagram);
        seq = seq.wrapping_add(1);
        far.send_to(&datagram, to_ours).expect("sends");
        if let Some(r) = rx.poll_result() {
            assert!(r.is_ok(), "{r:?}");
            assert!(identical(&sent, &got));
            return;
        }
    }
    panic!("no result");
}
