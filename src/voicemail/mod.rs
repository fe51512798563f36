//! Voicemail: every user's box (recordings, messages, greetings) and what callers and owners
//! do with it.
//!
//! * `mailbox` — the boxes on disk and in the store: [`Mailboxes::start_recording`] →
//!   [`Recording`] → [`Mailboxes::deposit`] (WAV fsynced, row and MWI counts in one transaction,
//!   mail queued, all before the caller hears goodbye); listing, heard, delete; greetings
//!   ([`Mailboxes::put_greeting`], [`greeting::to_8k_mono`] for uploads); the keep/delete rule
//!   after mailing ([`MailboxService`]).
//! * [`deposit`], [`menu`] — leaving a message and the mailbox by phone, sans-IO cores.
//! * [`prompts`] — the shipped prompts (and the admin's), beep and numbers said aloud.
//! * `service`, `call` — the [`VoicemailService`] the SIP driver hands calls to: one task
//!   per call drives its RTP session and core.

mod call;
mod core;
pub mod deposit;
mod mailbox;
mod mailbox_deposit;
pub mod mailbox_greeting;
mod mailbox_recording;
mod mailbox_service;
pub mod menu;
pub mod prompts;
mod recording;
mod service;

pub use mailbox::{
    MailState, MailboxError, Mailboxes, MessageId, MessageInfo, NewMessage, Reason, format_duration,
};
pub use mailbox_greeting as greeting;
pub use mailbox_recording::{RATE, Recording, TAIL_SAMPLES};
pub use mailbox_service::MailboxService;
pub use prompts::{GreetingKind, Prompt, Prompts, Sound};
pub use recording::Limits;
pub use service::VoicemailService;

#[cfg(test)]
mod mailbox_tests;
