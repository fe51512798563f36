//! Reading an SDP offer (RFC 8866, which obsoletes RFC 4566): the session-level connection and
//! direction, and every `m=` line with the attributes zentrale uses. What to answer is in
//! `sdp_answer`.
//!
//! Bounds: a body of at most [`MAX_BODY`] octets, [`MAX_MEDIA`] media lines, [`MAX_FORMATS`]
//! formats and [`MAX_MAPS`] `rtpmap`/`fmtp` attributes per media line; past them the offer is
//! refused rather than read in part.

use std::net::IpAddr;

use super::Codec;

/// The largest offer read, in octets (an offer of a few codecs is well under 1 KiB).
pub const MAX_BODY: usize = 16 * 1024;
/// The most `m=` lines read.
pub const MAX_MEDIA: usize = 16;
/// The most formats on one `m=` line.
pub const MAX_FORMATS: usize = 64;
/// The most `a=rtpmap` plus `a=fmtp` lines of one media description.
pub const MAX_MAPS: usize = 128;
/// The most other media-level attributes kept per media description (T.38's are a dozen);
/// past them the rest are ignored like any unknown attribute (a softphone's ICE candidates
/// must not make its offer unusable).
pub const MAX_OTHER: usize = 32;

/// Why an offer cannot be used. The SIP side answers 488 Not Acceptable Here to all of them
/// (RFC 3261 §21.4.26).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("SDP body of {0} octets is too large")]
    TooLarge(usize),
    #[error("SDP body is not UTF-8")]
    NotUtf8,
    #[error("SDP does not start with v=0")]
    NoVersion,
    /// A line that is not `<letter>=<value>` (the 1-based line number).
    #[error("SDP line {0} is malformed")]
    BadLine(usize),
    /// A type letter RFC 8866 does not define.
    #[error("SDP line {0} has an unknown type")]
    UnknownType(usize),
    #[error("SDP line {0}: bad c= line")]
    BadConnection(usize),
    #[error("SDP line {0}: bad m= line")]
    BadMedia(usize),
    #[error("SDP line {0}: bad a={1} attribute")]
    BadAttribute(usize, &'static str),
    #[error("SDP has more than {MAX_MEDIA} media lines")]
    TooManyMedia,
    #[error("SDP media line has more than {MAX_FORMATS} formats")]
    TooManyFormats,
    #[error("SDP media has more than {MAX_MAPS} rtpmap/fmtp attributes")]
    TooManyMaps,
    #[error("SDP offers no audio stream")]
    NoAudio,
    /// The first audio stream has port 0: the offerer disabled it (RFC 3264 §5.1).
    #[error("the offered audio stream is disabled (port 0)")]
    AudioDisabled,
    #[error("SDP audio has no connection address")]
    NoConnection,
    /// A transport other than RTP/AVP or RTP/AVPF (e.g. SRTP's RTP/SAVP).
    #[error("unsupported media transport {0}")]
    UnsupportedProto(String),
    #[error("no codec in common (PCMU or PCMA)")]
    NoCommonCodec,
}

/// Media direction (RFC 8866 §6.7); `sendrecv` when none is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    fn parse(name: &str) -> Option<Direction> {
        [
            Direction::SendRecv,
            Direction::SendOnly,
            Direction::RecvOnly,
            Direction::Inactive,
        ]
        .into_iter()
        .find(|d| d.as_str() == name)
    }
}

/// `a=rtpmap:<payload type> <encoding name>/<clock rate>[/<encoding parameters>]` (§6.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpMap {
    pub payload_type: u8,
    pub name: String,
    pub clock_rate: u32,
    /// For audio the channel count (§6.6: "may be omitted ... if the number of channels is one").
    pub channels: Option<u8>,
}

/// One `m=` line and the media-level attributes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// `audio`, `video`, `application`, … (§5.14).
    pub kind: String,
    pub port: u16,
    pub proto: String,
    /// The format list as offered, in the offerer's order of preference (RFC 3264 §5.1).
    pub formats: Vec<String>,
    /// A media-level `c=`, which overrides the session's (§5.7).
    pub connection: Option<IpAddr>,
    pub rtpmaps: Vec<RtpMap>,
    /// `a=fmtp:<format> <parameters>` (§6.15).
    pub fmtps: Vec<(u8, String)>,
    /// `a=ptime` in milliseconds (§6.4).
    pub ptime: Option<u16>,
    pub direction: Option<Direction>,
    /// The other media-level attributes, as name and value (empty for a flag), in order:
    /// what a non-audio stream needs (T.38's `T38FaxVersion` …) is read by its user.
    pub other: Vec<(String, String)>,
}

impl Media {
    /// The value of attribute `name` (ASCII case ignored: T.38 attributes are seen in any case).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        (self.other.iter())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The codec a payload type of this line stands for: its `a=rtpmap`, else the static
    /// assignment (RFC 3551 §6) — an rtpmap wins, since §6.6 lets it describe any number.
    pub fn g711(&self, payload_type: u8) -> Option<Codec> {
        match self.rtpmap(payload_type) {
            Some(map) => Codec::from_name(&map.name)
                .filter(|_| map.clock_rate == 8000 && map.channels.unwrap_or(1) == 1),
            None => Codec::from_static(payload_type),
        }
    }

    pub fn rtpmap(&self, payload_type: u8) -> Option<&RtpMap> {
        self.rtpmaps.iter().find(|m| m.payload_type == payload_type)
    }

    /// The formats that are RTP payload type numbers (0-127), in order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| f.parse::<u8>().ok())
            .filter(|&pt| pt < 128)
    }
}

/// A parsed offer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Offer {
    /// The session-level `c=`.
    pub connection: Option<IpAddr>,
    /// The session-level direction attribute; a media-level one overrides it (§6.7).
    pub direction: Option<Direction>,
    /// Every `m=` line in order: the answer has as many, in the same order (RFC 3264 §6).
    pub media: Vec<Media>,
}

impl Offer {
    /// The index of the first `m=audio` line.
    pub fn audio_index(&self) -> Option<usize> {
        self.media.iter().position(|m| m.kind == "audio")
    }

    /// The effective direction of a media line: its own, else the session's, else sendrecv.
    pub fn direction_of(&self, media: &Media) -> Direction {
        media.direction.or(self.direction).unwrap_or_default()
    }
}

/// Reads an offer (any SDP body: the same syntax serves answers).
///
/// Lines end in CRLF or a lone LF (RFC 8866 §5: parsers should be tolerant of lines ended by
/// a newline alone). `v=0` must come first (§5.1); the order of the other lines is not
/// enforced. A type letter §5 does not define refuses the whole body (§5: a parser must ignore
/// an entire description with a type letter it does not understand; for a call that is a
/// refusal).
pub fn parse_offer(body: &[u8]) -> Result<Offer, SdpError> {
    if body.len() > MAX_BODY {
        return Err(SdpError::TooLarge(body.len()));
    }
    let text = std::str::from_utf8(body).map_err(|_| SdpError::NotUtf8)?;
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.is_empty());
    if lines.next().map(|(_, l)| l) != Some("v=0") {
        return Err(SdpError::NoVersion);
    }
    let mut offer = Offer::default();
    for (number, line) in lines {
        let (kind, value) = split_line(number, line)?;
        match kind {
            'c' => {
                let addr = parse_connection(value).ok_or(SdpError::BadConnection(number))?;
                match offer.media.last_mut() {
                    Some(media) => media.connection = Some(addr),
                    None => offer.connection = Some(addr),
                }
            }
            'm' => {
                if offer.media.len() == MAX_MEDIA {
                    return Err(SdpError::TooManyMedia);
                }
                offer.media.push(parse_media(number, value)?);
            }
            'a' => parse_attribute(&mut offer, number, value)?,
            // §5: the other letters RFC 8866 (and RFC 4566's k=) define; nothing zentrale uses.
            'o' | 's' | 'i' | 'u' | 'e' | 'p' | 'b' | 't' | 'r' | 'z' | 'k' | 'v' => {}
            _ => return Err(SdpError::UnknownType(number)),
        }
    }
    Ok(offer)
}

/// `<type>=<value>` (§5): the type is exactly one case-significant letter, and no whitespace
/// may stand on either side of the `=`.
fn split_line(number: usize, line: &str) -> Result<(char, &str), SdpError> {
    let mut chars = line.chars();
    match (chars.next(), chars.next()) {
        (Some(kind), Some('=')) if kind.is_ascii_lowercase() => Ok((kind, &line[2..])),
        _ => Err(SdpError::BadLine(number)),
    }
}

/// `c=<nettype> <addrtype> <connection-address>` (§5.7): `IN IP4` or `IN IP6` with an IP
/// literal; a multicast `/ttl[/count]` suffix is dropped. A host name is refused: the media
/// core does not resolve names.
fn parse_connection(value: &str) -> Option<IpAddr> {
    let mut parts = value.split(' ');
    let (net, family, address) = (parts.next()?, parts.next()?, parts.next()?);
    if net != "IN" || parts.next().is_some() {
        return None;
    }
    let address: IpAddr = address.split('/').next()?.parse().ok()?;
    match (family, address) {
        ("IP4", IpAddr::V4(_)) | ("IP6", IpAddr::V6(_)) => Some(address),
        _ => None,
    }
}

/// `m=<media> <port>[/<number of ports>] <proto> <fmt> ...` (§5.14).
fn parse_media(number: usize, value: &str) -> Result<Media, SdpError> {
    let bad = SdpError::BadMedia(number);
    let mut parts = value.split(' ');
    let kind = parts.next().filter(|k| is_token(k)).ok_or(bad.clone())?;
    let port_field = parts.next().ok_or(bad.clone())?;
    let (port, count) = port_field.split_once('/').unwrap_or((port_field, "1"));
    let port: u16 = port.parse().map_err(|_| bad.clone())?;
    count.parse::<u16>().map_err(|_| bad.clone())?;
    let proto = parts.next().filter(|p| is_token(p)).ok_or(bad.clone())?;
    let mut formats = Vec::new();
    for format in parts {
        if !is_token(format) {
            return Err(bad);
        }
        if formats.len() == MAX_FORMATS {
            return Err(SdpError::TooManyFormats);
        }
        formats.push(format.to_owned());
    }
    if formats.is_empty() {
        return Err(bad);
    }
    Ok(Media {
        kind: kind.to_owned(),
        port,
        proto: proto.to_owned(),
        formats,
        connection: None,
        rtpmaps: Vec::new(),
        fmtps: Vec::new(),
        ptime: None,
        direction: None,
        other: Vec::new(),
    })
}

/// `a=<attribute-name>[:<attribute-value>]` (§5.13); attributes a parser does not understand
/// are ignored, as §5.13 requires.
fn parse_attribute(offer: &mut Offer, number: usize, value: &str) -> Result<(), SdpError> {
    let (name, arg) = value.split_once(':').unwrap_or((value, ""));
    if let Some(direction) = Direction::parse(name) {
        match offer.media.last_mut() {
            Some(media) => media.direction = Some(direction),
            None => offer.direction = Some(direction),
        }
        return Ok(());
    }
    // rtpmap, fmtp and ptime are media-level attributes (§6.4, §6.6, §6.15).
    let Some(media) = offer.media.last_mut() else {
        return Ok(());
    };
    match name {
        "rtpmap" | "fmtp" if media.rtpmaps.len() + media.fmtps.len() == MAX_MAPS => {
            Err(SdpError::TooManyMaps)
        }
        "rtpmap" => {
            let map = parse_rtpmap(arg).ok_or(SdpError::BadAttribute(number, "rtpmap"))?;
            media.rtpmaps.push(map);
            Ok(())
        }
        "fmtp" => {
            let (format, params) = arg.split_once(' ').unwrap_or((arg, ""));
            let format = format
                .parse::<u8>()
                .map_err(|_| SdpError::BadAttribute(number, "fmtp"))?;
            media.fmtps.push((format, params.trim().to_owned()));
            Ok(())
        }
        "ptime" => {
            // The packet time in milliseconds; a decimal fraction is allowed and dropped.
            let whole = arg.split('.').next().unwrap_or(arg);
            let ms = whole
                .parse::<u16>()
                .map_err(|_| SdpError::BadAttribute(number, "ptime"))?;
            media.ptime = Some(ms);
            Ok(())
        }
        _ if media.other.len() == MAX_OTHER => Ok(()),
        _ => {
            media.other.push((name.to_owned(), arg.trim().to_owned()));
            Ok(())
        }
    }
}

fn parse_rtpmap(arg: &str) -> Option<RtpMap> {
    let (pt, encoding) = arg.split_once(' ')?;
    let payload_type = pt.parse::<u8>().ok().filter(|&pt| pt < 128)?;
    let mut parts = encoding.trim().split('/');
    let name = parts.next().filter(|n| is_token(n))?;
    let clock_rate = parts.next()?.parse().ok()?;
    let channels = match parts.next() {
        Some(c) => Some(c.parse().ok()?),
        None => None,
    };
    if parts.next().is_some() {
        return None;
    }
    Some(RtpMap {
        payload_type,
        name: name.to_owned(),
        clock_rate,
        channels,
    })
}

/// A field of §9's grammar (`token`, `proto`, `fmt`): visible ASCII, bounded so an error or a
/// kept string stays short.
fn is_token(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_graphic())
}
