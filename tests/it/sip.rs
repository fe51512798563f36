//! SIP with sipp as the phone: it registers with the account a real phone reads from its
//! provisioning file, over UDP and TCP, and pings with OPTIONS; wrong passwords are refused and
//! logged for fail2ban; bindings survive a kill -9.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::harness::{Daemon, eventually};
use crate::phone::Phone;

/// The user agent of the Yealink phone the tests provision.
pub(crate) const YEALINK_AGENT: &str = "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc";

/// The menu key's URL in device 1's config (fetched in a re-opened enrollment window).
pub(crate) fn menu_url(d: &Daemon, phone: &Phone) -> String {
    let (s, _) = d.call("POST", "/api/v1/devices/1/enroll", None);
    assert_eq!(s, 200);
    let text = phone.get(&d.url("/prov/001565aabbcc.cfg")).text();
    let at = text.find("/menu/").expect("the config binds the menu key");
    let token: String = text[at + 6..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    d.url(&format!("/menu/{token}/"))
}

/// The SIP account of a Yealink phone assigned to a new user, read from the device file the
/// phone fetches in its enrollment window.
pub(crate) fn phone_account(d: &Daemon) -> (String, String) {
    phone_account_at(d, json!({"user": "anna"}))
}

/// Like [`phone_account`], with the phone owned by `owner` (`{"user": …}` or `{"workplace": …}`).
pub(crate) fn phone_account_at(d: &Daemon, owner: serde_json::Value) -> (String, String) {
    let anna = json!({"username": "anna", "display_name": "Anna", "extension": "100",
                      "auth": "none", "pin": "4711"});
    phone_account_of(d, anna, owner)
}

/// Like [`phone_account_at`] for the user `user` (quick-create fields) instead of the plain
/// anna.
pub(crate) fn phone_account_of(
    d: &Daemon,
    user: serde_json::Value,
    owner: serde_json::Value,
) -> (String, String) {
    let (s, body) = d.call("POST", "/api/v1/users", Some(user));
    assert_eq!(s, 201, "{body}");
    let mut device = json!({"kind": "ip-phone", "mac": "00:15:65:AA:BB:CC", "vendor": "yealink",
                            "model": "T54W"});
    let fields = device.as_object_mut().expect("object");
    fields.extend(owner.as_object().expect("owner").clone());
    let (s, _) = d.call("POST", "/api/v1/devices", Some(device));
    assert_eq!(s, 201);
    let file = Phone::new(YEALINK_AGENT)
        .get(&d.url("/prov/001565aabbcc.cfg"))
        .text();
    let value = |key: &str| {
        file.lines()
            .find_map(|l| l.strip_prefix(key)?.trim_start().strip_prefix('='))
            .map(|v| v.trim().to_owned())
            .unwrap_or_else(|| panic!("{key} not in the device file:\n{file}"))
    };
    (value("account.1.user_name"), value("account.1.password"))
}

/// Runs sipp with `scenario` from tests/sipp against the daemon's SIP address; true when every
/// call of the scenario succeeded (its message trace is printed when not).
pub(crate) fn sipp(
    d: &Daemon,
    scenario: &str,
    transport: &str,
    user: &str,
    password: &str,
) -> bool {
    let (mut cmd, dir) = sipp_command(d, scenario, transport, user, password, "0");
    let status = cmd
        .status()
        .expect("sipp must be installed (scripts/setup-debian.sh installs sip-tester)");
    if !status.success() {
        print_logs(dir.path());
    }
    status.success()
}

/// The sipp command for `scenario` from local port `port` ("0": any), and the directory it
/// runs in (its logs go there). sipp reads no option after the target address.
pub(crate) fn sipp_command(
    d: &Daemon,
    scenario: &str,
    transport: &str,
    user: &str,
    password: &str,
    port: &str,
) -> (Command, tempfile::TempDir) {
    let proto = if transport == "t1" {
        "SIP/TCP"
    } else {
        "SIP/UDP"
    };
    let target = d.addr(proto);
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("users.csv");
    std::fs::write(&csv, format!("SEQUENTIAL\n{user};\n")).expect("csv");
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(scenario);
    let mut cmd = Command::new("sipp");
    cmd.current_dir(dir.path())
        .arg("-sf")
        .arg(&file)
        .arg("-inf")
        .arg(&csv)
        .args(["-au", user, "-ap", password, "-t", transport, "-m", "1"])
        .args([
            "-i",
            "127.0.0.1",
            "-timeout",
            "30s",
            "-recv_timeout",
            "5000",
            "-nostdin",
        ])
        .args(["-trace_err", "-trace_msg", "-p", &local_port(port)])
        .arg(target.to_string())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    (cmd, dir)
}

pub(crate) fn print_logs(dir: &Path) {
    for entry in std::fs::read_dir(dir).expect("dir").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".log") {
            let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
            eprintln!("--- {name}\n{text}");
        }
    }
}

/// `port`, or for "0" a free one: sipp's own choice for 0 is 5060, which tests running at
/// the same time would share.
fn local_port(port: &str) -> String {
    match port {
        "0" => crate::mwi::free_port(),
        given => given.to_owned(),
    }
}

/// Whether the API shows anna reachable (a phone of her ring set is registered).
fn reachable(d: &Daemon) -> bool {
    let (s, user) = d.call("GET", "/api/v1/users/anna", None);
    assert_eq!(s, 200);
    user["phone_status"]["reachable"]
        .as_bool()
        .expect("reachable")
}

/// The phone status [Telefonstatus] of device 1 as the API shows it.
pub(crate) fn sip_status(d: &Daemon) -> serde_json::Value {
    let (s, dev) = d.call("GET", "/api/v1/devices/1", None);
    assert_eq!(s, 200);
    dev["sip"].clone()
}

#[test]
fn a_phone_registers_over_udp_and_tcp_with_the_account_from_its_provisioning_file() {
    let d = Daemon::start();
    let (user, password) = phone_account(&d);
    assert_eq!(sip_status(&d)["registered"], false);
    assert!(!reachable(&d));
    assert!(sipp(&d, "register.xml", "u1", &user, &password), "UDP");
    assert!(reachable(&d), "anna's phone is registered");
    assert!(sipp(&d, "register.xml", "t1", &user, &password), "TCP");
    let status = sip_status(&d);
    assert_eq!(status["registered"], true, "{status}");
    let mut transports: Vec<&str> = status["registrations"]
        .as_array()
        .expect("registrations")
        .iter()
        .map(|r| r["transport"].as_str().expect("transport"))
        .collect();
    transports.sort_unstable();
    assert_eq!(transports, ["tcp", "udp"], "{status}");
    assert_eq!(status["registrations"][0]["user_agent"], "sipp as a phone");
    assert!(
        sipp(&d, "query.xml", "u1", &user, &password),
        "bindings listed"
    );
    assert!(
        sipp(&d, "unregister.xml", "u1", &user, &password),
        "all removed"
    );
    assert_eq!(sip_status(&d)["registered"], false);
    assert!(!reachable(&d), "nothing registered any more");
    assert!(
        !d.log().contains(&password),
        "the SIP password reached the log"
    );
}

#[test]
fn a_phone_taken_off_its_user_loses_its_binding_at_once() {
    let d = Daemon::start();
    let (user, password) = phone_account(&d);
    assert!(sipp(&d, "register.xml", "u1", &user, &password));
    assert_eq!(sip_status(&d)["registered"], true);
    let (s, _) = d.call("PATCH", "/api/v1/devices/1", Some(json!({"user": null})));
    assert_eq!(s, 200);
    let gone = eventually(Duration::from_secs(10), || {
        (sip_status(&d)["registered"] == false).then_some(())
    });
    assert!(gone.is_some(), "still registered after being unassigned");
    // And it may not register again.
    assert!(!sipp(&d, "register.xml", "u1", &user, &password));
}

#[test]
fn options_is_answered_with_what_we_allow() {
    let d = Daemon::start();
    assert!(sipp(&d, "options.xml", "u1", "-", "-"));
    assert!(sipp(&d, "options.xml", "t1", "-", "-"));
}

#[test]
fn a_wrong_password_is_challenged_again_and_logged_for_fail2ban() {
    let d = Daemon::start();
    let (user, _) = phone_account(&d);
    assert!(sipp(&d, "denied.xml", "u1", &user, "not-the-password"));
    assert!(sipp(&d, "denied.xml", "u1", "nobody", "guess"));
    let log = d.log();
    assert!(
        log.contains("sip: denied 127.0.0.1 bad-credentials"),
        "{log}"
    );
    assert!(log.contains("sip: denied 127.0.0.1 unknown-user"), "{log}");
}

#[test]
fn bindings_survive_kill_9_and_restart() {
    let d = Daemon::start();
    let (user, password) = phone_account(&d);
    assert!(sipp(&d, "register.xml", "u1", &user, &password));
    // Written behind within a second: wait for the row, not for a fixed time.
    let db = d.dir.path().join("data/zentrale.db");
    let stored = eventually(Duration::from_secs(10), || {
        (count_bindings(&db) == 1).then_some(())
    });
    assert!(stored.is_some(), "the binding was not written behind");
    let dir = d.kill9();
    let d = Daemon::spawn(dir, "info", &[]);
    assert_eq!(sip_status(&d)["registered"], true, "status after restart");
    assert!(
        sipp(&d, "query.xml", "u1", &user, &password),
        "the binding from before the kill is listed"
    );
}

#[test]
fn a_workplace_login_sends_the_phone_its_resync_notify() {
    let d = Daemon::start();
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang"})),
    );
    assert_eq!(s, 201);
    let (user, password) = phone_account_at(&d, json!({"workplace": "empfang"}));
    // The phone registers from one port, then listens there as a UAS (a NOTIFY goes where the
    // REGISTER came from). A free port: bound, read back, released.
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free port")
        .port()
        .to_string();
    let (mut register, dir) = sipp_command(&d, "register.xml", "u1", &user, &password, &port);
    let ok = register.status().expect("sipp");
    if !ok.success() {
        print_logs(dir.path());
    }
    assert!(ok.success(), "the phone did not register");
    // Two NOTIFYs come, each its own call for sipp: the MWI of anna's box at once, the
    // resync after its debounce.
    let (uas, dir) = sipp_command(&d, "notify_uas.xml", "u1", &user, &password, &port);
    let mut phone = with_calls(&uas, 2).spawn().expect("sipp");
    // Anna logs in at the phone with its menu key: extension and PIN.
    let handset = Phone::new(YEALINK_AGENT);
    let menu = menu_url(&d, &handset);
    let answer = handset.get(&format!("{menu}login/100/submit?pin=4711"));
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(answer.text().contains("Anna"), "{}", answer.text());
    // Retransmitted (Timer E) until the UAS answers, so it may start listening late.
    let status = phone.wait().expect("sipp ends");
    if !status.success() {
        print_logs(dir.path());
    }
    assert!(
        status.success(),
        "the phone got fewer NOTIFYs than expected"
    );
    let trace = crate::mwi::messages(dir.path());
    assert!(
        trace.contains("\nEvent: check-sync;reboot=false\r\n"),
        "the phone got no NOTIFY with the Yealink event:\n{trace}"
    );
}

/// Registers `user` from `port` and starts `scenario` there; the running phone.
pub(crate) fn phone_on(
    d: &Daemon,
    (user, password): &(String, String),
    port: &str,
    scenario: &str,
) -> (std::process::Child, tempfile::TempDir) {
    let (mut register, _dir) = sipp_command(d, "register.xml", "u1", user, password, port);
    assert!(register.status().expect("sipp").success(), "registered");
    let (mut uas, dir) = sipp_command(d, scenario, "u1", user, password, port);
    (uas.spawn().expect("sipp"), dir)
}

/// Whether `phone` (from [`phone_on`]) ran its scenario to the end (its logs printed if not).
pub(crate) fn ended(phone: (std::process::Child, tempfile::TempDir)) -> bool {
    let (mut child, dir) = phone;
    let ok = child.wait().expect("sipp").success();
    if !ok {
        print_logs(dir.path());
    }
    ok
}

/// `cmd` (from [`sipp_command`]) with the generic parameter `-key name value` (the keys go
/// first: sipp reads no option after the target address).
pub(crate) fn with_key(cmd: &Command, name: &str, value: &str) -> Command {
    let mut keyed = Command::new(cmd.get_program());
    if let Some(dir) = cmd.get_current_dir() {
        keyed.current_dir(dir);
    }
    keyed.args(["-key", name, value]).args(cmd.get_args());
    keyed
}

/// `cmd` (from [`sipp_command`]) taking `calls` calls instead of one.
pub(crate) fn with_calls(cmd: &Command, calls: u32) -> Command {
    let mut args: Vec<std::ffi::OsString> = cmd.get_args().map(ToOwned::to_owned).collect();
    if let Some(i) = args.iter().position(|a| a == "-m") {
        args[i + 1] = calls.to_string().into();
    }
    let mut again = Command::new(cmd.get_program());
    if let Some(dir) = cmd.get_current_dir() {
        again.current_dir(dir);
    }
    again.args(args);
    again
}

fn count_bindings(db: &Path) -> i64 {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.expect("db");
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sip_bindings")
            .fetch_one(&pool)
            .await
            .expect("query");
        n
    })
}

/// `account` calls `callee` with the caller `scenario`; true when it ran to its end (its
/// logs and the daemon's printed when not).
pub(crate) fn dial(d: &Daemon, scenario: &str, account: &(String, String), callee: &str) -> bool {
    let (uac, dir) = sipp_command(d, scenario, "u1", &account.0, &account.1, "0");
    let ok = with_key(&uac, "callee", callee)
        .status()
        .expect("sipp")
        .success();
    if !ok {
        print_logs(dir.path());
        eprintln!("{}", d.log());
    }
    ok
}

/// User `name` (extension `ext`) with a softphone of theirs, its FollowMe `followme` (the
/// body of `PUT /users/{name}/devices/{id}`); the softphone's SIP account and device id.
pub(crate) fn user_with_softphone(
    d: &Daemon,
    (name, ext): (&str, &str),
    followme: serde_json::Value,
) -> ((String, String), i64) {
    let body = json!({"username": name, "display_name": name, "extension": ext, "auth": "none"});
    assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    let password = format!("{name}-softphone-secret");
    let (s, device) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "softphone", "user": name, "sip_password": password})),
    );
    assert_eq!(s, 201, "{device}");
    let id = device["id"].as_i64().expect("id");
    let path = format!("/api/v1/users/{name}/devices/{id}");
    let (s, body) = d.call("PUT", &path, Some(followme));
    assert_eq!(s, 200, "{body}");
    let user = device["sip_username"]
        .as_str()
        .expect("sip_username")
        .to_owned();
    ((user, password), id)
}
