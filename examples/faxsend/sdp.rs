//! The SDP the far-end fax machine writes and reads: an audio offer (PCMA, PCMU), T.38 offers and
//! answers, and what it needs from the other side's descriptions.
//!
//! T.38 attributes and values: ITU-T T.38 Annex D (D.2.3, SDP for T.38 over UDPTL) and the
//! `image/t38` registration of RFC 3362 as updated by RFC 4612 §2: `m=image <port> udptl t38`,
//! `T38FaxVersion` (absent means 0), `T38MaxBitRate`, `T38FaxRateManagement` (`localTCF` or
//! `transferredTCF`; UDPTL uses `transferredTCF`), `T38FaxMaxDatagram` (the largest UDPTL
//! datagram the sender of the description accepts), `T38FaxUdpEC` (`t38UDPRedundancy` or
//! `t38UDPFEC`). Attribute names are matched without regard to case: gateways write both.

use std::net::{IpAddr, SocketAddr};

use anyhow::{Context as _, bail};
use zentrale::media::{Codec, Media, Offer, parse_offer};
use zentrale::udptl::ErrorCorrection;

/// The largest UDPTL datagram we accept (our `T38FaxMaxDatagram`).
pub const OUR_MAX_DATAGRAM: usize = 400;

/// Redundancy depth and FEC shape we send (the values zentrale's own tests use).
pub const REDUNDANCY: ErrorCorrection = ErrorCorrection::Redundancy { depth: 3 };
pub const FEC: ErrorCorrection = ErrorCorrection::Fec {
    span: 3,
    entries: 3,
};

/// The other side's audio: where to send RTP and in which codec (its first G.711 format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAudio {
    pub addr: SocketAddr,
    pub codec: Codec,
}

/// A T.38 description: ours, or the other side's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct T38Desc {
    pub addr: SocketAddr,
    pub version: u8,
    pub local_tcf: bool,
    pub max_datagram: usize,
    pub ec: ErrorCorrection,
}

impl T38Desc {
    /// What we offer on `addr`: T.38 `version` (spandsp speaks 0 to 3), transferred TCF (the
    /// UDPTL method), our datagram limit, error correction `ec`.
    pub fn ours(addr: SocketAddr, version: u8, ec: ErrorCorrection) -> T38Desc {
        T38Desc {
            addr,
            version,
            local_tcf: false,
            max_datagram: OUR_MAX_DATAGRAM,
            ec,
        }
    }
}

/// Our audio offer: PCMA, PCMU and telephone-event, as zentrale offers itself.
pub fn audio_offer(rtp: SocketAddr, version: u64) -> String {
    zentrale::media::offer(rtp, session_id(), version)
}

/// Our T.38 description (with the origin of our audio offer and a higher version, RFC 3264
/// §8): an offer of `ours`, or (with `offered`) the answer to it, which takes
/// the lower version and the offer's rate management and error correction (T.38 Annex D: the
/// answer must not ask for what was not offered).
pub fn t38(ours: &T38Desc, sdp_version: u64, offered: Option<&T38Desc>) -> String {
    let agreed = offered.map_or(*ours, |o| T38Desc {
        version: o.version.min(ours.version),
        local_tcf: o.local_tcf,
        ec: o.ec,
        ..*ours
    });
    let tcf = match agreed.local_tcf {
        true => "localTCF",
        false => "transferredTCF",
    };
    let ec = match agreed.ec {
        ErrorCorrection::Fec { .. } => "t38UDPFEC",
        ErrorCorrection::Redundancy { .. } => "t38UDPRedundancy",
        ErrorCorrection::None => "t38UDPNoEC",
    };
    let (addr, ip) = (agreed.addr.ip(), family(agreed.addr.ip()));
    format!(
        "v=0\r\no=- {id} {sdp_version} IN {ip} {addr}\r\ns=zentrale\r\nc=IN {ip} {addr}\r\n\
         t=0 0\r\n\
         m=image {port} udptl t38\r\n\
         a=T38FaxVersion:{version}\r\n\
         a=T38MaxBitRate:14400\r\n\
         a=T38FaxRateManagement:{tcf}\r\n\
         a=T38FaxMaxDatagram:{max}\r\n\
         a=T38FaxUdpEC:{ec}\r\n",
        id = session_id(),
        port = agreed.addr.port(),
        version = agreed.version,
        max = agreed.max_datagram,
    )
}

/// The audio of the other side's answer.
pub fn remote_audio(body: &[u8]) -> anyhow::Result<RemoteAudio> {
    let offer = parse_offer(body)?;
    let media = offer
        .media
        .iter()
        .find(|m| m.kind == "audio" && m.port != 0)
        .context("no audio in the answer")?;
    let codec = media
        .payload_types()
        .find_map(|pt| media.g711(pt))
        .context("no G.711 in the answer")?;
    Ok(RemoteAudio {
        addr: SocketAddr::new(connection(&offer, media)?, media.port),
        codec,
    })
}

/// The T.38 stream of a description, if it has one that is not refused (port 0).
pub fn remote_t38(body: &[u8]) -> anyhow::Result<Option<T38Desc>> {
    let offer = parse_offer(body)?;
    let Some(index) = offer.media.iter().position(is_t38) else {
        return Ok(None);
    };
    let media = &offer.media[index];
    if media.port == 0 {
        return Ok(None);
    }
    let attrs = attributes(body, index)?;
    let get = |name: &str| {
        attrs
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let version = get("T38FaxVersion").map_or(Ok(0), str::parse)?;
    let local_tcf = match get("T38FaxRateManagement") {
        Some(v) if v.eq_ignore_ascii_case("localTCF") => true,
        Some(v) if v.eq_ignore_ascii_case("transferredTCF") => false,
        other => bail!("T38FaxRateManagement {other:?}"),
    };
    let max_datagram = get("T38FaxMaxDatagram").map_or(Ok(OUR_MAX_DATAGRAM), str::parse)?;
    let ec = match get("T38FaxUdpEC") {
        Some(v) if v.eq_ignore_ascii_case("t38UDPFEC") => FEC,
        Some(v) if v.eq_ignore_ascii_case("t38UDPRedundancy") => REDUNDANCY,
        _ => ErrorCorrection::None,
    };
    Ok(Some(T38Desc {
        addr: SocketAddr::new(connection(&offer, media)?, media.port),
        version,
        local_tcf,
        max_datagram,
        ec,
    }))
}

fn is_t38(media: &Media) -> bool {
    media.kind == "image"
        && media.proto.eq_ignore_ascii_case("udptl")
        && media.formats.iter().any(|f| f.eq_ignore_ascii_case("t38"))
}

fn connection(offer: &Offer, media: &Media) -> anyhow::Result<IpAddr> {
    media
        .connection
        .or(offer.connection)
        .context("no c= for the stream")
}

/// The `a=name:value` lines of the `index`-th media section (parse_offer keeps only those it
/// needs for audio).
fn attributes(body: &[u8], index: usize) -> anyhow::Result<Vec<(String, String)>> {
    let text = std::str::from_utf8(body)?;
    let section = text.split("\nm=").nth(index + 1).context("media section")?;
    Ok(section
        .lines()
        .filter_map(|l| l.trim_end_matches('\r').strip_prefix("a="))
        .map(|a| {
            let (name, value) = a.split_once(':').unwrap_or((a, ""));
            (name.trim().to_owned(), value.trim().to_owned())
        })
        .collect())
}

fn family(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

fn session_id() -> u64 {
    u64::from(std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().expect("address")
    }

    #[test]
    fn our_t38_offer_reads_back_as_we_wrote_it() {
        let sdp = t38(&T38Desc::ours(addr("127.0.0.1:4000"), 0, FEC), 2, None);
        let remote = remote_t38(sdp.as_bytes()).expect("valid").expect("T.38");
        assert_eq!(remote.addr, addr("127.0.0.1:4000"));
        assert_eq!((remote.version, remote.local_tcf), (0, false));
        assert_eq!((remote.max_datagram, remote.ec), (OUR_MAX_DATAGRAM, FEC));
    }

    #[test]
    fn an_answer_takes_the_offer_s_version_and_error_correction() {
        let offer = "v=0\r\no=z 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
                     m=audio 0 RTP/AVP 8\r\n\
                     m=image 5000 UDPTL t38\r\nc=IN IP4 10.0.0.2\r\na=t38faxversion:1\r\n\
                     a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxDatagram:320\r\n\
                     a=T38FaxUdpEC:t38UDPRedundancy\r\n";
        let offered = remote_t38(offer.as_bytes()).expect("valid").expect("T.38");
        assert_eq!(offered.addr, addr("10.0.0.2:5000"));
        assert_eq!((offered.version, offered.max_datagram), (1, 320));
        let ours = T38Desc::ours(addr("127.0.0.1:4002"), 3, FEC);
        let answer = t38(&ours, 3, Some(&offered));
        assert!(answer.contains("a=T38FaxVersion:1\r\n"), "{answer}");
        let ours = T38Desc { version: 0, ..ours };
        let answer = t38(&ours, 4, Some(&offered));
        assert!(answer.contains("a=T38FaxVersion:0\r\n"), "{answer}");
        assert!(
            answer.contains("a=T38FaxUdpEC:t38UDPRedundancy\r\n"),
            "{answer}"
        );
        assert!(answer.contains("m=image 4002 udptl t38\r\n"), "{answer}");
    }

    #[test]
    fn audio_only_has_no_t38_and_a_refused_image_stream_is_none() {
        let audio = audio_offer(addr("127.0.0.1:4004"), 1);
        assert_eq!(remote_t38(audio.as_bytes()).expect("valid"), None);
        let a = remote_audio(audio.as_bytes()).expect("audio");
        assert_eq!((a.addr, a.codec), (addr("127.0.0.1:4004"), Codec::Pcma));
        let refused = t38(&T38Desc::ours(addr("127.0.0.1:0"), 0, REDUNDANCY), 1, None);
        assert_eq!(remote_t38(refused.as_bytes()).expect("valid"), None);
    }
}
