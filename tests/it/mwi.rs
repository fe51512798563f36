//! MWI (RFC 3842) with sipp as the phone: a phone that subscribes to its mailbox gets the
//! counts at once and again when they change; a registered phone that never subscribed gets
//! them unsolicited. The counts are set in the store by another process, as the voicemail
//! service will set them.

use std::time::Duration;

use crate::harness::{Daemon, eventually};
use crate::sip::{
    ended, phone_account, phone_account_at, phone_on, print_logs, sipp_command, with_key,
};

/// Sets `username`'s mailbox counts in the daemon's store from this (other) process.
fn set_counts(d: &Daemon, username: &str, new: u32, old: u32) {
    let db = d.dir.path().join("data/zentrale.db");
    let url = format!("sqlite://{}", db.display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.expect("db");
        sqlx::query(
            "INSERT INTO mailbox_counts (user_id, new_messages, old_messages)
             SELECT id, $2, $3 FROM users WHERE username = $1
             ON CONFLICT (user_id) DO UPDATE SET new_messages = excluded.new_messages,
                                                 old_messages = excluded.old_messages",
        )
        .bind(username)
        .bind(new)
        .bind(old)
        .execute(&pool)
        .await
        .expect("counts");
    });
}

/// A free local UDP port: bound, read back, released.
pub(crate) fn free_port() -> String {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port()
        .to_string()
}

#[test]
fn a_subscribed_phone_hears_its_mailbox_at_once_and_after_each_change() {
    let d = Daemon::start();
    let (user, password) = phone_account(&d);
    let (mut cmd, dir) = sipp_command(&d, "subscribe_mwi.xml", "u1", &user, &password, "0");
    let mut phone = cmd.spawn().expect("sipp");
    let subscribed = eventually(Duration::from_secs(10), || {
        d.log()
            .contains("subscribed to the mailbox at")
            .then_some(())
    });
    if subscribed.is_none() {
        let _ = phone.kill();
        let _ = phone.wait();
        print_logs(dir.path());
    }
    assert!(subscribed.is_some(), "no subscription:\n{}", d.log());
    set_counts(&d, "anna", 2, 1);
    let status = phone.wait().expect("sipp ends");
    if !status.success() {
        print_logs(dir.path());
    }
    assert!(status.success(), "the phone did not get both NOTIFYs");
}

#[test]
fn a_registered_phone_that_never_subscribed_gets_the_counts_unsolicited() {
    let d = Daemon::start();
    let account = phone_account(&d);
    let phone = phone_on(&d, &account, &free_port(), "mwi_uas.xml");
    set_counts(&d, "anna", 3, 0);
    // Retransmitted (Timer E) until the UAS answers, so it may start listening late.
    assert!(ended(phone), "the phone got no MWI NOTIFY");
}

#[test]
fn a_workplace_phone_shows_the_box_of_whoever_logs_in() {
    let d = Daemon::start();
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces",
        Some(serde_json::json!({"name": "empfang"})),
    );
    assert_eq!(s, 201);
    let account = phone_account_at(&d, serde_json::json!({"workplace": "empfang"}));
    set_counts(&d, "anna", 3, 0);
    let phone = phone_on(&d, &account, &free_port(), "mwi_uas.xml");
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces/empfang/login",
        Some(serde_json::json!({"username": "anna"})),
    );
    assert_eq!(s, 200);
    assert!(ended(phone), "the phone did not show anna's box");
}

#[test]
fn a_subscription_to_someone_else_s_mailbox_is_refused_and_unknown_ones_only_after_auth() {
    let d = Daemon::start();
    let (user, password) = phone_account(&d);
    let (s, _) = d.call(
        "POST",
        "/api/v1/users",
        Some(
            serde_json::json!({"username": "bert", "display_name": "Bert",
                                "extension": "101", "auth": "none"}),
        ),
    );
    assert_eq!(s, 201);
    for (target, status) in [("101", "403"), ("999", "404")] {
        let (cmd, dir) = sipp_command(&d, "subscribe_refused.xml", "u1", &user, &password, "0");
        // sipp reads no option after the target address: the keys go first.
        let ok = with_key(&cmd, "target", target).status().expect("sipp");
        if !ok.success() {
            print_logs(dir.path());
        }
        assert!(ok.success(), "{target}: refused after the challenge");
        let trace = messages(dir.path());
        let statuses: Vec<&str> = trace
            .lines()
            .filter_map(|l| l.strip_prefix("SIP/2.0 "))
            .collect();
        assert_eq!(statuses.len(), 2, "{trace}");
        assert!(statuses[0].starts_with("401 "), "{trace}");
        assert!(statuses[1].starts_with(status), "{target}: {trace}");
    }
}

/// sipp's message trace in `dir`.
pub(crate) fn messages(dir: &std::path::Path) -> String {
    std::fs::read_dir(dir)
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with("_messages.log"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect()
}
