use std::sync::OnceLock;
use std::time::Duration;

use super::*;
use crate::config::VoicemailConfig;

/// The instant `ms` milliseconds into the test (one epoch for the whole test binary).
fn at(ms: u64) -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(crate::clock::now) + Duration::from_millis(ms)
}

/// 20 ms at 8 kHz.
const FRAME: usize = 160;
const LOUD: [i16; FRAME] = [1000; FRAME];
const QUIET: [i16; FRAME] = [20; FRAME];

fn limits() -> Limits {
    Limits::message(&VoicemailConfig::default())
}

fn unavailable() -> Greeting {
    Greeting {
        kind: GreetingKind::Unavailable,
        own: false,
    }
}

fn drain(d: &mut Deposit) -> Vec<Action> {
    std::iter::from_fn(|| d.poll_action()).collect()
}

/// Feeds `secs` seconds of frames starting at `t` ms; returns the time after them.
fn feed(d: &mut Deposit, frame: &[i16], secs: u64, t: u64) -> u64 {
    let frames = secs * 1000 / 20;
    for i in 0..frames {
        d.handle_audio(frame, at(t + i * 20));
    }
    t + frames * 20
}

/// A deposit whose greeting has played and whose recording started at 0 ms.
fn recording(limits: Limits) -> Deposit {
    let mut d = Deposit::new(unavailable(), limits, at(0));
    drain(&mut d);
    d.handle_play_done(at(0));
    assert_eq!(drain(&mut d), [Action::StartRecording]);
    d
}

#[test]
fn greeting_beep_record_until_hash_deposit_goodbye_hangup() {
    let mut d = Deposit::new(unavailable(), limits(), at(0));
    assert_eq!(
        drain(&mut d),
        [Action::Play(vec![
            Sound::Prompt(Prompt::GreetingUnavailable),
            Sound::Beep
        ])]
    );
    assert_eq!(d.poll_timeout(), None, "no timer while the greeting plays");
    d.handle_play_done(at(6000));
    assert_eq!(drain(&mut d), [Action::StartRecording]);
    let t = feed(&mut d, &LOUD, 5, 6000);
    assert!(drain(&mut d).is_empty());
    d.handle_digit('#', at(t));
    assert_eq!(
        drain(&mut d),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::Deposit
        ]
    );
    assert_eq!(d.kept_samples(), 5 * 8000);
    d.handle_deposited(Ok(()), at(t + 50));
    assert_eq!(
        drain(&mut d),
        [Action::Play(vec![Sound::Prompt(Prompt::Goodbye)])]
    );
    assert!(!d.is_done());
    d.handle_play_done(at(t + 2000));
    assert_eq!(drain(&mut d), [Action::Hangup]);
    assert!(d.is_done());
}

#[test]
fn the_users_own_greeting_for_the_reason_plays_first() {
    let own = Greeting {
        kind: GreetingKind::Busy,
        own: true,
    };
    let mut d = Deposit::new(own, limits(), at(0));
    assert_eq!(
        drain(&mut d),
        [Action::Play(vec![
            Sound::Greeting(GreetingKind::Busy),
            Sound::Beep
        ])]
    );
    let shipped = Greeting { own: false, ..own };
    let mut d = Deposit::new(shipped, limits(), at(0));
    assert_eq!(
        drain(&mut d),
        [Action::Play(vec![
            Sound::Prompt(Prompt::GreetingBusy),
            Sound::Beep
        ])]
    );
}

#[test]
fn hash_skips_the_greeting_to_the_beep_and_other_keys_do_not() {
    let mut d = Deposit::new(unavailable(), limits(), at(0));
    drain(&mut d);
    for key in ['1', '0', '*', '9'] {
        d.handle_digit(key, at(500));
        assert!(drain(&mut d).is_empty(), "{key} must not cut the greeting");
    }
    d.handle_digit('#', at(1000));
    assert_eq!(
        drain(&mut d),
        [Action::StopPlaying, Action::Play(vec![Sound::Beep])]
    );
    // A second '#' during the beep changes nothing; the beep's end starts the recording.
    d.handle_digit('#', at(1100));
    assert!(drain(&mut d).is_empty());
    d.handle_play_done(at(2000));
    assert_eq!(drain(&mut d), [Action::StartRecording]);
}

#[test]
fn audio_before_the_beep_is_not_counted() {
    let mut d = Deposit::new(unavailable(), limits(), at(0));
    drain(&mut d);
    feed(&mut d, &LOUD, 5, 0);
    d.handle_play_done(at(5000));
    drain(&mut d);
    let t = feed(&mut d, &LOUD, 2, 5000);
    d.handle_digit('#', at(t));
    assert_eq!(
        drain(&mut d)[1],
        Action::Discard,
        "only the 2 s after the beep count"
    );
}

#[test]
fn ten_seconds_of_silence_end_the_recording_and_all_but_200_ms_of_it_is_cut() {
    let mut d = recording(limits());
    let t = feed(&mut d, &LOUD, 4, 0);
    // 9.98 s of silence: still recording.
    for i in 0..499 {
        d.handle_audio(&QUIET, at(t + i * 20));
    }
    assert!(drain(&mut d).is_empty());
    d.handle_audio(&QUIET, at(t + 499 * 20));
    assert_eq!(
        drain(&mut d),
        [
            Action::StopRecording {
                drop_tail_samples: 10 * 8000 - 1600
            },
            Action::Deposit
        ]
    );
    assert_eq!(d.kept_samples(), 4 * 8000 + 1600);
}

#[test]
fn talking_again_restarts_the_silence_count() {
    let mut d = recording(limits());
    let mut t = 0;
    for _ in 0..3 {
        t = feed(&mut d, &QUIET, 9, t);
        t = feed(&mut d, &LOUD, 1, t);
    }
    assert!(drain(&mut d).is_empty(), "no 10 s of silence in a row");
}

#[test]
fn silence_with_too_little_sound_before_it_is_discarded() {
    // Asterisk warns that maxsilence >= minsecs gives empty messages; with the cut, it cannot.
    let mut d = recording(limits());
    let t = feed(&mut d, &LOUD, 1, 0);
    feed(&mut d, &QUIET, 10, t);
    let actions = drain(&mut d);
    assert_eq!(actions[1], Action::Discard, "{actions:?}");
    assert_eq!(
        actions[2],
        Action::Play(vec![Sound::Prompt(Prompt::TooShort)])
    );
}

#[test]
fn silence_detection_off_records_silence() {
    let c = VoicemailConfig {
        max_silence_secs: 0,
        ..VoicemailConfig::default()
    };
    let mut d = recording(Limits::message(&c));
    feed(&mut d, &QUIET, 60, 0);
    assert!(drain(&mut d).is_empty());
}

#[test]
fn max_secs_ends_the_recording_on_the_clock() {
    let mut d = recording(limits());
    assert_eq!(d.poll_timeout(), Some(at(180_000)));
    // The media stalls after a minute: the clock still ends the recording.
    feed(&mut d, &LOUD, 60, 0);
    d.handle_timeout(at(179_999));
    assert!(drain(&mut d).is_empty(), "a millisecond early");
    d.handle_timeout(at(180_000));
    assert_eq!(
        drain(&mut d),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::Deposit
        ]
    );
    assert_eq!(d.poll_timeout(), None, "waiting for the store has no timer");
}

#[test]
fn max_secs_ends_the_recording_by_samples_and_cuts_what_ran_over() {
    let c = VoicemailConfig {
        max_secs: 4,
        min_secs: 1,
        max_silence_secs: 2,
        ..VoicemailConfig::default()
    };
    let mut d = recording(Limits::message(&c));
    let frame = [1000i16; 300];
    for i in 0..106 {
        d.handle_audio(&frame, at(i * 37));
    }
    assert!(drain(&mut d).is_empty(), "31,800 samples: not yet full");
    d.handle_audio(&frame, at(4000));
    assert_eq!(
        drain(&mut d),
        [
            Action::StopRecording {
                drop_tail_samples: 32_100 - 32_000
            },
            Action::Deposit
        ]
    );
}

#[test]
fn too_short_is_discarded_with_no_mail_and_the_caller_told() {
    let mut d = recording(limits());
    let t = feed(&mut d, &LOUD, 2, 0);
    d.handle_digit('#', at(t));
    assert_eq!(
        drain(&mut d),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::Discard,
            Action::Play(vec![Sound::Prompt(Prompt::TooShort)])
        ]
    );
    d.handle_play_done(at(t + 3000));
    assert_eq!(drain(&mut d), [Action::Hangup]);
}

#[test]
fn a_failed_deposit_says_mailbox_unavailable_and_hangs_up() {
    let mut d = recording(limits());
    let t = feed(&mut d, &LOUD, 5, 0);
    d.handle_digit('#', at(t));
    drain(&mut d);
    d.handle_deposited(Err(()), at(t + 10));
    assert_eq!(
        drain(&mut d),
        [Action::Play(vec![Sound::Prompt(
            Prompt::MailboxUnavailable
        )])]
    );
    d.handle_play_done(at(t + 4000));
    assert_eq!(drain(&mut d), [Action::Hangup]);
}

#[test]
fn hanging_up_while_recording_deposits_without_playing_anything() {
    let mut d = recording(limits());
    let t = feed(&mut d, &LOUD, 5, 0);
    d.handle_hangup(at(t));
    assert_eq!(
        drain(&mut d),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::Deposit
        ]
    );
    assert!(!d.is_done(), "the deposit is still running");
    d.handle_deposited(Ok(()), at(t + 10));
    assert!(drain(&mut d).is_empty());
    assert!(d.is_done());
}

#[test]
fn hanging_up_too_early_discards_without_playing_anything() {
    let mut d = recording(limits());
    let t = feed(&mut d, &LOUD, 1, 0);
    d.handle_hangup(at(t));
    assert_eq!(
        drain(&mut d),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::Discard
        ]
    );
    assert!(d.is_done());
}

#[test]
fn hanging_up_during_the_greeting_records_nothing() {
    let mut d = Deposit::new(unavailable(), limits(), at(0));
    drain(&mut d);
    d.handle_hangup(at(3000));
    d.handle_play_done(at(3001));
    feed(&mut d, &LOUD, 5, 3000);
    assert!(drain(&mut d).is_empty());
    assert!(d.is_done());
}

#[test]
fn the_call_ends_even_if_the_goodbye_never_reports_done() {
    let mut d = recording(limits());
    let t = feed(&mut d, &LOUD, 5, 0);
    d.handle_digit('#', at(t));
    d.handle_deposited(Ok(()), at(t));
    drain(&mut d);
    assert_eq!(d.poll_timeout(), Some(at(t + 30_000)));
    d.handle_timeout(at(t + 30_000));
    assert_eq!(drain(&mut d), [Action::Hangup]);
}

#[test]
fn keys_while_recording_other_than_hash_are_recorded_over() {
    let mut d = recording(limits());
    let t = feed(&mut d, &LOUD, 4, 0);
    for key in ['1', '*', '0'] {
        d.handle_digit(key, at(t));
    }
    assert!(drain(&mut d).is_empty());
}
