//! The driver's half of calls zentrale answers itself: it hands each one to the [`Answerer`]
//! (the voicemail service, on the main runtime, so media never runs on the SIP thread) and
//! passes what happens both ways — the application's answer and hang-up into the endpoint,
//! the caller's hang-up and SIP INFO digits out to the application.

use std::sync::Arc;

use bytes::Bytes;
use tokio::sync::mpsc;

use super::Driver;
use crate::clock::now;
use crate::endpoint::local::{AnswerRequest, App, MediaAnswer};
use crate::store::StoreError;
use crate::store::routing::Dialled;

/// What runs the calls answered locally.
pub trait Answerer: Send + Sync + std::fmt::Debug {
    /// Takes over `call`; it must answer through `call.replies` (soon: the caller waits).
    fn start(&self, call: LocalCall);
}

/// The answerers by application: calls to a fax extension to `fax`, the rest (voicemail, the
/// mailbox) to `voicemail`.
#[derive(Debug)]
pub struct ByApp {
    pub voicemail: Arc<dyn Answerer>,
    pub fax: Arc<dyn Answerer>,
}

impl Answerer for ByApp {
    fn start(&self, call: LocalCall) {
        match call.request.app {
            App::Fax { .. } => self.fax.start(call),
            App::Voicemail { .. } | App::Mailbox { .. } => self.voicemail.start(call),
        }
    }
}

/// One call handed to the [`Answerer`].
#[derive(Debug)]
pub struct LocalCall {
    pub request: AnswerRequest,
    /// Where the application answers the call, and ends it (with the call's key).
    pub replies: mpsc::UnboundedSender<(u64, LocalReply)>,
    /// What the caller does meanwhile.
    pub signals: mpsc::UnboundedReceiver<LocalSignal>,
}

/// From the application to the SIP side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalReply {
    Answer(MediaAnswer),
    /// The answer to the caller's re-offer ([`LocalSignal::Offer`]).
    Reanswer(MediaAnswer),
    /// A re-INVITE of ours with this SDP offer; the outcome comes as [`LocalSignal::Answered`].
    Reoffer(String),
    HangUp,
}

/// From the SIP side to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalSignal {
    /// The caller hung up (or went away before the answer).
    Ended,
    /// A digit sent as SIP INFO.
    Dtmf(char),
    /// The caller re-INVITEs with this offer (only to applications that read offers): answer
    /// with [`LocalReply::Reanswer`].
    Offer(Bytes),
    /// The caller's answer to our [`LocalReply::Reoffer`], or its final status.
    Answered(Result<Bytes, u16>),
}

/// The driver's state for local calls.
#[derive(Debug)]
pub(super) struct Locals {
    answerer: Option<Arc<dyn Answerer>>,
    replies: mpsc::UnboundedSender<(u64, LocalReply)>,
    running: std::collections::HashMap<u64, mpsc::UnboundedSender<LocalSignal>>,
}

impl Locals {
    pub(super) fn new(
        answerer: Option<Arc<dyn Answerer>>,
    ) -> (Locals, mpsc::UnboundedReceiver<(u64, LocalReply)>) {
        let (replies, rx) = mpsc::unbounded_channel();
        let locals = Locals {
            answerer,
            replies,
            running: Default::default(),
        };
        (locals, rx)
    }
}

impl Driver {
    /// A call to answer locally: to the answerer, or 480 without one.
    pub(super) fn start_local(&mut self, request: AnswerRequest) {
        let key = request.key;
        let Some(answerer) = self.locals.answerer.clone() else {
            tracing::info!(
                "sip: call {key} is for {:?}, which is not running",
                request.app
            );
            let refused = MediaAnswer::Refuse(480);
            return self.endpoint.handle_local_answer(key, refused, now());
        };
        let (tx, signals) = mpsc::unbounded_channel();
        self.locals.running.insert(key, tx);
        answerer.start(LocalCall {
            request,
            replies: self.locals.replies.clone(),
            signals,
        });
    }

    /// What an application says about its call.
    pub(super) fn local_reply(&mut self, key: u64, reply: LocalReply) {
        match reply {
            LocalReply::Answer(answer) => self.endpoint.handle_local_answer(key, answer, now()),
            LocalReply::Reanswer(answer) => {
                self.endpoint.handle_local_reanswer(key, answer, now());
            }
            LocalReply::Reoffer(sdp) => self.endpoint.reoffer_locally(key, &sdp, now()),
            LocalReply::HangUp => {
                self.locals.running.remove(&key);
                self.endpoint.hang_up(key, now());
            }
        }
    }

    /// The fax device whose extension `number` is: the application that answers a call to it.
    pub(super) async fn fax_at(&self, number: &str) -> Result<Option<App>, StoreError> {
        Ok(match self.store.dialled(number).await? {
            Dialled::Fax(user) => Some(App::Fax { user }),
            _ => None,
        })
    }

    /// What the caller of a local call did.
    pub(super) fn local_signal(&mut self, key: u64, signal: LocalSignal) {
        let Some(tx) = self.locals.running.get(&key) else {
            return;
        };
        let ended = signal == LocalSignal::Ended;
        let _ = tx.send(signal);
        if ended {
            self.locals.running.remove(&key);
        }
    }
}
