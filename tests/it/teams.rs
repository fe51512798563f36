//! Teams [Team] over real HTTP: create, members in hunt order, every validation with its field,
//! the extension kept apart from users', fax and speed-dial numbers, and a deleted user gone
//! from their teams.

use serde_json::{Value, json};

use crate::harness::Daemon;

fn user(d: &Daemon, name: &str, extension: &str) {
    let body = json!({"username": name, "display_name": name, "extension": extension,
                      "fax_extension": format!("9{extension}"), "auth": "none"});
    let (status, answer) = d.call("POST", "/api/v1/users", Some(body));
    assert_eq!(status, 201, "{answer}");
}

/// Expects `status` with `field` named in the error.
fn refused(answer: (u16, Value), status: u16, field: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["field"], field, "{}", answer.1);
}

#[test]
fn a_team_is_created_changed_and_deleted_with_members_in_order() {
    let d = Daemon::start();
    for (name, ext) in [("anna", "100"), ("bert", "101"), ("carl", "102")] {
        user(&d, name, ext);
    }
    let (status, team) = d.call(
        "POST",
        "/api/v1/teams",
        Some(
            json!({"name": "sales", "display_name": "Vertrieb", "extension": "600",
                    "members": ["bert", "anna"]}),
        ),
    );
    assert_eq!(status, 201, "{team}");
    assert_eq!(team["members"], json!(["bert", "anna"]));
    assert_eq!(team["ring_time"], 30);
    assert_eq!(team["ring_all"], true);
    let (status, team) = d.call(
        "POST",
        "/api/v1/teams/sales/members",
        Some(json!({"username": "carl", "position": 0})),
    );
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["members"], json!(["carl", "bert", "anna"]));
    let (status, team) = d.call(
        "PATCH",
        "/api/v1/teams/sales",
        Some(json!({"ring_time": 15, "ring_all": false, "members": ["anna", "carl"]})),
    );
    assert_eq!(status, 200, "{team}");
    assert_eq!(team["members"], json!(["anna", "carl"]));
    assert_eq!(
        (team["ring_time"].clone(), team["ring_all"].clone()),
        (json!(15), json!(false))
    );
    assert_eq!(
        d.call("DELETE", "/api/v1/teams/sales/members/anna", None).0,
        204
    );
    let (status, shown) = d.call("GET", "/api/v1/teams/sales", None);
    assert_eq!(status, 200);
    assert_eq!(shown["members"], json!(["carl"]));
    assert_eq!(shown["display_name"], "Vertrieb");
    let (_, list) = d.call("GET", "/api/v1/teams", None);
    assert_eq!(list, json!([shown]));
    assert_eq!(d.call("DELETE", "/api/v1/teams/sales", None).0, 204);
    assert_eq!(d.call("GET", "/api/v1/teams/sales", None).0, 404);
    // Its extension is free again.
    user(&d, "dora", "600");
}

#[test]
fn bad_team_input_names_its_field() {
    let d = Daemon::start();
    user(&d, "anna", "100");
    let post = |body: Value| d.call("POST", "/api/v1/teams", Some(body));
    refused(
        post(json!({"name": "Sales", "extension": "600"})),
        422,
        "name",
    );
    refused(
        post(json!({"name": "600", "extension": "600"})),
        422,
        "name",
    );
    refused(
        post(json!({"name": "sales", "extension": "6x"})),
        422,
        "extension",
    );
    refused(post(json!({"name": "sales"})), 422, "extension");
    refused(
        post(json!({"name": "sales", "extension": "600", "ring_time": 0})),
        422,
        "ring_time",
    );
    refused(
        post(json!({"name": "sales", "extension": "600", "ring_time": -5})),
        422,
        "ring_time",
    );
    refused(
        post(json!({"name": "sales", "extension": "600", "members": ["anna", "anna"]})),
        422,
        "members",
    );
    refused(
        post(json!({"name": "sales", "extension": "600", "members": ["ghost"]})),
        422,
        "members",
    );
    refused(
        post(json!({"name": "sales", "extension": "600", "queue": true})),
        422,
        "queue",
    );
    assert_eq!(post(json!({"name": "sales", "extension": "600"})).0, 201);
    refused(
        post(json!({"name": "sales", "extension": "601"})),
        409,
        "name",
    );
    let add = |body: Value| d.call("POST", "/api/v1/teams/sales/members", Some(body));
    refused(add(json!({"username": "ghost"})), 422, "username");
    assert_eq!(add(json!({"username": "anna"})).0, 200);
    refused(add(json!({"username": "anna"})), 409, "username");
    assert_eq!(
        d.call(
            "POST",
            "/api/v1/teams/nope/members",
            Some(json!({"username": "anna"}))
        )
        .0,
        404
    );
    assert_eq!(
        d.call("DELETE", "/api/v1/teams/sales/members/ghost", None)
            .0,
        404
    );
    assert_eq!(
        d.call("PATCH", "/api/v1/teams/nope", Some(json!({}))).0,
        404
    );
}

/// One namespace for every number: a team's extension never equals a user's extension, fax
/// extension or speed dial, whichever came first.
#[test]
fn a_team_extension_collides_with_no_other_number() {
    let d = Daemon::start();
    user(&d, "anna", "100");
    let (status, _) = d.call(
        "PUT",
        "/api/v1/speed-dials/77",
        Some(json!({"name": "Heizung", "number": "+4930123"})),
    );
    assert_eq!(status, 200);
    for taken in ["100", "9100", "77"] {
        refused(
            d.call(
                "POST",
                "/api/v1/teams",
                Some(json!({"name": "sales", "extension": taken})),
            ),
            409,
            "extension",
        );
    }
    let (status, _) = d.call(
        "POST",
        "/api/v1/teams",
        Some(json!({"name": "sales", "extension": "600"})),
    );
    assert_eq!(status, 201);
    refused(
        d.call(
            "PATCH",
            "/api/v1/teams/sales",
            Some(json!({"extension": "100"})),
        ),
        409,
        "extension",
    );
    refused(
        d.call(
            "POST",
            "/api/v1/users",
            Some(json!({"username": "bert", "display_name": "B", "extension": "600", "auth": "none"})),
        ),
        409,
        "extension",
    );
    refused(
        d.call(
            "PATCH",
            "/api/v1/users/anna",
            Some(json!({"fax_extension": "600"})),
        ),
        409,
        "fax_extension",
    );
    refused(
        d.call(
            "PUT",
            "/api/v1/speed-dials/600",
            Some(json!({"name": "X", "number": "+4940"})),
        ),
        409,
        "code",
    );
}

#[test]
fn a_deleted_user_leaves_every_team() {
    let d = Daemon::start();
    user(&d, "anna", "100");
    user(&d, "bert", "101");
    for (name, ext) in [("sales", "600"), ("support", "601")] {
        let body = json!({"name": name, "extension": ext, "members": ["anna", "bert"]});
        assert_eq!(d.call("POST", "/api/v1/teams", Some(body)).0, 201);
    }
    assert_eq!(d.call("DELETE", "/api/v1/users/anna", None).0, 204);
    let (_, teams) = d.call("GET", "/api/v1/teams", None);
    let members: Vec<Value> = teams
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["members"].clone())
        .collect();
    assert_eq!(members, [json!(["bert"]), json!(["bert"])]);
}
