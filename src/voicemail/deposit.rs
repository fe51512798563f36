//! Leaving a message: greeting, beep, record, deposit, goodbye (sans-IO).
//!
//! Contract: build with [`Deposit::new`] when the call is answered, then feed what happens —
//! [`Deposit::handle_play_done`] when the last `Play` finished (not one that `StopPlaying`
//! cut off), [`Deposit::handle_digit`] for DTMF, [`Deposit::handle_audio`] with each frame
//! while recording, [`Deposit::handle_hangup`], [`Deposit::handle_deposited`] in answer to
//! `Deposit`, and [`Deposit::handle_timeout`] at [`Deposit::poll_timeout`]. After each call,
//! drain [`Deposit::poll_action`]. Nothing here touches media, files or the clock.
//!
//! The flow follows Asterisk's `leave_voicemail` (`apps/app_voicemail.c`): only '#' skips the
//! greeting to the beep — Asterisk's other escape keys ('0' operator, '*') lead out of the
//! mailbox, which zentrale does not offer, and a caller pressing keys at an announcement must
//! not lose it. While recording '#' ends the message, as in Asterisk's `acceptdtmf`; other
//! keys are recorded over. The message is deposited (on disk, mail queued) before the caller
//! hears goodbye.

use std::collections::VecDeque;
use std::time::Duration;

use super::prompts::{GreetingKind, Prompt, Sound};
use super::recording::{Full, Limits, Recording};
use crate::clock::Instant;

/// After the last prompt the call ends even if the media layer never says it finished.
const CLOSING_GRACE: Duration = Duration::from_secs(30);

/// What the caller hears first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Greeting {
    /// Why the call came: busy or unavailable.
    pub kind: GreetingKind,
    /// Whether the user recorded their own greeting for it (else the shipped prompt).
    pub own: bool,
}

impl Greeting {
    fn sound(self) -> Sound {
        if self.own {
            Sound::Greeting(self.kind)
        } else {
            Sound::Prompt(self.kind.default_prompt())
        }
    }
}

/// What the driver does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Play these in order, then report `handle_play_done`.
    Play(Vec<Sound>),
    /// Stop what is playing now; no `handle_play_done` for it.
    StopPlaying,
    /// Start writing the caller's audio (frames from now on go to `handle_audio` too).
    StartRecording,
    /// Stop writing and cut this many samples off the end of what was written.
    StopRecording { drop_tail_samples: u64 },
    /// Store the recording as a message (fsync, mail queued), then `handle_deposited`.
    Deposit,
    /// Throw the recording away: too short for a message.
    Discard,
    /// End the call.
    Hangup,
}

#[derive(Debug)]
enum State {
    /// Greeting and beep playing.
    Greeting,
    /// '#' cut the greeting short; the beep is playing.
    Beep,
    Recording {
        rec: Recording,
        deadline: Instant,
    },
    /// Waiting for `handle_deposited`.
    Storing,
    /// The last prompt is playing; then hang up.
    Closing {
        deadline: Instant,
    },
    Done,
}

/// One caller leaving a message.
#[derive(Debug)]
pub struct Deposit {
    limits: Limits,
    state: State,
    caller_here: bool,
    kept_samples: u64,
    actions: VecDeque<Action>,
}

impl Deposit {
    /// The call was answered: the greeting and the beep start.
    pub fn new(greeting: Greeting, limits: Limits, _now: Instant) -> Deposit {
        let mut d = Deposit {
            limits,
            state: State::Greeting,
            caller_here: true,
            kept_samples: 0,
            actions: VecDeque::new(),
        };
        d.actions
            .push_back(Action::Play(vec![greeting.sound(), Sound::Beep]));
        d
    }

    pub fn handle_play_done(&mut self, now: Instant) {
        match self.state {
            State::Greeting | State::Beep => {
                self.actions.push_back(Action::StartRecording);
                self.state = State::Recording {
                    rec: Recording::new(self.limits),
                    deadline: now + self.limits.max,
                };
            }
            State::Closing { .. } => self.hang_up(),
            _ => {}
        }
    }

    pub fn handle_digit(&mut self, digit: char, now: Instant) {
        match self.state {
            State::Greeting if digit == '#' => {
                self.actions.push_back(Action::StopPlaying);
                self.actions.push_back(Action::Play(vec![Sound::Beep]));
                self.state = State::Beep;
            }
            State::Recording { .. } if digit == '#' => self.stop(None, now),
            _ => {}
        }
    }

    /// One frame of the caller's audio (8 kHz samples); counted only while recording.
    pub fn handle_audio(&mut self, frame: &[i16], now: Instant) {
        let State::Recording { rec, .. } = &mut self.state else {
            return;
        };
        if let Some(full) = rec.push(frame) {
            self.stop(Some(full), now);
        }
    }

    pub fn handle_hangup(&mut self, now: Instant) {
        self.caller_here = false;
        match self.state {
            State::Recording { .. } => self.stop(None, now),
            State::Storing => {}
            _ => self.state = State::Done,
        }
    }

    /// The answer to `Deposit`: stored (and mail queued), or not.
    pub fn handle_deposited(&mut self, result: Result<(), ()>, now: Instant) {
        if !matches!(self.state, State::Storing) {
            return;
        }
        let prompt = match result {
            Ok(()) => Prompt::Goodbye,
            Err(()) => Prompt::MailboxUnavailable,
        };
        self.close(prompt, now);
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        match self.state {
            State::Recording { deadline, .. } if now >= deadline => {
                self.stop(Some(Full::Length), now)
            }
            State::Closing { deadline } if now >= deadline => self.hang_up(),
            _ => {}
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Recording { deadline, .. } | State::Closing { deadline } => Some(deadline),
            _ => None,
        }
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Nothing more will happen: the call can go.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done) && self.actions.is_empty()
    }

    /// Samples of the message as deposited (after the cut), once `Deposit` was emitted.
    pub fn kept_samples(&self) -> u64 {
        self.kept_samples
    }

    fn stop(&mut self, why: Option<Full>, now: Instant) {
        let State::Recording { rec, .. } = &self.state else {
            return;
        };
        let tail = rec.tail(why);
        let keep = rec.long_enough(tail);
        self.kept_samples = if keep { rec.samples() - tail } else { 0 };
        self.actions.push_back(Action::StopRecording {
            drop_tail_samples: tail,
        });
        if keep {
            self.actions.push_back(Action::Deposit);
            self.state = State::Storing;
        } else {
            self.actions.push_back(Action::Discard);
            self.close(Prompt::TooShort, now);
        }
    }

    /// Plays the last prompt if the caller is still there, then hangs up.
    fn close(&mut self, prompt: Prompt, now: Instant) {
        if self.caller_here {
            self.actions
                .push_back(Action::Play(vec![Sound::Prompt(prompt)]));
            self.state = State::Closing {
                deadline: now + CLOSING_GRACE,
            };
        } else {
            self.state = State::Done;
        }
    }

    fn hang_up(&mut self) {
        self.actions.push_back(Action::Hangup);
        self.state = State::Done;
    }
}

#[cfg(test)]
#[path = "deposit_tests.rs"]
mod tests;
