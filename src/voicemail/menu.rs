//! The mailbox by phone: PIN, counts, listening, greetings (sans-IO).
//!
//! Contract: the driver knows whose box was dialled and builds [`MailboxMenu::new`] with its
//! messages; then feeds [`MailboxMenu::handle_play_done`] (the last `Play` finished; not one
//! that `StopPlaying` cut off), [`MailboxMenu::handle_digit`], [`MailboxMenu::handle_audio`]
//! while recording, [`MailboxMenu::handle_pin`] / [`MailboxMenu::handle_locked`] in answer to
//! `CheckPin` (the driver asks the mailbox lockout first, then the store), and
//! [`MailboxMenu::handle_greeting_saved`] in answer to `SaveGreeting`,
//! [`MailboxMenu::handle_hangup`], [`MailboxMenu::handle_timeout`] at
//! [`MailboxMenu::poll_timeout`]; after each, drain [`MailboxMenu::poll_action`].
//!
//! The lockout outlives a call, so it is the driver's: one
//! [`crate::phone_menu::lockout::Lockouts`] built from
//! [`crate::config::VoicemailConfig::lockout`], `begin(extension, device)` before the PIN is
//! checked (refused: `handle_locked`), `finish` after (menu_tests.rs shows the loop).
//!
//! Keys are Asterisk's `VoiceMailMain` (`apps/app_voicemail.c`), the layout phone users know:
//! 1 play the first message, 4 previous, 5 repeat, 6 next, 7 delete, 9 save (marked heard),
//! 0 mailbox options (1 record the unavailable greeting, 2 the busy one, * back), * help,
//! # exit. Every prompt can be interrupted by a key. A message played to its end is marked
//! heard. There is no action that dials out, calls back or transfers: toll fraud through a
//! mailbox needs one, and zentrale has none.
//!
//! Timeouts, also Asterisk's: 10 s for the PIN's first digit and 2 s between digits (its
//! `ast_readstring(…, 2000, 10000, "#")` in `vm_authenticate`), after which what was typed
//! counts; 6 s for a key after the menu's help (`ast_waitfordigit(chan, 6000)`), the help
//! repeated, and the third silence in a row ends the call with goodbye (`repeats > 2`).

use std::collections::VecDeque;
use std::time::Duration;

use super::prompts::{GreetingKind, Prompt, Sound};
use super::recording::{Full, Limits, Recording};
use crate::clock::Instant;

const FIRST_DIGIT: Duration = Duration::from_secs(10);
const NEXT_DIGIT: Duration = Duration::from_secs(2);
const MENU_WAIT: Duration = Duration::from_secs(6);
/// Silences in a row at a menu before goodbye.
const MAX_REPEATS: u32 = 3;
/// After the last prompt the call ends even if the media layer never says it finished.
const CLOSING_GRACE: Duration = Duration::from_secs(30);
/// Digits kept of a PIN being typed; more are ignored (no unbounded growth).
const MAX_PIN_DIGITS: usize = 32;

/// A message in the box, as the core needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageRef {
    pub id: i64,
    pub heard: bool,
}

/// A PIN as typed. Its `Debug` hides the digits, so an action logged whole leaks nothing.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

impl Pin {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Pin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pin(…)")
    }
}

/// `[voicemail]`'s limits for the mailbox menu.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MenuLimits {
    /// Wrong PINs in this call before goodbye.
    pub max_logins: u32,
    /// Recording a greeting.
    pub greeting: Limits,
}

impl MenuLimits {
    pub fn new(c: &crate::config::VoicemailConfig) -> MenuLimits {
        MenuLimits {
            max_logins: c.max_logins,
            greeting: Limits::greeting(c),
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
    /// Ask the lockout and check the PIN; answer with `handle_pin` or `handle_locked`.
    CheckPin(Pin),
    MarkHeard(i64),
    Delete(i64),
    /// Start writing the caller's audio (frames go to `handle_audio` too).
    StartRecording,
    /// Stop writing and cut this many samples off the end of what was written.
    StopRecording {
        drop_tail_samples: u64,
    },
    /// Store the recording as this greeting, then `handle_greeting_saved`.
    SaveGreeting(GreetingKind),
    /// Throw the recording away.
    DiscardRecording,
    Hangup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Screen {
    Main,
    Options,
}

#[derive(Debug)]
enum State {
    Pin { typed: String },
    CheckingPin,
    Menu { screen: Screen, repeats: u32 },
    GreetingPrompt(GreetingKind),
    Recording { kind: GreetingKind, rec: Recording },
    SavingGreeting,
    Closing,
    Done,
}

/// What the last `Play` was, for what follows when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Playing {
    Nothing,
    Prompt,
    Message(usize),
}

/// One owner's call to their mailbox.
#[derive(Debug)]
pub struct MailboxMenu {
    limits: MenuLimits,
    messages: Vec<MessageRef>,
    current: Option<usize>,
    failures: u32,
    state: State,
    playing: Playing,
    deadline: Option<Instant>,
    actions: VecDeque<Action>,
}

impl MailboxMenu {
    /// The call reached the box of the owner whose `messages` these are (new ones are played
    /// first, each group in the order given). The PIN prompt starts.
    pub fn new(messages: Vec<MessageRef>, limits: MenuLimits, _now: Instant) -> MailboxMenu {
        let (mut messages, old): (Vec<_>, Vec<_>) = messages.into_iter().partition(|m| !m.heard);
        messages.extend(old);
        let mut m = MailboxMenu {
            limits,
            messages,
            current: None,
            failures: 0,
            state: State::Pin {
                typed: String::new(),
            },
            playing: Playing::Nothing,
            deadline: None,
            actions: VecDeque::new(),
        };
        m.play(vec![Sound::Prompt(Prompt::EnterPin)]);
        m
    }

    pub fn handle_play_done(&mut self, now: Instant) {
        let was = std::mem::replace(&mut self.playing, Playing::Nothing);
        match &self.state {
            State::Pin { typed } if typed.is_empty() => self.deadline = Some(now + FIRST_DIGIT),
            State::Menu { .. } => {
                if let Playing::Message(i) = was {
                    self.mark_heard(i);
                    self.play(vec![Sound::Prompt(Prompt::MessageMenu)]);
                } else {
                    self.deadline = Some(now + MENU_WAIT);
                }
            }
            State::GreetingPrompt(kind) => {
                let kind = *kind;
                self.actions.push_back(Action::StartRecording);
                self.deadline = Some(now + self.limits.greeting.max);
                self.state = State::Recording {
                    kind,
                    rec: Recording::new(self.limits.greeting),
                };
            }
            State::Closing => self.hang_up(),
            _ => {}
        }
    }

    pub fn handle_digit(&mut self, digit: char, now: Instant) {
        let interrupts = matches!(
            self.state,
            State::Pin { .. } | State::Menu { .. } | State::GreetingPrompt(_)
        );
        if interrupts && self.playing != Playing::Nothing {
            self.actions.push_back(Action::StopPlaying);
            self.playing = Playing::Nothing;
        }
        match &mut self.state {
            State::Pin { typed } => match digit {
                '#' => self.submit_pin(now),
                '*' => {
                    typed.clear();
                    self.deadline = Some(now + FIRST_DIGIT);
                }
                '0'..='9' => {
                    if typed.len() < MAX_PIN_DIGITS {
                        typed.push(digit);
                    }
                    self.deadline = Some(now + NEXT_DIGIT);
                }
                _ => {}
            },
            State::Menu { screen, repeats } => {
                *repeats = 0;
                self.deadline = None;
                match *screen {
                    Screen::Main => self.main_key(digit, now),
                    Screen::Options => self.options_key(digit),
                }
            }
            State::GreetingPrompt(_) => match digit {
                '#' => self.play(vec![Sound::Beep]),
                '*' => self.options(vec![]),
                _ => {}
            },
            State::Recording { .. } => match digit {
                '#' => self.stop_recording(None),
                '*' => {
                    self.actions.push_back(Action::StopRecording {
                        drop_tail_samples: 0,
                    });
                    self.actions.push_back(Action::DiscardRecording);
                    self.options(vec![]);
                }
                _ => {}
            },
            _ => {}
        }
    }

    /// One frame of the caller's audio; counted only while a greeting is recorded.
    pub fn handle_audio(&mut self, frame: &[i16], _now: Instant) {
        let State::Recording { rec, .. } = &mut self.state else {
            return;
        };
        if let Some(full) = rec.push(frame) {
            self.stop_recording(Some(full));
        }
    }

    /// The PIN was checked: right or wrong.
    pub fn handle_pin(&mut self, right: bool, now: Instant) {
        if !matches!(self.state, State::CheckingPin) {
            return;
        }
        if right {
            let mut sounds = self.intro();
            sounds.push(Sound::Prompt(Prompt::MainMenu));
            self.state = State::Menu {
                screen: Screen::Main,
                repeats: 0,
            };
            self.play(sounds);
        } else {
            self.wrong_pin(now);
        }
    }

    /// The mailbox or the phone is locked out: the PIN was not even checked.
    pub fn handle_locked(&mut self, now: Instant) {
        if matches!(self.state, State::CheckingPin) {
            self.close(vec![Prompt::Locked, Prompt::Goodbye], now);
        }
    }

    /// The answer to `SaveGreeting`.
    pub fn handle_greeting_saved(&mut self, result: Result<(), ()>, _now: Instant) {
        if !matches!(self.state, State::SavingGreeting) {
            return;
        }
        let said = match result {
            Ok(()) => Prompt::GreetingSaved,
            Err(()) => Prompt::GreetingNotSaved,
        };
        self.options(vec![Sound::Prompt(said)]);
    }

    pub fn handle_hangup(&mut self, _now: Instant) {
        if matches!(self.state, State::Recording { .. }) {
            // A greeting is kept only when the owner ended it (or it filled up).
            self.actions.push_back(Action::StopRecording {
                drop_tail_samples: 0,
            });
            self.actions.push_back(Action::DiscardRecording);
        }
        self.state = State::Done;
        self.deadline = None;
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_none_or(|d| now < d) {
            return;
        }
        self.deadline = None;
        match &mut self.state {
            State::Pin { .. } => self.submit_pin(now),
            State::Menu { screen, repeats } => {
                *repeats += 1;
                if *repeats >= MAX_REPEATS {
                    self.close(vec![Prompt::Goodbye], now);
                } else {
                    let help = match *screen {
                        Screen::Main => self.help(),
                        Screen::Options => Prompt::OptionsMenu,
                    };
                    self.play(vec![Sound::Prompt(help)]);
                }
            }
            State::Recording { .. } => self.stop_recording(Some(Full::Length)),
            State::Closing => self.hang_up(),
            _ => {}
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// Nothing more will happen: the call can go.
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done) && self.actions.is_empty()
    }

    fn submit_pin(&mut self, now: Instant) {
        let State::Pin { typed } = &mut self.state else {
            return;
        };
        self.deadline = None;
        if typed.is_empty() {
            // Nothing typed: a failed try, but nothing to check (or to count in the lockout).
            self.wrong_pin(now);
        } else {
            let pin = Pin(std::mem::take(typed));
            self.actions.push_back(Action::CheckPin(pin));
            self.state = State::CheckingPin;
        }
    }

    fn wrong_pin(&mut self, now: Instant) {
        self.failures += 1;
        if self.failures >= self.limits.max_logins {
            self.close(vec![Prompt::WrongPin, Prompt::Goodbye], now);
        } else {
            self.state = State::Pin {
                typed: String::new(),
            };
            self.play(vec![
                Sound::Prompt(Prompt::WrongPin),
                Sound::Prompt(Prompt::EnterPin),
            ]);
        }
    }

    fn options(&mut self, mut before: Vec<Sound>) {
        before.push(Sound::Prompt(Prompt::OptionsMenu));
        self.state = State::Menu {
            screen: Screen::Options,
            repeats: 0,
        };
        self.deadline = None;
        self.play(before);
    }

    fn stop_recording(&mut self, why: Option<Full>) {
        let State::Recording { kind, rec } = &self.state else {
            return;
        };
        let (kind, tail) = (*kind, rec.tail(why));
        let keep = rec.long_enough(tail);
        self.deadline = None;
        self.actions.push_back(Action::StopRecording {
            drop_tail_samples: tail,
        });
        if keep {
            self.actions.push_back(Action::SaveGreeting(kind));
            self.state = State::SavingGreeting;
        } else {
            self.actions.push_back(Action::DiscardRecording);
            self.options(vec![Sound::Prompt(Prompt::TooShort)]);
        }
    }

    fn play(&mut self, sounds: Vec<Sound>) {
        self.actions.push_back(Action::Play(sounds));
        self.playing = Playing::Prompt;
    }

    /// Says `prompts`, then hangs up (after [`CLOSING_GRACE`] at the latest).
    fn close(&mut self, prompts: Vec<Prompt>, now: Instant) {
        self.state = State::Closing;
        self.play(prompts.into_iter().map(Sound::Prompt).collect());
        self.deadline = Some(now + CLOSING_GRACE);
    }

    fn hang_up(&mut self) {
        self.actions.push_back(Action::Hangup);
        self.state = State::Done;
        self.deadline = None;
    }
}

#[path = "menu_keys.rs"]
mod keys;

#[cfg(test)]
#[path = "menu_tests.rs"]
mod tests;
