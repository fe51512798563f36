//! BLF (RFC 4235) with sipp as the phones: a phone with a BLF key on bert's extension
//! subscribes to its dialog state; anna calls bert, his phone rings, he answers, anna hangs up.
//! The watcher hears early, confirmed, terminated in that order, and the API's phone status
//! shows bert ringing, then busy, then neither.

use std::process::{Child, Command};
use std::time::Duration;

use serde_json::json;

use crate::calls::{bert, bert_and_softphone};
use crate::harness::{Daemon, eventually};
use crate::mwi::{free_port, messages};
use crate::sip::{phone_account, print_logs, sipp_command, with_key};

/// `cmd` (from [`sipp_command`]) with `-d millis`: how long its `<pause/>`s last.
fn with_pause(cmd: &Command, millis: &str) -> Command {
    let mut paused = Command::new(cmd.get_program());
    if let Some(dir) = cmd.get_current_dir() {
        paused.current_dir(dir);
    }
    paused.args(["-d", millis]).args(cmd.get_args());
    paused
}

/// Bert's phone status [Telefonstatus] as the API shows it: (ringing, busy).
fn bert_status(d: &Daemon) -> (bool, bool) {
    let (s, user) = d.call("GET", "/api/v1/users/bert", None);
    assert_eq!(s, 200, "{user}");
    let status = &user["phone_status"];
    let flag = |name: &str| status[name].as_bool().expect(name);
    (flag("ringing"), flag("busy"))
}

/// The dialog-info documents of the NOTIFYs in sipp's message trace, in order.
fn documents(trace: &str) -> Vec<String> {
    trace
        .split("<?xml")
        .skip(1)
        .filter_map(|rest| rest.split("</dialog-info>").next())
        .filter(|doc| doc.contains("<dialog-info"))
        .map(str::to_owned)
        .collect()
}

/// Waits until bert's status is `want`; the status seen last when it never is.
fn status_becomes(d: &Daemon, want: (bool, bool)) -> Result<(), (bool, bool)> {
    let mut last = (false, false);
    let seen = eventually(Duration::from_secs(10), || {
        last = bert_status(d);
        (last == want).then_some(())
    });
    seen.ok_or(last)
}

#[test]
fn a_blf_key_sees_the_line_ring_talk_and_end_and_so_does_the_api() {
    let d = Daemon::start();
    let anna = phone_account(&d);
    let phone = bert(&d);
    let watcher = watch_bert(&d, &anna);
    call_bert(&d, &anna, &phone, watcher);
}

#[test]
fn a_blf_key_follows_the_user_to_the_workplace_they_log_in_at() {
    let d = Daemon::start();
    let anna = phone_account(&d);
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang"})),
    );
    assert_eq!(s, 201);
    // Bert has no phone of his own; the desk softphone is the workplace's.
    let desk = bert_and_softphone(&d, json!({"workplace": "empfang"}));
    // Subscribed while bert has no phone at all; then he logs in at the desk.
    let watcher = watch_bert(&d, &anna);
    let (s, body) = d.call(
        "POST",
        "/api/v1/workplaces/empfang/login",
        Some(json!({"username": "bert"})),
    );
    assert_eq!(s, 200, "{body}");
    call_bert(&d, &anna, &desk, watcher);
}

/// Anna's phone (its account, from another port) subscribes to bert's extension; the running
/// watcher once the daemon has the subscription.
fn watch_bert(d: &Daemon, anna: &(String, String)) -> (Child, tempfile::TempDir) {
    let (watcher, dir) = sipp_command(d, "subscribe_dialog.xml", "u1", &anna.0, &anna.1, "0");
    let watcher = with_key(&watcher, "target", "101").spawn().expect("sipp");
    let subscribed = eventually(Duration::from_secs(10), || {
        (d.log().contains("subscribed to the line of 101")).then_some(())
    });
    assert!(subscribed.is_some(), "no subscription:\n{}", d.log());
    assert_eq!(bert_status(d), (false, false), "idle before the call");
    (watcher, dir)
}

/// Anna calls bert, whose phone (its SIP account) rings 1.5 s, answers, and anna hangs up
/// after 1.5 s:
/// the API shows bert ringing, busy, idle, and `watcher` gets early, confirmed, terminated.
fn call_bert(
    d: &Daemon,
    anna: &(String, String),
    (bert, bert_password): &(String, String),
    (mut watcher, watcher_dir): (Child, tempfile::TempDir),
) {
    let port = free_port();
    let (mut register, _dir) = sipp_command(d, "register.xml", "u1", bert, bert_password, &port);
    assert!(
        register.status().expect("sipp").success(),
        "bert registered"
    );
    // Bert's phone rings 1.5 s before he answers; anna talks 1.5 s before she hangs up.
    let (uas, callee_dir) = sipp_command(d, "answer_uas.xml", "u1", bert, bert_password, &port);
    let mut callee = with_pause(&uas, "1500").spawn().expect("sipp");
    let (uac, caller_dir) = sipp_command(d, "call_uac.xml", "u1", &anna.0, &anna.1, "0");
    let mut caller = with_pause(&with_key(&uac, "callee", "101"), "1500")
        .spawn()
        .expect("sipp");

    let ringing = status_becomes(d, (true, false));
    let talking = status_becomes(d, (false, true));
    let called = caller.wait().expect("sipp").success();
    let answered = callee.wait().expect("sipp").success();
    let idle = status_becomes(d, (false, false));
    let watched = watcher.wait().expect("sipp").success();
    if !(called && answered && watched) {
        print_logs(caller_dir.path());
        print_logs(callee_dir.path());
        print_logs(watcher_dir.path());
    }
    assert!(called && answered, "the call did not go through");
    assert_eq!(ringing, Ok(()), "the API never showed bert ringing");
    assert_eq!(talking, Ok(()), "the API never showed bert busy");
    assert_eq!(idle, Ok(()), "the API still shows bert in a call");
    assert!(watched, "the watcher did not get four NOTIFYs");

    let docs = documents(&messages(watcher_dir.path()));
    assert_eq!(docs.len(), 4, "{docs:#?}");
    let states: Vec<Vec<&str>> = docs
        .iter()
        .map(|doc| {
            doc.split("<state>")
                .skip(1)
                .filter_map(|s| s.split("</state>").next())
                .collect()
        })
        .collect();
    assert_eq!(
        states,
        [vec![], vec!["early"], vec!["confirmed"], vec!["terminated"]],
        "{docs:#?}"
    );
    for (version, doc) in docs.iter().enumerate() {
        assert!(doc.contains(&format!("version=\"{version}\"")), "{doc}");
        assert!(doc.contains("state=\"full\""), "{doc}");
        assert!(doc.contains("entity=\"sip:101@"), "{doc}");
    }
    assert!(docs[1].contains("direction=\"recipient\""), "{}", docs[1]);
    assert!(
        docs[1].contains("<identity display=\"Anna\">sip:100@"),
        "who calls bert: {}",
        docs[1]
    );
}
