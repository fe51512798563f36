//! The seed's quick-create form over real HTTP: one test per validation rule, every side effect.

use serde_json::{Value, json};

use crate::harness::Daemon;

fn anna() -> Value {
    json!({"username": "anna", "display_name": "Anna Schmidt", "extension": "100",
           "password": "password-1", "pin": "1234"})
}

fn with(mut base: Value, key: &str, value: Value) -> Value {
    base[key] = value;
    base
}

/// Posts a user and expects `status` with `field` named in the error.
fn rejected(d: &Daemon, body: Value, status: u16, field: &str) {
    let (got, err) = d.call("POST", "/api/v1/users", Some(body.clone()));
    assert_eq!(got, status, "{body} -> {err}");
    assert_eq!(err["field"], field, "{body} -> {err}");
    assert!(
        err["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{err}"
    );
}

#[test]
fn username_must_be_lowercase() {
    let d = Daemon::start();
    for bad in ["Anna", "anna schmidt", "ännä", "", "-anna"] {
        rejected(&d, with(anna(), "username", json!(bad)), 422, "username");
    }
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/users",
            Some(with(anna(), "username", json!("anna.s-1_x")))
        )
        .0,
        201
    );
}

#[test]
fn username_must_be_unique() {
    let d = Daemon::start();
    assert_eq!(d.call("POST", "/api/v1/users", Some(anna())).0, 201);
    rejected(&d, with(anna(), "extension", json!("101")), 409, "username");
    // An admin account's name is taken too: logins are one namespace.
    rejected(
        &d,
        with(
            with(anna(), "username", json!("root")),
            "extension",
            json!("102"),
        ),
        409,
        "username",
    );
}

#[test]
fn password_needs_eight_characters() {
    let d = Daemon::start();
    rejected(
        &d,
        with(anna(), "password", json!("1234567")),
        422,
        "password",
    );
    let mut no_password = anna();
    no_password
        .as_object_mut()
        .expect("object")
        .remove("password");
    rejected(&d, no_password.clone(), 422, "password");
    // Without local login no password is needed.
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/users",
            Some(with(no_password, "auth", json!("ldap")))
        )
        .0,
        201
    );
}

#[test]
fn pin_needs_four_digits_only() {
    let d = Daemon::start();
    for bad in ["123", "12a4", "12 34", "+1234"] {
        rejected(&d, with(anna(), "pin", json!(bad)), 422, "pin");
    }
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/users",
            Some(with(anna(), "pin", json!("0000")))
        )
        .0,
        201
    );
}

#[test]
fn extension_is_digits_and_unique_across_every_number() {
    let d = Daemon::start();
    for bad in ["10a", "+100", "1 00", ""] {
        rejected(&d, with(anna(), "extension", json!(bad)), 422, "extension");
    }
    let first = with(anna(), "fax_extension", json!("190"));
    assert_eq!(d.call("POST", "/api/v1/users", Some(first)).0, 201);
    let bob = json!({"username": "bob", "display_name": "Bob", "auth": "none"});
    // Taken by a user, by a fax device, and the user's own fax in the same request.
    rejected(
        &d,
        with(bob.clone(), "extension", json!("100")),
        409,
        "extension",
    );
    rejected(
        &d,
        with(bob.clone(), "extension", json!("190")),
        409,
        "extension",
    );
    rejected(
        &d,
        with(bob.clone(), "fax_extension", json!("100")),
        409,
        "fax_extension",
    );
    let own = with(
        with(bob.clone(), "extension", json!("200")),
        "fax_extension",
        json!("200"),
    );
    rejected(&d, own, 409, "fax_extension");
    assert_eq!(
        d.call("GET", "/api/v1/users/bob", None).0,
        404,
        "nothing of a refused user is kept"
    );
}

#[test]
fn email_must_be_an_address() {
    let d = Daemon::start();
    for bad in ["anna", "anna@", "@example.com", "anna example@x.de"] {
        rejected(&d, with(anna(), "email", json!(bad)), 422, "email");
    }
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/users",
            Some(with(anna(), "email", json!("anna@example.com")))
        )
        .0,
        201
    );
}

#[test]
fn language_is_one_of_the_supported() {
    let d = Daemon::start();
    rejected(&d, with(anna(), "language", json!("xx")), 422, "language");
    let (status, user) = d.call(
        "POST",
        "/api/v1/users",
        Some(with(anna(), "language", json!("en"))),
    );
    assert_eq!((status, &user["language"]), (201, &json!("en")));
    let (_, bob) = d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "bob", "display_name": "Bob", "auth": "none"})),
    );
    assert_eq!(bob["language"], "de", "the configured default");
}

#[test]
fn display_name_rejects_control_characters() {
    let d = Daemon::start();
    for bad in ["Anna\r\nSchmidt", "Anna\u{0}", "  "] {
        rejected(
            &d,
            with(anna(), "display_name", json!(bad)),
            422,
            "display_name",
        );
    }
}

#[test]
fn every_user_gets_a_voicemail_box_and_a_phonebook_entry() {
    let d = Daemon::start();
    d.call("POST", "/api/v1/users", Some(anna()));
    let (status, vm) = d.call("GET", "/api/v1/users/anna/voicemail", None);
    assert_eq!(status, 200);
    assert_eq!(
        vm,
        json!({"keep_messages": false, "email": null, "monitored_mailbox": null})
    );
    let (_, pb) = d.call("GET", "/api/v1/users/anna/phonebook", None);
    assert_eq!(pb, json!({"enabled": true, "extra": {}}));
    let (_, user) = d.call("GET", "/api/v1/users/anna", None);
    assert_eq!(user["voicemail"], "none");
    assert_eq!(
        d.call("GET", "/api/v1/users/anna/actions", None).1,
        json!([]),
        "voicemail none: no action"
    );
}

#[test]
fn fax_extension_creates_a_virtual_fax_device() {
    let d = Daemon::start();
    let body = with(
        with(anna(), "fax_extension", json!("190")),
        "email",
        json!("anna@example.com"),
    );
    let (_, user) = d.call("POST", "/api/v1/users", Some(body));
    assert_eq!(user["fax_extension"], "190");
    let (status, fax) = d.call("GET", "/api/v1/users/anna/fax", None);
    assert_eq!(status, 200);
    assert_eq!(fax["extension"], "190");
    assert_eq!(fax["format"], "pdf");
    let devices = d.call("GET", "/api/v1/users/anna/devices", None).1;
    let faxes: Vec<_> = devices
        .as_array()
        .expect("list")
        .iter()
        .filter(|x| x["kind"] == "fax")
        .collect();
    assert_eq!(faxes.len(), 1, "{devices}");
    // Clearing the fax extension removes the device and frees the number.
    d.call(
        "PATCH",
        "/api/v1/users/anna",
        Some(json!({"fax_extension": null})),
    );
    assert_eq!(d.call("GET", "/api/v1/users/anna/fax", None).0, 404);
    let bob = json!({"username": "bob", "display_name": "Bob", "auth": "none", "extension": "190"});
    assert_eq!(d.call("POST", "/api/v1/users", Some(bob)).0, 201);
}

fn voicemail_actions(d: &Daemon, user: &str) -> Vec<(String, String)> {
    let list = d
        .call("GET", &format!("/api/v1/users/{user}/actions"), None)
        .1;
    list.as_array()
        .expect("list")
        .iter()
        .filter(|a| a["kind"] == "voicemail")
        .map(|a| {
            (
                a["scope"].as_str().expect("scope").to_owned(),
                a["timing"].as_str().expect("timing").to_owned(),
            )
        })
        .collect()
}

#[test]
fn voicemail_choice_creates_the_matching_after_actions() {
    let d = Daemon::start();
    let cases = [
        ("external", vec![("external", "after")]),
        ("internal", vec![("internal", "after")]),
        ("all", vec![("internal", "after"), ("external", "after")]),
        ("none", vec![]),
    ];
    for (i, (mode, expected)) in cases.iter().enumerate() {
        let name = format!("user{i}");
        let body =
            json!({"username": name, "display_name": "U", "auth": "none", "voicemail": mode});
        let (status, user) = d.call("POST", "/api/v1/users", Some(body));
        assert_eq!((status, &user["voicemail"]), (201, &json!(mode)));
        let expected: Vec<(String, String)> = expected
            .iter()
            .map(|(a, b)| ((*a).into(), (*b).into()))
            .collect();
        assert_eq!(voicemail_actions(&d, &name), expected, "{mode}");
    }
    // Changing the choice later adjusts the actions, and only those.
    d.call("POST", "/api/v1/users/user0/actions", Some(json!({"scope": "internal", "timing": "before", "kind": "announcement", "target": "welcome"})));
    d.call(
        "PATCH",
        "/api/v1/users/user0",
        Some(json!({"voicemail": "internal"})),
    );
    assert_eq!(
        voicemail_actions(&d, "user0"),
        vec![("internal".into(), "after".into())]
    );
    assert_eq!(
        d.call("GET", "/api/v1/users/user0/actions", None)
            .1
            .as_array()
            .expect("list")
            .len(),
        2
    );
}

#[test]
fn softphone_and_mobile_create_devices() {
    let d = Daemon::start();
    let body = with(
        with(anna(), "softphone", json!(true)),
        "mobile_number",
        json!("+491701234567"),
    );
    let (_, user) = d.call("POST", "/api/v1/users", Some(body));
    assert_eq!(
        (user["softphone"].clone(), user["mobile_number"].clone()),
        (json!(true), json!("+491701234567"))
    );
    let devices = d.call("GET", "/api/v1/users/anna/devices", None).1;
    let kinds: Vec<&str> = devices
        .as_array()
        .expect("list")
        .iter()
        .map(|x| x["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["softphone", "mobile"]);
    let mobile = &devices[1];
    assert_eq!(mobile["number"], "+491701234567");
    assert_eq!(
        mobile["followme"]["external"],
        json!({"enabled": true, "wait": 0, "timeout": 30})
    );
    assert_eq!(user["phone_status"]["direct_devices"], 2);
    // Every device has its own SIP account.
    assert_ne!(devices[0]["sip_username"], devices[1]["sip_username"]);
    d.call(
        "PATCH",
        "/api/v1/users/anna",
        Some(json!({"softphone": false, "mobile_number": null})),
    );
    assert_eq!(
        d.call("GET", "/api/v1/users/anna/devices", None).1,
        json!([])
    );
}

#[test]
fn quick_create_refused_late_leaves_nothing_behind() {
    let d = Daemon::start();
    d.call(
        "POST",
        "/api/v1/users",
        Some(with(anna(), "fax_extension", json!("190"))),
    );
    // Everything up to the fax device is written inside the transaction before the clash.
    let body = json!({"username": "bob", "display_name": "Bob", "auth": "none", "extension": "300",
                      "softphone": true, "voicemail": "all", "fax_extension": "190"});
    assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 409);
    assert_eq!(d.call("GET", "/api/v1/users/bob", None).0, 404);
    let devices = d.call("GET", "/api/v1/devices", None).1;
    assert_eq!(
        devices.as_array().expect("list").len(),
        1,
        "only anna's fax: {devices}"
    );
    let carl =
        json!({"username": "carl", "display_name": "Carl", "auth": "none", "extension": "300"});
    assert_eq!(
        d.call("POST", "/api/v1/users", Some(carl)).0,
        201,
        "300 was not kept by the failed create"
    );
}

#[test]
fn user_tabs_round_trip() {
    let d = Daemon::start();
    d.call("POST", "/api/v1/users", Some(anna()));
    d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "boss", "display_name": "Boss", "auth": "none"})),
    );
    let vm = json!({"keep_messages": true, "email": "vm@example.com", "monitored_mailbox": "boss"});
    assert_eq!(
        d.call("PUT", "/api/v1/users/anna/voicemail", Some(vm.clone())),
        (200, vm)
    );
    let fax = json!({"email": "fax@example.com", "extension": "191", "header_id": "+49 30 1234", "format": "tiff", "keep_faxes": false});
    assert_eq!(
        d.call("PUT", "/api/v1/users/anna/fax", Some(fax.clone())),
        (200, fax)
    );
    let pb = json!({"enabled": false, "extra": {"company": "ACME", "mobile": "+49170"}});
    assert_eq!(
        d.call("PUT", "/api/v1/users/anna/phonebook", Some(pb.clone())),
        (200, pb)
    );
    let cid = json!({"cid_number": "200"});
    assert_eq!(
        d.call("PUT", "/api/v1/users/anna/cid", Some(cid.clone())),
        (200, cid)
    );
    let bad = d.call(
        "PUT",
        "/api/v1/users/anna/fax",
        Some(json!({"extension": "191", "format": "gif"})),
    );
    assert_eq!((bad.0, bad.1["field"].clone()), (422, json!("format")));
}

#[test]
fn forwardings_and_overview() {
    let d = Daemon::start();
    d.call("POST", "/api/v1/users", Some(anna()));
    d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "bob", "display_name": "Bob", "auth": "none"})),
    );
    let (s1, f1) = d.call(
        "POST",
        "/api/v1/users/anna/forwardings",
        Some(json!({"target": "bob", "active": true})),
    );
    let (s2, _) = d.call(
        "POST",
        "/api/v1/users/bob/forwardings",
        Some(json!({"condition": "busy", "target": "+4930123456"})),
    );
    assert_eq!((s1, s2), (201, 201));
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/users/anna/forwardings",
            Some(json!({"target": "anna"}))
        )
        .0,
        422
    );
    // Anna's own extension (100) is herself too.
    let own = d.call(
        "POST",
        "/api/v1/users/anna/forwardings",
        Some(json!({"target": "100"})),
    );
    assert_eq!((own.0, own.1["field"].clone()), (422, json!("target")));
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/users/anna/forwardings",
            Some(json!({"target": "nobody"}))
        )
        .0,
        422
    );
    let all = d.call("GET", "/api/v1/forwardings", None).1;
    let summary: Vec<(String, bool)> = all
        .as_array()
        .expect("list")
        .iter()
        .map(|f| {
            (
                f["username"].as_str().expect("u").to_owned(),
                f["active"].as_bool().expect("a"),
            )
        })
        .collect();
    assert_eq!(summary, vec![("anna".into(), true), ("bob".into(), false)]);
    let id = f1["id"].as_i64().expect("id");
    let (_, changed) = d.call(
        "PATCH",
        &format!("/api/v1/users/anna/forwardings/{id}"),
        Some(json!({"active": false})),
    );
    assert_eq!(changed["active"], false);
}

#[test]
fn deleting_a_user_keeps_ip_phones_and_frees_numbers() {
    let d = Daemon::start();
    d.call(
        "POST",
        "/api/v1/users",
        Some(with(
            with(anna(), "fax_extension", json!("190")),
            "softphone",
            json!(true),
        )),
    );
    let phone = json!({"kind": "ip-phone", "mac": "00:15:65:AA:BB:CC", "vendor": "yealink", "model": "T54W", "user": "anna"});
    let (status, device) = d.call("POST", "/api/v1/devices", Some(phone));
    assert_eq!(status, 201, "{device}");
    assert_eq!(d.call("DELETE", "/api/v1/users/anna", None).0, 204);
    let devices = d.call("GET", "/api/v1/devices", None).1;
    let list = devices.as_array().expect("list");
    assert_eq!(list.len(), 1, "{devices}");
    assert_eq!(list[0]["mac"], "001565aabbcc");
    assert_eq!(list[0]["user"], Value::Null);
    assert_eq!(list[0]["followme"], Value::Null);
    let again = with(
        with(anna(), "fax_extension", json!("190")),
        "softphone",
        json!(true),
    );
    assert_eq!(
        d.call("POST", "/api/v1/users", Some(again)).0,
        201,
        "100 and 190 are free again"
    );
}
