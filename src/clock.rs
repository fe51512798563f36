//! The two kinds of time in zentrale, and the only places that read a clock.
//!
//! * [`Instant`] (monotonic) measures timeouts, retransmissions, lockouts and rate windows. The
//!   protocol cores never read it: every `handle_*`/`poll_*` takes `now` as an argument, so a
//!   30-second timer is tested in microseconds. Drivers read it with [`now`], which goes through
//!   `tokio::time::Instant`, so `tokio::time::pause` controls it in async tests.
//! * [`UnixTime`] (wall clock, whole seconds since the Unix epoch) is what the store keeps and
//!   what people read: created-at, last seen, enrollment windows, mail dates. Read with
//!   [`UnixTime::now`].
//!
//! `clippy.toml` forbids `std::time::Instant::now` and `SystemTime::now` everywhere else.

use std::time::Duration;

/// Monotonic time as the cores take it (a plain `std` instant: cores know nothing of tokio).
pub type Instant = std::time::Instant;

/// The monotonic time now, as drivers pass it into the cores.
#[allow(clippy::disallowed_methods)] // the one monotonic read
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Both clocks read at one moment, for code that needs both (a request that checks a rate
/// limit and a stored timestamp).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    pub mono: Instant,
    pub wall: UnixTime,
}

impl Now {
    /// Reads both clocks; for drivers only.
    pub fn read() -> Now {
        Now {
            mono: now(),
            wall: UnixTime::now(),
        }
    }
}

/// Wall-clock time in whole seconds since the Unix epoch: the store's timestamp.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    sqlx::Type,
    utoipa::ToSchema,
)]
#[serde(transparent)]
#[sqlx(transparent)]
pub struct UnixTime(i64);

impl UnixTime {
    /// The wall clock now (0 if the clock is set before 1970).
    #[allow(clippy::disallowed_methods)] // the one wall-clock read
    pub fn now() -> UnixTime {
        let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        UnixTime(since.map(|d| d.as_secs() as i64).unwrap_or_default())
    }

    pub const fn from_secs(secs: i64) -> UnixTime {
        UnixTime(secs)
    }

    pub const fn secs(self) -> i64 {
        self.0
    }

    /// `self` plus `d`, saturating.
    pub fn after(self, d: Duration) -> UnixTime {
        let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
        UnixTime(self.0.saturating_add(secs))
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub fn since(self, earlier: UnixTime) -> Duration {
        Duration::from_secs(self.0.saturating_sub(earlier.0).max(0) as u64)
    }
}

/// How long ago the wall-clock moment `at` (since the Unix epoch; a kernel timestamp such as
/// `SO_TIMESTAMPNS`'s) was; zero for a moment not yet past.
#[allow(clippy::disallowed_methods)] // the wall clock, to age a kernel timestamp
pub fn wall_age(at: Duration) -> Duration {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.unwrap_or_default().saturating_sub(at)
}

impl std::fmt::Display for UnixTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_time_arithmetic_saturates() {
        let t = UnixTime::from_secs(100);
        assert_eq!(t.after(Duration::from_secs(5)).secs(), 105);
        assert_eq!(
            UnixTime::from_secs(i64::MAX - 1)
                .after(Duration::MAX)
                .secs(),
            i64::MAX
        );
        assert_eq!(t.since(UnixTime::from_secs(40)), Duration::from_secs(60));
        assert_eq!(t.since(UnixTime::from_secs(400)), Duration::ZERO);
    }

    #[test]
    fn the_wall_clock_is_after_2026() {
        assert!(UnixTime::now().secs() > 1_767_225_600);
    }

    /// The sans-IO cores: whole module directories (their drivers excepted) and single files.
    /// A directory that does not exist yet is skipped; the files must exist.
    const CORE_DIRS: &[&str] = &["sip", "registrar", "endpoint", "dispatch", "rtp", "udptl"];
    const CORE_FILES: &[&str] = &[
        // The fax terminals and the document; the inbox beside them stores and mails.
        "fax/mod.rs",
        "fax/spandsp.rs",
        "fax/document.rs",
        "fax/sdp.rs",
        "tftp/transfer.rs",
        "tftp/packet.rs",
        "tftp/options.rs",
        "tftp/limits.rs",
        "tftp/error.rs",
        "phone_menu/lockout.rs",
        "provisioning/limiter.rs",
        "voicemail/deposit.rs",
        "voicemail/menu.rs",
        "voicemail/menu_keys.rs",
        "voicemail/recording.rs",
    ];
    /// What a core must not name: the runtime, sockets, or a clock.
    const FORBIDDEN: &[&str] = &[
        "tokio::",
        "UdpSocket",
        "TcpStream",
        "TcpListener",
        "Instant::now",
        "SystemTime::now",
        "clock::now",
        "UnixTime::now",
        "Now::read",
        ".elapsed()",
    ];

    /// The lines of `source` a core's rules apply to: code before its inline test module.
    fn offences(source: &str) -> Vec<String> {
        source
            .lines()
            .take_while(|l| !l.trim_start().starts_with("#[cfg(test)]"))
            .filter(|l| !l.trim_start().starts_with("//"))
            .filter(|l| FORBIDDEN.iter().any(|f| l.contains(f)))
            .map(str::to_owned)
            .collect()
    }

    fn core_files(src: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files: Vec<_> = CORE_FILES.iter().map(|f| src.join(f)).collect();
        let mut dirs: Vec<_> = CORE_DIRS.iter().map(|d| src.join(d)).collect();
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for path in entries.map(|e| e.expect("dir entry").path()) {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                // Drivers touch sockets and clocks by design; tests pick their own `now`.
                let test = name.starts_with("tests") || name.ends_with("_tests.rs");
                if name.starts_with("driver") || test {
                    continue;
                }
                if path.is_dir() {
                    dirs.push(path);
                } else if name.ends_with(".rs") {
                    files.push(path);
                }
            }
        }
        files
    }

    #[test]
    fn protocol_cores_touch_no_runtime_socket_or_clock() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let files = core_files(&src);
        assert!(files.len() >= CORE_FILES.len(), "{files:?}");
        let mut found = Vec::new();
        for file in &files {
            let source = std::fs::read_to_string(file).expect("core file");
            for line in offences(&source) {
                found.push(format!("{}: {}", file.display(), line.trim()));
            }
        }
        assert!(
            found.is_empty(),
            "cores must take `now` as input:\n{}",
            found.join("\n")
        );
    }

    #[test]
    fn the_core_scan_sees_a_planted_clock_read() {
        let planted = "fn f() {\n    let t = std::time::Instant::now();\n}\n#[cfg(test)]\nmod t {}";
        assert_eq!(offences(planted).len(), 1);
        assert!(offences("// tokio::time::pause controls it\n").is_empty());
    }
}
