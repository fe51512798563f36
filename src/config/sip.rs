//! `[sip]`: where SIP listens, the domain, the media ports, the bounds of the SIP core, and the
//! trunks (`[[sip.trunks]]`, read in `trunks`).

use std::net::SocketAddr;
use std::time::Duration;

use super::ServerConfig;
use super::section::Section;
use crate::registrar::RegistrarLimits;
use crate::sip::Timers;

#[derive(Debug, Clone, PartialEq)]
pub struct SipConfig {
    /// UDP and TCP, on the same address.
    pub listen: SocketAddr,
    /// The SIP domain; `server.public_host` when not set.
    pub domain: String,
    pub rtp_ports: (u16, u16),
    /// T1, T2, T4 of RFC 3261 §17 (Table 4).
    pub timers: Timers,
    pub registrar: RegistrarLimits,
    /// Live SIP transactions at once. A non-INVITE one over UDP lingers 32 s after its answer
    /// (Timer J; ~1.4 KB each), a registration takes two: the default holds ~780
    /// registrations/s for 32 s in ~70 MB. Past it: 503 with Retry-After.
    pub max_transactions: usize,
    /// TCP connections at once.
    pub max_connections: usize,
    /// Failed REGISTERs from one source within `auth_window_secs` before it is ignored for
    /// `ban_secs` (logged as `sip: denied <ip> ...` for fail2ban).
    pub auth_failures: u32,
    pub auth_window_secs: u64,
    pub ban_secs: u64,
    /// Packets a second one source may send (sustained) and at once, before the excess is
    /// dropped unread and the source logged as `sip: denied <ip> flood` (once per `ban_secs`).
    /// A phone sends well under one a second (a REGISTER refresh every few minutes, a
    /// keep-alive every 30 s, about ten for a call); its boot is the peak: REGISTER twice
    /// (challenge), and with a 60-key busy-lamp field a SUBSCRIBE each (twice) and their
    /// NOTIFYs' answers, some 200 packets. Twenty such phones behind one NAT address booting
    /// together after a power cut send 4,000, spread over the seconds their boots differ by:
    /// 2,000 at once and 200 a second take that in 10 s, and what is shed over UDP is
    /// retransmitted (RFC 3261 Timers A/E), delayed, not lost. A flood of 10,000 a second from
    /// one address is cut to 2%. Raise both for a site with more phones behind one address (an
    /// SBC, a VPN concentrator) and for benchmarks that register thousands from one host.
    pub flood_rate: u32,
    pub flood_burst: u32,
    /// How long a Digest nonce is good for; after that the phone is asked again (`stale=true`).
    pub nonce_secs: u64,
    /// Digest algorithms offered in a challenge, most preferred first (RFC 8760 §2.4). Only
    /// MD5 by default, as Asterisk, Kamailio and FreeSWITCH do: phones that predate RFC 8760
    /// take the first challenge whatever it says, and some refuse a 401 that offers SHA-256
    /// at all (baresip 1.0 on libre 1.1, Debian 12, answers it with ENOSYS and never
    /// registers; tests/it/sip_baresip.rs). Add SHA-256 once every phone speaks it. Both
    /// are always accepted.
    pub digest_algorithms: Vec<crate::digest::Algorithm>,
    /// `[[sip.trunks]]`, in the order given (the first matching prefix wins).
    pub trunks: Vec<super::TrunkConfig>,
    /// Whether media of calls runs through zentrale.
    pub media_relay: MediaRelay,
}

/// `media_relay`: only `"never"` is built. zentrale is a B2BUA for signalling and passes the
/// SDP through unchanged, so media flows phone to phone (and phone to provider). `"nat"` and
/// `"always"` (anchoring media through zentrale's `rtp_ports`) are named so a config that asks
/// for them is told they are not there yet, instead of silently getting "never".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaRelay {
    Never,
}

fn default_listen() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 5060))
}

fn default_rtp_ports() -> String {
    "10000-20000".into()
}

pub(super) fn sip(mut s: Section, server: &ServerConfig) -> SipConfig {
    let listen = s.get("listen", default_listen);
    let domain = s.get("domain", || server.public_host.clone());
    let ports: String = s.get("rtp_ports", default_rtp_ports);
    let rtp_ports = parse_port_range(&ports).unwrap_or_else(|msg| {
        s.problem("rtp_ports", msg);
        (10000, 20000)
    });
    let timers = timers(&mut s);
    let registrar = registrar(&mut s);
    let config = SipConfig {
        listen,
        domain,
        rtp_ports,
        timers,
        registrar,
        max_transactions: positive(&mut s, "max_transactions", 50_000),
        max_connections: positive(&mut s, "max_connections", 4096),
        auth_failures: positive(&mut s, "auth_failures", 10),
        auth_window_secs: positive(&mut s, "auth_window_secs", 60),
        ban_secs: s.get("ban_secs", || 600),
        flood_rate: positive(&mut s, "flood_rate", 200),
        flood_burst: positive(&mut s, "flood_burst", 2000),
        nonce_secs: positive(&mut s, "nonce_secs", 300),
        digest_algorithms: algorithms(&mut s),
        trunks: super::trunks::trunks(&mut s),
        media_relay: media_relay(&mut s),
    };
    s.finish();
    config
}

fn media_relay(s: &mut Section) -> MediaRelay {
    match s.get("media_relay", || "never".to_owned()).as_str() {
        "never" => {}
        "nat" | "always" => s.problem(
            "media_relay",
            "only \"never\" is built: media flows phone to phone; relaying it through zentrale is still to come",
        ),
        _ => s.problem("media_relay", "must be \"never\" (\"nat\" and \"always\" are still to come)"),
    }
    MediaRelay::Never
}

fn algorithms(s: &mut Section) -> Vec<crate::digest::Algorithm> {
    use crate::digest::Algorithm;
    let names: Vec<String> = s.get("digest_algorithms", || vec!["MD5".into()]);
    let mut list = Vec::new();
    for name in &names {
        match name.to_ascii_uppercase().as_str() {
            "MD5" => list.push(Algorithm::Md5),
            "SHA-256" => list.push(Algorithm::Sha256),
            _ => s.problem("digest_algorithms", "takes \"MD5\" and \"SHA-256\""),
        }
    }
    if list.is_empty() {
        s.problem("digest_algorithms", "needs at least one algorithm");
        list.push(Algorithm::Md5);
    }
    list
}

/// `key`, which must be at least 1.
fn positive<T>(s: &mut Section, key: &str, default: T) -> T
where
    T: serde::de::DeserializeOwned + PartialOrd + From<u8> + Copy,
{
    let value = s.get(key, || default);
    if value < T::from(1) {
        s.problem(key, "must be at least 1");
    }
    value
}

/// RFC 3261 §17's timer values in milliseconds (defaults from its Table 4).
fn timers(s: &mut Section) -> Timers {
    let d = Timers::default();
    let ms = |d: Duration| d.as_millis() as u64;
    let t1: u64 = s.get("t1_ms", || ms(d.t1));
    let t2: u64 = s.get("t2_ms", || ms(d.t2));
    let t4: u64 = s.get("t4_ms", || ms(d.t4));
    if t1 == 0 || t2 < t1 || t4 == 0 {
        s.problem("t1_ms", "needs 0 < t1_ms <= t2_ms and t4_ms > 0");
    }
    Timers {
        t1: Duration::from_millis(t1),
        t2: Duration::from_millis(t2),
        t4: Duration::from_millis(t4),
        ..d
    }
}

fn registrar(s: &mut Section) -> RegistrarLimits {
    let d = RegistrarLimits::default();
    let limits = RegistrarLimits {
        min_expires: s.get("min_expires", || d.min_expires),
        max_expires: s.get("max_expires", || d.max_expires),
        default_expires: s.get("default_expires", || d.default_expires),
        max_contacts_per_device: positive(s, "max_contacts_per_device", d.max_contacts_per_device),
        max_bindings: positive(s, "max_bindings", d.max_bindings),
    };
    if limits.min_expires == 0 || limits.min_expires > limits.max_expires {
        s.problem("min_expires", "needs 0 < min_expires <= max_expires");
    }
    if !(limits.min_expires..=limits.max_expires).contains(&limits.default_expires) {
        s.problem(
            "default_expires",
            "must lie between min_expires and max_expires",
        );
    }
    limits
}

/// RTP takes an even port and RTCP the odd one above it (RFC 3550 §11), so the range
/// `low-high` (high exclusive) must start even and hold whole pairs.
fn parse_port_range(text: &str) -> Result<(u16, u16), &'static str> {
    const MSG: &str =
        "must be a range like \"10000-20000\" of even start and size within 1024-65535";
    let (low, high) = text.split_once('-').ok_or(MSG)?;
    let low: u16 = low.trim().parse().map_err(|_| MSG)?;
    let high: u16 = high.trim().parse().map_err(|_| MSG)?;
    if low < 1024 || high <= low || !low.is_multiple_of(2) || !(high - low).is_multiple_of(2) {
        return Err(MSG);
    }
    Ok((low, high))
}
