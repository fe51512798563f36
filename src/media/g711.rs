//! G.711 (ITU-T G.711, 1988): A-law (PCMA) and µ-law (PCMU), one octet per 8 kHz sample.
//!
//! The companding itself is the `audio-codec-algorithms` crate: a small `no_std` crate made for
//! exactly this, whose decode tables come from the ITU-T G.191 software tools and whose encoder
//! is tested against G.191 output for all 65,536 inputs. This module only names the codecs the
//! way SDP and RTP do (RFC 3551 §4.5.14, Table 4: PCMU static payload type 0, PCMA 8).

use audio_codec_algorithms::{decode_alaw, decode_ulaw, encode_alaw, encode_ulaw};

/// The two G.711 laws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// µ-law, "PCMU" (North America, Japan).
    Pcmu,
    /// A-law, "PCMA" (Europe and most of the world).
    Pcma,
}

impl Codec {
    /// The static RTP payload type (RFC 3551 §6, Table 4).
    pub fn static_payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    /// The encoding name as `a=rtpmap` writes it (RFC 3551 §6). Encoding names are
    /// case-insensitive (RFC 4855 §3), so [`Codec::from_name`] compares them that way.
    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }

    /// The codec with this static payload type, if it is one of the two.
    pub fn from_static(payload_type: u8) -> Option<Codec> {
        match payload_type {
            0 => Some(Codec::Pcmu),
            8 => Some(Codec::Pcma),
            _ => None,
        }
    }

    /// The codec with this rtpmap encoding name, if it is one of the two.
    pub fn from_name(name: &str) -> Option<Codec> {
        [Codec::Pcmu, Codec::Pcma]
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(name))
    }

    /// One linear sample from one code.
    pub fn decode_sample(self, code: u8) -> i16 {
        match self {
            Codec::Pcmu => decode_ulaw(code),
            Codec::Pcma => decode_alaw(code),
        }
    }

    /// One code from one linear sample.
    pub fn encode_sample(self, sample: i16) -> u8 {
        match self {
            Codec::Pcmu => encode_ulaw(sample),
            Codec::Pcma => encode_alaw(sample),
        }
    }

    /// Appends the linear samples of `codes` to `out`.
    pub fn decode(self, codes: &[u8], out: &mut Vec<i16>) {
        out.extend(codes.iter().map(|&c| self.decode_sample(c)));
    }

    /// Appends the codes of `samples` to `out`.
    pub fn encode(self, samples: &[i16], out: &mut Vec<u8>) {
        out.extend(samples.iter().map(|&s| self.encode_sample(s)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code decodes to a value that encodes back to the same code, except µ-law's
    /// negative zero (0x7f), which G.711 decodes to 0 like 0xff.
    #[test]
    fn all_256_codes_round_trip() {
        for codec in [Codec::Pcma, Codec::Pcmu] {
            for code in 0..=255u8 {
                let back = codec.encode_sample(codec.decode_sample(code));
                if codec == Codec::Pcmu && code == 0x7f {
                    assert_eq!(back, 0xff);
                } else {
                    assert_eq!(back, code, "{codec:?} {code:#04x}");
                }
            }
        }
    }

    /// Values from the G.711 tables (as the G.191 reference `alaw_expand`/`ulaw_expand` give
    /// them, scaled to 16 bits): the even-bit inversion of A-law (0xd5/0x55 are the smallest
    /// magnitudes), µ-law's all-ones zero, and the largest magnitudes of each law.
    #[test]
    fn known_values() {
        let pcma = Codec::Pcma;
        assert_eq!(pcma.decode_sample(0xd5), 8);
        assert_eq!(pcma.decode_sample(0x55), -8);
        assert_eq!(pcma.decode_sample(0xaa), 32256);
        assert_eq!(pcma.decode_sample(0x2a), -32256);
        assert_eq!(pcma.encode_sample(0), 0xd5);
        assert_eq!(pcma.encode_sample(i16::MAX), 0xaa);
        assert_eq!(pcma.encode_sample(i16::MIN), 0x2a);
        let pcmu = Codec::Pcmu;
        assert_eq!(pcmu.decode_sample(0xff), 0);
        assert_eq!(pcmu.decode_sample(0x7f), 0);
        assert_eq!(pcmu.decode_sample(0x80), 32124);
        assert_eq!(pcmu.decode_sample(0x00), -32124);
        assert_eq!(pcmu.encode_sample(0), 0xff);
        assert_eq!(pcmu.encode_sample(i16::MAX), 0x80);
        assert_eq!(pcmu.encode_sample(i16::MIN), 0x00);
    }

    #[test]
    fn names_and_payload_types() {
        assert_eq!(Codec::from_static(0), Some(Codec::Pcmu));
        assert_eq!(Codec::from_static(8), Some(Codec::Pcma));
        assert_eq!(Codec::from_static(18), None);
        assert_eq!(Codec::from_name("pcma"), Some(Codec::Pcma));
        assert_eq!(Codec::from_name("PCMU"), Some(Codec::Pcmu));
        assert_eq!(Codec::from_name("G729"), None);
        let mut codes = Vec::new();
        Codec::Pcma.encode(&[0, 1000, -1000], &mut codes);
        let mut back = Vec::new();
        Codec::Pcma.decode(&codes, &mut back);
        assert_eq!(back.len(), 3);
        assert!(
            back.iter()
                .zip([0i16, 1000, -1000])
                .all(|(a, b)| (a - b).abs() <= 32)
        );
    }
}
