//! The API's routes: one `register` per resource family, each a list of [`Api::route`] calls.

mod accounts;
mod calls;
mod devices;
mod dialplan;
mod fax;
mod firmware;
mod import;
mod mail;
mod teams;
mod trunks;
mod users;
mod voicemail;
mod workplaces;

use super::error::AdminError;
use super::{Api, ApiState, Doc};
use crate::store::{Principal, Role, Store};
use axum::extract::State;
use axum::http::StatusCode;

pub use accounts::{LoginRequest, Me, TokenRequest, TokenResponse};
pub use firmware::FirmwareChoice;
pub use mail::{MailQueue, MailQueued, MailTest};
pub use voicemail::MessagePatch;

/// Shorthand for a route's documentation.
const fn doc(
    summary: &'static str,
    request: Option<&'static str>,
    response: Option<&'static str>,
    status: u16,
) -> Doc {
    Doc {
        summary,
        request,
        response,
        status,
        query: &[],
    }
}

/// The device-assignment routes read the same under a user and under a workplace.
const OWNER_DEVICES: Doc = doc(
    "Assigned devices with FollowMe",
    None,
    Some("Device[]"),
    200,
);
const ASSIGN: Doc = doc(
    "Assign a device; body: its FollowMe (optional)",
    Some("FollowMe"),
    Some("Device"),
    200,
);
const UNASSIGN: Doc = doc("Unassign a device", None, None, 204);

pub(super) fn register(api: Api) -> Api {
    let api = users::register(api);
    let api = devices::register(api);
    let api = workplaces::register(api);
    let api = firmware::register(api);
    let api = dialplan::register(api);
    let api = import::register(api);
    let api = mail::register(api);
    let api = teams::register(api);
    let api = calls::register(api);
    let api = trunks::register(api);
    let api = voicemail::register(api);
    let api = fax::register(api);
    accounts::register(api)
}

/// `GET /healthz`: 200 when the database answers.
pub async fn healthz(State(state): State<ApiState>) -> Result<&'static str, AdminError> {
    state.store.ping().await?;
    Ok("ok\n")
}

/// A caller may give or take only roles up to its own.
fn check_grant(who: &Principal, role: Option<Role>, field: &str) -> Result<(), AdminError> {
    match role {
        Some(r) if !who.role.may_grant(Some(r)) => Err(AdminError::Forbidden(format!(
            "{field}: role {} may not grant {r}",
            who.role
        ))),
        _ => Ok(()),
    }
}

/// A caller may change a user only if the user's role is not above its own.
async fn check_outranks(store: &Store, who: &Principal, username: &str) -> Result<(), AdminError> {
    let role = store.user(username).await?.role;
    check_grant(who, role, "username")
}

type Created<T> = Result<(StatusCode, axum::Json<T>), AdminError>;
type Found<T> = Result<axum::Json<T>, AdminError>;
type Done = Result<StatusCode, AdminError>;

fn created<T>(value: T) -> Created<T> {
    Ok((StatusCode::CREATED, axum::Json(value)))
}

fn found<T>(value: T) -> Found<T> {
    Ok(axum::Json(value))
}

fn done() -> Done {
    Ok(StatusCode::NO_CONTENT)
}
