//! Calls over trunks (issue 12, point 4). In: an INVITE from a trunk's source rings the DID it
//! names, as an external call, with the caller's name and number as the provider sent them
//! (shown, never used for routing). Out: a number dialled by one of our devices, a mobile
//! device's number, or a number dispatch forwards to goes to the trunk as an INVITE of ours
//! with the number the trunk presents for the caller; a 401/407 from the provider is answered
//! once with the trunk's credentials (RFC 3261 §22.2, §22.3).

use super::calls::{self, Attempt, CallerId, OUTSIDE};
use super::{Endpoint, EndpointEvent, Peer};
use crate::clock::Instant;
use crate::digest::{Challenge, Credentials};
use crate::dispatch::{LegId, Refusal};
use crate::registrar::register::reply;
use crate::sip::transaction::TransactionId;
use crate::sip::{HeaderName, Request, Response};

impl Endpoint {
    /// An INVITE from trunk `trunk`: to one of its DIDs, else 404 (a trunk reaches nothing
    /// else, least of all another trunk).
    pub(super) fn invite_from_trunk(
        &mut self,
        id: &TransactionId,
        request: &Request,
        peer: &Peer,
        trunk: usize,
        now: Instant,
    ) -> Option<Response> {
        let user_of = |uri: &crate::sip::Uri| uri.as_sip().and_then(|u| u.user.clone());
        let dialled = [user_of(&request.uri), user_of(&request.head.to.uri)];
        let Some((did, target)) = self.trunks.did(trunk, &dialled) else {
            tracing::info!(
                "sip: a call from trunk {} to no DID of it",
                self.trunk_name(trunk)
            );
            return Some(reply(request, 404, "Not Found"));
        };
        let key = match self.new_call(id, request, peer, (None, &did), now) {
            Ok(key) => key,
            Err(refusal) => return Some(*refusal),
        };
        let from = &request.head.from;
        let caller = CallerId {
            name: (from.display.as_deref()).map_or_else(String::new, crate::sip::lex::unquote),
            number: user_of(&from.uri).unwrap_or_default(),
            ours: None,
        };
        self.events.push_back(EndpointEvent::FromTrunk {
            key,
            target,
            caller,
        });
        None
    }

    /// Call `key` goes out through `trunk` to `number` (dialled by one of our devices).
    pub(super) fn dial_out(&mut self, key: u64, trunk: usize, number: &str, now: Instant) {
        if !self.send_through_trunk(key, OUTSIDE, calls::NO_DEVICE, trunk, number, now) {
            self.answer_caller_unavailable(key, now);
        }
    }

    /// Dispatch forwards call `key` to `number`: out through the trunk its prefix picks.
    pub(super) fn forward_out(&mut self, key: u64, number: &str, now: Instant) {
        let sent = (self.trunks.for_number(number)).is_some_and(|t| {
            self.send_through_trunk(key, OUTSIDE, calls::NO_DEVICE, t, number, now)
        });
        if !sent {
            tracing::info!("sip: call {key} cannot be forwarded to {number}: no trunk takes it");
            self.answer_caller_unavailable(key, now);
        }
    }

    /// Dispatch rings mobile `device` at `number` through the trunk its prefix picks.
    pub(super) fn ring_mobile(
        &mut self,
        key: u64,
        leg: LegId,
        device: i64,
        number: &str,
        now: Instant,
    ) {
        let sent = (self.trunks.for_number(number))
            .is_some_and(|t| self.send_through_trunk(key, leg, device, t, number, now));
        if !sent && let Some(d) = self.calls.get_mut(&key).and_then(|c| c.dispatch.as_mut()) {
            d.handle_refused(leg, Refusal::Gone, now);
        }
    }

    fn answer_caller_unavailable(&mut self, key: u64, now: Instant) {
        self.answer_caller(key, 480, "Temporarily Unavailable", now);
    }

    /// Our INVITE for call `key` to `number` at `trunk`, as `leg` ringing `device`; false when
    /// the trunk cannot be reached (unresolved, or a TCP trunk).
    fn send_through_trunk(
        &mut self,
        key: u64,
        leg: LegId,
        device: i64,
        trunk: usize,
        number: &str,
        now: Instant,
    ) -> bool {
        let (Some(peer), Some(host)) = (self.trunk_peer(trunk), self.trunks.host(trunk)) else {
            return false;
        };
        let (unique, local) = (self.unique(), peer.local.to_string());
        let Some(call) = self.calls.get(&key) else {
            return false;
        };
        let Some(caller) = call.caller.as_ref() else {
            return false;
        };
        let presented = CallerId {
            name: caller.name.clone(),
            number: match &caller.ours {
                Some(o) => (self.trunks).presented(trunk, o.cid.as_deref(), o.extension.as_deref()),
                None => caller.number.clone(),
            },
            ours: None,
        };
        let domain = host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h);
        let target = format!("sip:{number}@{host}");
        let outbound = calls::Outbound {
            target: &target,
            transport: peer.transport.as_str(),
            local: &local,
            domain,
            unique: &unique,
            caller: &presented,
            sdp: &call.invite.body,
        };
        let Some(request) = calls::invite(&outbound) else {
            return false;
        };
        let attempt = Attempt {
            leg,
            device,
            trunk: Some(trunk),
            challenged: false,
            request,
            peer,
            done: None,
            reliable: Default::default(),
        };
        tracing::info!(
            "sip: call {key} goes out through trunk {} to {number}",
            self.trunk_name(trunk)
        );
        self.send_attempt(key, attempt, now).is_ok()
    }

    /// Sends `attempt`'s INVITE and files it under call `key`; the attempt back when the
    /// transaction layer refused it.
    fn send_attempt(
        &mut self,
        key: u64,
        attempt: Attempt,
        now: Instant,
    ) -> Result<(), Box<Attempt>> {
        let (request, peer) = (attempt.request.clone(), attempt.peer.clone());
        let reliable = peer.transport.is_reliable();
        match self.transactions.send_request(request, peer, reliable, now) {
            Ok(id) => {
                self.call_of_tx.insert(id.clone(), key);
                if let Some(call) = self.calls.get_mut(&key) {
                    call.attempts.insert(id, attempt);
                }
                Ok(())
            }
            Err(e) => {
                tracing::debug!("sip: an INVITE of call {key}: {e}");
                Err(Box::new(attempt))
            }
        }
    }

    /// A trunk challenged our INVITE `id` (401/407): the same INVITE again with the trunk's
    /// credentials, once. False when it is no trunk's, was answered already, or cannot be.
    pub(super) fn answer_trunk_challenge(
        &mut self,
        key: u64,
        id: &TransactionId,
        r: &Response,
        now: Instant,
    ) -> bool {
        let Some(attempt) = self.calls.get_mut(&key).and_then(|c| c.attempts.remove(id)) else {
            return false;
        };
        let cnonce = self.unique();
        let answered = attempt.trunk.and_then(|t| {
            let config = &self.trunks.0.get(t)?.config;
            with_credentials(&attempt, r, config, &cnonce)
        });
        let Some(request) = answered else {
            if let Some(call) = self.calls.get_mut(&key) {
                call.attempts.insert(id.clone(), attempt);
            }
            return false;
        };
        let unique = self.unique();
        let mut request = request;
        if let Some(via) = request.head.via.first_mut() {
            via.params.set("branch", Some(format!("z9hG4bK{unique}")));
        }
        let first = attempt.request.clone();
        let again = Attempt {
            request,
            challenged: true,
            ..attempt
        };
        match self.send_attempt(key, again, now) {
            Ok(()) => {
                self.call_of_tx.remove(id);
                true
            }
            Err(attempt) => {
                // Refused here: the leg fails with the provider's challenge as its answer.
                let first = Attempt {
                    request: first,
                    ..*attempt
                };
                if let Some(call) = self.calls.get_mut(&key) {
                    call.attempts.insert(id.clone(), first);
                }
                false
            }
        }
    }
}

/// `attempt`'s INVITE with the next CSeq and the answer to `r`'s challenge; None when it was
/// answered already or the challenge is not one we can answer.
fn with_credentials(
    attempt: &Attempt,
    r: &Response,
    trunk: &crate::config::TrunkConfig,
    cnonce: &str,
) -> Option<Request> {
    if attempt.challenged {
        return None;
    }
    let mut request = attempt.request.clone();
    let uri = request.uri.to_string();
    let (name, value) = trunk_answer(r, ("INVITE", &uri), trunk, cnonce)?;
    request.head.cseq.seq += 1;
    request.head.headers.push(name, &value);
    Some(request)
}

/// The header answering a trunk's 401/407 `r` to our `method` at `uri` with the trunk's
/// account; None for a challenge we cannot answer.
pub(super) fn trunk_answer(
    r: &Response,
    (method, uri): (&str, &str),
    trunk: &crate::config::TrunkConfig,
    cnonce: &str,
) -> Option<(HeaderName, String)> {
    let (asked, answer_as) = match r.status {
        401 => (HeaderName::WWW_AUTHENTICATE, HeaderName::AUTHORIZATION),
        _ => (
            HeaderName::PROXY_AUTHENTICATE,
            HeaderName::PROXY_AUTHORIZATION,
        ),
    };
    let challenge = Challenge::parse(r.head.headers.get(&asked)?)?;
    let value = challenge.answer(&Credentials {
        method,
        uri,
        username: &trunk.username,
        password: trunk.password.expose(),
        cnonce,
        nc: 1,
    });
    Some((answer_as, value))
}

#[cfg(test)]
#[path = "trunk_calls_tests.rs"]
mod tests;
