//! The two voicemail cores behind one face for the driver ([`super::call`]): leaving a
//! message ([`Deposit`]) and listening to one's box ([`MailboxMenu`]) take the same media
//! inputs and ask for mostly the same things.

use super::deposit::{self, Deposit};
use super::menu::{self, MailboxMenu, Pin};
use super::prompts::{GreetingKind, Sound};
use crate::clock::Instant;

/// What the driver does next, from either core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Step {
    Play(Vec<Sound>),
    StopPlaying,
    StartRecording,
    StopRecording {
        drop_tail_samples: u64,
    },
    /// Store the message; answer with [`Core::handle_stored`].
    Deposit,
    /// Throw the recording away.
    Discard,
    /// Check the owner's PIN; answer with [`Core::handle_pin`] or [`Core::handle_locked`].
    CheckPin(Pin),
    MarkHeard(i64),
    Delete(i64),
    /// Store the recorded greeting; answer with [`Core::handle_stored`].
    SaveGreeting(GreetingKind),
    Hangup,
}

#[derive(Debug)]
pub(super) enum Core {
    Leave(Deposit),
    Listen(MailboxMenu),
}

impl Core {
    pub(super) fn poll_step(&mut self) -> Option<Step> {
        Some(match self {
            Core::Leave(d) => match d.poll_action()? {
                deposit::Action::Play(s) => Step::Play(s),
                deposit::Action::StopPlaying => Step::StopPlaying,
                deposit::Action::StartRecording => Step::StartRecording,
                deposit::Action::StopRecording { drop_tail_samples } => {
                    Step::StopRecording { drop_tail_samples }
                }
                deposit::Action::Deposit => Step::Deposit,
                deposit::Action::Discard => Step::Discard,
                deposit::Action::Hangup => Step::Hangup,
            },
            Core::Listen(m) => match m.poll_action()? {
                menu::Action::Play(s) => Step::Play(s),
                menu::Action::StopPlaying => Step::StopPlaying,
                menu::Action::CheckPin(pin) => Step::CheckPin(pin),
                menu::Action::MarkHeard(id) => Step::MarkHeard(id),
                menu::Action::Delete(id) => Step::Delete(id),
                menu::Action::StartRecording => Step::StartRecording,
                menu::Action::StopRecording { drop_tail_samples } => {
                    Step::StopRecording { drop_tail_samples }
                }
                menu::Action::SaveGreeting(kind) => Step::SaveGreeting(kind),
                menu::Action::DiscardRecording => Step::Discard,
                menu::Action::Hangup => Step::Hangup,
            },
        })
    }

    pub(super) fn is_done(&self) -> bool {
        match self {
            Core::Leave(d) => d.is_done(),
            Core::Listen(m) => m.is_done(),
        }
    }

    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Core::Leave(d) => d.poll_timeout(),
            Core::Listen(m) => m.poll_timeout(),
        }
    }

    pub(super) fn handle_timeout(&mut self, now: Instant) {
        match self {
            Core::Leave(d) => d.handle_timeout(now),
            Core::Listen(m) => m.handle_timeout(now),
        }
    }

    pub(super) fn handle_play_done(&mut self, now: Instant) {
        match self {
            Core::Leave(d) => d.handle_play_done(now),
            Core::Listen(m) => m.handle_play_done(now),
        }
    }

    pub(super) fn handle_digit(&mut self, digit: char, now: Instant) {
        match self {
            Core::Leave(d) => d.handle_digit(digit, now),
            Core::Listen(m) => m.handle_digit(digit, now),
        }
    }

    pub(super) fn handle_audio(&mut self, frame: &[i16], now: Instant) {
        match self {
            Core::Leave(d) => d.handle_audio(frame, now),
            Core::Listen(m) => m.handle_audio(frame, now),
        }
    }

    pub(super) fn handle_hangup(&mut self, now: Instant) {
        match self {
            Core::Leave(d) => d.handle_hangup(now),
            Core::Listen(m) => m.handle_hangup(now),
        }
    }

    /// The answer to `Deposit` or `SaveGreeting`.
    pub(super) fn handle_stored(&mut self, result: Result<(), ()>, now: Instant) {
        match self {
            Core::Leave(d) => d.handle_deposited(result, now),
            Core::Listen(m) => m.handle_greeting_saved(result, now),
        }
    }

    pub(super) fn handle_pin(&mut self, right: bool, now: Instant) {
        if let Core::Listen(m) = self {
            m.handle_pin(right, now);
        }
    }

    pub(super) fn handle_locked(&mut self, now: Instant) {
        if let Core::Listen(m) = self {
            m.handle_locked(now);
        }
    }
}
