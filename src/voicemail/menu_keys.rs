//! The mailbox menu's keys: what each does on the main and the options screen, and what is
//! said around the messages (Asterisk's VoiceMailMain layout, see menu.rs).

use super::{Action, MailboxMenu, Playing, Screen, State};
use crate::clock::Instant;
use crate::voicemail::prompts::{GreetingKind, Prompt, Sound};

impl MailboxMenu {
    /// "You have one new message and 3 old messages" (German: "eine neue Nachricht").
    pub(super) fn intro(&self) -> Vec<Sound> {
        let new = self.messages.iter().filter(|m| !m.heard).count() as u32;
        let old = self.messages.len() as u32 - new;
        if new == 0 && old == 0 {
            return vec![Sound::Prompt(Prompt::NoMessages)];
        }
        let count = |n: u32| match n {
            1 => Sound::Prompt(Prompt::CountOne),
            n => Sound::Number(n),
        };
        let mut out = vec![Sound::Prompt(Prompt::YouHave)];
        if new > 0 {
            let what = if new == 1 {
                Prompt::NewMessage
            } else {
                Prompt::NewMessages
            };
            out.extend([count(new), Sound::Prompt(what)]);
        }
        if new > 0 && old > 0 {
            out.push(Sound::Prompt(Prompt::And));
        }
        if old > 0 {
            let what = if old == 1 {
                Prompt::OldMessage
            } else {
                Prompt::OldMessages
            };
            out.extend([count(old), Sound::Prompt(what)]);
        }
        out
    }

    pub(super) fn main_key(&mut self, digit: char, now: Instant) {
        let last = self.messages.len().checked_sub(1);
        match (digit, self.current) {
            ('1', _) | ('5', None) | ('6', None) => self.play_message(0, vec![]),
            ('5', Some(i)) => self.play_message(i, vec![]),
            ('4', Some(i)) if i > 0 => self.play_message(i - 1, vec![]),
            ('6', Some(i)) if Some(i) < last => self.play_message(i + 1, vec![]),
            ('4' | '6', _) => self.no_more(vec![]),
            ('7', Some(i)) => {
                let gone = self.messages.remove(i);
                self.actions.push_back(Action::Delete(gone.id));
                let said = vec![Sound::Prompt(Prompt::MessageDeleted)];
                if i < self.messages.len() {
                    self.play_message(i, said);
                } else {
                    self.current = self.messages.len().checked_sub(1);
                    self.no_more(said);
                }
            }
            ('9', Some(i)) => {
                self.mark_heard(i);
                let said = vec![Sound::Prompt(Prompt::MessageSaved)];
                if Some(i) < last {
                    self.play_message(i + 1, said);
                } else {
                    self.no_more(said);
                }
            }
            ('0', _) => self.options(vec![]),
            ('#', _) => self.close(vec![Prompt::Goodbye], now),
            _ => self.play(vec![Sound::Prompt(self.help())]),
        }
    }

    pub(super) fn options_key(&mut self, digit: char) {
        let kind = match digit {
            '1' => GreetingKind::Unavailable,
            '2' => GreetingKind::Busy,
            '*' | '#' => {
                self.state = State::Menu {
                    screen: Screen::Main,
                    repeats: 0,
                };
                return self.play(vec![Sound::Prompt(self.help())]);
            }
            _ => return self.play(vec![Sound::Prompt(Prompt::OptionsMenu)]),
        };
        self.state = State::GreetingPrompt(kind);
        self.play(vec![Sound::Prompt(Prompt::RecordGreeting), Sound::Beep]);
    }

    /// The help for where the owner is: the message keys once a message was played.
    pub(super) fn help(&self) -> Prompt {
        if self.current.is_some() {
            Prompt::MessageMenu
        } else {
            Prompt::MainMenu
        }
    }

    pub(super) fn play_message(&mut self, i: usize, mut before: Vec<Sound>) {
        let Some(m) = self.messages.get(i) else {
            before.extend([Prompt::NoMessages, Prompt::MainMenu].map(Sound::Prompt));
            return self.play(before);
        };
        self.current = Some(i);
        before.extend([
            Sound::Prompt(Prompt::Message),
            Sound::Number(i as u32 + 1),
            Sound::Message(m.id),
        ]);
        self.play(before);
        self.playing = Playing::Message(i);
    }

    pub(super) fn no_more(&mut self, mut before: Vec<Sound>) {
        before.extend([
            Sound::Prompt(Prompt::NoMoreMessages),
            Sound::Prompt(self.help()),
        ]);
        self.play(before);
    }

    pub(super) fn mark_heard(&mut self, i: usize) {
        if let Some(m) = self.messages.get_mut(i).filter(|m| !m.heard) {
            m.heard = true;
            self.actions.push_back(Action::MarkHeard(m.id));
        }
    }
}
