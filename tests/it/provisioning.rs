//! Provisioning over HTTP with curl as the phone: enrollment, Digest proof, refusals that all
//! look the same, MAC sweeps, ETags, phonebooks, firmware, auto-registration.

use serde_json::{Value, json};

use crate::harness::Daemon;
use crate::phone::{Fetched, Phone, key_value};

pub const YEALINK_UA: &str = "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc";
const MAC: &str = "001565aabbcc";
const SIP_SECRET: &str = "sip-secret-of-anna";

/// A user and a Yealink phone assigned to her (so its enrollment window is open).
pub fn anna_with_phone(d: &Daemon) -> i64 {
    let (s, _) = d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "anna", "display_name": "Anna Schmidt", "extension": "100", "auth": "none"})),
    );
    assert_eq!(s, 201);
    let (s, dev) = d.call(
        "POST",
        "/api/v1/devices",
        Some(
            json!({"kind": "ip-phone", "mac": "00:15:65:AA:BB:CC", "vendor": "yealink",
                    "model": "T54W", "user": "anna", "sip_password": SIP_SECRET}),
        ),
    );
    assert_eq!(s, 201, "{dev}");
    assert_eq!(dev["provisioning"]["state"], "enrolling");
    dev["id"].as_i64().expect("id")
}

/// The provisioning credentials a Yealink config installs.
pub fn yealink_credentials(config: &str) -> (String, String) {
    let user = key_value(config, "static.auto_provision.server.username").expect("prov username");
    let pass = key_value(config, "static.auto_provision.server.password").expect("prov password");
    assert!(
        user.len() >= 8 && pass.len() >= 16,
        "weak credentials {user}/{pass}"
    );
    (user, pass)
}

fn device(d: &Daemon, id: i64) -> Value {
    let (s, dev) = d.call("GET", &format!("/api/v1/devices/{id}"), None);
    assert_eq!(s, 200);
    dev
}

/// The device with its fetch record: the API writes queued records before it answers.
fn recorded(d: &Daemon, id: i64) -> Value {
    device(d, id)
}

#[test]
fn enrollment_serves_the_first_config_once_then_only_with_the_installed_credentials() {
    let d = Daemon::start();
    let id = anna_with_phone(&d);
    let url = d.url(&format!("/prov/{MAC}.cfg"));
    let phone = Phone::new(YEALINK_UA);

    let mut head = phone.clone();
    head.extra = vec!["-I".into()];
    assert_eq!(
        head.get(&url).status,
        401,
        "a HEAD does not use up the window"
    );
    let first = phone.get(&url);
    assert_eq!(first.status, 200, "{}", first.text());
    let config = first.text();
    assert!(
        config.contains(SIP_SECRET),
        "the first config carries the SIP account"
    );
    assert!(config.contains("Anna Schmidt"));
    let (user, pass) = yealink_credentials(&config);

    let again = phone.get(&url);
    assert_eq!(again.status, 401, "the window closed with the first fetch");
    assert!(!again.text().contains(SIP_SECRET));
    assert!(
        again
            .header("www-authenticate")
            .expect("challenge")
            .starts_with("Digest ")
    );

    let proven = phone.clone().with_digest(&user, &pass).get(&url);
    assert_eq!(proven.status, 200);
    assert_eq!(proven.body, first.body, "same input, same bytes");
    assert_eq!(proven.header("etag"), first.header("etag"));

    let wrong = phone
        .clone()
        .with_digest(&user, "not-the-password")
        .get(&url);
    assert_eq!(wrong.status, 401);

    let dev = recorded(&d, id);
    let p = &dev["provisioning"];
    assert_eq!(p["state"], "provisioned");
    assert_eq!(p["last_ip"], "127.0.0.1");
    assert_eq!(p["last_file"], format!("{MAC}.cfg"));
    assert_eq!(p["reported_model"], "T54W");
    assert_eq!(p["firmware"], "96.86.0.100");
    assert!(
        !dev.to_string().contains(&pass),
        "the API never shows provisioning secrets"
    );

    // Re-enrolling opens the window again and replaces the credentials.
    let (s, _) = d.call("POST", &format!("/api/v1/devices/{id}/enroll"), None);
    assert_eq!(s, 200);
    let renewed = phone.get(&url);
    assert_eq!(renewed.status, 200);
    let (user2, pass2) = yealink_credentials(&renewed.text());
    assert_ne!((user2, pass2), (user.clone(), pass.clone()));
    assert_eq!(
        phone.with_digest(&user, &pass).get(&url).status,
        401,
        "old credentials are void"
    );
}

/// Everything a scanner could compare, with the per-request nonce blanked.
fn refusal(f: &Fetched) -> (u16, Vec<String>, String, Vec<u8>) {
    let challenge = f.header("www-authenticate").unwrap_or_default();
    let blanked = regex_lite_blank_nonce(challenge);
    let names = f.headers.keys().filter(|k| *k != "date").cloned().collect();
    (f.status, names, blanked, f.body.clone())
}

fn regex_lite_blank_nonce(challenge: &str) -> String {
    match challenge.split_once("nonce=\"") {
        Some((pre, rest)) => format!(
            "{pre}nonce=\"…\"{}",
            rest.split_once('"').map_or("", |r| r.1)
        ),
        None => challenge.to_owned(),
    }
}

#[test]
fn unknown_macs_known_macs_and_wrong_credentials_get_the_same_refusal() {
    let d = Daemon::start();
    anna_with_phone(&d);
    let phone = Phone::new(YEALINK_UA);
    let config = phone.get(&d.url(&format!("/prov/{MAC}.cfg"))).text();
    let (user, _) = yealink_credentials(&config);

    let known = phone.get(&d.url(&format!("/prov/{MAC}.cfg")));
    let unknown = phone.get(&d.url("/prov/001565000001.cfg"));
    let wrong = phone
        .clone()
        .with_digest(&user, "guess")
        .get(&d.url(&format!("/prov/{MAC}.cfg")));
    let unknown_with_creds = phone
        .with_digest(&user, "guess")
        .get(&d.url("/prov/001565000001.cfg"));
    assert_eq!(known.status, 401);
    for other in [&unknown, &wrong, &unknown_with_creds] {
        assert_eq!(refusal(&known), refusal(other));
    }
    let log = d.log();
    assert!(
        log.contains("provisioning: denied 127.0.0.1 unknown-device"),
        "{log}"
    );
    assert!(log.contains("provisioning: denied 127.0.0.1 no-credentials"));
    assert!(log.contains("provisioning: denied 127.0.0.1 bad-credentials"));
}

#[test]
fn a_mac_sweep_gets_no_secret_bans_its_source_and_leaves_other_phones_alone() {
    let d = Daemon::start_with_config(
        "[provisioning]\nrate_limit = 30\nrate_window_secs = 60\nban_secs = 600\n",
    );
    anna_with_phone(&d);
    let phone = Phone::new(YEALINK_UA);
    let config = phone.get(&d.url(&format!("/prov/{MAC}.cfg"))).text();
    let (user, pass) = yealink_credentials(&config);

    // The sweep: 10,000 MACs of Yealink's OUI from 127.0.0.1, the real phone's among them.
    let client = reqwest::blocking::Client::new();
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    let mut around_known = Vec::new();
    for i in 0..10_000u32 {
        let mac = if i == 5_000 {
            MAC.to_owned()
        } else {
            format!("001565{i:06x}")
        };
        let resp = client
            .get(d.url(&format!("/prov/{mac}.cfg")))
            .header("User-Agent", YEALINK_UA)
            .send()
            .expect("send");
        let status = resp.status().as_u16();
        let body = resp.bytes().expect("body");
        assert!(
            !body
                .windows(SIP_SECRET.len())
                .any(|w| w == SIP_SECRET.as_bytes()),
            "secret served to the sweep"
        );
        *statuses.entry(status).or_default() += 1;
        if (4_999..=5_001).contains(&i) {
            around_known.push((status, body));
        }
    }
    assert_eq!(statuses.get(&401), Some(&10_000), "{statuses:?}");
    assert!(
        around_known.windows(2).all(|w| w[0] == w[1]),
        "the known MAC stands out"
    );
    let log = d.log();
    assert!(
        log.contains("provisioning: denied 127.0.0.1 banned-for-600s"),
        "{log}"
    );
    assert_eq!(
        log.matches("provisioning: denied 127.0.0.1").count(),
        32,
        "30 allowed refusals, the 31st, one line for the ban, then quiet"
    );

    assert_eq!(
        fail2ban_matches(&log),
        32,
        "fail2ban's filter reads every refusal line"
    );

    // Banned: no more enrollment windows for that source, nor common files.
    let (s, _) = d.call(
        "POST",
        "/api/v1/devices",
        Some(
            json!({"kind": "ip-phone", "mac": "001565ffff01", "vendor": "yealink", "user": "anna"}),
        ),
    );
    assert_eq!(s, 201);
    let banned = Phone::new(YEALINK_UA);
    assert_eq!(banned.get(&d.url("/prov/001565ffff01.cfg")).status, 401);
    assert_eq!(banned.get(&d.url("/prov/y000000000096.cfg")).status, 429);

    // A phone on another address is served, with and without its credentials.
    let elsewhere = Phone::new(YEALINK_UA).with_source("127.0.0.2");
    assert_eq!(elsewhere.get(&d.url("/prov/y000000000096.cfg")).status, 200);
    assert_eq!(
        elsewhere.get(&d.url("/prov/001565ffff01.cfg")).status,
        200,
        "its window is open"
    );
    let proven = elsewhere
        .with_digest(&user, &pass)
        .get(&d.url(&format!("/prov/{MAC}.cfg")));
    assert_eq!(proven.status, 200);
    assert!(proven.text().contains(SIP_SECRET));
    // The banned source still gets its config when it proves itself (a NATed office).
    let nat = Phone::new(YEALINK_UA)
        .with_digest(&user, &pass)
        .get(&d.url(&format!("/prov/{MAC}.cfg")));
    assert_eq!(nat.status, 200);
}

#[test]
fn unchanged_files_answer_if_none_match_with_304_and_change_when_the_store_does() {
    let d = Daemon::start();
    anna_with_phone(&d);
    let phone = Phone::new(YEALINK_UA);
    let url = d.url(&format!("/prov/{MAC}.cfg"));
    let config = phone.get(&url);
    let (user, pass) = yealink_credentials(&config.text());
    let etag = config.header("etag").expect("etag").to_owned();
    let mut cached = phone.clone().with_digest(&user, &pass);
    cached.extra = vec!["-H".into(), format!("If-None-Match: {etag}")];
    let not_modified = cached.get(&url);
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());

    let (s, _) = d.call(
        "PATCH",
        "/api/v1/users/anna",
        Some(json!({"display_name": "Anna Berger"})),
    );
    assert_eq!(s, 200);
    let changed = cached.get(&url);
    assert_eq!(changed.status, 200, "a new display name is a new config");
    assert!(changed.text().contains("Anna Berger"));
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
}

#[test]
fn a_workplace_phone_shows_the_workplace_then_the_logged_in_user() {
    let d = Daemon::start();
    d.call("POST", "/api/v1/users", Some(json!({"username": "ben", "display_name": "Ben Weber", "extension": "101", "auth": "none"})));
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang", "display_name": "Empfang"})),
    );
    assert_eq!(s, 201);
    let (s, _) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "ip-phone", "mac": MAC, "vendor": "yealink", "model": "T54W", "workplace": "empfang"})),
    );
    assert_eq!(s, 201);
    let phone = Phone::new(YEALINK_UA);
    let url = d.url(&format!("/prov/{MAC}.cfg"));
    let first = phone.get(&url).text();
    assert!(first.contains("Empfang") && !first.contains("Ben Weber"));
    let (user, pass) = yealink_credentials(&first);
    // A fetch just before the login: the one after it comes within the recorder's
    // same-fetch window and must still be recorded, as it clears the resync mark.
    assert_eq!(
        phone.clone().with_digest(&user, &pass).get(&url).status,
        200
    );
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces/empfang/login",
        Some(json!({"username": "ben"})),
    );
    assert_eq!(s, 200);
    assert_eq!(
        device(&d, 1)["provisioning"]["resync_pending"],
        true,
        "the login changed its config"
    );
    let after = phone.with_digest(&user, &pass).get(&url).text();
    assert!(after.contains("Ben Weber"), "{after}");
    assert_eq!(
        device(&d, 1)["provisioning"]["resync_pending"],
        false,
        "fetching the new config did not clear the resync mark"
    );
}

#[test]
fn phones_outside_the_allowed_networks_get_nothing() {
    let d = Daemon::start_with_config("[provisioning]\nallowed_networks = [\"10.0.0.0/8\"]\n");
    let got = Phone::new(YEALINK_UA).get(&d.url("/prov/y000000000096.cfg"));
    assert_eq!(got.status, 403);
    assert!(
        d.log()
            .contains("provisioning: denied 127.0.0.1 network-not-allowed")
    );
    let d = Daemon::start_with_config("[provisioning]\nallowed_networks = [\"127.0.0.0/8\"]\n");
    assert_eq!(
        Phone::new(YEALINK_UA)
            .get(&d.url("/prov/y000000000096.cfg"))
            .status,
        200
    );
}

#[test]
fn auto_register_lists_an_unknown_phone_without_giving_it_secrets() {
    let d = Daemon::start_with_config("[provisioning]\nauto_register = true\n");
    d.call(
        "POST",
        "/api/v1/users",
        Some(
            json!({"username": "anna", "display_name": "Anna", "extension": "100", "auth": "none"}),
        ),
    );
    let phone = Phone::new(YEALINK_UA);
    let url = d.url(&format!("/prov/{MAC}.cfg"));
    assert_eq!(phone.get(&url).status, 401);
    // A MAC outside every Yealink OUI is not a Yealink phone: not listed.
    assert_eq!(
        Phone::new("curl/8")
            .get(&d.url("/prov/aabbccddeeff.cfg"))
            .status,
        401
    );
    let (_, devices) = d.call("GET", "/api/v1/devices", None);
    let list = devices.as_array().expect("list");
    assert_eq!(list.len(), 1, "{devices}");
    let dev = &list[0];
    assert_eq!(
        (
            dev["mac"].as_str(),
            dev["vendor"].as_str(),
            dev["model"].as_str()
        ),
        (Some(MAC), Some("yealink"), Some("T54W"))
    );
    assert!(dev["user"].is_null() && dev["workplace"].is_null());
    assert!(
        d.log()
            .contains(&format!("provisioning: auto-registered {MAC} (yealink)"))
    );
    assert_eq!(
        phone.get(&url).status,
        401,
        "no secrets until the admin assigns it"
    );

    let id = dev["id"].as_i64().expect("id");
    let (s, _) = d.call(
        "PATCH",
        &format!("/api/v1/devices/{id}"),
        Some(json!({"user": "anna"})),
    );
    assert_eq!(s, 200);
    assert_eq!(
        phone.get(&url).status,
        200,
        "assigning opens the enrollment window"
    );
}

#[test]
fn https_serves_the_same_files_with_a_certificate_made_for_the_public_host() {
    let d = Daemon::start();
    anna_with_phone(&d);
    let https = d.https_addr();
    let cert = d.dir.path().join("data/tls/cert.pem");
    assert!(cert.exists(), "self-signed certificate written");
    let mut phone = Phone::new(YEALINK_UA);
    phone.extra = vec!["--cacert".into(), cert.display().to_string()];
    let url = format!("https://127.0.0.1:{}/prov/{MAC}.cfg", https.port());
    let got = phone.get(&url);
    assert_eq!(got.status, 200);
    let config = got.text();
    assert!(config.contains(SIP_SECRET));
    assert!(
        config.contains(&format!("https://127.0.0.1:{}/prov", https.port())),
        "the config moves the phone to HTTPS:\n{config}"
    );
    let key = std::fs::metadata(d.dir.path().join("data/tls/key.pem")).expect("key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key.permissions().mode() & 0o077, 0, "the key is private");
}

#[test]
fn firmware_is_uploaded_by_the_admin_served_to_phones_and_named_in_their_config() {
    let d = Daemon::start_with_config("[provisioning]\nmax_firmware_bytes = 100000\n");
    anna_with_phone(&d);
    let blob: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let put = |name: &str, body: Vec<u8>| {
        let resp = d
            .req("PUT", &format!("/api/v1/firmware/{name}"))
            .body(body)
            .send()
            .expect("send");
        crate::harness::status_json(resp)
    };
    let (s, file) = put("T54W-96.86.0.100.rom", blob.clone());
    assert_eq!(s, 201, "{file}");
    assert_eq!(file["size"], 70_000);
    let (s, err) = put("big.rom", vec![0; 100_001]);
    assert_eq!(s, 413, "{err}");
    for bad in ["..", ".hidden", "a%2Fb", "a%5Cb", "x%00y"] {
        let (s, _) = put(bad, vec![1]);
        assert!(s == 422 || s == 404, "{bad}: {s}");
    }
    let (_, list) = d.call("GET", "/api/v1/firmware", None);
    assert_eq!(
        list,
        json!([{"file": "T54W-96.86.0.100.rom", "size": 70_000}]),
        "nothing else was kept"
    );

    let got = Phone::new(YEALINK_UA).get(&d.url("/firmware/T54W-96.86.0.100.rom"));
    assert_eq!(got.status, 200);
    assert_eq!(got.body, blob);
    assert_eq!(
        Phone::new(YEALINK_UA)
            .get(&d.url("/firmware/..%2Fzentrale.db"))
            .status,
        404
    );

    let (s, e) = d.call(
        "PUT",
        "/api/v1/firmware-models/yealink/T54W",
        Some(json!({"file": "missing.rom"})),
    );
    assert_eq!((s, e["field"].clone()), (422, json!("file")));
    let (s, _) = d.call(
        "PUT",
        "/api/v1/firmware-models/yealink/T54W",
        Some(json!({"file": "T54W-96.86.0.100.rom"})),
    );
    assert_eq!(s, 204);
    let config = Phone::new(YEALINK_UA)
        .get(&d.url(&format!("/prov/{MAC}.cfg")))
        .text();
    assert!(
        config.contains("/firmware/T54W-96.86.0.100.rom"),
        "{config}"
    );
    let common = Phone::new(YEALINK_UA)
        .get(&d.url("/prov/y000000000096.cfg"))
        .text();
    assert!(
        common.contains("/firmware/T54W-96.86.0.100.rom"),
        "{common}"
    );
}

/// Per vendor: a real User-Agent, an OUI of theirs, a common file and the device's own file.
const VENDORS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "yealink",
        "Yealink SIP-T54W 96.86.0.100 80:5e:c0:00:00:01",
        "805ec0000001",
        "y000000000096.cfg",
        "805ec0000001.cfg",
    ),
    (
        "snom",
        "Mozilla/4.0 (compatible; snomD785-SIP 10.1.73.16)",
        "000413000002",
        "snomD785.htm",
        "snomD785-000413000002.htm",
    ),
    (
        "poly",
        "FileTransport PolycomVVX-VVX_411-UA/6.3.1.8427 Type/Application",
        "0004f2000003",
        "000000000000.cfg",
        "0004f2000003-user.cfg",
    ),
    (
        "grandstream",
        "Grandstream Model HW GXP2170 SW 1.0.11.3 DevId 000b82000004",
        "000b82000004",
        "cfggxp2170.xml",
        "cfg000b82000004.xml",
    ),
    (
        "fanvil",
        "Fanvil X4U-V2 2.12.20 0c383e000005",
        "0c383e000005",
        "fanvil_x4u_v2_hwv2_0.txt",
        "0c383e000005.cfg",
    ),
    (
        "gigaset",
        "Gigaset N870 IP PRO/83.V2.11.0+build.a546b91;7C2F80000006",
        "7c2f80000006",
        "7C2F80000006.xml",
        "7C2F80000006.xml",
    ),
    (
        "cisco",
        "Cisco-CP-8845-3PCC/12.0.1 (00562b000007)",
        "00562b000007",
        "CP-8845-3PCC.xml",
        "00562b000007.xml",
    ),
];

/// The T43U/T46U/T48U ask for y000000000107/108/109.cfg: served, secret-free, the model's.
#[test]
fn yealink_models_with_three_digit_codes_get_their_common_file() {
    let d = Daemon::start();
    anna_with_phone(&d);
    for (name, model) in [("y000000000108.cfg", "T46U"), ("y000000000109.cfg", "T48U")] {
        let ua = format!("Yealink SIP-{model} 108.86.0.90 44:db:d2:00:00:01");
        let got = Phone::new(&ua).get(&d.url(&format!("/prov/{name}")));
        assert_eq!(got.status, 200, "{name}: {}", got.text());
        let text = got.text();
        assert!(
            key_value(&text, "static.auto_provision.server.url").is_some(),
            "{name}: {text}"
        );
        assert!(!text.contains(SIP_SECRET) && !text.contains("auto_provision.server.password"));
    }
}

#[test]
fn every_vendor_gets_its_files_and_phonebook_by_its_own_names() {
    let d = Daemon::start();
    d.call("POST", "/api/v1/users", Some(json!({"username": "anna", "display_name": "Anna Schmidt", "extension": "100", "auth": "none"})));
    d.call(
        "POST",
        "/api/v1/phonebook",
        Some(json!({"name": "Müller & Söhne <GmbH>", "number": "+4930123456"})),
    );
    let phonebook_url = regex::Regex::new(r"/phonebook/[0-9a-f]{32}/[A-Za-z.]+").expect("regex");
    for (vendor, ua, mac, common, own) in VENDORS {
        let (s, dev) = d.call("POST", "/api/v1/devices", Some(json!({"kind": "ip-phone", "mac": mac, "vendor": vendor, "user": "anna", "sip_password": format!("secret-of-{vendor}")})));
        assert_eq!(s, 201, "{dev}");
        let phone = Phone::new(ua);
        if common != own {
            let got = phone.get(&d.url(&format!("/prov/{common}")));
            assert_eq!(got.status, 200, "{vendor} {common}");
            assert!(
                !got.text().contains("secret-of"),
                "{vendor} {common} holds a secret"
            );
        }
        let got = phone.get(&d.url(&format!("/prov/{own}")));
        assert_eq!(got.status, 200, "{vendor} {own}: {}", got.text());
        let config = got.text();
        assert!(
            config.contains(&format!("secret-of-{vendor}")) && config.contains("Anna Schmidt"),
            "{vendor}:\n{config}"
        );
        let book = phonebook_url
            .find(&config)
            .unwrap_or_else(|| panic!("{vendor}: no phonebook URL"))
            .as_str();
        let book = phone.get(&d.url(book));
        assert_eq!(book.status, 200, "{vendor} phonebook");
        let text = book.text();
        let opts = roxmltree::ParsingOptions {
            allow_dtd: true,
            ..Default::default()
        };
        let doc = roxmltree::Document::parse_with_options(&text, opts)
            .unwrap_or_else(|e| panic!("{vendor} phonebook: {e}\n{text}"));
        let all: String = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(
            all.contains("Müller & Söhne <GmbH>") && all.contains("Anna Schmidt"),
            "{vendor}: {text}"
        );
        assert_eq!(
            phone.get(&d.url(&format!("/prov/{own}"))).status,
            401,
            "{vendor}: the window closed"
        );
    }
}

/// How many lines of `log` the shipped fail2ban filter counts as failures (fail2ban-regex, the
/// real fail2ban, installed by scripts/setup-debian.sh).
pub fn fail2ban_matches(log: &str) -> usize {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("zentrale.log");
    std::fs::write(&file, log).expect("log file");
    let filter = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/packaging/fail2ban/zentrale.conf"
    );
    let out = std::process::Command::new("fail2ban-regex")
        .arg(&file)
        .arg(filter)
        .output()
        .expect("fail2ban-regex must be installed (scripts/setup-debian.sh installs fail2ban)");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "fail2ban-regex: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = text
        .lines()
        .find(|l| l.starts_with("Lines:"))
        .expect("a Lines: summary");
    let matched = line
        .split(", ")
        .find(|p| p.ends_with(" matched"))
        .expect("matched count");
    matched
        .trim_end_matches(" matched")
        .trim()
        .parse()
        .expect("a number")
}

/// A resync mark left by an earlier run goes away with the first fetch after the restart
/// (regression: generations restarted at zero, below the stored mark, and it never cleared).
#[test]
fn a_resync_mark_from_before_a_restart_is_cleared_by_the_next_fetch() {
    let d = Daemon::start();
    d.call("POST", "/api/v1/users", Some(json!({"username": "ben", "display_name": "Ben Weber", "extension": "101", "auth": "none"})));
    d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang"})),
    );
    let (s, _) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "ip-phone", "mac": MAC, "vendor": "yealink", "workplace": "empfang"})),
    );
    assert_eq!(s, 201);
    let phone = Phone::new(YEALINK_UA);
    let url = d.url(&format!("/prov/{MAC}.cfg"));
    let (user, pass) = yealink_credentials(&phone.get(&url).text());
    // Many changes first, so this run's generation is well above the next run's start.
    for i in 0..10 {
        d.call(
            "PATCH",
            "/api/v1/workplaces/empfang",
            Some(json!({"display_name": format!("Empfang {i}")})),
        );
    }
    let (s, _) = d.call(
        "POST",
        "/api/v1/workplaces/empfang/login",
        Some(json!({"username": "ben"})),
    );
    assert_eq!(s, 200);
    let dir = d.kill9();
    let d = Daemon::spawn(dir, "info", &[]);
    assert_eq!(device(&d, 1)["provisioning"]["resync_pending"], true);
    let url = d.url(&format!("/prov/{MAC}.cfg"));
    assert!(
        phone
            .with_digest(&user, &pass)
            .get(&url)
            .text()
            .contains("Ben Weber")
    );
    assert_eq!(
        device(&d, 1)["provisioning"]["resync_pending"],
        false,
        "the mark from before the restart stayed"
    );
}
