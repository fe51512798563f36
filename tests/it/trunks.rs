//! `[[sip.trunks]]` through the real binary: `zentrale check` names every bad key of every
//! trunk, and neither `check` nor a daemon logging at debug level ever prints a trunk password.

use std::process::Command;

use crate::harness::{BIN, Daemon, config_path, prepared_dir};

const PASSWORD: &str = "Tr0mbone-Secret-77";

fn trunk(name: &str, extra: &str) -> String {
    format!(
        "\n[[sip.trunks]]\nname = \"{name}\"\naddress = \"sip.provider.example\"\nusername = \"0301234567\"\npassword = \"{PASSWORD}\"\n{extra}\n"
    )
}

#[test]
fn check_names_every_bad_trunk_key_and_never_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("trunks.toml");
    let text = format!(
        "{}{}{}[calls]\nretention_days = 0\n",
        trunk("good", "prefixes = [\"0\"]"),
        trunk(
            "bad",
            "transport = \"sctp\"\nallowed_networks = [\"10.0.0.0/40\"]\ndids = { \"+4930\" = \"Not A Team\" }"
        ),
        trunk("good", "")
    );
    std::fs::write(&path, text).expect("write");
    let out = Command::new(BIN)
        .args(["check", "--config"])
        .arg(&path)
        .output()
        .expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for key in [
        "sip.trunks[1].transport:",
        "sip.trunks[1].allowed_networks:",
        "sip.trunks[1].dids:",
        "sip.trunks: two trunks are named \"good\"",
        "calls.retention_days:",
    ] {
        assert!(
            stderr.lines().any(|l| l.starts_with(key)),
            "{key} not reported:\n{stderr}"
        );
    }
    assert!(!stderr.contains("sip.trunks[0]"), "{stderr}");
    let all = format!("{stderr}{}", String::from_utf8_lossy(&out.stdout));
    assert!(!all.contains(PASSWORD), "{all}");
}

#[test]
fn a_daemon_with_trunks_starts_and_logs_no_password() {
    let dir = prepared_dir();
    let path = config_path(dir.path());
    let mut text = std::fs::read_to_string(&path).expect("config");
    text.push_str(&trunk(
        "provider",
        "dids = { \"+49301234567\" = \"100\" }\nallowed_networks = [\"192.0.2.0/24\"]",
    ));
    std::fs::write(&path, text).expect("config");
    let d = Daemon::spawn(dir, "debug", &[]);
    let (status, _) = d.call("GET", "/api/v1/calls", None);
    assert_eq!(status, 200);
    let log = d.log();
    assert!(log.contains("listening for HTTP"), "{log}");
    assert!(!log.contains(PASSWORD), "{log}");
}
