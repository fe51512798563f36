//! The command line: `check`, and the offline subcommands sharing the API's code path.

use std::process::{Command, Output};

use serde_json::Value;

use crate::harness::{BIN, Daemon, zentrale};

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

#[test]
fn shipped_config_passes_check() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/packaging/zentrale.toml");
    let out = Command::new(BIN)
        .args(["check", "--config", path])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn check_prints_every_problem_and_fails() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[server]\nlanguage = \"xx\"\nfoo = 1\n[http]\nlisten = \"nowhere\"\n[sip]\nrtp_ports = \"5-1\"\n").expect("write");
    let out = Command::new(BIN)
        .arg("check")
        .arg("--config")
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for key in [
        "server.language",
        "server.foo",
        "http.listen",
        "sip.rtp_ports",
    ] {
        assert!(
            stderr.lines().any(|l| l.starts_with(key)),
            "{key} not reported:\n{stderr}"
        );
    }
    let missing = Command::new(BIN)
        .args(["check", "--config", "/nonexistent/zentrale.toml"])
        .output()
        .expect("run");
    assert!(!missing.status.success());
}

#[test]
fn offline_commands_share_the_api_rules_and_side_effects() {
    let d = Daemon::start();
    let dir = d.dir.path();
    let bad = zentrale(
        dir,
        &[
            "user",
            "add",
            "--username",
            "anna",
            "--display-name",
            "Anna",
            "--password",
            "password-1",
            "--pin",
            "12a4",
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("pin: must be 4 to 32 digits"));
    let user = json(&zentrale(
        dir,
        &[
            "user",
            "add",
            "--username",
            "anna",
            "--display-name",
            "Anna",
            "--extension",
            "100",
            "--password",
            "password-1",
            "--pin",
            "1234",
            "--softphone",
            "--voicemail",
            "all",
            "--fax-extension",
            "190",
        ],
    ));
    assert_eq!(user["voicemail"], "all");
    // The running daemon sees what the CLI wrote, side effects included.
    let (_, devices) = d.call("GET", "/api/v1/users/anna/devices", None);
    let kinds: Vec<&str> = devices
        .as_array()
        .expect("list")
        .iter()
        .map(|x| x["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["fax", "softphone"]);
    let dup = zentrale(
        dir,
        &[
            "user",
            "add",
            "--username",
            "bob",
            "--display-name",
            "Bob",
            "--auth",
            "none",
            "--extension",
            "190",
        ],
    );
    assert!(String::from_utf8_lossy(&dup.stderr).contains("extension: 190 is already in use"));

    json(&zentrale(dir, &["workplace", "add", "--name", "empfang"]));
    let phone = json(&zentrale(
        dir,
        &[
            "device",
            "add",
            "--kind",
            "ip-phone",
            "--mac",
            "00:15:65:aa:bb:cc",
            "--vendor",
            "yealink",
            "--workplace",
            "empfang",
        ],
    ));
    assert_eq!(phone["workplace"], "empfang");
    let listed = json(&zentrale(dir, &["device", "list"]));
    assert_eq!(listed.as_array().expect("list").len(), 3);
    assert_eq!(
        json(&zentrale(dir, &["workplace", "list"]))[0]["devices"][0]["mac"],
        "001565aabbcc"
    );
    assert_eq!(
        json(&zentrale(dir, &["user", "list"]))[0]["username"],
        "anna"
    );
    assert_eq!(
        json(&zentrale(dir, &["user", "show", "anna"]))["fax_extension"],
        "190"
    );
    assert!(zentrale(dir, &["user", "delete", "anna"]).status.success());
    assert_eq!(d.call("GET", "/api/v1/users/anna", None).0, 404);
}

#[test]
fn admin_create_validates_and_bootstraps_login() {
    let d = Daemon::start();
    let weak = zentrale(
        d.dir.path(),
        &[
            "admin",
            "create",
            "--username",
            "ops",
            "--password",
            "short",
            "--role",
            "admin",
        ],
    );
    assert!(!weak.status.success());
    let bad_role = zentrale(
        d.dir.path(),
        &[
            "admin",
            "create",
            "--username",
            "ops",
            "--password",
            "long-enough",
            "--role",
            "king",
        ],
    );
    assert!(!bad_role.status.success());
    json(&zentrale(
        d.dir.path(),
        &[
            "admin",
            "create",
            "--username",
            "ops",
            "--password",
            "long-enough",
            "--role",
            "admin",
        ],
    ));
    let me = d
        .anon("GET", "/api/v1/me")
        .basic_auth("ops", Some("long-enough"))
        .send()
        .expect("send");
    assert_eq!(me.status().as_u16(), 200);
}

/// Regression: cargo-deb replaces the DEBHELPER token wherever it stands, and one in a comment
/// put its snippets mid-comment, breaking postrm ("line: not found" on purge).
#[test]
fn maintainer_scripts_hold_the_debhelper_token_once_on_its_own_line() {
    let mut checked = 0;
    for name in ["postinst", "postrm"] {
        let path = format!("{}/packaging/debian/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).expect("maintainer script");
        assert_eq!(text.matches("#DEBHELPER#").count(), 1, "{name}");
        assert!(text.lines().any(|l| l == "#DEBHELPER#"), "{name}");
        let syntax = Command::new("sh")
            .arg("-n")
            .arg(&path)
            .status()
            .expect("sh -n");
        assert!(syntax.success(), "{name} is not valid sh");
        checked += 1;
    }
    assert_eq!(checked, 2);
}

/// A broken template override is refused by `zentrale check` (and the daemon) with its file
/// and error, before any phone sees it; a good one passes.
#[test]
fn check_renders_the_admins_template_overrides() {
    let dir = crate::harness::prepared_dir();
    let overrides = dir.path().join("data/templates/yealink");
    std::fs::create_dir_all(&overrides).expect("mkdir");
    std::fs::write(
        overrides.join("device.cfg"),
        "#!version:1.0.0.1\naccount.1.label = {{ acount.label }}\n",
    )
    .expect("override");
    let out = crate::harness::zentrale(dir.path(), &["check"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a broken override passed");
    assert!(
        err.contains("yealink/device.cfg") && err.contains("acount"),
        "{err}"
    );
    let serve = std::process::Command::new(crate::harness::BIN)
        .args(["serve", "--config"])
        .arg(crate::harness::config_path(dir.path()))
        .output()
        .expect("serve");
    assert!(
        !serve.status.success(),
        "the daemon started with a broken template"
    );

    std::fs::write(
        overrides.join("device.cfg"),
        "#!version:1.0.0.1\naccount.1.label = {{ account.label }}\n",
    )
    .expect("override");
    let out = crate::harness::zentrale(dir.path(), &["check"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
