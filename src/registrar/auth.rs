//! Digest authentication of SIP requests (RFC 3261 §22, RFC 8760: SHA-256 and MD5, qop=auth)
//! against the devices' SIP accounts: REGISTER and SUBSCRIBE share it.
//!
//! Nonces are stateless ([`Nonces`]: a timestamp and a MAC), so the only state is
//! [`Replays`]: the highest nonce count seen per nonce (RFC 7616 §3.4.4 `nc`), so a request
//! captured on the wire cannot be sent again while its nonce is fresh. A replay is answered like
//! a stale nonce: the phone knew the password once, so it is no failed attempt, and a phone
//! that reuses a count by mistake simply answers the fresh challenge.

use std::collections::{HashMap, VecDeque};

use super::register::{Accounts, reply};
use crate::clock::UnixTime;
use crate::digest::{Algorithm, Freshness, Nonces};
use crate::sip::{HeaderName, Request, Response};
use crate::store::registrations::SipAccount;

/// What authenticating a request needs.
#[derive(Debug)]
pub struct Context<'a> {
    /// The realm of the challenge: the SIP domain.
    pub realm: &'a str,
    pub nonces: &'a Nonces,
    pub accounts: &'a Accounts,
    /// The algorithms offered, most preferred first (RFC 8760 §2.4); answers in either of MD5
    /// and SHA-256 are accepted whatever is offered.
    pub algorithms: &'a [Algorithm],
    pub replays: &'a mut Replays,
}

/// A request that did not authenticate: the 401 to send, and why it counts as a failed
/// attempt (`sip: denied <ip> <reason>`), if it does.
#[derive(Debug)]
pub struct Refused {
    pub response: Box<Response>,
    pub denied: Option<&'static str>,
}

/// The account (and its username) whose password the request's Digest answer proves.
pub fn authenticate<'a, 'r>(
    req: &'r Request,
    ctx: &mut Context<'a>,
    now: UnixTime,
) -> Result<(&'a SipAccount, &'r str), Refused> {
    let refuse = |ctx: &Context<'_>, stale, denied| Refused {
        response: Box::new(challenge(req, ctx, now, stale)),
        denied,
    };
    // Only the first answer for our realm counts (RFC 3261 §22.4 allows one per realm): a
    // request carrying many answers must not be many guesses for the price of one failure.
    let Some(answer) = req
        .head
        .headers
        .get_all(&HeaderName::AUTHORIZATION)
        .filter_map(crate::digest::Answer::parse)
        .find(|a| a.realm == ctx.realm)
    else {
        return Err(refuse(ctx, false, None));
    };
    // The answer must be for this request's URI: one captured for another is void.
    if answer.uri != req.uri.to_string() {
        return Err(refuse(ctx, false, Some("bad-credentials")));
    }
    let accounts = ctx.accounts;
    let Some(account) = accounts.get(answer.username) else {
        return Err(refuse(ctx, false, Some("unknown-user")));
    };
    if !answer.proves(req.method.as_str(), &account.password) {
        return Err(refuse(ctx, false, Some("bad-credentials")));
    }
    let (stale, tried) = match ctx.nonces.check(answer.nonce, now) {
        Freshness::Fresh => {
            let count = answer.qop_auth.map(|(nc, _)| nc);
            match ctx.replays.admit(answer.nonce, count, now) {
                true => return Ok((account, answer.username)),
                false => (true, None),
            }
        }
        Freshness::Stale => (true, None),
        Freshness::Forged => (false, Some("bad-nonce")),
    };
    // A stale nonce is no failed attempt: the phone knew the password.
    Err(refuse(ctx, stale, tried))
}

/// 401 with one challenge per offered algorithm, in order of preference (RFC 8760 §2.4).
pub fn challenge(req: &Request, ctx: &Context<'_>, now: UnixTime, stale: bool) -> Response {
    let mut r = reply(req, 401, "Unauthorized");
    let nonce = ctx.nonces.issue(now);
    for &algorithm in ctx.algorithms {
        let value = crate::digest::challenge(ctx.realm, algorithm, &nonce, stale);
        r.head.headers.push(HeaderName::WWW_AUTHENTICATE, value);
    }
    r
}

/// The highest nonce count used with each fresh nonce. Bounded: when full, the oldest entry
/// goes and every nonce issued no later than it counts as used up (stale), so forgetting never
/// lets a replay through.
#[derive(Debug)]
pub struct Replays {
    counts: HashMap<String, u32>,
    /// Nonces in the order first seen, with their issue time.
    order: VecDeque<(i64, String)>,
    lifetime_secs: i64,
    max: usize,
    /// Nonces issued at or before this second are refused (their counts were forgotten).
    floor: i64,
}

impl Replays {
    /// Remembers up to `max` nonces, each for `lifetime_secs` (the nonce lifetime).
    pub fn new(lifetime_secs: u64, max: usize) -> Replays {
        Replays {
            counts: HashMap::new(),
            order: VecDeque::new(),
            lifetime_secs: i64::try_from(lifetime_secs).unwrap_or(i64::MAX),
            max: max.max(1),
            floor: i64::MIN,
        }
    }

    /// Records that `nonce` (fresh, from [`Nonces`]) was used with count `nc` (8 hex digits;
    /// `None` without qop: such a nonce is good once). False when that count, or a higher
    /// one, was already used: a replay.
    pub fn admit(&mut self, nonce: &str, nc: Option<&str>, now: UnixTime) -> bool {
        let count = match nc {
            None => 1,
            Some(text) if text.len() == 8 => match u32::from_str_radix(text, 16) {
                Ok(c) if c > 0 => c,
                _ => return false,
            },
            Some(_) => return false,
        };
        let Some(issued) = Nonces::issued_at(nonce) else {
            return false;
        };
        self.expire(now);
        if issued <= self.floor {
            return false;
        }
        if let Some(seen) = self.counts.get_mut(nonce) {
            if count <= *seen {
                return false;
            }
            *seen = count;
            return true;
        }
        if self.counts.len() >= self.max {
            self.forget_oldest();
        }
        self.counts.insert(nonce.to_owned(), count);
        self.order.push_back((issued, nonce.to_owned()));
        true
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Drops nonces past their lifetime (they are stale whatever we remember).
    fn expire(&mut self, now: UnixTime) {
        let limit = now.secs().saturating_sub(self.lifetime_secs);
        while let Some((issued, _)) = self.order.front() {
            if *issued >= limit {
                break;
            }
            if let Some((_, nonce)) = self.order.pop_front() {
                self.counts.remove(&nonce);
            }
        }
    }

    fn forget_oldest(&mut self) {
        if let Some((issued, nonce)) = self.order.pop_front() {
            self.counts.remove(&nonce);
            self.floor = self.floor.max(issued);
        }
    }
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
