//! `[menu]`: the menu key app on the phones (workplace login by extension and PIN).

use super::section::Section;

/// How many failed PIN attempts are allowed before attempts are refused for a while.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuConfig {
    /// Failed attempts for one extension within `extension_window_secs` before a lockout.
    pub extension_attempts: u32,
    pub extension_window_secs: u64,
    /// Failed attempts from one phone within `device_window_secs` before a lockout.
    pub device_attempts: u32,
    pub device_window_secs: u64,
    /// How long a locked extension or phone is refused, even with the right PIN.
    pub lockout_secs: u64,
}

impl Default for MenuConfig {
    fn default() -> Self {
        MenuConfig {
            extension_attempts: 3,
            extension_window_secs: 300,
            device_attempts: 10,
            device_window_secs: 300,
            lockout_secs: 900,
        }
    }
}

pub(super) fn menu(mut s: Section) -> MenuConfig {
    let d = MenuConfig::default();
    let c = MenuConfig {
        extension_attempts: s.get("extension_attempts", || d.extension_attempts),
        extension_window_secs: s.get("extension_window_secs", || d.extension_window_secs),
        device_attempts: s.get("device_attempts", || d.device_attempts),
        device_window_secs: s.get("device_window_secs", || d.device_window_secs),
        lockout_secs: s.get("lockout_secs", || d.lockout_secs),
    };
    for (key, value) in [
        ("extension_attempts", u64::from(c.extension_attempts)),
        ("device_attempts", u64::from(c.device_attempts)),
    ] {
        if !(1..=1000).contains(&value) {
            s.problem(key, "must be 1 to 1000");
        }
    }
    for (key, value) in [
        ("extension_window_secs", c.extension_window_secs),
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
