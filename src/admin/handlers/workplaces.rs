//! `/api/v1/workplaces` [Arbeitsplätze]: shared phones, their FollowMe, and who is logged in.

use axum::extract::State;
use axum::http::Method;

use super::{Created, Done, Found, LoginRequest, created, doc, done, found};
use crate::admin::body::{Json, OptionalJson, Path};
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::phone_menu::{Lockout, Subject};
use crate::store::{
    Device, FollowMe, NewWorkplace, OwnerRef, StoreError, Workplace, WorkplacePatch,
};

const WORKPLACE: &str = "/api/v1/workplaces/{name}";

pub(super) fn register(api: Api) -> Api {
    use Area::Workplaces as W;
    use Method as M;
    api.route(
        M::GET,
        "/api/v1/workplaces",
        W,
        doc("List workplaces", None, Some("Workplace[]"), 200),
        list,
    )
    .route(
        M::POST,
        "/api/v1/workplaces",
        W,
        doc(
            "Add a workplace",
            Some("NewWorkplace"),
            Some("Workplace"),
            201,
        ),
        create,
    )
    .route(
        M::GET,
        WORKPLACE,
        W,
        doc("Show a workplace", None, Some("Workplace"), 200),
        show,
    )
    .route(
        M::PATCH,
        WORKPLACE,
        W,
        doc(
            "Change a workplace",
            Some("WorkplacePatch"),
            Some("Workplace"),
            200,
        ),
        update,
    )
    .route(
        M::DELETE,
        WORKPLACE,
        W,
        doc(
            "Delete a workplace (its phones stay, unassigned)",
            None,
            None,
            204,
        ),
        delete,
    )
    .route(
        M::POST,
        "/api/v1/workplaces/{name}/login",
        W,
        doc(
            "Log a user in here",
            Some("LoginRequest"),
            Some("Workplace"),
            200,
        ),
        login,
    )
    .route(
        M::POST,
        "/api/v1/workplaces/{name}/logout",
        W,
        doc("Log out whoever is here", None, Some("Workplace"), 200),
        logout,
    )
    .route(
        M::GET,
        "/api/v1/menu/lockouts",
        W,
        doc("Current menu PIN lockouts", None, Some("Lockout[]"), 200),
        lockouts,
    )
    .route(
        M::DELETE,
        "/api/v1/menu/lockouts",
        W,
        doc("Clear every menu PIN lockout", None, None, 204),
        clear_lockouts,
    )
    .route(
        M::DELETE,
        "/api/v1/menu/lockouts/{kind}/{key}",
        W,
        doc(
            "Clear one lockout (kind: extension or device)",
            None,
            None,
            204,
        ),
        clear_lockout,
    )
    .route(
        M::GET,
        "/api/v1/workplaces/{name}/devices",
        W,
        super::OWNER_DEVICES,
        devices,
    )
    .route(
        M::PUT,
        "/api/v1/workplaces/{name}/devices/{id}",
        W,
        super::ASSIGN,
        assign,
    )
    .route(
        M::DELETE,
        "/api/v1/workplaces/{name}/devices/{id}",
        W,
        super::UNASSIGN,
        unassign,
    )
}

async fn list(State(s): State<ApiState>) -> Found<Vec<Workplace>> {
    found(s.store.workplaces().await?)
}

async fn create(State(s): State<ApiState>, Json(new): Json<NewWorkplace>) -> Created<Workplace> {
    created(s.store.create_workplace(new).await?)
}

async fn show(State(s): State<ApiState>, Path(name): Path<String>) -> Found<Workplace> {
    found(s.store.workplace(&name).await?)
}

async fn update(
    State(s): State<ApiState>,
    Path(name): Path<String>,
    Json(patch): Json<WorkplacePatch>,
) -> Found<Workplace> {
    found(s.store.update_workplace(&name, patch).await?)
}

async fn delete(State(s): State<ApiState>, Path(name): Path<String>) -> Done {
    s.store.delete_workplace(&name).await?;
    done()
}

async fn login(
    State(s): State<ApiState>,
    Path(name): Path<String>,
    Json(req): Json<LoginRequest>,
) -> Found<Workplace> {
    found(s.store.login(&name, &req.username).await?)
}

async fn logout(State(s): State<ApiState>, Path(name): Path<String>) -> Found<Workplace> {
    found(s.store.logout(&name).await?)
}

async fn lockouts(State(s): State<ApiState>) -> Found<Vec<Lockout>> {
    found(s.guard.list())
}

async fn clear_lockouts(State(s): State<ApiState>) -> Done {
    let n = s.guard.clear_all();
    tracing::info!("menu: admin cleared {n} lockouts");
    done()
}

async fn clear_lockout(
    State(s): State<ApiState>,
    Path((kind, key)): Path<(String, String)>,
) -> Done {
    let subject = Subject::parse(&kind, &key)
        .ok_or_else(|| StoreError::not_found("lockout", format!("{kind}/{key}")))?;
    if !s.guard.clear(&subject) {
        return Err(StoreError::not_found("lockout", format!("{kind}/{key}")).into());
    }
    tracing::info!("menu: admin cleared lockout {subject}");
    done()
}

async fn devices(State(s): State<ApiState>, Path(name): Path<String>) -> Found<Vec<Device>> {
    s.fetches.flush().await;
    found(s.with_statuses(s.store.owner_devices(OwnerRef::Workplace(&name)).await?))
}

async fn assign(
    State(s): State<ApiState>,
    Path((name, id)): Path<(String, i64)>,
    OptionalJson(fm): OptionalJson<FollowMe>,
) -> Found<Device> {
    found(
        s.store
            .assign_device(OwnerRef::Workplace(&name), id, fm)
            .await?,
    )
}

async fn unassign(State(s): State<ApiState>, Path((name, id)): Path<(String, i64)>) -> Done {
    s.store
        .unassign_device(OwnerRef::Workplace(&name), id)
        .await?;
    done()
}
