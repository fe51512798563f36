//! `[[sip.trunks]]`: the providers' SIP trunks [Amt]. Each is read key by key like every table,
//! with problems named `sip.trunks[i].<key>`. The password is a [`Secret`]: it never appears in
//! `Debug` output, in a problem message (a wrongly typed password is not quoted) or in a log.
//!
//! Calls from a trunk are external calls; a dialled number goes out through the first trunk
//! whose `prefixes` it starts with (issue 12, point 4).

use std::collections::{BTreeMap, BTreeSet};

use ipnet::IpNet;

use super::section::Section;
use crate::store::secret::Secret;

/// One SIP trunk.
#[derive(Debug, Clone, PartialEq)]
pub struct TrunkConfig {
    /// Unique among the trunks; lowercase letters, digits, `.`, `-`, `_`.
    pub name: String,
    /// The provider's registrar and outbound proxy.
    pub address: TrunkAddress,
    pub transport: TrunkTransport,
    /// Account at the provider (REGISTER and 401/407 answers); may be empty when `register` is
    /// off and the provider trusts the source address.
    pub username: String,
    pub password: Secret,
    /// Keep a registration at the provider (outbound REGISTER).
    pub register: bool,
    /// Dialled number as the provider sends it (To/Request-URI user) → where it rings.
    pub dids: BTreeMap<String, DidTarget>,
    /// The number presented on outgoing calls unless the user has a CID number of their own.
    pub caller_id: Option<String>,
    /// Where this trunk's calls may come from; empty: the addresses `address` resolves to.
    pub allowed_networks: Vec<IpNet>,
    /// Dialled numbers starting with one of these go out through this trunk (first trunk
    /// wins); empty: the trunk takes no outgoing calls.
    pub prefixes: Vec<String>,
}

/// `host[:port]`; the port defaults to 5060.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkAddress {
    /// A DNS name or an IP address (IPv6 without brackets).
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrunkTransport {
    Udp,
    Tcp,
}

/// Where a DID rings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DidTarget {
    /// An extension: a user's, or a team's (the numbers table says whose).
    Extension(String),
    /// A team by name (team names are never all digits, so the two cannot be confused).
    Team(String),
}

const DEFAULT_PORT: u16 = 5060;

/// Every `[[sip.trunks]]` table of `s`.
pub(super) fn trunks(s: &mut Section) -> Vec<TrunkConfig> {
    let trunks = s.each_table("trunks", trunk);
    let mut names = BTreeSet::new();
    for t in trunks.iter().flatten() {
        if !names.insert(t.name.as_str()) {
            s.problem("trunks", &format!("two trunks are named {:?}", t.name));
        }
    }
    trunks.into_iter().flatten().collect()
}

/// One trunk, or None when a required key is missing (the problem is recorded).
fn trunk(mut s: Section) -> Option<TrunkConfig> {
    let name: String = s.get("name", String::new);
    if name.is_empty() {
        s.problem("name", "is required");
    } else if !is_name(&name) {
        s.problem(
            "name",
            "needs 1 to 64 lowercase letters, digits, '.', '-' or '_', starting with a letter or digit",
        );
    }
    let address_text: String = s.get("address", String::new);
    let address = match parse_address(&address_text) {
        Ok(address) => Some(address),
        Err(_) if address_text.is_empty() => {
            s.problem("address", "is required: the provider's host[:port]");
            None
        }
        Err(msg) => {
            s.problem("address", msg);
            None
        }
    };
    let transport = match s.get("transport", || "udp".to_owned()).as_str() {
        "udp" => TrunkTransport::Udp,
        "tcp" => TrunkTransport::Tcp,
        _ => {
            s.problem("transport", "must be \"udp\" or \"tcp\"");
            TrunkTransport::Udp
        }
    };
    let username: String = s.get("username", String::new);
    if username
        .chars()
        .any(|c| c.is_control() || c.is_whitespace())
        || username.len() > 128
    {
        s.problem(
            "username",
            "must be at most 128 characters, no spaces or control characters",
        );
    }
    // None: given but refused (already a problem; "missing" would be a second one).
    let password = password(&mut s);
    let register: bool = s.get("register", || true);
    let no_password = password.as_ref().is_some_and(|p| p.expose().is_empty());
    if register && (username.is_empty() || no_password) {
        s.problem(
            "register",
            "a registering trunk needs username and password (or set register = false)",
        );
    }
    let dids = dids(&mut s);
    let caller_id: Option<String> = s.get("caller_id", || None);
    if caller_id.as_deref().is_some_and(|n| !is_number(n, 2)) {
        s.problem(
            "caller_id",
            "must be a number: optional '+', then 2 to 20 digits",
        );
    }
    let allowed_networks = networks(&mut s);
    let prefixes = prefixes(&mut s);
    s.finish();
    Some(TrunkConfig {
        name,
        address: address?,
        transport,
        username,
        password: password.unwrap_or_else(|| Secret::new("")),
        register,
        dids,
        caller_id,
        allowed_networks,
        prefixes,
    })
}

/// The password, read so that a value of the wrong type is never quoted in the problem; None
/// when it was refused.
fn password(s: &mut Section) -> Option<Secret> {
    match s.take_raw("password") {
        None => Some(Secret::new("")),
        Some(toml::Value::String(text))
            if text.len() <= 256 && !text.contains(char::is_control) =>
        {
            Some(Secret::new(text))
        }
        Some(toml::Value::String(_)) => {
            s.problem(
                "password",
                "must be at most 256 bytes, no control characters",
            );
            None
        }
        Some(_) => {
            s.problem("password", "must be a string");
            None
        }
    }
}

fn dids(s: &mut Section) -> BTreeMap<String, DidTarget> {
    let raw: BTreeMap<String, String> = s.get("dids", BTreeMap::new);
    let mut dids = BTreeMap::new();
    for (did, target) in raw {
        if !is_number(&did, 1) {
            s.problem(
                "dids",
                &format!("{did:?} is not a number: optional '+', then 1 to 20 digits"),
            );
            continue;
        }
        let target =
            if target.bytes().all(|b| b.is_ascii_digit()) && (1..=15).contains(&target.len()) {
                DidTarget::Extension(target)
            } else if is_name(&target) {
                DidTarget::Team(target)
            } else {
                s.problem(
                    "dids",
                    &format!(
                        "{did}: {target:?} is neither an extension (1 to 15 digits) nor a team name"
                    ),
                );
                continue;
            };
        dids.insert(did, target);
    }
    dids
}

fn networks(s: &mut Section) -> Vec<IpNet> {
    let raw: Vec<String> = s.get("allowed_networks", Vec::new);
    let mut out = Vec::new();
    for text in &raw {
        // A bare address is its own one-address network.
        let net = text
            .parse::<IpNet>()
            .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from));
        match net {
            Ok(net) => out.push(net),
            Err(_) => s.problem(
                "allowed_networks",
                &format!("{text:?} is not a network like \"192.0.2.0/24\" or an address"),
            ),
        }
    }
    out
}

fn prefixes(s: &mut Section) -> Vec<String> {
    let raw: Vec<String> = s.get("prefixes", Vec::new);
    for p in &raw {
        let digits = p.strip_prefix('+').unwrap_or(p);
        let ok = !p.is_empty() && digits.len() <= 20 && digits.bytes().all(|b| b.is_ascii_digit());
        if !ok {
            s.problem(
                "prefixes",
                &format!("{p:?} is not a prefix: '+' and/or up to 20 digits, not empty"),
            );
        }
    }
    raw
}

/// Like a username: 1 to 64 of `a-z 0-9 . - _`, starting with a letter or digit.
fn is_name(text: &str) -> bool {
    (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && text.as_bytes()[0].is_ascii_alphanumeric()
}

/// An optional `+`, then `min` to 20 digits.
fn is_number(text: &str, min: usize) -> bool {
    let digits = text.strip_prefix('+').unwrap_or(text);
    (min..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn parse_address(text: &str) -> Result<TrunkAddress, &'static str> {
    const MSG: &str =
        "must be host[:port], e.g. \"sip.example.net\" or \"192.0.2.1:5070\" ([v6]:port for IPv6)";
    let (host, port) = if let Some(rest) = text.strip_prefix('[') {
        let (v6, after) = rest.split_once(']').ok_or(MSG)?;
        v6.parse::<std::net::Ipv6Addr>().map_err(|_| MSG)?;
        match after {
            "" => (v6, None),
            _ => (v6, Some(after.strip_prefix(':').ok_or(MSG)?)),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        None => DEFAULT_PORT,
        Some(p) => p.parse::<u16>().ok().filter(|&p| p != 0).ok_or(MSG)?,
    };
    let is_v6 = text.starts_with('[');
    if !is_v6 && !is_host(host) {
        return Err(MSG);
    }
    Ok(TrunkAddress {
        host: host.to_owned(),
        port,
    })
}

/// A DNS name (RFC 1123 labels) or an IPv4 address.
fn is_host(text: &str) -> bool {
    (1..=253).contains(&text.len())
        && text.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

#[cfg(test)]
#[path = "trunks_tests.rs"]
mod tests;
