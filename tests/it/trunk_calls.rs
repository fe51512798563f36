//! Trunks on the wire, with sipp as the provider on 127.0.0.2 (the phones are on 127.0.0.1, so
//! the trunk is known by its own source address): zentrale registers and answers the
//! provider's Digest challenge, takes a number out through the trunk with the user's DID and
//! the trunk's credentials (407), and a call in for a DID rings with the external FollowMe.
//! Nothing from the trunk, and nothing unauthenticated, reaches a number outside.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::json;

use crate::calls::last_call;
use crate::harness::Daemon;
use crate::mwi::free_port;
use crate::sip::{dial, ended, phone_account, phone_on, print_logs};

const PROVIDER_IP: &str = "127.0.0.2";

/// A free UDP port on the provider's address.
pub(crate) fn provider_port() -> String {
    std::net::UdpSocket::bind((PROVIDER_IP, 0))
        .and_then(|s| s.local_addr())
        .expect("a free port on 127.0.0.2")
        .port()
        .to_string()
}

/// sipp as the provider: `scenario` on 127.0.0.2:`port` over UDP, towards `target` when it
/// calls.
pub(crate) fn provider(
    scenario: &str,
    port: &str,
    keys: &[(&str, &str)],
    target: Option<String>,
) -> (Child, tempfile::TempDir) {
    provider_over("u1", scenario, port, keys, target)
}

/// [`provider`] over sipp's `transport` (`u1`, `t1`).
fn provider_over(
    transport: &str,
    scenario: &str,
    port: &str,
    keys: &[(&str, &str)],
    target: Option<String>,
) -> (Child, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(scenario);
    let mut cmd = Command::new("sipp");
    cmd.current_dir(dir.path()).arg("-sf").arg(&file);
    for (k, v) in keys {
        cmd.args(["-key", k, v]);
    }
    cmd.args(["-i", PROVIDER_IP, "-p", port, "-t", transport, "-m", "1"])
        .args(["-timeout", "30s", "-recv_timeout", "8000", "-nostdin"])
        .args(["-trace_err", "-trace_msg"])
        .args(target)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    (cmd.spawn().expect("sipp"), dir)
}

/// The daemon with one trunk at the provider's `port`, `extra` keys added to it.
pub(crate) fn daemon(port: &str, extra: &str) -> Daemon {
    Daemon::start_with_config(&format!(
        "\n[[sip.trunks]]\nname = \"carrier\"\naddress = \"{PROVIDER_IP}:{port}\"\n\
         username = \"0301234567\"\npassword = \"Trunk-Pass-1\"\n\
         dids = {{ \"+49301110\" = \"100\", \"+49301101\" = \"101\" }}\nprefixes = [\"0\"]\n{extra}\n"
    ))
}

#[test]
fn zentrale_registers_at_the_trunk_answering_its_challenge_and_refreshes_in_time() {
    let port = provider_port();
    let registrar = provider("provider_register_uas.xml", &port, &[], None);
    let d = daemon(&port, "register = true");
    let ok = ended(registrar);
    if !ok {
        eprintln!("{}", d.log());
    }
    assert!(
        ok,
        "the provider did not see a correct registration and refresh"
    );
    let log = d.log();
    assert!(
        log.contains("sip: trunk carrier registered for 2 s"),
        "{log}"
    );
    assert!(!log.contains("Trunk-Pass-1"), "{log}");
    // The admin sees it registered for the 3600 s the refresh got (once zentrale read that
    // last 200, which sipp sent just before it ended), and no credentials.
    let refreshed = crate::harness::eventually(std::time::Duration::from_secs(10), || {
        let (s, trunks) = d.call("GET", "/api/v1/trunks", None);
        assert_eq!(s, 200, "{trunks}");
        let left = trunks[0]["expires_at"].as_i64().unwrap_or(0) - now_unix();
        (left > 3000).then_some(trunks)
    });
    let trunks = refreshed.expect("the trunk shown registered for an hour");
    let t = &trunks[0];
    let state = (
        &t["name"],
        &t["registered"],
        &t["last_status"],
        &t["transport"],
    );
    assert_eq!(
        state,
        (&json!("carrier"), &json!(true), &json!(200), &json!("udp")),
        "{t}"
    );
    assert_eq!(
        t["resolved"],
        json!([format!("{PROVIDER_IP}:{port}")]),
        "{t}"
    );
    let text = trunks.to_string();
    assert!(
        !text.contains("Trunk-Pass-1") && !text.contains("0301234567"),
        "{text}"
    );
}

#[test]
fn a_tcp_trunk_is_dialled_and_registered_over_its_connection() {
    let port = std::net::TcpListener::bind((PROVIDER_IP, 0))
        .and_then(|l| l.local_addr())
        .expect("a free TCP port on 127.0.0.2")
        .port()
        .to_string();
    let registrar = provider_over("t1", "provider_register_uas.xml", &port, &[], None);
    let d = daemon(&port, "register = true\ntransport = \"tcp\"");
    let ok = ended(registrar);
    if !ok {
        eprintln!("{}", d.log());
    }
    assert!(
        ok,
        "the provider did not see a registration and refresh over TCP"
    );
    let log = d.log();
    assert!(
        log.contains("sip: connected to trunk host 127.0.0.2"),
        "{log}"
    );
    assert!(
        log.contains("sip: trunk carrier registered for 2 s"),
        "{log}"
    );
}

#[test]
fn a_dialled_number_goes_out_with_the_users_did_and_the_trunks_credentials() {
    let port = provider_port();
    let far_end = provider("provider_call_uas.xml", &port, &[], None);
    let d = daemon(&port, "register = false");
    let (anna, anna_password) = phone_account(&d);
    let called = dial(&d, "call_uac.xml", &(anna, anna_password), "0301234");
    assert!(called, "the caller was not connected to the outside number");
    assert!(
        ended(far_end),
        "the provider did not get the call as it should"
    );
    let record = last_call(&d);
    assert_eq!(
        (&record["class"], &record["outcome"]),
        (&json!("external"), &json!("answered")),
        "{record}"
    );
    assert_eq!(record["callee"], "0301234", "{record}");
}

/// The provider's message trace once it ran its scenario to the end (its logs printed and
/// the test failed if not).
pub(crate) fn provider_trace(provider: (Child, tempfile::TempDir)) -> String {
    let (mut child, dir) = provider;
    let ok = child.wait().expect("sipp").success();
    if !ok {
        print_logs(dir.path());
    }
    assert!(ok, "the provider did not get the call as it should");
    crate::mwi::messages(dir.path())
}

#[test]
fn a_mobile_device_rings_through_the_trunk_with_its_number() {
    let port = provider_port();
    let far_end = provider("provider_call_uas.xml", &port, &[], None);
    let d = daemon(&port, "register = false");
    let (anna, anna_password) = phone_account(&d);
    let body =
        json!({"username": "bert", "display_name": "Bert", "extension": "101", "auth": "none"});
    assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    let (s, mobile) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "mobile", "number": "01701234567", "user": "bert"})),
    );
    assert_eq!(s, 201, "{mobile}");
    let id = mobile["id"].as_i64().expect("id");
    let ring = json!({"enabled": true, "wait": 0, "timeout": 10});
    let followme = json!({"internal": ring, "external": ring, "team": ring});
    let path = format!("/api/v1/users/bert/devices/{id}");
    assert_eq!(d.call("PUT", &path, Some(followme)).0, 200);
    let called = dial(&d, "call_uac.xml", &(anna, anna_password), "101");
    assert!(called, "Anna was not connected to Bert's mobile");
    let trace = provider_trace(far_end);
    assert!(
        trace.contains("INVITE sip:01701234567@127.0.0.2:"),
        "{trace}"
    );
    let record = last_call(&d);
    assert_eq!(
        (&record["answered_by"], &record["class"]),
        (&json!(id), &json!("internal")),
        "{record}"
    );
}

fn now_unix() -> i64 {
    let since = std::time::SystemTime::UNIX_EPOCH.elapsed().expect("clock");
    i64::try_from(since.as_secs()).expect("secs")
}

/// A softphone of bert's (extension 101) ringing for the `internal` or the `external` class
/// only; its SIP account and device id.
fn softphone(d: &Daemon, password: &str, internal: bool) -> ((String, String), i64) {
    let ring = |enabled| json!({"enabled": enabled, "wait": 0, "timeout": 10});
    let followme =
        json!({"internal": ring(internal), "external": ring(!internal), "team": ring(false)});
    let (s, device) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "softphone", "user": "bert", "sip_password": password})),
    );
    assert_eq!(s, 201, "{device}");
    let id = device["id"].as_i64().expect("id");
    let path = format!("/api/v1/users/bert/devices/{id}");
    assert_eq!(d.call("PUT", &path, Some(followme)).0, 200);
    let user = device["sip_username"]
        .as_str()
        .expect("sip_username")
        .to_owned();
    ((user, password.to_owned()), id)
}

#[test]
fn the_same_user_called_from_inside_and_from_outside_rings_each_classes_phone() {
    let port = provider_port();
    let d = daemon(&port, "register = false");
    let (anna, anna_password) = phone_account(&d);
    let body =
        json!({"username": "bert", "display_name": "Bert", "extension": "101", "auth": "none"});
    assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    let (inside, inside_id) = softphone(&d, "inside-phone-secret", true);
    let (outside, outside_id) = softphone(&d, "outside-phone-secret", false);
    // Both phones wait for one call each; a phone rung for the wrong class fails its check of
    // who calls (Anna inside, the provider's caller outside).
    let inside_phone = phone_on(&d, &inside, &free_port(), "answer_uas.xml");
    let outside_phone = phone_on(&d, &outside, &free_port(), "answer_outside_uas.xml");

    let called = dial(&d, "call_uac.xml", &(anna, anna_password), "101");
    assert!(called, "the internal call did not connect");
    assert_eq!(last_call(&d)["answered_by"], inside_id);

    let target = d.addr("SIP/UDP").to_string();
    let incoming = provider(
        "provider_call_uac.xml",
        &port,
        &[("did", "+49301101")],
        Some(target),
    );
    assert!(ended(incoming), "the call from outside did not connect");
    assert!(
        ended(inside_phone),
        "the inside phone was rung for the wrong call"
    );
    assert!(
        ended(outside_phone),
        "the outside phone was rung for the wrong call"
    );
    let record = eventually_record(&d, "external");
    assert_eq!(
        (
            &record["answered_by"],
            &record["caller_number"],
            &record["callee"]
        ),
        (&json!(outside_id), &json!("+4989555"), &json!("+49301101")),
        "{record}"
    );
    assert_eq!(record["caller_name"], "Somebody Outside", "{record}");
}

/// The newest call record of `class`, once written.
fn eventually_record(d: &Daemon, class: &str) -> serde_json::Value {
    crate::harness::eventually(std::time::Duration::from_secs(10), || {
        let record = last_call(d);
        (record["class"] == class).then_some(record)
    })
    .unwrap_or_else(|| panic!("no {class} call record: {}", last_call(d)))
}

#[test]
fn neither_the_trunk_nor_a_stranger_reaches_an_outside_number() {
    let port = provider_port();
    let d = daemon(&port, "register = false");
    phone_account(&d);
    // From the trunk's own address to an outside number and to a bare extension: 404, and no
    // INVITE leaves towards the trunk (the provider's socket would be the one to get it).
    let target = d.addr("SIP/UDP").to_string();
    for did in ["0301234", "100"] {
        let (mut child, dir) = provider(
            "provider_refused_uac.xml",
            &port,
            &[("callee", did)],
            Some(target.clone()),
        );
        let ok = child.wait().expect("sipp").success();
        if !ok {
            print_logs(dir.path());
        }
        assert!(
            ok,
            "a call from the trunk to {did} was not refused with 404"
        );
    }
    // A stranger without credentials: challenged, never routed.
    let stranger = ("nobody".to_owned(), "guess".to_owned());
    let refused = dial(&d, "call_denied_uac.xml", &stranger, "0301234");
    assert!(refused, "a stranger's call was not refused");
    let log = d.log();
    assert!(!log.contains("goes out through trunk"), "{log}");
}

#[test]
fn a_phone_nobody_is_logged_in_at_calls_the_emergency_number_through_the_trunk() {
    let port = provider_port();
    let far_end = provider("provider_emergency_uas.xml", &port, &[], None);
    let d = daemon(&port, "register = false\ncaller_id = \"+4930999000\"");
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang"})),
    );
    assert_eq!(s, 201);
    let (desk, password) = crate::sip::phone_account_at(&d, json!({"workplace": "empfang"}));
    // Nobody is logged in at the desk: 112 still goes out, with the trunk's number.
    let called = dial(&d, "call_uac.xml", &(desk, password), "112");
    assert!(called, "the emergency call was not connected");
    assert!(
        ended(far_end),
        "the provider did not get 112 with the trunk's number"
    );
}

/// A speed dial that stands for an outside number dials it through the trunk.
#[test]
fn a_speed_dial_to_an_outside_number_goes_out_through_the_trunk() {
    let port = provider_port();
    let far_end = provider("provider_call_uas.xml", &port, &[], None);
    let d = daemon(&port, "register = false");
    let (anna, anna_password) = phone_account(&d);
    let speed = json!({"name": "Lieferant", "number": "0309876"});
    let (s, body) = d.call("PUT", "/api/v1/speed-dials/801", Some(speed));
    assert!(s == 200 || s == 201, "{s} {body}");
    let called = dial(&d, "call_uac.xml", &(anna, anna_password), "801");
    assert!(called, "the speed dial was not connected");
    let trace = provider_trace(far_end);
    assert!(trace.contains("INVITE sip:0309876@127.0.0.2:"), "{trace}");
}
