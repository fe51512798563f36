//! The role matrix: every documented route × every role (and no credentials) against the real
//! daemon. The expectations are written out here from the seed, not read from the code.

use serde_json::{Value, json};

use crate::harness::{Daemon, status_json};

const ROLES: [&str; 4] = [
    "system-admin",
    "admin",
    "telephony-admin",
    "phonebook-admin",
];

/// The seed's word on each area, for the routes this API has.
fn allowed(role: &str, path: &str) -> bool {
    let area = if path.starts_with("/api/v1/phonebook") || path.ends_with("/phonebook") {
        "phonebook"
    } else if path == "/api/v1/me" || path == "/api/v1/tokens" {
        "session"
    } else if path.starts_with("/api/v1/firmware") {
        // The seed: telephony admins may do everything an admin may, but not roll out firmware.
        "firmware"
    } else if path.starts_with("/api/v1/mail") {
        // Admin and above: other users' voicemails in the queue, retried or deleted.
        "mail"
    } else if path.starts_with("/api/v1/users/") && path.ends_with("/audio") {
        // A user's recorded voicemail: private; only the system admin, whose full backup
        // [Komplettsicherung] holds the recordings anyway, may listen besides the owner.
        "voicemail-audio"
    } else if path.starts_with("/api/v1/users/") && path.ends_with("/fax/inbox/{id}/document") {
        // A received fax is a letter to its owner: like a recording, besides the owner only
        // the system admin reads it.
        "fax-document"
    } else if path.starts_with("/api/v1/trunks") {
        // The seed: the telephony admin is the admin "ohne Gateways".
        "gateways"
    } else if [
        "/api/v1/users",
        "/api/v1/forwardings",
        "/api/v1/devices",
        "/api/v1/workplaces",
        "/api/v1/admins",
        "/api/v1/menu",
        // Action templates, speed dials and the import set up users' telephony.
        "/api/v1/action-templates",
        "/api/v1/speed-dials",
        "/api/v1/import",
        // Teams are users' telephony too; call records are the telephony admin's view of it.
        "/api/v1/teams",
        "/api/v1/calls",
    ]
    .iter()
    .any(|p| path.starts_with(p))
    {
        "administration"
    } else {
        panic!("route {path} has no expectation in this test: add one from the seed")
    };
    match role {
        "system-admin" => true,
        "admin" => area != "voicemail-audio" && area != "fax-document",
        "telephony-admin" => ![
            "firmware",
            "mail",
            "gateways",
            "voicemail-audio",
            "fax-document",
        ]
        .contains(&area),
        "phonebook-admin" => area == "phonebook" || area == "session",
        other => panic!("unknown role {other}"),
    }
}

struct Fixture {
    device: i64,
    forwarding: i64,
    action: i64,
    entry: i64,
}

fn fixture(d: &Daemon) -> Fixture {
    for role in ROLES {
        let body = json!({"username": role, "display_name": role, "password": format!("{role}-pw-123"), "role": role});
        assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    }
    d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "target", "display_name": "T", "auth": "none"})),
    );
    d.call(
        "POST",
        "/api/v1/users",
        Some(json!({"username": "other", "display_name": "O", "auth": "none"})),
    );
    d.call("POST", "/api/v1/workplaces", Some(json!({"name": "wp"})));
    // `{name}` is "wp" in every path: a team of that name makes team routes answer for real.
    let team = json!({"name": "wp", "extension": "650", "members": ["other"]});
    assert_eq!(d.call("POST", "/api/v1/teams", Some(team)).0, 201);
    let id = |v: Value| v["id"].as_i64().expect("id");
    Fixture {
        device: id(d
            .call(
                "POST",
                "/api/v1/devices",
                Some(json!({"kind": "ip-phone", "mac": "001565000001"})),
            )
            .1),
        forwarding: id(d
            .call(
                "POST",
                "/api/v1/users/target/forwardings",
                Some(json!({"target": "other"})),
            )
            .1),
        action: id(d
            .call(
                "POST",
                "/api/v1/users/target/actions",
                Some(json!({"scope": "internal", "timing": "after", "kind": "voicemail"})),
            )
            .1),
        entry: id(d
            .call(
                "POST",
                "/api/v1/phonebook",
                Some(json!({"name": "ACME", "number": "+4930123"})),
            )
            .1),
    }
}

fn concrete(path: &str, f: &Fixture) -> String {
    let id = if path.contains("/forwardings/") {
        f.forwarding
    } else if path.contains("/actions/") {
        f.action
    } else if path.starts_with("/api/v1/phonebook/") {
        f.entry
    } else {
        f.device
    };
    path.replace(
        "{username}",
        if path.starts_with("/api/v1/admins") {
            "nobody"
        } else {
            "target"
        },
    )
    .replace("{name}", "wp")
    .replace("{file}", "fw.rom")
    .replace("{kind}", "extension")
    .replace("{key}", "100")
    .replace("{code}", "801")
    .replace("{vendor}", "yealink")
    .replace("{model}", "T54W")
    .replace("{id}", &id.to_string())
}

/// A body the route accepts, so an allowed role gets past validation to a real answer.
fn body(method: &str, path: &str) -> Option<Value> {
    let b = match (method, path) {
        ("POST", "/api/v1/users") => {
            json!({"username": "fresh", "display_name": "F", "auth": "none"})
        }
        ("PATCH", "/api/v1/users/{username}") => json!({"display_name": "T2"}),
        ("PUT", "/api/v1/users/{username}/voicemail") => json!({"keep_messages": true}),
        ("PUT", "/api/v1/users/{username}/fax") => json!({"extension": "900"}),
        ("PUT", "/api/v1/users/{username}/phonebook") => json!({"enabled": true}),
        ("PUT", "/api/v1/users/{username}/cid") => json!({"cid_number": null}),
        ("POST", "/api/v1/users/{username}/forwardings") => json!({"target": "other"}),
        ("PATCH", "/api/v1/users/{username}/forwardings/{id}") => json!({"active": true}),
        ("POST", "/api/v1/users/{username}/actions") => {
            json!({"scope": "external", "timing": "after", "kind": "voicemail"})
        }
        ("POST", "/api/v1/devices") => json!({"kind": "softphone"}),
        ("PATCH", "/api/v1/devices/{id}") => json!({"label": "Desk"}),
        ("POST", "/api/v1/workplaces") => json!({"name": "fresh"}),
        ("PATCH", "/api/v1/workplaces/{name}") => json!({"display_name": "WP"}),
        ("POST", "/api/v1/workplaces/{name}/login") => json!({"username": "target"}),
        ("POST", "/api/v1/phonebook") => json!({"name": "X", "number": "+4940"}),
        ("PATCH", "/api/v1/phonebook/{id}") => json!({"name": "Y"}),
        ("POST", "/api/v1/admins") => {
            json!({"username": "newadmin", "password": "newadmin-pw", "role": "phonebook-admin"})
        }
        ("POST", "/api/v1/tokens") => json!({"label": "t"}),
        ("POST", "/api/v1/mail/test") => json!({"to": "admin@example.com"}),
        ("PUT", "/api/v1/firmware-models/{vendor}/{model}") => json!({"file": "fw.rom"}),
        ("PUT", "/api/v1/action-templates/{name}") => {
            json!({"actions": [{"scope": "external", "timing": "after", "kind": "voicemail"}]})
        }
        ("PUT", "/api/v1/speed-dials/{code}") => json!({"name": "Heizung", "number": "+4930"}),
        ("POST", "/api/v1/teams") => json!({"name": "fresh", "extension": "651"}),
        ("PATCH", "/api/v1/teams/{name}") => json!({"ring_time": 20}),
        ("POST", "/api/v1/teams/{name}/members") => json!({"username": "target"}),
        _ => return None,
    };
    Some(b)
}

#[test]
fn every_route_times_every_role() {
    let d = Daemon::start();
    let f = fixture(&d);
    let (_, doc) = status_json(
        d.anon("GET", "/api/v1/openapi.json")
            .send()
            .expect("openapi"),
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut checked = 0;
    // Deletions last, so that earlier requests still find what they touch.
    let mut routes: Vec<(String, String)> = paths
        .iter()
        .flat_map(|(p, item)| {
            item.as_object()
                .expect("item")
                .keys()
                .map(move |m| (m.to_ascii_uppercase(), p.clone()))
        })
        .collect();
    routes.sort_by_key(|(m, _)| m == "DELETE");
    for (method, path) in &routes {
        let url = concrete(path, &f);
        let send = |who: Option<(&str, String)>| {
            let mut r = d.anon(method, &url);
            if let Some((user, pw)) = who {
                r = r.basic_auth(user, Some(pw));
            }
            if let Some(b) = body(method, path) {
                r = r.json(&b);
            }
            let resp = r.send().expect("send");
            // The import template is a workbook, not JSON.
            let json = resp
                .headers()
                .get("content-type")
                .is_none_or(|t| t == "application/json");
            if json {
                status_json(resp)
            } else {
                (resp.status().as_u16(), Value::Null)
            }
        };
        let (status, err) = send(None);
        assert_eq!(status, 401, "{method} {path} without credentials: {err}");
        for role in ROLES {
            let (status, answer) = send(Some((role, format!("{role}-pw-123"))));
            if allowed(role, path) {
                assert!(
                    ![401, 403].contains(&status),
                    "{role} refused on {method} {path}: {answer}"
                );
                assert!(status < 500, "{role} {method} {path}: {status} {answer}");
            } else {
                assert_eq!(
                    status, 403,
                    "{role} let through on {method} {path}: {answer}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 4 * 45, "only {checked} route×role pairs");
}

#[test]
fn nobody_grants_a_role_above_their_own() {
    let d = Daemon::start();
    fixture(&d);
    let tel = ("telephony-admin", "telephony-admin-pw-123");
    let post = |body: Value| {
        status_json(
            d.anon("POST", "/api/v1/users")
                .basic_auth(tel.0, Some(tel.1))
                .json(&body)
                .send()
                .expect("send"),
        )
    };
    let (status, err) = post(
        json!({"username": "x1", "display_name": "X", "password": "x1-pw-1234", "role": "system-admin"}),
    );
    assert_eq!((status, err["field"].clone()), (403, Value::Null), "{err}");
    assert_eq!(post(json!({"username": "x2", "display_name": "X", "auth": "none", "role": "phonebook-admin"})).0, 201);
    // Nor change or delete someone who outranks them.
    let patch = d
        .anon("PATCH", "/api/v1/users/system-admin")
        .basic_auth(tel.0, Some(tel.1))
        .json(&json!({"password": "taken-over-1"}));
    assert_eq!(status_json(patch.send().expect("send")).0, 403);
    let delete = d
        .anon("DELETE", "/api/v1/users/admin")
        .basic_auth(tel.0, Some(tel.1));
    assert_eq!(status_json(delete.send().expect("send")).0, 403);
}

#[test]
fn wrong_passwords_and_tokens_get_401() {
    let d = Daemon::start();
    for (user, pw) in [
        ("root", "wrong-password"),
        ("nobody", "whatever1"),
        ("root", ""),
    ] {
        let (status, _) = status_json(
            d.anon("GET", "/api/v1/me")
                .basic_auth(user, Some(pw))
                .send()
                .expect("send"),
        );
        assert_eq!(status, 401, "{user}");
    }
    let (status, _) = status_json(
        d.anon("GET", "/api/v1/me")
            .bearer_auth("0".repeat(64))
            .send()
            .expect("send"),
    );
    assert_eq!(status, 401);
    let (_, token) = d.call("POST", "/api/v1/tokens", Some(json!({"label": "script"})));
    let token = token["token"].as_str().expect("token").to_owned();
    let (status, me) = status_json(
        d.anon("GET", "/api/v1/me")
            .bearer_auth(&token)
            .send()
            .expect("send"),
    );
    assert_eq!(
        (status, me["username"].clone(), me["role"].clone()),
        (200, json!("root"), json!("system-admin"))
    );
    // A changed password takes effect at once, despite the verified-credentials cache.
    d.call("POST", "/api/v1/users", Some(json!({"username": "pat", "display_name": "P", "password": "first-pass-1", "role": "admin"})));
    let me_as = |pw: &str| {
        status_json(
            d.anon("GET", "/api/v1/me")
                .basic_auth("pat", Some(pw))
                .send()
                .expect("send"),
        )
        .0
    };
    assert_eq!(me_as("first-pass-1"), 200);
    d.call(
        "PATCH",
        "/api/v1/users/pat",
        Some(json!({"password": "second-pass-2"})),
    );
    assert_eq!(me_as("first-pass-1"), 401);
    assert_eq!(me_as("second-pass-2"), 200);
}

/// Regression (review): a token outlived its user's password, auth mode and the user itself.
#[test]
fn tokens_end_with_the_password_and_the_user() {
    let d = Daemon::start();
    let me = |token: &str| {
        status_json(
            d.anon("GET", "/api/v1/me")
                .bearer_auth(token)
                .send()
                .expect("send"),
        )
        .0
    };
    let token_for = |user: &str, pw: &str| {
        let resp = d
            .anon("POST", "/api/v1/tokens")
            .basic_auth(user, Some(pw))
            .json(&json!({"label": "t"}))
            .send()
            .expect("send");
        status_json(resp).1["token"]
            .as_str()
            .expect("token")
            .to_owned()
    };
    d.call("POST", "/api/v1/users", Some(json!({"username": "pat", "display_name": "P", "password": "first-pass-1", "role": "admin"})));
    let t1 = token_for("pat", "first-pass-1");
    assert_eq!(me(&t1), 200);
    d.call(
        "PATCH",
        "/api/v1/users/pat",
        Some(json!({"password": "second-pass-2"})),
    );
    assert_eq!(me(&t1), 401, "a new password ends old tokens");
    let t2 = token_for("pat", "second-pass-2");
    d.call("PATCH", "/api/v1/users/pat", Some(json!({"auth": "ldap"})));
    assert_eq!(me(&t2), 401, "leaving local auth ends tokens");
    let (status, err) = d.call("PATCH", "/api/v1/users/pat", Some(json!({"auth": "local"})));
    assert_eq!(
        (status, err["field"].clone()),
        (422, json!("password")),
        "the old password does not come back"
    );
    d.call(
        "PATCH",
        "/api/v1/users/pat",
        Some(json!({"auth": "local", "password": "third-pass-3"})),
    );
    let t3 = token_for("pat", "third-pass-3");
    d.call("DELETE", "/api/v1/users/pat", None);
    d.call("POST", "/api/v1/users", Some(json!({"username": "pat", "display_name": "P2", "password": "other-pass-4", "role": "system-admin"})));
    assert_eq!(
        me(&t3),
        401,
        "a token does not pass to a new user of the same name"
    );
}
