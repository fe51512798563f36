//! Calls through the endpoint (issue 12), as a B2BUA: an INVITE from one of our devices is
//! Digest-authenticated, the driver resolves where it goes ([`EndpointEvent::Invite`] →
//! [`Endpoint::handle_route`]), and the dispatch core decides which device rings when. Each
//! rung contact gets an INVITE of ours carrying the caller's SDP; the first 2xx is ACKed and
//! its SDP answers the caller, every other leg is cancelled (RFC 3326 Reason). BYE and CANCEL
//! are passed across.

use super::calls::{self, Attempt, Call, Connected, Outbound, Route};
use super::dialog::Dialog;
use super::local::{self, App};
use super::{Endpoint, EndpointEvent, Peer};
use crate::clock::{Instant, UnixTime};
use crate::dispatch::{self, Event, LegId, Refusal, Rejection, StopReason};
use crate::registrar::register::reply;
use crate::sip::transaction::{TransactionEvent, TransactionId};
use crate::sip::{HeaderName, Method, Request, Response};
use crate::store::{ActionKind, CallOutcome};

/// RFC 3326 reasons on our CANCELs.
const ANSWERED_ELSEWHERE: &str = "SIP;cause=200;text=\"Call completed elsewhere\"";
const NO_ANSWER: &str = "SIP;cause=487;text=\"Request Terminated\"";

impl Endpoint {
    /// A new INVITE: authenticated, then the driver is asked where it goes.
    pub(super) fn invite(
        &mut self,
        id: &TransactionId,
        request: &Request,
        peer: &Peer,
        now: Instant,
        wall: UnixTime,
    ) -> Option<Response> {
        if request.head.to.tag().is_some() {
            // A re-INVITE (hold, resume): passed to the other side (relay.rs), or answered
            // by us in a call we answered (local_reinvite.rs).
            if let Some(answer) = self.local_invite(id, request, now) {
                return answer;
            }
            return self.in_dialog(id, request, now);
        }
        if let Some(trunk) = self.trunks.by_source(peer.addr.ip()) {
            return self.invite_from_trunk(id, request, peer, trunk, now);
        }
        let device = match self.authenticate_device(request, peer, wall) {
            Ok(device) => device,
            Err(refusal) => return Some(*refusal),
        };
        let Some(dialled) = super::addressed_user(request) else {
            return Some(reply(request, 404, "Not Found"));
        };
        let key = match self.new_call(id, request, peer, (Some(device), &dialled), now) {
            Ok(key) => key,
            Err(refusal) => return Some(*refusal),
        };
        self.events.push_back(EndpointEvent::Invite {
            key,
            device,
            dialled,
        });
        None
    }

    /// A call for the caller's INVITE `id` (100 Trying sent); 503 when there are too many.
    pub(super) fn new_call(
        &mut self,
        id: &TransactionId,
        request: &Request,
        peer: &Peer,
        (from_device, dialled): (Option<i64>, &str),
        now: Instant,
    ) -> Result<u64, Box<Response>> {
        if self.calls.len() >= self.config.registrar.max_bindings {
            let mut busy = reply(request, 503, "Service Unavailable");
            busy.head.headers.push(HeaderName::RETRY_AFTER, "5");
            return Err(Box::new(busy));
        }
        let trying = Response::for_request(request, 100, "Trying");
        let _ = self.transactions.respond(id, trying, now);
        self.next_call += 1;
        let key = self.next_call;
        let tag = self.unique();
        self.call_of_tx.insert(id.clone(), key);
        self.call_of_id.insert(request.head.call_id.clone(), key);
        self.calls.insert(
            key,
            Call {
                invite: request.clone(),
                server: id.clone(),
                peer: peer.clone(),
                tag,
                from_device,
                caller: None,
                dispatch: None,
                attempts: Default::default(),
                ringing: false,
                connected: None,
                local: None,
                record: calls::Record {
                    started: now,
                    answered: None,
                    answered_by: None,
                    dialled: dialled.to_owned(),
                    class: crate::store::CallClass::Internal,
                    outcome: None,
                    after_action: None,
                },
            },
        );
        Ok(key)
    }

    /// Where call `key` goes, as the driver found it.
    pub fn handle_route(&mut self, key: u64, route: Route, now: Instant) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        match route {
            Route::Refuse(status, reason) => self.answer_caller(key, status, reason, now),
            Route::Local(app) => self.answer_locally(key, app),
            Route::Trunk {
                trunk,
                number,
                caller,
            } => {
                call.record.class = crate::store::CallClass::External;
                call.caller = Some(caller);
                self.dial_out(key, trunk, &number, now);
            }
            Route::Dispatch {
                request,
                view,
                caller,
            } => {
                call.record.class = match (&request.target, request.class) {
                    (dispatch::Destination::Team(_), _) | (_, dispatch::CallClass::Team) => {
                        crate::store::CallClass::Team
                    }
                    (_, dispatch::CallClass::External) => crate::store::CallClass::External,
                    (_, dispatch::CallClass::Internal) => crate::store::CallClass::Internal,
                };
                match dispatch::Call::new(request, view, self.dispatch, now) {
                    Ok(d) => {
                        call.dispatch = Some(d);
                        call.caller = Some(caller);
                        self.drive(key, now);
                    }
                    Err(e) => {
                        tracing::warn!("sip: dispatching call {key}: {e}");
                        self.answer_caller(key, 500, "Server Internal Error", now);
                    }
                }
            }
        }
        self.pump(now);
        self.update_lines(now);
    }

    /// Acts on what call `key`'s dispatch core says, until it says nothing more.
    pub(super) fn drive(&mut self, key: u64, now: Instant) {
        loop {
            let event = self
                .calls
                .get_mut(&key)
                .and_then(|c| c.dispatch.as_mut())
                .and_then(|d| d.poll_event());
            let Some(event) = event else {
                return;
            };
            tracing::debug!("sip: call {key}: {event:?}");
            match event {
                Event::Ring { leg, device, via } => self.ring(key, leg, device, via, now),
                Event::Stop { leg, reason, .. } => self.stop(key, leg, reason, now),
                Event::Connect { .. } | Event::Forwarded { .. } => {}
                Event::Run(action) => self.run(key, action, now),
                Event::Reject(Rejection::Busy) => self.answer_caller(key, 486, "Busy Here", now),
                Event::Reject(Rejection::Unavailable) => {
                    self.answer_caller(key, 480, "Temporarily Unavailable", now);
                }
                Event::Finished => self.dispatch_finished(key, now),
            }
        }
    }

    /// Dispatch's action for call `key`: a number is dialled through a trunk, voicemail
    /// answers locally; announcements answer later, 480 until they exist.
    fn run(&mut self, key: u64, action: dispatch::Action, now: Instant) {
        let kind = match &action {
            dispatch::Action::ForwardNumber { .. } => ActionKind::ForwardNumber,
            dispatch::Action::Voicemail { .. } => ActionKind::Voicemail,
            dispatch::Action::Announcement { .. } => ActionKind::Announcement,
        };
        if let Some(call) = self.calls.get_mut(&key) {
            call.record.after_action = Some(kind);
        }
        match action {
            dispatch::Action::ForwardNumber { number } => self.forward_out(key, &number, now),
            dispatch::Action::Voicemail { mailbox, reason } => {
                if let Some(call) = self.calls.get_mut(&key) {
                    let rang = !call.attempts.is_empty();
                    call.record.outcome = Some(local::record_outcome(reason, rang));
                }
                self.answer_locally(key, App::Voicemail { mailbox, reason });
            }
            other => {
                tracing::info!("sip: call {key} would run {other:?}; 480 until it exists");
                self.answer_caller(key, 480, "Temporarily Unavailable", now);
            }
        }
    }

    /// Dispatch is done: the call is over unless a trunk leg carries it on.
    fn dispatch_finished(&mut self, key: u64, now: Instant) {
        if let Some(call) = self.calls.get_mut(&key)
            && call.connected.is_none()
            && ((call.attempts.values()).any(|a| a.leg == calls::OUTSIDE && a.done.is_none())
                || call.local.is_some())
        {
            call.dispatch = None;
            return;
        }
        self.finish_unanswered(key, now);
    }

    /// INVITEs to every registered contact of `device` for `leg`.
    fn ring(&mut self, key: u64, leg: LegId, device: i64, via: dispatch::Via, now: Instant) {
        let bindings = match via {
            dispatch::Via::Contacts => self.registrar.bindings(device).to_vec(),
            dispatch::Via::Trunk { number } => {
                return self.ring_mobile(key, leg, device, &number, now);
            }
        };
        let mut sent = 0;
        for b in &bindings {
            let Some(peer) = self.binding_peer(b) else {
                continue;
            };
            let Some(contact) = crate::sip::NameAddr::parse(&b.contact, "Contact").ok() else {
                continue;
            };
            let (unique, local) = (self.unique(), peer.local.to_string());
            let Some(call) = self.calls.get(&key) else {
                return;
            };
            let Some(caller) = call.caller.as_ref() else {
                return;
            };
            let outbound = Outbound {
                target: &contact.uri.to_string(),
                transport: peer.transport.as_str(),
                local: &local,
                domain: &self.config.domain,
                unique: &unique,
                caller,
                sdp: &call.invite.body,
            };
            let Some(request) = calls::invite(&outbound) else {
                continue;
            };
            let reliable = peer.transport.is_reliable();
            match (self.transactions).send_request(request.clone(), peer.clone(), reliable, now) {
                Ok(id) => {
                    self.call_of_tx.insert(id.clone(), key);
                    let attempt = Attempt {
                        leg,
                        device,
                        trunk: None,
                        challenged: false,
                        request,
                        peer,
                        done: None,
                        reliable: Default::default(),
                    };
                    if let Some(call) = self.calls.get_mut(&key) {
                        call.attempts.insert(id, attempt);
                    }
                    sent += 1;
                }
                Err(e) => tracing::debug!("sip: ringing device {device}: {e}"),
            }
        }
        tracing::debug!("sip: call {key} rings device {device} at {sent} contacts");
        if sent == 0
            && let Some(d) = self.calls.get_mut(&key).and_then(|c| c.dispatch.as_mut())
        {
            d.handle_refused(leg, Refusal::Gone, now);
        }
    }

    /// CANCELs the contacts of `leg` that have not answered.
    fn stop(&mut self, key: u64, leg: LegId, reason: StopReason, now: Instant) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let text = match reason {
            StopReason::AnsweredElsewhere => ANSWERED_ELSEWHERE,
            _ => NO_ANSWER,
        };
        let mut cancels = Vec::new();
        for a in call.attempts.values_mut() {
            if a.leg == leg && a.done.is_none() {
                a.done = Some(487);
                cancels.push((calls::cancel(&a.request, text), a.peer.clone()));
            }
        }
        for (cancel, peer) in cancels {
            let reliable = peer.transport.is_reliable();
            if let Err(e) = self.transactions.send_request(cancel, peer, reliable, now) {
                tracing::debug!("sip: cancelling a leg of call {key}: {e}");
            }
        }
    }

    /// A final answer to the caller (once; after an answer there is none).
    pub(super) fn answer_caller(&mut self, key: u64, status: u16, reason: &str, now: Instant) {
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        if call.is_answered() {
            return;
        }
        let response = self.to_caller(call, status, reason);
        let rang = !call.attempts.is_empty();
        let _ = self
            .transactions
            .respond(&call.server.clone(), response, now);
        if status >= 300 {
            if let Some(call) = self.calls.get_mut(&key) {
                call.record.outcome.get_or_insert(outcome(status, rang));
            }
            self.finish_unanswered(key, now);
        }
    }

    /// A response to the caller's INVITE, with our To tag.
    fn to_caller(&self, call: &Call, status: u16, reason: &str) -> Response {
        let mut r = Response::for_request(&call.invite, status, reason);
        r.head.to.params.set("tag", Some(call.tag.clone()));
        r
    }

    /// Forgets call `key` unless it is connected (then BYE ends it).
    fn finish_unanswered(&mut self, key: u64, now: Instant) {
        if self.calls.get(&key).is_some_and(|c| !c.is_answered()) {
            self.forget_call(key, now);
        }
    }

    /// Forgets call `key`; its record goes to the driver.
    pub(super) fn forget_call(&mut self, key: u64, now: Instant) {
        self.call_of_tx.retain(|_, k| *k != key);
        self.call_of_id.retain(|_, k| *k != key);
        if let Some(call) = self.calls.remove(&key) {
            if call.local.is_some() {
                self.events.push_back(EndpointEvent::LocalEnded { key });
            }
            let mut record = call.record;
            record.outcome.get_or_insert(CallOutcome::Failed);
            let ended = calls::Ended {
                record,
                caller: call.caller,
                ended: now,
            };
            self.events
                .push_back(EndpointEvent::CallEnded(Box::new(ended)));
        }
    }

    /// Routes the transaction layer's events to the calls they belong to.
    pub(super) fn pump(&mut self, now: Instant) {
        while let Some((id, event)) = self.transactions.poll_event() {
            if self.trunk_of_tx.contains_key(&id) {
                self.trunk_response(&id, event, now);
                continue;
            }
            let Some(&key) = self.call_of_tx.get(&id) else {
                continue;
            };
            if self.is_relayed(key, &id) {
                self.relayed_event(key, &id, event, now);
                continue;
            }
            if self.is_local_reinvite(key, &id) {
                self.local_reinvite_event(key, &id, event, now);
                continue;
            }
            match event {
                TransactionEvent::Response(r) => self.leg_response(key, &id, *r, now),
                TransactionEvent::Timeout | TransactionEvent::TransportError => {
                    self.leg_failed(key, &id, 408, now);
                }
            }
            self.drive(key, now);
        }
    }

    fn leg_response(&mut self, key: u64, id: &TransactionId, r: Response, now: Instant) {
        if r.head.cseq.method != Method::Invite {
            return;
        }
        match r.status {
            100 => {}
            101..=199 => {
                self.prack(key, id, &r, now);
                self.ringing(key, &r, now);
            }
            200..=299 => {
                // After reliable provisionals (prack.rs): their SDP, and CSeqs past the PRACKs.
                let r = self.with_early_answer(key, id, r);
                self.answered(key, id, r, now);
                self.after_prack(key, id);
            }
            401 | 407 if self.answer_trunk_challenge(key, id, &r, now) => {}
            status => self.leg_failed(key, id, status, now),
        }
    }

    /// The caller hears ringing once any contact rings; a call out through a trunk also
    /// hears the provider's early media (a 183 with SDP: ring-back, announcements).
    fn ringing(&mut self, key: u64, r: &Response, now: Instant) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.connected.is_some() {
            return;
        }
        let early_media = call.dispatch.is_none() && !r.body.is_empty();
        if call.ringing && !early_media {
            return;
        }
        call.ringing = true;
        let (status, reason) = match early_media {
            true => (183, "Session Progress"),
            false => (180, "Ringing"),
        };
        if let Some((server, mut response)) = self.to_caller_status(key, status, reason) {
            if early_media {
                response.body = r.body.clone();
                (response.head.headers).push(HeaderName::CONTENT_TYPE, "application/sdp");
            }
            let _ = self.transactions.respond(&server, response, now);
        }
    }

    fn to_caller_status(
        &self,
        key: u64,
        status: u16,
        reason: &str,
    ) -> Option<(TransactionId, Response)> {
        let call = self.calls.get(&key)?;
        Some((call.server.clone(), self.to_caller(call, status, reason)))
    }

    /// A contact answered: the first wins the call, any later one is hung up.
    fn answered(&mut self, key: u64, id: &TransactionId, r: Response, now: Instant) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(attempt) = call.attempts.get_mut(id) else {
            return;
        };
        attempt.done = Some(r.status);
        let (leg, invite, peer) = (attempt.leg, attempt.request.clone(), attempt.peer.clone());
        let (device, trunk) = (attempt.device, attempt.trunk);
        let Some(mut callee) = Dialog::uac(&invite, &r) else {
            return;
        };
        // Without dispatch (a number dialled out, or dispatch handed the call to a trunk leg)
        // the one leg there is wins.
        let won = call.connected.is_none()
            && (call.dispatch.as_mut()).is_none_or(|d| d.handle_answered(leg, now));
        let ack = self.ack(&callee, &invite, &peer);
        if !won {
            self.bye(&mut callee, &peer, now);
            return;
        }
        let Some(call) = self.calls.get(&key) else {
            return;
        };
        let mut ok = self.to_caller(call, 200, "OK");
        ok.body = r.body.clone();
        if !r.body.is_empty() {
            ok.head
                .headers
                .push(HeaderName::CONTENT_TYPE, "application/sdp");
        }
        ok.head.contact = Default::default();
        let _ = ok
            .head
            .contact
            .add_line(&format!("<sip:zentrale@{}>", call.peer.local));
        let (server, caller_peer) = (call.server.clone(), call.peer.clone());
        let caller_dialog = Dialog::uas(&call.invite, &call.tag);
        let _ = self.transactions.respond(&server, ok.clone(), now);
        let t = self.config.timers;
        let resend = (!caller_peer.transport.is_reliable()).then_some((now + t.t1, t.t1));
        // The other contacts of the device that answered stop ringing too.
        self.stop(key, leg, StopReason::AnsweredElsewhere, now);
        let Some(caller) = caller_dialog else {
            return;
        };
        self.call_of_id.insert(callee.call_id.clone(), key);
        if let Some(call) = self.calls.get_mut(&key) {
            call.record.answered = Some(now);
            call.record.answered_by = (device != calls::NO_DEVICE).then_some(device);
            call.record.outcome = Some(CallOutcome::Answered);
            call.connected = Some(Connected {
                caller,
                caller_peer,
                callee,
                callee_peer: peer,
                ack,
                ok,
                resend,
                give_up: Some(now + t.t1 * 64),
                relays: Default::default(),
                trunk,
            });
        }
    }

    /// Dispatch timers (waits, ring times) due at `now`.
    pub(super) fn call_timeouts(&mut self, now: Instant) {
        self.resend_answers(now);
        self.resend_local(now);
        let due: Vec<u64> = (self.calls.iter())
            .filter(|(_, c)| {
                let t = c.dispatch.as_ref().and_then(|d| d.poll_timeout());
                t.is_some_and(|t| t <= now)
            })
            .map(|(k, _)| *k)
            .collect();
        for key in due {
            if let Some(d) = self.calls.get_mut(&key).and_then(|c| c.dispatch.as_mut()) {
                d.handle_timeout(now);
            }
            self.drive(key, now);
        }
    }

    /// When the next dispatch timer of any call is due.
    pub(super) fn calls_timeout(&self) -> Option<Instant> {
        let dispatch = (self.calls.values()).filter_map(|c| c.dispatch.as_ref()?.poll_timeout());
        let answers = (self.calls.values())
            .filter_map(|c| c.connected.as_ref())
            .flat_map(|c| {
                [c.resend.map(|(at, _)| at), c.give_up]
                    .into_iter()
                    .flatten()
            });
        dispatch.chain(answers).chain(self.local_timeout()).min()
    }

    /// A contact failed; when all contacts of its leg have, dispatch hears why.
    fn leg_failed(&mut self, key: u64, id: &TransactionId, status: u16, now: Instant) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(attempt) = call.attempts.get_mut(id) else {
            return;
        };
        if attempt.done.is_some_and(|s| s == 487) && status == 487 {
            return;
        }
        attempt.done = Some(status);
        let leg = attempt.leg;
        let statuses: Vec<Option<u16>> = (call.attempts.values())
            .filter(|a| a.leg == leg)
            .map(|a| a.done)
            .collect();
        if statuses.iter().any(Option::is_none) {
            return;
        }
        if call.dispatch.is_none() {
            let (status, reason) = relayed(status);
            return self.answer_caller(key, status, reason, now);
        }
        let refusal = match statuses.iter().flatten().copied().collect::<Vec<u16>>() {
            s if s.iter().any(|c| matches!(c, 486 | 600)) => Refusal::Busy,
            s if s.contains(&603) => Refusal::Rejected,
            _ => Refusal::Gone,
        };
        if let Some(d) = call.dispatch.as_mut() {
            d.handle_refused(leg, refusal, now);
        }
    }

    /// The caller cancelled (§9.2): 487 to its INVITE, every leg stopped.
    pub(super) fn caller_cancelled(&mut self, invite: &TransactionId, now: Instant) {
        let Some(&key) = self.call_of_tx.get(invite) else {
            return;
        };
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        if call.is_answered() {
            return;
        }
        // Answered first: dispatch's own end (Finished) forgets the call.
        call.record.outcome = Some(CallOutcome::Cancelled);
        let response = self.to_caller_status(key, 487, "Request Terminated");
        if let Some((server, response)) = response {
            let _ = self.transactions.respond(&server, response, now);
        }
        match self.calls.get_mut(&key).and_then(|c| c.dispatch.as_mut()) {
            Some(d) => d.handle_caller_gone(now),
            None => self.stop(key, calls::OUTSIDE, StopReason::CallerGone, now),
        }
        self.drive(key, now);
        self.finish_unanswered(key, now);
    }
}

/// What the caller hears when the one leg of a call out through a trunk fails: the
/// provider's answer where it concerns the number, 503 where it concerns us (our credentials,
/// the provider's own trouble).
fn relayed(status: u16) -> (u16, &'static str) {
    match status {
        404 => (404, "Not Found"),
        484 => (484, "Address Incomplete"),
        486 => (486, "Busy Here"),
        600 => (600, "Busy Everywhere"),
        603 => (603, "Decline"),
        401 | 403 | 407 | 500..=599 => (503, "Service Unavailable"),
        _ => (480, "Temporarily Unavailable"),
    }
}

/// The record's outcome for a final `status` to the caller (`rang`: some phone was tried).
fn outcome(status: u16, rang: bool) -> CallOutcome {
    match status {
        486 | 600 => CallOutcome::Busy,
        480 if rang => CallOutcome::NoAnswer,
        480 => CallOutcome::Unavailable,
        487 => CallOutcome::Cancelled,
        400..=499 => CallOutcome::Rejected,
        _ => CallOutcome::Failed,
    }
}

#[cfg(test)]
#[path = "invite_tests.rs"]
pub(super) mod tests;
