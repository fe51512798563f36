//! The dispatch core: where a call to a user or team rings, for how long, and what happens
//! when nobody answers (seed: FollowMe, Rufumleitungen, Aktionen, Endgeräte "Warten/Läuten").
//!
//! Sans-IO and free of SIP: it knows devices, legs and seconds, never messages or contacts. The
//! driver resolves what the store and registrar know into a [`View`] (fetching until
//! [`View::missing`] is empty) and then runs one [`Call`] per incoming call:
//!
//! * [`Call::new`] with the [`CallRequest`] (target, class, caller), the view and `now`;
//! * [`Call::poll_event`] until `None`, acting on each [`Event`] (INVITE every registered contact
//!   of a device on [`Event::Ring`], CANCEL with RFC 3326 `Reason` on [`Event::Stop`], ...);
//! * [`Call::poll_timeout`]: when it passes, [`Call::handle_timeout`];
//! * what a leg's device said: [`Call::handle_answered`] (first answer wins),
//!   [`Call::handle_refused`]; the caller's CANCEL/BYE: [`Call::handle_caller_gone`]; a device
//!   that stopped belonging to the user mid-call: [`Call::handle_device_left`].
//!
//! After [`Event::Finished`] the call is the driver's (a connected pair, a trunk leg, a mailbox).
//!
//! The rules, in the order a call to a user meets them (internal and external class):
//!
//! 1. the user's actions Vorher (own, else their template's): announcement, forward, voicemail;
//! 2. an active `always` forwarding;
//! 3. the ring set — direct devices and those of the workplace the user is at — each device
//!    rung `wait` s after the round starts and stopped after `timeout` s of ringing;
//! 4. nobody answered: a device rang out → `no-answer` forwarding, else actions Nachher;
//!    every rung device busy or declined → `busy` forwarding, else 486 ([`BusyRule`]);
//!    nothing to ring, or every leg failed → `unavailable` forwarding, else actions Nachher;
//!    no action → 480.
//!
//! A forward back to a user or team the call has been at, or past
//! [`DispatchConfig::max_forward_hops`], goes to the forwarding user's actions Nachher instead.
//! A team rings its members' devices with their team FollowMe (all at once or in turn);
//! members' own forwardings and actions do not apply, and teams have no actions yet (480/486).

mod call;
mod fallthrough;
mod round;
mod route;
mod view;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_actions;
#[cfg(test)]
mod tests_exhaustive;
#[cfg(test)]
mod tests_forward;
#[cfg(test)]
mod tests_team;
#[cfg(test)]
mod tests_util;

pub use call::Call;
pub use view::{
    Destination, DeviceId, DeviceView, ForwardRule, Reach, Step, StepKind, TeamView, UserView, View,
};

use crate::store::ForwardCondition;

/// The FollowMe class a device rings with [Intern/Extern/Agent].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallClass {
    /// From one of our registered devices (seed: "wenn der Anruf pascom-intern erfolgt").
    Internal,
    /// From a trunk ("wenn der Anruf über das Amt kommt").
    External,
    /// Through a team ("wenn der Benutzer als Agent in einem Team angerufen wird"); a call to a
    /// team rings its members with this class whatever class it came in with.
    Team,
}

/// Who is calling, as far as ringing cares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    /// The calling device: never rung for its own call.
    pub device: Option<DeviceId>,
    /// The calling user: not rung as an agent of a team they call.
    pub user: Option<String>,
}

/// "A call for `target` of `class` from `caller`."
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRequest {
    pub target: Destination,
    pub class: CallClass,
    pub caller: Caller,
}

/// One outbound leg of a call (a device rung once). The driver maps its INVITE client
/// transactions to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LegId(pub u32);

/// How a leg is rung.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Every registered contact of the device (the driver forks).
    Contacts,
    /// Through a trunk to this number (a mobile device).
    Trunk { number: String },
}

/// Why a ringing leg is stopped (RFC 3326 `Reason` on the CANCEL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// Another leg answered ("Call completed elsewhere", SIP cause 200).
    AnsweredElsewhere,
    /// The device rang its whole timeout [Läuten].
    Timeout,
    /// The caller hung up.
    CallerGone,
    /// The device left the user's ring set mid-call (workplace logout, unassigned).
    Left,
}

/// What a device said instead of answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 486/600: in a call.
    Busy,
    /// 603: the person declined. Counts as busy (they are there, just not for this call); the
    /// other devices keep ringing.
    Rejected,
    /// Any other failure (404, 408, 5xx, transport): the device is not reachable.
    Gone,
}

/// The voicemail greeting to play.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoicemailReason {
    Busy,
    Unavailable,
}

/// An action for the driver to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Dial this number through a trunk and connect the caller to it.
    ForwardNumber { number: String },
    /// Answer into the voicemail box of user `mailbox`.
    Voicemail {
        mailbox: String,
        reason: VoicemailReason,
    },
    /// Play this prompt to the caller; dispatch goes on without waiting for it (early media).
    Announcement { prompt: String },
}

/// A final refusal to the caller (the SIP driver maps Busy to 486, Unavailable to 480).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    Busy,
    Unavailable,
}

/// Why a call moved on to another user, team or number (for the call record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Because {
    /// An action Vorher.
    BeforeAction,
    /// An action Nachher.
    AfterAction,
    Forwarding(ForwardCondition),
}

/// What the driver does next, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Ring {
        leg: LegId,
        device: DeviceId,
        via: Via,
    },
    Stop {
        leg: LegId,
        device: DeviceId,
        reason: StopReason,
    },
    /// `leg` answered: connect the caller to it.
    Connect {
        leg: LegId,
        device: DeviceId,
    },
    /// The call left user `from` for `to` (informational; a [`Event::Ring`] or
    /// [`Action::ForwardNumber`] follows).
    Forwarded {
        from: String,
        to: Destination,
        because: Because,
    },
    Run(Action),
    Reject(Rejection),
    /// Dispatch is done with this call; nothing follows.
    Finished,
}

/// What to do when every rung device was busy and the user has no `busy` forwarding.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BusyRule {
    /// 486 to the caller (issue 12: "All busy → … the user's busy forwarding, else 486").
    #[default]
    Reject,
    /// The user's after-action, voicemail with the busy greeting (Asterisk's `VoiceMail(…,b)`).
    AfterAction,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DispatchConfig {
    /// How many forwardings one call follows; past this it goes to the last user's after-action
    /// like at a loop (the seed warns of "Umleitungs-Endlosschleifen").
    pub max_forward_hops: usize,
    pub busy: BusyRule,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            max_forward_hops: 8,
            busy: BusyRule::Reject,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DispatchError {
    /// The driver's view lacks users or teams the call can reach (a bug in the driver, or the
    /// store changed between its reads: fetch them and try again).
    #[error("the view lacks {missing:?}")]
    Incomplete { missing: Vec<Destination> },
}
