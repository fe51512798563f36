//! One call through dispatch: before-actions, `always` forwarding, ringing rounds, and the
//! fall-through to forwardings and after-actions when nobody answers.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use crate::clock::Instant;
use crate::store::{ForwardCondition, Scope, Timing};

use super::round::{Due, End, LegState, Outcome, Round};
use super::view::{Reach, StepKind, UserView};
use super::{
    Action, Because, BusyRule, CallClass, CallRequest, Caller, Destination, DispatchConfig,
    DispatchError, Event, LegId, Refusal, Rejection, StopReason, Via, View, VoicemailReason,
};

/// Whose devices the current round rings.
#[derive(Debug)]
enum Owner {
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
struct Ringing {
    owner: Owner,
    round: Round,
}

/// A call being dispatched. See the module doc for the call contract.
#[derive(Debug)]
pub struct Call {
    config: DispatchConfig,
    view: View,
    class: CallClass,
    caller: Caller,
    /// Users and teams the call has been at: a forwarding back to one of them is a loop.
    visited: BTreeSet<Destination>,
    hops: usize,
    ringing: Option<Ringing>,
    finished: bool,
    next_leg: u32,
    events: VecDeque<Event>,
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

    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// `leg` answered. True when it gets the call; false when it is too late (another leg
    /// answered, its ring time is over, the caller left): the driver then hangs it up.
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
        // The seed's devices ring together; the first to pick up takes the call.
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

    /// Starts and stops every leg due by `now`, each at its own scheduled instant, and moves
    /// on when a round is over.
    fn run_due(&mut self, now: Instant) {
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

    fn stop_all(&mut self, legs: Vec<(LegId, super::DeviceId)>, reason: StopReason) {
        for (leg, device) in legs {
            self.events.push_back(Event::Stop {
                leg,
                device,
                reason,
            });
        }
    }

    fn finish(&mut self, last: Option<Event>) {
        self.events.extend(last);
        self.events.push_back(Event::Finished);
        self.ringing = None;
        self.finished = true;
    }

    /// The call goes to `to` (the target, or a forward already allowed by `may_follow`).
    fn enter(&mut self, to: Destination, t: Instant) {
        match to {
            Destination::Number(number) => {
                self.finish(Some(Event::Run(Action::ForwardNumber { number })));
            }
            Destination::User(name) => self.enter_user(&name, t),
            Destination::Team(name) => self.enter_team(&name, t),
        }
    }

    /// The scope of user actions and forwardings; agents of a team call have none.
    fn scope(&self) -> Option<Scope> {
        match self.class {
            CallClass::Internal => Some(Scope::Internal),
            CallClass::External => Some(Scope::External),
            CallClass::Team => None,
        }
    }

    fn user(&self, name: &str) -> UserView {
        // `Call::new` checked that the view holds every user the call can reach.
        self.view.users.get(name).cloned().unwrap_or_default()
    }

    fn enter_user(&mut self, name: &str, t: Instant) {
        let user = self.user(name);
        if let Some(scope) = self.scope() {
            // Actions Vorher run first: "Aktionen ermöglichen es dem Anrufer Ansagen
            // vorzuspielen, … den Anrufer auf eine Voicemailbox umzuleiten".
            for step in user.steps(scope, Timing::Before) {
                match step {
                    StepKind::Announcement { prompt } => self.announce(prompt),
                    StepKind::Voicemail { mailbox } => {
                        return self.voicemail(mailbox, VoicemailReason::Unavailable);
                    }
                    StepKind::Forward(to) => {
                        let why = Because::BeforeAction;
                        return self.follow(&user, to, why, VoicemailReason::Unavailable, t);
                    }
                }
            }
            if let Some(to) = user.forwarding(ForwardCondition::Always) {
                let why = Because::Forwarding(ForwardCondition::Always);
                return self.follow(&user, to, why, VoicemailReason::Unavailable, t);
            }
        }
        let mut round = Round::default();
        self.add_legs(&mut round, &user, self.class, None, t);
        if round.is_empty() {
            return self.fall_through(&user, Outcome::Unavailable, t);
        }
        let owner = Owner::User(name.to_owned());
        self.ringing = Some(Ringing { owner, round });
    }

    /// Adds a leg for every device of `user` that rings for `class`: enabled, reachable, with
    /// ring time left (for a team call the device's own Läuten Agent, else the team's).
    fn add_legs(
        &mut self,
        round: &mut Round,
        user: &UserView,
        class: CallClass,
        team_ring_time: Option<u32>,
        t: Instant,
    ) {
        let mut rung = BTreeSet::new();
        for device in user.ring_set() {
            let policy = device.policy(class);
            let secs = match team_ring_time {
                Some(team) if policy.timeout == 0 => team,
                _ => policy.timeout,
            };
            let via = match &device.reach {
                Reach::Registered => Via::Contacts,
                Reach::Mobile { number } => Via::Trunk {
                    number: number.clone(),
                },
                Reach::Unregistered => continue,
            };
            let calling = self.caller.device == Some(device.id);
            if !policy.enabled || secs == 0 || calling || !rung.insert(device.id) {
                continue;
            }
            let leg = LegId(self.next_leg);
            self.next_leg += 1;
            let start = t + Duration::from_secs(u64::from(policy.wait));
            round.add(
                leg,
                device.id,
                via,
                start,
                Duration::from_secs(u64::from(secs)),
            );
        }
    }

    /// A round ended: the next team member, or what the outcome calls for.
    fn round_changed(&mut self, t: Instant) {
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

    /// Nobody answered `user`: "Rufumleitungen" for the outcome, else the actions Nachher.
    fn fall_through(&mut self, user: &UserView, outcome: Outcome, t: Instant) {
        if self.scope().is_none() {
            return self.finish(Some(Event::Reject(rejection(outcome))));
        }
        let (condition, reason) = match outcome {
            Outcome::NoAnswer => (ForwardCondition::NoAnswer, VoicemailReason::Unavailable),
            Outcome::Unavailable => (ForwardCondition::Unavailable, VoicemailReason::Unavailable),
            Outcome::Busy => (ForwardCondition::Busy, VoicemailReason::Busy),
        };
        if let Some(to) = user.forwarding(condition) {
            return self.follow(user, to, Because::Forwarding(condition), reason, t);
        }
        if outcome == Outcome::Busy && self.config.busy == BusyRule::Reject {
            return self.finish(Some(Event::Reject(Rejection::Busy)));
        }
        self.after_action(user, reason, t);
    }

    /// The user's actions Nachher for the call's class (seed: "bevor der Anrufer in eine
    /// Aktion Intern/Nachher übergeht"); a forward that would loop is skipped; none → 480.
    fn after_action(&mut self, user: &UserView, reason: VoicemailReason, t: Instant) {
        if let Some(scope) = self.scope() {
            for step in user.steps(scope, Timing::After) {
                match step {
                    StepKind::Announcement { prompt } => self.announce(prompt),
                    StepKind::Voicemail { mailbox } => return self.voicemail(mailbox, reason),
                    StepKind::Forward(to) if self.may_follow(to) => {
                        return self.forward(user, to, Because::AfterAction, t);
                    }
                    StepKind::Forward(_) => {}
                }
            }
        }
        let rejection = match reason {
            VoicemailReason::Busy => Rejection::Busy,
            VoicemailReason::Unavailable => Rejection::Unavailable,
        };
        self.finish(Some(Event::Reject(rejection)));
    }

    /// Follows a forward of `from`; one back to where the call has been, or past the hop
    /// limit, sends the call to `from`'s actions Nachher instead ("a→b→a stops at the first
    /// repeat and the call goes to the last user's after-action").
    fn follow(
        &mut self,
        from: &UserView,
        to: &Destination,
        because: Because,
        reason: VoicemailReason,
        t: Instant,
    ) {
        if self.may_follow(to) {
            self.forward(from, to, because, t);
        } else {
            self.after_action(from, reason, t);
        }
    }

    fn may_follow(&self, to: &Destination) -> bool {
        matches!(to, Destination::Number(_))
            || (!self.visited.contains(to) && self.hops < self.config.max_forward_hops)
    }

    fn forward(&mut self, from: &UserView, to: &Destination, because: Because, t: Instant) {
        if !matches!(to, Destination::Number(_)) {
            self.hops += 1;
            self.visited.insert(to.clone());
        }
        self.events.push_back(Event::Forwarded {
            from: from.username.clone(),
            to: to.clone(),
            because,
        });
        self.enter(to.clone(), t);
    }

    fn announce(&mut self, prompt: &str) {
        let prompt = prompt.to_owned();
        self.events
            .push_back(Event::Run(Action::Announcement { prompt }));
    }

    fn voicemail(&mut self, mailbox: &str, reason: VoicemailReason) {
        let mailbox = mailbox.to_owned();
        self.finish(Some(Event::Run(Action::Voicemail { mailbox, reason })));
    }

    fn enter_team(&mut self, name: &str, t: Instant) {
        self.next_member(name.to_owned(), 0, None, t);
    }

    /// Rings the team from member `next` on: all remaining members at once with ring-all,
    /// else the next member who has a device to ring. When no one is left, the team's
    /// outcome goes back to the caller (teams have no actions yet).
    fn next_member(&mut self, name: String, next: usize, so_far: Option<Outcome>, t: Instant) {
        let team = self.view.teams.get(&name).cloned().unwrap_or_default();
        let mut round = Round::default();
        let mut member = next;
        while round.is_empty() && member < team.members.len() {
            let batch = if team.ring_all {
                team.members.len()
            } else {
                member + 1
            };
            for username in &team.members[member..batch] {
                if self.caller.user.as_deref() != Some(username.as_str()) {
                    let user = self.user(username);
                    self.add_legs(&mut round, &user, CallClass::Team, Some(team.ring_time), t);
                }
            }
            member = batch;
        }
        if round.is_empty() {
            let outcome = so_far.unwrap_or(Outcome::Unavailable);
            return self.finish(Some(Event::Reject(rejection(outcome))));
        }
        let owner = Owner::Team {
            name,
            next: member,
            so_far,
        };
        self.ringing = Some(Ringing { owner, round });
    }
}

fn rejection(outcome: Outcome) -> Rejection {
    match outcome {
        Outcome::Busy => Rejection::Busy,
        Outcome::NoAnswer | Outcome::Unavailable => Rejection::Unavailable,
    }
}
