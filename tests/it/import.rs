//! The xlsx import against the real daemon and CLI: the template it writes, filled by openpyxl
//! the way a spreadsheet program saves one, imported and checked record by record; dry runs,
//! repeats, problems, prune, roles, secrets.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Daemon, eventually, status_json, zentrale};

pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The venv python with openpyxl that scripts/setup-debian.sh makes.
fn python() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup-debian.sh",
        p.display()
    );
    p
}

const WORKBOOK_PY: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/workbook.py");

/// `template` with the rows of `spec` added by openpyxl (see tests/fixtures/workbook.py).
pub fn fill(template: &[u8], spec: &Value) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, output) = (dir.path().join("t.xlsx"), dir.path().join("f.xlsx"));
    std::fs::write(&input, template).expect("template");
    let mut child = Command::new(python())
        .arg(WORKBOOK_PY)
        .arg("fill")
        .arg(&input)
        .arg(&output)
        .stdin(Stdio::piped())
        .spawn()
        .expect("python");
    serde_json::to_writer(child.stdin.take().expect("stdin"), spec).expect("spec");
    assert!(child.wait().expect("wait").success(), "workbook.py fill");
    std::fs::read(output).expect("filled")
}

/// Every sheet of `bytes` as openpyxl reads it.
pub fn dump(bytes: &[u8]) -> Value {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("d.xlsx");
    std::fs::write(&path, bytes).expect("write");
    let out = Command::new(python())
        .arg(WORKBOOK_PY)
        .arg("dump")
        .arg(&path)
        .output()
        .expect("python");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("dump JSON")
}

pub fn template(d: &Daemon, query: &str) -> Vec<u8> {
    let resp = d
        .req("GET", &format!("/api/v1/import/template{query}"))
        .send()
        .expect("template");
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], XLSX);
    resp.bytes().expect("bytes").to_vec()
}

pub fn import(d: &Daemon, query: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = d
        .req("POST", &format!("/api/v1/import{query}"))
        .header("content-type", XLSX)
        .body(body)
        .send()
        .expect("import");
    status_json(resp)
}

fn get(d: &Daemon, path: &str) -> Value {
    let (status, body) = d.call("GET", path, None);
    assert_eq!(status, 200, "{path}: {body}");
    body
}

/// Create/update/unchanged/delete totals of a report.
fn totals(report: &Value) -> [u64; 4] {
    let sum = |k: &str| {
        report["sheets"]
            .as_array()
            .expect("sheets")
            .iter()
            .map(|s| s[k].as_u64().expect("count"))
            .sum()
    };
    [
        sum("create"),
        sum("update"),
        sum("unchanged"),
        sum("delete"),
    ]
}

fn site() -> Value {
    json!({"rows": {
        "Users": [
            ["anna", "Anna Schmidt", "100", "local", "anna-password-1", "4711", "190",
             "anna@example.com", "de", "all", "yes", "+491701234567", "admin", "standard"],
            // An extension typed as a number, as a spreadsheet stores it.
            ["bernd", "Bernd Meier", 101, "none", null, null, null, null, "en", "external", "no"],
            ["carla", "Carla Weiß", "0102", "ldap"],
        ],
        "Phones": [
            ["00:15:65:AA:BB:CC", "yealink", "T54W", null, null, "empfang"],
            ["0004.f2ab.cdef", "poly", "VVX450", "Chef", "anna"],
        ],
        "Workplaces": [["empfang", "Empfang", "anna, bernd", "admin"]],
        "Phonebook": [["ACME Zentrale", "+4930123456", "ACME GmbH", "info@acme.example",
                       "+491709876543", null, "Kunde seit 2019"]],
        "SpeedDials": [["801", "Heizung Notdienst", "+49301234567"]],
        "ActionTemplates": [
            ["standard", "external", "before", "announcement", "welcome"],
            ["standard", "internal", "after", "forward-user", "bernd"],
        ],
    }})
}

/// Everything an import touches, as the API shows it.
fn state(d: &Daemon) -> Value {
    json!({
        "users": get(d, "/api/v1/users"),
        "devices": get(d, "/api/v1/devices"),
        "workplaces": get(d, "/api/v1/workplaces"),
        "phonebook": get(d, "/api/v1/phonebook"),
        "speed_dials": get(d, "/api/v1/speed-dials"),
        "templates": get(d, "/api/v1/action-templates"),
    })
}

#[test]
fn template_filled_by_openpyxl_imports_with_every_side_effect() {
    let d = Daemon::start();
    let file = fill(&template(&d, ""), &site());

    let (status, plan) = import(&d, "?dry_run=true", file.clone());
    assert_eq!(status, 200, "{plan}");
    assert_eq!(
        (plan["dry_run"].clone(), plan["applied"].clone()),
        (json!(true), json!(false))
    );
    assert_eq!(totals(&plan), [9, 0, 0, 0], "{plan}");
    assert_eq!(
        get(&d, "/api/v1/users"),
        json!([]),
        "a dry run changes nothing"
    );
    assert_eq!(get(&d, "/api/v1/devices"), json!([]));

    let (status, report) = import(&d, "", file.clone());
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["applied"], json!(true));
    assert_eq!(totals(&report), [9, 0, 0, 0]);

    let anna = get(&d, "/api/v1/users/anna");
    for (field, value) in [
        ("extension", json!("100")),
        ("fax_extension", json!("190")),
        ("voicemail", json!("all")),
        ("softphone", json!(true)),
        ("mobile_number", json!("+491701234567")),
        ("role", json!("admin")),
        ("action_template", json!("standard")),
        ("has_password", json!(true)),
        ("has_pin", json!(true)),
    ] {
        assert_eq!(anna[field], value, "anna.{field}");
    }
    let bernd = get(&d, "/api/v1/users/bernd");
    assert_eq!(
        (&bernd["extension"], &bernd["language"], &bernd["voicemail"]),
        (&json!("101"), &json!("en"), &json!("external"))
    );
    assert_eq!(get(&d, "/api/v1/users/carla")["extension"], json!("0102"));
    let kinds: Vec<Value> = get(&d, "/api/v1/users/anna/devices")
        .as_array()
        .expect("devices")
        .iter()
        .map(|dev| json!([dev["kind"], dev["label"]]))
        .collect();
    for want in [
        json!(["ip-phone", "Chef"]),
        json!(["softphone", "Softphone"]),
    ] {
        assert!(kinds.contains(&want), "{want} in {kinds:?}");
    }
    let actions = get(&d, "/api/v1/users/anna/actions");
    assert_eq!(
        actions.as_array().map(Vec::len),
        Some(2),
        "voicemail=all: {actions}"
    );

    let empfang = get(&d, "/api/v1/workplaces/empfang");
    assert_eq!(empfang["allowed_users"], json!(["anna", "bernd"]));
    assert_eq!(empfang["allowed_roles"], json!(["admin"]));
    let phone = &empfang["devices"][0];
    assert_eq!(
        (&phone["mac"], &phone["provisioning"]["state"]),
        (&json!("001565aabbcc"), &json!("enrolling"))
    );
    let entry = &get(&d, "/api/v1/phonebook")[0];
    assert_eq!(entry["company"], json!("ACME GmbH"));
    assert_eq!(
        entry["extra"],
        json!({"email": "info@acme.example", "mobile": "+491709876543", "notes": "Kunde seit 2019"})
    );
    assert_eq!(
        get(&d, "/api/v1/speed-dials/801")["number"],
        json!("+49301234567")
    );
    let standard = get(&d, "/api/v1/action-templates/standard");
    assert_eq!(standard["users"], json!(["anna"]));
    assert_eq!(standard["actions"][1]["target"], json!("bernd"));

    // The same file again changes nothing at all.
    let before = json!([state(&d), get(&d, "/api/v1/users/anna/actions")]);
    let (status, again) = import(&d, "", file);
    assert_eq!(status, 200, "{again}");
    assert_eq!(totals(&again), [0, 0, 9, 0], "{again}");
    assert_eq!(again["changes"], json!([]));
    let after = json!([state(&d), get(&d, "/api/v1/users/anna/actions")]);
    assert_eq!(after, before, "a repeated import left traces");

    // The side effects reach the phones and the login.
    let me = d
        .anon("GET", "/api/v1/me")
        .basic_auth("anna", Some("anna-password-1"))
        .send()
        .expect("me");
    assert_eq!(
        me.status().as_u16(),
        200,
        "anna logs in with the imported password"
    );
    let config = d
        .anon("GET", "/prov/001565aabbcc.cfg")
        .header(
            "user-agent",
            "Yealink SIP-T54W 96.86.0.100 00:15:65:aa:bb:cc",
        )
        .send()
        .expect("config");
    assert_eq!(config.status().as_u16(), 200);
    let text = config.text().expect("text");
    assert!(
        text.contains(phone["sip_username"].as_str().expect("sip user")),
        "{text}"
    );
    assert!(text.contains("Empfang"), "the workplace label: {text}");
}

#[test]
fn every_problem_is_located_and_nothing_is_applied() {
    let d = Daemon::start();
    let spec = json!({
        "rows": {"Users": [
            ["anna", "Anna", "100", "none"],
            ["anna", "Anna again", "109", "none"],
            ["Bad Name", "Bad", null, "none"],
            ["dora", "Dora", "12a", "none"],
            ["emil", "Emil", "100", "none"],
            ["fritz", "Fritz", "=1+1", "none"],
            ["gina", "Gina", null, "sometimes"],
            ["hans", null, null, "none"],
            ["ida", "Ida", null, "local"],
        ], "Phones": [
            ["00:15:65:AA:BB", "yealink"],
            ["001565000002", "nokia"],
            ["001565000003", "yealink", "T54W", null, "nobody"],
        ]},
        "header": {"Workplaces": ["name", "display_name", "colour"]},
        "new_sheets": {"Extras": [["x"]]},
    });
    let file = fill(&template(&d, ""), &spec);
    let (status, err) = import(&d, "", file);
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["field"], json!("file"));
    let report = &err["report"];
    assert_eq!(report["applied"], json!(false));
    let found: Vec<(String, Value, Value)> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["sheet"].as_str().expect("sheet").to_owned(),
                p["cell"].clone(),
                p["message"].clone(),
            )
        })
        .collect();
    let has = |sheet: &str, cell: Option<&str>, words: &str| {
        found.iter().any(|(s, c, m)| {
            s == sheet && *c == json!(cell) && m.as_str().is_some_and(|m| m.contains(words))
        })
    };
    for (sheet, cell, words) in [
        ("Users", Some("A3"), "already in row 2"),
        ("Users", Some("A4"), "lowercase"),
        ("Users", Some("C5"), "digits"),
        ("Users", Some("C6"), "already in use"),
        ("Users", Some("C7"), "formula"),
        ("Users", Some("D8"), "not one of"),
        ("Users", Some("B9"), "must not be empty"),
        ("Users", Some("E10"), "required when auth is local"),
        ("Phones", Some("A2"), "MAC"),
        ("Phones", Some("B3"), "not one of"),
        ("Phones", Some("E4"), "no user nobody"),
        ("Workplaces", Some("C1"), "unknown column"),
        ("Extras", None, "unknown sheet"),
    ] {
        assert!(
            has(sheet, cell, words),
            "no problem {sheet} {cell:?} {words:?} in {found:#?}"
        );
    }
    assert_eq!(found.len(), 13, "{found:#?}");
    assert_eq!(
        get(&d, "/api/v1/users"),
        json!([]),
        "the good rows were not applied either"
    );
    assert_eq!(get(&d, "/api/v1/devices"), json!([]));
}

#[test]
fn exports_escape_formula_lookalikes_and_import_back_unchanged() {
    let d = Daemon::start();
    for (name, display, mobile) in [
        ("eve", "=cmd|' /C calc'!A0", "+491701111111"),
        ("mallory", "@SUM(A1:A9)", "+491702222222"),
        ("trent", "-2+3", "+491703333333"),
    ] {
        let body = json!({"username": name, "display_name": display, "auth": "local",
                          "password": "secret-pass-1", "mobile_number": mobile});
        assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    }
    let export = template(&d, "?with_data=true");
    let sheets = dump(&export);
    let users = &sheets["Users"];
    let rows = users["rows"].as_array().expect("rows");
    assert_eq!(
        rows[1][1],
        json!("=cmd|' /C calc'!A0"),
        "exact value, not a formula"
    );
    assert_eq!(rows[2][1], json!("@SUM(A1:A9)"));
    for cell in ["B2", "B3", "B4", "L2", "L3", "L4"] {
        assert!(
            users["quoted"]
                .as_array()
                .expect("quoted")
                .contains(&json!(cell)),
            "{cell} quoted: {users}"
        );
    }
    for row in &rows[1..] {
        assert_eq!(
            (&row[4], &row[5]),
            (&Value::Null, &Value::Null),
            "no secrets: {row:?}"
        );
    }
    assert!(
        !export.windows(13).any(|w| w == b"secret-pass-1"),
        "the password is nowhere in the file"
    );
    let before = state(&d);
    let (status, report) = import(&d, "", export);
    assert_eq!(status, 200, "{report}");
    assert_eq!(totals(&report), [0, 0, 3, 0], "{report}");
    assert_eq!(state(&d), before);
}

#[test]
fn secrets_are_kept_unless_reset_and_never_reported() {
    let d = Daemon::start();
    let row = |pw: &str| json!({"rows": {"Users": [["pat", "Pat", "300", "local", pw, null, null, null, null, null, null, null, "admin"]]}});
    let me = |pw: &str| {
        d.anon("GET", "/api/v1/me")
            .basic_auth("pat", Some(pw))
            .send()
            .expect("me")
            .status()
            .as_u16()
    };
    let blank = template(&d, "");
    let (status, _) = import(&d, "", fill(&blank, &row("first-pass-1")));
    assert_eq!(status, 200);
    assert_eq!(me("first-pass-1"), 200);

    let (status, report) = import(&d, "", fill(&blank, &row("second-pass-2")));
    assert_eq!(status, 200, "{report}");
    assert_eq!(
        totals(&report),
        [0, 0, 1, 0],
        "the user's password stays: {report}"
    );
    assert!(
        report["notices"][0]
            .as_str()
            .is_some_and(|n| n.contains("--reset-secrets")),
        "{report}"
    );
    assert_eq!((me("first-pass-1"), me("second-pass-2")), (200, 401));

    let (status, report) = import(
        &d,
        "?reset_secrets=true",
        fill(&blank, &row("second-pass-2")),
    );
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["changes"][0]["fields"], json!(["password"]));
    assert_eq!((me("first-pass-1"), me("second-pass-2")), (401, 200));
    let text = report.to_string() + &d.log();
    for secret in ["first-pass-1", "second-pass-2"] {
        assert!(!text.contains(secret), "{secret} in a report or the log");
    }
}

#[test]
fn the_callers_role_bounds_the_file() {
    let d = Daemon::start();
    let tel = json!({"username": "tel", "display_name": "Tel", "password": "tel-pass-123", "role": "telephony-admin"});
    assert_eq!(d.call("POST", "/api/v1/users", Some(tel)).0, 201);
    let boss =
        json!({"username": "boss", "display_name": "Boss", "auth": "none", "role": "system-admin"});
    assert_eq!(d.call("POST", "/api/v1/users", Some(boss)).0, 201);
    let spec = json!({"rows": {"Users": [
        ["newroot", "New Root", null, "none", null, null, null, null, null, null, null, null, "system-admin"],
        ["boss", "Boss renamed", null, "none", null, null, null, null, null, null, null, null, "system-admin"],
        ["helper", "Helper", null, "none", null, null, null, null, null, null, null, null, "phonebook-admin"],
    ]}});
    let resp = d
        .anon("POST", "/api/v1/import")
        .basic_auth("tel", Some("tel-pass-123"))
        .header("content-type", XLSX)
        .body(fill(&template(&d, ""), &spec))
        .send()
        .expect("import");
    let (status, err) = status_json(resp);
    assert_eq!(status, 422, "{err}");
    let cells: Vec<&Value> = err["report"]["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| &p["cell"])
        .collect();
    assert_eq!(cells, [&json!("M2"), &json!("A3")], "{err}");
    assert_eq!(get(&d, "/api/v1/users/boss")["display_name"], json!("Boss"));
}

#[test]
fn cli_plans_prunes_only_with_yes_and_writes_the_template() {
    let d = Daemon::start();
    let dir = d.dir.path();
    let template_path = dir.join("template.xlsx");
    let out = zentrale(
        dir,
        &[
            "import",
            "--template",
            template_path.to_str().expect("path"),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let blank = std::fs::read(&template_path).expect("template");
    let sheets = dump(&blank);
    let names: Vec<&String> = sheets.as_object().expect("sheets").keys().collect();
    for sheet in [
        "Users",
        "Phones",
        "Workplaces",
        "Phonebook",
        "SpeedDials",
        "ActionTemplates",
        "Notes",
    ] {
        assert!(names.iter().any(|n| *n == sheet), "{sheet} in {names:?}");
    }
    let users = &sheets["Users"];
    assert_eq!(users["rows"][0][0], json!("username"));
    assert_eq!(
        users["validations"]["D2:D50001"],
        json!("\"local,ldap,none,-\"")
    );
    assert!(
        users["column_formats"]
            .as_array()
            .expect("formats")
            .iter()
            .all(|c| c[2] == json!("@"))
    );
    assert!(
        users["notes"]["C1"]
            .as_str()
            .is_some_and(|n| n.contains("Durchwahl"))
    );
    assert!(
        sheets["Notes"]["rows"]
            .to_string()
            .contains("So funktioniert der Import")
    );

    let path = |name: &str, spec: Value| {
        let p = dir.join(name);
        std::fs::write(&p, fill(&blank, &spec)).expect("write");
        p.to_str().expect("path").to_owned()
    };
    let both = path(
        "both.xlsx",
        json!({"rows": {"Users": [["anna", "Anna", "100", "none"], ["bernd", "Bernd", "101", "none"]]}}),
    );
    let out = zentrale(dir, &["import", &both]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Users: create 2"));

    let one = path(
        "one.xlsx",
        json!({"rows": {"Users": [["anna", "Anna", "100", "none"]]}}),
    );
    let out = zentrale(dir, &["import", &one, "--prune"]);
    assert!(!out.status.success(), "a prune without --yes fails");
    assert!(String::from_utf8_lossy(&out.stdout).contains("delete Users: bernd"));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--yes"));
    assert_eq!(
        get(&d, "/api/v1/users/bernd")["username"],
        json!("bernd"),
        "still there"
    );
    let out = zentrale(dir, &["import", &one, "--prune", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.call("GET", "/api/v1/users/bernd", None).0, 404);

    let bad = path(
        "bad.xlsx",
        json!({"rows": {"Users": [["anna", "Anna", "1x"]]}}),
    );
    let out = zentrale(dir, &["import", &bad, "--dry-run"]);
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Users row 2, column extension (C2)"),
        "{stdout}"
    );
}

/// Regression: a change the CLI committed beside the running daemon never reached the phones,
/// whose configs the daemon had rendered (its update hook sees only its own writes).
#[test]
fn a_cli_import_beside_the_daemon_reaches_the_phones() {
    use crate::phone::Phone;
    use crate::provisioning::{YEALINK_UA, anna_with_phone, yealink_credentials};
    let d = Daemon::start();
    anna_with_phone(&d);
    let url = d.url("/prov/001565aabbcc.cfg");
    let first = Phone::new(YEALINK_UA).get(&url).text();
    assert!(first.contains("Anna Schmidt"), "{first}");
    let (user, pass) = yealink_credentials(&first);
    let phone = Phone::new(YEALINK_UA).with_digest(&user, &pass);
    assert!(
        phone.get(&url).text().contains("Anna Schmidt"),
        "rendered and cached"
    );

    let file = d.dir.path().join("rename.xlsx");
    let spec = json!({"rows": {"Users": [["anna", "Anna Berger"]]}});
    std::fs::write(&file, fill(&template(&d, ""), &spec)).expect("write");
    let out = zentrale(d.dir.path(), &["import", file.to_str().expect("path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The daemon reads the change log every second; give it a bounded while.
    let renamed = eventually(Duration::from_secs(15), || {
        let text = phone.get(&url).text();
        text.contains("Anna Berger").then_some(text)
    })
    .unwrap_or_else(|| phone.get(&url).text());
    assert!(
        renamed.contains("Anna Berger"),
        "still the old config: {renamed}"
    );
}
