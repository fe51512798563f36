//! One fax call from start to end: the call's events decide which media leg runs, a 20 ms clock
//! steps it, and the session ends once T.30 is over and the call hung up.
//!
//! Modes: `t38` re-INVITEs to T.38 right after the ACK (a 488 falls back to audio); `cng` starts
//! on audio, where the calling terminal sends CNG (1100 Hz, 0.5 s on, 3 s off: ITU-T T.30
//! §5.2.1), and moves to T.38 when the other side re-INVITEs; `audio` refuses any T.38
//! re-INVITE with 488 and sends over G.711.

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use zentrale::clock::{Instant, now};
use zentrale::fax::{AudioTerminal, Reception, T30Config, T38Terminal};
use zentrale::sip::transaction::TransactionId;
use zentrale::udptl::ErrorCorrection;

use crate::call::{Call, CallEvent};
use crate::media::{AudioLeg, Link, T38Leg};
use crate::sdp::{self, RemoteAudio, T38Desc};

const TICK: Duration = Duration::from_millis(20);
/// How long after T.30 ended we wait for the other side's BYE before sending our own.
const BYE_WAIT: Duration = Duration::from_secs(3);
/// How long a BYE (ours or theirs) may come before our own T.30 result, and our BYE's answer.
const HANGUP_GRACE: Duration = Duration::from_secs(3);
/// At most this many 20 ms steps to catch up after the process was not scheduled.
const MAX_CATCH_UP: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    T38,
    Cng,
    Audio,
}

/// What the fax machine sends and how.
#[derive(Debug, Clone)]
pub struct FaxOptions {
    pub mode: Mode,
    pub ec: ErrorCorrection,
    /// The T.38 version we offer (and at most answer with).
    pub t38_version: u8,
    pub ident: String,
    pub file: PathBuf,
    /// Outgoing media cut off this long after the call was answered.
    pub cut_after: Option<Duration>,
    /// Outgoing media cut off once this many pages were confirmed (T.38 only).
    pub cut_after_pages: Option<u32>,
    /// The whole call's limit.
    pub timeout: Duration,
}

/// How the call went.
#[derive(Debug, Default)]
pub struct Outcome {
    pub result: Option<Reception>,
    /// `t38` or `audio`: the last media the fax ran on.
    pub mode: Option<&'static str>,
    /// Who offered T.38: `local` (our re-INVITE) or `remote` (the other side's).
    pub t38_offer: Option<&'static str>,
    /// Who hung up: `remote` (zentrale's BYE) or `local`.
    pub hangup: Option<&'static str>,
    pub error: Option<String>,
    pub seconds: f64,
    pub link: (u64, u64),
    /// IFPs recovered from redundancy/FEC in what the other side sent (T.38 only).
    pub recovered: u64,
}

#[derive(Debug)]
enum Leg {
    None,
    Audio(Box<AudioLeg>),
    T38(Box<T38Leg>),
}

#[derive(Debug)]
pub struct Session {
    opts: FaxOptions,
    call: Call,
    rtp: UdpSocket,
    udptl: UdpSocket,
    leg: Leg,
    link: Link,
    sdp_version: u64,
    remote_audio: Option<RemoteAudio>,
    started: Instant,
    answered: Option<Instant>,
    t30_ended: Option<Instant>,
    hung_up: Option<Instant>,
    bye_sent: Option<Instant>,
    out: Outcome,
}

impl Session {
    pub fn new(
        opts: FaxOptions,
        call: Call,
        media_ip: std::net::IpAddr,
        link: Link,
    ) -> anyhow::Result<Session> {
        let bind = |what| {
            let s = UdpSocket::bind(SocketAddr::new(media_ip, 0)).context(what)?;
            s.set_nonblocking(true)?;
            anyhow::Ok(s)
        };
        Ok(Session {
            opts,
            call,
            rtp: bind("RTP socket")?,
            udptl: bind("UDPTL socket")?,
            leg: Leg::None,
            link,
            sdp_version: 0,
            remote_audio: None,
            started: now(),
            answered: None,
            t30_ended: None,
            hung_up: None,
            bye_sent: None,
            out: Outcome::default(),
        })
    }

    /// Places the call and runs it to its end.
    pub fn run(mut self) -> Outcome {
        if let Err(e) = self.drive() {
            self.out.error = Some(format!("{e:#}"));
            self.hang_up_quietly();
        }
        self.finish()
    }

    fn drive(&mut self) -> anyhow::Result<()> {
        let offer = sdp::audio_offer(self.rtp.local_addr()?, self.next_version());
        self.call.invite(&offer, self.started)?;
        let mut next = self.started;
        while !self.is_over(now()) {
            let t = now();
            self.call.poll(t)?;
            while let Some(event) = self.call.poll_event() {
                self.handle(event, t)?;
            }
            for _ in 0..MAX_CATCH_UP {
                if next > t {
                    break;
                }
                self.tick(next)?;
                next += TICK;
            }
            next = next.max(t);
            self.timers(t)?;
            // The media clock: a fax machine sends a frame every 20 ms of real time (this is
            // pacing, not a wait for readiness; sockets are polled above).
            std::thread::sleep(next.saturating_duration_since(now()));
        }
        Ok(())
    }

    fn handle(&mut self, event: CallEvent, t: Instant) -> anyhow::Result<()> {
        match event {
            CallEvent::Answered(body) => self.answered(&body, t),
            CallEvent::ReinviteAnswered(status, body) => self.reinvite_answered(status, &body),
            CallEvent::Offer(id, body) => self.offered(id, &body, t),
            CallEvent::Bye => {
                self.out.hangup.get_or_insert("remote");
                self.hung_up = Some(t);
                Ok(())
            }
            CallEvent::ByeAnswered => {
                self.hung_up.get_or_insert(t);
                Ok(())
            }
            CallEvent::Failed(why) => anyhow::bail!(why),
        }
    }

    fn answered(&mut self, body: &Bytes, t: Instant) -> anyhow::Result<()> {
        self.answered = Some(t);
        let audio = sdp::remote_audio(body).context("the answer's audio")?;
        self.remote_audio = Some(audio);
        eprintln!(
            "faxsend: answered, audio {} at {}",
            audio.codec.name(),
            audio.addr
        );
        match self.opts.mode {
            Mode::T38 => {
                let version = self.next_version();
                let offer = sdp::t38(&self.our_t38()?, version, None);
                self.call.invite(&offer, t)
            }
            Mode::Cng | Mode::Audio => self.start_audio(),
        }
    }

    fn reinvite_answered(&mut self, status: u16, body: &Bytes) -> anyhow::Result<()> {
        eprintln!("faxsend: our T.38 re-INVITE answered {status}");
        if !(200..300).contains(&status) {
            return self.start_audio();
        }
        match sdp::remote_t38(body)? {
            Some(remote) => {
                self.out.t38_offer = Some("local");
                self.start_t38(&remote)
            }
            None => {
                // An answer without a T.38 stream refuses it (RFC 3264 §6: port 0), even as a
                // 2xx: the fax goes on over audio, as a fax machine behind an ATA would.
                eprintln!("faxsend: the 2xx has no T.38 stream, staying on audio");
                self.start_audio()
            }
        }
    }

    fn offered(&mut self, id: TransactionId, body: &Bytes, t: Instant) -> anyhow::Result<()> {
        let t38 = sdp::remote_t38(body).ok().flatten();
        match t38 {
            Some(remote) if self.opts.mode != Mode::Audio => {
                eprintln!("faxsend: T.38 offered by the other side, accepted");
                let version = self.next_version();
                let answer = sdp::t38(&self.our_t38()?, version, Some(&remote));
                self.call.accept(id, &answer, t)?;
                self.out.t38_offer = Some("remote");
                self.start_t38(&remote)
            }
            _ => {
                eprintln!("faxsend: a re-INVITE refused with 488");
                self.call.refuse(id, 488, t)
            }
        }
    }

    fn our_t38(&self) -> anyhow::Result<T38Desc> {
        let addr = self.udptl.local_addr()?;
        Ok(T38Desc::ours(addr, self.opts.t38_version, self.opts.ec))
    }

    fn start_audio(&mut self) -> anyhow::Result<()> {
        let remote = self.remote_audio.context("no audio to fall back to")?;
        let terminal = AudioTerminal::new(true, &self.t30())?;
        self.leg = Leg::Audio(Box::new(AudioLeg::new(
            terminal,
            self.rtp.try_clone()?,
            remote,
        )));
        self.out.mode = Some("audio");
        Ok(())
    }

    /// A fresh T.38 terminal: T.30 starts over on the new media, as on the other side.
    fn start_t38(&mut self, remote: &T38Desc) -> anyhow::Result<()> {
        let terminal = T38Terminal::new(true, &self.t30())?;
        self.leg = Leg::T38(Box::new(T38Leg::new(
            terminal,
            self.udptl.try_clone()?,
            remote,
        )));
        self.out.mode = Some("t38");
        eprintln!("faxsend: T.38 to {}", remote.addr);
        Ok(())
    }

    fn t30(&self) -> T30Config {
        T30Config {
            ident: self.opts.ident.clone(),
            ecm: true,
            receive_into: None,
            send_file: Some(self.opts.file.clone()),
        }
    }

    /// One 20 ms step of the media, at session time `at`.
    fn tick(&mut self, at: Instant) -> anyhow::Result<()> {
        self.maybe_cut(at);
        if self.hung_up.is_some() {
            // The call is gone: the terminal may still finish its phase E, nothing goes out.
            self.link.stop();
        }
        let result = match &mut self.leg {
            Leg::None => None,
            Leg::Audio(leg) => {
                leg.tick(&mut self.link);
                leg.poll_result()
            }
            Leg::T38(leg) => {
                leg.tick(&mut self.link, at);
                self.out.recovered = leg.udptl_stats().recovered;
                leg.poll_result()
            }
        };
        if let Some(result) = result {
            eprintln!(
                "faxsend: T.30 ended: {} ({} pages)",
                result.completion_text, result.pages
            );
            self.out.result = Some(result);
            self.t30_ended = Some(at);
        }
        Ok(())
    }

    fn maybe_cut(&mut self, at: Instant) {
        if self.link.is_cut() {
            return;
        }
        let by_time = (self.opts.cut_after)
            .zip(self.answered)
            .is_some_and(|(after, answered)| at >= answered + after);
        let pages = match &mut self.leg {
            Leg::T38(leg) => leg.terminal.pages_so_far(),
            _ => 0,
        };
        let by_pages = self.opts.cut_after_pages.is_some_and(|n| pages >= n);
        if by_time || by_pages {
            eprintln!("faxsend: media cut after {pages} pages");
            self.link.cut();
        }
    }

    /// Our BYE once T.30 ended and the other side did not hang up; the overall limit.
    fn timers(&mut self, t: Instant) -> anyhow::Result<()> {
        if self.hung_up.is_some() || self.bye_sent.is_some() {
            return Ok(());
        }
        let waited = self.t30_ended.is_some_and(|e| t >= e + BYE_WAIT);
        let too_long = t >= self.started + self.opts.timeout;
        if too_long {
            self.out.error = Some("the call ran past --timeout".into());
        }
        if (waited || too_long) && self.answered.is_some() {
            self.out.hangup.get_or_insert("local");
            self.bye_sent = Some(t);
            self.call.bye(t)?;
        } else if too_long {
            self.hung_up = Some(t);
        }
        Ok(())
    }

    fn is_over(&self, t: Instant) -> bool {
        let bye_unanswered = self.bye_sent.is_some_and(|b| t >= b + HANGUP_GRACE);
        let hung_up = self.hung_up.is_some_and(|h| {
            self.out.result.is_some() || self.answered.is_none() || t >= h + HANGUP_GRACE
        });
        hung_up || bye_unanswered
    }

    fn hang_up_quietly(&mut self) {
        if self.answered.is_some() && self.hung_up.is_none() && self.bye_sent.is_none() {
            let t = now();
            if self.call.bye(t).is_ok() {
                self.out.hangup = Some("local");
                let _ = self.call.poll(t);
            }
        }
    }

    fn next_version(&mut self) -> u64 {
        self.sdp_version += 1;
        self.sdp_version
    }

    fn finish(mut self) -> Outcome {
        self.out.seconds = (now() - self.started).as_secs_f64();
        self.out.link = (self.link.sent, self.link.dropped);
        self.out
    }
}
