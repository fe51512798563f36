//! T.38 in SDP: the `m=image <port> udptl t38` stream and its attributes, as ITU-T T.38 (2010)
//! Annex D defines them for SIP (D.2.3) and RFC 4612 registers them (`image/t38`):
//! `T38FaxVersion`, `T38MaxBitRate`, `T38FaxFillBitRemoval`, `T38FaxTranscodingMMR`,
//! `T38FaxTranscodingJBIG`, `T38FaxRateManagement` (`localTCF`|`transferredTCF`),
//! `T38FaxMaxBuffer`, `T38FaxMaxDatagram`, `T38FaxUdpEC` (`t38UDPFEC`|`t38UDPRedundancy`).
//! Attribute names are matched without regard to case (gateways send them in either).
//!
//! What we answer (Annex D.2.3): a version no higher than offered, a bit rate no higher, the
//! offered rate management and error correction echoed (we do both schemes), no transcoding
//! (the flags are left out, which means false); our `T38FaxMaxDatagram` is what our UDPTL
//! receiver takes. Sans-IO: text in, text out.

use std::fmt::Write;
use std::net::SocketAddr;

use super::T38Params;
use crate::media::{Media, Offer, SdpError};
use crate::udptl::ErrorCorrection;

/// The T.38 version we speak: 0, the one every gateway accepts (Annex D.2.3: the answer's
/// version is at most the offer's).
pub const VERSION: u8 = 0;
/// V.17's 14,400 bit/s, the fastest modem spandsp's T.38 terminal runs.
pub const MAX_BIT_RATE: u32 = 14_400;
/// The largest UDPTL datagram we announce we take.
pub const MAX_DATAGRAM: u16 = 400;
/// How many earlier IFPs ride along with each packet under `t38UDPRedundancy` (the sender
/// chooses: UDPTL's secondary IFP list has no fixed length; 3 is what our loss tests run with).
pub const REDUNDANCY_DEPTH: u8 = 3;
/// FEC parity: entries, each over this many earlier IFPs (the sender chooses these too).
pub const FEC_SPAN: u8 = 3;
pub const FEC_ENTRIES: u8 = 3;
/// spandsp's default largest IFP; smaller when the peer's datagrams are.
const DEFAULT_MAX_IFP: u16 = 100;
/// Room in a datagram besides the IFP (sequence number and list lengths).
const DATAGRAM_OVERHEAD: u16 = 8;

/// The error correction `T38FaxUdpEC` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UdpEc {
    None,
    Redundancy,
    Fec,
}

/// A T.38 stream: where it is and what its side said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct T38Stream {
    pub remote: SocketAddr,
    pub version: u8,
    pub max_bit_rate: u32,
    pub local_tcf: bool,
    pub fill_bit_removal: bool,
    /// The datagrams this side takes (none given: the T.38 default is unbounded; we assume
    /// our own).
    pub max_datagram: u16,
    pub ec: UdpEc,
}

/// What a call runs with once T.38 is agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreed {
    /// Where our UDPTL goes.
    pub remote: SocketAddr,
    /// For [`super::T38Terminal::set_params`].
    pub params: T38Params,
    /// For [`crate::udptl::Sender::new`], with the peer's datagram size.
    pub ec: ErrorCorrection,
    pub peer_max_datagram: usize,
}

/// The first usable `m=image … udptl t38` stream of `offer` (port not 0), with its index.
pub fn t38_stream(offer: &Offer) -> Result<Option<(usize, T38Stream)>, SdpError> {
    let Some(index) = offer.media.iter().position(is_t38) else {
        return Ok(None);
    };
    let media = &offer.media[index];
    let address = (media.connection)
        .or(offer.connection)
        .ok_or(SdpError::NoConnection)?;
    let number = |name: &str| {
        media
            .attribute(name)
            .and_then(|v| v.trim().parse::<u32>().ok())
    };
    let flag = |name: &str| {
        media
            .attribute(name)
            .is_some_and(|v| v.is_empty() || v == "1" || v.eq_ignore_ascii_case("true"))
    };
    let ec = match media.attribute("T38FaxUdpEC") {
        Some(v) if v.eq_ignore_ascii_case("t38UDPRedundancy") => UdpEc::Redundancy,
        Some(v) if v.eq_ignore_ascii_case("t38UDPFEC") => UdpEc::Fec,
        _ => UdpEc::None,
    };
    let stream = T38Stream {
        remote: SocketAddr::new(address, media.port),
        version: number("T38FaxVersion").map_or(0, |v| v.min(3) as u8),
        max_bit_rate: number("T38MaxBitRate").unwrap_or(MAX_BIT_RATE),
        local_tcf: (media.attribute("T38FaxRateManagement"))
            .is_some_and(|v| v.eq_ignore_ascii_case("localTCF")),
        fill_bit_removal: flag("T38FaxFillBitRemoval"),
        max_datagram: number("T38FaxMaxDatagram")
            .map_or(MAX_DATAGRAM, |v| v.clamp(32, 1500) as u16),
        ec,
    };
    Ok(Some((index, stream)))
}

fn is_t38(media: &Media) -> bool {
    media.kind == "image"
        && media.port != 0
        && media.proto.eq_ignore_ascii_case("udptl")
        && media.formats.iter().any(|f| f.eq_ignore_ascii_case("t38"))
}

/// What we send: the terms both sides agreed to, from the other side's description and ours.
pub fn agree(theirs: &T38Stream, ours: &T38Stream) -> Agreed {
    let ec = match ours.ec {
        UdpEc::None => ErrorCorrection::None,
        UdpEc::Redundancy => ErrorCorrection::Redundancy {
            depth: REDUNDANCY_DEPTH,
        },
        UdpEc::Fec => ErrorCorrection::Fec {
            span: FEC_SPAN,
            entries: FEC_ENTRIES,
        },
    };
    let room = theirs.max_datagram.saturating_sub(DATAGRAM_OVERHEAD);
    Agreed {
        remote: theirs.remote,
        params: T38Params {
            version: theirs.version.min(ours.version),
            local_tcf: ours.local_tcf,
            fill_bit_removal: false,
            max_ifp: DEFAULT_MAX_IFP.min(room).max(32),
        },
        ec,
        peer_max_datagram: usize::from(theirs.max_datagram),
    }
}

/// Our side of a stream the other side offered (Annex D.2.3), at `local`.
pub fn answer_stream(offered: &T38Stream, local: SocketAddr) -> T38Stream {
    T38Stream {
        remote: local,
        // At most the offered one: ours is 0, the lowest there is.
        version: VERSION,
        max_bit_rate: offered.max_bit_rate.min(MAX_BIT_RATE),
        local_tcf: offered.local_tcf,
        fill_bit_removal: false,
        max_datagram: MAX_DATAGRAM,
        ec: offered.ec,
    }
}

/// Our offer's stream at `local`: transferredTCF, which Annex D requires over UDPTL, and
/// redundancy, which every gateway speaks.
pub fn offer_stream(local: SocketAddr) -> T38Stream {
    T38Stream {
        remote: local,
        version: VERSION,
        max_bit_rate: MAX_BIT_RATE,
        local_tcf: false,
        fill_bit_removal: false,
        max_datagram: MAX_DATAGRAM,
        ec: UdpEc::Redundancy,
    }
}

/// The answer to `offer` whose stream `index` is T.38: ours there, every other stream refused
/// with port 0 (RFC 3264 §6: as many `m=` lines, in order). `session` is the `o=` line's id and
/// version.
pub fn answer_sdp(offer: &Offer, index: usize, ours: &T38Stream, session: (u64, u64)) -> String {
    let mut sdp = header(ours.remote, session);
    for (i, media) in offer.media.iter().enumerate() {
        if i == index {
            image_section(&mut sdp, ours);
        } else {
            let formats = media.formats.join(" ");
            let _ = write!(sdp, "m={} 0 {} {formats}\r\n", media.kind, media.proto);
        }
    }
    sdp
}

/// Our re-offer moving the call to T.38: the audio stream's place taken by the image stream
/// (one `m=` line, as gateways do).
pub fn offer_sdp(ours: &T38Stream, session: (u64, u64)) -> String {
    let mut sdp = header(ours.remote, session);
    image_section(&mut sdp, ours);
    sdp
}

fn header(local: SocketAddr, (id, version): (u64, u64)) -> String {
    let family = if local.is_ipv4() { "IP4" } else { "IP6" };
    let ip = local.ip();
    format!(
        "v=0\r\no=zentrale {id} {version} IN {family} {ip}\r\ns=zentrale\r\n\
         c=IN {family} {ip}\r\nt=0 0\r\n"
    )
}

fn image_section(sdp: &mut String, s: &T38Stream) {
    let rate = if s.local_tcf {
        "localTCF"
    } else {
        "transferredTCF"
    };
    let _ = write!(
        sdp,
        "m=image {} udptl t38\r\n\
         a=T38FaxVersion:{}\r\n\
         a=T38MaxBitRate:{}\r\n\
         a=T38FaxRateManagement:{rate}\r\n\
         a=T38FaxMaxDatagram:{}\r\n",
        s.remote.port(),
        s.version,
        s.max_bit_rate,
        s.max_datagram,
    );
    match s.ec {
        UdpEc::Redundancy => sdp.push_str("a=T38FaxUdpEC:t38UDPRedundancy\r\n"),
        UdpEc::Fec => sdp.push_str("a=T38FaxUdpEC:t38UDPFEC\r\n"),
        UdpEc::None => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::parse_offer;

    const REINVITE: &str = "v=0\r\no=gw 1 2 IN IP4 192.0.2.7\r\ns=-\r\nc=IN IP4 192.0.2.7\r\n\
        t=0 0\r\nm=audio 0 RTP/AVP 8\r\nm=image 40000 udptl t38\r\na=t38faxversion:1\r\n\
        a=T38MaxBitRate:9600\r\na=T38FaxRateManagement:transferredTCF\r\n\
        a=T38FaxMaxDatagram:200\r\na=T38FaxUdpEC:t38UDPFEC\r\na=T38FaxFillBitRemoval\r\n";

    fn local() -> SocketAddr {
        "198.51.100.1:30000".parse().expect("address")
    }

    #[test]
    fn a_gateways_reinvite_is_read_and_answered_at_its_place_with_no_more_than_offered() {
        let offer = parse_offer(REINVITE.as_bytes()).expect("sdp");
        let (index, theirs) = t38_stream(&offer).expect("valid").expect("t38");
        assert_eq!(index, 1);
        assert_eq!(theirs.remote, "192.0.2.7:40000".parse().expect("addr"));
        assert_eq!((theirs.version, theirs.max_bit_rate), (1, 9600));
        assert_eq!((theirs.max_datagram, theirs.ec), (200, UdpEc::Fec));
        assert!(theirs.fill_bit_removal && !theirs.local_tcf);
        let ours = answer_stream(&theirs, local());
        let sdp = answer_sdp(&offer, index, &ours, (7, 8));
        assert_eq!(
            sdp,
            "v=0\r\no=zentrale 7 8 IN IP4 198.51.100.1\r\ns=zentrale\r\n\
             c=IN IP4 198.51.100.1\r\nt=0 0\r\nm=audio 0 RTP/AVP 8\r\n\
             m=image 30000 udptl t38\r\na=T38FaxVersion:0\r\na=T38MaxBitRate:9600\r\n\
             a=T38FaxRateManagement:transferredTCF\r\na=T38FaxMaxDatagram:400\r\n\
             a=T38FaxUdpEC:t38UDPFEC\r\n"
        );
        let agreed = agree(&theirs, &ours);
        assert_eq!(agreed.params.version, 0);
        assert!(!agreed.params.fill_bit_removal, "we never offered it");
        assert_eq!(agreed.params.max_ifp, 100);
        assert_eq!(agreed.peer_max_datagram, 200);
        assert!(matches!(agreed.ec, ErrorCorrection::Fec { .. }));
    }

    #[test]
    fn our_offer_parses_back_and_small_peer_datagrams_shrink_the_ifp() {
        let sdp = offer_sdp(&offer_stream(local()), (3, 4));
        let offer = parse_offer(sdp.as_bytes()).expect("our own SDP");
        let (index, back) = t38_stream(&offer).expect("valid").expect("t38");
        assert_eq!((index, back.remote), (0, local()));
        assert_eq!(back.ec, UdpEc::Redundancy);
        let small = T38Stream {
            max_datagram: 72,
            ..back.clone()
        };
        assert_eq!(agree(&small, &back).params.max_ifp, 64);
    }

    #[test]
    fn audio_only_or_disabled_image_is_no_t38() {
        let audio = "v=0\r\nc=IN IP4 192.0.2.7\r\nm=audio 4000 RTP/AVP 8\r\n";
        let offer = parse_offer(audio.as_bytes()).expect("sdp");
        assert_eq!(t38_stream(&offer), Ok(None));
        let off = "v=0\r\nc=IN IP4 192.0.2.7\r\nm=image 0 udptl t38\r\n";
        assert_eq!(
            t38_stream(&parse_offer(off.as_bytes()).expect("sdp")),
            Ok(None)
        );
        let nowhere = "v=0\r\nm=image 4000 udptl t38\r\n";
        let offer = parse_offer(nowhere.as_bytes()).expect("sdp");
        assert_eq!(t38_stream(&offer), Err(SdpError::NoConnection));
    }
}
