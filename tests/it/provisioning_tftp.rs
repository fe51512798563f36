//! The daemon's TFTP root with the real tftp-hpa and atftp clients: the same names as `/prov/`,
//! device files only as a secret-free bootstrap unless `tftp.serve_secrets`, firmware too.

use std::process::Command;

use crate::harness::Daemon;
use crate::provisioning::anna_with_phone;

/// Fetches `name` with tftp-hpa (no options) into memory; None when the server refused it.
fn tftp_hpa(d: &Daemon, name: &str) -> Option<Vec<u8>> {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("got");
    let addr = d.tftp_addr();
    let out = Command::new("timeout")
        .args([
            "60",
            "tftp",
            "-m",
            "octet",
            &addr.ip().to_string(),
            &addr.port().to_string(),
            "-c",
            "get",
            name,
        ])
        .arg(&local)
        .output()
        .expect("tftp (tftp-hpa) must be installed by scripts/setup-debian.sh");
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    if text.contains("Error code") {
        return None;
    }
    assert!(out.status.success(), "tftp get {name}: {text}");
    Some(std::fs::read(&local).expect("fetched file"))
}

/// Fetches `name` with atftp and RFC 2348/7440 options.
fn atftp(d: &Daemon, name: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("got");
    let addr = d.tftp_addr();
    let out = Command::new("timeout")
        .args([
            "60",
            "atftp",
            "--option",
            "blksize 1428",
            "--option",
            "windowsize 8",
            "-g",
            "-r",
            name,
            "-l",
        ])
        .arg(&local)
        .args([addr.ip().to_string(), addr.port().to_string()])
        .output()
        .expect("atftp must be installed by scripts/setup-debian.sh");
    assert!(
        out.status.success(),
        "atftp {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(&local).expect("fetched file")
}

#[test]
fn tftp_serves_common_files_and_only_a_secret_free_bootstrap_for_device_files() {
    let d = Daemon::start();
    anna_with_phone(&d);
    let http = crate::phone::Phone::new(crate::provisioning::YEALINK_UA)
        .get(&d.url("/prov/y000000000096.cfg"));
    assert_eq!(
        tftp_hpa(&d, "y000000000096.cfg").expect("common file"),
        http.body,
        "same bytes as HTTP"
    );
    assert_eq!(atftp(&d, "/y000000000096.cfg"), http.body);

    let known = tftp_hpa(&d, "001565aabbcc.cfg").expect("bootstrap");
    let unknown = tftp_hpa(&d, "001565000001.cfg").expect("bootstrap");
    assert_eq!(known, unknown, "the bootstrap is the same for every MAC");
    let text = String::from_utf8(known).expect("text");
    assert!(!text.contains("sip-secret-of-anna"));
    assert!(
        text.contains("/prov"),
        "the bootstrap moves the phone to HTTP(S):\n{text}"
    );
    // TFTP did not use up the enrollment window.
    let (_, dev) = d.call("GET", "/api/v1/devices/1", None);
    assert_eq!(dev["provisioning"]["state"], "enrolling");

    assert!(tftp_hpa(&d, "../zentrale.db").is_none());
    assert!(tftp_hpa(&d, "nothing-here.cfg").is_none());
}

#[test]
fn with_serve_secrets_tftp_gives_known_phones_their_full_config_and_firmware() {
    let d = Daemon::start_with_config("serve_secrets = true\n");
    anna_with_phone(&d);
    let full =
        String::from_utf8(tftp_hpa(&d, "001565aabbcc.cfg").expect("full config")).expect("text");
    assert!(full.contains("sip-secret-of-anna"), "{full}");
    let unknown =
        String::from_utf8(tftp_hpa(&d, "001565000001.cfg").expect("bootstrap")).expect("text");
    assert!(
        !unknown.contains("account.1"),
        "an unknown MAC gets the bootstrap:\n{unknown}"
    );

    let blob: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    let resp = d
        .req("PUT", "/api/v1/firmware/fw-1.rom")
        .body(blob.clone())
        .send()
        .expect("upload");
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(atftp(&d, "fw-1.rom"), blob);
    assert_eq!(tftp_hpa(&d, "fw-1.rom").expect("firmware"), blob);
    let (s, _) = d.call("DELETE", "/api/v1/firmware/fw-1.rom", None);
    assert_eq!(s, 204);
    assert!(
        tftp_hpa(&d, "fw-1.rom").is_none(),
        "a deleted firmware is gone from TFTP too"
    );
}
