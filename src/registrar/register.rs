//! Answering a REGISTER (RFC 3261 §10.3): Digest authentication (RFC 8760: SHA-256 and MD5,
//! offered in the configured order) against the device's SIP account, then the bindings.
//!
//! Sans-IO: the accounts come from an in-memory [`Accounts`] kept current from the store's
//! change feed, the time is passed in. Unknown users and wrong passwords get the same 401, so a
//! scanner learns nothing; the caller logs and counts what [`Answer::denied`] names.

use std::collections::HashMap;

use sha2::{Digest as _, Sha256};

use super::auth::{Context, Refused, authenticate};
use super::{Origin, RegisterError, Registrar, Request as Change, Update};
use crate::clock::UnixTime;
use crate::sip::{Contacts, HeaderName, Request, Response, Uri};
use crate::store::registrations::SipAccount;

/// The SIP accounts by username, and the devices that may register. Holds passwords: never
/// log it.
#[derive(Default)]
pub struct Accounts {
    by_name: HashMap<String, SipAccount>,
    allowed: std::collections::HashSet<i64>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Accounts({} accounts)", self.by_name.len())
    }
}

impl Accounts {
    pub fn new(accounts: impl IntoIterator<Item = (String, SipAccount)>) -> Accounts {
        let by_name: HashMap<String, SipAccount> = accounts.into_iter().collect();
        let allowed = by_name
            .values()
            .filter(|a| a.may_register())
            .map(|a| a.device_id)
            .collect();
        Accounts { by_name, allowed }
    }

    pub fn get(&self, username: &str) -> Option<&SipAccount> {
        self.by_name.get(username)
    }

    /// Whether `device` has an account that may register.
    pub fn allows(&self, device: i64) -> bool {
        self.allowed.contains(&device)
    }

    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

/// The response, and why the request counts as a failed attempt, if it does.
#[derive(Debug)]
pub struct Answer {
    pub response: Response,
    /// For the log and the per-source limiter (`sip: denied <ip> <reason>`).
    pub denied: Option<&'static str>,
    /// The device the request authenticated as.
    pub device: Option<i64>,
}

/// Answers `req` (a REGISTER) from `origin` at `now`.
pub fn register(
    req: &Request,
    origin: &Origin,
    registrar: &mut Registrar,
    ctx: &mut Context<'_>,
    now: UnixTime,
) -> Answer {
    let answer = |response, denied, device| Answer {
        response,
        denied,
        device,
    };
    // RFC 4475 unksm2: the address of record must be a SIP or SIPS URI.
    let Some(aor) = req.head.to.uri.as_sip() else {
        return answer(reply(req, 400, "To Must Be A SIP URI"), None, None);
    };
    let (account, username) = match authenticate(req, ctx, now) {
        Ok(found) => found,
        Err(Refused { response, denied }) => return answer(*response, denied, None),
    };
    let device = account.device_id;
    if !account.may_register() || aor.user.as_deref() != Some(username) {
        return answer(
            reply(req, 403, "Forbidden"),
            Some("not-allowed"),
            Some(device),
        );
    }
    let change = match changes(req) {
        Ok(change) => change,
        Err(e) => return answer(error_reply(req, &e), None, Some(device)),
    };
    match registrar.register(device, change, origin, now) {
        Ok(bindings) => {
            let mut ok = reply(req, 200, "OK");
            for b in &bindings {
                let contact = format!("{};expires={}", b.contact, b.remaining(now));
                ok.head.headers.push(HeaderName::CONTACT, contact);
            }
            answer(ok, None, Some(device))
        }
        Err(e) => answer(error_reply(req, &e), None, Some(device)),
    }
}

/// What the request asks of the registrar.
fn changes(req: &Request) -> Result<Change, RegisterError> {
    let expires = req
        .head
        .headers
        .expires()
        .map_err(|_| RegisterError::BadWildcard)?;
    match &req.head.contact {
        Contacts::Star if expires == Some(0) => Ok(Change::RemoveAll),
        Contacts::Star => Err(RegisterError::BadWildcard),
        Contacts::List(list) if list.is_empty() => Ok(Change::Query),
        Contacts::List(list) => Ok(Change::Contacts(
            list.iter()
                .map(|c| Update {
                    contact: without_expires(c),
                    key: uri_key(&c.uri),
                    expires: c.expires().or(expires),
                    q: c.q(),
                })
                .collect(),
        )),
    }
}

/// The Contact as registered, without its `expires` parameter (the 200 states the granted one).
fn without_expires(c: &crate::sip::NameAddr) -> String {
    let mut c = c.clone();
    c.params.remove("expires");
    c.to_string()
}

/// What makes two contact URIs the same (RFC 3261 §19.1.4, see [`crate::sip::SipUri::comparison_key`]).
pub fn uri_key(uri: &Uri) -> String {
    match uri.as_sip() {
        Some(sip) => sip.comparison_key(),
        None => uri.to_string(),
    }
}

fn error_reply(req: &Request, e: &RegisterError) -> Response {
    match e {
        RegisterError::TooBrief { min_expires } => {
            let mut r = reply(req, 423, "Interval Too Brief");
            r.head
                .headers
                .push(HeaderName::MIN_EXPIRES, min_expires.to_string());
            r
        }
        RegisterError::OutOfOrder => reply(req, 500, "Out Of Order Request"),
        RegisterError::BadWildcard => reply(req, 400, "Bad Contact Or Expires"),
        RegisterError::Full => {
            let mut r = reply(req, 503, "Too Many Bindings");
            r.head.headers.push(HeaderName::RETRY_AFTER, "60");
            r
        }
    }
}

/// A response with a To tag derived from the Call-ID (the same for every retransmission).
pub fn reply(req: &Request, status: u16, reason: &str) -> Response {
    let mut r = Response::for_request(req, status, reason);
    if r.head.to.tag().is_none() {
        let digest = Sha256::digest(req.head.call_id.as_bytes());
        r.head
            .to
            .params
            .set("tag", Some(crate::digest::hex(&digest[..6])));
    }
    r
}

#[cfg(test)]
#[path = "register_tests.rs"]
mod tests;
