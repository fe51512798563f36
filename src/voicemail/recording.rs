//! Length and silence of a recording in progress: the part both cores share.
//!
//! Silence is measured as Asterisk does (`main/dsp.c`, `__ast_dsp_silence_noise`): a frame
//! whose mean absolute sample value is below the threshold is silent, and the silent frames in
//! a row add up. When the run reaches `max_silence` the recording ends, and all of the run but
//! its first 200 ms is cut, as Asterisk's `__ast_play_and_record` (`main/app.c`) rewinds "all but
//! the first 200ms of silence".

use std::time::Duration;

use super::prompts::SAMPLE_RATE;

/// Silence kept at the end of a recording that silence ended (Asterisk keeps 200 ms).
const KEPT_SILENCE_SAMPLES: u64 = SAMPLE_RATE as u64 / 5;

/// What ends a recording, and what a short one is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The recording stops here.
    pub max: Duration,
    /// Shorter (after the cut silence) is discarded.
    pub min: Duration,
    /// This much silence ends the recording; zero: never.
    pub max_silence: Duration,
    /// Mean absolute sample value below which a frame is silent.
    pub silence_threshold: u16,
}

impl Limits {
    /// `[voicemail]`'s limits for a message.
    pub fn message(c: &crate::config::VoicemailConfig) -> Limits {
        Limits {
            max: Duration::from_secs(c.max_secs),
            min: Duration::from_secs(c.min_secs),
            max_silence: Duration::from_secs(c.max_silence_secs),
            silence_threshold: c.silence_threshold,
        }
    }

    /// `[voicemail]`'s limits for a greeting recorded by phone.
    pub fn greeting(c: &crate::config::VoicemailConfig) -> Limits {
        Limits {
            max: Duration::from_secs(c.max_greeting_secs),
            ..Limits::message(c)
        }
    }
}

/// Why a recording stopped on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    Length,
    Silence,
}

/// The running counts of one recording.
#[derive(Debug)]
pub(crate) struct Recording {
    limits: Limits,
    samples: u64,
    silent_run: u64,
}

pub(crate) fn samples_of(d: Duration) -> u64 {
    (d.as_millis() as u64).saturating_mul(u64::from(SAMPLE_RATE)) / 1000
}

impl Recording {
    pub(crate) fn new(limits: Limits) -> Recording {
        Recording {
            limits,
            samples: 0,
            silent_run: 0,
        }
    }

    /// Samples written so far.
    pub(crate) fn samples(&self) -> u64 {
        self.samples
    }

    /// Counts one frame; says when the recording is full (by length or by silence).
    pub(crate) fn push(&mut self, frame: &[i16]) -> Option<Full> {
        if frame.is_empty() {
            return None;
        }
        self.samples += frame.len() as u64;
        let sum: u64 = frame.iter().map(|s| u64::from(s.unsigned_abs())).sum();
        if sum / (frame.len() as u64) < u64::from(self.limits.silence_threshold) {
            self.silent_run += frame.len() as u64;
        } else {
            self.silent_run = 0;
        }
        let max_silence = samples_of(self.limits.max_silence);
        if self.samples >= samples_of(self.limits.max) {
            Some(Full::Length)
        } else if max_silence > 0 && self.silent_run >= max_silence {
            Some(Full::Silence)
        } else {
            None
        }
    }

    /// Samples the driver cuts off the end: the silence that ended it (all but 200 ms), or
    /// what a last frame ran over the maximum.
    pub(crate) fn tail(&self, why: Option<Full>) -> u64 {
        match why {
            Some(Full::Silence) => self.silent_run.saturating_sub(KEPT_SILENCE_SAMPLES),
            Some(Full::Length) | None => self.samples.saturating_sub(samples_of(self.limits.max)),
        }
    }

    /// Whether what is left after cutting `tail` is long enough to keep.
    pub(crate) fn long_enough(&self, tail: u64) -> bool {
        let kept = self.samples - tail.min(self.samples);
        kept > 0 && kept >= samples_of(self.limits.min)
    }
}
