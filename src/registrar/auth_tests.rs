use super::*;

const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

fn nonce(nonces: &Nonces, at: UnixTime) -> String {
    nonces.issue(at)
}

fn later(secs: u64) -> UnixTime {
    NOW.after(std::time::Duration::from_secs(secs))
}

#[test]
fn each_count_of_a_nonce_is_good_once_and_only_upwards() {
    let nonces = Nonces::new(300);
    let mut r = Replays::new(300, 10);
    let n = nonce(&nonces, NOW);
    assert!(r.admit(&n, Some("00000001"), NOW));
    assert!(!r.admit(&n, Some("00000001"), NOW), "the same count again");
    assert!(r.admit(&n, Some("00000003"), NOW), "counts may skip");
    assert!(!r.admit(&n, Some("00000002"), NOW), "but never go back");
    assert!(!r.admit(&n, Some("zz"), NOW), "a count that is no count");
    assert!(!r.admit(&n, Some("00000000"), NOW));
}

#[test]
fn without_qop_a_nonce_is_good_once() {
    let nonces = Nonces::new(300);
    let mut r = Replays::new(300, 10);
    let n = nonce(&nonces, NOW);
    assert!(r.admit(&n, None, NOW));
    assert!(!r.admit(&n, None, NOW));
}

#[test]
fn a_full_table_forgets_the_oldest_and_refuses_what_it_forgot() {
    let nonces = Nonces::new(300);
    let mut r = Replays::new(300, 2);
    let old = nonce(&nonces, NOW);
    let mid = nonce(&nonces, later(1));
    let new = nonce(&nonces, later(2));
    assert!(r.admit(&old, Some("00000001"), later(2)));
    assert!(r.admit(&mid, Some("00000001"), later(2)));
    assert!(r.admit(&new, Some("00000001"), later(2)));
    assert_eq!(r.len(), 2, "bounded");
    // `old` was forgotten: its replay must not pass as a first use.
    assert!(!r.admit(&old, Some("00000001"), later(2)));
    assert!(!r.admit(&old, Some("00000002"), later(2)));
    assert!(r.admit(&mid, Some("00000002"), later(2)));
}

#[test]
fn nonces_past_their_lifetime_leave_the_table() {
    let nonces = Nonces::new(300);
    let mut r = Replays::new(300, 10);
    assert!(r.admit(&nonce(&nonces, NOW), Some("00000001"), NOW));
    assert!(r.admit(&nonce(&nonces, later(301)), Some("00000001"), later(301)));
    assert_eq!(r.len(), 1);
}
