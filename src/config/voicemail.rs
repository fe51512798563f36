//! `[voicemail]`: how long a message may be, what ends a recording, how the owner reaches the
//! mailbox by phone and how many PIN guesses it takes.
//!
//! Names and defaults follow Asterisk's `voicemail.conf` (configs/samples/voicemail.conf.sample
//! in asterisk/asterisk): `maxsecs=180`, `minsecs=3`, `maxsilence=10`, `silencethreshold=128`,
//! `maxgreet=60`, `maxlogins=3`. Asterisk's own code default for `minsecs` is none and
//! `maxsilence` off; the sample's values are what its admins run, and FreeSWITCH's stock
//! `voicemail.conf.xml` agrees on a 3-second minimum (`min-record-len`). The lockout keys are
//! those of `[menu]` (the same PIN, so the same limits by default).

use super::MenuConfig;
use super::section::Section;

/// `[voicemail]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailConfig {
    /// Longest message; the recording stops there (Asterisk `maxsecs`).
    pub max_secs: u64,
    /// Shorter messages (after the silence that ended them is cut) are discarded, no mail
    /// (Asterisk `minsecs`). 0 keeps every message with any sound at all.
    pub min_secs: u64,
    /// This much silence ends a recording; 0 turns silence detection off (Asterisk
    /// `maxsilence`, where 0 is off too).
    pub max_silence_secs: u64,
    /// A 20 ms frame whose mean absolute sample value (of 32767) is below this is silence
    /// (Asterisk `silencethreshold`, same measure: `main/dsp.c`).
    pub silence_threshold: u16,
    /// Longest greeting recorded by phone (Asterisk `maxgreet`).
    pub max_greeting_secs: u64,
    /// Dialled from one of the user's phones, reaches their own mailbox. `*97` is FreePBX's
    /// "My Voicemail" feature code.
    pub feature_code: String,
    /// Wrong PINs in one call before it ends (Asterisk `maxlogins`).
    pub max_logins: u32,
    /// Wrong PINs for one mailbox within `mailbox_window_secs` before it is locked.
    pub mailbox_attempts: u32,
    pub mailbox_window_secs: u64,
    /// Wrong PINs from one phone within `device_window_secs` before it is locked.
    pub device_attempts: u32,
    pub device_window_secs: u64,
    /// How long a locked mailbox or phone is refused, even with the right PIN.
    pub lockout_secs: u64,
}

impl Default for VoicemailConfig {
    fn default() -> Self {
        let menu = MenuConfig::default();
        VoicemailConfig {
            max_secs: 180,
            min_secs: 3,
            max_silence_secs: 10,
            silence_threshold: 128,
            max_greeting_secs: 60,
            feature_code: "*97".into(),
            max_logins: 3,
            mailbox_attempts: menu.extension_attempts,
            mailbox_window_secs: menu.extension_window_secs,
            device_attempts: menu.device_attempts,
            device_window_secs: menu.device_window_secs,
            lockout_secs: menu.lockout_secs,
        }
    }
}

impl VoicemailConfig {
    /// The limits for a [`crate::phone_menu::lockout::Lockouts`] of the mailboxes: the same
    /// counter as the menu key's, keyed by the mailbox's extension and the calling phone.
    pub fn lockout(&self) -> MenuConfig {
        MenuConfig {
            extension_attempts: self.mailbox_attempts,
            extension_window_secs: self.mailbox_window_secs,
            device_attempts: self.device_attempts,
            device_window_secs: self.device_window_secs,
            lockout_secs: self.lockout_secs,
        }
    }
}

/// Longest message or greeting: an hour is past any mailbox we know (Asterisk has no cap).
const MAX_RECORD_SECS: u64 = 3600;

pub(super) fn voicemail(mut s: Section) -> VoicemailConfig {
    let d = VoicemailConfig::default();
    let c = VoicemailConfig {
        max_secs: s.get("max_secs", || d.max_secs),
        min_secs: s.get("min_secs", || d.min_secs),
        max_silence_secs: s.get("max_silence_secs", || d.max_silence_secs),
        silence_threshold: s.get("silence_threshold", || d.silence_threshold),
        max_greeting_secs: s.get("max_greeting_secs", || d.max_greeting_secs),
        feature_code: s.get("feature_code", || d.feature_code.clone()),
        max_logins: s.get("max_logins", || d.max_logins),
        mailbox_attempts: s.get("mailbox_attempts", || d.mailbox_attempts),
        mailbox_window_secs: s.get("mailbox_window_secs", || d.mailbox_window_secs),
        device_attempts: s.get("device_attempts", || d.device_attempts),
        device_window_secs: s.get("device_window_secs", || d.device_window_secs),
        lockout_secs: s.get("lockout_secs", || d.lockout_secs),
    };
    for (key, value) in [
        ("max_secs", c.max_secs),
        ("max_greeting_secs", c.max_greeting_secs),
    ] {
        if !(1..=MAX_RECORD_SECS).contains(&value) {
            s.problem(key, &format!("must be 1 to {MAX_RECORD_SECS} seconds"));
        }
    }
    if c.min_secs >= c.max_secs {
        s.problem("min_secs", "must be less than max_secs");
    }
    if c.max_silence_secs > c.max_secs {
        s.problem("max_silence_secs", "must be 0 (off) to max_secs");
    }
    if !(1..=i16::MAX as u16).contains(&c.silence_threshold) {
        s.problem("silence_threshold", "must be 1 to 32767");
    }
    let code = &c.feature_code;
    if code.is_empty() || code.len() > 16 || !code.bytes().all(|b| b"0123456789*#".contains(&b)) {
        s.problem("feature_code", "must be 1 to 16 of the keys 0-9, * and #");
    }
    for (key, value) in [
        ("max_logins", u64::from(c.max_logins)),
        ("mailbox_attempts", u64::from(c.mailbox_attempts)),
        ("device_attempts", u64::from(c.device_attempts)),
    ] {
        if !(1..=1000).contains(&value) {
            s.problem(key, "must be 1 to 1000");
        }
    }
    for (key, value) in [
        ("mailbox_window_secs", c.mailbox_window_secs),
        ("device_window_secs", c.device_window_secs),
        ("lockout_secs", c.lockout_secs),
    ] {
        if !(1..=86_400).contains(&value) {
            s.problem(key, "must be 1 to 86400 seconds");
        }
    }
    s.finish();
    c
}

#[cfg(test)]
#[path = "voicemail_tests.rs"]
mod tests;
