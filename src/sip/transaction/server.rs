//! [`ServerTransaction`]: RFC 3261 §17.2 — the INVITE server transaction (Figure 7, Timers G, H,
//! I, and the 100 Trying sent when the TU is silent for 200 ms) and the non-INVITE one
//! (Figure 8, Timer J). Retransmitted requests are absorbed here: they re-send the last
//! response and never reach the TU.
//!
//! A 2xx to an INVITE moves it to RFC 6026's Accepted state for Timer L (64·T1): INVITE
//! retransmissions are absorbed there instead of reaching the TU as a new INVITE, the TU's own
//! 2xx retransmissions go out through it, and an ACK passes to the TU.
//!
//! Sans-IO like [`super::ClientTransaction`]: the TU answers with `respond`, the driver sends
//! what `poll_transmit` yields to where the request came from (§18.2.2).

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;

use super::super::message::{Request, Response};
use super::super::method::Method;
use super::{Timers, TransactionError};
use crate::clock::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerState {
    /// Non-INVITE only: nothing sent yet.
    Trying,
    Proceeding,
    Completed,
    /// INVITE only: a 2xx went out (RFC 6026 §7.1).
    Accepted,
    /// INVITE only: the ACK of a non-2xx came.
    Confirmed,
    Terminated,
}

/// What a server transaction tells its TU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerEvent {
    /// Timer H fired: the final response was never ACKed (§17.2.1).
    Timeout,
    /// The transport could not send a response (§17.2.4).
    TransportError,
}

#[derive(Debug)]
pub struct ServerTransaction {
    invite: bool,
    state: ServerState,
    /// An INVITE's, until the final response (for the 100 Trying sent on the TU's behalf). A
    /// non-INVITE transaction never keeps it (the TU has it, and answering a REGISTER or
    /// OPTIONS at once made the copy pure cost), and a lingering one (Timers I, J, L) keeps
    /// only the bytes it resends, so tens of thousands of them cost little.
    request: Option<Box<Request>>,
    reliable: bool,
    timers: Timers,
    last_response: Option<Bytes>,
    /// When 100 Trying goes out if the TU has not answered (INVITE).
    trying: Option<Instant>,
    /// Timer G and its interval.
    retransmit: Option<(Instant, Duration)>,
    /// Timer H.
    timeout: Option<Instant>,
    /// Timer I, J or L.
    linger: Option<Instant>,
    transmits: VecDeque<Bytes>,
    events: VecDeque<ServerEvent>,
}

impl ServerTransaction {
    /// A transaction for `request`, which the TU gets to answer.
    pub fn new(request: &Request, reliable: bool, timers: Timers, now: Instant) -> Self {
        let invite = request.method == Method::Invite;
        ServerTransaction {
            invite,
            state: if invite {
                ServerState::Proceeding
            } else {
                ServerState::Trying
            },
            request: invite.then(|| Box::new(request.clone())),
            reliable,
            timers,
            last_response: None,
            trying: invite.then_some(now + timers.trying),
            retransmit: None,
            timeout: None,
            linger: None,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn state(&self) -> ServerState {
        self.state
    }

    pub fn is_terminated(&self) -> bool {
        self.state == ServerState::Terminated
    }

    /// An INVITE, while the transaction has not sent its final response.
    pub fn request(&self) -> Option<&Request> {
        self.request.as_deref()
    }

    /// A retransmission of the request, or (INVITE) an ACK. Returns `false` for what the
    /// transaction does not absorb: an ACK in Accepted, which is the 2xx's and goes to the TU.
    pub fn handle_request(&mut self, request: &Request, now: Instant) -> bool {
        use ServerState::*;
        match (self.state, &request.method) {
            (Accepted, Method::Ack) => return false,
            (Completed, Method::Ack) if self.invite => {
                self.state = Confirmed;
                self.retransmit = None;
                self.timeout = None;
                let i = self.timers.unreliable_only(self.timers.t4, self.reliable);
                self.linger = Some(now + i);
            }
            (Proceeding | Completed, m) if *m != Method::Ack => {
                self.transmits.extend(self.last_response.clone());
            }
            _ => {}
        }
        true
    }

    /// The TU's response. After a final response, further ones are refused — except the TU's
    /// retransmissions of its 2xx to an INVITE (§13.3.1.4), which go out unchanged in state.
    pub fn respond(&mut self, response: Response, now: Instant) -> Result<(), TransactionError> {
        use ServerState::*;
        let retransmitted_2xx = self.state == Accepted && (200..300).contains(&response.status);
        if retransmitted_2xx {
            self.transmits.push_back(Bytes::from(response.print()));
            return Ok(());
        }
        if !matches!(self.state, Trying | Proceeding) {
            return Err(TransactionError::AlreadyAnswered);
        }
        let wire = Bytes::from(response.print());
        self.transmits.push_back(wire.clone());
        self.last_response = Some(wire);
        self.trying = None;
        if response.status >= 200 {
            self.request = None;
        }
        match response.status {
            100..=199 => self.state = Proceeding,
            200..=299 if self.invite => {
                self.state = Accepted;
                self.linger = Some(now + self.timers.timeout());
            }
            _ if self.invite => {
                self.state = Completed;
                let t1 = self.timers.t1;
                self.retransmit = (!self.reliable).then_some((now + t1, t1));
                self.timeout = Some(now + self.timers.timeout());
            }
            _ => {
                self.state = Completed;
                let j = self
                    .timers
                    .unreliable_only(self.timers.timeout(), self.reliable);
                self.linger = Some(now + j);
            }
        }
        Ok(())
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.linger.is_some_and(|t| t <= now) {
            self.terminate();
            return;
        }
        if self.timeout.is_some_and(|t| t <= now) {
            self.events.push_back(ServerEvent::Timeout);
            self.terminate();
            return;
        }
        if self.trying.is_some_and(|t| t <= now) {
            self.trying = None;
            if let Some(request) = &self.request {
                let trying = Bytes::from(Response::for_request(request, 100, "Trying").print());
                self.transmits.push_back(trying.clone());
                self.last_response = Some(trying);
            }
        }
        if let Some((at, interval)) = self.retransmit
            && at <= now
        {
            self.transmits.extend(self.last_response.clone());
            let next = interval.saturating_mul(2).min(self.timers.t2);
            self.retransmit = Some((now + next, next));
        }
    }

    pub fn handle_transport_error(&mut self) {
        if self.state != ServerState::Terminated {
            self.events.push_back(ServerEvent::TransportError);
            self.terminate();
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Bytes> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<ServerEvent> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        let retransmit = self.retransmit.map(|(at, _)| at);
        [self.trying, retransmit, self.timeout, self.linger]
            .into_iter()
            .flatten()
            .min()
    }

    fn terminate(&mut self) {
        self.state = ServerState::Terminated;
        self.trying = None;
        self.retransmit = None;
        self.timeout = None;
        self.linger = None;
    }
}
