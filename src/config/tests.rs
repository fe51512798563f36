use super::*;

#[test]
fn empty_text_is_the_embedded_defaults() {
    let c = Config::parse("").expect("defaults");
    assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(c.tftp.listen.to_string(), "127.0.0.1:6969");
    assert_eq!(c.sip.listen.to_string(), "127.0.0.1:5060");
    assert_eq!(c.server.data_dir, PathBuf::from("./zentrale-data"));
    assert_eq!(c.sip.domain, c.server.public_host);
    assert_eq!(c.store_url(), "sqlite://./zentrale-data/zentrale.db");
}

#[test]
fn every_problem_is_reported_at_once_with_its_key() {
    let text = r#"
        [server]
        language = "fr"
        bogus = 1
        [http]
        listen = "not an address"
        [sip]
        rtp_ports = "20000-10000"
        [smtp]
        url = "http://mail"
        [menu]
        lockout_secs = 0
        [cluster]
        nodes = 3
    "#;
    let problems = Config::parse(text).expect_err("invalid").problems();
    for key in [
        "server.language",
        "server.bogus",
        "http.listen",
        "sip.rtp_ports",
        "smtp.url",
        "menu.lockout_secs",
        "cluster",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(&format!("{key}:"))),
            "{key} missing from {problems:#?}"
        );
    }
    assert_eq!(problems.len(), 7, "{problems:#?}");
}

#[test]
fn wrong_types_name_the_key() {
    let problems = Config::parse("[http]\nmax_body_bytes = \"big\"\n")
        .expect_err("invalid")
        .problems();
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].starts_with("http.max_body_bytes:"),
        "{problems:?}"
    );
}

#[test]
fn syntax_errors_are_reported() {
    let problems = Config::parse("[server\n").expect_err("invalid").problems();
    assert!(problems[0].starts_with("syntax:"), "{problems:?}");
}

/// The config the Debian package installs must load as it is.
#[test]
fn packaged_config_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/zentrale.toml");
    let config = Config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(config.server.data_dir, PathBuf::from("/var/lib/zentrale"));
}

/// The trunk example in the packaged config, uncommented, must load: the documentation stays
/// true.
#[test]
fn packaged_trunk_example_loads() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("packaging/zentrale.toml");
    let text = std::fs::read_to_string(&path).expect("packaged config");
    let start = text.find("# [[sip.trunks]]").expect("a trunk example");
    let mut uncommented = String::new();
    for line in text[start..].lines() {
        let Some(line) = line.strip_prefix("# ") else {
            break;
        };
        uncommented.push_str(line);
        uncommented.push('\n');
    }
    let text = text.replacen(
        "[provisioning]",
        &format!("{uncommented}\n[provisioning]"),
        1,
    );
    let config = Config::parse(&text).unwrap_or_else(|e| panic!("{e}"));
    let [trunk] = &config.sip.trunks[..] else {
        panic!("one trunk: {:?}", config.sip.trunks);
    };
    assert_eq!(trunk.name, "provider");
    assert_eq!(trunk.dids.len(), 2);
    assert_eq!(config.calls.retention_days, 90);
}

#[test]
fn dispatch_keys_reach_the_dispatch_config_and_bad_ones_are_named() {
    let c = Config::parse("[calls]\nmax_forward_hops = 3\nwhen_all_busy = \"after-action\"\n")
        .expect("valid");
    let d = c.calls.dispatch();
    assert_eq!(d.max_forward_hops, 3);
    assert_eq!(d.busy, crate::dispatch::BusyRule::AfterAction);
    let text = "[sip]\nmedia_relay = \"always\"\n[calls]\nmax_forward_hops = 0\nwhen_all_busy = \"voicemail\"\n";
    let problems = Config::parse(text).expect_err("invalid").problems();
    for key in [
        "sip.media_relay:",
        "calls.max_forward_hops:",
        "calls.when_all_busy:",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(key)),
            "{key}: {problems:?}"
        );
    }
}
