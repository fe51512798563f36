//! Reliable provisional responses from a callee (RFC 3262), tolerated: each one that asks for
//! it (`Require: 100rel` and an RSeq) gets our PRACK in its early dialog, so the phone keeps
//! ringing rather than giving up on it. The SDP answer such a response carries is the call's
//! answer when the 2xx carries none (§5: offer/answer may finish in the provisional).
//!
//! The caller's side stays unreliable: we never send `Require: 100rel`, a caller's
//! `Supported: 100rel` changes nothing, and a caller's `Require: 100rel` gets 420 with
//! `Unsupported: 100rel` from [`crate::sip::screen`] (§4: a UAS that will not send reliable
//! provisionals rejects it so); a PRACK to us gets 481 (nothing of ours is unacknowledged).

use bytes::Bytes;

use super::Endpoint;
use super::dialog::{Dialog, Leaving};
use crate::clock::Instant;
use crate::sip::transaction::TransactionId;
use crate::sip::{HeaderName, Response};

/// What the reliable provisionals of one INVITE of ours left behind.
#[derive(Debug, Default)]
pub struct Reliable {
    /// The RSeq of the last one we PRACKed.
    rseq: Option<u32>,
    /// The CSeq of our last PRACK (the dialog's requests go on after it).
    seq: u32,
    /// The SDP the last one carried.
    sdp: Bytes,
}

/// The RSeq of `r` when it is a reliable provisional.
fn rseq(r: &Response) -> Option<u32> {
    let tokens = r.head.headers.tokens(&HeaderName::REQUIRE).ok()?;
    if !tokens.iter().any(|t| t.eq_ignore_ascii_case("100rel")) {
        return None;
    }
    let value = r.head.headers.get(&HeaderName::parse("RSeq")?)?;
    value.trim().parse::<u32>().ok().filter(|v| *v > 0)
}

impl Endpoint {
    /// A provisional response `r` to our INVITE `id` of call `key`: PRACKed when reliable.
    pub(super) fn prack(&mut self, key: u64, id: &TransactionId, r: &Response, now: Instant) {
        let Some(rseq) = rseq(r) else {
            return;
        };
        let unique = self.unique();
        let Some(attempt) = self
            .calls
            .get_mut(&key)
            .and_then(|c| c.attempts.get_mut(id))
        else {
            return;
        };
        // §4: only the first, then each next one in order; a retransmission is answered by
        // our PRACK's own retransmissions.
        if attempt.done.is_some() || attempt.reliable.rseq.is_some_and(|l| rseq != l + 1) {
            return;
        }
        let Some(mut dialog) = Dialog::uac(&attempt.request, r) else {
            return;
        };
        dialog.local_seq = dialog.local_seq.max(attempt.reliable.seq);
        let peer = attempt.peer.clone();
        let local = peer.local.to_string();
        let leaving = Leaving {
            transport: peer.transport.as_str(),
            local: &local,
            unique: &unique,
        };
        let rack = format!("RAck: {rseq} {} INVITE\r\n", attempt.request.head.cseq.seq);
        let Some(prack) = dialog.request("PRACK", leaving, &rack, None) else {
            return;
        };
        attempt.reliable.rseq = Some(rseq);
        attempt.reliable.seq = dialog.local_seq;
        if !r.body.is_empty() {
            attempt.reliable.sdp = r.body.clone();
        }
        let reliable = peer.transport.is_reliable();
        if let Err(e) = self.transactions.send_request(prack, peer, reliable, now) {
            tracing::debug!("sip: PRACK in call {key}: {e}");
        }
    }

    /// The 2xx `r` to our INVITE `id`, with the SDP of a reliable provisional when it has none.
    pub(super) fn with_early_answer(
        &self,
        key: u64,
        id: &TransactionId,
        mut r: Response,
    ) -> Response {
        let attempt = self.calls.get(&key).and_then(|c| c.attempts.get(id));
        if let Some(a) = attempt
            && r.body.is_empty()
            && !a.reliable.sdp.is_empty()
        {
            r.body = a.reliable.sdp.clone();
            r.head
                .headers
                .set(HeaderName::CONTENT_TYPE, "application/sdp");
        }
        r
    }

    /// Once `id` answered call `key`: the callee's dialog goes on after our PRACKs' CSeqs.
    pub(super) fn after_prack(&mut self, key: u64, id: &TransactionId) {
        let Some(call) = self.calls.get_mut(&key) else {
            return;
        };
        let Some(seq) = call.attempts.get(id).map(|a| a.reliable.seq) else {
            return;
        };
        if let Some(c) = call.connected.as_mut()
            && (call.attempts.get(id)).is_some_and(|a| a.request.head.call_id == c.callee.call_id)
        {
            c.callee.local_seq = c.callee.local_seq.max(seq);
        }
    }
}
