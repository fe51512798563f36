//! The ACKs around a relayed re-INVITE (RFC 3261 §13.2.2.4, §13.3.1.4): ours to the other
//! side's 2xx (at once, or carrying the answer from the asking side's ACK when that 2xx made
//! the offer), and our 2xx to the asking side, sent again until its ACK comes; without one by
//! 64·T1 the call ends.

use std::time::Duration;

use bytes::Bytes;

use super::super::dialog::{Dialog, Leaving};
use super::super::{Endpoint, Peer};
use super::Relayed;
use crate::clock::Instant;
use crate::sip::transaction::TransactionId;
use crate::sip::{HeaderName, Request, Response};

/// Our 2xx to a re-INVITE, until its ACK comes.
#[derive(Debug)]
pub(super) struct Unacked {
    pub(super) server: TransactionId,
    pub(super) from_caller: bool,
    pub(super) seq: u32,
    pub(super) ok: Response,
    /// When next, and the interval (T1 doubling to T2); None over TCP.
    pub(super) resend: Option<(Instant, Duration)>,
    pub(super) give_up: Instant,
    /// The CSeq of our re-INVITE whose ACK waits for this side's ACK (it carries the answer).
    pub(super) ack_later: Option<u32>,
}

impl Endpoint {
    /// Our re-INVITE's 2xx `r`: its Contact refreshes that side's target; our ACK goes now, or
    /// with the answer when the 2xx made the offer; `answer` (ours) goes again until ACKed.
    pub(super) fn reinvite_accepted(
        &mut self,
        key: u64,
        relayed: Relayed,
        r: &Response,
        answer: Response,
        asker: &Peer,
        now: Instant,
    ) {
        let Some(c) = self.calls.get_mut(&key).and_then(|c| c.connected.as_mut()) else {
            return;
        };
        let (dialog, peer) = c.side(!relayed.from_caller);
        if let Some(contact) = r.head.contact.addresses().first() {
            dialog.target = contact.uri.to_string();
        }
        let (dialog, peer) = (dialog.clone(), peer.clone());
        let offer = relayed.request.body.is_empty() && !r.body.is_empty();
        if !offer {
            self.send_ack(key, &dialog, relayed.seq, &peer, None);
        }
        let t = self.config.timers;
        let Some(c) = self.calls.get_mut(&key).and_then(|c| c.connected.as_mut()) else {
            return;
        };
        c.relays.answers.push(Unacked {
            server: relayed.server,
            from_caller: relayed.from_caller,
            seq: relayed.request.head.cseq.seq,
            ok: answer,
            resend: (!asker.transport.is_reliable()).then_some((now + t.t1, t.t1)),
            give_up: now + t.t1 * 64,
            ack_later: offer.then_some(relayed.seq),
        });
    }

    /// Sends our ACK (CSeq `seq`) in `dialog` outside any transaction, and keeps it for a
    /// retransmitted 2xx.
    pub(super) fn send_ack(
        &mut self,
        key: u64,
        dialog: &Dialog,
        seq: u32,
        peer: &Peer,
        body: Option<(&str, &str)>,
    ) {
        let (unique, local) = (self.unique(), peer.local.to_string());
        let leaving = Leaving {
            transport: peer.transport.as_str(),
            local: &local,
            unique: &unique,
        };
        let Some(ack) = dialog.ack_with(seq, leaving, body) else {
            return;
        };
        let bytes = Bytes::from(ack.print());
        self.send_direct(peer.clone(), bytes.to_vec());
        if let Some(c) = self.calls.get_mut(&key).and_then(|c| c.connected.as_mut()) {
            c.relays.keep_ack(&dialog.call_id, seq, bytes);
        }
    }

    /// An ACK of our 2xx to a re-INVITE: no more retransmissions; an answer it carries goes on
    /// in our ACK to the other side. False when it is not one.
    pub(in crate::endpoint) fn relayed_ack(&mut self, ack: &Request) -> bool {
        let key = self.call_of_id.get(&ack.head.call_id).copied();
        let Some(c) = key.and_then(|k| self.calls.get_mut(&k)?.connected.as_mut()) else {
            return false;
        };
        let Some(from_caller) = c.side_of(ack) else {
            return false;
        };
        let seq = ack.head.cseq.seq;
        let found =
            (c.relays.answers.iter()).position(|a| a.from_caller == from_caller && a.seq == seq);
        let Some(unacked) = found.map(|at| c.relays.answers.remove(at)) else {
            return false;
        };
        let Some(ours) = unacked.ack_later else {
            return true;
        };
        let (dialog, peer) = c.side(!from_caller);
        let (dialog, peer) = (dialog.clone(), peer.clone());
        let body = std::str::from_utf8(&ack.body).unwrap_or_default();
        let kind = ack.head.headers.get(&HeaderName::CONTENT_TYPE);
        let content = (!body.is_empty()).then(|| (kind.unwrap_or("application/sdp"), body));
        if let Some(key) = key {
            self.send_ack(key, &dialog, ours, &peer, content);
        }
        true
    }

    /// Our 2xx to re-INVITEs again where due; the calls whose ACK never came (64·T1).
    pub(in crate::endpoint) fn resend_relayed(&mut self, now: Instant) -> Vec<u64> {
        let t2 = self.config.timers.t2;
        let mut lost = Vec::new();
        let mut again = Vec::new();
        for (key, call) in &mut self.calls {
            let Some(c) = call.connected.as_mut() else {
                continue;
            };
            if c.relays.answers.iter().any(|a| a.give_up <= now) {
                lost.push(*key);
                continue;
            }
            for a in &mut c.relays.answers {
                if let Some((at, interval)) = a.resend
                    && at <= now
                {
                    let next = (interval * 2).min(t2);
                    a.resend = Some((now + next, next));
                    again.push((a.server.clone(), a.ok.clone()));
                }
            }
        }
        for (server, ok) in again {
            let _ = self.transactions.respond(&server, ok, now);
        }
        lost
    }
}
