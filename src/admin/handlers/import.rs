//! `/api/v1/import`: the xlsx import [Benutzerimport, Erweiterter Import] and its template.
//! The upload is the raw workbook (capped by the import's own file limit, not the JSON body
//! limit); options are query parameters. The caller's role bounds what the file may do: it
//! grants no role above the caller's and touches no user who outranks the caller.

use axum::Extension;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::found;
use crate::admin::error::AdminError;
use crate::admin::openapi::{XLSX, XLSX_TYPE};
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState, Doc};
use crate::import::{self, Actor, Limits, Options, Report};
use crate::store::{Principal, PrincipalSource};

pub(super) fn register(api: Api) -> Api {
    api.route(
        Method::GET,
        "/api/v1/import/template",
        Area::Users,
        Doc {
            summary: "The import template (with_data: filled with what the store holds, secrets empty)",
            request: None,
            response: Some(XLSX),
            status: 200,
            query: &["with_data"],
        },
        template,
    )
    .route(
        Method::POST,
        "/api/v1/import",
        Area::Users,
        Doc {
            summary: "Import an xlsx workbook: all rows or none (dry_run plans only; prune deletes what the file's sheets do not list, with yes)",
            request: Some(XLSX),
            response: Some("Report"),
            status: 200,
            query: &["dry_run", "prune", "yes", "reset_secrets"],
        },
        run,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateQuery {
    #[serde(default)]
    with_data: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImportQuery {
    #[serde(default)]
    dry_run: bool,
    #[serde(default)]
    prune: bool,
    #[serde(default)]
    yes: bool,
    #[serde(default)]
    reset_secrets: bool,
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, AdminError> {
    q.map(|Query(q)| q).map_err(|e| AdminError::Shape {
        field: None,
        message: e.body_text(),
    })
}

async fn template(
    State(s): State<ApiState>,
    q: Result<Query<TemplateQuery>, QueryRejection>,
) -> Result<Response, AdminError> {
    let bytes = if query(q)?.with_data {
        import::write_export(&s.store).await?
    } else {
        import::write_template()?
    };
    let headers = [
        (header::CONTENT_TYPE, XLSX_TYPE),
        (
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"zentrale-import.xlsx\"",
        ),
    ];
    Ok((headers, bytes).into_response())
}

async fn run(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
    q: Result<Query<ImportQuery>, QueryRejection>,
    body: Body,
) -> Result<axum::Json<Report>, AdminError> {
    let q = query(q)?;
    // The next import waits; it would wait for the writer anyway.
    let _turn = s.imports.acquire().await.map_err(|_| AdminError::NoRoute)?;
    let limit = Limits::default().file_bytes;
    let bytes = axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| AdminError::TooLarge(limit))?;
    let workbook = import::read_file(&import::this_program(), bytes.to_vec()).await?;
    let options = Options {
        dry_run: q.dry_run,
        prune: q.prune,
        confirmed: q.yes,
        reset_secrets: q.reset_secrets,
        actor: Some(Actor {
            role: who.role,
            username: (who.source == PrincipalSource::User).then(|| who.name.clone()),
        }),
    };
    let report = import::run(&s.store, &workbook, &options, &mut |_, _, _| {}).await?;
    if report.problem_count() > 0 {
        return Err(AdminError::ImportRejected(Box::new(report)));
    }
    if report.needs_confirmation {
        return Err(AdminError::ImportUnconfirmed(Box::new(report)));
    }
    tracing::info!(
        "import: {} created, {} updated, {} deleted by {}{}",
        report.total(|c| c.create),
        report.total(|c| c.update),
        report.total(|c| c.delete),
        who.name,
        if report.dry_run { " (dry run)" } else { "" }
    );
    found(report)
}
