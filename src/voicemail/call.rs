//! The voicemail driver: one task per call answered locally, the only place where a call's
//! sockets, clock and files meet its sans-IO cores — the RTP session ([`crate::rtp::Session`])
//! and the voicemail logic ([`Deposit`] to leave a message, [`MailboxMenu`] to listen).
//!
//! The task answers (the SDP answer, or a refusal: 488 without G.711, 503 without a free
//! port or when the box cannot be read), then turns media events into core inputs and core
//! actions into media, files and the store, until the core is done; then it hangs up (unless
//! the caller already did) and gives its port back.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use super::core::{Core, Step};
use super::deposit::{Deposit, Greeting};
use super::mailbox::{MessageId, NewMessage, Reason, Recording};
use super::menu::{MailboxMenu, MenuLimits, MessageRef};
use super::prompts::{GreetingKind, Sound};
use super::recording::Limits;
use super::service::Shared;
use crate::clock::{Instant, UnixTime, now};
use crate::dispatch::VoicemailReason;
use crate::endpoint::driver::local::{LocalCall, LocalReply, LocalSignal};
use crate::endpoint::local::{AnswerRequest, App, MediaAnswer};
use crate::media as sdp;
use crate::net::PortLease;
use crate::rtp::{Event, Session, SessionParams};

/// Whose box a call is about, and who calls.
#[derive(Debug, Clone)]
struct Owner {
    id: i64,
    extension: Option<String>,
    language: String,
}

/// What the recording turns into, when it is one.
#[derive(Debug)]
enum Taking {
    /// A message into the box.
    Message(Option<Recording>),
    /// A greeting recorded by phone (kept in memory: it is short).
    Greeting(Vec<i16>),
    Nothing,
}

/// One call's media: its socket (on a port of the pool, given back on drop; non-blocking,
/// read on a timer: see [`READ_EVERY`]) and RTP session.
#[derive(Debug)]
struct Media {
    lease: PortLease<std::net::UdpSocket>,
    session: Session,
}

/// A call in progress.
struct Call {
    shared: Arc<Shared>,
    key: u64,
    media: Media,
    core: Core,
    owner: Owner,
    request: AnswerRequest,
    /// The device the owner listens from (lockout subject), for the mailbox.
    device: i64,
    taking: Taking,
    caller_gone: bool,
    /// The core said goodbye.
    hung_up: bool,
    /// Samples of the caller's audio taken into a recording, and how many of them were
    /// silence put in for audio that did not arrive in time (the end-of-call log line: what
    /// bench/voicemail.py compares with the packets it sent).
    recorded: u64,
    recorded_concealed: u64,
    /// The longest a datagram waited in the socket before the task read it.
    waited: Duration,
    /// Frames before this position are not recorded: they were said before the beep (the
    /// window holds up to [`JITTER_WINDOW`] of them back).
    record_from: u64,
}

/// How long the jitter buffer waits for a missing packet before its frame is recorded as
/// silence. Nobody listens live, so waiting costs nothing but memory while a hole is open; a
/// real-time window (Asterisk's fixed jitter buffer defaults to 200 ms, `JITTERBUFFER`'s
/// `max_size`) turns a sender that stalls and then bursts into lost audio: at 1,000 calls
/// sipp's senders here fell up to 1.2 s behind and lost 160,000 packets that way
/// (bench/voicemail.sh). Asterisk puts a jitter buffer on a channel's read side only when
/// asked (the channel driver's `jbenable`, default no, or the `JITTERBUFFER` dialplan
/// function), FreeSWITCH's is off by default too (FreeSWITCH Explained, "JitterBuffer"): both
/// record what arrives when it arrives, losing nothing to a stall (and concealing no loss). 2 s
/// holds that stall with room to spare and bounds what a call holds behind a hole to 2.1 s
/// of audio (under 100 KB, [`crate::rtp::Session::with_window`]); the audio up to a hang-up,
/// a key or the maximum length is taken at once ([`crate::rtp::Session::catch_up`]), so only
/// an end by silence (`max_silence_secs`) comes later, by at most the window, and only
/// while a packet is missing.
const JITTER_WINDOW: Duration = Duration::from_secs(2);

/// How often a call reads its socket when nothing else wakes it (while it plays, it wakes
/// every 20 ms to send and reads then). The socket is not watched for readiness: a wake per
/// packet (a thread woken, a task polled, a read that finds nothing more) cost far more than
/// the packet's own work. All calls read on one grid, so the runtime wakes once per read for
/// all of them. 100 ms is five packets of a 20 ms stream, long enough to make the wakes
/// cheap and short against the jitter window and against how soon a key is acted on.
const READ_EVERY: Duration = Duration::from_millis(100);

/// What a call's socket may hold unread: 256 KiB (doubled by the kernel) holds 630 G.711
/// datagrams of 172 octets on loopback (the kernel counts ~830 bytes for each), 12 s of a
/// 20 ms stream, against 256 (5 s) by default (measured on this machine's kernel; an arrival
/// stamp is believed up to 10 s). Read late, each packet still goes in at its
/// arrival time, so a daemon the scheduler left waiting for seconds loses nothing: at 1,000
/// recordings next to sipp and a test run, sockets waited up to 7 s and the default buffer
/// (208 KiB) dropped 12,000 packets. Only a backlog uses the memory; the kernel caps the
/// size at `net.core.rmem_max` (Debian's default: 208 KiB; the .deb raises it to 2 MiB,
/// `packaging/sysctl/30-zentrale.conf`).
const RECEIVE_BUFFER: usize = 256 * 1024;

/// Datagrams read in one go before time is acted on: a 20 ms stream has five waiting after
/// [`READ_EVERY`], 100 after a 2 s stall of the task; a flood gets 2,560 a second read.
const MAX_WAITING: usize = 256;

/// Runs call `call` to its end.
pub(super) async fn run(shared: Arc<Shared>, call: LocalCall) {
    let LocalCall {
        request,
        replies,
        signals,
    } = call;
    let key = request.key;
    let answer = |a: MediaAnswer| {
        let _ = replies.send((key, LocalReply::Answer(a)));
    };
    let owner = match owner_of(&shared, &request.app).await {
        Ok(owner) => owner,
        Err(e) => {
            tracing::warn!("voicemail: call {key}: {e}");
            return answer(MediaAnswer::Refuse(503));
        }
    };
    let (media, sdp) = match open_media(&shared, &request).await {
        Ok(opened) => opened,
        Err(status) => return answer(MediaAnswer::Refuse(status)),
    };
    let core = match start_core(&shared, &request.app, &owner).await {
        Ok(core) => core,
        Err(e) => {
            tracing::warn!("voicemail: call {key}: {e}");
            return answer(MediaAnswer::Refuse(503));
        }
    };
    answer(MediaAnswer::Sdp(sdp));
    let device = match &request.app {
        App::Mailbox { device, .. } => *device,
        App::Voicemail { .. } | App::Fax { .. } => 0,
    };
    let mut call = Call {
        shared: shared.clone(),
        key,
        media,
        core,
        owner,
        request,
        device,
        taking: Taking::Nothing,
        caller_gone: false,
        hung_up: false,
        recorded: 0,
        recorded_concealed: 0,
        waited: Duration::ZERO,
        record_from: 0,
    };
    call.run(signals).await;
    if !call.caller_gone {
        let _ = replies.send((key, LocalReply::HangUp));
    }
    let stats = call.media.session.stats();
    tracing::info!(
        "voicemail: call {key} ended: {} packets received, {} accepted, {} lost, {} late, \
         {} overflow; recorded {} samples ({} concealed); arrived up to {} ms behind, read up to {} ms after arrival",
        stats.received,
        stats.accepted,
        stats.lost,
        stats.late,
        stats.overflow,
        call.recorded,
        call.recorded_concealed,
        stats.most_behind.as_millis(),
        call.waited.as_millis()
    );
    tracing::debug!("voicemail: call {key} ended: {stats:?}");
}

/// The owner of the box the call is for.
async fn owner_of(shared: &Shared, app: &App) -> Result<Owner, crate::store::StoreError> {
    let username = match app {
        App::Voicemail { mailbox, .. } => mailbox,
        App::Mailbox { user, .. } | App::Fax { user } => user,
    };
    let user = shared.store.user(username).await?;
    let id = shared.store.user_id(username).await?;
    Ok(Owner {
        id,
        extension: user.extension,
        language: user.language,
    })
}

/// Parses the caller's offer, binds a port from `[sip] rtp_ports` and makes the answer.
async fn open_media(shared: &Shared, request: &AnswerRequest) -> Result<(Media, String), u16> {
    let offer = sdp::parse_offer(&request.offer).map_err(|e| {
        tracing::info!("voicemail: call {}: the offer: {e}", request.key);
        488u16
    })?;
    let lease = shared.ports.bind_std(request.local_ip).ok_or_else(|| {
        tracing::warn!("voicemail: call {}: no free RTP port", request.key);
        503u16
    })?;
    if let Err(e) = crate::net::stamp_arrivals(&lease.socket) {
        // Without the kernel's stamps a datagram counts as arrived when it is read.
        tracing::debug!("voicemail: call {}: SO_TIMESTAMPNS: {e}", request.key);
    }
    if let Err(e) = crate::net::receive_buffer(&lease.socket, RECEIVE_BUFFER) {
        tracing::debug!("voicemail: call {}: SO_RCVBUF: {e}", request.key);
    }
    let local = SocketAddr::new(request.local_ip, lease.port);
    let answer = match sdp::answer(&offer, local, rand::random::<u32>().into()) {
        Ok(answer) => answer,
        Err(e) => {
            tracing::info!("voicemail: call {}: no media in common: {e}", request.key);
            return Err(488);
        }
    };
    let params = SessionParams {
        codec: answer.codec,
        payload_type: answer.payload_type,
        dtmf: answer.dtmf,
        remote: answer.remote,
        ssrc: rand::random(),
    };
    let session = Session::new(params, now()).with_window(JITTER_WINDOW);
    Ok((Media { lease, session }, answer.sdp))
}

/// What a message's recording keeps in memory: the most the deposit core cuts off its end,
/// which is the silence that ended it (less 200 ms) or the part of a frame that ran over the
/// maximum length; a frame more for good measure.
fn hold_back(config: &crate::config::VoicemailConfig) -> usize {
    let silence = super::recording::samples_of(Limits::message(config).max_silence);
    usize::try_from(silence).unwrap_or(usize::MAX) + 2 * crate::rtp::FRAME
}

/// The core for `app`: leave a message, or listen.
async fn start_core(
    shared: &Shared,
    app: &App,
    owner: &Owner,
) -> Result<Core, super::mailbox::MailboxError> {
    Ok(match app {
        App::Voicemail { reason, .. } => {
            let kind = match reason {
                VoicemailReason::Busy => GreetingKind::Busy,
                VoicemailReason::Unavailable => GreetingKind::Unavailable,
            };
            let own = shared.mailboxes.greeting_path(owner.id, kind).is_some();
            let limits = Limits::message(&shared.config);
            Core::Leave(Deposit::new(Greeting { kind, own }, limits, now()))
        }
        App::Mailbox { .. } => {
            let messages = shared.mailboxes.messages(owner.id).await?;
            let refs = (messages.iter())
                .map(|m| MessageRef {
                    id: m.id.0,
                    heard: m.heard,
                })
                .collect();
            let limits = MenuLimits::new(&shared.config);
            Core::Listen(MailboxMenu::new(refs, limits, now()))
        }
        // The fax service answers those; a box has nothing for it.
        App::Fax { .. } => return Err(super::mailbox::MailboxError::NotFound("mailbox")),
    })
}

impl Call {
    async fn run(&mut self, mut signals: mpsc::UnboundedReceiver<LocalSignal>) {
        let mut buf = vec![0u8; 2048];
        loop {
            self.settle().await;
            if self.hung_up || self.core.is_done() {
                return;
            }
            let deadline = [self.core.poll_timeout(), self.media.session.poll_timeout()]
                .into_iter()
                .flatten()
                .fold(self.next_read(now()), Instant::min);
            // Whatever woke the task, the datagrams waiting go in before any time is acted
            // on, each at the time the kernel took it in (`crate::net::recv_arrival`): a
            // packet is never late because it was read late.
            tokio::select! {
                biased;
                signal = signals.recv() => {
                    self.receive_waiting(&mut buf);
                    match signal {
                        Some(LocalSignal::Dtmf(digit)) => self.key(digit).await,
                        Some(LocalSignal::Ended) | None => self.caller_left().await,
                        // Voicemail does not read re-offers: the endpoint answers them itself.
                        Some(LocalSignal::Offer(_) | LocalSignal::Answered(_)) => {}
                    }
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    let t = now();
                    self.receive_waiting(&mut buf);
                    self.timeouts(t).await;
                }
            }
        }
    }

    /// The next read after `t`, on the grid every call shares ([`READ_EVERY`] from the
    /// service's start).
    fn next_read(&self, t: Instant) -> Instant {
        let every = READ_EVERY.as_micros();
        let reads = t.saturating_duration_since(self.shared.epoch).as_micros() / every + 1;
        let after = u64::try_from(reads * every).unwrap_or(u64::MAX);
        self.shared.epoch + Duration::from_micros(after)
    }

    /// Reads the datagrams waiting in the socket (a bounded number: a flood cannot hold the
    /// task here; what it leaves waits for the next read, or the kernel drops it).
    fn receive_waiting(&mut self, buf: &mut [u8]) {
        for _ in 0..MAX_WAITING {
            let Ok(got) = crate::net::try_recv_arrival_std(&self.media.lease.socket, buf) else {
                return;
            };
            self.datagram(buf, got, now());
        }
    }

    /// One datagram, read at `now`, into the session at its arrival time.
    fn datagram(&mut self, buf: &[u8], got: crate::net::Arrived, now: crate::clock::Instant) {
        self.waited = self.waited.max(got.waited);
        let data = buf.get(..got.len).unwrap_or_default();
        self.media
            .session
            .handle_datagram(got.from, data, got.at(now));
    }

    /// Time moves on to `t` for the session and, when its deadline has come, the core (after
    /// the audio up to `t`: a recording that reaches its maximum length has all of it).
    async fn timeouts(&mut self, t: crate::clock::Instant) {
        self.media.session.handle_timeout(t);
        let due = |core: &Core| core.poll_timeout().is_some_and(|at| at <= t);
        if due(&self.core) {
            self.catch_up(t).await;
            if due(&self.core) {
                self.core.handle_timeout(t);
            }
        }
    }

    /// A key from the signalling (SIP INFO), after the audio said before it.
    async fn key(&mut self, digit: char) {
        let t = now();
        self.catch_up(t).await;
        self.core.handle_digit(digit, t);
    }

    /// The caller hung up: the audio up to now and what the jitter buffer holds are theirs
    /// too.
    async fn caller_left(&mut self) {
        if self.caller_gone {
            return;
        }
        self.caller_gone = true;
        let t = now();
        self.media.session.catch_up(t);
        self.media.session.flush();
        self.settle().await;
        self.core.handle_hangup(t);
    }

    /// The session's audio up to `t` into the core, without waiting out the window.
    async fn catch_up(&mut self, t: crate::clock::Instant) {
        self.media.session.catch_up(t);
        self.settle().await;
    }

    /// Acts on media and core until neither has anything more to say: one media event at a
    /// time, and what the core asks for after each before the next, so a frame after the one
    /// that ended a recording is not recorded.
    async fn settle(&mut self) {
        loop {
            self.send();
            if let Some(step) = self.core.poll_step() {
                self.act(step).await;
                continue;
            }
            match self.media.session.poll_event() {
                Some(event) => self.media_event(event),
                None => return,
            }
        }
    }

    /// Sends what the session has to send. The socket is non-blocking: a packet that does
    /// not fit its full send buffer is dropped, as a congested network would.
    fn send(&mut self) {
        while let Some(t) = self.media.session.poll_transmit() {
            if let Err(e) = self.media.lease.socket.send_to(&t.data, t.dest) {
                tracing::debug!("voicemail: call {}: sending RTP: {e}", self.key);
            }
        }
    }

    /// Feeds what the session heard into the core.
    fn media_event(&mut self, event: Event) {
        let t = now();
        match event {
            Event::Audio(frame) if frame.position < self.record_from => {}
            Event::Audio(frame) => {
                self.take(&frame.samples[..], frame.concealed);
                self.core.handle_audio(&frame.samples[..], t);
            }
            Event::Dtmf(digit) => self.core.handle_digit(digit, t),
            Event::PlayDone => self.core.handle_play_done(t),
        }
    }

    /// Keeps what is being recorded; `concealed` of the samples are silence for audio that
    /// did not arrive in time.
    fn take(&mut self, samples: &[i16], concealed: u16) {
        match &mut self.taking {
            Taking::Message(Some(rec)) => {
                if let Err(e) = rec.push(samples) {
                    tracing::warn!("voicemail: call {}: recording: {e}", self.key);
                    self.taking = Taking::Message(None);
                    return;
                }
                self.recorded += samples.len() as u64;
                self.recorded_concealed += u64::from(concealed);
            }
            Taking::Greeting(kept) => kept.extend_from_slice(samples),
            Taking::Message(None) | Taking::Nothing => {}
        }
    }

    async fn act(&mut self, step: Step) {
        let t = now();
        match step {
            Step::Play(sounds) => self.play(&sounds).await,
            Step::StopPlaying => self.media.session.stop_playing(),
            Step::StartRecording => self.start_recording(),
            Step::StopRecording { drop_tail_samples } => self.stop_recording(drop_tail_samples),
            Step::Deposit => {
                let stored = self.deposit().await;
                self.core.handle_stored(stored, t);
            }
            Step::Discard => {
                if let Taking::Message(Some(rec)) =
                    std::mem::replace(&mut self.taking, Taking::Nothing)
                {
                    rec.discard();
                }
                self.taking = Taking::Nothing;
            }
            Step::CheckPin(pin) => self.check_pin(pin.as_str()).await,
            Step::MarkHeard(id) => {
                let mailboxes = &self.shared.mailboxes;
                if let Err(e) = mailboxes
                    .mark_heard(self.owner.id, MessageId(id), true)
                    .await
                {
                    tracing::warn!("voicemail: marking message {id} heard: {e}");
                }
            }
            Step::Delete(id) => {
                if let Err(e) = self
                    .shared
                    .mailboxes
                    .delete(self.owner.id, MessageId(id))
                    .await
                {
                    tracing::warn!("voicemail: deleting message {id}: {e}");
                }
            }
            Step::SaveGreeting(kind) => {
                let saved = self.save_greeting(kind).await;
                self.core.handle_stored(saved, t);
            }
            Step::Hangup => self.hung_up = true,
        }
    }

    /// Queues `sounds` on the session; one that cannot be read is skipped (and logged), so
    /// the caller is never left in silence waiting for it.
    async fn play(&mut self, sounds: &[Sound]) {
        let mut samples = Vec::new();
        for sound in sounds {
            match self.render(sound).await {
                Ok(s) => samples.extend_from_slice(&s),
                Err(e) => tracing::warn!("voicemail: call {}: {sound:?}: {e}", self.key),
            }
        }
        self.media.session.play(&samples);
        if samples.is_empty() {
            // Nothing to send: the session reports PlayDone at once.
            self.media.session.play(&[0; 160]);
        }
    }

    async fn render(&self, sound: &Sound) -> Result<Vec<i16>, String> {
        let lang = &self.owner.language;
        if let Some(rendered) = self.shared.prompts.render(sound, lang) {
            return rendered.map_err(|e| e.to_string());
        }
        let path = match sound {
            Sound::Greeting(kind) => self.shared.mailboxes.greeting_path(self.owner.id, *kind),
            Sound::Message(id) => {
                let found = self
                    .shared
                    .mailboxes
                    .audio_path(self.owner.id, MessageId(*id));
                found.await.ok()
            }
            _ => None,
        };
        let path = path.ok_or("no such file")?;
        let bytes = tokio::fs::read(&path).await.map_err(|e| e.to_string())?;
        super::prompts::decode(&path, &bytes).map_err(|e| e.to_string())
    }

    fn start_recording(&mut self) {
        // The caller's audio from now on: what the window still holds from before the beep
        // stays out (whole frames: the frame under way now is the first).
        let at = self.media.session.position_at(now()).unwrap_or(0);
        self.record_from = at - at % crate::rtp::FRAME as u64;
        self.taking = match &self.core {
            Core::Leave(_) => match self.shared.mailboxes.start_recording() {
                Ok(mut rec) => {
                    rec.hold_back(hold_back(&self.shared.config));
                    tracing::info!(
                        "voicemail: call {} records for user {}",
                        self.key,
                        self.owner.id
                    );
                    Taking::Message(Some(rec))
                }
                Err(e) => {
                    tracing::warn!("voicemail: call {}: cannot record: {e}", self.key);
                    Taking::Message(None)
                }
            },
            Core::Listen(_) => Taking::Greeting(Vec::new()),
        };
    }

    fn stop_recording(&mut self, drop_tail: u64) {
        match &mut self.taking {
            Taking::Message(Some(rec)) => rec.drop_tail(drop_tail),
            Taking::Greeting(kept) => {
                let keep = (kept.len() as u64).saturating_sub(drop_tail);
                kept.truncate(usize::try_from(keep).unwrap_or(0));
            }
            Taking::Message(None) | Taking::Nothing => {}
        }
    }

    /// Stores the message: on disk, in the box, its mail queued — or an error.
    async fn deposit(&mut self) -> Result<(), ()> {
        let Taking::Message(Some(rec)) = std::mem::replace(&mut self.taking, Taking::Nothing)
        else {
            return Err(());
        };
        let reason = match &self.request.app {
            App::Voicemail {
                reason: VoicemailReason::Busy,
                ..
            } => Reason::Busy,
            _ => Reason::Unavailable,
        };
        let caller = self.request.caller.clone();
        let message = NewMessage {
            user: self.owner.id,
            caller_number: caller
                .as_ref()
                .map(|c| c.number.clone())
                .unwrap_or_default(),
            caller_name: caller.map(|c| c.name).unwrap_or_default(),
            reason,
            received_at: UnixTime::now(),
        };
        match self.shared.mailboxes.deposit(rec, message).await {
            Ok(id) => {
                tracing::info!("voicemail: message {} for user {}", id.0, self.owner.id);
                Ok(())
            }
            Err(e) => {
                tracing::error!("voicemail: call {}: storing the message: {e}", self.key);
                Err(())
            }
        }
    }

    async fn save_greeting(&mut self, kind: GreetingKind) -> Result<(), ()> {
        let Taking::Greeting(samples) = std::mem::replace(&mut self.taking, Taking::Nothing) else {
            return Err(());
        };
        let mailboxes = &self.shared.mailboxes;
        mailboxes
            .put_greeting(self.owner.id, kind, samples)
            .await
            .map_err(|e| tracing::warn!("voicemail: saving a greeting: {e}"))
    }

    /// Checks the owner's PIN under the lockout (per mailbox and per phone).
    async fn check_pin(&mut self, pin: &str) {
        let subject = self.owner.extension.clone().unwrap_or_default();
        let attempt = self.shared.begin_attempt(&subject, self.device, now());
        let Some(attempt) = attempt else {
            tracing::warn!(
                "voicemail: mailbox {subject} locked (device {})",
                self.device
            );
            return self.core.handle_locked(now());
        };
        let right = self.shared.verify_pin(&subject, pin).await;
        self.shared.finish_attempt(attempt, right, now());
        if !right {
            tracing::info!(
                "voicemail: wrong PIN for mailbox {subject} from device {}",
                self.device
            );
        }
        self.core.handle_pin(right, now());
    }
}
