//! The fax driver: one task per call to a fax extension, the only place where a fax call's
//! sockets, clock and files meet its sans-IO parts — the RTP session, the spandsp terminals,
//! UDPTL and the T.38 SDP.
//!
//! The call is answered on G.711 audio (an even port of `[sip] rtp_ports`) with an answering
//! audio terminal running at once (CED, DIS), so a fax machine that never speaks T.38 is served
//! without delay. Meanwhile:
//! * the caller's T.38 re-INVITE is accepted: a new port, our `m=image` answer, a fresh T.38
//!   terminal (T.30 starts again there, as it does whenever a gateway switches);
//! * when the caller's CNG is heard on audio and `[fax] t38_on_cng` is on, we re-INVITE to T.38
//!   ourselves; a refusal (488 and the like) keeps the call on audio.
//!
//! Every 20 ms of the task's clock the terminal advances by 160 samples. When T.30 ends (or the
//! caller hangs up, or `[fax] max_secs` passes, which ends T.30 where it is), the TIFF is
//! fsynced, the PDF written, and the fax deposited in the owner's inbox with its mail queued —
//! a failed or partial reception too, with its pages and T.30 cause — before our BYE.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::sdp::{self as t38, Agreed, T38Stream};
use super::service::Shared;
use super::{
    AudioTerminal, CngDetector, DocumentFormat, ReceivedFax, Reception, SAMPLES_PER_TICK,
    T30Config, T38Terminal,
};
use crate::clock::{Instant, UnixTime, now};
use crate::endpoint::driver::local::{LocalCall, LocalReply, LocalSignal};
use crate::endpoint::local::{AnswerRequest, App, MediaAnswer};
use crate::media::{self as sdp, PortLease};
use crate::rtp::{Event, Latch, Session, SessionParams, Verdict};
use crate::store::FaxFormat;
use crate::udptl::{Receiver, Sender};

/// One step of the terminals' clock.
const TICK: Duration = Duration::from_millis(20);
const FRAME: usize = SAMPLES_PER_TICK as usize;

/// The fax device a call is for.
#[derive(Debug, Clone)]
struct Device {
    user: i64,
    /// The device's outgoing fax id: our CSI.
    ident: String,
    format: DocumentFormat,
}

/// Fax over G.711.
struct Audio {
    lease: PortLease,
    session: Session,
    terminal: AudioTerminal,
    /// Listening for CNG, until it is heard (or T.38 is not to be offered).
    cng: Option<CngDetector>,
}

/// Fax over T.38.
struct T38 {
    lease: PortLease,
    terminal: T38Terminal,
    rx: Receiver,
    tx: Sender,
    latch: Latch,
}

enum Media {
    Audio(Box<Audio>),
    T38(Box<T38>),
}

/// A call in progress.
struct FaxCall {
    shared: Arc<Shared>,
    key: u64,
    device: Device,
    request: AnswerRequest,
    replies: mpsc::UnboundedSender<(u64, LocalReply)>,
    tiff: PathBuf,
    media: Media,
    /// Our T.38 offer that is out: its port and stream.
    offered: Option<(PortLease, T38Stream)>,
    /// The `o=` line's session id, and the version of our latest description.
    session: (u64, u64),
    started: Instant,
    result: Option<Reception>,
    caller_gone: bool,
}

/// Runs call `call` to its end.
pub(super) async fn run(shared: Arc<Shared>, call: LocalCall) {
    let LocalCall {
        request,
        replies,
        signals,
    } = call;
    let key = request.key;
    let refuse = |status| {
        let _ = replies.send((key, LocalReply::Answer(MediaAnswer::Refuse(status))));
    };
    let device = match device_of(&shared, &request.app).await {
        Ok(device) => device,
        Err(e) => {
            tracing::warn!("fax: call {key}: {e}");
            return refuse(480);
        }
    };
    let tiff = shared.inbox.reception_path();
    let (media, answer, session) = match open_audio(&shared, &request, &device, &tiff).await {
        Ok(opened) => opened,
        Err(status) => return refuse(status),
    };
    let _ = replies.send((key, LocalReply::Answer(MediaAnswer::Sdp(answer))));
    tracing::info!("fax: call {key} answered for user {}", device.user);
    let mut call = FaxCall {
        shared,
        key,
        device,
        request,
        replies,
        tiff,
        media,
        offered: None,
        session: (session, session),
        started: now(),
        result: None,
        caller_gone: false,
    };
    call.run(signals).await;
    call.finish().await;
}

/// The fax device of the user the call is for.
async fn device_of(shared: &Shared, app: &App) -> Result<Device, crate::store::StoreError> {
    let App::Fax { user } = app else {
        return Err(crate::store::StoreError::not_found(
            "fax device of",
            "a non-fax call",
        ));
    };
    let settings = shared.store.fax_settings(user).await?;
    let id = shared.store.user_id(user).await?;
    Ok(Device {
        user: id,
        ident: settings.header_id.unwrap_or_default(),
        format: match settings.format {
            FaxFormat::Pdf => DocumentFormat::Pdf,
            FaxFormat::Tiff => DocumentFormat::Tiff,
        },
    })
}

/// Answers the caller's audio offer: the media, our SDP answer and its session id; else the
/// status to refuse with (488 without G.711, 503 without a port or terminal).
async fn open_audio(
    shared: &Shared,
    request: &AnswerRequest,
    device: &Device,
    tiff: &std::path::Path,
) -> Result<(Media, String, u64), u16> {
    let key = request.key;
    let offer = sdp::parse_offer(&request.offer).map_err(|e| {
        tracing::info!("fax: call {key}: the offer: {e}");
        488u16
    })?;
    let lease = shared.ports.bind(request.local_ip).await.ok_or_else(|| {
        tracing::warn!("fax: call {key}: no free RTP port");
        503u16
    })?;
    let session_id = u64::from(rand::random::<u32>());
    let local = SocketAddr::new(request.local_ip, lease.port);
    let answer = sdp::answer(&offer, local, session_id).map_err(|e| {
        tracing::info!("fax: call {key}: no media in common: {e}");
        488u16
    })?;
    let terminal = AudioTerminal::new(false, &t30(device, tiff)).map_err(|e| {
        tracing::warn!("fax: call {key}: {e}");
        503u16
    })?;
    let cng = match shared.config.t38_on_cng {
        true => CngDetector::new().ok(),
        false => None,
    };
    let params = SessionParams::from_answer(&answer, rand::random());
    let audio = Audio {
        lease,
        session: Session::new(params, now()),
        terminal,
        cng,
    };
    Ok((Media::Audio(Box::new(audio)), answer.sdp, session_id))
}

/// Our T.30 settings: receiving into `tiff`, as the device.
fn t30(device: &Device, tiff: &std::path::Path) -> T30Config {
    T30Config {
        ident: device.ident.clone(),
        ecm: true,
        receive_into: Some(tiff.to_path_buf()),
        send_file: None,
    }
}

impl FaxCall {
    async fn run(&mut self, mut signals: mpsc::UnboundedReceiver<LocalSignal>) {
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let end = self.started + Duration::from_secs(self.shared.config.max_secs);
        let mut buf = vec![0u8; 2048];
        while self.result.is_none() && !self.caller_gone {
            tokio::select! {
                received = self.socket().recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        self.datagram(from, buf.get(..n).unwrap_or_default()).await;
                    }
                }
                _ = tick.tick() => self.tick().await,
                signal = signals.recv() => self.signal(signal).await,
                () = tokio::time::sleep_until(end.into()) => {
                    tracing::info!("fax: call {}: {} s passed, ending", self.key, self.shared.config.max_secs);
                    return;
                }
            }
        }
    }

    fn socket(&self) -> &UdpSocket {
        match &self.media {
            Media::Audio(a) => &a.lease.socket,
            Media::T38(t) => &t.lease.socket,
        }
    }

    fn reply(&self, reply: LocalReply) {
        let _ = self.replies.send((self.key, reply));
    }

    async fn datagram(&mut self, from: SocketAddr, data: &[u8]) {
        let t = now();
        match &mut self.media {
            Media::Audio(a) => a.session.handle_datagram(from, data, t),
            Media::T38(m) => {
                if m.latch.check(from, 0, 0) == Verdict::Stranger {
                    return;
                }
                if let Err(e) = m.rx.handle_datagram(data, t) {
                    tracing::debug!("fax: call {}: UDPTL: {e}", self.key);
                }
                while let Some((seq, ifp)) = m.rx.poll_ifp() {
                    m.terminal.handle_ifp(&ifp, seq);
                }
                self.result = m.terminal.poll_result();
            }
        }
    }

    /// 20 ms on: the terminal advances, and what it sends goes out.
    async fn tick(&mut self) {
        let t = now();
        let heard_cng = match &mut self.media {
            Media::Audio(a) => audio_tick(a, t),
            Media::T38(m) => {
                if m.rx.poll_timeout().is_some_and(|at| at <= t) {
                    m.rx.handle_timeout(t);
                    while let Some((seq, ifp)) = m.rx.poll_ifp() {
                        m.terminal.handle_ifp(&ifp, seq);
                    }
                }
                m.terminal.send_timeout(SAMPLES_PER_TICK);
                false
            }
        };
        self.send().await;
        self.result = match &mut self.media {
            Media::Audio(a) => a.terminal.poll_result(),
            Media::T38(m) => m.terminal.poll_result(),
        };
        if heard_cng {
            self.offer_t38().await;
        }
    }

    /// Sends what the media has for the wire.
    async fn send(&mut self) {
        match &mut self.media {
            Media::Audio(a) => {
                while let Some(t) = a.session.poll_transmit() {
                    let _ = a.lease.socket.send_to(&t.data, t.dest).await;
                }
            }
            Media::T38(m) => {
                let dest = m.latch.destination();
                while let Some(out) = m.terminal.poll_transmit() {
                    let Ok(datagram) = m.tx.send(&out.ifp) else {
                        continue;
                    };
                    for _ in 0..out.copies {
                        let _ = m.lease.socket.send_to(&datagram, dest).await;
                    }
                }
            }
        }
    }

    async fn signal(&mut self, signal: Option<LocalSignal>) {
        match signal {
            Some(LocalSignal::Ended) | None => self.caller_gone = true,
            Some(LocalSignal::Dtmf(_)) => {}
            Some(LocalSignal::Offer(offer)) => {
                let answer = self.reoffered(&offer).await;
                self.reply(LocalReply::Reanswer(answer));
            }
            Some(LocalSignal::Answered(answer)) => self.answered(answer).await,
        }
    }

    /// The caller's re-offer: T.38 is taken (a fresh port and terminal); an audio-only one is
    /// answered as before while on audio, refused (488) once on T.38.
    async fn reoffered(&mut self, offer: &[u8]) -> MediaAnswer {
        let key = self.key;
        let parsed = match sdp::parse_offer(offer) {
            Ok(parsed) => parsed,
            Err(e) => {
                tracing::info!("fax: call {key}: the re-offer: {e}");
                return MediaAnswer::Refuse(488);
            }
        };
        let (index, theirs) = match t38::t38_stream(&parsed) {
            Ok(Some(found)) => found,
            Ok(None) => return self.audio_again(&parsed),
            Err(e) => {
                tracing::info!("fax: call {key}: the T.38 re-offer: {e}");
                return MediaAnswer::Refuse(488);
            }
        };
        if let Media::T38(m) = &mut self.media {
            let local = SocketAddr::new(self.request.local_ip, m.lease.port);
            let ours = t38::answer_stream(&theirs, local);
            m.latch = Latch::new(theirs.remote);
            return MediaAnswer::Sdp(t38::answer_sdp(&parsed, index, &ours, self.session));
        }
        let Some(lease) = self.shared.ports.bind(self.request.local_ip).await else {
            return MediaAnswer::Refuse(503);
        };
        let local = SocketAddr::new(self.request.local_ip, lease.port);
        let ours = t38::answer_stream(&theirs, local);
        let answer = t38::answer_sdp(&parsed, index, &ours, self.next_version());
        // Their offer crossed ours (or came first): theirs is taken, ours is void.
        self.offered = None;
        match self.switch(lease, &t38::agree(&theirs, &ours)) {
            Ok(()) => MediaAnswer::Sdp(answer),
            Err(()) => MediaAnswer::Refuse(503),
        }
    }

    /// An audio-only re-offer (a session refresh, a hold): the same media answered again.
    fn audio_again(&mut self, offer: &sdp::Offer) -> MediaAnswer {
        let Media::Audio(a) = &self.media else {
            return MediaAnswer::Refuse(488);
        };
        let local = SocketAddr::new(self.request.local_ip, a.lease.port);
        let session = self.session.0;
        match sdp::answer(offer, local, session) {
            // The description is unchanged, so its version stays (RFC 3264 §8).
            Ok(answer) => MediaAnswer::Sdp(answer.sdp),
            Err(_) => MediaAnswer::Refuse(488),
        }
    }

    /// The caller answered our T.38 offer: T.38 if its answer has a stream, else we stay.
    async fn answered(&mut self, answer: Result<bytes::Bytes, u16>) {
        let Some((lease, ours)) = self.offered.take() else {
            return;
        };
        let key = self.key;
        let body = match answer {
            Ok(body) => body,
            Err(status @ (408 | 481)) => {
                // RFC 3261 §14.1: the dialog is gone.
                tracing::info!("fax: call {key}: our re-INVITE got {status}: ending");
                self.caller_gone = status == 481;
                self.result = self.terminate();
                return;
            }
            Err(status) => {
                tracing::info!("fax: call {key}: T.38 refused ({status}): staying on G.711");
                return;
            }
        };
        let theirs = sdp::parse_offer(&body)
            .ok()
            .and_then(|p| t38::t38_stream(&p).ok()?);
        match theirs {
            Some((_, theirs)) => {
                let _ = self.switch(lease, &t38::agree(&theirs, &ours));
            }
            None => tracing::info!("fax: call {key}: T.38 answered without a stream: on G.711"),
        }
    }

    /// On CNG: our offer to move to T.38.
    async fn offer_t38(&mut self) {
        if self.offered.is_some() {
            return;
        }
        let Some(lease) = self.shared.ports.bind(self.request.local_ip).await else {
            return;
        };
        let local = SocketAddr::new(self.request.local_ip, lease.port);
        let ours = t38::offer_stream(local);
        let offer = t38::offer_sdp(&ours, self.next_version());
        tracing::info!("fax: call {}: CNG heard, offering T.38", self.key);
        self.offered = Some((lease, ours));
        self.reply(LocalReply::Reoffer(offer));
    }

    fn next_version(&mut self) -> (u64, u64) {
        self.session.1 += 1;
        self.session
    }

    /// Moves the call to T.38 on `lease` with what was agreed; T.30 starts again there, into a
    /// TIFF of its own (the audio terminal's, if it began one, is removed).
    fn switch(&mut self, lease: PortLease, agreed: &Agreed) -> Result<(), ()> {
        let key = self.key;
        if let Media::T38(m) = &mut self.media {
            // Already on T.38 (a gateway's second re-INVITE): the same terminal and numbering,
            // the peer perhaps somewhere else.
            m.latch = Latch::new(agreed.remote);
            return Ok(());
        }
        let tiff = self.shared.inbox.reception_path();
        let mut terminal = T38Terminal::new(false, &t30(&self.device, &tiff))
            .map_err(|e| tracing::warn!("fax: call {key}: {e}"))?;
        terminal.set_params(&agreed.params);
        let t38 = T38 {
            lease,
            terminal,
            rx: Receiver::new(),
            tx: Sender::new(agreed.ec, agreed.peer_max_datagram),
            latch: Latch::new(agreed.remote),
        };
        drop(std::mem::replace(
            &mut self.media,
            Media::T38(Box::new(t38)),
        ));
        let _ = std::fs::remove_file(std::mem::replace(&mut self.tiff, tiff));
        tracing::info!("fax: call {key}: on T.38 with {}", agreed.remote);
        Ok(())
    }

    /// The end: T.30's result (ended where it is if it had not ended), the document fsynced
    /// and deposited with its mail queued, then our BYE unless the caller already left.
    async fn finish(mut self) {
        let key = self.key;
        let reception = match self.result.take().or_else(|| self.terminate()) {
            Some(r) => r,
            None => Reception {
                completion_code: -1,
                completion_text: "no T.30 session".into(),
                pages: 0,
                remote_station_id: String::new(),
                bit_rate: 0,
                ecm: false,
                tiff: Some(self.tiff.clone()),
            },
        };
        tracing::info!(
            "fax: call {key}: {} page(s) from {:?}: {}",
            reception.pages,
            reception.remote_station_id,
            reception.completion_text
        );
        let duration = now().saturating_duration_since(self.started);
        let (format, tiff) = (self.device.format, self.tiff.clone());
        let written = {
            let reception = reception.clone();
            tokio::task::spawn_blocking(move || {
                super::write_document(&tiff, format, &reception, duration)
            })
            .await
        };
        let document = written
            .map_err(|e| e.to_string())
            .and_then(|w| w.map_err(|e| e.to_string()));
        // A document that could not be written: its facts are mailed without an attachment.
        let document = document.unwrap_or_else(|e| {
            tracing::warn!("fax: call {key}: the document: {e}");
            super::FaxDocument {
                path: None,
                metadata: super::FaxMetadata::of(&reception, duration),
            }
        });
        let caller = self.request.caller.as_ref();
        let received = ReceivedFax {
            user: self.device.user,
            caller_number: caller.map(|c| c.number.clone()).unwrap_or_default(),
            format,
            received_at: UnixTime::now(),
            tiff: Some(self.tiff.clone()),
        };
        match self.shared.inbox.deposit(document, received).await {
            Ok(id) => tracing::info!("fax: call {key}: stored as fax {}", id.0),
            Err(e) => tracing::error!("fax: call {key}: storing the fax failed: {e}"),
        }
        if !self.caller_gone {
            self.reply(LocalReply::HangUp);
        }
    }

    /// T.30 ends where it is; its result.
    fn terminate(&mut self) -> Option<Reception> {
        match &mut self.media {
            Media::Audio(a) => a.terminal.terminate(),
            Media::T38(m) => m.terminal.terminate(),
        }
    }
}

/// 20 ms of audio: the caller's into the terminal (and the CNG detector), the terminal's out.
/// True when CNG was heard just now.
fn audio_tick(a: &mut Audio, t: Instant) -> bool {
    a.session.handle_timeout(t);
    let mut cng = false;
    while let Some(event) = a.session.poll_event() {
        let Event::Audio(frame) = event else {
            continue;
        };
        if usize::from(frame.concealed) >= FRAME {
            a.terminal.handle_missing(SAMPLES_PER_TICK);
        } else {
            a.terminal.handle_audio(&frame.samples[..]);
        }
        if let Some(detector) = &mut a.cng {
            cng |= detector.handle_audio(&frame.samples[..]);
        }
    }
    if cng {
        a.cng = None;
    }
    let mut out = [0i16; FRAME];
    let n = a.terminal.poll_audio(&mut out);
    a.session.play(&out[..n]);
    cng
}
