use std::sync::OnceLock;
use std::time::Duration;

use super::*;

/// The instant `s` seconds into the test (one epoch for the whole test binary).
fn secs(s: u64) -> Instant {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    *EPOCH.get_or_init(crate::clock::now) + Duration::from_secs(s)
}

fn lockouts() -> Lockouts {
    Lockouts::new(&MenuConfig::default())
}

/// Fails one attempt for `ext` from `dev` at `now`, returning the lockouts it started.
fn fail(l: &mut Lockouts, ext: &str, dev: i64, now: u64) -> Vec<Started> {
    let a = l.begin(ext, dev, secs(now)).expect("allowed");
    l.finish(a, false, secs(now))
}

#[test]
fn three_failures_for_one_extension_lock_it_for_fifteen_minutes() {
    let mut l = lockouts();
    assert!(fail(&mut l, "100", 1, 0).is_empty());
    assert!(fail(&mut l, "100", 2, 60).is_empty());
    let started = fail(&mut l, "100", 3, 120);
    assert_eq!(
        started,
        vec![Started {
            subject: Subject::Extension("100".into()),
            secs: 900
        }]
    );
    let refused = l.begin("100", 4, secs(121)).expect_err("locked");
    assert_eq!(refused.subject, Subject::Extension("100".into()));
    // Other extensions from the same phones are not affected.
    assert!(l.begin("101", 4, secs(121)).is_ok());
    assert!(
        l.begin("100", 4, secs(120 + 899)).is_err(),
        "still locked a second before the end"
    );
    assert!(
        l.begin("100", 4, secs(120 + 900)).is_ok(),
        "free when the lockout ends"
    );
}

#[test]
fn failures_older_than_the_window_are_forgotten() {
    let mut l = lockouts();
    fail(&mut l, "100", 1, 0);
    fail(&mut l, "100", 1, 100);
    assert!(
        fail(&mut l, "100", 1, 300).is_empty(),
        "the one at 0 left the 5-minute window"
    );
    assert_eq!(
        fail(&mut l, "100", 1, 301).len(),
        1,
        "100, 300 and 301 are three in the window"
    );
}

#[test]
fn ten_failures_from_one_phone_lock_the_phone() {
    let mut l = lockouts();
    let mut started = Vec::new();
    for i in 0..10 {
        started.extend(fail(&mut l, &format!("2{i:02}"), 7, i));
    }
    assert_eq!(
        started,
        vec![Started {
            subject: Subject::Device(7),
            secs: 900
        }]
    );
    let refused = l.begin("300", 7, secs(11)).expect_err("phone locked");
    assert_eq!(refused.subject, Subject::Device(7));
    assert!(l.begin("300", 8, secs(11)).is_ok(), "another phone may try");
}

#[test]
fn a_right_pin_during_lockout_is_not_even_tried() {
    let mut l = lockouts();
    for t in 0..3 {
        fail(&mut l, "100", 1, t);
    }
    // The caller never gets an Attempt, so it cannot verify the PIN.
    assert!(l.begin("100", 2, secs(10)).is_err());
}

#[test]
fn success_forgives_the_extension_and_does_not_count_against_the_phone() {
    let mut l = lockouts();
    fail(&mut l, "100", 1, 0);
    fail(&mut l, "100", 1, 1);
    let a = l.begin("100", 1, secs(2)).expect("third try allowed");
    assert!(l.finish(a, true, secs(2)).is_empty());
    fail(&mut l, "100", 1, 3);
    fail(&mut l, "100", 1, 4);
    assert!(
        l.begin("100", 1, secs(5)).is_ok(),
        "counting starts over after a success"
    );
}

#[test]
fn concurrent_reservations_never_exceed_the_limit() {
    let mut l = lockouts();
    let mut held = Vec::new();
    let mut refused = 0;
    for i in 0..10_000 {
        match l.begin(&format!("{}", 1000 + i), 9, secs(0)) {
            Ok(a) => held.push(a),
            Err(_) => refused += 1,
        }
    }
    assert_eq!(held.len(), 10, "only the allowed attempts may be evaluated");
    assert_eq!(refused, 9_990);
    let started: Vec<_> = held
        .into_iter()
        .flat_map(|a| l.finish(a, false, secs(1)))
        .collect();
    assert_eq!(
        started,
        vec![Started {
            subject: Subject::Device(9),
            secs: 900
        }]
    );
}

#[test]
fn the_admin_lists_and_clears_lockouts() {
    let mut l = lockouts();
    for t in 0..3 {
        fail(&mut l, "100", t as i64, t);
    }
    let list = l.list(secs(3));
    assert_eq!(list.len(), 1);
    assert_eq!(
        (list[0].kind.as_str(), list[0].key.as_str()),
        ("extension", "100")
    );
    assert_eq!(list[0].remaining_secs, 899);
    assert!(l.clear(&Subject::Extension("100".into())));
    assert!(l.list(secs(3)).is_empty());
    assert!(l.begin("100", 5, secs(4)).is_ok());
    assert!(!l.clear(&Subject::Device(42)));
    assert_eq!(Subject::parse("device", "42"), Some(Subject::Device(42)));
    assert_eq!(Subject::parse("device", "x"), None);
    assert_eq!(Subject::parse("mac", "1"), None);
}
