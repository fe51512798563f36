//! One ringing round: the legs rung together for one user (or a team, or one team member), each
//! on its own clock — INVITE after its `wait`, CANCEL after its `timeout` of ringing (seed,
//! FollowMe: "Warten: Zeit in Sekunden, wie lange das Gerät wartet bis es mitklingelt …
//! Timeout: Zeit in Sekunden, wie lange das Gerät klingelt").

use std::time::Duration;

use crate::clock::Instant;

use super::view::DeviceId;
use super::{LegId, Via};

/// How a leg ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum End {
    /// Rang its whole timeout.
    TimedOut,
    /// Busy, or the person declined the call (both say "not now").
    Busy,
    /// Unreachable: no answer from the device, an error, a transport failure.
    Failed,
    /// Taken back by dispatch (answered elsewhere, caller gone) or never started.
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LegState {
    Waiting,
    Ringing { until: Instant },
    Ended(End),
}

#[derive(Debug, Clone)]
pub(super) struct Leg {
    pub id: LegId,
    pub device: DeviceId,
    pub via: Via,
    start: Instant,
    ring_for: Duration,
    pub state: LegState,
}

/// Why a round ended without an answer; later variants win when rounds are summed up (a
/// team's members, one after another).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Outcome {
    /// Nothing could be rung, or every leg failed [Rufumleitung "nicht erreichbar"].
    Unavailable,
    /// Every leg that answered at all was busy.
    Busy,
    /// At least one device rang its whole time.
    NoAnswer,
}

/// What is due next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Due {
    Start(usize),
    Stop(usize),
}

#[derive(Debug, Default)]
pub(super) struct Round {
    legs: Vec<Leg>,
}

impl Round {
    pub fn add(&mut self, id: LegId, device: DeviceId, via: Via, start: Instant, ring: Duration) {
        self.legs.push(Leg {
            id,
            device,
            via,
            start,
            ring_for: ring,
            state: LegState::Waiting,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.legs.is_empty()
    }

    pub fn rings(&self, device: DeviceId) -> bool {
        self.legs.iter().any(|l| l.device == device)
    }

    /// The legs of `device` still waiting or ringing, with their indices.
    pub fn legs_of(&self, device: DeviceId) -> Vec<(usize, LegId)> {
        let live = |l: &&Leg| l.device == device && !matches!(l.state, LegState::Ended(_));
        let legs = self.legs.iter().enumerate();
        legs.filter(|(_, l)| live(l))
            .map(|(i, l)| (i, l.id))
            .collect()
    }

    pub fn leg(&self, index: usize) -> &Leg {
        &self.legs[index]
    }

    pub fn find(&self, id: LegId) -> Option<usize> {
        self.legs.iter().position(|l| l.id == id)
    }

    /// The earliest start or stop; at one instant stops come first (a CANCEL frees a line
    /// before the next INVITE), then legs in the order they were added.
    pub fn next_due(&self) -> Option<(Instant, Due)> {
        let due = self
            .legs
            .iter()
            .enumerate()
            .filter_map(|(i, l)| match l.state {
                LegState::Waiting => Some((l.start, 1, i)),
                LegState::Ringing { until } => Some((until, 0, i)),
                LegState::Ended(_) => None,
            });
        let (at, kind, i) = due.min()?;
        Some((
            at,
            if kind == 0 {
                Due::Stop(i)
            } else {
                Due::Start(i)
            },
        ))
    }

    /// Starts leg `index` at its scheduled time; its stop is `timeout` after that.
    pub fn start(&mut self, index: usize) {
        let leg = &mut self.legs[index];
        leg.state = LegState::Ringing {
            until: leg.start + leg.ring_for,
        };
    }

    pub fn end(&mut self, index: usize, end: End) {
        self.legs[index].state = LegState::Ended(end);
    }

    /// No leg waits or rings any more.
    pub fn is_over(&self) -> bool {
        self.legs
            .iter()
            .all(|l| matches!(l.state, LegState::Ended(_)))
    }

    pub fn outcome(&self) -> Outcome {
        let ended = |e| self.legs.iter().any(|l| l.state == LegState::Ended(e));
        if ended(End::TimedOut) {
            Outcome::NoAnswer
        } else if ended(End::Busy) {
            Outcome::Busy
        } else {
            Outcome::Unavailable
        }
    }

    /// Ends every leg; returns those that were ringing (they need a CANCEL), in order.
    pub fn withdraw(&mut self) -> Vec<(LegId, DeviceId)> {
        let mut ringing = Vec::new();
        for leg in &mut self.legs {
            match leg.state {
                LegState::Ringing { .. } => ringing.push((leg.id, leg.device)),
                LegState::Waiting => {}
                LegState::Ended(_) => continue,
            }
            leg.state = LegState::Ended(End::Withdrawn);
        }
        ringing
    }
}
