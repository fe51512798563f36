//! `[provisioning]` and `[tftp]`: how phones get their configs, and who may ask.

use std::net::SocketAddr;

use ipnet::IpNet;

use super::section::Section;

#[derive(Debug, Clone, PartialEq)]
pub struct ProvisioningConfig {
    /// Hours a newly created or re-enrolled device may fetch its first full config.
    pub enrollment_window_hours: u64,
    /// An unknown phone of a known vendor shows up as an unassigned device.
    pub auto_register: bool,
    /// When not empty, only these networks may fetch configs, phonebooks and firmware.
    pub allowed_networks: Vec<IpNet>,
    /// Requests without proof one source may make per `rate_window_secs` before it is banned.
    pub rate_limit: u32,
    pub rate_window_secs: u64,
    /// How long a banned source gets nothing.
    pub ban_secs: u64,
    /// Time zone the phones show, an IANA name from [`TIMEZONES`].
    pub timezone: &'static TimeZone,
    pub ntp_servers: Vec<String>,
    pub dns_servers: Vec<String>,
    /// Largest firmware file the admin may upload.
    pub max_firmware_bytes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TftpConfig {
    pub listen: SocketAddr,
    /// Serve full per-device configs over TFTP, which cannot authenticate. Off: TFTP gives a
    /// secret-free bootstrap that moves the phone to HTTP(S).
    pub serve_secrets: bool,
    pub limits: crate::tftp::TftpLimits,
}

/// A time zone as phones need it: standard offset, and whether it has EU/US-style DST.
#[derive(Debug, PartialEq, Eq)]
pub struct TimeZone {
    pub name: &'static str,
    pub offset_minutes: i32,
    /// POSIX TZ string (Grandstream and others take it as is).
    pub posix: &'static str,
}

/// The zones phones are set to here; an admin asking for another gets a config error naming these.
pub const TIMEZONES: &[TimeZone] = &[
    tz("Europe/Berlin", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/Vienna", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/Zurich", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/Amsterdam", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/Brussels", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/Paris", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/Rome", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/Madrid", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/Warsaw", 60, "CET-1CEST,M3.5.0,M10.5.0/3"),
    tz("Europe/London", 0, "GMT0BST,M3.5.0/1,M10.5.0"),
    tz("Europe/Lisbon", 0, "WET0WEST,M3.5.0/1,M10.5.0"),
    tz("Europe/Helsinki", 120, "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    tz("Europe/Athens", 120, "EET-2EEST,M3.5.0/3,M10.5.0/4"),
    tz("Europe/Istanbul", 180, "<+03>-3"),
    tz("America/New_York", -300, "EST5EDT,M3.2.0,M11.1.0"),
    tz("America/Chicago", -360, "CST6CDT,M3.2.0,M11.1.0"),
    tz("America/Los_Angeles", -480, "PST8PDT,M3.2.0,M11.1.0"),
    tz("UTC", 0, "UTC0"),
];

const fn tz(name: &'static str, offset_minutes: i32, posix: &'static str) -> TimeZone {
    TimeZone {
        name,
        offset_minutes,
        posix,
    }
}

impl TimeZone {
    pub fn has_dst(&self) -> bool {
        self.posix.contains(',')
    }

    /// The offset as phones write it: "+1", "-5", "+5:30".
    pub fn offset_hours(&self) -> String {
        let sign = if self.offset_minutes < 0 { '-' } else { '+' };
        let m = self.offset_minutes.unsigned_abs();
        match m % 60 {
            0 => format!("{sign}{}", m / 60),
            r => format!("{sign}{}:{r:02}", m / 60),
        }
    }
}

fn default_enrollment_hours() -> u64 {
    24
}
fn default_tftp_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 6969))
}

pub(super) fn provisioning(mut s: Section) -> ProvisioningConfig {
    let enrollment_window_hours = s.get("enrollment_window_hours", default_enrollment_hours);
    if !(1..=24 * 365).contains(&enrollment_window_hours) {
        s.problem("enrollment_window_hours", "must be 1 to 8760 hours");
    }
    let networks: Vec<String> = s.get("allowed_networks", Vec::new);
    let mut allowed_networks = Vec::new();
    for n in &networks {
        match n.parse::<IpNet>() {
            Ok(net) => allowed_networks.push(net),
            Err(_) => s.problem("allowed_networks", &format!("{n:?} is not a CIDR network")),
        }
    }
    let rate_limit: u32 = s.get("rate_limit", || 30);
    let rate_window_secs: u64 = s.get("rate_window_secs", || 60);
    let ban_secs: u64 = s.get("ban_secs", || 600);
    if rate_limit == 0 || rate_window_secs == 0 {
        s.problem(
            "rate_limit",
            "rate_limit and rate_window_secs must be at least 1",
        );
    }
    let zone: String = s.get("timezone", || "Europe/Berlin".into());
    let timezone = TIMEZONES
        .iter()
        .find(|z| z.name == zone)
        .unwrap_or_else(|| {
            let names: Vec<_> = TIMEZONES.iter().map(|z| z.name).collect();
            s.problem("timezone", &format!("must be one of {}", names.join(", ")));
            &TIMEZONES[0]
        });
    let ntp_servers: Vec<String> = s.get("ntp_servers", Vec::new);
    let dns_servers: Vec<String> = s.get("dns_servers", Vec::new);
    for (key, list) in [("ntp_servers", &ntp_servers), ("dns_servers", &dns_servers)] {
        if list.iter().any(|h| !is_host(h)) {
            s.problem(key, "must be host names or addresses");
        }
    }
    let max_firmware_bytes = s.get("max_firmware_bytes", || 512 * 1024 * 1024);
    let auto_register = s.get("auto_register", || false);
    s.finish();
    ProvisioningConfig {
        enrollment_window_hours,
        auto_register,
        allowed_networks,
        rate_limit,
        rate_window_secs,
        ban_secs,
        timezone,
        ntp_servers,
        dns_servers,
        max_firmware_bytes,
    }
}

/// A name that can go into a phone's config without quoting: letters, digits, `.-:`.
fn is_host(h: &str) -> bool {
    (1..=253).contains(&h.len())
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:".contains(&b))
}

pub(super) fn tftp(mut s: Section) -> TftpConfig {
    let listen = s.get("listen", default_tftp_listen);
    let serve_secrets = s.get("serve_secrets", || false);
    let limits = tftp_limits(&mut s);
    s.finish();
    TftpConfig {
        listen,
        serve_secrets,
        limits,
    }
}

/// `[tftp]`'s limits; a missing key keeps [`crate::tftp::TftpLimits::default`]'s value.
fn tftp_limits(s: &mut Section) -> crate::tftp::TftpLimits {
    let d = crate::tftp::TftpLimits::default();
    let limits = crate::tftp::TftpLimits {
        max_transfers: s.get("max_transfers", || d.max_transfers),
        max_blksize: s.get("max_blksize", || d.max_blksize),
        max_windowsize: s.get("max_windowsize", || d.max_windowsize),
        max_timeout: s.get("max_timeout", || d.max_timeout),
        retries: s.get("retries", || d.retries),
        default_timeout: std::time::Duration::from_secs(
            s.get("default_timeout_secs", || d.default_timeout.as_secs()),
        ),
    };
    if limits.max_transfers == 0 {
        s.problem("max_transfers", "must be at least 1");
    }
    if !(8..=crate::tftp::MAX_BLKSIZE).contains(&limits.max_blksize) {
        s.problem("max_blksize", "must be between 8 and 65464 (RFC 2348)");
    }
    if limits.max_windowsize == 0 {
        s.problem("max_windowsize", "must be at least 1 (RFC 7440)");
    }
    if !(1..=255).contains(&limits.max_timeout) || limits.default_timeout.is_zero() {
        s.problem(
            "max_timeout",
            "timeouts must be between 1 and 255 seconds (RFC 2349)",
        );
    }
    limits
}
