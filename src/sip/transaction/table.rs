//! [`Transactions`]: every live transaction of one SIP endpoint, keyed by [`TransactionId`],
//! bounded in number. Received messages are matched here; what the transactions send or report
//! is collected into one queue each for the driver, tagged with the peer address `A` the driver
//! gave (a socket address, or transport plus address: the table does not look inside).
//!
//! Call contract (quinn's `Endpoint`): after each `handle_*`, `send_request` or `respond`, send
//! everything from `poll_transmit`, pass everything from `poll_event` to the TU, and sleep until
//! `poll_timeout` or the next message; at that instant call `handle_timeout`. Finished
//! transactions leave the table by themselves. Each transaction's next deadline is kept in an
//! ordered index ([`Deadlines`]): `poll_timeout` is O(log n) and `handle_timeout` visits only
//! the due transactions, so tens of thousands of lingering ones (Timer J) cost nothing per event.

use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::super::message::{Request, Response};
use super::super::method::Method;
use super::client::{ClientEvent, ClientTransaction};
use super::deadlines::{Deadlines, Side};
use super::server::{ServerEvent, ServerTransaction};
use super::{Timers, TransactionError, TransactionId};
use crate::clock::Instant;

/// Bytes for the driver to send to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<A> {
    pub to: A,
    pub bytes: Bytes,
}

/// What the table tells the TU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransactionEvent {
    /// A response for a client transaction.
    Response(Box<Response>),
    /// Timer B/F (client: no answer) or H (server: no ACK) fired.
    Timeout,
    TransportError,
}

/// What became of a received request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A new server transaction: the TU answers it with [`Transactions::respond`].
    New(TransactionId, Request),
    /// A CANCEL, in its own new transaction; `invite` is the INVITE server transaction it
    /// cancels, if there is one (§9.2: else the TU answers 481).
    Cancel {
        id: TransactionId,
        request: Request,
        invite: Option<TransactionId>,
    },
    /// An ACK outside any transaction: the ACK of a 2xx, for the dialog (§17.2.1).
    Ack(Request),
    /// A retransmission or an ACK the matching transaction absorbed.
    Absorbed,
    /// The table is full: the driver answers 503 statelessly or drops it.
    Full(Request),
}

/// What became of a received response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseOutcome {
    /// Handed to its client transaction; events follow.
    Matched,
    /// No client transaction: a 2xx retransmission for the dialog, or garbage.
    Stray(Box<Response>),
    /// More than one Via: not for us (§18.1.2, RFC 4475 `bcast`).
    Dropped,
}

#[derive(Debug)]
struct Entry<T, A> {
    /// Boxed: the table holds tens of thousands of lingering transactions under load, and
    /// each time it grows it moves every entry (inline, a transaction made that a copy of
    /// several hundred megabytes into fresh pages under bench/sip.sh).
    tx: Box<T>,
    peer: A,
    /// The deadline of this transaction in [`Deadlines`].
    deadline: Option<Instant>,
}

#[derive(Debug)]
pub struct Transactions<A> {
    clients: HashMap<TransactionId, Entry<ClientTransaction, A>>,
    servers: HashMap<TransactionId, Entry<ServerTransaction, A>>,
    deadlines: Deadlines,
    timers: Timers,
    max: usize,
    transmits: VecDeque<Transmit<A>>,
    events: VecDeque<(TransactionId, TransactionEvent)>,
}

impl<A: Clone> Transactions<A> {
    /// An empty table holding at most `max` transactions (client and server together).
    pub fn new(timers: Timers, max: usize) -> Self {
        Transactions {
            clients: HashMap::new(),
            servers: HashMap::new(),
            deadlines: Deadlines::default(),
            timers,
            max,
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.clients.len() + self.servers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A request from `peer`, over a reliable transport (TCP, TLS) or not.
    pub fn handle_request(
        &mut self,
        request: Request,
        peer: A,
        reliable: bool,
        now: Instant,
    ) -> Incoming {
        let id = TransactionId::server(&request);
        if let Some(entry) = self.servers.get_mut(&id) {
            let absorbed = entry.tx.handle_request(&request, now);
            self.drain_server(&id);
            return match absorbed {
                true => Incoming::Absorbed,
                false => Incoming::Ack(request),
            };
        }
        if request.method == Method::Ack {
            return Incoming::Ack(request);
        }
        if self.len() >= self.max {
            return Incoming::Full(request);
        }
        let tx = ServerTransaction::new(&request, reliable, self.timers, now);
        let entry = Entry {
            tx: Box::new(tx),
            peer,
            deadline: None,
        };
        self.servers.insert(id.clone(), entry);
        self.drain_server(&id);
        if request.method == Method::Cancel {
            let invite = Some(id.cancelled_invite()).filter(|i| self.servers.contains_key(i));
            return Incoming::Cancel {
                id,
                request,
                invite,
            };
        }
        Incoming::New(id, request)
    }

    /// A response that came in (from anywhere: matching is by branch, §17.1.3).
    pub fn handle_response(&mut self, response: Response, now: Instant) -> ResponseOutcome {
        if response.head.via.len() != 1 {
            return ResponseOutcome::Dropped;
        }
        let id = TransactionId::for_response(&response);
        let Some(entry) = self.clients.get_mut(&id) else {
            return ResponseOutcome::Stray(Box::new(response));
        };
        entry.tx.handle_response(response, now);
        self.drain_client(&id);
        ResponseOutcome::Matched
    }

    /// Starts a client transaction for `request` (its top Via carries a fresh RFC 3261 branch).
    pub fn send_request(
        &mut self,
        request: Request,
        peer: A,
        reliable: bool,
        now: Instant,
    ) -> Result<TransactionId, TransactionError> {
        if request.method == Method::Ack {
            return Err(TransactionError::AckOutsideTransaction);
        }
        if !request
            .head
            .via
            .first()
            .is_some_and(|v| v.has_rfc3261_branch())
        {
            return Err(TransactionError::NoBranch);
        }
        let id = TransactionId::client(&request);
        if self.clients.contains_key(&id) {
            return Err(TransactionError::Exists);
        }
        if self.len() >= self.max {
            return Err(TransactionError::Full(self.max));
        }
        let tx = ClientTransaction::new(request, reliable, self.timers, now);
        let entry = Entry {
            tx: Box::new(tx),
            peer,
            deadline: None,
        };
        self.clients.insert(id.clone(), entry);
        self.drain_client(&id);
        Ok(id)
    }

    /// The TU's response in server transaction `id`.
    pub fn respond(
        &mut self,
        id: &TransactionId,
        response: Response,
        now: Instant,
    ) -> Result<(), TransactionError> {
        let entry = self.servers.get_mut(id).ok_or(TransactionError::NotFound)?;
        entry.tx.respond(response, now)?;
        self.drain_server(id);
        Ok(())
    }

    /// The driver could not deliver what transaction `id` sent.
    pub fn handle_transport_error(&mut self, id: &TransactionId) {
        if let Some(e) = self.clients.get_mut(id) {
            e.tx.handle_transport_error();
            self.drain_client(id);
        }
        if let Some(e) = self.servers.get_mut(id) {
            e.tx.handle_transport_error();
            self.drain_server(id);
        }
    }

    /// Fires the timers due at `now`; only the due transactions are visited.
    pub fn handle_timeout(&mut self, now: Instant) {
        for (side, id) in self.deadlines.due(now) {
            match side {
                Side::Client => {
                    if let Some(e) = self.clients.get_mut(&id) {
                        e.tx.handle_timeout(now);
                    }
                    self.drain_client(&id);
                }
                Side::Server => {
                    if let Some(e) = self.servers.get_mut(&id) {
                        e.tx.handle_timeout(now);
                    }
                    self.drain_server(&id);
                }
            }
        }
    }

    pub fn poll_transmit(&mut self) -> Option<Transmit<A>> {
        self.transmits.pop_front()
    }

    pub fn poll_event(&mut self) -> Option<(TransactionId, TransactionEvent)> {
        self.events.pop_front()
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadlines.first()
    }

    /// How many transactions wait for a timer (each live one does, until it ends).
    #[cfg(test)]
    pub(super) fn scheduled(&self) -> usize {
        self.deadlines.len()
    }

    /// The server transaction `id`, for the TU to look at its request.
    pub fn server(&self, id: &TransactionId) -> Option<&ServerTransaction> {
        self.servers.get(id).map(|e| &*e.tx)
    }

    pub fn client(&self, id: &TransactionId) -> Option<&ClientTransaction> {
        self.clients.get(id).map(|e| &*e.tx)
    }

    fn drain_client(&mut self, id: &TransactionId) {
        let Some(e) = self.clients.get_mut(id) else {
            return;
        };
        while let Some(bytes) = e.tx.poll_transmit() {
            self.transmits.push_back(Transmit {
                to: e.peer.clone(),
                bytes,
            });
        }
        while let Some(event) = e.tx.poll_event() {
            let event = match event {
                ClientEvent::Response(r) => TransactionEvent::Response(r),
                ClientEvent::Timeout => TransactionEvent::Timeout,
                ClientEvent::TransportError => TransactionEvent::TransportError,
            };
            self.events.push_back((id.clone(), event));
        }
        let next = e.tx.poll_timeout().filter(|_| !e.tx.is_terminated());
        self.deadlines
            .reschedule(Side::Client, id, e.deadline, next);
        e.deadline = next;
        if e.tx.is_terminated() {
            self.clients.remove(id);
        }
    }

    fn drain_server(&mut self, id: &TransactionId) {
        let Some(e) = self.servers.get_mut(id) else {
            return;
        };
        while let Some(bytes) = e.tx.poll_transmit() {
            self.transmits.push_back(Transmit {
                to: e.peer.clone(),
                bytes,
            });
        }
        while let Some(event) = e.tx.poll_event() {
            let event = match event {
                ServerEvent::Timeout => TransactionEvent::Timeout,
                ServerEvent::TransportError => TransactionEvent::TransportError,
            };
            self.events.push_back((id.clone(), event));
        }
        let next = e.tx.poll_timeout().filter(|_| !e.tx.is_terminated());
        self.deadlines
            .reschedule(Side::Server, id, e.deadline, next);
        e.deadline = next;
        if e.tx.is_terminated() {
            self.servers.remove(id);
        }
    }
}
