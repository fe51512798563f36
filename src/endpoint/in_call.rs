//! The answered call (issue 12): the ACK of the callee's 2xx, our 2xx to the caller until its
//! ACK comes, and the requests within the two dialogs (BYE), passed from one side to the other.

use bytes::Bytes;

use super::dialog::{Dialog, Leaving};
use super::{Endpoint, Peer};
use crate::clock::Instant;
use crate::registrar::register::reply;
use crate::sip::{Method, Request, Response};

impl Endpoint {
    /// Sends the ACK of a 2xx in `dialog` (outside any transaction, §13.2.2.4); its bytes,
    /// to send again when the 2xx comes again.
    pub(super) fn ack(&mut self, dialog: &Dialog, invite: &Request, peer: &Peer) -> Bytes {
        let (unique, local) = (self.unique(), peer.local.to_string());
        let leaving = Leaving {
            transport: peer.transport.as_str(),
            local: &local,
            unique: &unique,
        };
        let Some(ack) = dialog.ack(invite.head.cseq.seq, leaving) else {
            return Bytes::new();
        };
        let bytes = Bytes::from(ack.print());
        self.send_direct(peer.clone(), bytes.to_vec());
        bytes
    }

    /// A 2xx again from a callee (its ACK was lost): the same ACK again.
    pub(super) fn stray_response(&mut self, r: &Response) {
        if r.head.cseq.method != Method::Invite || !(200..300).contains(&r.status) {
            return;
        }
        if self.local_stray(r) {
            return;
        }
        let key = self.call_of_id.get(&r.head.call_id).copied();
        let Some(c) = key.and_then(|k| self.calls.get(&k)?.connected.as_ref()) else {
            return;
        };
        // A 2xx to a re-INVITE of ours: the ACK we sent for it.
        if let Some(ack) = c.relays.ack_for(&r.head.call_id, r.head.cseq.seq) {
            let peer = match c.caller.call_id == r.head.call_id {
                true => c.caller_peer.clone(),
                false => c.callee_peer.clone(),
            };
            let ack = ack.to_vec();
            return self.send_direct(peer, ack);
        }
        if c.callee.call_id == r.head.call_id
            && c.relays.is_initial(&r.head.call_id, r.head.cseq.seq)
            && !c.ack.is_empty()
        {
            let (peer, ack) = (c.callee_peer.clone(), c.ack.to_vec());
            self.send_direct(peer, ack);
        }
    }

    /// The caller's ACK of our 2xx (or either side's ACK of our 2xx to its re-INVITE): no
    /// more retransmissions.
    pub(super) fn caller_ack(&mut self, request: &Request) {
        if self.local_ack(request) || self.relayed_ack(request) {
            return;
        }
        let key = self.call_of_id.get(&request.head.call_id).copied();
        if let Some(c) = key.and_then(|k| self.calls.get_mut(&k)?.connected.as_mut())
            && c.caller.call_id == request.head.call_id
        {
            c.resend = None;
            c.give_up = None;
        }
    }

    /// Our 2xx to callers that have not ACKed it yet: again, or (64·T1 on) the call ends.
    pub(super) fn resend_answers(&mut self, now: Instant) {
        let t2 = self.config.timers.t2;
        let mut lost = self.resend_relayed(now);
        let mut again = Vec::new();
        for (key, call) in &mut self.calls {
            let Some(c) = call.connected.as_mut() else {
                continue;
            };
            if c.give_up.is_some_and(|t| t <= now) && !lost.contains(key) {
                lost.push(*key);
                continue;
            }
            if let Some((at, interval)) = c.resend
                && at <= now
            {
                let next = (interval * 2).min(t2);
                c.resend = Some((now + next, next));
                again.push((call.server.clone(), c.ok.clone()));
            }
        }
        for (server, ok) in again {
            let _ = self.transactions.respond(&server, ok, now);
        }
        for key in lost {
            tracing::info!("sip: call {key} was answered but the caller never ACKed: ending it");
            self.end_relays(key, now);
            if let Some(mut c) = self.calls.get_mut(&key).and_then(|c| c.connected.take()) {
                self.bye(&mut c.callee, &c.callee_peer, now);
                self.bye(&mut c.caller, &c.caller_peer, now);
            }
            self.forget_call(key, now);
        }
    }

    /// Ends `dialog` with a BYE.
    pub(super) fn bye(&mut self, dialog: &mut Dialog, peer: &Peer, now: Instant) {
        let (unique, local) = (self.unique(), peer.local.to_string());
        let leaving = Leaving {
            transport: peer.transport.as_str(),
            local: &local,
            unique: &unique,
        };
        if let Some(bye) = dialog.request("BYE", leaving, "", None) {
            let reliable = peer.transport.is_reliable();
            let _ = self
                .transactions
                .send_request(bye, peer.clone(), reliable, now);
        }
    }

    /// A BYE in a connected call: 200, and a BYE to the other side.
    pub(super) fn bye_in_call(&mut self, request: &Request, now: Instant) -> Response {
        let key = self.call_of_id.get(&request.head.call_id).copied();
        let Some(call) = key.and_then(|k| self.calls.get_mut(&k)) else {
            return reply(request, 481, "Call/Transaction Does Not Exist");
        };
        let Some(c) = call.connected.as_mut() else {
            return reply(request, 481, "Call/Transaction Does Not Exist");
        };
        let from_caller = request.head.call_id == c.caller.call_id;
        let (mut dialog, peer) = match from_caller {
            true => (c.callee.clone(), c.callee_peer.clone()),
            false => (c.caller.clone(), c.caller_peer.clone()),
        };
        self.bye(&mut dialog, &peer, now);
        if let Some(k) = key {
            self.end_relays(k, now);
            self.forget_call(k, now);
        }
        let mut ok = Response::for_request(request, 200, "OK");
        ok.head.contact = Default::default();
        ok
    }
}
