//! Voicemail: leaving a message, the mailbox by phone, the prompts, and the storage.

pub mod deposit;
pub mod menu;
pub mod prompts;
mod recording;

pub use prompts::{GreetingKind, Prompt, Prompts, Sound};
pub use recording::Limits;
