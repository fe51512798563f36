//! Where a call rings: a user's actions Vorher and `always` forwarding, then the ring set of
//! their devices (direct and workplace), or a team's members in turn or all at once.

use std::time::Duration;

use crate::clock::Instant;
use crate::store::{ForwardCondition, Scope, Timing};

use super::call::{Call, Owner, Ringing};
use super::fallthrough::rejection;
use super::round::{Outcome, Round};
use super::view::{Reach, StepKind, UserView};
use super::{Action, Because, CallClass, Destination, Event, LegId, Via, VoicemailReason};

impl Call {
    /// The call goes to `to` (the target, or a forward already allowed by `may_follow`).
    pub(super) fn enter(&mut self, to: Destination, t: Instant) {
        match to {
            Destination::Number(number) => {
                self.finish(Some(Event::Run(Action::ForwardNumber { number })));
            }
            Destination::User(name) => self.enter_user(&name, t),
            Destination::Team(name) => self.enter_team(&name, t),
        }
    }

    /// The scope of user actions and forwardings; agents of a team call have none.
    pub(super) fn scope(&self) -> Option<Scope> {
        match self.class {
            CallClass::Internal => Some(Scope::Internal),
            CallClass::External => Some(Scope::External),
            CallClass::Team => None,
        }
    }

    pub(super) fn user(&self, name: &str) -> UserView {
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

    /// Adds a leg for every device of `user` that rings for `class`: enabled ("Aktiviert: Das
    /// Endgerät läutet bei einem eingehenden Anruf mit oder nicht"), reachable, not the calling
    /// device, not already in the round, with ring time (for a team call the device's own
    /// Läuten Agent, or the team's when the device has 0). A user whose devices are all off
    /// for the class is as unreachable as one with nothing registered.
    fn add_legs(
        &mut self,
        round: &mut Round,
        user: &UserView,
        class: CallClass,
        team_ring_time: Option<u32>,
        t: Instant,
    ) {
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
            if !policy.enabled || secs == 0 || calling || round.rings(device.id) {
                continue;
            }
            let leg = LegId(self.next_leg);
            self.next_leg += 1;
            // The store allows an hour at most; a wait beyond what the clock can hold never
            // comes, so such a device simply does not ring.
            let wait = Duration::from_secs(u64::from(policy.wait));
            let ring = Duration::from_secs(u64::from(secs));
            if let Some(start) = t
                .checked_add(wait)
                .filter(|s| s.checked_add(ring).is_some())
            {
                round.add(leg, device.id, via, start, ring);
            }
        }
    }

    fn enter_team(&mut self, name: &str, t: Instant) {
        self.next_member(name.to_owned(), 0, None, t);
    }

    /// Rings the team from member `next` on: all remaining members at once with ring-all,
    /// else the next member who has a device to ring. When no one is left, the team's
    /// outcome goes back to the caller (teams have no actions yet).
    pub(super) fn next_member(
        &mut self,
        name: String,
        next: usize,
        so_far: Option<Outcome>,
        t: Instant,
    ) {
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
