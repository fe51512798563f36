//! Devices, FollowMe and workplaces over real HTTP.

use serde_json::{Value, json};

use crate::harness::Daemon;

fn phone(mac: &str) -> Value {
    json!({"kind": "ip-phone", "mac": mac, "vendor": "snom", "model": "D785"})
}

#[test]
fn macs_in_any_notation_are_stored_as_twelve_hex_digits() {
    let d = Daemon::start();
    for (i, mac) in [
        "00:04:13:AA:BB:01",
        "00-04-13-aa-bb-02",
        "0004.13aa.bb03",
        "000413AABB04",
    ]
    .iter()
    .enumerate()
    {
        let (status, device) = d.call("POST", "/api/v1/devices", Some(phone(mac)));
        assert_eq!(status, 201, "{device}");
        assert_eq!(device["mac"], format!("000413aabb0{}", i + 1));
        assert_eq!(
            device["provisioning"]["state"], "new",
            "unassigned phones wait for the admin"
        );
    }
    let (status, err) = d.call("POST", "/api/v1/devices", Some(phone("00:04:13:aa:bb:01")));
    assert_eq!((status, err["field"].clone()), (409, json!("mac")));
    let (status, err) = d.call("POST", "/api/v1/devices", Some(phone("00:04:13:aa:bb")));
    assert_eq!((status, err["field"].clone()), (422, json!("mac")));
    let (status, err) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "ip-phone", "mac": "000413aabb09", "vendor": "nokia"})),
    );
    assert_eq!((status, err["field"].clone()), (422, json!("vendor")));
}

#[test]
fn assignment_carries_followme_per_call_class() {
    let d = Daemon::start();
    d.call(
        "POST",
        "/api/v1/users",
        Some(
            json!({"username": "anna", "display_name": "Anna", "auth": "none", "extension": "100"}),
        ),
    );
    let (_, device) = d.call("POST", "/api/v1/devices", Some(phone("000413aabb01")));
    let id = device["id"].as_i64().expect("id");
    let fm = json!({"user_configurable": true,
        "internal": {"enabled": true, "wait": 0, "timeout": 20},
        "external": {"enabled": true, "wait": 5, "timeout": 25},
        "team": {"enabled": false, "wait": 0, "timeout": 15}});
    let (status, assigned) = d.call(
        "PUT",
        &format!("/api/v1/users/anna/devices/{id}"),
        Some(fm.clone()),
    );
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["followme"], fm);
    assert_eq!(assigned["user"], "anna");
    assert_eq!(
        assigned["provisioning"]["state"], "enrolling",
        "assignment opens the enrollment window"
    );
    assert!(assigned["provisioning"]["enroll_until"].as_i64().is_some());
    let too_long = json!({"internal": {"enabled": true, "wait": 0, "timeout": 99999},
        "external": {"enabled": true, "wait": 0, "timeout": 1}, "team": {"enabled": true, "wait": 0, "timeout": 1}});
    let (status, err) = d.call(
        "PUT",
        &format!("/api/v1/users/anna/devices/{id}"),
        Some(too_long),
    );
    assert_eq!(
        (status, err["field"].clone()),
        (422, json!("internal.timeout"))
    );
    let (status, err) = d.call(
        "PUT",
        &format!("/api/v1/users/anna/devices/{id}"),
        Some(json!({"internal": {"enabled": true}})),
    );
    assert_eq!(status, 422, "{err}");
    assert_eq!(
        d.call("GET", "/api/v1/users/anna", None).1["phone_status"]["direct_devices"],
        1
    );
    assert_eq!(
        d.call("DELETE", &format!("/api/v1/users/anna/devices/{id}"), None)
            .0,
        204
    );
    assert_eq!(
        d.call("GET", &format!("/api/v1/devices/{id}"), None).1["followme"],
        Value::Null
    );
}

#[test]
fn a_device_moves_between_owners() {
    let d = Daemon::start();
    for name in ["anna", "bob"] {
        d.call(
            "POST",
            "/api/v1/users",
            Some(json!({"username": name, "display_name": name, "auth": "none"})),
        );
    }
    d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang"})),
    );
    let (_, device) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "ip-phone", "mac": "000413aabb01", "user": "anna"})),
    );
    let id = device["id"].as_i64().expect("id");
    d.call("PUT", &format!("/api/v1/users/bob/devices/{id}"), None);
    assert_eq!(
        d.call("GET", "/api/v1/users/anna/devices", None).1,
        json!([])
    );
    assert_eq!(
        d.call("GET", "/api/v1/users/bob/devices", None).1[0]["id"],
        id
    );
    let (_, moved) = d.call(
        "PATCH",
        &format!("/api/v1/devices/{id}"),
        Some(json!({"user": null, "workplace": "empfang"})),
    );
    assert_eq!(
        (moved["user"].clone(), moved["workplace"].clone()),
        (Value::Null, json!("empfang"))
    );
    let (status, err) = d.call(
        "PATCH",
        &format!("/api/v1/devices/{id}"),
        Some(json!({"user": "anna", "workplace": "empfang"})),
    );
    assert_eq!((status, err["field"].clone()), (422, json!("workplace")));
}

#[test]
fn workplace_login_moves_and_replaces_users() {
    let d = Daemon::start();
    for name in ["anna", "bob"] {
        d.call(
            "POST",
            "/api/v1/users",
            Some(json!({"username": name, "display_name": name, "auth": "none"})),
        );
    }
    for name in ["empfang", "lager"] {
        assert_eq!(
            d.call("POST", "/api/v1/workplaces", Some(json!({"name": name})))
                .0,
            201
        );
    }
    let (status, wp) = d.call(
        "POST",
        "/api/v1/workplaces/empfang/login",
        Some(json!({"username": "anna"})),
    );
    assert_eq!((status, wp["current_user"].clone()), (200, json!("anna")));
    assert_eq!(
        d.call("GET", "/api/v1/users/anna", None).1["phone_status"]["workplace"],
        "empfang"
    );
    // Anna moves to lager: empfang is free again.
    d.call(
        "POST",
        "/api/v1/workplaces/lager/login",
        Some(json!({"username": "anna"})),
    );
    assert_eq!(
        d.call("GET", "/api/v1/workplaces/empfang", None).1["current_user"],
        Value::Null
    );
    // Bob takes lager: anna is logged out.
    d.call(
        "POST",
        "/api/v1/workplaces/lager/login",
        Some(json!({"username": "bob"})),
    );
    assert_eq!(
        d.call("GET", "/api/v1/users/anna", None).1["phone_status"]["workplace"],
        Value::Null
    );
    assert_eq!(
        d.call("GET", "/api/v1/workplaces/lager", None).1["current_user"],
        "bob"
    );
    let (_, out) = d.call("POST", "/api/v1/workplaces/lager/logout", None);
    assert_eq!(out["current_user"], Value::Null);
}

#[test]
fn restricted_workplace_refuses_others() {
    let d = Daemon::start();
    d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "chef", "display_name": "Chef", "auth": "none"})),
    );
    d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "gast", "display_name": "Gast", "auth": "none"})),
    );
    d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "chefbuero", "allowed_users": ["chef"]})),
    );
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/workplaces/chefbuero/login",
            Some(json!({"username": "gast"}))
        )
        .0,
        403
    );
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/workplaces/chefbuero/login",
            Some(json!({"username": "chef"}))
        )
        .0,
        200
    );
}

#[test]
fn workplace_devices_have_their_own_followme() {
    let d = Daemon::start();
    d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang", "display_name": "Empfang"})),
    );
    let (_, device) = d.call("POST", "/api/v1/devices", Some(phone("000413aabb01")));
    let id = device["id"].as_i64().expect("id");
    let (status, assigned) = d.call(
        "PUT",
        &format!("/api/v1/workplaces/empfang/devices/{id}"),
        None,
    );
    assert_eq!(status, 200, "{assigned}");
    assert_eq!(assigned["followme"]["internal"]["timeout"], 30, "defaults");
    let wp = d.call("GET", "/api/v1/workplaces/empfang", None).1;
    assert_eq!(wp["devices"][0]["id"], id);
    let (status, _) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "mobile", "number": "+4917012", "workplace": "empfang"})),
    );
    assert_eq!(status, 422, "mobiles belong to people");
    assert_eq!(d.call("DELETE", "/api/v1/workplaces/empfang", None).0, 204);
    assert_eq!(
        d.call("GET", &format!("/api/v1/devices/{id}"), None).1["workplace"],
        Value::Null
    );
}

#[test]
fn enroll_reopens_the_window() {
    let d = Daemon::start();
    let (_, device) = d.call("POST", "/api/v1/devices", Some(phone("000413aabb01")));
    let id = device["id"].as_i64().expect("id");
    let (status, enrolled) = d.call("POST", &format!("/api/v1/devices/{id}/enroll"), None);
    assert_eq!(
        (status, enrolled["provisioning"]["state"].clone()),
        (200, json!("enrolling"))
    );
    assert_eq!(d.call("POST", "/api/v1/devices/999/enroll", None).0, 404);
}

#[test]
fn patching_the_same_owner_keeps_followme() {
    let d = Daemon::start();
    d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "anna", "display_name": "A", "auth": "none"})),
    );
    d.call(
        "POST",
        "/api/v1/workplaces",
        Some(json!({"name": "empfang"})),
    );
    let (_, device) = d.call("POST", "/api/v1/devices", Some(phone("000413aabb01")));
    let id = device["id"].as_i64().expect("id");
    let fm = json!({"user_configurable": true,
        "internal": {"enabled": false, "wait": 3, "timeout": 9},
        "external": {"enabled": true, "wait": 4, "timeout": 8},
        "team": {"enabled": true, "wait": 5, "timeout": 7}});
    d.call(
        "PUT",
        &format!("/api/v1/users/anna/devices/{id}"),
        Some(fm.clone()),
    );
    let (_, same) = d.call(
        "PATCH",
        &format!("/api/v1/devices/{id}"),
        Some(json!({"user": "anna"})),
    );
    assert_eq!(same["followme"], fm, "a no-op re-assignment keeps FollowMe");
    d.call(
        "PATCH",
        &format!("/api/v1/devices/{id}"),
        Some(json!({"workplace": "empfang"})),
    );
    let (_, kept) = d.call(
        "PATCH",
        &format!("/api/v1/devices/{id}"),
        Some(json!({"user": null})),
    );
    assert_eq!(
        kept["workplace"], "empfang",
        "clearing the user side leaves the workplace alone"
    );
    let (status, err) = d.call(
        "PATCH",
        &format!("/api/v1/devices/{id}"),
        Some(json!({"user": "nobody"})),
    );
    assert_eq!(
        (status, err["field"].clone()),
        (422, json!("user")),
        "a name in the body that does not exist"
    );
    let (status, err) = d.call(
        "POST",
        "/api/v1/devices",
        Some(json!({"kind": "softphone", "number": "100"})),
    );
    assert_eq!(
        (status, err["field"].clone()),
        (422, json!("number")),
        "only mobiles have numbers"
    );
}
