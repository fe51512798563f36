//! Calls zentrale answers itself (issue 14: voicemail; fax later): dispatch's voicemail action,
//! or the owner dialling their mailbox. The core asks the driver for the media
//! ([`EndpointEvent::Answer`] with the caller's SDP offer), answers with what comes back
//! ([`Endpoint::handle_local_answer`]: 200 with the SDP answer, or a refusal), resends the 2xx
//! until the ACK, and ends the call from either side: the caller's BYE (or CANCEL before the
//! answer) becomes [`EndpointEvent::LocalEnded`], the application's end [`Endpoint::hang_up`]
//! a BYE to the caller. DTMF sent as SIP INFO (`application/dtmf-relay`, `application/dtmf`)
//! becomes [`EndpointEvent::LocalDtmf`]. Re-INVITEs (either side's, for an application that
//! changes its media, such as fax moving to T.38) are in `local_reinvite.rs`; an application
//! that does not read offers gets the same SDP answer again (the media stays as it is, RFC 3264
//! §8: an unchanged description keeps its version).

use std::net::IpAddr;
use std::time::Duration;

use bytes::Bytes;

use super::calls::CallerId;
use super::dialog::Dialog;
use super::local_reinvite::Reinvite;
use super::{Endpoint, EndpointEvent, Peer};
use crate::clock::Instant;
use crate::dispatch::VoicemailReason;
use crate::registrar::register::reply;
use crate::sip::transaction::TransactionId;
use crate::sip::{HeaderName, Method, Request, Response};
use crate::store::CallOutcome;

/// What answers a call of ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum App {
    /// Leave a message in the box of user `mailbox` (a username).
    Voicemail {
        mailbox: String,
        reason: VoicemailReason,
    },
    /// The owner listens to their box: user `user` (a username), from device `device`.
    Mailbox { user: String, device: i64 },
    /// Receive a fax for user `user` (a username) on their virtual fax device.
    Fax { user: String },
}

impl App {
    /// Whether the application reads the caller's re-offers (fax moves to T.38); others get
    /// their first answer again.
    fn reads_offers(&self) -> bool {
        matches!(self, App::Fax { .. })
    }
}

/// A call the driver asked media for: waiting for it, or answered.
#[derive(Debug)]
pub enum Local {
    Pending { reoffers: bool },
    Answered(Box<Answered>),
}

/// Our answered leg with the caller.
#[derive(Debug)]
pub struct Answered {
    pub dialog: Dialog,
    pub peer: Peer,
    /// Our 2xx, sent again until the ACK (RFC 3261 §13.3.1.4) at `resend`; 64·T1 after it
    /// was first sent without an ACK the call ends (`give_up`).
    pub ok: Response,
    pub resend: Option<(Instant, Duration)>,
    pub give_up: Option<Instant>,
    /// The application reads re-offers ([`App::reads_offers`]).
    pub reoffers: bool,
    /// A re-INVITE under way, either side's (`local_reinvite.rs`).
    pub reinvite: Option<Reinvite>,
    /// Our ACK of the 2xx to our latest re-INVITE: its CSeq number and bytes.
    pub our_ack: Option<(u32, Bytes)>,
}

/// What the media side says to an [`EndpointEvent::Answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaAnswer {
    /// Answer with this SDP.
    Sdp(String),
    /// Refuse with this status (488: no codec in common; 503: no ports, the box unusable).
    Refuse(u16),
}

/// The request for media the core hands the driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerRequest {
    pub key: u64,
    pub app: App,
    /// The caller's SDP offer (may be empty: an offer in the ACK is not supported).
    pub offer: Bytes,
    pub caller: Option<CallerId>,
    /// The address the caller reached us at: where our media listens.
    pub local_ip: IpAddr,
}

impl Endpoint {
    /// Call `key` is answered by `app`: the driver is asked for media.
    pub(super) fn answer_locally(&mut self, key: u64, app: App) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.local.is_some() || call.connected.is_some() {
            return;
        }
        call.local = Some(Local::Pending {
            reoffers: app.reads_offers(),
        });
        let request = AnswerRequest {
            key,
            app,
            offer: call.invite.body.clone(),
            caller: call.caller.clone(),
            local_ip: call.peer.local.ip(),
        };
        self.events
            .push_back(EndpointEvent::Answer(Box::new(request)));
    }

    /// The media for call `key` is ready (or refused).
    pub fn handle_local_answer(&mut self, key: u64, answer: MediaAnswer, now: Instant) {
        let Some(Some(Local::Pending { reoffers })) = self.calls.get(&key).map(|c| &c.local) else {
            // The caller went away meanwhile: the driver heard LocalEnded.
            return;
        };
        let reoffers = *reoffers;
        let sdp = match answer {
            MediaAnswer::Sdp(sdp) => sdp,
            MediaAnswer::Refuse(status) => {
                if let Some(call) = self.calls.get_mut(&key) {
                    call.local = None;
                }
                return self.answer_caller(key, status, reason(status), now);
            }
        };
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let ok = self.local_ok(call, &sdp);
        let Some(dialog) = Dialog::uas(&call.invite, &call.tag) else {
            self.answer_caller(key, 400, "Missing Contact or From Tag", now);
            return;
        };
        let (server, peer) = (call.server.clone(), call.peer.clone());
        let _ = self.transactions.respond(&server, ok.clone(), now);
        let t = self.config.timers;
        let resend = (!peer.transport.is_reliable()).then_some((now + t.t1, t.t1));
        if let Some(call) = self.calls.get_mut(&key) {
            call.record.answered = Some(now);
            call.local = Some(Local::Answered(Box::new(Answered {
                dialog,
                peer,
                ok,
                resend,
                give_up: Some(now + t.t1 * 64),
                reoffers,
                reinvite: None,
                our_ack: None,
            })));
        }
    }

    /// Our 2xx to the caller of `call` with `sdp`.
    fn local_ok(&self, call: &super::calls::Call, sdp: &str) -> Response {
        let mut ok = Response::for_request(&call.invite, 200, "OK");
        ok.head.to.params.set("tag", Some(call.tag.clone()));
        ok.head.contact = Default::default();
        let _ = (ok.head.contact).add_line(&format!("<sip:zentrale@{}>", call.peer.local));
        ok.head.headers.push(HeaderName::ALLOW, super::ALLOW);
        ok.head
            .headers
            .push(HeaderName::CONTENT_TYPE, "application/sdp");
        ok.body = Bytes::from(sdp.to_owned());
        ok
    }

    /// The application is done with call `key`: a BYE to the caller (answered), else 480.
    pub fn hang_up(&mut self, key: u64, now: Instant) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if matches!(call.local, Some(Local::Answered(_))) {
            self.end_reinvite(key, now);
        }
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        match call.local.take() {
            Some(Local::Answered(mut a)) => {
                self.bye(&mut a.dialog, &a.peer, now);
                self.forget_call(key, now);
            }
            Some(Local::Pending { .. }) => {
                self.answer_caller(key, 480, "Temporarily Unavailable", now);
            }
            None => {}
        }
    }

    /// Whether call `key` is answered by us (a BYE or in-dialog request is ours to answer).
    fn local_call(&self, call_id: &str) -> Option<u64> {
        let key = *self.call_of_id.get(call_id)?;
        let call = self.calls.get(&key)?;
        matches!(call.local, Some(Local::Answered(_))).then_some(key)
    }

    /// Call `key` of a request from the caller of a call we answered, or the refusal (481
    /// outside its dialog, 500 for a CSeq out of order, §12.2.2); None when the call is not
    /// one of ours.
    fn admit_local(&mut self, request: &Request) -> Option<Result<u64, Response>> {
        let key = self.local_call(&request.head.call_id)?;
        let call = self.calls.get_mut(&key)?;
        let Some(Local::Answered(a)) = call.local.as_mut() else {
            return None;
        };
        if !a.dialog.is_from_remote(request) {
            return Some(Err(reply(request, 481, "Call/Transaction Does Not Exist")));
        }
        if !a.dialog.take_remote_seq(request.head.cseq.seq) {
            return Some(Err(reply(request, 500, "CSeq Out of Order")));
        }
        Some(Ok(key))
    }

    /// A re-INVITE from the caller of a call we answered: Some(None) while the application
    /// decides; None when the call is not one of ours.
    pub(super) fn local_invite(
        &mut self,
        id: &TransactionId,
        request: &Request,
        now: Instant,
    ) -> Option<Option<Response>> {
        Some(match self.admit_local(request)? {
            Ok(key) => self.caller_reinvite(key, id, request, now),
            Err(refusal) => Some(refusal),
        })
    }

    /// A BYE, UPDATE or INFO from the caller of a call we answered; None when the call is not
    /// one of ours.
    pub(super) fn local_request(&mut self, request: &Request, now: Instant) -> Option<Response> {
        let key = match self.admit_local(request)? {
            Ok(key) => key,
            Err(refusal) => return Some(refusal),
        };
        Some(match request.method {
            Method::Bye => {
                self.end_reinvite(key, now);
                // forget_call tells the driver (LocalEnded).
                self.forget_call(key, now);
                let mut ok = Response::for_request(request, 200, "OK");
                ok.head.contact = Default::default();
                ok
            }
            Method::Info => {
                if let Some(digit) = dtmf_of(request) {
                    self.events
                        .push_back(EndpointEvent::LocalDtmf { key, digit });
                }
                reply(request, 200, "OK")
            }
            _ => reply(request, 200, "OK"),
        })
    }

    /// The caller's ACK of our 2xx: no more retransmissions. True when it was for us.
    pub(super) fn local_ack(&mut self, ack: &Request) -> bool {
        let Some(key) = self.local_call(&ack.head.call_id) else {
            return false;
        };
        if let Some(Local::Answered(a)) = self.calls.get_mut(&key).and_then(|c| c.local.as_mut())
            && a.ok.head.cseq.seq == ack.head.cseq.seq
        {
            a.resend = None;
            a.give_up = None;
        }
        true
    }

    /// Our 2xx again to callers that have not ACKed it; calls whose ACK never came end.
    pub(super) fn resend_local(&mut self, now: Instant) {
        let t2 = self.config.timers.t2;
        let (mut again, mut lost) = (Vec::new(), Vec::new());
        for (key, call) in &mut self.calls {
            let Some(Local::Answered(a)) = call.local.as_mut() else {
                continue;
            };
            if a.give_up.is_some_and(|t| t <= now) {
                lost.push(*key);
                continue;
            }
            if let Some((at, interval)) = a.resend
                && at <= now
            {
                let next = (interval * 2).min(t2);
                a.resend = Some((now + next, next));
                again.push((call.server.clone(), a.ok.clone()));
            }
        }
        for (server, ok) in again {
            let _ = self.transactions.respond(&server, ok, now);
        }
        for key in lost {
            tracing::info!("sip: call {key} was answered by us but never ACKed: ending it");
            self.events.push_back(EndpointEvent::LocalEnded { key });
            self.hang_up(key, now);
        }
    }

    /// When an answered call of ours next needs [`Endpoint::resend_local`].
    pub(super) fn local_timeout(&self) -> impl Iterator<Item = Instant> + '_ {
        (self.calls.values())
            .filter_map(|c| match c.local.as_ref()? {
                Local::Answered(a) => Some([a.resend.map(|(at, _)| at), a.give_up]),
                Local::Pending { .. } => None,
            })
            .flatten()
            .flatten()
    }
}

/// The reason phrase of a refusal the media side chose.
pub(super) fn reason(status: u16) -> &'static str {
    match status {
        488 => "Not Acceptable Here",
        480 => "Temporarily Unavailable",
        _ => "Service Unavailable",
    }
}

/// The call record of a call answered by an application.
pub(super) fn record_outcome(reason: VoicemailReason, rang: bool) -> CallOutcome {
    match reason {
        VoicemailReason::Busy => CallOutcome::Busy,
        VoicemailReason::Unavailable if rang => CallOutcome::NoAnswer,
        VoicemailReason::Unavailable => CallOutcome::Unavailable,
    }
}

/// The digit of a SIP INFO DTMF: `Signal=5` in `application/dtmf-relay` (the format Cisco
/// introduced and phones send), or the bare digit of `application/dtmf`.
fn dtmf_of(request: &Request) -> Option<char> {
    let kind = request.head.headers.get(&HeaderName::CONTENT_TYPE)?;
    let kind = kind.split(';').next()?.trim().to_ascii_lowercase();
    let body = std::str::from_utf8(&request.body).ok()?;
    let value = match kind.as_str() {
        "application/dtmf-relay" => body.lines().find_map(|l| {
            let (name, value) = l.split_once('=')?;
            name.trim().eq_ignore_ascii_case("signal").then_some(value)
        })?,
        "application/dtmf" => body,
        _ => return None,
    };
    let mut chars = value.trim().chars();
    let digit = chars.next()?.to_ascii_uppercase();
    (chars.next().is_none() && "0123456789*#ABCD".contains(digit)).then_some(digit)
}

#[cfg(test)]
#[path = "local_tests.rs"]
pub(super) mod tests;
