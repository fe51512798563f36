//! What happens when nobody answered: the forwarding for the outcome [Rufumleitungen], else
//! the actions Nachher; forwards are followed with a visited set and a hop limit.

use crate::clock::Instant;
use crate::store::{ForwardCondition, Timing};

use super::call::Call;
use super::round::Outcome;
use super::view::{StepKind, UserView};
use super::{Action, Because, BusyRule, Destination, Event, Rejection, VoicemailReason};

impl Call {
    /// Nobody answered `user`: "Rufumleitungen" for the outcome, else the actions Nachher.
    pub(super) fn fall_through(&mut self, user: &UserView, outcome: Outcome, t: Instant) {
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
    pub(super) fn after_action(&mut self, user: &UserView, reason: VoicemailReason, t: Instant) {
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
    pub(super) fn follow(
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

    pub(super) fn announce(&mut self, prompt: &str) {
        let prompt = prompt.to_owned();
        self.events
            .push_back(Event::Run(Action::Announcement { prompt }));
    }

    pub(super) fn voicemail(&mut self, mailbox: &str, reason: VoicemailReason) {
        let mailbox = mailbox.to_owned();
        self.finish(Some(Event::Run(Action::Voicemail { mailbox, reason })));
    }
}

pub(super) fn rejection(outcome: Outcome) -> Rejection {
    match outcome {
        Outcome::Busy => Rejection::Busy,
        Outcome::NoAnswer | Outcome::Unavailable => Rejection::Unavailable,
    }
}
