//! Test support: fax pages made with netpbm and libtiff-tools, the far-end fax machine (spandsp's
//! own sending terminals), a UDP link with loss, and the stepped clock that drives both ends.

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{AudioTerminal, Reception, SAMPLES_PER_TICK, T30Config, T38Terminal};
use crate::clock::Instant;
use crate::udptl::{ErrorCorrection, Receiver, Sender};

/// Runs a tool, panicking with its output when it fails.
pub fn run(cmd: &mut Command) -> std::process::Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// A fax page as a PBM (P4): 1728 dots wide (A4 at 8 dots/mm), text-like blocks, a frame and a
/// page number in bars, different on every page.
fn page_pbm(page: u32, rows: u32) -> Vec<u8> {
    let width = 1728u32;
    let stride = (width / 8) as usize;
    let mut bits = vec![0u8; stride * rows as usize];
    let mut set = |x: u32, y: u32| bits[y as usize * stride + (x / 8) as usize] |= 0x80 >> (x % 8);
    let mut seed = 0x2545_f491u32.wrapping_mul(page + 1);
    for y in 0..rows {
        for x in 0..width {
            let frame = x < 40 || x >= width - 40 || y < 30 || y >= rows - 30;
            if frame && (x % 40 < 4 || y % 30 < 3) {
                set(x, y);
            }
        }
    }
    // "Words": short runs on text lines.
    for line in 0..(rows - 100) / 24 {
        let y0 = 60 + line * 24;
        let mut x = 80;
        while x < width - 120 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let len = 12 + seed % 90;
            for y in y0..y0 + 14 {
                for dx in 0..len {
                    if (dx + y) % 7 != 0 {
                        set(x + dx, y);
                    }
                }
            }
            x += len + 10 + seed % 20;
        }
    }
    for b in 0..=page {
        for y in rows - 28..rows - 4 {
            for x in 100 + b * 30..116 + b * 30 {
                set(x, y);
            }
        }
    }
    let mut out = format!("P4\n{width} {rows}\n").into_bytes();
    out.extend(bits);
    out
}

/// A multi-page G4 TIFF of fine-resolution fax pages (what a fax machine scans), made with
/// `pnmtotiff` and joined with `tiffcp`.
pub fn make_document(dir: &Path, pages: u32, rows: u32) -> PathBuf {
    let mut parts = Vec::new();
    for page in 0..pages {
        let pbm = dir.join(format!("page{page}.pbm"));
        std::fs::write(&pbm, page_pbm(page, rows)).expect("writes");
        let tif = dir.join(format!("page{page}.tif"));
        let out = run(Command::new("pnmtotiff")
            .args(["-g4", "-xresolution", "204", "-yresolution", "196"])
            .arg(&pbm));
        std::fs::write(&tif, out.stdout).expect("writes");
        parts.push(tif);
    }
    let doc = dir.join("sent.tif");
    run(Command::new("tiffcp")
        .arg("-c")
        .arg("g4")
        .args(&parts)
        .arg(&doc));
    doc
}

/// Whether `tiffcmp -t` finds the pixels identical: it still lists tag differences (compression,
/// fill order, ids) but exits 0 unless a scanline differs.
pub fn tiffs_identical(a: &Path, b: &Path) -> bool {
    let out = run_unchecked(Command::new("tiffcmp").arg("-t").arg(a).arg(b));
    if !out.status.success() {
        eprintln!(
            "tiffcmp -t {a:?} {b:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        for f in [a, b] {
            let info = run_unchecked(Command::new("tiffinfo").arg(f));
            eprintln!("{}", String::from_utf8_lossy(&info.stdout));
        }
        return false;
    }
    true
}

fn run_unchecked(cmd: &mut Command) -> std::process::Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

/// Decides which datagrams the link drops: a fixed xorshift sequence, so a run is repeatable.
#[derive(Debug)]
pub struct Loss {
    pub percent: u32,
    state: u32,
    pub cut: bool,
}

impl Loss {
    pub fn new(percent: u32, seed: u32) -> Self {
        Loss {
            percent,
            state: seed | 1,
            cut: false,
        }
    }

    fn drop_next(&mut self) -> bool {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 17;
        self.state ^= self.state << 5;
        self.cut || self.state % 100 < self.percent
    }
}

/// One end of the T.38 link: a terminal, its UDPTL halves and its socket.
#[derive(Debug)]
pub struct T38End {
    pub terminal: T38Terminal,
    tx: Sender,
    rx: Receiver,
    socket: UdpSocket,
}

impl T38End {
    pub fn new(terminal: T38Terminal, ec: ErrorCorrection) -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("binds");
        socket.set_nonblocking(true).expect("nonblocking");
        T38End {
            terminal,
            tx: Sender::new(ec, 400),
            rx: Receiver::new(),
            socket,
        }
    }

    fn connect(&self, other: &T38End) {
        let addr = other.socket.local_addr().expect("bound");
        self.socket.connect(addr).expect("connects");
    }

    /// Sends what the terminal queued, each copy through the loss model.
    fn transmit(&mut self, loss: &mut Loss) {
        while let Some(out) = self.terminal.poll_transmit() {
            let datagram = self.tx.send(&out.ifp).expect("IFP fits a datagram");
            for _ in 0..out.copies {
                if !loss.drop_next() {
                    self.socket.send(&datagram).expect("sends");
                }
            }
        }
    }

    /// Reads every datagram waiting and hands the IFPs to the terminal in order.
    fn receive(&mut self, now: Instant) {
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
    }
}

/// The two results and how much session time it took.
#[derive(Debug)]
pub struct Outcome {
    pub sender: Reception,
    pub receiver: Reception,
    pub session: Duration,
    /// Real time the run took (printed for the speed note, never asserted).
    pub wall: Duration,
    /// CPU time this thread spent on it (both terminals, UDPTL, the sockets).
    pub cpu: Duration,
    /// What the receiving end's UDPTL receiver saw (T.38 only).
    pub udptl: crate::udptl::UdptlStats,
}

/// Longest session a test lets run (T.30's own timers end a broken one well before).
const MAX_TICKS: u32 = 60 * 50 * 10;

/// Drives a T.38 pair over real UDP sockets with a stepped clock until both report phase E.
/// `cut_after_pages`: the link goes dead once the receiver has that many pages.
pub fn run_t38(
    sender: T38Terminal,
    receiver: T38Terminal,
    ec: ErrorCorrection,
    loss_percent: u32,
    cut_after_pages: Option<u32>,
) -> Outcome {
    let mut a = T38End::new(sender, ec);
    let mut b = T38End::new(receiver, ec);
    a.connect(&b);
    b.connect(&a);
    let (mut loss_ab, mut loss_ba) = (Loss::new(loss_percent, 7), Loss::new(loss_percent, 11));
    let start = crate::clock::now();
    let wall = crate::clock::now();
    let cpu = thread_cpu();
    let (mut ra, mut rb) = (None, None);
    for tick in 0..MAX_TICKS {
        let now = start + Duration::from_millis(20 * u64::from(tick));
        a.terminal.send_timeout(SAMPLES_PER_TICK);
        b.terminal.send_timeout(SAMPLES_PER_TICK);
        a.transmit(&mut loss_ab);
        b.transmit(&mut loss_ba);
        a.receive(now);
        b.receive(now);
        if cut_after_pages.is_some_and(|p| b.terminal.pages_so_far() >= p) {
            loss_ab.cut = true;
            loss_ba.cut = true;
        }
        ra = ra.or_else(|| a.terminal.poll_result());
        rb = rb.or_else(|| b.terminal.poll_result());
        if let (Some(sender), Some(receiver)) = (&ra, &rb) {
            return Outcome {
                sender: sender.clone(),
                receiver: receiver.clone(),
                session: now - start,
                wall: crate::clock::now() - wall,
                cpu: thread_cpu().saturating_sub(cpu),
                udptl: b.rx.stats().clone(),
            };
        }
    }
    panic!("no result after {MAX_TICKS} ticks: sender {ra:?}, receiver {rb:?}");
}

/// G.711 A-law (ITU-T G.711 Table 1a), for the audio round trip between the two terminals.
pub fn alaw_encode(sample: i16) -> u8 {
    let mut s = i32::from(sample) >> 3;
    let sign = if s >= 0 { 0x80 } else { 0x00 };
    if s < 0 {
        s = -s - 1;
    }
    let s = s.min(0x0fff);
    let exponent = (1..8).rev().find(|e| s >= (0x10 << e)).unwrap_or(0);
    let mantissa = if exponent == 0 { s >> 1 } else { s >> exponent } & 0x0f;
    ((sign | (exponent << 4) | mantissa) as u8) ^ 0x55
}

pub fn alaw_decode(code: u8) -> i16 {
    let v = i32::from(code ^ 0x55);
    let exponent = (v >> 4) & 0x07;
    let mantissa = v & 0x0f;
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if v & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

/// Drives two audio terminals against each other, every frame through A-law and back.
pub fn run_audio(mut sender: AudioTerminal, mut receiver: AudioTerminal) -> Outcome {
    let n = SAMPLES_PER_TICK as usize;
    let wall = crate::clock::now();
    let cpu = thread_cpu();
    let (mut ra, mut rb) = (None, None);
    let through_alaw = |frame: &[i16]| -> Vec<i16> {
        frame.iter().map(|&s| alaw_decode(alaw_encode(s))).collect()
    };
    for tick in 0..MAX_TICKS {
        let mut fa = vec![0i16; n];
        let mut fb = vec![0i16; n];
        sender.poll_audio(&mut fa);
        receiver.poll_audio(&mut fb);
        receiver.handle_audio(&through_alaw(&fa));
        sender.handle_audio(&through_alaw(&fb));
        ra = ra.or_else(|| sender.poll_result());
        rb = rb.or_else(|| receiver.poll_result());
        if let (Some(s), Some(r)) = (&ra, &rb) {
            return Outcome {
                sender: s.clone(),
                receiver: r.clone(),
                session: Duration::from_millis(20 * u64::from(tick)),
                wall: crate::clock::now() - wall,
                cpu: thread_cpu().saturating_sub(cpu),
                udptl: Default::default(),
            };
        }
    }
    panic!("no result after {MAX_TICKS} ticks: sender {ra:?}, receiver {rb:?}");
}

pub fn config(ident: &str, receive_into: Option<PathBuf>, send_file: Option<PathBuf>) -> T30Config {
    T30Config {
        ident: ident.into(),
        ecm: true,
        receive_into,
        send_file,
    }
}

/// CPU time of the calling thread (user + system) from /proc/thread-self/stat, in the kernel's
/// clock ticks (100 per second on Linux), for the speed note only.
fn thread_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the parenthesised command name (which may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // After the name the state is index 0, so utime and stime are 11 and 12.
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10)
}
