//! Requests within an answered call passed from one dialog to the other (issue 12): re-INVITE
//! (hold and resume are SDP with `a=sendonly`/`inactive`/`sendrecv`, RFC 3264 §8.4 — passed
//! through, never read), UPDATE (RFC 3311) and INFO (RFC 6086, e.g. DTMF).
//!
//! The received request's server transaction stays open while ours runs in the other dialog
//! (with our own CSeq, §12.2.1.1); our request's final response is answered back with the
//! other side's body, a timeout as 408, and a CANCEL of the received re-INVITE cancels ours.
//! The ACKs around a re-INVITE are in `relay_ack.rs`. A request must match a dialog (Call-ID
//! and both tags, else 481) and carry a higher CSeq than the last from that side (§12.2.2,
//! else 500). One INVITE at a time per call: another gets 491, or 500 when it comes from the
//! side whose INVITE is still open (§14.2). Only confirmed dialogs: before the answer a
//! request here gets 500 with Retry-After (RFC 3311 §5.2: the INVITE's offer is unanswered).
//! In-dialog requests are not Digest-challenged (the dialog's tags are ours and random).

use bytes::Bytes;

use super::calls::Connected;
use super::dialog::{Dialog, Leaving};
use super::{Endpoint, Peer};
use crate::clock::Instant;
use crate::registrar::register::reply;
use crate::sip::transaction::{TransactionEvent, TransactionId};
use crate::sip::{Capabilities, HeaderName, Method, Request, Response};

/// What INFO may carry besides SDP: DTMF (`application/dtmf-relay`, `application/dtmf`).
pub(super) const INFO_CAPABILITIES: Capabilities<'static> = Capabilities {
    extensions: &[],
    body_types: &[
        "application/sdp",
        "multipart/mixed",
        "application/dtmf-relay",
        "application/dtmf",
    ],
};

/// Header fields passed with a relayed request besides its body.
const PASSED: [&str; 2] = ["Content-Disposition", "Info-Package"];

/// How many ACKs of ours (to 2xx of our re-INVITEs) a call keeps for retransmitted 2xx.
const ACKS_KEPT: usize = 4;

/// The relays of one call.
#[derive(Debug, Default)]
pub struct Relays {
    pending: Vec<Relayed>,
    answers: Vec<ack::Unacked>,
    /// Our ACKs to 2xx of our re-INVITEs: Call-ID, CSeq, bytes.
    acks: Vec<(String, u32, Bytes)>,
    /// The CSeq of our first re-INVITE in each dialog (by Call-ID): a 2xx below it answers
    /// the INVITE that set up the call.
    first_reinvite: Vec<(String, u32)>,
}

/// A request being relayed.
#[derive(Debug)]
struct Relayed {
    /// Ours in the other dialog.
    client: TransactionId,
    /// The one we received, and its server transaction.
    server: TransactionId,
    request: Request,
    from_caller: bool,
    /// Ours, and where it went (for a CANCEL of it).
    ours: Request,
    to: Peer,
    /// Our request's CSeq number.
    seq: u32,
    /// Ours already answers the trunk's challenge.
    challenged: bool,
}

impl Relays {
    /// Whether an INVITE is being relayed, and from which side (true: the caller).
    fn invite_from(&self) -> Option<bool> {
        (self.pending.iter())
            .find(|p| p.request.method == Method::Invite)
            .map(|p| p.from_caller)
    }

    pub(super) fn is_relayed(&self, client: &TransactionId) -> bool {
        self.pending.iter().any(|p| p.client == *client)
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        (self.answers.iter())
            .flat_map(|a| [a.resend.map(|(at, _)| at), Some(a.give_up)])
            .flatten()
            .min()
    }

    /// The ACK we sent for a 2xx with this Call-ID and CSeq; None if it is not ours to resend.
    pub(super) fn ack_for(&self, call_id: &str, seq: u32) -> Option<&Bytes> {
        (self.acks.iter())
            .find(|(c, s, _)| c == call_id && *s == seq)
            .map(|(_, _, bytes)| bytes)
    }

    /// Whether a 2xx with this Call-ID and CSeq answers the INVITE that set up the call (a
    /// lower CSeq than any re-INVITE of ours in that dialog).
    pub(super) fn is_initial(&self, call_id: &str, seq: u32) -> bool {
        (self.first_reinvite.iter()).all(|(c, s)| c != call_id || seq < *s)
    }

    fn keep_ack(&mut self, call_id: &str, seq: u32, bytes: Bytes) {
        if self.acks.len() >= ACKS_KEPT {
            self.acks.remove(0);
        }
        self.acks.push((call_id.to_owned(), seq, bytes));
    }
}

impl Connected {
    /// Which side sent `request`: true for the caller; None when it is in neither dialog.
    fn side_of(&self, request: &Request) -> Option<bool> {
        match (
            self.caller.is_from_remote(request),
            self.callee.is_from_remote(request),
        ) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        }
    }

    fn side(&mut self, caller: bool) -> (&mut Dialog, &Peer) {
        match caller {
            true => (&mut self.caller, &self.caller_peer),
            false => (&mut self.callee, &self.callee_peer),
        }
    }
}

/// 500 with Retry-After (§14.2, RFC 3311 §5.2).
pub(super) fn retry_later(request: &Request) -> Response {
    let mut r = reply(request, 500, "Server Internal Error");
    r.head.headers.push(HeaderName::RETRY_AFTER, "1");
    r
}

impl Endpoint {
    /// Whether client transaction `client` of call `key` is a request we relay.
    pub(super) fn is_relayed(&self, key: u64, client: &TransactionId) -> bool {
        (self.calls.get(&key).and_then(|c| c.connected.as_ref()))
            .is_some_and(|c| c.relays.is_relayed(client))
    }

    /// When the next 2xx to a re-INVITE goes again, or its call ends without the ACK.
    pub(super) fn relays_timeout(&self) -> Option<Instant> {
        (self.calls.values())
            .filter_map(|c| c.connected.as_ref()?.relays.poll_timeout())
            .min()
    }

    /// A re-INVITE, UPDATE or INFO in a call: passed to the other side; None while it runs.
    pub(super) fn in_dialog(
        &mut self,
        id: &TransactionId,
        request: &Request,
        now: Instant,
    ) -> Option<Response> {
        let (key, from_caller) = match self.admit(request) {
            Ok(admitted) => admitted,
            Err(refusal) => return Some(*refusal),
        };
        let (client, ours, to) = match self.pass_on(key, from_caller, request, None, now) {
            Ok(sent) => sent,
            Err(refusal) => return Some(*refusal),
        };
        self.call_of_tx.insert(client.clone(), key);
        let seq = ours.head.cseq.seq;
        let c = self.calls.get_mut(&key)?.connected.as_mut()?;
        let call_id = c.side(!from_caller).0.call_id.clone();
        if request.method == Method::Invite
            && !c.relays.first_reinvite.iter().any(|(id, _)| *id == call_id)
        {
            c.relays.first_reinvite.push((call_id, seq));
        }
        c.relays.pending.push(Relayed {
            client,
            server: id.clone(),
            request: request.clone(),
            from_caller,
            ours,
            to,
            seq,
            challenged: false,
        });
        if request.method == Method::Invite {
            let trying = Response::for_request(request, 100, "Trying");
            let _ = self.transactions.respond(id, trying, now);
        }
        None
    }

    /// The call `request` belongs to and whether the caller sent it, or the refusal: 481 in no
    /// call, 500 for an old CSeq (§12.2.2) or before the answer, 491/500 for glare (§14.2).
    /// A target refresh (§12.2.2, RFC 3311 §5.2) moves where its side is reached.
    fn admit(&mut self, request: &Request) -> Result<(u64, bool), Box<Response>> {
        let gone = || Box::new(reply(request, 481, "Call/Transaction Does Not Exist"));
        let key = *self
            .call_of_id
            .get(&request.head.call_id)
            .ok_or_else(gone)?;
        let call = self.calls.get_mut(&key).ok_or_else(gone)?;
        let c = (call.connected.as_mut()).ok_or_else(|| Box::new(retry_later(request)))?;
        let from_caller = c.side_of(request).ok_or_else(gone)?;
        let (dialog, _) = c.side(from_caller);
        if !dialog.take_remote_seq(request.head.cseq.seq) {
            return Err(Box::new(reply(request, 500, "CSeq Out of Order")));
        }
        let invite = request.method == Method::Invite;
        match c.relays.invite_from() {
            Some(side) if invite && side == from_caller => {
                return Err(Box::new(retry_later(request)));
            }
            Some(_) if invite => return Err(Box::new(reply(request, 491, "Request Pending"))),
            _ => {}
        }
        if matches!(request.method, Method::Invite | Method::Update)
            && let Some(contact) = request.head.contact.addresses().first()
        {
            c.side(from_caller).0.target = contact.uri.to_string();
        }
        Ok((key, from_caller))
    }

    /// Sends `request`'s like in the other dialog of call `key`: its client transaction, our
    /// request and where it went, or the refusal.
    fn pass_on(
        &mut self,
        key: u64,
        from_caller: bool,
        request: &Request,
        auth: Option<(HeaderName, String)>,
        now: Instant,
    ) -> Result<(TransactionId, Request, Peer), Box<Response>> {
        let failed = || Box::new(reply(request, 500, "Server Internal Error"));
        let body = std::str::from_utf8(&request.body)
            .map_err(|_| Box::new(reply(request, 400, "Body Not Text")))?;
        let kind = request.head.headers.get(&HeaderName::CONTENT_TYPE);
        let content = (!body.is_empty()).then(|| (kind.unwrap_or("application/sdp"), body));
        let passed: String = (request.head.headers.iter())
            .filter(|h| {
                PASSED
                    .iter()
                    .any(|p| h.name.as_str().eq_ignore_ascii_case(p))
            })
            .map(|h| format!("{}: {}\r\n", h.name, h.value))
            .collect();
        let unique = self.unique();
        let call = self.calls.get_mut(&key).ok_or_else(failed)?;
        let c = call.connected.as_mut().ok_or_else(failed)?;
        let (dialog, peer) = c.side(!from_caller);
        let peer = peer.clone();
        let local = peer.local.to_string();
        let leaving = Leaving {
            transport: peer.transport.as_str(),
            local: &local,
            unique: &unique,
        };
        let method = request.method.as_str();
        let mut ours = (dialog.request(method, leaving, &passed, content)).ok_or_else(failed)?;
        if let Some((name, value)) = auth {
            ours.head.headers.push(name, &value);
        }
        let reliable = peer.transport.is_reliable();
        match (self.transactions).send_request(ours.clone(), peer.clone(), reliable, now) {
            Ok(client) => Ok((client, ours, peer)),
            Err(e) => {
                tracing::debug!("sip: relaying {method}: {e}");
                Err(Box::new(reply(request, 503, "Service Unavailable")))
            }
        }
    }

    /// What became of a request we relayed (`client`): its final answer goes back.
    pub(super) fn relayed_event(
        &mut self,
        key: u64,
        client: &TransactionId,
        event: TransactionEvent,
        now: Instant,
    ) {
        let r = match event {
            TransactionEvent::Response(r) if r.status < 200 => return,
            TransactionEvent::Response(r) => Some(*r),
            TransactionEvent::Timeout | TransactionEvent::TransportError => None,
        };
        self.call_of_tx.remove(client);
        let Some(c) = self.calls.get_mut(&key).and_then(|c| c.connected.as_mut()) else {
            return;
        };
        let Some(at) = c.relays.pending.iter().position(|p| p.client == *client) else {
            return;
        };
        let relayed = c.relays.pending.remove(at);
        let trunk = c.trunk;
        if let (Some(r), Some(trunk)) = (&r, trunk)
            && self.answer_relay_challenge(key, trunk, &relayed, r, now)
        {
            return;
        }
        let Some(c) = self.calls.get_mut(&key).and_then(|c| c.connected.as_mut()) else {
            return;
        };
        let asker = c.side(relayed.from_caller).1.clone();
        let Some(r) = r else {
            let timeout = reply(&relayed.request, 408, "Request Timeout");
            let _ = self.transactions.respond(&relayed.server, timeout, now);
            return;
        };
        let answer = answer_for(&relayed, &r, &asker);
        let _ = (self.transactions).respond(&relayed.server, answer.clone(), now);
        if (200..300).contains(&r.status) && relayed.request.method == Method::Invite {
            self.reinvite_accepted(key, relayed, &r, answer, &asker, now);
        }
    }

    /// The trunk the callee is reached through challenged a request we relayed to it: the
    /// same again, once, with the trunk's credentials. False when it was not that, or cannot be.
    fn answer_relay_challenge(
        &mut self,
        key: u64,
        trunk: usize,
        relayed: &Relayed,
        r: &Response,
        now: Instant,
    ) -> bool {
        if !relayed.from_caller || relayed.challenged || !matches!(r.status, 401 | 407) {
            return false;
        }
        let cnonce = self.unique();
        let Some(config) = self.trunks.0.get(trunk).map(|t| t.config.clone()) else {
            return false;
        };
        let method = relayed.ours.method.as_str();
        let uri = relayed.ours.uri.to_string();
        let auth = super::trunk_calls::trunk_answer(r, (method, &uri), &config, &cnonce);
        let Some(auth) = auth else {
            return false;
        };
        let request = relayed.request.clone();
        let Ok((client, ours, to)) = self.pass_on(key, true, &request, Some(auth), now) else {
            return false;
        };
        self.call_of_tx.insert(client.clone(), key);
        let Some(c) = self.calls.get_mut(&key).and_then(|c| c.connected.as_mut()) else {
            return false;
        };
        let seq = ours.head.cseq.seq;
        c.relays.pending.push(Relayed {
            client,
            server: relayed.server.clone(),
            request,
            from_caller: true,
            ours,
            to,
            seq,
            challenged: true,
        });
        true
    }

    /// A CANCEL of a re-INVITE we relay (server transaction `invite`, §9.2): our re-INVITE is
    /// cancelled too, and its 487 comes back the usual way. False when `invite` is not one.
    pub(super) fn cancel_relayed(
        &mut self,
        cancel: &Request,
        invite: &TransactionId,
        now: Instant,
    ) -> bool {
        let key = self.call_of_id.get(&cancel.head.call_id).copied();
        let Some(c) = key.and_then(|k| self.calls.get_mut(&k)?.connected.as_mut()) else {
            return false;
        };
        let Some(p) = c.relays.pending.iter().find(|p| p.server == *invite) else {
            return false;
        };
        let ours = super::calls::cancel(&p.ours, "SIP;cause=487;text=\"Request Terminated\"");
        let to = p.to.clone();
        let reliable = to.transport.is_reliable();
        if let Err(e) = self.transactions.send_request(ours, to, reliable, now) {
            tracing::debug!("sip: cancelling a relayed re-INVITE: {e}");
        }
        true
    }

    /// The call ends while requests are relayed: they get 487 (§15.1.2).
    pub(super) fn end_relays(&mut self, key: u64, now: Instant) {
        let Some(c) = self.calls.get_mut(&key).and_then(|c| c.connected.as_mut()) else {
            return;
        };
        let pending = std::mem::take(&mut c.relays.pending);
        for p in pending {
            self.call_of_tx.remove(&p.client);
            let gone = reply(&p.request, 487, "Request Terminated");
            let _ = self.transactions.respond(&p.server, gone, now);
        }
    }
}

/// Our answer to the relayed request from the other side's final response `r`; `asker` is
/// where the request came from.
fn answer_for(relayed: &Relayed, r: &Response, asker: &Peer) -> Response {
    let mut answer = Response::for_request(&relayed.request, r.status, &r.reason);
    if !(200..300).contains(&r.status) {
        if let Some(after) = r.head.headers.get(&HeaderName::RETRY_AFTER) {
            answer.head.headers.push(HeaderName::RETRY_AFTER, after);
        }
        return answer;
    }
    if !r.body.is_empty() {
        answer.body = r.body.clone();
        let kind = r.head.headers.get(&HeaderName::CONTENT_TYPE);
        (answer.head.headers).push(HeaderName::CONTENT_TYPE, kind.unwrap_or("application/sdp"));
    }
    if matches!(relayed.request.method, Method::Invite | Method::Update) {
        let _ = (answer.head.contact).add_line(&format!("<sip:zentrale@{}>", asker.local));
    }
    answer
}

#[path = "relay_ack.rs"]
mod ack;
#[cfg(test)]
#[path = "relay_tests.rs"]
mod tests;
