//! One call through dispatch: its state, the inputs, and the clock that starts and stops legs.
//! Where it rings is in `route.rs`, what follows an unanswered round in `fallthrough.rs`.

use std::collections::{BTreeSet, VecDeque};

use crate::clock::Instant;

use super::round::{Due, End, LegState, Outcome, Round};
use super::{
    CallClass, CallRequest, Caller, Destination, DispatchConfig, DispatchError, Event, LegId,
    Refusal, StopReason, View,
};

/// Whose devices the current round rings.
#[derive(Debug)]
pub(super) enum Owner {
    User(String),
    /// A team; `next` is the member whose turn comes after this round, `so_far` what the
    /// earlier members' rounds ended with.
    Team {
        name: String,
        next: usize,
        so_far: Option<Outcome>,
    },
}

#[derive(Debug)]
pub(super) struct Ringing {
    pub(super) owner: Owner,
    pub(super) round: Round,
}

/// A call being dispatched. See the module doc for the call contract.
#[derive(Debug)]
pub struct Call {
    pub(super) config: DispatchConfig,
    pub(super) view: View,
    pub(super) class: CallClass,
    pub(super) caller: Caller,
    /// Users and teams the call has been at: a forwarding back to one of them is a loop.
    pub(super) visited: BTreeSet<Destination>,
    pub(super) hops: usize,
    pub(super) ringing: Option<Ringing>,
    pub(super) finished: bool,
    pub(super) next_leg: u32,
    pub(super) events: VecDeque<Event>,
}

impl Call {
    /// Starts dispatching `request` at `now`: runs what happens before ringing and rings every
    /// device whose wait is 0.
    pub fn new(
        request: CallRequest,
        view: View,
        config: DispatchConfig,
        now: Instant,
    ) -> Result<Call, DispatchError> {
        let missing = view.missing(&request.target, config.max_forward_hops);
        if !missing.is_empty() {
            return Err(DispatchError::Incomplete { missing });
        }
        let mut call = Call {
            config,
            view,
            class: request.class,
            caller: request.caller,
            visited: BTreeSet::from([request.target.clone()]),
            hops: 0,
            ringing: None,
            finished: false,
            next_leg: 0,
            events: VecDeque::new(),
        };
        call.enter(request.target, now);
        call.run_due(now);
        Ok(call)
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When [`Call::handle_timeout`] is next due (a device's wait or ring time ends).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let ringing = self.ringing.as_ref()?;
        ringing.round.next_due().map(|(at, _)| at)
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        self.run_due(now);
    }

    /// Who is calling (BLF shows the calling device in a call).
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// `leg` answered. True when it gets the call; false when it is too late (another leg
    /// answered, its ring time is over, the caller left): the driver then hangs it up. A leg
    /// counts as ringing until dispatch stopped it, so a 200 that beats a late
    /// [`Call::handle_timeout`] still connects.
    pub fn handle_answered(&mut self, leg: LegId, _now: Instant) -> bool {
        let Some(ringing) = self.ringing.as_mut() else {
            return false;
        };
        let Some(index) = ringing.round.find(leg) else {
            return false;
        };
        if !matches!(ringing.round.leg(index).state, LegState::Ringing { .. }) {
            return false;
        }
        let device = ringing.round.leg(index).device;
        // Issue 12: "First answer wins; every other leg CANCELled".
        ringing.round.end(index, End::Withdrawn);
        let others = ringing.round.withdraw();
        self.events.push_back(Event::Connect { leg, device });
        self.stop_all(others, StopReason::AnsweredElsewhere);
        self.ringing = None;
        self.finish(None);
        true
    }

    /// `leg` will not answer (busy, declined, failed). The other legs ring on; when none is
    /// left, the round's outcome decides what follows.
    pub fn handle_refused(&mut self, leg: LegId, refusal: Refusal, now: Instant) {
        let Some(ringing) = self.ringing.as_mut() else {
            return;
        };
        let Some(index) = ringing.round.find(leg) else {
            return;
        };
        // Only a device that was rung can refuse; anything else is a stale or stray response.
        if !matches!(ringing.round.leg(index).state, LegState::Ringing { .. }) {
            return;
        }
        let end = match refusal {
            Refusal::Busy | Refusal::Rejected => End::Busy,
            Refusal::Gone => End::Failed,
        };
        ringing.round.end(index, end);
        self.round_changed(now);
        self.run_due(now);
    }

    /// The caller hung up: every ringing leg is stopped, nothing else happens.
    pub fn handle_caller_gone(&mut self, _now: Instant) {
        if self.finished {
            return;
        }
        if let Some(mut ringing) = self.ringing.take() {
            let legs = ringing.round.withdraw();
            self.stop_all(legs, StopReason::CallerGone);
        }
        self.finish(None);
    }

    /// `device` no longer rings for this call (its user logged out of the workplace, it was
    /// unassigned or lost its registration): stopped if it rings, dropped if it waits. When it
    /// was the last, the round ends as if it had failed.
    pub fn handle_device_left(&mut self, device: super::DeviceId, now: Instant) {
        let Some(ringing) = self.ringing.as_mut() else {
            return;
        };
        for (index, leg) in ringing.round.legs_of(device) {
            if matches!(ringing.round.leg(index).state, LegState::Ringing { .. }) {
                let reason = StopReason::Left;
                self.events.push_back(Event::Stop {
                    leg,
                    device,
                    reason,
                });
            }
            ringing.round.end(index, End::Failed);
        }
        self.round_changed(now);
        self.run_due(now);
    }

    /// Starts and stops every leg due by `now`, each at its own scheduled instant, and moves
    /// on when a round is over.
    pub(super) fn run_due(&mut self, now: Instant) {
        while let Some(ringing) = self.ringing.as_mut() {
            let Some((at, due)) = ringing.round.next_due().filter(|(at, _)| *at <= now) else {
                break;
            };
            match due {
                Due::Start(i) => {
                    ringing.round.start(i);
                    let leg = ringing.round.leg(i);
                    let (leg, device, via) = (leg.id, leg.device, leg.via.clone());
                    self.events.push_back(Event::Ring { leg, device, via });
                }
                Due::Stop(i) => {
                    ringing.round.end(i, End::TimedOut);
                    let leg = ringing.round.leg(i);
                    let (leg, device) = (leg.id, leg.device);
                    let reason = StopReason::Timeout;
                    self.events.push_back(Event::Stop {
                        leg,
                        device,
                        reason,
                    });
                    self.round_changed(at);
                }
            }
        }
    }

    pub(super) fn stop_all(&mut self, legs: Vec<(LegId, super::DeviceId)>, reason: StopReason) {
        for (leg, device) in legs {
            self.events.push_back(Event::Stop {
                leg,
                device,
                reason,
            });
        }
    }

    pub(super) fn finish(&mut self, last: Option<Event>) {
        self.events.extend(last);
        self.events.push_back(Event::Finished);
        self.ringing = None;
        self.finished = true;
    }

    /// A round ended: the next team member, or what the outcome calls for.
    pub(super) fn round_changed(&mut self, t: Instant) {
        let Some(ringing) = self.ringing.take_if(|r| r.round.is_over()) else {
            return;
        };
        let outcome = ringing.round.outcome();
        match ringing.owner {
            Owner::User(name) => {
                let user = self.user(&name);
                self.fall_through(&user, outcome, t);
            }
            Owner::Team { name, next, so_far } => {
                let so_far = so_far.max(Some(outcome));
                self.next_member(name, next, so_far, t);
            }
        }
    }
}
