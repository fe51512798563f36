//! Offers as phones send them, and the answers zentrale gives.

use std::net::SocketAddr;

use super::*;

fn local() -> SocketAddr {
    "203.0.113.5:10000".parse().expect("addr")
}

fn crlf(text: &str) -> Vec<u8> {
    text.lines()
        .map(|l| format!("{}\r\n", l.trim()))
        .collect::<String>()
        .into_bytes()
}

/// What a desk phone of the common kind offers: G.722, PCMU, PCMA, G.729, telephone-event.
const PHONE: &str = "v=0
o=- 20518 0 IN IP4 192.0.2.10
s=SDP data
c=IN IP4 192.0.2.10
t=0 0
m=audio 11780 RTP/AVP 9 0 8 18 101
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:18 G729/8000
a=fmtp:18 annexb=no
a=ptime:20
a=sendrecv
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15";

#[test]
fn reads_a_phones_offer() {
    let offer = parse_offer(&crlf(PHONE)).expect("valid");
    assert_eq!(offer.connection, Some("192.0.2.10".parse().expect("ip")));
    let audio = &offer.media[offer.audio_index().expect("audio")];
    assert_eq!((audio.port, audio.proto.as_str()), (11780, "RTP/AVP"));
    assert_eq!(
        audio.payload_types().collect::<Vec<_>>(),
        [9, 0, 8, 18, 101]
    );
    assert_eq!(audio.ptime, Some(20));
    assert_eq!(audio.direction, Some(Direction::SendRecv));
    assert_eq!(
        audio.fmtps,
        [(18, "annexb=no".to_owned()), (101, "0-15".to_owned())]
    );
    assert_eq!(audio.g711(0), Some(Codec::Pcmu));
    assert_eq!(audio.g711(9), None);
}

#[test]
fn answers_the_callers_preferred_g711_with_its_payload_numbers() {
    let offer = parse_offer(&crlf(PHONE)).expect("valid");
    let answer = answer(&offer, local(), 4711).expect("acceptable");
    assert_eq!(
        answer.codec,
        Codec::Pcmu,
        "PCMU comes before PCMA in the offer"
    );
    assert_eq!((answer.payload_type, answer.dtmf), (0, Some(101)));
    assert_eq!(answer.remote, "192.0.2.10:11780".parse().expect("addr"));
    assert_eq!(answer.direction, Direction::SendRecv);
    let want = "v=0\r\n\
                o=- 4711 4711 IN IP4 203.0.113.5\r\n\
                s=zentrale\r\n\
                c=IN IP4 203.0.113.5\r\n\
                t=0 0\r\n\
                m=audio 10000 RTP/AVP 0 101\r\n\
                a=rtpmap:0 PCMU/8000\r\n\
                a=rtpmap:101 telephone-event/8000\r\n\
                a=fmtp:101 0-16\r\n\
                a=ptime:20\r\n\
                a=sendrecv\r\n";
    assert_eq!(answer.sdp, want);
    let params = crate::rtp::SessionParams::from_answer(&answer, 7);
    assert_eq!(
        (params.payload_type, params.dtmf, params.remote),
        (0, Some(101), answer.remote)
    );
    // The answer is itself valid SDP that this parser reads back.
    let back = parse_offer(answer.sdp.as_bytes()).expect("answer parses");
    assert_eq!(back.media[0].payload_types().collect::<Vec<_>>(), [0, 101]);
}

#[test]
fn dynamic_numbers_and_media_level_connection_are_used() {
    // A softphone numbering A-law dynamically, lower-case, with a media-level c= (RFC 8866
    // §5.7: it overrides the session's), LF line ends and IPv6.
    let body = "v=0\no=- 1 1 IN IP6 2001:db8::1\ns=-\nc=IN IP6 2001:db8::1\nt=0 0\n\
                m=audio 4000 RTP/AVP 96 97\nc=IN IP6 2001:db8::2\n\
                a=rtpmap:96 pcma/8000\na=rtpmap:97 TELEPHONE-EVENT/8000\n";
    let offer = parse_offer(body.as_bytes()).expect("valid");
    let answer = answer(&offer, "[2001:db8::9]:10002".parse().expect("addr"), 1).expect("ok");
    assert_eq!(
        (answer.codec, answer.payload_type, answer.dtmf),
        (Codec::Pcma, 96, Some(97))
    );
    assert_eq!(answer.remote, "[2001:db8::2]:4000".parse().expect("addr"));
    assert!(answer.sdp.contains("c=IN IP6 2001:db8::9\r\n"));
    assert!(answer.sdp.contains("a=rtpmap:96 PCMA/8000\r\n"));
}

#[test]
fn every_other_stream_is_refused_with_port_zero_in_order() {
    let body = crlf(
        "v=0
        o=- 1 1 IN IP4 192.0.2.10
        s=-
        c=IN IP4 192.0.2.10
        t=0 0
        m=video 5000 RTP/AVP 96
        a=rtpmap:96 H264/90000
        m=audio 5002 RTP/AVP 8
        a=recvonly
        m=audio 5004 RTP/AVP 0",
    );
    let offer = parse_offer(&body).expect("valid");
    let answer = answer(&offer, local(), 9).expect("ok");
    let m_lines: Vec<&str> = answer.sdp.lines().filter(|l| l.starts_with("m=")).collect();
    assert_eq!(
        m_lines,
        [
            "m=video 0 RTP/AVP 96",
            "m=audio 10000 RTP/AVP 8",
            "m=audio 0 RTP/AVP 0"
        ]
    );
    // RFC 3264 §6.1: recvonly is answered sendonly.
    assert_eq!(answer.direction, Direction::SendOnly);
    assert!(answer.sdp.contains("a=sendonly\r\n"));
    assert_eq!(answer.dtmf, None);
}

#[test]
fn refuses_offers_it_cannot_serve() {
    let head = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n";
    let cases = [
        (
            "m=audio 5000 RTP/AVP 9 18\r\na=rtpmap:9 G722/8000\r\n",
            SdpError::NoCommonCodec,
        ),
        // PT 0 mapped to something else is not PCMU; PCMA at 16 kHz is not G.711.
        (
            "m=audio 5000 RTP/AVP 0 96\r\na=rtpmap:0 opus/48000/2\r\na=rtpmap:96 PCMA/16000\r\n",
            SdpError::NoCommonCodec,
        ),
        ("m=audio 0 RTP/AVP 0\r\n", SdpError::AudioDisabled),
        (
            "m=audio 5000 RTP/SAVP 0\r\n",
            SdpError::UnsupportedProto("RTP/SAVP".into()),
        ),
        ("m=video 5000 RTP/AVP 96\r\n", SdpError::NoAudio),
    ];
    for (media, want) in cases {
        let offer = parse_offer(format!("{head}{media}").as_bytes()).expect("valid syntax");
        assert_eq!(answer(&offer, local(), 1), Err(want), "{media}");
    }
    let no_c = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\nm=audio 5000 RTP/AVP 8\r\n";
    let offer = parse_offer(no_c.as_bytes()).expect("valid syntax");
    assert_eq!(answer(&offer, local(), 1), Err(SdpError::NoConnection));
}

#[test]
fn rejects_malformed_bodies_with_the_line() {
    let cases: &[(&str, SdpError)] = &[
        ("", SdpError::NoVersion),
        ("v=1\r\n", SdpError::NoVersion),
        ("v=0\r\nnonsense\r\n", SdpError::BadLine(2)),
        ("v=0\r\nm =audio 1 RTP/AVP 0\r\n", SdpError::BadLine(2)),
        ("v=0\r\nx=what\r\n", SdpError::UnknownType(2)),
        (
            "v=0\r\nc=IN IP4 pbx.example.com\r\n",
            SdpError::BadConnection(2),
        ),
        (
            "v=0\r\nc=IN IP4 2001:db8::1\r\n",
            SdpError::BadConnection(2),
        ),
        ("v=0\r\nm=audio 70000 RTP/AVP 0\r\n", SdpError::BadMedia(2)),
        ("v=0\r\nm=audio 5000 RTP/AVP\r\n", SdpError::BadMedia(2)),
        (
            "v=0\r\nm=audio 5000 RTP/AVP 0\r\na=rtpmap:0 PCMU\r\n",
            SdpError::BadAttribute(3, "rtpmap"),
        ),
        (
            "v=0\r\nm=audio 5000 RTP/AVP 0\r\na=rtpmap:200 X/8000\r\n",
            SdpError::BadAttribute(3, "rtpmap"),
        ),
        (
            "v=0\r\nm=audio 5000 RTP/AVP 0\r\na=ptime:abc\r\n",
            SdpError::BadAttribute(3, "ptime"),
        ),
        (
            "v=0\r\nm=audio 5000 RTP/AVP 0\r\na=fmtp:x 0-15\r\n",
            SdpError::BadAttribute(3, "fmtp"),
        ),
    ];
    for (body, want) in cases {
        assert_eq!(parse_offer(body.as_bytes()), Err(want.clone()), "{body:?}");
    }
    assert_eq!(
        parse_offer(&[b'v', b'=', b'0', b'\n', 0xff]),
        Err(SdpError::NotUtf8)
    );
}

#[test]
fn bounds_hold() {
    let big = vec![b'a'; MAX_BODY + 1];
    assert_eq!(parse_offer(&big), Err(SdpError::TooLarge(MAX_BODY + 1)));
    let formats: String = (0..=MAX_FORMATS).map(|i| format!(" {}", i % 128)).collect();
    let body = format!("v=0\r\nm=audio 5000 RTP/AVP{formats}\r\n");
    assert_eq!(parse_offer(body.as_bytes()), Err(SdpError::TooManyFormats));
    let media = "m=audio 0 RTP/AVP 0\r\n".repeat(MAX_MEDIA + 1);
    assert_eq!(
        parse_offer(format!("v=0\r\n{media}").as_bytes()),
        Err(SdpError::TooManyMedia)
    );
    let maps = "a=rtpmap:0 PCMU/8000\r\n".repeat(MAX_MAPS + 1);
    let body = format!("v=0\r\nm=audio 5000 RTP/AVP 0\r\n{maps}");
    assert_eq!(parse_offer(body.as_bytes()), Err(SdpError::TooManyMaps));
}

#[test]
fn session_level_direction_and_unknown_attributes() {
    let body = crlf(
        "v=0
        o=- 1 1 IN IP4 192.0.2.10
        s=-
        c=IN IP4 192.0.2.10
        t=0 0
        a=sendonly
        a=group:BUNDLE 0
        m=audio 5000 RTP/AVP 8
        a=rtcp-mux
        a=ptime:30.0",
    );
    let offer = parse_offer(&body).expect("valid");
    assert_eq!(offer.media[0].ptime, Some(30));
    let answer = answer(&offer, local(), 1).expect("ok");
    assert_eq!(
        answer.direction,
        Direction::RecvOnly,
        "RFC 3264 §6.1 mirrors sendonly"
    );
}

#[test]
fn other_media_attributes_are_kept_in_order_up_to_a_bound() {
    let body = crlf(
        "v=0
        c=IN IP4 192.0.2.10
        m=image 5002 udptl t38
        a=T38FaxVersion:0
        a=t38faxmaxdatagram:400
        a=T38FaxFillBitRemoval",
    );
    let offer = parse_offer(&body).expect("valid");
    let image = &offer.media[0];
    assert_eq!(image.attribute("T38FaxMaxDatagram"), Some("400"));
    assert_eq!(image.attribute("t38faxversion"), Some("0"));
    assert_eq!(image.attribute("T38FaxFillBitRemoval"), Some(""));
    assert_eq!(image.attribute("T38FaxUdpEC"), None);
    let candidates = "a=candidate:1 1 UDP 1 192.0.2.10 5000 typ host\r\n".repeat(MAX_OTHER + 10);
    let body = format!("v=0\r\nc=IN IP4 192.0.2.10\r\nm=audio 5000 RTP/AVP 8\r\n{candidates}");
    let offer = parse_offer(body.as_bytes()).expect("candidates past the bound are ignored");
    assert_eq!(offer.media[0].other.len(), MAX_OTHER);
}

#[test]
fn our_offer_lists_pcma_pcmu_and_telephone_event() {
    let sdp = offer(local(), 77, 2);
    assert!(sdp.starts_with("v=0\r\no=- 77 2 IN IP4 203.0.113.5\r\n"));
    assert!(sdp.contains("m=audio 10000 RTP/AVP 8 0 101\r\n"));
    // It is an offer our own answerer accepts, preferring PCMA.
    let parsed = parse_offer(sdp.as_bytes()).expect("parses");
    let answer = answer(&parsed, "192.0.2.1:6000".parse().expect("addr"), 1).expect("ok");
    assert_eq!(
        (answer.codec, answer.payload_type, answer.dtmf),
        (Codec::Pcma, 8, Some(101))
    );
    assert_eq!(answer.remote, local());
}
