//! An uploaded greeting in any common WAV format, made into what callers hear: 8 kHz, 16-bit,
//! mono. hound decodes (8/16/24/32-bit integer or 32-bit float PCM, any channel count up to
//! [`MAX_CHANNELS`]), the channels are averaged, and rubato's FFT resampler (band-limited, so no
//! aliasing above the 4 kHz Nyquist of the telephone band) converts the rate.
//!
//! Everything a file claims is checked before it is believed: unsupported formats, absurd rates
//! and over-long greetings are [`MailboxError::BadAudio`], never a panic.

use std::io::Cursor;

use rubato::{FftFixedIn, Resampler};

use super::MailboxError;
use super::mailbox_recording::RATE;

/// The longest greeting: 60 s. A caller waits through all of it before the tone, and every
/// common voicemail greeting fits well inside a minute; at 8 kHz it is at most 960 KB on disk.
pub const MAX_SECS: u32 = 60;
/// More channels than 7.1 is not a greeting.
pub const MAX_CHANNELS: u16 = 8;
/// Sample rates accepted (telephone 8 kHz up to studio 192 kHz).
const RATES: std::ops::RangeInclusive<u32> = 4_000..=192_000;
/// Input frames per resampler call.
const CHUNK: usize = 1024;

fn bad(reason: impl Into<String>) -> MailboxError {
    MailboxError::BadAudio(reason.into())
}

/// Decodes `wav` and returns its audio as 8 kHz mono samples.
pub fn to_8k_mono(wav: &[u8]) -> Result<Vec<i16>, MailboxError> {
    let reader = hound::WavReader::new(Cursor::new(wav))
        .map_err(|e| bad(format!("not a usable WAV file: {e}")))?;
    let spec = reader.spec();
    if spec.channels == 0 || spec.channels > MAX_CHANNELS {
        return Err(bad(format!(
            "{} channels; at most {MAX_CHANNELS} are supported",
            spec.channels
        )));
    }
    if !RATES.contains(&spec.sample_rate) {
        return Err(bad(format!(
            "sample rate {} Hz; {} to {} Hz are supported",
            spec.sample_rate,
            RATES.start(),
            RATES.end()
        )));
    }
    let frames = reader.duration();
    if u64::from(frames) > u64::from(MAX_SECS) * u64::from(spec.sample_rate) {
        return Err(bad(format!("longer than {MAX_SECS} seconds")));
    }
    if frames == 0 {
        return Err(bad("the file holds no audio"));
    }
    let mono = mix(reader)?;
    let resampled = if spec.sample_rate == RATE {
        mono
    } else {
        resample(&mono, spec.sample_rate)?
    };
    Ok(resampled
        .iter()
        .map(|s| (s * 32_768.0).round().clamp(-32_768.0, 32_767.0) as i16)
        .collect())
}

/// The samples as floats in [-1, 1], channels averaged.
fn mix(reader: hound::WavReader<Cursor<&[u8]>>) -> Result<Vec<f32>, MailboxError> {
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    let truncated = |e: hound::Error| bad(format!("the audio data is damaged: {e}"));
    let samples: Vec<f32> = match (spec.sample_format, spec.bits_per_sample) {
        (hound::SampleFormat::Int, bits @ (8 | 16 | 24 | 32)) => {
            let scale = 1.0 / f64::from(1u32 << (bits - 1)) as f32;
            reader
                .into_samples::<i32>()
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(truncated)?
        }
        (hound::SampleFormat::Float, 32) => reader
            .into_samples::<f32>()
            .map(|s| {
                s.map(|s| {
                    if s.is_finite() {
                        s.clamp(-1.0, 1.0)
                    } else {
                        0.0
                    }
                })
            })
            .collect::<Result<_, _>>()
            .map_err(truncated)?,
        (format, bits) => {
            return Err(bad(format!(
                "{bits}-bit {format:?} samples; 8/16/24/32-bit integer or 32-bit float are supported"
            )));
        }
    };
    Ok(samples
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect())
}

/// `input` at `rate` Hz as [`RATE`] Hz, of the same duration.
fn resample(input: &[f32], rate: u32) -> Result<Vec<f32>, MailboxError> {
    let failed = |e: &dyn std::fmt::Display| bad(format!("cannot convert the sample rate: {e}"));
    let mut resampler = FftFixedIn::<f32>::new(rate as usize, RATE as usize, CHUNK, 2, 1)
        .map_err(|e| failed(&e))?;
    let delay = resampler.output_delay();
    let wanted = (input.len() as u64 * u64::from(RATE)).div_ceil(u64::from(rate)) as usize;
    let mut out = Vec::with_capacity(wanted + delay + CHUNK);
    let mut rest = input;
    while rest.len() >= resampler.input_frames_next() {
        let (chunk, tail) = rest.split_at(resampler.input_frames_next());
        let block = resampler.process(&[chunk], None).map_err(|e| failed(&e))?;
        out.extend_from_slice(&block[0]);
        rest = tail;
    }
    if !rest.is_empty() {
        let block = resampler
            .process_partial(Some(&[rest]), None)
            .map_err(|e| failed(&e))?;
        out.extend_from_slice(&block[0]);
    }
    while out.len() < delay + wanted {
        let block = resampler
            .process_partial::<&[f32]>(None, None)
            .map_err(|e| failed(&e))?;
        out.extend_from_slice(&block[0]);
    }
    out.drain(..delay);
    out.truncate(wanted);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav(spec: hound::WavSpec, frames: usize, sample: impl Fn(usize) -> f64) -> Vec<u8> {
        let mut bytes = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut bytes, spec).expect("writer");
        for i in 0..frames {
            for _ in 0..spec.channels {
                let v = sample(i);
                match spec.sample_format {
                    hound::SampleFormat::Float => w.write_sample(v as f32),
                    hound::SampleFormat::Int => {
                        let max = f64::from(1u32 << (spec.bits_per_sample - 1)) - 1.0;
                        w.write_sample((v * max) as i32)
                    }
                }
                .expect("sample");
            }
        }
        w.finalize().expect("finalize");
        bytes.into_inner()
    }

    fn spec(rate: u32, channels: u16, bits: u16, float: bool) -> hound::WavSpec {
        hound::WavSpec {
            channels,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: if float {
                hound::SampleFormat::Float
            } else {
                hound::SampleFormat::Int
            },
        }
    }

    /// A 440 Hz tone at half scale: the RMS of the result shows the level survived.
    fn tone(rate: u32) -> impl Fn(usize) -> f64 {
        move |i| 0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / f64::from(rate)).sin()
    }

    fn rms(s: &[i16]) -> f64 {
        let sum: f64 = s.iter().map(|&v| f64::from(v).powi(2)).sum();
        (sum / s.len() as f64).sqrt() / 32_768.0
    }

    #[test]
    fn every_supported_format_becomes_8k_mono_of_the_same_length() {
        for (rate, channels, bits, float) in [
            (44_100, 2, 16, false),
            (48_000, 1, 24, false),
            (16_000, 2, 32, false),
            (22_050, 1, 8, false),
            (96_000, 2, 32, true),
            (8_000, 1, 16, false),
        ] {
            let bytes = wav(
                spec(rate, channels, bits, float),
                rate as usize * 2,
                tone(rate),
            );
            let out = to_8k_mono(&bytes).expect("converts");
            assert_eq!(out.len(), 16_000, "{rate} Hz {channels} ch {bits} bit");
            // Half-scale sine: RMS 0.354; skip the resampler's edges.
            let level = rms(&out[800..15_200]);
            assert!((0.33..0.37).contains(&level), "{rate} {bits}: {level}");
        }
    }

    #[test]
    fn garbage_and_unsupported_files_are_refused_with_a_reason() {
        let refuse = |bytes: &[u8]| match to_8k_mono(bytes) {
            Err(MailboxError::BadAudio(reason)) => reason,
            other => panic!("{other:?}"),
        };
        assert!(refuse(b"").contains("WAV"));
        assert!(refuse(b"RIFF\x10\x00\x00\x00WAVEjunkjunkjunk").contains("WAV"));
        let long = wav(spec(8_000, 1, 16, false), 8_000 * 61, |_| 0.0);
        assert!(refuse(&long).contains("60 seconds"));
        let mut cut = wav(spec(8_000, 1, 16, false), 8_000, |_| 0.1);
        cut.truncate(cut.len() / 2);
        assert!(!refuse(&cut).is_empty());
        let empty = wav(spec(8_000, 1, 16, false), 0, |_| 0.0);
        assert!(refuse(&empty).contains("no audio"));
        let slow = wav(spec(1_000, 1, 16, false), 100, |_| 0.0);
        assert!(refuse(&slow).contains("sample rate"));
    }

    #[test]
    fn random_bytes_after_a_valid_header_never_panic() {
        let good = wav(spec(44_100, 2, 16, false), 4_410, tone(44_100));
        for seed in 0..200u64 {
            let mut bytes = good.clone();
            let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            for _ in 0..8 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                let at = (x % bytes.len() as u64) as usize;
                bytes[at] = (x >> 32) as u8;
            }
            let _ = to_8k_mono(&bytes);
        }
    }
}
