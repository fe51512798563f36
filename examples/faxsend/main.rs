//! `faxsend`: the far-end fax machine of zentrale's fax tests and benchmark.
//!
//! A SIP UAC over UDP calls a fax extension (INVITE with PCMA/PCMU audio, Digest if challenged)
//! and sends a multi-page TIFF with spandsp's sending terminal, over T.38 (UDPTL with redundancy
//! or FEC) or G.711 audio; see `session.rs` for the modes. It prints one JSON line — T.30
//! completion code and text, pages, the remote station id (the receiver's CSI), bit rate, ECM,
//! the media used — and exits 0 when T.30 succeeded.
//!
//! ```sh
//! faxsend --server 127.0.0.1:5060 --to 190 --user u --password p --file doc.tif --mode t38
//! ```

mod call;
mod media;
mod sdp;
mod session;

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use serde_json::json;

use call::{Call, CallConfig};
use media::Link;
use session::{FaxOptions, Mode, Outcome, Session};

#[derive(Debug, Parser)]
#[command(about = "Sends a TIFF as a fax to a SIP fax extension (test peer of zentrale)")]
struct Args {
    /// zentrale's SIP address (UDP).
    #[arg(long)]
    server: SocketAddr,
    /// The number to call.
    #[arg(long)]
    to: String,
    /// SIP account for Digest authentication.
    #[arg(long)]
    user: String,
    #[arg(long, default_value = "")]
    password: String,
    /// The TIFF to send (multi-page, fax resolution).
    #[arg(long)]
    file: PathBuf,
    #[arg(long, value_enum, default_value = "t38")]
    mode: Mode,
    /// Error correction we offer on UDPTL.
    #[arg(long, value_enum, default_value = "redundancy")]
    ec: Ec,
    /// The T.38 version we offer (0 to 3).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=3))]
    t38_version: u8,
    /// Our station id (TSI).
    #[arg(long, default_value = "+49 89 555 0100")]
    ident: String,
    /// Percent of outgoing RTP/UDPTL datagrams to drop.
    #[arg(long, default_value_t = 0)]
    loss: u32,
    /// Seed of the loss sequence.
    #[arg(long, default_value_t = 7)]
    seed: u32,
    /// Drop all outgoing media this many seconds after the answer.
    #[arg(long)]
    cut_after: Option<f64>,
    /// Drop all outgoing media once this many pages were confirmed (T.38).
    #[arg(long)]
    cut_after_pages: Option<u32>,
    /// Give up (and hang up) after this many seconds.
    #[arg(long, default_value_t = 300.0)]
    timeout: f64,
    /// Print every SIP message on stderr.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Ec {
    Redundancy,
    Fec,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let outcome = match run(&args) {
        Ok(outcome) => outcome,
        Err(e) => Outcome {
            error: Some(format!("{e:#}")),
            ..Outcome::default()
        },
    };
    println!("{}", report(&outcome));
    match outcome.result {
        Some(r) if r.is_ok() => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}

fn run(args: &Args) -> anyhow::Result<Outcome> {
    anyhow::ensure!(args.file.is_file(), "no file {}", args.file.display());
    let ip = local_ip(args.server)?;
    let socket = UdpSocket::bind(SocketAddr::new(ip, 0)).context("SIP socket")?;
    let call = Call::new(
        CallConfig {
            server: args.server,
            to: args.to.clone(),
            user: args.user.clone(),
            password: args.password.clone(),
            verbose: args.verbose,
        },
        socket,
    )?;
    let opts = FaxOptions {
        mode: args.mode,
        ec: match args.ec {
            Ec::Redundancy => sdp::REDUNDANCY,
            Ec::Fec => sdp::FEC,
        },
        t38_version: args.t38_version,
        ident: args.ident.clone(),
        file: args.file.clone(),
        cut_after: args.cut_after.map(Duration::from_secs_f64),
        cut_after_pages: args.cut_after_pages,
        timeout: Duration::from_secs_f64(args.timeout),
    };
    let session = Session::new(opts, call, ip, Link::new(args.loss, args.seed))?;
    Ok(session.run())
}

/// The address this host sends from towards `server` (a connected UDP socket learns it without
/// sending anything).
fn local_ip(server: SocketAddr) -> anyhow::Result<IpAddr> {
    let unspecified: IpAddr = match server {
        SocketAddr::V4(_) => [0, 0, 0, 0].into(),
        SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
    };
    let probe = UdpSocket::bind(SocketAddr::new(unspecified, 0))?;
    probe.connect(server)?;
    Ok(probe.local_addr()?.ip())
}

/// The JSON line: T.30's result as the sender saw it, and how the call went.
fn report(o: &Outcome) -> serde_json::Value {
    let r = o.result.as_ref();
    json!({
        "completion_code": r.map_or(-1, |r| r.completion_code),
        "completion_text": r.map_or("no T.30 result", |r| r.completion_text.as_str()),
        "pages": r.map_or(0, |r| r.pages),
        "remote_station_id": r.map(|r| r.remote_station_id.as_str()),
        "bit_rate": r.map_or(0, |r| r.bit_rate),
        "ecm": r.is_some_and(|r| r.ecm),
        "mode": o.mode,
        "t38_offer": o.t38_offer,
        "hangup": o.hangup,
        "error": o.error,
        "seconds": (o.seconds * 1000.0).round() / 1000.0,
        "media_sent": o.link.0,
        "media_dropped": o.link.1,
        "udptl_recovered": o.recovered,
    })
}
