//! `/api/v1/action-templates` [Aktionsvorlagen] and `/api/v1/speed-dials` [Kurzwahlen]: what
//! the seed's extended import sets up besides users, phones and workplaces. Both are keyed by
//! name (code) in the path; `PUT` creates or replaces.

use axum::extract::State;
use axum::http::Method;

use super::{Done, Found, doc, done, found};
use crate::admin::body::{Json, Path};
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::store::{ActionTemplate, ActionTemplateBody, SpeedDial, SpeedDialBody};

const TEMPLATE: &str = "/api/v1/action-templates/{name}";
const SPEED_DIAL: &str = "/api/v1/speed-dials/{code}";

pub(super) fn register(api: Api) -> Api {
    use Area::Users as U;
    use Method as M;
    api.route(
        M::GET,
        "/api/v1/action-templates",
        U,
        doc("List action templates", None, Some("ActionTemplate[]"), 200),
        templates,
    )
    .route(
        M::GET,
        TEMPLATE,
        U,
        doc("Show an action template", None, Some("ActionTemplate"), 200),
        template,
    )
    .route(
        M::PUT,
        TEMPLATE,
        U,
        doc(
            "Create or replace an action template",
            Some("ActionTemplateBody"),
            Some("ActionTemplate"),
            200,
        ),
        put_template,
    )
    .route(
        M::DELETE,
        TEMPLATE,
        U,
        doc(
            "Delete an action template (its users keep their own actions)",
            None,
            None,
            204,
        ),
        delete_template,
    )
    .route(
        M::GET,
        "/api/v1/speed-dials",
        U,
        doc("List speed dials", None, Some("SpeedDial[]"), 200),
        speed_dials,
    )
    .route(
        M::GET,
        SPEED_DIAL,
        U,
        doc("Show a speed dial", None, Some("SpeedDial"), 200),
        speed_dial,
    )
    .route(
        M::PUT,
        SPEED_DIAL,
        U,
        doc(
            "Create or change a speed dial",
            Some("SpeedDialBody"),
            Some("SpeedDial"),
            200,
        ),
        put_speed_dial,
    )
    .route(
        M::DELETE,
        SPEED_DIAL,
        U,
        doc("Delete a speed dial", None, None, 204),
        delete_speed_dial,
    )
}

async fn templates(State(s): State<ApiState>) -> Found<Vec<ActionTemplate>> {
    found(s.store.action_templates().await?)
}

async fn template(State(s): State<ApiState>, Path(name): Path<String>) -> Found<ActionTemplate> {
    found(s.store.action_template(&name).await?)
}

async fn put_template(
    State(s): State<ApiState>,
    Path(name): Path<String>,
    Json(body): Json<ActionTemplateBody>,
) -> Found<ActionTemplate> {
    found(s.store.put_action_template(&name, &body.actions).await?.0)
}

async fn delete_template(State(s): State<ApiState>, Path(name): Path<String>) -> Done {
    s.store.delete_action_template(&name).await?;
    done()
}

async fn speed_dials(State(s): State<ApiState>) -> Found<Vec<SpeedDial>> {
    found(s.store.speed_dials().await?)
}

async fn speed_dial(State(s): State<ApiState>, Path(code): Path<String>) -> Found<SpeedDial> {
    found(s.store.speed_dial(&code).await?)
}

async fn put_speed_dial(
    State(s): State<ApiState>,
    Path(code): Path<String>,
    Json(body): Json<SpeedDialBody>,
) -> Found<SpeedDial> {
    found(s.store.put_speed_dial(&code, &body).await?.0)
}

async fn delete_speed_dial(State(s): State<ApiState>, Path(code): Path<String>) -> Done {
    s.store.delete_speed_dial(&code).await?;
    done()
}
