//! What zentrale answers to an offer (RFC 3264 §6) and what it offers itself: G.711 (the
//! caller's preferred law) plus RFC 4733 telephone-events, 20 ms packets.

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};

use super::Codec;
use super::sdp::{Direction, Media, Offer, SdpError};

/// The events zentrale understands: DTMF 0-15 and flash (RFC 4733 §3.2), the range most
/// phones offer.
const EVENTS: &str = "0-16";
/// The packetization zentrale sends (RFC 3551 §4.5: 20 ms is the default for G.711).
const PTIME_MS: u16 = 20;
/// Our `a=rtpmap` payload type for telephone-event in our own offers: dynamic range 96-127
/// (RFC 3551 §6); 101 is what most phones use, so traces read familiar.
const OFFER_DTMF_PT: u8 = 101;

/// The accepted audio stream and the answer body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub codec: Codec,
    /// The codec's payload type number as the offer numbered it.
    pub payload_type: u8,
    /// The telephone-event payload type, if the offer had telephone-event/8000.
    pub dtmf: Option<u8>,
    /// Where the caller wants its media: the audio stream's connection address and port.
    pub remote: SocketAddr,
    /// Our direction (the offer's mirrored, RFC 3264 §6.1).
    pub direction: Direction,
    /// The whole answer body, CRLF line ends.
    pub sdp: String,
}

/// Answers `offer` from `local` (our RTP address).
///
/// RFC 3264 §6: the answer has exactly as many `m=` lines as the offer, in the same order; every
/// stream but the first audio one is refused with port 0 (§6: "a stream is rejected ... by
/// setting the port to zero in the corresponding media description"). For the audio stream,
/// §6.1: the formats of the answer are a subset of the offer's with "the same payload type
/// numbers"; the chosen codec is the first of PCMU/PCMA in the offer's format list, which is
/// the offerer's order of preference (§5.1).
pub fn answer(offer: &Offer, local: SocketAddr, session_id: u64) -> Result<Answer, SdpError> {
    let index = offer.audio_index().ok_or(SdpError::NoAudio)?;
    let audio = &offer.media[index];
    if audio.port == 0 {
        return Err(SdpError::AudioDisabled);
    }
    // RFC 3551 is the profile of plain RTP; AVPF (RFC 4585) is its superset, whose feedback we
    // simply do not send. SRTP (RTP/SAVP, RFC 3711) is not supported.
    if audio.proto != "RTP/AVP" && audio.proto != "RTP/AVPF" {
        return Err(SdpError::UnsupportedProto(audio.proto.clone()));
    }
    let (payload_type, codec) = audio
        .payload_types()
        .find_map(|pt| Some((pt, audio.g711(pt)?)))
        .ok_or(SdpError::NoCommonCodec)?;
    let dtmf = audio
        .payload_types()
        .find(|&pt| is_telephone_event(audio, pt));
    // §5.7: a media-level c= overrides the session-level one.
    let address = audio
        .connection
        .or(offer.connection)
        .ok_or(SdpError::NoConnection)?;
    let direction = mirror(offer.direction_of(audio));

    let mut sdp = String::new();
    session_header(&mut sdp, local.ip(), session_id, session_id);
    for (i, media) in offer.media.iter().enumerate() {
        if i == index {
            audio_section(
                &mut sdp,
                local.port(),
                &audio.proto,
                (payload_type, codec),
                dtmf,
            );
            let _ = write!(sdp, "a={}\r\n", direction.as_str());
        } else {
            rejected_section(&mut sdp, media);
        }
    }
    Ok(Answer {
        codec,
        payload_type,
        dtmf,
        remote: SocketAddr::new(address, audio.port),
        direction,
        sdp,
    })
}

/// The offer zentrale makes for calls it starts: PCMA first (the law of the European networks
/// zentrale mostly runs in), PCMU, and telephone-event.
pub fn offer(local: SocketAddr, session_id: u64, version: u64) -> String {
    let mut sdp = String::new();
    session_header(&mut sdp, local.ip(), session_id, version);
    let _ = write!(
        sdp,
        "m=audio {} RTP/AVP 8 0 {OFFER_DTMF_PT}\r\n",
        local.port()
    );
    for codec in [Codec::Pcma, Codec::Pcmu] {
        rtpmap(&mut sdp, codec.static_payload_type(), codec.name());
    }
    dtmf_lines(&mut sdp, OFFER_DTMF_PT);
    let _ = write!(sdp, "a=ptime:{PTIME_MS}\r\na=sendrecv\r\n");
    sdp
}

/// RFC 4733 §7.1.1: the media type `audio/telephone-event` with a rate of 8000 (the rate
/// the G.711 stream uses; a telephone-event at another rate could not share its clock).
fn is_telephone_event(media: &Media, pt: u8) -> bool {
    media
        .rtpmap(pt)
        .is_some_and(|m| m.name.eq_ignore_ascii_case("telephone-event") && m.clock_rate == 8000)
}

/// RFC 3264 §6.1: sendonly is answered recvonly, recvonly sendonly, inactive inactive; a
/// sendrecv stream is answered sendrecv (zentrale both plays prompts and records).
fn mirror(offered: Direction) -> Direction {
    match offered {
        Direction::SendRecv => Direction::SendRecv,
        Direction::SendOnly => Direction::RecvOnly,
        Direction::RecvOnly => Direction::SendOnly,
        Direction::Inactive => Direction::Inactive,
    }
}

/// v=, o=, s=, c=, t= (RFC 8866 §5.1-§5.9, in the order §5 requires).
fn session_header(sdp: &mut String, ip: IpAddr, id: u64, version: u64) {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    // §5.2: "-" as the user name when the host has no notion of user IDs; §5.3: s= must not be
    // empty; §5.9: "t=0 0" is a session not bounded in time.
    let _ = write!(
        sdp,
        "v=0\r\no=- {id} {version} IN {family} {ip}\r\ns=zentrale\r\n\
         c=IN {family} {ip}\r\nt=0 0\r\n"
    );
}

fn audio_section(
    sdp: &mut String,
    port: u16,
    proto: &str,
    (payload_type, codec): (u8, Codec),
    dtmf: Option<u8>,
) {
    let _ = write!(sdp, "m=audio {port} {proto} {payload_type}");
    if let Some(pt) = dtmf {
        let _ = write!(sdp, " {pt}");
    }
    sdp.push_str("\r\n");
    rtpmap(sdp, payload_type, codec.name());
    if let Some(pt) = dtmf {
        dtmf_lines(sdp, pt);
    }
    let _ = write!(sdp, "a=ptime:{PTIME_MS}\r\n");
}

/// RFC 3264 §6: a refused stream keeps its media type, transport and formats with port 0.
fn rejected_section(sdp: &mut String, media: &Media) {
    let _ = write!(sdp, "m={} 0 {}", media.kind, media.proto);
    for format in &media.formats {
        let _ = write!(sdp, " {format}");
    }
    sdp.push_str("\r\n");
}

fn rtpmap(sdp: &mut String, payload_type: u8, name: &str) {
    let _ = write!(sdp, "a=rtpmap:{payload_type} {name}/8000\r\n");
}

/// RFC 4733 §2.4.1: the `events` parameter lists the events a receiver understands.
fn dtmf_lines(sdp: &mut String, pt: u8) {
    rtpmap(sdp, pt, "telephone-event");
    let _ = write!(sdp, "a=fmtp:{pt} {EVENTS}\r\n");
}
