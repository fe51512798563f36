//! Calls through zentrale with sipp as the phones: an internal call from one registered phone
//! to another user's extension rings the callee's phone, connects them (the SDP passes from
//! phone to phone), and a BYE ends both legs.

use serde_json::json;

use crate::harness::Daemon;
use crate::mwi::free_port;
use crate::sip::{phone_account, print_logs, sipp_command};

/// Bert (extension 101) with a softphone; its SIP account.
fn bert(d: &Daemon) -> (String, String) {
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
    let (s, device) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "softphone", "user": "bert", "sip_password": password})),
    );
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
    let mut keyed = std::process::Command::new("sipp");
    keyed
        .current_dir(caller_dir.path())
        .args(["-key", "callee", "101"])
        .args(uac.get_args());
    let called = keyed.status().expect("sipp");
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
}
