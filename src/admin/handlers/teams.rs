//! `/api/v1/teams` [Team]: name, extension, ring time, ring-all and members in hunt order.
//! Members are added with `POST .../members` and removed by username; `PATCH` with `members`
//! replaces the list (that is how the order changes).

use axum::extract::State;
use axum::http::Method;

use super::{Created, Done, Found, created, doc, done, found};
use crate::admin::body::{Json, Path};
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::store::{NewMember, NewTeam, Team, TeamPatch};

const TEAM: &str = "/api/v1/teams/{name}";
const MEMBER: &str = "/api/v1/teams/{name}/members/{username}";

pub(super) fn register(api: Api) -> Api {
    // Teams set up users' telephony: the same area as users, speed dials and action templates.
    use Area::Users as U;
    use Method as M;
    api.route(
        M::GET,
        "/api/v1/teams",
        U,
        doc("List teams", None, Some("Team[]"), 200),
        list,
    )
    .route(
        M::POST,
        "/api/v1/teams",
        U,
        doc("Add a team", Some("NewTeam"), Some("Team"), 201),
        create,
    )
    .route(
        M::GET,
        TEAM,
        U,
        doc("Show a team", None, Some("Team"), 200),
        show,
    )
    .route(
        M::PATCH,
        TEAM,
        U,
        doc(
            "Change a team (members: the whole list, in hunt order)",
            Some("TeamPatch"),
            Some("Team"),
            200,
        ),
        update,
    )
    .route(
        M::DELETE,
        TEAM,
        U,
        doc("Delete a team and free its extension", None, None, 204),
        delete,
    )
    .route(
        M::POST,
        "/api/v1/teams/{name}/members",
        U,
        doc(
            "Add a member (at position, else last)",
            Some("NewMember"),
            Some("Team"),
            200,
        ),
        add_member,
    )
    .route(
        M::DELETE,
        MEMBER,
        U,
        doc("Remove a member", None, None, 204),
        remove_member,
    )
}

async fn list(State(s): State<ApiState>) -> Found<Vec<Team>> {
    found(s.store.teams().await?)
}

async fn create(State(s): State<ApiState>, Json(new): Json<NewTeam>) -> Created<Team> {
    created(s.store.create_team(&new).await?)
}

async fn show(State(s): State<ApiState>, Path(name): Path<String>) -> Found<Team> {
    found(s.store.team(&name).await?)
}

async fn update(
    State(s): State<ApiState>,
    Path(name): Path<String>,
    Json(patch): Json<TeamPatch>,
) -> Found<Team> {
    found(s.store.update_team(&name, &patch).await?)
}

async fn delete(State(s): State<ApiState>, Path(name): Path<String>) -> Done {
    s.store.delete_team(&name).await?;
    done()
}

async fn add_member(
    State(s): State<ApiState>,
    Path(name): Path<String>,
    Json(member): Json<NewMember>,
) -> Found<Team> {
    found(s.store.add_team_member(&name, &member).await?)
}

async fn remove_member(
    State(s): State<ApiState>,
    Path((name, username)): Path<(String, String)>,
) -> Done {
    s.store.remove_team_member(&name, &username).await?;
    done()
}
