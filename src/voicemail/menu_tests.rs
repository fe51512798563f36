use std::sync::OnceLock;
use std::time::Duration;

use super::*;
use crate::config::VoicemailConfig;

/// The instant `ms` milliseconds into the test (one epoch for the whole test binary).
fn at(ms: u64) -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(crate::clock::now) + Duration::from_millis(ms)
}

fn limits() -> MenuLimits {
    MenuLimits::new(&VoicemailConfig::default())
}

fn drain(m: &mut MailboxMenu) -> Vec<Action> {
    std::iter::from_fn(|| m.poll_action()).collect()
}

fn p(prompt: Prompt) -> Sound {
    Sound::Prompt(prompt)
}

fn play(sounds: &[Sound]) -> Action {
    Action::Play(sounds.to_vec())
}

/// Old message 1, new messages 2 and 3, in the order the store lists them.
fn box_of_three() -> Vec<MessageRef> {
    vec![
        MessageRef { id: 1, heard: true },
        MessageRef {
            id: 2,
            heard: false,
        },
        MessageRef {
            id: 3,
            heard: false,
        },
    ]
}

fn keys(m: &mut MailboxMenu, keys: &str, t: u64) {
    for k in keys.chars() {
        m.handle_digit(k, at(t));
    }
}

/// A menu whose owner typed the right PIN; the intro is drained and has played.
fn signed_in(messages: Vec<MessageRef>) -> MailboxMenu {
    let mut m = MailboxMenu::new(messages, limits(), at(0));
    m.handle_play_done(at(3000));
    keys(&mut m, "4711#", 4000);
    drain(&mut m);
    m.handle_pin(true, at(4100));
    drain(&mut m);
    m.handle_play_done(at(20_000));
    m
}

fn the_pin(actions: &[Action]) -> Option<String> {
    actions.iter().find_map(|a| match a {
        Action::CheckPin(pin) => Some(pin.as_str().to_owned()),
        _ => None,
    })
}

#[test]
fn pin_then_counts_then_the_main_menu() {
    let mut m = MailboxMenu::new(box_of_three(), limits(), at(0));
    assert_eq!(drain(&mut m), [play(&[p(Prompt::EnterPin)])]);
    m.handle_play_done(at(3000));
    keys(&mut m, "4711#", 4000);
    assert_eq!(the_pin(&drain(&mut m)).as_deref(), Some("4711"));
    m.handle_pin(true, at(4100));
    assert_eq!(
        drain(&mut m),
        [play(&[
            p(Prompt::YouHave),
            Sound::Number(2),
            p(Prompt::NewMessages),
            p(Prompt::And),
            p(Prompt::CountOne),
            p(Prompt::OldMessage),
            p(Prompt::MainMenu),
        ])]
    );
}

#[test]
fn the_counts_say_none_or_one_in_words() {
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    keys(&mut m, "1#", 0);
    m.handle_pin(true, at(0));
    let actions = drain(&mut m);
    assert_eq!(
        actions.last(),
        Some(&play(&[p(Prompt::NoMessages), p(Prompt::MainMenu)]))
    );
    let mut m = MailboxMenu::new(
        vec![MessageRef {
            id: 9,
            heard: false,
        }],
        limits(),
        at(0),
    );
    keys(&mut m, "1#", 0);
    m.handle_pin(true, at(0));
    assert_eq!(
        drain(&mut m).last(),
        Some(&play(&[
            p(Prompt::YouHave),
            p(Prompt::CountOne),
            p(Prompt::NewMessage),
            p(Prompt::MainMenu),
        ]))
    );
}

#[test]
fn the_pin_never_shows_in_debug_output() {
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    keys(&mut m, "4711#", 0);
    let actions = drain(&mut m);
    assert_eq!(the_pin(&actions).as_deref(), Some("4711"));
    let shown = format!("{actions:?}");
    assert!(!shown.contains("4711"), "{shown}");
}

#[test]
fn typing_during_the_pin_prompt_stops_it_and_star_starts_over() {
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    drain(&mut m);
    keys(&mut m, "99", 500);
    assert_eq!(drain(&mut m), [Action::StopPlaying]);
    keys(&mut m, "*1234#", 600);
    assert_eq!(the_pin(&drain(&mut m)).as_deref(), Some("1234"));
}

#[test]
fn a_pin_typed_past_32_digits_is_cut_there() {
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    keys(&mut m, &"1".repeat(1000), 0);
    keys(&mut m, "#", 0);
    assert_eq!(the_pin(&drain(&mut m)), Some("1".repeat(32)));
}

#[test]
fn the_first_digit_waits_ten_seconds_after_the_prompt_then_it_is_a_failed_try() {
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    drain(&mut m);
    assert_eq!(m.poll_timeout(), None, "no timer while the prompt plays");
    m.handle_play_done(at(3000));
    assert_eq!(m.poll_timeout(), Some(at(13_000)));
    m.handle_timeout(at(12_999));
    assert!(drain(&mut m).is_empty());
    m.handle_timeout(at(13_000));
    assert_eq!(
        drain(&mut m),
        [play(&[p(Prompt::WrongPin), p(Prompt::EnterPin)])],
        "nothing typed: nothing to check, one try gone"
    );
}

#[test]
fn two_seconds_after_the_last_digit_what_was_typed_is_checked() {
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    m.handle_play_done(at(3000));
    keys(&mut m, "12", 4000);
    assert_eq!(m.poll_timeout(), Some(at(6000)));
    m.handle_timeout(at(5999));
    assert!(the_pin(&drain(&mut m)).is_none());
    m.handle_timeout(at(6000));
    assert_eq!(the_pin(&drain(&mut m)).as_deref(), Some("12"));
}

#[test]
fn three_wrong_pins_end_the_call() {
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    drain(&mut m);
    for _ in 0..2 {
        keys(&mut m, "0000#", 0);
        drain(&mut m);
        m.handle_pin(false, at(0));
        assert_eq!(
            drain(&mut m),
            [play(&[p(Prompt::WrongPin), p(Prompt::EnterPin)])]
        );
    }
    keys(&mut m, "0000#", 0);
    drain(&mut m);
    m.handle_pin(false, at(100));
    assert_eq!(
        drain(&mut m),
        [play(&[p(Prompt::WrongPin), p(Prompt::Goodbye)])]
    );
    m.handle_play_done(at(3000));
    assert_eq!(drain(&mut m), [Action::Hangup]);
    assert!(m.is_done());
}

#[test]
fn a_locked_mailbox_says_so_and_hangs_up() {
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    keys(&mut m, "4711#", 0);
    drain(&mut m);
    m.handle_locked(at(0));
    assert_eq!(
        drain(&mut m),
        [play(&[p(Prompt::Locked), p(Prompt::Goodbye)])]
    );
    // Without a play-done report the call still ends after the grace time.
    assert_eq!(m.poll_timeout(), Some(at(30_000)));
    m.handle_timeout(at(30_000));
    assert_eq!(drain(&mut m), [Action::Hangup]);
}

#[test]
fn new_messages_play_first_and_each_played_to_its_end_is_heard() {
    let mut m = signed_in(box_of_three());
    keys(&mut m, "1", 21_000);
    let msg = |n, id| play(&[p(Prompt::Message), Sound::Number(n), Sound::Message(id)]);
    assert_eq!(drain(&mut m), [msg(1, 2)]);
    m.handle_play_done(at(30_000));
    assert_eq!(
        drain(&mut m),
        [Action::MarkHeard(2), play(&[p(Prompt::MessageMenu)])]
    );
    keys(&mut m, "6", 31_000);
    assert_eq!(drain(&mut m), [Action::StopPlaying, msg(2, 3)]);
    keys(&mut m, "4", 32_000);
    assert_eq!(
        drain(&mut m),
        [Action::StopPlaying, msg(1, 2)],
        "3 was cut off: not heard"
    );
    m.handle_play_done(at(40_000));
    assert_eq!(
        drain(&mut m),
        [play(&[p(Prompt::MessageMenu)])],
        "2 was heard already"
    );
    keys(&mut m, "5", 41_000);
    assert_eq!(drain(&mut m), [Action::StopPlaying, msg(1, 2)]);
    keys(&mut m, "66", 42_000);
    assert_eq!(
        drain(&mut m),
        [
            Action::StopPlaying,
            msg(2, 3),
            Action::StopPlaying,
            msg(3, 1)
        ]
    );
    keys(&mut m, "6", 43_000);
    assert_eq!(
        drain(&mut m),
        [
            Action::StopPlaying,
            play(&[p(Prompt::NoMoreMessages), p(Prompt::MessageMenu)])
        ]
    );
}

#[test]
fn delete_removes_the_message_and_plays_the_next() {
    let mut m = signed_in(box_of_three());
    keys(&mut m, "17", 21_000);
    assert_eq!(
        drain(&mut m)[1..],
        [
            Action::StopPlaying,
            Action::Delete(2),
            play(&[
                p(Prompt::MessageDeleted),
                p(Prompt::Message),
                Sound::Number(1),
                Sound::Message(3)
            ])
        ]
    );
    keys(&mut m, "6", 22_000);
    drain(&mut m);
    keys(&mut m, "7", 23_000);
    assert_eq!(
        drain(&mut m),
        [
            Action::StopPlaying,
            Action::Delete(1),
            play(&[
                p(Prompt::MessageDeleted),
                p(Prompt::NoMoreMessages),
                p(Prompt::MessageMenu)
            ])
        ]
    );
    keys(&mut m, "7", 24_000);
    assert_eq!(drain(&mut m)[1], Action::Delete(3));
    keys(&mut m, "1", 25_000);
    assert_eq!(
        drain(&mut m)[1..],
        [play(&[p(Prompt::NoMessages), p(Prompt::MainMenu)])]
    );
}

#[test]
fn save_marks_heard_and_moves_on() {
    let mut m = signed_in(box_of_three());
    keys(&mut m, "19", 21_000);
    assert_eq!(
        drain(&mut m)[1..],
        [
            Action::StopPlaying,
            Action::MarkHeard(2),
            play(&[
                p(Prompt::MessageSaved),
                p(Prompt::Message),
                Sound::Number(2),
                Sound::Message(3)
            ])
        ]
    );
}

#[test]
fn keys_that_asterisk_uses_for_folders_forwarding_or_dial_out_only_replay_the_help() {
    let mut m = signed_in(box_of_three());
    for key in ['2', '3', '8', 'A', 'D'] {
        keys(&mut m, &key.to_string(), 21_000);
        assert_eq!(drain(&mut m), [play(&[p(Prompt::MainMenu)])], "{key}");
        m.handle_play_done(at(22_000));
    }
}

#[test]
fn silence_at_the_menu_repeats_the_help_then_says_goodbye() {
    let mut m = signed_in(box_of_three());
    assert_eq!(m.poll_timeout(), Some(at(26_000)));
    m.handle_timeout(at(26_000));
    assert_eq!(drain(&mut m), [play(&[p(Prompt::MainMenu)])]);
    m.handle_play_done(at(30_000));
    // A key resets the count.
    keys(&mut m, "*", 31_000);
    drain(&mut m);
    let mut t = 31_000;
    for _ in 0..2 {
        m.handle_play_done(at(t));
        m.handle_timeout(at(t + 6000));
        assert_eq!(drain(&mut m), [play(&[p(Prompt::MainMenu)])]);
        t += 10_000;
    }
    m.handle_play_done(at(t));
    m.handle_timeout(at(t + 6000));
    assert_eq!(drain(&mut m), [play(&[p(Prompt::Goodbye)])]);
    m.handle_play_done(at(t + 8000));
    assert_eq!(drain(&mut m), [Action::Hangup]);
}

#[test]
fn pound_says_goodbye() {
    let mut m = signed_in(box_of_three());
    keys(&mut m, "#", 21_000);
    assert_eq!(drain(&mut m), [play(&[p(Prompt::Goodbye)])]);
    m.handle_play_done(at(23_000));
    assert_eq!(drain(&mut m), [Action::Hangup]);
}

/// Options, then record the busy greeting; returns the time recording started.
fn recording_busy_greeting(m: &mut MailboxMenu) -> u64 {
    keys(m, "0", 21_000);
    assert_eq!(drain(m), [play(&[p(Prompt::OptionsMenu)])]);
    keys(m, "2", 22_000);
    assert_eq!(
        drain(m),
        [
            Action::StopPlaying,
            play(&[p(Prompt::RecordGreeting), Sound::Beep])
        ]
    );
    m.handle_play_done(at(27_000));
    assert_eq!(drain(m), [Action::StartRecording]);
    27_000
}

fn talk(m: &mut MailboxMenu, secs: u64, t: u64) -> u64 {
    for i in 0..secs * 50 {
        m.handle_audio(&[3000; 160], at(t + i * 20));
    }
    t + secs * 1000
}

#[test]
fn recording_a_greeting_until_pound_saves_it() {
    let mut m = signed_in(vec![]);
    let t = recording_busy_greeting(&mut m);
    let t = talk(&mut m, 5, t);
    keys(&mut m, "#", t);
    assert_eq!(
        drain(&mut m),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::SaveGreeting(GreetingKind::Busy)
        ]
    );
    m.handle_greeting_saved(Ok(()), at(t + 100));
    assert_eq!(
        drain(&mut m),
        [play(&[p(Prompt::GreetingSaved), p(Prompt::OptionsMenu)])]
    );
    keys(&mut m, "*", t + 200);
    assert_eq!(
        drain(&mut m),
        [Action::StopPlaying, play(&[p(Prompt::MainMenu)])]
    );
}

#[test]
fn a_greeting_not_stored_is_said() {
    let mut m = signed_in(vec![]);
    let t = recording_busy_greeting(&mut m);
    let t = talk(&mut m, 5, t);
    keys(&mut m, "#", t);
    drain(&mut m);
    m.handle_greeting_saved(Err(()), at(t));
    assert_eq!(
        drain(&mut m),
        [play(&[p(Prompt::GreetingNotSaved), p(Prompt::OptionsMenu)])]
    );
}

#[test]
fn a_too_short_greeting_is_discarded() {
    let mut m = signed_in(vec![]);
    let t = recording_busy_greeting(&mut m);
    let t = talk(&mut m, 1, t);
    keys(&mut m, "#", t);
    assert_eq!(
        drain(&mut m),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::DiscardRecording,
            play(&[p(Prompt::TooShort), p(Prompt::OptionsMenu)])
        ]
    );
}

#[test]
fn a_greeting_stops_at_max_greeting_secs() {
    let mut m = signed_in(vec![]);
    let t = recording_busy_greeting(&mut m);
    assert_eq!(m.poll_timeout(), Some(at(t + 60_000)));
    m.handle_timeout(at(t + 59_999));
    assert!(drain(&mut m).is_empty());
    m.handle_timeout(at(t + 60_000));
    assert_eq!(
        drain(&mut m)[1],
        Action::DiscardRecording,
        "no sound came: too short"
    );
}

#[test]
fn hanging_up_while_recording_a_greeting_keeps_nothing() {
    let mut m = signed_in(vec![]);
    let t = recording_busy_greeting(&mut m);
    let t = talk(&mut m, 5, t);
    m.handle_hangup(at(t));
    assert_eq!(
        drain(&mut m),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::DiscardRecording
        ]
    );
    assert!(m.is_done());
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn star_while_recording_a_greeting_cancels_it() {
    let mut m = signed_in(vec![]);
    let t = recording_busy_greeting(&mut m);
    let t = talk(&mut m, 5, t);
    keys(&mut m, "*", t);
    assert_eq!(
        drain(&mut m),
        [
            Action::StopRecording {
                drop_tail_samples: 0
            },
            Action::DiscardRecording,
            play(&[p(Prompt::OptionsMenu)])
        ]
    );
}

#[test]
fn pound_skips_the_greeting_instructions_to_the_beep_and_star_goes_back() {
    let mut m = signed_in(vec![]);
    keys(&mut m, "01", 21_000);
    drain(&mut m);
    keys(&mut m, "#", 22_000);
    assert_eq!(drain(&mut m), [Action::StopPlaying, play(&[Sound::Beep])]);
    m.handle_play_done(at(23_000));
    assert_eq!(drain(&mut m), [Action::StartRecording]);
    let mut m = signed_in(vec![]);
    keys(&mut m, "01*", 21_000);
    assert_eq!(
        drain(&mut m)[3..],
        [Action::StopPlaying, play(&[p(Prompt::OptionsMenu)])]
    );
}

/// What the driver does with `CheckPin`: the mailbox lockout (the menu key's counter with
/// `[voicemail]`'s limits) first, the PIN only if it allows an attempt.
fn answer(
    m: &mut MailboxMenu,
    lockouts: &mut crate::phone_menu::lockout::Lockouts,
    right_pin: &str,
    t: u64,
) {
    let Some(pin) = the_pin(&drain(m)) else {
        return;
    };
    match lockouts.begin("100", 7, at(t)) {
        Err(_) => m.handle_locked(at(t)),
        Ok(attempt) => {
            let right = pin == right_pin;
            lockouts.finish(attempt, right, at(t));
            m.handle_pin(right, at(t));
        }
    }
}

#[test]
fn after_three_wrong_pins_the_next_call_is_locked_out_even_with_the_right_pin() {
    let mut lockouts =
        crate::phone_menu::lockout::Lockouts::new(&VoicemailConfig::default().lockout());
    let mut m = MailboxMenu::new(vec![], limits(), at(0));
    for guess in ["1111", "2222", "3333"] {
        keys(&mut m, &format!("{guess}#"), 1000);
        answer(&mut m, &mut lockouts, "4711", 1000);
    }
    assert!(drain(&mut m).contains(&play(&[p(Prompt::WrongPin), p(Prompt::Goodbye)])));
    let mut again = MailboxMenu::new(vec![], limits(), at(60_000));
    keys(&mut again, "4711#", 61_000);
    answer(&mut again, &mut lockouts, "4711", 61_000);
    assert_eq!(
        drain(&mut again),
        [play(&[p(Prompt::Locked), p(Prompt::Goodbye)])]
    );
    // Fifteen minutes after the third failure the right PIN opens the box.
    let mut later = MailboxMenu::new(vec![], limits(), at(901_000));
    keys(&mut later, "4711#", 901_000);
    answer(&mut later, &mut lockouts, "4711", 901_000);
    assert_eq!(
        drain(&mut later),
        [play(&[p(Prompt::NoMessages), p(Prompt::MainMenu)])]
    );
}
