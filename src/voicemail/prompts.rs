//! What the voicemail cores say, and the samples for it.
//!
//! The cores emit [`Sound`]s; [`Prompts`] turns the named ones (and numbers and the beep) into
//! 8 kHz 16-bit samples for a language. A user's own greeting and a message are the storage's,
//! so [`Prompts::render`] leaves those to the driver.
//!
//! Each named prompt is `<data_dir>/sounds/<lang>/<name>.wav` when the admin placed one there,
//! else the shipped `sounds/<lang>/<name>.wav` compiled into the binary (made by
//! `scripts/make-sounds.sh`), else the English one. Every file is read at start and must be
//! 8 kHz mono 16-bit PCM WAV: anything else is refused with its path, never played.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use crate::config::LANGUAGES;

static SHIPPED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/sounds");

/// Samples per second of every prompt, recording and greeting (G.711's rate).
pub const SAMPLE_RATE: u32 = 8000;
/// Longest prompt file accepted (a file is read whole at start): five minutes.
const MAX_PROMPT_SAMPLES: u32 = 5 * 60 * SAMPLE_RATE;
/// The language whose files stand in for a missing one.
const FALLBACK: &str = "en";

/// Which of a user's two greetings: chosen by why the call came.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum GreetingKind {
    /// Nobody answered (or the user is not reachable).
    Unavailable,
    /// The user is in a call.
    Busy,
}

/// One piece of what a caller hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sound {
    /// A shipped (or admin-replaced) prompt.
    Prompt(Prompt),
    /// The tone before a recording: see [`beep`].
    Beep,
    /// A number said aloud in the user's language.
    Number(u32),
    /// The user's own recorded greeting (the storage has it).
    Greeting(GreetingKind),
    /// A message in the mailbox, by id (the storage has it).
    Message(i64),
}

macro_rules! prompts {
    ($($variant:ident => $name:literal,)*) => {
        /// The named prompts; `scripts/make-sounds.sh` has their texts.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Prompt { $($variant,)* }

        impl Prompt {
            /// Every prompt, for the checks that each exists in every language.
            pub const ALL: &'static [Prompt] = &[$(Prompt::$variant,)*];

            /// The file name without `.wav`.
            pub fn name(self) -> &'static str {
                match self { $(Prompt::$variant => $name,)* }
            }
        }
    };
}

prompts! {
    GreetingUnavailable => "greeting-unavailable",
    GreetingBusy => "greeting-busy",
    Goodbye => "goodbye",
    MailboxUnavailable => "mailbox-unavailable",
    TooShort => "too-short",
    EnterPin => "enter-pin",
    WrongPin => "wrong-pin",
    Locked => "locked",
    YouHave => "you-have",
    NoMessages => "no-messages",
    CountOne => "count-one",
    And => "and",
    NewMessage => "new-message",
    NewMessages => "new-messages",
    OldMessage => "old-message",
    OldMessages => "old-messages",
    Message => "message",
    MainMenu => "main-menu",
    MessageMenu => "message-menu",
    NoMoreMessages => "no-more-messages",
    MessageDeleted => "message-deleted",
    MessageSaved => "message-saved",
    OptionsMenu => "options-menu",
    RecordGreeting => "record-greeting",
    GreetingSaved => "greeting-saved",
    GreetingNotSaved => "greeting-not-saved",
}

impl GreetingKind {
    /// The shipped greeting for this reason.
    pub fn default_prompt(self) -> Prompt {
        match self {
            GreetingKind::Unavailable => Prompt::GreetingUnavailable,
            GreetingKind::Busy => Prompt::GreetingBusy,
        }
    }
}

/// Why a prompt file was refused.
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a WAV file: {reason}")]
    NotWav { path: PathBuf, reason: String },
    #[error(
        "{path}: must be 8000 Hz mono 16-bit PCM, is {rate} Hz, {channels} channel(s), {bits}-bit {format}"
    )]
    Format {
        path: PathBuf,
        rate: u32,
        channels: u16,
        bits: u16,
        format: &'static str,
    },
    #[error("{path}: longer than five minutes")]
    TooLong { path: PathBuf },
    #[error("no prompt {name} for {lang} nor in English")]
    Missing { name: String, lang: String },
}

/// The samples of every prompt in every language, read once at start.
#[derive(Debug)]
pub struct Prompts {
    sounds: HashMap<(String, String), Vec<i16>>,
}

impl Prompts {
    /// The shipped prompts with the admin's files in `<data_dir>/sounds/<lang>/` over them.
    /// A file there with a name we do not use is ignored (and logged).
    pub fn load(data_dir: &Path) -> Result<Prompts, PromptError> {
        let mut sounds = HashMap::new();
        for file in SHIPPED.dirs().flat_map(|d| d.files()) {
            let path = file.path();
            let (Some(lang), Some(name)) = (lang_of(path), name_of(path)) else {
                continue;
            };
            if is_wav(path) {
                sounds.insert((lang, name), decode(path, file.contents())?);
            }
        }
        let known = known_names();
        for lang in LANGUAGES {
            let dir = data_dir.join("sounds").join(lang);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Some(name) = name_of(&path).filter(|_| is_wav(&path)) else {
                    continue;
                };
                if !known.contains(&name) {
                    tracing::warn!(
                        "voicemail: ignoring {}: no prompt has that name",
                        path.display()
                    );
                    continue;
                }
                let bytes = read_capped(&path)?;
                sounds.insert((lang.to_string(), name), decode(&path, &bytes)?);
            }
        }
        Ok(Prompts { sounds })
    }

    /// The samples of `name` in `lang`, else in English.
    pub fn named(&self, name: &str, lang: &str) -> Result<&[i16], PromptError> {
        let key = |l: &str| (l.to_owned(), name.to_owned());
        (self.sounds.get(&key(lang)))
            .or_else(|| self.sounds.get(&key(FALLBACK)))
            .map(Vec::as_slice)
            .ok_or_else(|| PromptError::Missing {
                name: name.to_owned(),
                lang: lang.to_owned(),
            })
    }

    /// The samples of a sound, or `None` for a greeting or message (the storage's to load).
    pub fn render(&self, sound: &Sound, lang: &str) -> Option<Result<Vec<i16>, PromptError>> {
        let out = match sound {
            Sound::Prompt(p) => self.named(p.name(), lang).map(<[i16]>::to_vec),
            Sound::Beep => Ok(beep()),
            Sound::Number(n) => self.number(*n, lang),
            Sound::Greeting(_) | Sound::Message(_) => return None,
        };
        Some(out)
    }

    fn number(&self, n: u32, lang: &str) -> Result<Vec<i16>, PromptError> {
        let mut out = Vec::new();
        for name in number_names(n, lang) {
            out.extend_from_slice(self.named(&name, lang)?);
        }
        Ok(out)
    }
}

/// The prompt files that say `n`: whole words for 0–99 (German "einundzwanzig" is
/// `num-1-und` + `num-20`, the order German says it; English "twenty-one" is `num-20` +
/// `num-1`), and digit by digit from 100 on, which no mailbox count reaches in practice.
pub fn number_names(n: u32, lang: &str) -> Vec<String> {
    if n >= 100 {
        let digits = n.to_string();
        return digits.chars().map(|d| format!("num-{d}")).collect();
    }
    let (tens, units) = (n / 10, n % 10);
    let small = if lang == "de" { 20 } else { 19 };
    if n <= small || units == 0 {
        vec![format!("num-{n}")]
    } else if lang == "de" {
        vec![format!("num-{units}-und"), format!("num-{tens}0")]
    } else {
        vec![format!("num-{tens}0"), format!("num-{units}")]
    }
}

/// Every file name the cores can ask for in `lang`: the prompts and the number words.
pub fn names_for(lang: &str) -> Vec<String> {
    let mut names: Vec<String> = Prompt::ALL.iter().map(|p| p.name().to_owned()).collect();
    for n in 0..100 {
        names.extend(number_names(n, lang));
    }
    names.sort_unstable();
    names.dedup();
    names
}

fn known_names() -> Vec<String> {
    let mut names: Vec<String> = LANGUAGES.iter().flat_map(|l| names_for(l)).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Frequency, length and level of the beep before a recording: FreeSWITCH's stock
/// `voicemail.conf.xml` (`tone-spec` `%(1000, 0, 640)`: 1000 ms of 640 Hz) at its
/// `tone_stream` default volume of -7 dBFS.
pub const BEEP_HZ: u32 = 640;
pub const BEEP_MS: u32 = 1000;
const BEEP_DBFS: f64 = -7.0;
/// Fade in and out so the tone starts and ends without a click.
const BEEP_FADE_MS: u32 = 5;

/// The beep as samples.
pub fn beep() -> Vec<i16> {
    let len = SAMPLE_RATE * BEEP_MS / 1000;
    let fade = (SAMPLE_RATE * BEEP_FADE_MS / 1000) as f64;
    let peak = f64::from(i16::MAX) * 10f64.powf(BEEP_DBFS / 20.0);
    (0..len)
        .map(|i| {
            let t = f64::from(i) / f64::from(SAMPLE_RATE);
            let edge = f64::from(i.min(len - 1 - i));
            let gain = (edge / fade).min(1.0);
            let v = (2.0 * std::f64::consts::PI * f64::from(BEEP_HZ) * t).sin() * peak * gain;
            v.round() as i16
        })
        .collect()
}

/// Decodes an 8 kHz mono 16-bit PCM WAV; anything else is an error naming `path`.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Vec<i16>, PromptError> {
    let not_wav = |e: hound::Error| PromptError::NotWav {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let reader = hound::WavReader::new(bytes).map_err(not_wav)?;
    let spec = reader.spec();
    let pcm = spec.sample_format == hound::SampleFormat::Int;
    if spec.sample_rate != SAMPLE_RATE || spec.channels != 1 || spec.bits_per_sample != 16 || !pcm {
        return Err(PromptError::Format {
            path: path.to_owned(),
            rate: spec.sample_rate,
            channels: spec.channels,
            bits: spec.bits_per_sample,
            format: if pcm { "PCM" } else { "float" },
        });
    }
    if reader.duration() > MAX_PROMPT_SAMPLES {
        return Err(PromptError::TooLong {
            path: path.to_owned(),
        });
    }
    (reader.into_samples::<i16>())
        .collect::<Result<Vec<i16>, _>>()
        .map_err(not_wav)
}

/// Reads an admin's file, refusing one far past what five minutes of audio take.
fn read_capped(path: &Path) -> Result<Vec<u8>, PromptError> {
    let read = |source| PromptError::Read {
        path: path.to_owned(),
        source,
    };
    let len = std::fs::metadata(path).map_err(read)?.len();
    if len > u64::from(MAX_PROMPT_SAMPLES) * 2 + 64 * 1024 {
        return Err(PromptError::TooLong {
            path: path.to_owned(),
        });
    }
    std::fs::read(path).map_err(read)
}

fn is_wav(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "wav")
}

fn name_of(path: &Path) -> Option<String> {
    Some(path.file_stem()?.to_str()?.to_owned())
}

fn lang_of(path: &Path) -> Option<String> {
    Some(path.parent()?.file_name()?.to_str()?.to_owned())
}

#[cfg(test)]
#[path = "prompts_tests.rs"]
mod tests;
