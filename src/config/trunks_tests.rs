use super::*;
use crate::config::Config;

const FULL: &str = r#"
[[sip.trunks]]
name = "telekom"
address = "sip.example.net:5070"
transport = "tcp"
username = "0301234567"
password = "s3cret-Trunk-pw"
dids = { "+49301234567" = "100", "0301234568" = "sales" }
caller_id = "+49301234567"
allowed_networks = ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7"]
prefixes = ["0", "+"]

[[sip.trunks]]
name = "backup"
address = "[2001:db8::1]"
register = false
"#;

fn problems(text: &str) -> Vec<String> {
    Config::parse(text).expect_err("invalid").problems()
}

/// The config with one trunk of the minimal keys plus `extra` lines.
fn one(extra: &str) -> String {
    format!(
        "[[sip.trunks]]\nname = \"t\"\naddress = \"sip.example.net\"\nusername = \"u\"\npassword = \"p\"\n{extra}\n"
    )
}

#[test]
fn a_full_trunk_and_a_minimal_one_parse() {
    let c = Config::parse(FULL).expect("valid");
    let [full, backup] = &c.sip.trunks[..] else {
        panic!("two trunks: {:?}", c.sip.trunks);
    };
    assert_eq!(full.name, "telekom");
    assert_eq!(
        full.address,
        TrunkAddress {
            host: "sip.example.net".into(),
            port: 5070
        }
    );
    assert_eq!(full.transport, TrunkTransport::Tcp);
    assert_eq!(full.username, "0301234567");
    assert_eq!(full.password.expose(), "s3cret-Trunk-pw");
    assert!(full.register);
    assert_eq!(
        full.dids.get("+49301234567"),
        Some(&DidTarget::Extension("100".into()))
    );
    assert_eq!(
        full.dids.get("0301234568"),
        Some(&DidTarget::Team("sales".into()))
    );
    assert_eq!(full.caller_id.as_deref(), Some("+49301234567"));
    let nets: Vec<String> = full
        .allowed_networks
        .iter()
        .map(|n| n.to_string())
        .collect();
    assert_eq!(nets, ["192.0.2.0/24", "2001:db8::/32", "198.51.100.7/32"]);
    assert_eq!(full.prefixes, ["0", "+"]);
    assert_eq!(backup.address.host, "2001:db8::1");
    assert_eq!(backup.address.port, 5060);
    assert_eq!(backup.transport, TrunkTransport::Udp);
    assert!(!backup.register);
    assert!(backup.username.is_empty() && backup.dids.is_empty() && backup.prefixes.is_empty());
    assert!(Config::parse("").expect("defaults").sip.trunks.is_empty());
}

#[test]
fn the_password_is_never_printed() {
    let c = Config::parse(FULL).expect("valid");
    let debug = format!("{c:?}");
    assert!(debug.contains("telekom"), "the trunk is in the output");
    assert!(!debug.contains("s3cret-Trunk-pw"), "{debug}");
    // Nor quoted when it has the wrong type, nor when it is refused.
    for bad in ["password = 98765432", "password = \"a\\u0007b98765432\""] {
        let text = one("").replace("password = \"p\"", bad);
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("sip.trunks[0].password:"), "{p:?}");
        assert!(!p[0].contains("98765432"), "{p:?}");
    }
}

/// Every rejection, one at a time: exactly one problem, naming the key.
#[test]
fn every_bad_key_is_one_problem_with_its_key() {
    let cases: &[(&str, &str, &str)] = &[
        ("name = \"t\"", "name = \"Telekom\"", "name"),
        ("name = \"t\"", "", "name"),
        ("address = \"sip.example.net\"", "", "address"),
        (
            "address = \"sip.example.net\"",
            "address = \"sip example\"",
            "address",
        ),
        (
            "address = \"sip.example.net\"",
            "address = \"host:0\"",
            "address",
        ),
        (
            "address = \"sip.example.net\"",
            "address = \"host:99999\"",
            "address",
        ),
        (
            "address = \"sip.example.net\"",
            "address = \"2001:db8::1\"",
            "address",
        ),
        (
            "address = \"sip.example.net\"",
            "address = \"[2001:db8::1\"",
            "address",
        ),
        (
            "address = \"sip.example.net\"",
            "address = \"[2001:db8::1]5060\"",
            "address",
        ),
        (
            "address = \"sip.example.net\"",
            "address = \"-bad-.net\"",
            "address",
        ),
        ("username = \"u\"", "username = \"a b\"", "username"),
        ("username = \"u\"", "", "register"),
        ("password = \"p\"", "", "register"),
    ];
    for (from, to, key) in cases {
        let text = one("").replace(from, to);
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{to:?}: {p:?}");
        assert!(
            p[0].starts_with(&format!("sip.trunks[0].{key}:")),
            "{to:?}: {p:?}"
        );
    }
    let extras: &[(&str, &str)] = &[
        ("transport = \"tls\"", "transport"),
        ("register = \"yes\"", "register"),
        ("dids = { \"12a\" = \"100\" }", "dids"),
        ("dids = { \"+4930\" = \"Sales Team\" }", "dids"),
        ("dids = { \"+4930\" = 100 }", "dids"),
        ("caller_id = \"+49 30 1234\"", "caller_id"),
        ("caller_id = \"1\"", "caller_id"),
        ("allowed_networks = [\"192.0.2.0/33\"]", "allowed_networks"),
        ("allowed_networks = [\"anywhere\"]", "allowed_networks"),
        ("prefixes = [\"\"]", "prefixes"),
        ("prefixes = [\"0x\"]", "prefixes"),
        ("prefixes = [\"++49\"]", "prefixes"),
        ("proxy = \"sip.example.net\"", "proxy"),
    ];
    for (extra, key) in extras {
        let p = problems(&one(extra));
        assert_eq!(p.len(), 1, "{extra}: {p:?}");
        assert!(
            p[0].starts_with(&format!("sip.trunks[0].{key}:")),
            "{extra}: {p:?}"
        );
    }
}

#[test]
fn trunk_level_problems_are_reported_together() {
    let p = problems(&format!("{}{}", one(""), one("")));
    assert_eq!(p, ["sip.trunks: two trunks are named \"t\""]);
    let p = problems("[sip]\ntrunks = \"telekom\"\n");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("sip.trunks:"), "{p:?}");
    let p = problems("[sip]\ntrunks = [1]\n");
    assert_eq!(p, ["sip.trunks[0]: must be a table"]);
    // Several bad keys of several trunks: all of them at once, each with its trunk's index.
    let text = format!(
        "{}{}",
        one("transport = \"sctp\""),
        one("caller_id = \"x\"").replace("name = \"t\"", "name = \"u\"")
    );
    let p = problems(&text);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].starts_with("sip.trunks[0].transport:"), "{p:?}");
    assert!(p[1].starts_with("sip.trunks[1].caller_id:"), "{p:?}");
}

#[test]
fn call_retention_is_bounded() {
    assert_eq!(
        Config::parse("").expect("defaults").calls.retention_days,
        90
    );
    let c = Config::parse("[calls]\nretention_days = 7\n").expect("valid");
    assert_eq!(c.calls.retention_days, 7);
    let now = crate::clock::UnixTime::from_secs(10 * 86_400 + 5);
    assert_eq!(c.calls.cutoff(now).secs(), 3 * 86_400 + 5);
    for bad in ["0", "3651", "-1", "\"long\""] {
        let p = problems(&format!("[calls]\nretention_days = {bad}\n"));
        assert_eq!(p.len(), 1, "{bad}: {p:?}");
        assert!(p[0].starts_with("calls.retention_days:"), "{bad}: {p:?}");
    }
    let p = problems("[calls]\nkeep = 1\n");
    assert_eq!(p, ["calls.keep: unknown key"]);
}
