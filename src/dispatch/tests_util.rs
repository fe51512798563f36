//! What the dispatch tests share: views built in a line, and [`Run`], a call driven by a
//! stepped clock the way its driver will drive it.

use std::time::Duration;

use super::*;
use crate::clock::Instant;
use crate::store::{FollowMe, ForwardCondition, RingPolicy, Scope, Timing};

pub(super) fn ring(wait: u32, timeout: u32) -> RingPolicy {
    RingPolicy {
        enabled: true,
        wait,
        timeout,
    }
}

/// A registered phone with the same policy for every class.
pub(super) fn phone(id: DeviceId, wait: u32, timeout: u32) -> DeviceView {
    let p = ring(wait, timeout);
    DeviceView {
        id,
        followme: FollowMe {
            user_configurable: false,
            internal: p,
            external: p,
            team: p,
        },
        reach: Reach::Registered,
    }
}

pub(super) fn user(name: &str, devices: Vec<DeviceView>) -> UserView {
    UserView {
        username: name.to_owned(),
        devices,
        ..UserView::default()
    }
}

pub(super) fn step(scope: Scope, timing: Timing, kind: StepKind) -> Step {
    Step {
        scope,
        timing,
        kind,
    }
}

pub(super) fn voicemail_after(name: &str) -> Vec<Step> {
    let kind = |_| StepKind::Voicemail {
        mailbox: name.to_owned(),
    };
    let scopes = [Scope::Internal, Scope::External];
    scopes.map(|s| step(s, Timing::After, kind(s))).to_vec()
}

pub(super) fn forwarding(condition: ForwardCondition, to: Destination) -> ForwardRule {
    ForwardRule {
        condition,
        to,
        active: true,
    }
}

pub(super) fn to_user(name: &str) -> Destination {
    Destination::User(name.to_owned())
}

pub(super) fn view(users: Vec<UserView>) -> View {
    let mut view = View::default();
    users.into_iter().for_each(|u| view.insert_user(u));
    view
}

pub(super) fn call_to(target: Destination, class: CallClass) -> CallRequest {
    CallRequest {
        target,
        class,
        caller: Caller::default(),
    }
}

/// A call driven the way its driver does: every `poll_timeout` met exactly, each event logged
/// with its offset from the start in milliseconds.
pub(super) struct Run {
    pub call: Call,
    pub t0: Instant,
    pub now: Instant,
    pub log: Vec<(u64, Event)>,
}

impl Run {
    pub fn start(request: CallRequest, view: View) -> Run {
        Run::with(request, view, DispatchConfig::default())
    }

    pub fn with(request: CallRequest, view: View, config: DispatchConfig) -> Run {
        let t0 = crate::clock::now();
        let call = Call::new(request, view, config, t0).expect("complete view");
        let mut run = Run {
            call,
            t0,
            now: t0,
            log: Vec::new(),
        };
        run.drain();
        run
    }

    pub fn at(&self, ms: u64) -> Instant {
        self.t0 + Duration::from_millis(ms)
    }

    fn drain(&mut self) {
        let ms = u64::try_from((self.now - self.t0).as_millis()).expect("short test");
        while let Some(event) = self.call.poll_event() {
            self.log.push((ms, event));
        }
    }

    /// Steps the clock to `ms`, stopping at every timeout on the way.
    pub fn advance(&mut self, ms: u64) {
        let end = self.at(ms);
        while let Some(due) = self.call.poll_timeout().filter(|t| *t <= end) {
            assert!(due >= self.now, "a timeout in the past");
            self.now = due;
            self.call.handle_timeout(due);
            self.drain();
        }
        self.now = end;
    }

    /// Steps until nothing is due any more.
    pub fn run_out(&mut self) {
        self.advance(3_600_000);
        assert!(
            self.call.poll_timeout().is_none(),
            "still running after an hour"
        );
    }

    pub fn answer(&mut self, leg: u32) -> bool {
        let won = self.call.handle_answered(LegId(leg), self.now);
        self.drain();
        won
    }

    pub fn refuse(&mut self, leg: u32, refusal: Refusal) {
        self.call.handle_refused(LegId(leg), refusal, self.now);
        self.drain();
    }

    pub fn leave(&mut self, device: DeviceId) {
        self.call.handle_device_left(device, self.now);
        self.drain();
    }

    pub fn hang_up(&mut self) {
        self.call.handle_caller_gone(self.now);
        self.drain();
    }

    /// The log with legs replaced by their devices, for short assertions.
    pub fn timeline(&self) -> Vec<(u64, String)> {
        self.log.iter().map(|(ms, e)| (*ms, describe(e))).collect()
    }
}

pub(super) fn describe(event: &Event) -> String {
    match event {
        Event::Ring { device, via, .. } => match via {
            Via::Contacts => format!("ring {device}"),
            Via::Trunk { number } => format!("ring {device} via trunk {number}"),
        },
        Event::Stop { device, reason, .. } => format!("stop {device} {reason:?}"),
        Event::Connect { device, .. } => format!("connect {device}"),
        Event::Forwarded { from, to, because } => format!("{from} -> {to:?} {because:?}"),
        Event::Run(action) => format!("{action:?}"),
        Event::Reject(r) => format!("reject {r:?}"),
        Event::Finished => "finished".to_owned(),
    }
}

pub(super) fn tl(entries: &[(u64, &str)]) -> Vec<(u64, String)> {
    entries.iter().map(|(t, s)| (*t, (*s).to_owned())).collect()
}

pub(super) const VOICEMAIL_ANNA: &str = "Voicemail { mailbox: \"anna\", reason: Unavailable }";
