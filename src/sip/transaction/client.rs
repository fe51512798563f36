//! [`ClientTransaction`]: RFC 3261 §17.1 — the INVITE client transaction (Figure 5, Timers A, B,
//! D; ACK for non-2xx built here, §17.1.1.3) and the non-INVITE one (Figure 6, Timers E, F, K).
//!
//! Sans-IO: [`ClientTransaction::new`] queues the request; the driver sends what
//! `poll_transmit` yields, hands received responses to `handle_response`, calls
//! `handle_timeout` at `poll_timeout`, and passes `poll_event`s to the TU.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;

use super::super::cseq::CSeq;
use super::super::head::Head;
use super::super::header_name::HeaderName;
use super::super::headers::Headers;
use super::super::message::{Request, Response};
use super::super::method::Method;
use super::Timers;
use crate::clock::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientState {
    /// INVITE "Calling" or non-INVITE "Trying": the request is out, nothing came back.
    Calling,
    Proceeding,
    Completed,
    Terminated,
}

/// What a client transaction tells its TU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// A response to pass up (retransmitted finals are absorbed, not repeated here).
    Response(Box<Response>),
    /// Timer B or F fired: no final response (the TU treats it as 408, §8.1.3.1).
    Timeout,
    /// The transport could not send (§17.1.4).
    TransportError,
}

#[derive(Debug)]
pub struct ClientTransaction {
    invite: bool,
    state: ClientState,
    request: Request,
    wire: Bytes,
    reliable: bool,
    timers: Timers,
    /// Timer A or E and its current interval.
    retransmit: Option<(Instant, Duration)>,
    /// Timer B or F.
    timeout: Option<Instant>,
    /// Timer D or K.
    linger: Option<Instant>,
    ack: Option<Bytes>,
    transmits: VecDeque<Bytes>,
    events: VecDeque<ClientEvent>,
}

impl ClientTransaction {
    pub fn new(request: Request, reliable: bool, timers: Timers, now: Instant) -> Self {
        let wire = Bytes::from(request.print());
        let retransmit = (!reliable).then_some((now + timers.t1, timers.t1));
        ClientTransaction {
            invite: request.method == Method::Invite,
            state: ClientState::Calling,
            transmits: VecDeque::from([wire.clone()]),
            request,
            wire,
            reliable,
            timers,
            retransmit,
            timeout: Some(now + timers.timeout()),
            linger: None,
            ack: None,
            events: VecDeque::new(),
        }
    }

    pub fn state(&self) -> ClientState {
        self.state
    }

    pub fn is_terminated(&self) -> bool {
        self.state == ClientState::Terminated
    }

    pub fn request(&self) -> &Request {
        &self.request
    }

    /// A response matched to this transaction (§17.1.3).
    pub fn handle_response(&mut self, response: Response, now: Instant) {
        use ClientState::*;
        match (self.state, response.status) {
            (Calling | Proceeding, 100..=199) => {
                self.state = Proceeding;
                if self.invite {
                    // Figure 5: no timers in Proceeding; the TU may CANCEL.
                    self.retransmit = None;
                    self.timeout = None;
                }
                self.events
                    .push_back(ClientEvent::Response(Box::new(response)));
            }
            (Calling | Proceeding, 200..=299) if self.invite => {
                // The ACK for a 2xx belongs to the TU; so do its retransmissions (§17.1.1.2).
                self.events
                    .push_back(ClientEvent::Response(Box::new(response)));
                self.terminate();
            }
            (Calling | Proceeding, _) => {
                self.retransmit = None;
                self.timeout = None;
                self.state = Completed;
                let linger = match self.invite {
                    true => self
                        .timers
                        .unreliable_only(self.timers.timer_d, self.reliable),
                    false => self.timers.unreliable_only(self.timers.t4, self.reliable),
                };
                self.linger = Some(now + linger);
                if self.invite {
                    let ack = Bytes::from(ack_for(&self.request, &response).print());
                    self.transmits.push_back(ack.clone());
                    self.ack = Some(ack);
                }
                self.events
                    .push_back(ClientEvent::Response(Box::new(response)));
            }
            (Completed, 200..=699) => {
                // A retransmitted final response: ACK again (INVITE), never pass it up.
                self.transmits.extend(self.ack.clone());
            }
            _ => {}
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.linger.is_some_and(|t| t <= now) {
            self.terminate();
            return;
        }
        if self.timeout.is_some_and(|t| t <= now) {
            self.events.push_back(ClientEvent::Timeout);
            self.terminate();
            return;
        }
        if let Some((at, interval)) = self.retransmit
            && at <= now
        {
            self.transmits.push_back(self.wire.clone());
            let next = match (self.invite, self.state) {
                (true, _) => interval.saturating_mul(2),
                (false, ClientState::Proceeding) => self.timers.t2,
                (false, _) => interval.saturating_mul(2).min(self.timers.t2),
            };
            self.retransmit = Some((now + next, next));
        }
    }

    /// The transport failed to send the request or the ACK (§17.1.4).
    pub fn handle_transport_error(&mut self) {
        if self.state != ClientState::Terminated {
            self.events.push_back(ClientEvent::TransportError);
            self.terminate();
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.retransmit.map(|(at, _)| at), self.timeout, self.linger]
            .into_iter()
            .flatten()
            .min()
    }

    fn terminate(&mut self) {
        self.state = ClientState::Terminated;
        self.retransmit = None;
        self.timeout = None;
        self.linger = None;
    }
}

/// The ACK for a non-2xx final response (§17.1.1.3): the INVITE's Request-URI, top Via,
/// From, Call-ID, CSeq number and Route, the response's To.
pub fn ack_for(invite: &Request, response: &Response) -> Request {
    let mut headers = Headers::default();
    for route in invite.head.headers.get_all(&HeaderName::ROUTE) {
        headers.push(HeaderName::ROUTE, route);
    }
    Request {
        method: Method::Ack,
        uri: invite.uri.clone(),
        head: Head {
            via: invite.head.via.iter().take(1).cloned().collect(),
            from: invite.head.from.clone(),
            to: response.head.to.clone(),
            call_id: invite.head.call_id.clone(),
            cseq: CSeq {
                seq: invite.head.cseq.seq,
                method: Method::Ack,
            },
            max_forwards: Some(70),
            contact: Default::default(),
            headers,
        },
        body: Bytes::new(),
    }
}
