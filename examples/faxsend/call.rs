//! The SIP side of the far-end fax machine: one call from a UAC over UDP, on zentrale's own
//! message codec and transaction layer (`zentrale::sip`).
//!
//! It sends the INVITE (answering one 401/407 per request with Digest, `zentrale::digest`),
//! ACKs the 2xx (RFC 3261 §13.2.2.4, again for every retransmitted 2xx), sends re-INVITEs and
//! the BYE in the dialog, and answers the other side's re-INVITE (2xx retransmitted until its
//! ACK, §13.3.1.4) and BYE. What the session must decide comes out as [`CallEvent`]s.

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use anyhow::{Context as _, bail};
use bytes::Bytes;
use zentrale::clock::Instant;
use zentrale::digest::{Challenge, Credentials};
use zentrale::sip::transaction::{Incoming, ResponseOutcome, TransactionEvent, TransactionId};
use zentrale::sip::{HeaderName, Message, Method, Request, Response, SipLimits, Timers};

type Transactions = zentrale::sip::Transactions<SocketAddr>;

/// What the session hears from the call.
#[derive(Debug)]
pub enum CallEvent {
    /// The INVITE was answered (and ACKed); the answer's SDP.
    Answered(Bytes),
    /// Our re-INVITE got a final response: the status and the answer's SDP (2xx only).
    ReinviteAnswered(u16, Bytes),
    /// The other side offers new media (a re-INVITE); answer with [`Call::accept`] or
    /// [`Call::refuse`].
    Offer(TransactionId, Bytes),
    /// The other side hung up (its BYE is answered).
    Bye,
    /// Our BYE was answered (or timed out).
    ByeAnswered,
    /// The call failed: the INVITE was refused, timed out, or a request of ours did.
    Failed(String),
}

/// Who we are and whom we call.
#[derive(Debug, Clone)]
pub struct CallConfig {
    pub server: SocketAddr,
    /// The dialled number (the fax extension).
    pub to: String,
    pub user: String,
    pub password: String,
    /// Print every SIP message sent and received on stderr.
    pub verbose: bool,
}

/// A request of ours waiting for its final response.
#[derive(Debug)]
struct Pending {
    request: Request,
    /// Whether it already went out again with credentials.
    authorized: bool,
}

/// Our 2xx to a re-INVITE, sent again until its ACK (T1 doubling up to T2).
#[derive(Debug)]
struct Unacked {
    id: TransactionId,
    response: Response,
    next: Instant,
    interval: Duration,
}

#[derive(Debug)]
pub struct Call {
    config: CallConfig,
    socket: UdpSocket,
    local: SocketAddr,
    tx: Transactions,
    call_id: String,
    local_tag: String,
    remote_tag: Option<String>,
    /// The remote target: the request URI until the 2xx gives a Contact.
    target: String,
    cseq: u32,
    pending: Vec<(TransactionId, Pending)>,
    /// The ACK of the INVITE's 2xx, for the 2xx's retransmissions.
    ack: Option<Vec<u8>>,
    unacked: Option<Unacked>,
    events: VecDeque<CallEvent>,
}

impl Call {
    pub fn new(config: CallConfig, socket: UdpSocket) -> anyhow::Result<Call> {
        let local = socket.local_addr()?;
        socket.set_nonblocking(true)?;
        let target = format!("sip:{}@{}", config.to, config.server);
        Ok(Call {
            config,
            socket,
            local,
            tx: Transactions::new(Timers::default(), 64),
            call_id: format!("{}@faxsend", token()),
            local_tag: token(),
            remote_tag: None,
            target,
            cseq: 0,
            pending: Vec::new(),
            ack: None,
            unacked: None,
            events: VecDeque::new(),
        })
    }

    /// Sends an INVITE with an offer: the first, or once answered a re-INVITE in the dialog.
    pub fn invite(&mut self, sdp: &str, now: Instant) -> anyhow::Result<()> {
        self.send("INVITE", Some(sdp), now)
    }

    /// Hangs up.
    pub fn bye(&mut self, now: Instant) -> anyhow::Result<()> {
        self.send("BYE", None, now)
    }

    /// Accepts the other side's offer with 200 and our answer.
    pub fn accept(&mut self, id: TransactionId, sdp: &str, now: Instant) -> anyhow::Result<()> {
        let Some(request) = self.tx.server(&id).and_then(|s| s.request()).cloned() else {
            bail!("the re-INVITE's transaction is gone");
        };
        let mut response = Response::for_request(&request, 200, "OK");
        response.head.contact.add_line(&self.contact())?;
        response
            .head
            .headers
            .push(HeaderName::CONTENT_TYPE, "application/sdp");
        response.body = Bytes::from(sdp.to_owned());
        self.tx.respond(&id, response.clone(), now)?;
        let t1 = Timers::default().t1;
        self.unacked = Some(Unacked {
            id,
            response,
            next: now + t1,
            interval: t1,
        });
        self.flush()
    }

    /// Refuses the other side's offer (488 Not Acceptable Here for T.38 we will not do).
    pub fn refuse(&mut self, id: TransactionId, status: u16, now: Instant) -> anyhow::Result<()> {
        let Some(request) = self.tx.server(&id).and_then(|s| s.request()).cloned() else {
            bail!("the re-INVITE's transaction is gone");
        };
        let response = Response::for_request(&request, status, reason(status));
        self.tx.respond(&id, response, now)?;
        self.flush()
    }

    pub fn poll_event(&mut self) -> Option<CallEvent> {
        self.events.pop_front()
    }

    /// Reads every datagram waiting on the socket, fires due timers, sends what is due.
    pub fn poll(&mut self, now: Instant) -> anyhow::Result<()> {
        let mut buf = [0u8; 65_535];
        loop {
            match self.socket.recv_from(&mut buf) {
                Ok((n, from)) => self.handle_datagram(&buf[..n], from, now)?,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e).context("SIP socket"),
            }
        }
        self.tx.handle_timeout(now);
        self.retransmit_2xx(now);
        self.drain(now)?;
        self.flush()
    }

    fn handle_datagram(
        &mut self,
        bytes: &[u8],
        from: SocketAddr,
        now: Instant,
    ) -> anyhow::Result<()> {
        let Ok(message) = Message::parse(bytes, &SipLimits::default()) else {
            eprintln!("faxsend: dropped an unparsable datagram from {from}");
            return Ok(());
        };
        self.trace("<-", bytes);
        match message {
            Message::Request(request) => self.handle_request(request, from, now),
            Message::Response(response) => {
                if let ResponseOutcome::Stray(response) = self.tx.handle_response(response, now) {
                    self.stray(&response)?;
                }
                Ok(())
            }
        }
    }

    fn handle_request(
        &mut self,
        request: Request,
        from: SocketAddr,
        now: Instant,
    ) -> anyhow::Result<()> {
        match self.tx.handle_request(request, from, false, now) {
            Incoming::New(id, request) => match request.method {
                Method::Invite => self.events.push_back(CallEvent::Offer(id, request.body)),
                Method::Bye => {
                    let ok = Response::for_request(&request, 200, "OK");
                    self.tx.respond(&id, ok, now)?;
                    self.events.push_back(CallEvent::Bye);
                }
                _ => {
                    let refusal = Response::for_request(&request, 405, "Method Not Allowed");
                    self.tx.respond(&id, refusal, now)?;
                }
            },
            Incoming::Ack(ack) => {
                if self
                    .unacked
                    .as_ref()
                    .is_some_and(|u| u.response.head.cseq.seq == ack.head.cseq.seq)
                {
                    self.unacked = None;
                }
            }
            Incoming::Cancel { .. } | Incoming::Absorbed | Incoming::Full(_) => {}
        }
        Ok(())
    }

    /// A 2xx to our INVITE again (its ACK got lost): ACK again.
    fn stray(&mut self, response: &Response) -> anyhow::Result<()> {
        if response.head.cseq.method == Method::Invite
            && (200..300).contains(&response.status)
            && let Some(ack) = &self.ack
        {
            self.socket.send_to(ack, self.config.server)?;
        }
        Ok(())
    }

    fn retransmit_2xx(&mut self, now: Instant) {
        let Some(u) = &mut self.unacked else {
            return;
        };
        if u.next > now {
            return;
        }
        let timers = Timers::default();
        if u.interval >= timers.timeout() {
            // §13.3.1.4: no ACK within 64·T1; the dialog would end here. zentrale's missing
            // ACK is its fault; the fax goes on, and the report says why if it fails.
            eprintln!("faxsend: no ACK for our 200 to the re-INVITE");
            self.unacked = None;
            return;
        }
        let _ = self.tx.respond(&u.id, u.response.clone(), now);
        u.interval = (u.interval * 2).min(timers.t2);
        u.next = now + u.interval;
    }

    /// Hands the transaction layer's events to the call.
    fn drain(&mut self, now: Instant) -> anyhow::Result<()> {
        while let Some((id, event)) = self.tx.poll_event() {
            let Some(at) = self.pending.iter().position(|(p, _)| *p == id) else {
                continue;
            };
            match event {
                TransactionEvent::Response(response) if response.status < 200 => {}
                TransactionEvent::Response(response) => {
                    let (_, pending) = self.pending.remove(at);
                    self.final_response(pending, *response, now)?;
                }
                TransactionEvent::Timeout | TransactionEvent::TransportError => {
                    let (_, pending) = self.pending.remove(at);
                    let method = pending.request.method;
                    match method {
                        Method::Bye => self.events.push_back(CallEvent::ByeAnswered),
                        _ => self
                            .events
                            .push_back(CallEvent::Failed(format!("no answer to our {method}"))),
                    }
                }
            }
        }
        Ok(())
    }

    fn final_response(
        &mut self,
        pending: Pending,
        response: Response,
        now: Instant,
    ) -> anyhow::Result<()> {
        let method = pending.request.method.clone();
        if matches!(response.status, 401 | 407) && !pending.authorized {
            return self.authorize(pending.request, &response, now);
        }
        let initial = method == Method::Invite && self.remote_tag.is_none();
        if initial && (200..300).contains(&response.status) {
            self.established(&pending.request, &response)?;
        }
        let event = match (method, response.status) {
            (Method::Bye, _) => CallEvent::ByeAnswered,
            (Method::Invite, 200..=299) if initial => CallEvent::Answered(response.body),
            (Method::Invite, status) if !initial => {
                if (200..300).contains(&status) {
                    self.send_ack(&pending.request)?;
                }
                CallEvent::ReinviteAnswered(status, response.body)
            }
            (method, status) => {
                CallEvent::Failed(format!("{method} answered {status} {}", response.reason))
            }
        };
        self.events.push_back(event);
        Ok(())
    }

    /// The INVITE's 2xx: the dialog's remote tag and target (§12.1.2), and the ACK.
    fn established(&mut self, invite: &Request, response: &Response) -> anyhow::Result<()> {
        self.remote_tag = Some(response.head.to.tag().context("2xx without To tag")?);
        let contact = response.head.contact.addresses().first();
        self.target = contact.context("2xx without Contact")?.uri.to_string();
        self.send_ack(invite)
    }

    fn send_ack(&mut self, invite: &Request) -> anyhow::Result<()> {
        let ack = self.request("ACK", invite.head.cseq.seq, None)?.print();
        self.trace("->", &ack);
        self.socket.send_to(&ack, self.config.server)?;
        self.ack = Some(ack);
        Ok(())
    }

    /// Sends `request` again with the answer to the challenge in `response` (new CSeq, branch).
    fn authorize(
        &mut self,
        request: Request,
        response: &Response,
        now: Instant,
    ) -> anyhow::Result<()> {
        let (asked, answer_in) = match response.status {
            401 => (HeaderName::WWW_AUTHENTICATE, HeaderName::AUTHORIZATION),
            _ => (
                HeaderName::PROXY_AUTHENTICATE,
                HeaderName::PROXY_AUTHORIZATION,
            ),
        };
        let challenge = response
            .head
            .headers
            .get(&asked)
            .and_then(Challenge::parse)
            .context("a challenge without a Digest we can answer")?;
        let uri = request.uri.to_string();
        let value = challenge.answer(&Credentials {
            method: request.method.as_str(),
            uri: &uri,
            username: &self.config.user,
            password: &self.config.password,
            cnonce: &token(),
            nc: 1,
        });
        self.cseq += 1;
        let body = std::str::from_utf8(&request.body)
            .ok()
            .filter(|b| !b.is_empty());
        let mut again = self.request(request.method.as_str(), self.cseq, body)?;
        again.head.headers.push(answer_in, value);
        self.start(again, true, now)
    }

    fn send(&mut self, method: &str, sdp: Option<&str>, now: Instant) -> anyhow::Result<()> {
        self.cseq += 1;
        let request = self.request(method, self.cseq, sdp)?;
        self.start(request, false, now)
    }

    fn start(&mut self, request: Request, authorized: bool, now: Instant) -> anyhow::Result<()> {
        let id = self
            .tx
            .send_request(request.clone(), self.config.server, false, now)?;
        self.pending.push((
            id,
            Pending {
                request,
                authorized,
            },
        ));
        self.flush()
    }

    /// A request of this call, written as text and read back with the codec (so what goes out
    /// is what zentrale's parser accepts).
    fn request(&self, method: &str, seq: u32, sdp: Option<&str>) -> anyhow::Result<Request> {
        let to_tag = self
            .remote_tag
            .as_ref()
            .map_or(String::new(), |t| format!(";tag={t}"));
        let content = sdp.map_or(String::new(), |_| {
            "Content-Type: application/sdp\r\n".into()
        });
        let body = sdp.unwrap_or_default();
        let text = format!(
            "{method} {target} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {local};branch=z9hG4bK{branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{user}@{server}>;tag={tag}\r\n\
             To: <sip:{to}@{server}>{to_tag}\r\n\
             Call-ID: {call_id}\r\n\
             CSeq: {seq} {method}\r\n\
             Contact: {contact}\r\n\
             User-Agent: zentrale-faxsend\r\n\
             {content}Content-Length: {length}\r\n\r\n{body}",
            target = self.target,
            local = self.local,
            branch = token(),
            user = self.config.user,
            server = self.config.server,
            tag = self.local_tag,
            to = self.config.to,
            call_id = self.call_id,
            contact = self.contact(),
            length = body.len(),
        );
        match Message::parse(text.as_bytes(), &SipLimits::default())? {
            Message::Request(request) => Ok(request),
            Message::Response(_) => bail!("built a response instead of a {method}"),
        }
    }

    fn contact(&self) -> String {
        format!("<sip:{}@{}>", self.config.user, self.local)
    }

    /// Sends what the transaction layer queued.
    fn flush(&mut self) -> anyhow::Result<()> {
        while let Some(t) = self.tx.poll_transmit() {
            self.trace("->", &t.bytes);
            self.socket.send_to(&t.bytes, t.to)?;
        }
        Ok(())
    }

    fn trace(&self, arrow: &str, bytes: &[u8]) {
        if self.config.verbose {
            eprintln!("faxsend: {arrow}\n{}", String::from_utf8_lossy(bytes));
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        488 => "Not Acceptable Here",
        _ => "Refused",
    }
}

/// A random token for tags, branches, Call-IDs and cnonces.
fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}
