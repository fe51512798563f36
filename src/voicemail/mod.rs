//! Voicemail: every user's box (recordings, messages, greetings) and what callers and owners
//! do with it.
//!
//! * `mailbox` — the boxes on disk and in the store: [`Mailboxes::start_recording`] →
//!   [`Recording`] → [`Mailboxes::deposit`] (WAV fsynced, row and MWI counts in one transaction,
//!   mail queued, all before the caller hears goodbye); listing, heard, delete; greetings
//!   ([`Mailboxes::put_greeting`], [`greeting::to_8k_mono`] for uploads); the keep/delete rule
//!   after mailing ([`MailboxService`]).

mod mailbox;
mod mailbox_deposit;
pub mod mailbox_greeting;
mod mailbox_recording;
mod mailbox_service;

pub use mailbox::{
    GreetingKind, MailState, MailboxError, Mailboxes, MessageId, MessageInfo, NewMessage, Reason,
    format_duration,
};
pub use mailbox_greeting as greeting;
pub use mailbox_recording::{RATE, Recording, TAIL_SAMPLES};
pub use mailbox_service::MailboxService;

#[cfg(test)]
mod mailbox_tests;
