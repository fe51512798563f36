//! Mail against a real SMTP server (aiosmtpd, scripted per recipient; see smtp_server.py):
//! the daemon's spool and driver, the CLI and the API, with messages parsed by Python's `email`.

use serde_json::{Value, json};

use crate::harness::{Daemon, zentrale};
use crate::smtp::{SmtpPeer, held_port, sha256_hex, smtp_config, wait_until};

fn queue(d: &Daemon) -> Value {
    let (status, q) = d.call("GET", "/api/v1/mail/queue", None);
    assert_eq!(status, 200, "{q}");
    q
}

fn queued_test(d: &Daemon, to: &str) -> u64 {
    let (status, body) = d.call("POST", "/api/v1/mail/test", Some(json!({"to": to})));
    assert_eq!(status, 202, "{body}");
    body["id"].as_u64().expect("id")
}

fn to(rcpt: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["rcpt"][0] == rcpt
}

/// The ids `zentrale mail test` printed (each once its message was on disk).
fn cli_ids(out: &std::process::Output) -> Vec<u64> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().parse().expect("id"))
        .collect()
}

#[test]
fn mail_server_down_at_first_then_delivered_with_the_attachment_intact() {
    let held = held_port();
    let port = held.port;
    let d = Daemon::start_with_config(&smtp_config(port, ""));
    let wav: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let file = d.dir.path().join("nachricht.wav");
    std::fs::write(&file, &wav).expect("wav");
    let file = file.to_str().expect("path");
    let ids = cli_ids(&zentrale(
        d.dir.path(),
        &["mail", "test", "--to", "anna@example.com", "--attach", file],
    ));
    // Refused twice, so the retries with backoff were exercised before the server came.
    wait_until("two deferrals", || d.log().contains("deferred (attempt 2)"));
    let entry = &queue(&d)["entries"][0];
    assert_eq!(entry["state"], "deferred", "{entry}");
    assert!(
        entry["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("onnection"),
        "{entry}"
    );
    assert!(
        entry.get("body").is_none(),
        "the listing never shows the body: {entry}"
    );
    drop(held);
    let smtp = SmtpPeer::start(port, &[]);
    let got = smtp.wait_for("accepted", to("anna@example.com"), 1);
    let att = &got[0]["attachments"][0];
    assert_eq!(att["sha256"], sha256_hex(&wav));
    assert_eq!(
        (att["filename"].as_str(), att["content_type"].as_str()),
        (Some("nachricht.wav"), Some("audio/wav"))
    );
    assert!(
        got[0]["message_id"]
            .as_str()
            .expect("id")
            .starts_with(&format!("<{}.", ids[0]))
    );
    wait_until("the delivered entry to go", || {
        queue(&d)["entries"].as_array().is_some_and(Vec::is_empty)
    });
}

#[test]
fn tempfail_is_retried_reject_fails_with_an_admin_report_and_a_drop_is_resent() {
    let smtp = SmtpPeer::start(0, &[]);
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    let tempfail = queued_test(&d, "tempfail-1@example.com");
    let reject = queued_test(&d, "reject@example.com");
    let dropped = queued_test(&d, "drop-1@example.com");

    let first = smtp.wait_for("tempfail", to("tempfail-1@example.com"), 1);
    let then = smtp.wait_for("accepted", to("tempfail-1@example.com"), 1);
    assert_eq!(first[0]["message_id"], then[0]["message_id"]);
    assert!(
        then[0]["message_id"]
            .as_str()
            .expect("id")
            .starts_with(&format!("<{tempfail}."))
    );

    // Dropped after DATA: the server has it, the client never heard; sent once more, same id.
    let drop = smtp.wait_for("dropped", to("drop-1@example.com"), 1);
    let again = smtp.wait_for("accepted", to("drop-1@example.com"), 1);
    assert_eq!(drop[0]["message_id"], again[0]["message_id"]);
    assert!(
        again[0]["message_id"]
            .as_str()
            .expect("id")
            .starts_with(&format!("<{dropped}."))
    );

    smtp.wait_for("rejected", to("reject@example.com"), 1);
    let report = smtp.wait_for("accepted", to("admin@example.com"), 1);
    let body = report[0]["body"].as_str().expect("body");
    assert!(
        body.contains("(550): 5.1.1 no such user here") && body.contains(&reject.to_string()),
        "{body}"
    );
    assert!(d.log().contains(&format!(
        "mail: {reject} to reject@example.com failed after 1 attempts: "
    )));
    wait_until("only the failed entry left", || {
        queue(&d)["entries"]
            .as_array()
            .is_some_and(|e| e.len() == 1)
    });
    let q = queue(&d);
    let entry = &q["entries"][0];
    assert_eq!(
        (
            entry["id"].as_u64(),
            entry["state"].as_str(),
            entry["attempts"].as_u64()
        ),
        (Some(reject), Some("failed"), Some(1))
    );
    assert_eq!(q["counts"]["failed"], 1);

    // Retry: sent (and refused) again; delete: gone with its files.
    let (status, retried) = d.call("POST", &format!("/api/v1/mail/queue/{reject}/retry"), None);
    assert_eq!(
        (status, retried["state"].as_str()),
        (200, Some("queued")),
        "{retried}"
    );
    smtp.wait_for("rejected", to("reject@example.com"), 2);
    assert_eq!(
        d.call("DELETE", &format!("/api/v1/mail/queue/{reject}"), None)
            .0,
        204
    );
    assert_eq!(
        d.call("DELETE", &format!("/api/v1/mail/queue/{reject}"), None)
            .0,
        404
    );
    assert_eq!(
        d.call("POST", "/api/v1/mail/queue/12345/retry", None).0,
        404
    );
    let (status, bad) = d.call(
        "POST",
        "/api/v1/mail/test",
        Some(json!({"to": "x@y\r\nBcc: z@example.com"})),
    );
    assert_eq!((status, bad["field"].as_str()), (422, Some("to")), "{bad}");
    // A report about a failed report is never sent: exactly one reached the admin.
    assert_eq!(
        smtp.events()
            .iter()
            .filter(|e| to("admin@example.com")(e))
            .count(),
        1
    );
}

#[test]
fn starttls_with_a_private_ca_and_auth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = test_pki(dir.path());
    let smtp = SmtpPeer::start(
        0,
        &[
            "--cert",
            &cert,
            "--key",
            &key,
            "--auth",
            "pbx:Mail-Secret-9",
        ],
    );
    let extra = format!("username = \"pbx\"\npassword = \"Mail-Secret-9\"\nca_file = \"{ca}\"\n");
    let config = smtp_config(smtp.port, &extra).replace("\"opportunistic\"", "\"required\"");
    let d = Daemon::start_with_config(&config);
    queued_test(&d, "anna@example.com");
    let got = smtp.wait_for("accepted", to("anna@example.com"), 1);
    assert_eq!(
        (got[0]["tls"].as_bool(), got[0]["auth"].as_bool()),
        (Some(true), Some(true))
    );
    assert!(!d.log().contains("Mail-Secret-9"));
}

#[test]
fn starttls_required_never_falls_back_to_plain_text() {
    let smtp = SmtpPeer::start(0, &[]);
    let config = smtp_config(smtp.port, "").replace("\"opportunistic\"", "\"required\"");
    let d = Daemon::start_with_config(&config);
    let id = queued_test(&d, "anna@example.com");
    wait_until("a deferral", || {
        d.log()
            .contains(&format!("mail: {id} to anna@example.com deferred"))
    });
    assert!(
        smtp.events().iter().all(|e| e["event"] == "listening"),
        "{:?}",
        smtp.events()
    );
}

/// A CA, and a certificate for 127.0.0.1 it signed: (ca.pem, cert.pem, key.pem) paths.
fn test_pki(dir: &std::path::Path) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, SanType};
    let mut ca_params = CertificateParams::new(Vec::new()).expect("ca params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "zentrale test CA");
    let ca_key = KeyPair::generate().expect("ca key");
    let ca = ca_params.self_signed(&ca_key).expect("ca");
    let mut params = CertificateParams::new(vec!["localhost".into()]).expect("params");
    params
        .subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca, &ca_key).expect("cert");
    let write = |name: &str, text: String| {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("pem");
        path.to_str().expect("path").to_owned()
    };
    (
        write("ca.pem", ca.pem()),
        write("cert.pem", cert.pem()),
        write("key.pem", key.serialize_pem()),
    )
}

#[test]
fn caller_names_with_line_breaks_and_umlauts_stay_inside_their_headers() {
    let smtp = SmtpPeer::start(0, &[]);
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    let send = |caller: &str, to_name: &str| {
        let args = [
            "mail",
            "test",
            "--to",
            "anna@example.com",
            "--to-name",
            to_name,
            "--caller-name",
            caller,
            "--caller-number",
            "+49 30 1234",
        ];
        cli_ids(&zentrale(d.dir.path(), &args))
    };
    send(
        "Eve\r\nBcc: victim@example.com\r\nX-Evil: 1",
        "Anna\r\nCc: mallory@example.com",
    );
    send("Jürgen Weiß – Büro", "Jörg Müller");
    let got = smtp.wait_for("accepted", to("anna@example.com"), 2);
    let by_subject = |s: &str| {
        got.iter()
            .find(|e| e["subject"] == s)
            .unwrap_or_else(|| panic!("no {s}: {got:#?}"))
    };
    let evil = by_subject("Neue Voicemail von Eve Bcc: victim@example.com X-Evil: 1");
    let names: Vec<String> = evil["raw_header_names"]
        .as_array()
        .expect("names")
        .iter()
        .map(|n| n.as_str().expect("name").to_ascii_lowercase())
        .collect();
    for injected in ["bcc", "cc", "x-evil"] {
        assert!(
            !names.contains(&injected.to_owned()),
            "{injected} in {names:?}"
        );
    }
    assert_eq!(evil["rcpt"], json!(["anna@example.com"]));
    // The name is one quoted phrase (it holds ":" and "@"), not a second recipient.
    assert_eq!(
        evil["to"],
        "\"Anna Cc: mallory@example.com\" <anna@example.com>"
    );
    let umlauts = by_subject("Neue Voicemail von Jürgen Weiß – Büro");
    assert_eq!(umlauts["to"], "Jörg Müller <anna@example.com>");
    assert!(
        umlauts["body"]
            .as_str()
            .expect("body")
            .contains("Jürgen Weiß – Büro (+49 30 1234)")
    );
}

#[test]
fn a_kept_message_stays_delivered_in_the_queue() {
    let smtp = SmtpPeer::start(0, &[]);
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    let ids = cli_ids(&zentrale(
        d.dir.path(),
        &["mail", "test", "--to", "anna@example.com", "--keep"],
    ));
    smtp.wait_for("accepted", to("anna@example.com"), 1);
    wait_until("the entry marked delivered", || {
        queue(&d)["counts"]["delivered"] == 1
    });
    let q = queue(&d);
    assert_eq!(
        (
            q["entries"][0]["id"].as_u64(),
            q["entries"][0]["attempts"].as_u64()
        ),
        (Some(ids[0]), Some(1))
    );
}

#[test]
fn check_and_serve_refuse_bad_smtp_settings_and_broken_mail_templates() {
    let dir = crate::harness::prepared_dir();
    let path = crate::harness::config_path(dir.path());
    let base = std::fs::read_to_string(&path).expect("config");
    let check = |extra: &str| {
        std::fs::write(&path, format!("{base}{extra}")).expect("config");
        let out = zentrale(dir.path(), &["check"]);
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, err) = check(
        "[smtp]\nurl = \"smtp://user:pw@mail\"\nstarttls = \"sometimes\"\nconcurrency = 0\nadmin_email = \"root\"\n",
    );
    assert!(!ok);
    for key in [
        "smtp.url:",
        "smtp.starttls:",
        "smtp.concurrency:",
        "smtp.admin_email:",
    ] {
        assert!(err.contains(key), "{key} missing: {err}");
    }
    let good = "[smtp]\nurl = \"smtp://127.0.0.1:25\"\nfrom = \"pbx@example.com\"\n";
    let (ok, err) = check(&format!("{good}ca_file = \"/nonexistent/ca.pem\"\n"));
    assert!(
        !ok && err.contains("smtp.ca_file") && err.contains("/nonexistent/ca.pem"),
        "{err}"
    );

    let overrides = dir.path().join("data/templates/mail/de");
    std::fs::create_dir_all(&overrides).expect("mkdir");
    std::fs::write(overrides.join("voicemail.subject"), "Von {{ caler_name }}").expect("override");
    let (ok, err) = check(good);
    assert!(!ok && err.contains("de/voicemail.subject"), "{err}");
    let serve = std::process::Command::new(crate::harness::BIN)
        .args(["serve", "--config"])
        .arg(&path)
        .output()
        .expect("serve");
    assert!(
        !serve.status.success(),
        "the daemon started with a broken mail template"
    );

    std::fs::write(overrides.join("voicemail.subject"), "Von {{ caller_name }}").expect("override");
    let (ok, err) = check(good);
    assert!(ok, "{err}");
}
