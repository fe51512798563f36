//! The UAS side of a dialog (RFC 3261 §12.1.1): what a request that created it fixes — Call-ID,
//! both tags, both URIs, the remote target — and our own CSeq for the requests we send in it
//! (§12.2.1.1). Subscriptions use it now, calls later.

use crate::sip::{Message, Request, Response, SipLimits};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// The To URI of the creating request: who we are in this dialog.
    pub local_uri: String,
    /// The From URI of the creating request.
    pub remote_uri: String,
    /// The Contact URI of the creating (or latest target-refreshing) request.
    pub target: String,
    pub local_seq: u32,
    /// The CSeq of the other side's latest request in it (§12.2.2), None before the first.
    pub remote_seq: Option<u32>,
}

/// How a request we send leaves: the transport name for the Via, our address, and a unique
/// token for its branch.
#[derive(Debug, Clone, Copy)]
pub struct Leaving<'a> {
    pub transport: &'a str,
    pub local: &'a str,
    pub unique: &'a str,
}

impl Dialog {
    /// The dialog `request` creates, answered with To tag `local_tag`. None without a From tag
    /// or a Contact (§12.1.1 needs both).
    pub fn uas(request: &Request, local_tag: &str) -> Option<Dialog> {
        let remote_tag = request.head.from.tag()?;
        let target = request.head.contact.addresses().first()?.uri.to_string();
        Some(Dialog {
            call_id: request.head.call_id.clone(),
            local_tag: local_tag.to_owned(),
            remote_tag,
            local_uri: request.head.to.uri.to_string(),
            remote_uri: request.head.from.uri.to_string(),
            target,
            local_seq: 0,
            remote_seq: Some(request.head.cseq.seq),
        })
    }

    /// The dialog our `invite` created with the 2xx `response` (§12.1.2). None without a To
    /// tag or a Contact.
    pub fn uac(invite: &Request, response: &Response) -> Option<Dialog> {
        Some(Dialog {
            call_id: invite.head.call_id.clone(),
            local_tag: invite.head.from.tag()?,
            remote_tag: response.head.to.tag()?,
            local_uri: invite.head.from.uri.to_string(),
            remote_uri: invite.head.to.uri.to_string(),
            target: response.head.contact.addresses().first()?.uri.to_string(),
            local_seq: invite.head.cseq.seq,
            remote_seq: None,
        })
    }

    /// A request in this dialog (§12.2.1.1): `method` with `headers` (CRLF-terminated lines)
    /// and an optional body with its content type.
    pub fn request(
        &mut self,
        method: &str,
        leaving: Leaving<'_>,
        headers: &str,
        body: Option<(&str, &str)>,
    ) -> Option<Request> {
        self.local_seq = self.local_seq.wrapping_add(1).max(1);
        self.build(method, self.local_seq, leaving, headers, body)
    }

    /// The ACK of the 2xx to our INVITE (§13.2.2.4): the INVITE's CSeq number, its own branch.
    pub fn ack(&self, invite_seq: u32, leaving: Leaving<'_>) -> Option<Request> {
        self.build("ACK", invite_seq, leaving, "", None)
    }

    /// The same ACK carrying the SDP answer to an offer the 2xx made (RFC 3264 §5).
    pub fn ack_with(
        &self,
        invite_seq: u32,
        leaving: Leaving<'_>,
        body: Option<(&str, &str)>,
    ) -> Option<Request> {
        self.build("ACK", invite_seq, leaving, "", body)
    }

    /// Takes the CSeq of the other side's next request: false when it is not higher than the
    /// last one (§12.2.2: an old or repeated request, answered 500).
    pub fn take_remote_seq(&mut self, seq: u32) -> bool {
        if self.remote_seq.is_some_and(|last| seq <= last) {
            return false;
        }
        self.remote_seq = Some(seq);
        true
    }

    /// Whether `request` was sent in this dialog by its other side (§12.2.2: Call-ID, and the
    /// tags seen from here).
    pub fn is_from_remote(&self, request: &Request) -> bool {
        request.head.call_id == self.call_id
            && request.head.from.tag().as_deref() == Some(self.remote_tag.as_str())
            && request.head.to.tag().as_deref() == Some(self.local_tag.as_str())
    }

    fn build(
        &self,
        method: &str,
        seq: u32,
        leaving: Leaving<'_>,
        headers: &str,
        body: Option<(&str, &str)>,
    ) -> Option<Request> {
        let (content, length) = match body {
            Some((kind, text)) => (format!("Content-Type: {kind}\r\n"), text.len()),
            None => (String::new(), 0),
        };
        let text = format!(
            "{method} {target} SIP/2.0\r\n\
             Via: SIP/2.0/{transport} {local};branch=z9hG4bK{unique};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <{local_uri}>;tag={local_tag}\r\n\
             To: <{remote_uri}>;tag={remote_tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {seq} {method}\r\n\
             Contact: <sip:zentrale@{local}>\r\n\
             {headers}{content}Content-Length: {length}\r\n\r\n{body}",
            target = self.target,
            transport = leaving.transport.to_ascii_uppercase(),
            local = leaving.local,
            unique = leaving.unique,
            local_uri = self.local_uri,
            local_tag = self.local_tag,
            remote_uri = self.remote_uri,
            remote_tag = self.remote_tag,
            call_id = self.call_id,
            seq = seq,
            body = body.map_or("", |(_, text)| text),
        );
        match Message::parse(text.as_bytes(), &SipLimits::default()).ok()? {
            Message::Request(r) => Some(r),
            Message::Response(_) => None,
        }
    }
}
