//! A message being recorded: 8 kHz, 16-bit PCM, mono WAV (hound) in `<data_dir>/voicemail/tmp/`.
//!
//! The last samples (at most [`TAIL_SAMPLES`], fewer after [`Recording::hold_back`]) are held
//! back in memory rather than written, so the silence that ended a message can be cut with
//! [`Recording::drop_tail`] without rewriting the file (hound writes the header's sizes on
//! finalize; a cut on disk would need hand-patched headers). Dropped without
//! [`Recording::discard`] or a deposit, the file is removed too.

use std::collections::VecDeque;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use super::mailbox::MailboxError;
use crate::spool::boxes::BoxError;

/// The sample rate of every recording and greeting.
pub const RATE: u32 = 8_000;
/// What [`Recording::drop_tail`] can cut at most: 10 s (Asterisk's usual `maxsilence`), 160 KB
/// per running recording.
pub const TAIL_SAMPLES: usize = 10 * RATE as usize;

type Writer = hound::WavWriter<BufWriter<File>>;

/// The WAV format of recordings and greetings.
pub fn spec() -> hound::WavSpec {
    hound::WavSpec {
        channels: 1,
        sample_rate: RATE,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    }
}

/// A recording in progress; see the module doc.
pub struct Recording {
    writer: Option<Writer>,
    path: PathBuf,
    tail: VecDeque<i16>,
    /// How many samples `tail` keeps back.
    hold: usize,
    /// Samples written to the file (not counting the held-back tail).
    written: u64,
}

impl Recording {
    /// Starts a new WAV at `path` (which must not exist).
    pub(super) fn create(path: PathBuf) -> Result<Recording, MailboxError> {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(MailboxError::io(&path))?;
        let writer = hound::WavWriter::new(BufWriter::new(file), spec())
            .map_err(|e| MailboxError::wav(&path, e))?;
        Ok(Recording {
            writer: Some(writer),
            path,
            tail: VecDeque::new(),
            hold: TAIL_SAMPLES,
            written: 0,
        })
    }

    /// Keeps only `samples` back in memory (at most [`TAIL_SAMPLES`]): as many as
    /// [`Recording::drop_tail`] will be asked to cut. Memory per running recording is twice
    /// this in bytes.
    pub fn hold_back(&mut self, samples: usize) {
        self.hold = samples.min(TAIL_SAMPLES);
        self.tail.shrink_to(self.hold + self.hold / 4);
    }

    /// Appends 8 kHz samples. A full disk is [`MailboxError::Full`].
    pub fn push(&mut self, samples: &[i16]) -> Result<(), MailboxError> {
        self.tail.extend(samples);
        let over = self.tail.len().saturating_sub(self.hold);
        if over > 0 {
            self.write_front(over)?;
        }
        Ok(())
    }

    /// Samples recorded so far (after any [`Recording::drop_tail`]).
    pub fn samples(&self) -> u64 {
        self.written + self.tail.len() as u64
    }

    /// Cuts the last `samples` (at most [`TAIL_SAMPLES`]: what is already on disk stays).
    pub fn drop_tail(&mut self, samples: u64) {
        let keep = self
            .tail
            .len()
            .saturating_sub(usize::try_from(samples).unwrap_or(usize::MAX));
        self.tail.truncate(keep);
    }

    /// Ends the recording and removes its file.
    pub fn discard(mut self) {
        self.remove();
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the tail, completes the header and fsyncs the file; returns its path.
    pub(super) fn finish(mut self) -> Result<FinishedWav, MailboxError> {
        self.write_front(self.tail.len())?;
        let writer = self.writer.take().expect("a recording not yet finished");
        writer
            .finalize()
            .map_err(|e| MailboxError::wav(&self.path, e))?;
        File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(MailboxError::io(&self.path))?;
        Ok(FinishedWav {
            path: std::mem::take(&mut self.path),
            samples: self.written,
        })
    }

    fn write_front(&mut self, n: usize) -> Result<(), MailboxError> {
        let writer = self.writer.as_mut().expect("a recording not yet finished");
        let mut out = writer.get_i16_writer(u32::try_from(n).unwrap_or(u32::MAX));
        for s in self.tail.drain(..n) {
            out.write_sample(s);
        }
        out.flush().map_err(|e| MailboxError::wav(&self.path, e))?;
        self.written += n as u64;
        Ok(())
    }

    fn remove(&mut self) {
        self.writer = None;
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
            self.path = PathBuf::new();
        }
    }
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("path", &self.path)
            .field("samples", &self.samples())
            .finish()
    }
}

impl Drop for Recording {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A complete, fsynced WAV; removed on drop unless [`FinishedWav::keep`] takes its path.
#[derive(Debug)]
pub(super) struct FinishedWav {
    path: PathBuf,
    pub samples: u64,
}

impl FinishedWav {
    /// Moves the file to `target` (same filesystem); the result owns the new name.
    pub fn rename(mut self, target: &Path) -> Result<FinishedWav, MailboxError> {
        std::fs::rename(&self.path, target).map_err(MailboxError::io(target))?;
        self.path = target.to_owned();
        Ok(self)
    }

    /// The file stays.
    pub fn keep(mut self) {
        self.path = PathBuf::new();
    }
}

impl Drop for FinishedWav {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `samples` as a complete 8 kHz mono WAV at `path` and fsyncs it.
pub(super) fn write_wav(path: &Path, samples: &[i16]) -> Result<(), MailboxError> {
    let mut rec = Recording::create(path.to_owned())?;
    rec.push(samples)?;
    rec.finish()?.keep();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wav_samples(path: &Path) -> Vec<i16> {
        let reader = hound::WavReader::open(path).expect("a WAV");
        reader
            .into_samples()
            .map(|s| s.expect("a sample"))
            .collect()
    }

    #[test]
    fn a_short_hold_back_still_cuts_its_tail_and_writes_the_rest_in_order() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let mut rec = Recording::create(dir.path().join("m.wav")).expect("created");
        rec.hold_back(2_000);
        let voice: Vec<i16> = (0..8_000).map(|i| (i % 1_000) as i16).collect();
        for frame in voice.chunks(160) {
            rec.push(frame).expect("pushed");
        }
        assert!(rec.tail.len() <= 2_000, "held {}", rec.tail.len());
        rec.drop_tail(1_500);
        assert_eq!(rec.samples(), 6_500);
        // More than is held: what is on disk stays.
        rec.drop_tail(5_000);
        assert_eq!(rec.samples(), 6_000);
        let done = rec.finish().expect("finished");
        assert_eq!(done.samples, 6_000);
        assert_eq!(wav_samples(&done.path), voice[..6_000]);
    }
}
