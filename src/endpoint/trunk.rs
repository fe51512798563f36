//! The providers' trunks [Amt] at run time (issue 12, point 4): where each one is (its address
//! as the driver resolved it), which sources count as it, which dialled numbers go out through
//! it, and the registration kept at it (`trunk_register.rs`).
//!
//! The security rule lives here: a request counts as a trunk's only when it comes from the
//! trunk's `allowed_networks` (else from an address its host resolved to), and a call from a
//! trunk only ever reaches a DID of that trunk. Nothing that arrives over a trunk goes out over
//! one on its own say (no toll fraud through us).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use super::trunk_register::Registration;
use super::{Peer, Transport};
use crate::config::{DidTarget, TrunkConfig, TrunkTransport};

#[derive(Debug)]
pub struct Trunk {
    pub config: TrunkConfig,
    /// Where requests to the trunk go (the first address its host resolved to) and the local
    /// address they leave from; None until the driver resolved it.
    pub route: Option<(SocketAddr, SocketAddr)>,
    /// Every address the host resolved to (sources that count as the trunk when it has no
    /// `allowed_networks`).
    pub addrs: Vec<SocketAddr>,
    pub registration: Registration,
}

#[derive(Debug, Default)]
pub struct Trunks(pub Vec<Trunk>);

impl Trunks {
    pub fn new(configs: Vec<TrunkConfig>) -> Trunks {
        Trunks(
            configs
                .into_iter()
                .map(|config| Trunk {
                    config,
                    route: None,
                    addrs: Vec::new(),
                    registration: Registration::default(),
                })
                .collect(),
        )
    }

    /// The trunk a request from `ip` belongs to.
    pub fn by_source(&self, ip: IpAddr) -> Option<usize> {
        self.0
            .iter()
            .position(|t| match t.config.allowed_networks.is_empty() {
                true => t.addrs.iter().any(|a| a.ip() == ip),
                false => t.config.allowed_networks.iter().any(|n| n.contains(&ip)),
            })
    }

    /// The trunk `number` goes out through: the first whose prefixes it starts with.
    pub fn for_number(&self, number: &str) -> Option<usize> {
        (self.0.iter()).position(|t| t.config.prefixes.iter().any(|p| number.starts_with(p)))
    }

    /// Where a DID of trunk `index` rings: the first of `dialled` (Request-URI user, To user)
    /// that is one of its DIDs.
    pub fn did(&self, index: usize, dialled: &[Option<String>]) -> Option<(String, DidTarget)> {
        let trunk = self.0.get(index)?;
        dialled.iter().flatten().find_map(|d| {
            let target = trunk.config.dids.get(d)?;
            Some((d.clone(), target.clone()))
        })
    }

    /// Where requests to trunk `index` go; None while its host is unresolved, and for a TCP
    /// trunk while no connection to it is open (`connections`: open ones by remote address).
    pub fn peer(&self, index: usize, connections: &HashMap<SocketAddr, u64>) -> Option<Peer> {
        let trunk = self.0.get(index)?;
        let (addr, local) = trunk.route?;
        match trunk.config.transport {
            TrunkTransport::Udp => Some(Peer {
                transport: Transport::Udp,
                addr,
                local,
            }),
            TrunkTransport::Tcp => trunk.addrs.iter().find_map(|a| {
                Some(Peer {
                    transport: Transport::Tcp(*connections.get(a)?),
                    addr: *a,
                    local,
                })
            }),
        }
    }

    /// The TCP trunk a connection to `addr` leads to.
    pub fn tcp_at(&self, addr: SocketAddr) -> Option<usize> {
        self.0
            .iter()
            .position(|t| t.config.transport == TrunkTransport::Tcp && t.addrs.contains(&addr))
    }

    /// The number a call from a user presents on trunk `index`: the user's own caller id
    /// [CID Nummer], else the DID of this trunk that rings the user's extension, else the
    /// trunk's `caller_id`; None leaves it to the provider (the account's number).
    pub fn presented(&self, index: usize, cid: Option<&str>, extension: Option<&str>) -> String {
        let Some(trunk) = self.0.get(index) else {
            return String::new();
        };
        let did = extension.and_then(|ext| {
            (trunk.config.dids.iter())
                .find(|(_, t)| matches!(t, DidTarget::Extension(e) if e == ext))
                .map(|(did, _)| did.as_str())
        });
        cid.or(did)
            .or(trunk.config.caller_id.as_deref())
            .unwrap_or(trunk.config.username.as_str())
            .to_owned()
    }

    /// Each trunk's index, host and port (only TCP ones: `tcp`), for the driver.
    pub fn hosts(&self, tcp: bool) -> Vec<(usize, String, u16)> {
        (self.0.iter().enumerate())
            .filter(|(_, t)| !tcp || t.config.transport == TrunkTransport::Tcp)
            .map(|(i, t)| (i, t.config.address.host.clone(), t.config.address.port))
            .collect()
    }

    /// The host a trunk's URIs name (its configured address, as the provider knows itself).
    pub fn host(&self, index: usize) -> Option<String> {
        let a = &self.0.get(index)?.config.address;
        Some(match a.host.contains(':') {
            true => format!("[{}]:{}", a.host, a.port),
            false => format!("{}:{}", a.host, a.port),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trunks() -> Trunks {
        let text = r#"
[[sip.trunks]]
name = "a"
address = "192.0.2.5"
register = false
dids = { "+4930111" = "100", "0302222" = "sales" }
prefixes = ["0"]
caller_id = "+4930999"

[[sip.trunks]]
name = "b"
address = "sip.example.net:5070"
register = false
allowed_networks = ["198.51.100.0/24"]
prefixes = ["+", "0"]
"#;
        let config = crate::config::Config::parse(text).expect("config");
        let mut t = Trunks::new(config.sip.trunks);
        let local: SocketAddr = "192.0.2.1:5060".parse().expect("addr");
        let a: SocketAddr = "192.0.2.5:5060".parse().expect("addr");
        t.0[0].addrs = vec![a];
        t.0[0].route = Some((a, local));
        t
    }

    #[test]
    fn only_a_trunks_own_sources_count_as_it() {
        let t = trunks();
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert_eq!(t.by_source(ip("192.0.2.5")), Some(0));
        assert_eq!(t.by_source(ip("192.0.2.6")), None);
        assert_eq!(t.by_source(ip("198.51.100.77")), Some(1));
        assert_eq!(t.by_source(ip("203.0.113.1")), None);
    }

    #[test]
    fn the_first_trunk_with_a_matching_prefix_takes_the_number() {
        let t = trunks();
        assert_eq!(t.for_number("0301234"), Some(0));
        assert_eq!(t.for_number("+49301234"), Some(1));
        assert_eq!(t.for_number("112"), None);
    }

    #[test]
    fn dids_match_exactly_and_only_on_their_own_trunk() {
        let t = trunks();
        let d = |s: &str| Some(s.to_owned());
        let (did, target) = t.did(0, &[d("zentrale"), d("+4930111")]).expect("did");
        assert_eq!(
            (did.as_str(), target),
            ("+4930111", DidTarget::Extension("100".into()))
        );
        assert_eq!(t.did(0, &[d("4930111")]), None);
        assert_eq!(t.did(1, &[d("+4930111")]), None);
    }

    #[test]
    fn the_presented_number_is_the_cid_then_the_users_did_then_the_trunks() {
        let t = trunks();
        assert_eq!(t.presented(0, Some("+4930555"), Some("100")), "+4930555");
        assert_eq!(t.presented(0, None, Some("100")), "+4930111");
        assert_eq!(t.presented(0, None, Some("101")), "+4930999");
        assert_eq!(t.presented(1, None, Some("100")), "");
    }

    #[test]
    fn a_trunk_is_reached_once_resolved_over_udp() {
        let t = trunks();
        let none = HashMap::new();
        assert_eq!(t.peer(0, &none).map(|p| p.addr.port()), Some(5060));
        assert!(t.peer(1, &none).is_none());
        assert_eq!(t.host(1).as_deref(), Some("sip.example.net:5070"));
    }
}
