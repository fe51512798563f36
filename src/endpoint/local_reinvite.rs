//! Re-INVITEs in a call zentrale answered itself, for an application that changes its media
//! (fax: audio to T.38). Both ways, one at a time (RFC 3261 §14.1/§14.2):
//!
//! * The caller's re-INVITE: its server transaction stays open (100 Trying) while the
//!   application reads the offer ([`EndpointEvent::LocalOffer`]) and answers it
//!   ([`Endpoint::handle_local_reanswer`]): 200 with the new SDP, resent until the ACK like the
//!   first one, or a refusal that leaves the session as it was (RFC 3264 §8, e.g. 488).
//! * Ours ([`Endpoint::reoffer_locally`]): an INVITE in the dialog; a 2xx is ACKed (and the ACK
//!   sent again when the 2xx comes again) and its SDP handed on, any other outcome handed on as
//!   its status ([`EndpointEvent::LocalAnswered`]), a timeout as 408.
//!
//! While one runs, the caller's re-INVITE gets 491 when ours is open, 500 with Retry-After when
//! its own is (§14.2). Applications that do not read offers get their first answer again.

use bytes::Bytes;

use super::dialog::Leaving;
use super::local::{Answered, Local, MediaAnswer};
use super::{Endpoint, EndpointEvent};
use crate::clock::Instant;
use crate::registrar::register::reply;
use crate::sip::transaction::{TransactionEvent, TransactionId};
use crate::sip::{Request, Response};

/// A re-INVITE under way in a call we answered.
#[derive(Debug)]
pub enum Reinvite {
    /// The caller's, waiting for the application's answer.
    FromCaller {
        server: TransactionId,
        request: Request,
    },
    /// Ours, waiting for the caller's answer.
    Ours {
        client: TransactionId,
        request: Request,
    },
}

impl Endpoint {
    /// The answered call of ours with Call-ID `call_id`, and its leg.
    fn answered_mut(&mut self, key: u64) -> Option<&mut Answered> {
        match self.calls.get_mut(&key)?.local.as_mut()? {
            Local::Answered(a) => Some(a),
            Local::Pending { .. } => None,
        }
    }

    /// The caller's re-INVITE in answered call `key` (already admitted: in its dialog, CSeq
    /// in order): None while the application decides, else the response.
    pub(super) fn caller_reinvite(
        &mut self,
        key: u64,
        id: &TransactionId,
        request: &Request,
        now: Instant,
    ) -> Option<Response> {
        let first_offer = self.calls.get(&key)?.invite.body.clone();
        let a = self.answered_mut(key)?;
        if let Some(contact) = request.head.contact.addresses().first() {
            a.dialog.target = contact.uri.to_string();
        }
        if !a.reoffers {
            if !same_streams(&first_offer, &request.body) {
                // Our answer has the first offer's streams; another set (T.38 in place of
                // audio) cannot get it (RFC 3264 §6, §8), and the application cannot change.
                return Some(reply(request, 488, "Not Acceptable Here"));
            }
            let mut again = a.ok.clone();
            again.head.cseq = request.head.cseq.clone();
            again.head.via = request.head.via.clone();
            return Some(again);
        }
        match a.reinvite {
            Some(Reinvite::Ours { .. }) => return Some(reply(request, 491, "Request Pending")),
            Some(Reinvite::FromCaller { .. }) => return Some(super::relay::retry_later(request)),
            None => {}
        }
        a.reinvite = Some(Reinvite::FromCaller {
            server: id.clone(),
            request: request.clone(),
        });
        let trying = Response::for_request(request, 100, "Trying");
        let _ = self.transactions.respond(id, trying, now);
        let offer = request.body.clone();
        self.events
            .push_back(EndpointEvent::LocalOffer { key, offer });
        None
    }

    /// The application's answer to the caller's re-INVITE in call `key`.
    pub fn handle_local_reanswer(&mut self, key: u64, answer: MediaAnswer, now: Instant) {
        let t = self.config.timers;
        let Some(a) = self.answered_mut(key) else {
            return;
        };
        if !matches!(a.reinvite, Some(Reinvite::FromCaller { .. })) {
            return;
        }
        let Some(Reinvite::FromCaller { server, request }) = a.reinvite.take() else {
            return;
        };
        let sdp = match answer {
            MediaAnswer::Sdp(sdp) => sdp,
            MediaAnswer::Refuse(status) => {
                let refusal = reply(&request, status, super::local::reason(status));
                let _ = self.transactions.respond(&server, refusal, now);
                return;
            }
        };
        let mut ok = a.ok.clone();
        ok.head.via = request.head.via.clone();
        ok.head.cseq = request.head.cseq.clone();
        ok.body = Bytes::from(sdp);
        a.ok = ok.clone();
        a.resend = (!a.peer.transport.is_reliable()).then_some((now + t.t1, t.t1));
        a.give_up = Some(now + t.t1 * 64);
        let _ = self.transactions.respond(&server, ok, now);
    }

    /// The application of call `key` offers `sdp` to the caller (a re-INVITE); the outcome
    /// comes back as [`EndpointEvent::LocalAnswered`].
    pub fn reoffer_locally(&mut self, key: u64, sdp: &str, now: Instant) {
        let unique = self.unique();
        let Some(a) = self.answered_mut(key) else {
            return;
        };
        let refused = |e: &mut Endpoint, status| {
            (e.events).push_back(EndpointEvent::LocalAnswered {
                key,
                answer: Err(status),
            });
        };
        if a.reinvite.is_some() {
            return refused(self, 491);
        }
        let (peer, local) = (a.peer.clone(), a.peer.local.to_string());
        let leaving = Leaving {
            transport: peer.transport.as_str(),
            local: &local,
            unique: &unique,
        };
        let body = Some(("application/sdp", sdp));
        let Some(invite) = a.dialog.request("INVITE", leaving, "", body) else {
            return refused(self, 500);
        };
        let reliable = peer.transport.is_reliable();
        match (self.transactions).send_request(invite.clone(), peer, reliable, now) {
            Ok(client) => {
                self.call_of_tx.insert(client.clone(), key);
                if let Some(a) = self.answered_mut(key) {
                    a.reinvite = Some(Reinvite::Ours {
                        client,
                        request: invite,
                    });
                }
            }
            Err(e) => {
                tracing::debug!("sip: call {key}: our re-INVITE: {e}");
                refused(self, 503);
            }
        }
    }

    /// Whether client transaction `client` is our re-INVITE in call `key`.
    pub(super) fn is_local_reinvite(&self, key: u64, client: &TransactionId) -> bool {
        let local = self.calls.get(&key).and_then(|c| c.local.as_ref());
        matches!(local, Some(Local::Answered(a))
            if matches!(&a.reinvite, Some(Reinvite::Ours { client: c, .. }) if c == client))
    }

    /// What became of our re-INVITE in call `key`.
    pub(super) fn local_reinvite_event(
        &mut self,
        key: u64,
        client: &TransactionId,
        event: TransactionEvent,
        _now: Instant,
    ) {
        let answer = match event {
            TransactionEvent::Response(r) if r.status < 200 => return,
            TransactionEvent::Response(r) => Ok(*r),
            TransactionEvent::Timeout | TransactionEvent::TransportError => Err(408),
        };
        self.call_of_tx.remove(client);
        let Some(a) = self.answered_mut(key) else {
            return;
        };
        let Some(Reinvite::Ours { request, .. }) = a.reinvite.take() else {
            return;
        };
        let answer = match answer {
            Ok(r) if (200..300).contains(&r.status) => {
                if let Some(contact) = r.head.contact.addresses().first() {
                    a.dialog.target = contact.uri.to_string();
                }
                let (dialog, peer) = (a.dialog.clone(), a.peer.clone());
                let ack = self.ack(&dialog, &request, &peer);
                if let Some(a) = self.answered_mut(key) {
                    a.our_ack = Some((request.head.cseq.seq, ack));
                }
                Ok(r.body)
            }
            Ok(r) => Err(r.status),
            Err(status) => Err(status),
        };
        (self.events).push_back(EndpointEvent::LocalAnswered { key, answer });
    }

    /// A 2xx again for a re-INVITE of ours whose ACK was lost: the same ACK again. True when
    /// it was one.
    pub(super) fn local_stray(&mut self, r: &Response) -> bool {
        let Some(&key) = self.call_of_id.get(&r.head.call_id) else {
            return false;
        };
        let Some(a) = self.answered_mut(key) else {
            return false;
        };
        let Some((seq, ack)) = &a.our_ack else {
            return false;
        };
        if *seq != r.head.cseq.seq {
            return false;
        }
        let (peer, ack) = (a.peer.clone(), ack.to_vec());
        self.send_direct(peer, ack);
        true
    }

    /// The caller's re-INVITE still open when call `key` ends: 487, so its transaction ends.
    pub(super) fn end_reinvite(&mut self, key: u64, now: Instant) {
        let Some(a) = self.answered_mut(key) else {
            return;
        };
        if let Some(Reinvite::FromCaller { server, request }) = a.reinvite.take() {
            let ended = reply(&request, 487, "Request Terminated");
            let _ = self.transactions.respond(&server, ended, now);
        }
    }
}

/// Whether re-offer `again` has the streams of `first` (the kinds of its `m=` lines, in order,
/// and which are on): an empty re-offer asks for our offer, which ours answers too.
fn same_streams(first: &[u8], again: &[u8]) -> bool {
    if again.is_empty() {
        return true;
    }
    let streams = |body: &[u8]| {
        crate::media::parse_offer(body).ok().map(|offer| {
            (offer.media.iter())
                .map(|m| (m.kind.clone(), m.port != 0))
                .collect::<Vec<_>>()
        })
    };
    matches!((streams(first), streams(again)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
#[path = "local_reinvite_tests.rs"]
mod tests;
