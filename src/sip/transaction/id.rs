//! [`TransactionId`]: what matches a message to its transaction (RFC 3261 §17.1.3, §17.2.3).
//!
//! With an RFC 3261 branch (magic cookie plus something) the key is branch, sent-by and method,
//! ACK counting as INVITE. Without one — an RFC 2543 peer (RFC 4475 `inv2543`), or a branch that
//! is only the cookie (`badbranch`) — the key is built from Request-URI, Call-ID, CSeq number,
//! From tag and the top Via (§17.2.3's list without the To tag: the ACK of a non-2xx carries the
//! tag our response added, the INVITE had none).

use super::super::message::{Request, Response};
use super::super::method::Method;
use super::super::via::Via;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TransactionId {
    /// The branch, or for RFC 2543 matching the fields above joined with spaces.
    pub branch: String,
    /// `host[:port]` of the top Via, lower case.
    pub sent_by: String,
    /// The request method, ACK as INVITE.
    pub method: Method,
}

impl TransactionId {
    /// The server transaction a received request belongs to.
    pub fn server(request: &Request) -> TransactionId {
        let method = match request.method {
            Method::Ack => Method::Invite,
            ref m => m.clone(),
        };
        let Some(via) = request.head.via.first() else {
            return TransactionId::rfc2543(request, "", method);
        };
        match via.has_rfc3261_branch() {
            true => TransactionId {
                branch: via.branch().unwrap_or_default(),
                sent_by: via.sent_by(),
                method,
            },
            false => TransactionId::rfc2543(request, &via.to_string(), method),
        }
    }

    /// The client transaction of a request we send (its top Via must carry our branch).
    pub fn client(request: &Request) -> TransactionId {
        let via = request.head.via.first();
        TransactionId::from_via(via, request.head.cseq.method.clone())
    }

    /// The client transaction a received response belongs to (§17.1.3: branch and CSeq method).
    pub fn for_response(response: &Response) -> TransactionId {
        let via = response.head.via.first();
        TransactionId::from_via(via, response.head.cseq.method.clone())
    }

    /// The INVITE server transaction a CANCEL with this id cancels (§9.2).
    pub fn cancelled_invite(&self) -> TransactionId {
        TransactionId {
            method: Method::Invite,
            ..self.clone()
        }
    }

    fn from_via(via: Option<&Via>, method: Method) -> TransactionId {
        TransactionId {
            branch: via.and_then(Via::branch).unwrap_or_default(),
            sent_by: via.map(Via::sent_by).unwrap_or_default(),
            method,
        }
    }

    fn rfc2543(request: &Request, top_via: &str, method: Method) -> TransactionId {
        let h = &request.head;
        let from_tag = h.from.tag().unwrap_or_default();
        TransactionId {
            branch: format!(
                "rfc2543 {} {} {} {} {}",
                request.uri, h.call_id, h.cseq.seq, from_tag, top_via
            ),
            sent_by: h.via.first().map(Via::sent_by).unwrap_or_default(),
            method,
        }
    }
}
