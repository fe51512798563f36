use crate::config::Config;

#[test]
fn defaults_are_asterisks_sample_values() {
    let c = Config::parse("").expect("defaults").voicemail;
    assert_eq!((c.max_secs, c.min_secs, c.max_silence_secs), (180, 3, 10));
    assert_eq!(c.silence_threshold, 128);
    assert_eq!(c.max_greeting_secs, 60);
    assert_eq!(c.feature_code, "*97");
    assert_eq!(c.max_logins, 3);
    // The lockout is the menu key's, limit for limit.
    assert_eq!(c.lockout(), crate::config::MenuConfig::default());
}

#[test]
fn every_key_is_read() {
    let text = r##"
        [voicemail]
        max_secs = 300
        min_secs = 0
        max_silence_secs = 0
        silence_threshold = 256
        max_greeting_secs = 30
        feature_code = "*98#"
        max_logins = 5
        mailbox_attempts = 4
        mailbox_window_secs = 600
        device_attempts = 20
        device_window_secs = 60
        lockout_secs = 3600
    "##;
    let c = Config::parse(text).expect("valid").voicemail;
    assert_eq!((c.max_secs, c.min_secs, c.max_silence_secs), (300, 0, 0));
    assert_eq!((c.silence_threshold, c.max_greeting_secs), (256, 30));
    assert_eq!((c.feature_code.as_str(), c.max_logins), ("*98#", 5));
    let l = c.lockout();
    assert_eq!((l.extension_attempts, l.extension_window_secs), (4, 600));
    assert_eq!((l.device_attempts, l.device_window_secs), (20, 60));
    assert_eq!(l.lockout_secs, 3600);
}

#[test]
fn every_problem_is_named_with_its_key() {
    let text = r#"
        [voicemail]
        max_secs = 0
        max_greeting_secs = 7200
        max_silence_secs = 5
        silence_threshold = 40000
        feature_code = "*9x"
        max_logins = 0
        mailbox_attempts = 0
        device_attempts = 5000
        mailbox_window_secs = 0
        device_window_secs = 100000
        lockout_secs = "long"
        voicemail_pin = "1234"
    "#;
    let problems = Config::parse(text).expect_err("invalid").problems();
    for key in [
        "max_secs",
        "max_greeting_secs",
        "min_secs",
        "max_silence_secs",
        "silence_threshold",
        "feature_code",
        "max_logins",
        "mailbox_attempts",
        "device_attempts",
        "mailbox_window_secs",
        "device_window_secs",
        "lockout_secs",
        "voicemail_pin",
    ] {
        let key = format!("voicemail.{key}:");
        assert!(
            problems.iter().any(|p| p.starts_with(&key)),
            "{key} missing from {problems:#?}"
        );
    }
    assert_eq!(problems.len(), 13, "{problems:#?}");
}

#[test]
fn a_minimum_at_or_over_the_maximum_is_refused() {
    let problems = Config::parse("[voicemail]\nmax_secs = 10\nmin_secs = 10\n")
        .expect_err("invalid")
        .problems();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("voicemail.min_secs:"),
        "{problems:?}"
    );
}

#[test]
fn a_feature_code_of_letters_or_nothing_is_refused() {
    for code in ["", "voicemail", "*97*97*97*97*97*97"] {
        let text = format!("[voicemail]\nfeature_code = \"{code}\"\n");
        let problems = Config::parse(&text).expect_err("invalid").problems();
        assert!(
            problems[0].starts_with("voicemail.feature_code:"),
            "{code}: {problems:?}"
        );
    }
}
