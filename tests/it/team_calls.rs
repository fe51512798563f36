//! A call to a team's extension with sipp as the phones: the member's softphone rings with its
//! *team* FollowMe (its internal class is off, so an internal call to bert himself would not
//! ring it) and answers; the caller is connected.

use serde_json::json;

use crate::harness::Daemon;
use crate::mwi::free_port;
use crate::sip::{phone_account, print_logs, sipp_command, with_key};

/// Bert (101) with a softphone that rings for team calls only; its SIP account.
fn bert_agent(d: &Daemon) -> (String, String) {
    agent(d, "bert", "101", 20)
}

/// User `name` (extension `ext`) with a softphone that rings for team calls only, for
/// `timeout` seconds (0: the team's ring time); its SIP account.
fn agent(d: &Daemon, name: &str, ext: &str, timeout: u32) -> (String, String) {
    let off = json!({"enabled": false, "wait": 0, "timeout": 20});
    let on = json!({"enabled": true, "wait": 0, "timeout": timeout});
    let followme = json!({"internal": off, "external": off, "team": on});
    crate::sip::user_with_softphone(d, (name, ext), followme).0
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

/// Seed: "Läuten Agent … überschreibt den Timeout, der beim Team eingestellt ist". The team
/// rings 3 s; Bert's phone has its own team ring time of 1 s, Carl's none: from the phones'
/// own traces, Bert's CANCEL comes after 1 s and Carl's after 3 s (±0.3 s), then 480.
#[test]
fn an_agents_own_ring_time_overrides_the_teams() {
    let d = Daemon::start();
    let (anna, anna_password) = phone_account(&d);
    let members = [agent(&d, "bert", "101", 1), agent(&d, "carl", "102", 0)];
    let team = json!({"name": "sales", "extension": "600", "members": ["bert", "carl"],
                      "ring_time": 3, "ring_all": true});
    assert_eq!(d.call("POST", "/api/v1/teams", Some(team)).0, 201);
    let phones: Vec<_> = (members.iter())
        .map(|m| crate::sip::phone_on(&d, m, &free_port(), "ring_uas.xml"))
        .collect();
    let called = crate::sip::dial(&d, "call_unanswered_uac.xml", &(anna, anna_password), "600");
    assert!(called, "the caller did not get 480 after the ring times");
    let mut rang = Vec::new();
    for (mut phone, dir) in phones {
        let ok = phone.wait().expect("sipp").success();
        if !ok {
            print_logs(dir.path());
        }
        assert!(ok, "a member's phone did not ring and get its CANCEL");
        let invite = crate::calls::received_at(dir.path(), "INVITE");
        let cancel = crate::calls::received_at(dir.path(), "CANCEL");
        assert_eq!(
            (invite.len(), cancel.len()),
            (1, 1),
            "one INVITE, one CANCEL"
        );
        rang.push(cancel[0] - invite[0]);
    }
    for (rang, want) in rang.iter().zip([1.0, 3.0]) {
        assert!(
            (rang - want).abs() <= 0.3,
            "rang {rang:.2} s, expected {want} s (±0.3 s)"
        );
    }
}
