//! Calls through zentrale with sipp as the phones: an internal call from one registered phone
//! to another user's extension rings the callee's phone, connects them (the SDP passes from
//! phone to phone), and a BYE ends both legs.

use serde_json::json;

use crate::harness::Daemon;
use crate::mwi::free_port;
use crate::sip::{ended, phone_account, phone_on, print_logs, sipp_command, with_key};

/// Bert (extension 101) with a softphone; its SIP account.
pub(crate) fn bert(d: &Daemon) -> (String, String) {
    bert_and_softphone(d, json!({"user": "bert"}))
}

/// Bert (extension 101), and a softphone owned by `owner` (`{"user": …}` or
/// `{"workplace": …}`); its SIP account.
pub(crate) fn bert_and_softphone(d: &Daemon, owner: serde_json::Value) -> (String, String) {
    let (s, _) = d.call(
        "POST",
        "/api/v1/users",
        Some(
            json!({"username": "bert", "display_name": "Bert", "extension": "101",
                    "auth": "none"}),
        ),
    );
    assert_eq!(s, 201);
    let password = "bert-softphone-secret";
    let mut device = json!({"kind": "softphone", "sip_password": password});
    let fields = device.as_object_mut().expect("object");
    fields.extend(owner.as_object().expect("owner").clone());
    let (s, device) = d.call("POST", "/api/v1/devices", Some(device));
    assert_eq!(s, 201, "{device}");
    let user = device["sip_username"].as_str().expect("sip_username");
    (user.to_owned(), password.to_owned())
}

#[test]
fn an_internal_call_rings_the_callee_and_connects_both_phones() {
    let d = Daemon::start();
    let (anna, anna_password) = phone_account(&d);
    let (bert, bert_password) = bert(&d);
    let port = free_port();
    let (mut register, dir) = sipp_command(&d, "register.xml", "u1", &bert, &bert_password, &port);
    let registered = register.status().expect("sipp");
    if !registered.success() {
        print_logs(dir.path());
    }
    assert!(registered.success(), "bert's softphone did not register");
    let (mut uas, callee_dir) =
        sipp_command(&d, "answer_uas.xml", "u1", &bert, &bert_password, &port);
    let mut callee = uas.spawn().expect("sipp");

    let (uac, caller_dir) = sipp_command(&d, "call_uac.xml", "u1", &anna, &anna_password, "0");
    let called = with_key(&uac, "callee", "101").status().expect("sipp");
    let answered = callee.wait().expect("sipp");
    if !called.success() || !answered.success() {
        print_logs(caller_dir.path());
        print_logs(callee_dir.path());
        eprintln!("{}", d.log());
    }
    assert!(called.success(), "the caller was not connected");
    assert!(
        answered.success(),
        "the callee did not ring, answer and hang up"
    );
    let record = last_call(&d);
    assert_eq!(record["outcome"], "answered", "{record}");
    assert_eq!(record["class"], "internal", "{record}");
    assert_eq!(
        (
            &record["caller_number"],
            &record["caller_name"],
            &record["callee"]
        ),
        (&json!("100"), &json!("Anna"), &json!("101")),
        "{record}"
    );
    assert!(record["answered_by"].is_i64(), "{record}");
    assert!(record["answered_at"].is_i64(), "{record}");
}

/// The newest call record, once the driver wrote it (calls are recorded as they end).
pub(crate) fn last_call(d: &Daemon) -> serde_json::Value {
    let found = crate::harness::eventually(std::time::Duration::from_secs(10), || {
        let (s, page) = d.call("GET", "/api/v1/calls?limit=1", None);
        assert_eq!(s, 200, "{page}");
        page["calls"].get(0).cloned()
    });
    found.expect("a call record")
}

/// When each message of `method` reached the phone, from sipp's message trace in `dir`.
pub(crate) fn received_at(dir: &std::path::Path, method: &str) -> Vec<f64> {
    let trace = crate::mwi::messages(dir);
    let mut times = Vec::new();
    let mut stamp = None;
    let mut received = false;
    for line in trace.lines() {
        if let Some(rest) = line.strip_prefix("----------------------------------------------- ") {
            stamp = rest.split(' ').nth(1).and_then(seconds);
            received = false;
        } else if line.contains("message received") {
            received = true;
        } else if received && line.starts_with(&format!("{method} ")) {
            times.extend(stamp);
            received = false;
        }
    }
    times
}

/// `hh:mm:ss.micro` in seconds.
fn seconds(clock: &str) -> Option<f64> {
    let mut parts = clock.split(':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let s: f64 = parts.next()?.parse().ok()?;
    Some(h * 3600.0 + m * 60.0 + s)
}

/// A softphone of bert's with `followme`'s internal class; its SIP account.
fn softphone(d: &Daemon, password: &str, wait: u32, timeout: u32) -> (String, String) {
    let (s, device) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "softphone", "user": "bert", "sip_password": password})),
    );
    assert_eq!(s, 201, "{device}");
    let id = device["id"].as_i64().expect("id");
    let ring = |enabled| json!({"enabled": enabled, "wait": wait, "timeout": timeout});
    let followme = json!({"internal": ring(true), "external": ring(true), "team": ring(true)});
    let (s, body) = d.call(
        "PUT",
        &format!("/api/v1/users/bert/devices/{id}"),
        Some(followme),
    );
    assert_eq!(s, 200, "{body}");
    let user = device["sip_username"].as_str().expect("sip_username");
    (user.to_owned(), password.to_owned())
}

#[test]
fn each_phone_rings_after_its_own_wait_and_for_its_own_time() {
    let d = Daemon::start();
    let (anna, anna_password) = phone_account(&d);
    bert(&d);
    // The example: wait 0 / ring 4 s, and wait 2 / ring 3 s.
    let phones = [
        softphone(&d, "first-phone-secret", 0, 4),
        softphone(&d, "second-phone-secret", 2, 3),
    ];
    let mut ringing = Vec::new();
    for (user, password) in &phones {
        let port = free_port();
        let (mut register, dir) = sipp_command(&d, "register.xml", "u1", user, password, &port);
        assert!(register.status().expect("sipp").success(), "registered");
        drop(dir);
        let (mut uas, dir) = sipp_command(&d, "ring_uas.xml", "u1", user, password, &port);
        ringing.push((uas.spawn().expect("sipp"), dir));
    }
    let (uac, caller_dir) = sipp_command(
        &d,
        "call_unanswered_uac.xml",
        "u1",
        &anna,
        &anna_password,
        "0",
    );
    let called = with_key(&uac, "callee", "101").status().expect("sipp");
    let mut times = Vec::new();
    for (mut phone, dir) in ringing {
        let ok = phone.wait().expect("sipp");
        if !ok.success() {
            print_logs(dir.path());
        }
        assert!(ok.success(), "a phone did not ring and get its CANCEL");
        let invite = received_at(dir.path(), "INVITE");
        let cancel = received_at(dir.path(), "CANCEL");
        assert_eq!(
            (invite.len(), cancel.len()),
            (1, 1),
            "one INVITE, one CANCEL"
        );
        times.push((invite[0], cancel[0]));
    }
    if !called.success() {
        print_logs(caller_dir.path());
    }
    assert!(
        called.success(),
        "the caller did not get 480 after both ring times"
    );
    let start = times[0].0;
    let offsets: Vec<(f64, f64)> = times.iter().map(|(i, c)| (i - start, c - start)).collect();
    let expected = [(0.0, 4.0), (2.0, 5.0)];
    for ((invite, cancel), (want_invite, want_cancel)) in offsets.iter().zip(expected) {
        assert!(
            (invite - want_invite).abs() <= 0.3 && (cancel - want_cancel).abs() <= 0.3,
            "INVITE/CANCEL at {offsets:?}, expected {expected:?} (±0.3 s)"
        );
    }
}

/// Bert with one softphone running `phone_scenario`, called by anna with `caller_scenario`;
/// true for each when it ran to its end.
pub(crate) fn call_bert(phone_scenario: &str, caller_scenario: &str) -> (bool, bool, Daemon) {
    let d = Daemon::start();
    let (anna, anna_password) = phone_account(&d);
    let (bert, bert_password) = bert(&d);
    let port = free_port();
    let (mut register, _dir) = sipp_command(&d, "register.xml", "u1", &bert, &bert_password, &port);
    assert!(register.status().expect("sipp").success(), "registered");
    let (mut uas, callee_dir) =
        sipp_command(&d, phone_scenario, "u1", &bert, &bert_password, &port);
    let mut callee = uas.spawn().expect("sipp");
    let (uac, caller_dir) = sipp_command(&d, caller_scenario, "u1", &anna, &anna_password, "0");
    let called = with_key(&uac, "callee", "101")
        .status()
        .expect("sipp")
        .success();
    let answered = callee.wait().expect("sipp").success();
    if !called || !answered {
        print_logs(caller_dir.path());
        print_logs(callee_dir.path());
    }
    (called, answered, d)
}

#[test]
fn a_busy_phone_makes_the_caller_hear_busy() {
    let (called, phone, d) = call_bert("busy_uas.xml", "call_busy_uac.xml");
    assert!(
        phone,
        "the phone did not get the INVITE and the ACK of its 486"
    );
    assert!(called, "the caller did not get 486");
    assert_eq!(last_call(&d)["outcome"], "busy");
}

#[test]
fn a_caller_hanging_up_cancels_the_ringing_phone() {
    let (called, phone, d) = call_bert("ring_uas.xml", "call_cancel_uac.xml");
    assert!(phone, "the ringing phone got no CANCEL with a Reason");
    assert!(called, "the caller's CANCEL was not answered 200 and 487");
    assert_eq!(last_call(&d)["outcome"], "cancelled");
}

/// Bert calls extension 100 with `scenario`; whether it ran to its end.
fn bert_calls_anna(d: &Daemon, bert: &(String, String), scenario: &str) -> bool {
    let (uac, dir) = sipp_command(d, scenario, "u1", &bert.0, &bert.1, "0");
    let ok = with_key(&uac, "callee", "100")
        .status()
        .expect("sipp")
        .success();
    if !ok {
        print_logs(dir.path());
    }
    ok
}

#[test]
fn a_login_at_a_workplace_by_the_menu_key_adds_its_phone_and_a_logout_takes_it_away() {
    let d = Daemon::start();
    // Anna (100) has the Yealink at the workplace "empfang", and a softphone of her own.
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang"})),
    );
    assert_eq!(s, 201);
    let desk = crate::sip::phone_account_at(&d, json!({"workplace": "empfang"}));
    let password = "annas-softphone-secret";
    let (s, own) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "softphone", "user": "anna", "sip_password": password})),
    );
    assert_eq!(s, 201, "{own}");
    let own = (
        own["sip_username"].as_str().expect("user").to_owned(),
        password.to_owned(),
    );
    let bert = bert(&d);
    let handset = crate::phone::Phone::new(crate::sip::YEALINK_AGENT);
    let menu = crate::sip::menu_url(&d, &handset);
    let login = handset.get(&format!("{menu}login/100/submit?pin=4711"));
    assert_eq!(login.status, 200, "{}", login.text());

    // Mixed mode: both ring; the caller hangs up, both get their CANCEL.
    // Each phone keeps its port: a second one would be a second registered contact.
    let (desk_port, own_port) = (free_port(), free_port());
    let at_desk = phone_on(&d, &desk, &desk_port, "ring_uas.xml");
    let at_hand = phone_on(&d, &own, &own_port, "ring_uas.xml");
    assert!(
        bert_calls_anna(&d, &bert, "call_cancel_uac.xml"),
        "the call rang"
    );
    assert!(ended(at_desk), "the workplace phone did not ring for anna");
    assert!(ended(at_hand), "her own phone did not ring");

    // Logged out: her own phone is busy and nothing else rings, so the caller hears busy.
    let main = handset.get(&menu).text();
    assert!(main.contains("logout"), "{main}");
    let logout = handset.get(&format!("{menu}logout"));
    assert_eq!(logout.status, 200, "{}", logout.text());
    let (_, w) = d.call("GET", "/api/v1/workplaces/empfang", None);
    assert_eq!(w["current_user"], serde_json::Value::Null, "{w}");
    let at_hand = phone_on(&d, &own, &own_port, "busy_uas.xml");
    assert!(
        bert_calls_anna(&d, &bert, "call_busy_uac.xml"),
        "the workplace phone still rang for anna after her logout"
    );
    assert!(ended(at_hand), "her own phone did not get the call");
}

#[test]
fn no_call_leaves_without_the_password_and_none_to_an_outside_number_without_a_trunk() {
    let d = Daemon::start();
    let (anna, anna_password) = phone_account(&d);
    let outside = "004930123456";
    for (user, password, scenario) in [
        (anna.as_str(), "a-guessed-password", "call_denied_uac.xml"),
        ("nobody", "guess", "call_denied_uac.xml"),
    ] {
        let (uac, dir) = sipp_command(&d, scenario, "u1", user, password, "0");
        let ok = with_key(&uac, "callee", outside)
            .status()
            .expect("sipp")
            .success();
        if !ok {
            print_logs(dir.path());
        }
        assert!(ok, "{user}: a wrong password must get 401 again");
    }
    let log = d.log();
    assert!(
        log.contains("sip: denied 127.0.0.1 bad-credentials"),
        "{log}"
    );
    assert!(log.contains("sip: denied 127.0.0.1 unknown-user"), "{log}");
    assert!(
        !log.contains(&format!("calls {outside}")),
        "nothing was routed: {log}"
    );
    // With the password, an outside number without a trunk is refused (404), not dialled.
    let (uac, dir) = sipp_command(&d, "call_refused_uac.xml", "u1", &anna, &anna_password, "0");
    let ok = with_key(&uac, "callee", outside)
        .status()
        .expect("sipp")
        .success();
    if !ok {
        print_logs(dir.path());
    }
    assert!(
        ok,
        "an outside number without a trunk must be refused with 404"
    );
}

/// Holds the store's write lock (as a backup or an admin's sqlite3 would) until dropped.
struct WriteLock(std::process::Child);

impl WriteLock {
    fn take(d: &Daemon) -> WriteLock {
        use std::io::BufRead;
        let db = d.dir.path().join("data/zentrale.db");
        let script = "import sqlite3, sys\n\
                      c = sqlite3.connect(sys.argv[1], isolation_level=None)\n\
                      c.execute('BEGIN IMMEDIATE')\n\
                      print('locked', flush=True)\n\
                      sys.stdin.read()\n";
        let mut child = std::process::Command::new("python3")
            .args(["-c", script])
            .arg(&db)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read");
        assert_eq!(line.trim(), "locked", "the store was not locked");
        WriteLock(child)
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        drop(self.0.stdin.take());
        let _ = self.0.wait();
    }
}

#[test]
fn a_locked_store_delays_the_call_record_not_the_call() {
    let d = Daemon::start();
    let (anna, anna_password) = phone_account(&d);
    let bert = bert(&d);
    let port = free_port();
    let callee = phone_on(&d, &bert, &port, "answer_uas.xml");
    let lock = WriteLock::take(&d);
    // The record is written as the call ends: the BYE must be answered (and passed on) while
    // the store waits for its writer, not after (sipp gives up on an unanswered BYE in 5 s;
    // the store waits 10 s for a lock).
    let (uac, caller_dir) = sipp_command(&d, "call_uac.xml", "u1", &anna, &anna_password, "0");
    let called = with_key(&uac, "callee", "101")
        .status()
        .expect("sipp")
        .success();
    if !called {
        print_logs(caller_dir.path());
    }
    assert!(called, "the caller's call did not connect and end");
    assert!(ended(callee), "the callee did not get the BYE");
    let (s, page) = d.call("GET", "/api/v1/calls", None);
    assert_eq!(s, 200, "{page}");
    assert_eq!(page["calls"], json!([]), "recorded despite the lock?");
    drop(lock);
    assert_eq!(
        last_call(&d)["outcome"],
        "answered",
        "written once the lock is gone"
    );
}
