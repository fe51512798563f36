use super::*;
use crate::store::changes::{Entity, Since};
use crate::store::{NewUser, SpeedDialBody, temp_store};

async fn user(store: &Store, name: &str, extension: &str) {
    let new = NewUser {
        username: name.into(),
        display_name: name.into(),
        extension: Some(extension.into()),
        fax_extension: Some(format!("9{extension}")),
        password: Some(crate::store::secret::Secret::new("correct horse battery")),
        ..NewUser::default()
    };
    store.create_user(new).await.expect("user");
}

fn sales(extension: &str, members: &[&str]) -> NewTeam {
    NewTeam {
        name: "sales".into(),
        extension: extension.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        ..NewTeam::default()
    }
}

fn field(e: StoreError) -> (String, String) {
    match e {
        StoreError::Invalid { field, .. } => ("invalid".into(), field),
        StoreError::Conflict { field, .. } => ("conflict".into(), field),
        StoreError::NotFound { kind, .. } => ("not found".into(), kind.into()),
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test]
async fn a_team_keeps_its_members_in_order_with_defaults() {
    let (_dir, store) = temp_store().await;
    for (name, ext) in [("anna", "100"), ("bert", "101"), ("carl", "102")] {
        user(&store, name, ext).await;
    }
    let team = store
        .create_team(&sales("600", &["carl", "anna"]))
        .await
        .expect("team");
    assert_eq!(team.members, ["carl", "anna"]);
    assert_eq!((team.ring_time, team.ring_all), (DEFAULT_RING_TIME, true));
    assert_eq!(team.display_name, "sales");
    let add = |username: &str, position| NewMember {
        username: username.into(),
        position,
    };
    let team = store
        .add_team_member("sales", &add("bert", Some(1)))
        .await
        .expect("add");
    assert_eq!(team.members, ["carl", "bert", "anna"]);
    let e = store
        .add_team_member("sales", &add("bert", None))
        .await
        .expect_err("twice");
    assert_eq!(field(e), ("conflict".into(), "username".into()));
    let e = store
        .add_team_member("sales", &add("nobody", None))
        .await
        .expect_err("unknown");
    assert_eq!(field(e), ("invalid".into(), "username".into()));
    let team = store
        .remove_team_member("sales", "carl")
        .await
        .expect("remove");
    assert_eq!(team.members, ["bert", "anna"]);
    let e = store
        .remove_team_member("sales", "carl")
        .await
        .expect_err("gone");
    assert_eq!(field(e).0, "not found");
    let patch = TeamPatch {
        ring_time: Some(12),
        ring_all: Some(false),
        members: Some(vec!["anna".into(), "carl".into(), "bert".into()]),
        ..TeamPatch::default()
    };
    let team = store.update_team("sales", &patch).await.expect("patch");
    assert_eq!(team.members, ["anna", "carl", "bert"]);
    assert_eq!((team.ring_time, team.ring_all), (12, false));
    assert_eq!(store.teams().await.expect("list"), vec![team]);
}

#[tokio::test]
async fn bad_input_names_its_field() {
    let (_dir, store) = temp_store().await;
    user(&store, "anna", "100").await;
    let cases = [
        (
            NewTeam {
                name: "Sales".into(),
                ..sales("600", &[])
            },
            "name",
        ),
        (
            NewTeam {
                name: "600".into(),
                ..sales("601", &[])
            },
            "name",
        ),
        (sales("6a0", &[]), "extension"),
        (
            NewTeam {
                ring_time: Some(0),
                ..sales("600", &[])
            },
            "ring_time",
        ),
        (
            NewTeam {
                ring_time: Some(601),
                ..sales("600", &[])
            },
            "ring_time",
        ),
        (
            NewTeam {
                display_name: Some("a\nb".into()),
                ..sales("600", &[])
            },
            "display_name",
        ),
        (sales("600", &["anna", "anna"]), "members"),
        (sales("600", &["nobody"]), "members"),
    ];
    for (new, want) in cases {
        let e = store.create_team(&new).await.expect_err(want);
        assert_eq!(field(e), ("invalid".into(), want.into()), "{new:?}");
    }
    // Nothing of the refused teams stays behind: the extension is free.
    assert!(store.teams().await.expect("list").is_empty());
    store.create_team(&sales("600", &[])).await.expect("team");
    let e = store
        .create_team(&sales("601", &[]))
        .await
        .expect_err("name");
    assert_eq!(field(e), ("conflict".into(), "name".into()));
    let e = store
        .update_team(
            "sales",
            &TeamPatch {
                ring_time: Some(0),
                ..TeamPatch::default()
            },
        )
        .await
        .expect_err("ring");
    assert_eq!(field(e), ("invalid".into(), "ring_time".into()));
    let e = store.team("nobody").await.expect_err("none");
    assert_eq!(field(e).0, "not found");
}

/// The numbers table keeps a team's extension apart from every other number, both ways.
#[tokio::test]
async fn a_team_extension_collides_with_nothing() {
    let (_dir, store) = temp_store().await;
    user(&store, "anna", "100").await;
    let code = SpeedDialBody {
        name: "Heizung".into(),
        number: "+4930123".into(),
    };
    store.put_speed_dial("77", &code).await.expect("speed dial");
    for taken in ["100", "9100", "77"] {
        let e = store
            .create_team(&sales(taken, &[]))
            .await
            .expect_err(taken);
        assert_eq!(field(e), ("conflict".into(), "extension".into()), "{taken}");
    }
    store.create_team(&sales("600", &[])).await.expect("team");
    let e = store
        .update_team(
            "sales",
            &TeamPatch {
                extension: Some("100".into()),
                ..TeamPatch::default()
            },
        )
        .await
        .expect_err("moved onto a user");
    assert_eq!(field(e), ("conflict".into(), "extension".into()));
    let e = store
        .put_speed_dial("600", &code)
        .await
        .expect_err("speed dial on the team");
    assert_eq!(field(e), ("conflict".into(), "code".into()));
    let bert = NewUser {
        username: "bert".into(),
        display_name: "Bert".into(),
        extension: Some("600".into()),
        auth: Some(crate::store::Auth::None),
        ..NewUser::default()
    };
    let e = store.create_user(bert).await.expect_err("user on the team");
    assert_eq!(field(e), ("conflict".into(), "extension".into()));
    // Moving and deleting free the old number.
    store
        .update_team(
            "sales",
            &TeamPatch {
                extension: Some("601".into()),
                ..TeamPatch::default()
            },
        )
        .await
        .expect("move");
    store
        .put_speed_dial("600", &code)
        .await
        .expect("600 is free");
    store.delete_team("sales").await.expect("delete");
    store
        .put_speed_dial("601", &code)
        .await
        .expect("601 is free");
}

#[tokio::test]
async fn deleting_a_user_removes_them_from_teams_and_logs_the_team() {
    let (_dir, store) = temp_store().await;
    user(&store, "anna", "100").await;
    user(&store, "bert", "101").await;
    store
        .create_team(&sales("600", &["anna", "bert"]))
        .await
        .expect("team");
    let (team_id,): (i64,) = sqlx::query_as("SELECT id FROM teams WHERE name = 'sales'")
        .fetch_one(&store.read)
        .await
        .expect("id");
    store.catch_up().await.expect("catch up");
    let before = store.generation();
    store.delete_user("anna").await.expect("delete");
    assert_eq!(store.team("sales").await.expect("team").members, ["bert"]);
    let Since::Changes(changes) = store.changes_since(before).await.expect("since") else {
        panic!("lagged");
    };
    assert!(
        changes
            .iter()
            .any(|c| c.entity == Entity::Team && c.id == team_id),
        "{changes:?}"
    );
}
