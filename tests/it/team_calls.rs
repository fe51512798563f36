//! A call to a team's extension with sipp as the phones: the member's softphone rings with its
//! *team* FollowMe (its internal class is off, so an internal call to bert himself would not
//! ring it) and answers; the caller is connected.

use serde_json::json;

use crate::harness::Daemon;
use crate::mwi::free_port;
use crate::sip::{phone_account, print_logs, sipp_command, with_key};

/// Bert (101) with a softphone that rings for team calls only; its SIP account.
fn bert_agent(d: &Daemon) -> (String, String) {
    let body = json!({"username": "bert", "display_name": "Bert", "extension": "101",
                      "auth": "none"});
    assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    let password = "bert-agent-secret";
    let (s, device) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "softphone", "user": "bert", "sip_password": password})),
    );
    assert_eq!(s, 201, "{device}");
    let id = device["id"].as_i64().expect("id");
    let off = json!({"enabled": false, "wait": 0, "timeout": 20});
    let on = json!({"enabled": true, "wait": 0, "timeout": 20});
    let followme = json!({"internal": off, "external": off, "team": on});
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
fn a_team_call_rings_the_member_with_the_team_class_and_connects() {
    let d = Daemon::start();
    let (anna, anna_password) = phone_account(&d);
    let (bert, bert_password) = bert_agent(&d);
    let team = json!({"name": "sales", "extension": "600", "members": ["bert"]});
    assert_eq!(d.call("POST", "/api/v1/teams", Some(team)).0, 201);
    let port = free_port();
    let (mut register, _dir) = sipp_command(&d, "register.xml", "u1", &bert, &bert_password, &port);
    assert!(register.status().expect("sipp").success(), "registered");
    let (mut uas, callee_dir) =
        sipp_command(&d, "answer_uas.xml", "u1", &bert, &bert_password, &port);
    let mut callee = uas.spawn().expect("sipp");
    let (uac, caller_dir) = sipp_command(&d, "call_uac.xml", "u1", &anna, &anna_password, "0");
    let called = with_key(&uac, "callee", "600").status().expect("sipp");
    let answered = callee.wait().expect("sipp");
    if !called.success() || !answered.success() {
        print_logs(caller_dir.path());
        print_logs(callee_dir.path());
        eprintln!("{}", d.log());
    }
    assert!(called.success(), "the caller was not connected to the team");
    assert!(
        answered.success(),
        "the member's phone did not ring, answer and hang up"
    );
    let record = crate::calls::last_call(&d);
    assert_eq!(
        (&record["class"], &record["callee"]),
        (&json!("team"), &json!("600"))
    );
}
