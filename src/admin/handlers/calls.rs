//! `GET /api/v1/calls`: call records, newest first, paged by cursor: `?limit=N` (1..=1000,
//! default 100) and `?before=ID` (the `next_before` of the previous page).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::Method;
use serde::Deserialize;

use super::{Doc, Found, found};
use crate::admin::error::AdminError;
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::store::CallPage;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<u32>,
    before: Option<i64>,
}

pub(super) fn register(api: Api) -> Api {
    api.route(
        Method::GET,
        "/api/v1/calls",
        Area::CallRecords,
        Doc {
            summary: "Call records, newest first, one page",
            request: None,
            response: Some("CallPage"),
            status: 200,
            query: &["limit:integer", "before:integer"],
        },
        list,
    )
}

async fn list(
    State(s): State<ApiState>,
    q: Result<Query<PageQuery>, QueryRejection>,
) -> Found<CallPage> {
    let Query(q) = q.map_err(|e| AdminError::Shape {
        field: None,
        message: e.body_text(),
    })?;
    found(s.store.calls(q.limit, q.before).await?)
}
