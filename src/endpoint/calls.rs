//! The calls the endpoint is a B2BUA for (issue 12): the caller's leg ends here, each rung
//! contact gets an INVITE of ours. What a call is, and the requests it sends; the handling is
//! in `invite.rs`.

use std::collections::HashMap;

use std::time::Duration;

use bytes::Bytes;

use super::Peer;
use super::dialog::Dialog;
use crate::clock::Instant;
use crate::dispatch::{self, LegId};
use crate::sip::transaction::TransactionId;
use crate::sip::{Message, Request, Response, SipLimits};
use crate::store::{ActionKind, CallClass, CallOutcome};

/// The name and number a callee sees (the caller's user's display name and extension, or
/// their alternative caller id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerId {
    pub name: String,
    pub number: String,
    /// For a caller of ours, what a trunk may present for them (their CID number, their
    /// extension); None for a caller from outside (passed on as received).
    pub ours: Option<Ours>,
}

/// A calling user's numbers, for the trunk to choose from ([`super::trunk::Trunks::presented`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ours {
    pub cid: Option<String>,
    pub extension: Option<String>,
}

/// What the driver found for an INVITE: ring through dispatch, or refuse.
#[derive(Debug)]
pub enum Route {
    Dispatch {
        request: dispatch::CallRequest,
        view: dispatch::View,
        caller: CallerId,
    },
    /// Out through trunk `trunk` to `number` (a number none of ours has).
    Trunk {
        trunk: usize,
        number: String,
        caller: CallerId,
    },
    /// Answered by zentrale itself (the owner dialled their mailbox, a fax extension); the
    /// caller as far as known (a fax mail names them).
    Local {
        app: super::local::App,
        caller: Option<CallerId>,
    },
    /// A final status (404 for nothing at that number, 403, 503).
    Refuse(u16, &'static str),
}

/// One INVITE of ours to one contact of a rung device.
#[derive(Debug)]
pub struct Attempt {
    pub leg: LegId,
    /// The device rung, [`NO_DEVICE`] for a number dialled through a trunk.
    pub device: i64,
    /// The trunk this INVITE went through (it may be challenged, 401/407).
    pub trunk: Option<usize>,
    /// It already carries our answer to the trunk's challenge.
    pub challenged: bool,
    pub request: Request,
    pub peer: Peer,
    /// A final response came (or the transaction timed out): its status, 0 for none.
    pub done: Option<u16>,
    /// Its reliable provisionals (RFC 3262), PRACKed by us.
    pub reliable: super::prack::Reliable,
}

/// The leg of a call out through a trunk that dispatch does not know: a dialled number, or the
/// number dispatch forwarded to.
pub const OUTSIDE: LegId = LegId(u32::MAX);

/// The device of an [`Attempt`] to a number through a trunk (store ids start at 1).
pub const NO_DEVICE: i64 = 0;

/// An answered call: both dialogs and where they lead.
#[derive(Debug)]
pub struct Connected {
    pub caller: Dialog,
    pub caller_peer: Peer,
    pub callee: Dialog,
    pub callee_peer: Peer,
    /// The ACK we sent for the callee's 2xx (sent again when the 2xx is).
    pub ack: Bytes,
    /// Our 2xx to the caller, sent again until its ACK comes (RFC 3261 §13.3.1.4): when
    /// next, and the interval (T1 doubling to T2); None once ACKed or over TCP.
    pub ok: Response,
    pub resend: Option<(Instant, Duration)>,
    /// Without an ACK by then (64·T1), the call ends with a BYE to both.
    pub give_up: Option<Instant>,
    /// re-INVITEs, UPDATEs and INFOs passed from one dialog to the other.
    pub relays: super::relay::Relays,
    /// The trunk the callee is reached through (it may challenge what we send it).
    pub trunk: Option<usize>,
}

#[derive(Debug)]
pub struct Call {
    /// The caller's INVITE, its server transaction and where it came from.
    pub invite: Request,
    pub server: TransactionId,
    pub peer: Peer,
    /// Our To tag towards the caller.
    pub tag: String,
    /// The device of ours that placed the call (None: it came from a trunk).
    pub from_device: Option<i64>,
    pub caller: Option<CallerId>,
    pub dispatch: Option<dispatch::Call>,
    pub attempts: HashMap<TransactionId, Attempt>,
    /// The caller heard ringing already.
    pub ringing: bool,
    pub connected: Option<Connected>,
    /// Answered (or about to be) by zentrale itself: voicemail, the mailbox.
    pub local: Option<super::local::Local>,
    pub record: Record,
}

impl Call {
    /// Answered: by a callee, or by us.
    pub fn is_answered(&self) -> bool {
        self.connected.is_some() || matches!(self.local, Some(super::local::Local::Answered(_)))
    }
}

/// What the call record [`Ended`] will say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub started: Instant,
    pub answered: Option<Instant>,
    pub answered_by: Option<i64>,
    /// What was dialled.
    pub dialled: String,
    pub class: CallClass,
    pub outcome: Option<CallOutcome>,
    pub after_action: Option<ActionKind>,
}

/// A call that ended, for the call records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ended {
    pub record: Record,
    pub caller: Option<CallerId>,
    pub ended: Instant,
}

/// What the caller's INVITE carried that every leg passes on.
#[derive(Debug, Clone, Copy)]
pub struct Outbound<'a> {
    pub target: &'a str,
    pub transport: &'a str,
    pub local: &'a str,
    pub domain: &'a str,
    pub unique: &'a str,
    pub caller: &'a CallerId,
    pub sdp: &'a [u8],
}

/// Our INVITE to one contact: a new dialog with the caller's id and SDP (media flows phone to
/// phone).
pub fn invite(o: &Outbound<'_>) -> Option<Request> {
    let (kind, length) = match o.sdp.is_empty() {
        true => (String::new(), 0),
        false => ("Content-Type: application/sdp\r\n".to_owned(), o.sdp.len()),
    };
    let name = o.caller.name.replace(['"', '\\', '\r', '\n'], "");
    let head = format!(
        "INVITE {target} SIP/2.0\r\n\
         Via: SIP/2.0/{transport} {local};branch=z9hG4bK{u};rport\r\n\
         Max-Forwards: 70\r\n\
         From: \"{name}\" <sip:{number}@{domain}>;tag={u}\r\n\
         To: <{target}>\r\n\
         Call-ID: {u}@{domain}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:zentrale@{local}>\r\n\
         Allow: {allow}\r\n\
         {kind}Content-Length: {length}\r\n\r\n",
        target = o.target,
        transport = o.transport.to_ascii_uppercase(),
        local = o.local,
        u = o.unique,
        number = o.caller.number,
        domain = o.domain,
        allow = super::ALLOW,
    );
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(o.sdp);
    match Message::parse(&bytes, &SipLimits::default()).ok()? {
        Message::Request(r) => Some(r),
        Message::Response(_) => None,
    }
}

/// The CANCEL of our `invite` (RFC 3261 §9.1: same branch, Call-ID, From, To, CSeq number),
/// with the RFC 3326 Reason.
pub fn cancel(invite: &Request, reason: &str) -> Request {
    let mut r = invite.clone();
    r.method = crate::sip::Method::Cancel;
    r.head.cseq.method = crate::sip::Method::Cancel;
    r.head.contact = Default::default();
    r.head.headers = Default::default();
    r.head.headers.push(crate::sip::HeaderName::REASON, reason);
    r.body = Bytes::new();
    r
}
