//! The global phonebook, admin accounts, and the caller's own session (who am I, tokens).

use axum::Extension;
use axum::extract::State;
use axum::http::Method;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Created, Done, Found, check_grant, created, doc, done, found};
use crate::admin::body::{Json, Path};
use crate::admin::roles::Area;
use crate::admin::{AdminError, Api, ApiState};
use crate::store::{
    Admin, NewAdmin, NewPhonebookEntry, PhonebookEntry, PhonebookPatch, Principal, PrincipalSource,
    Role,
};

/// Body of `POST /workplaces/{name}/login`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// What the token is for, shown to admins.
    #[serde(default)]
    pub label: String,
}

/// A new bearer token; shown once, stored only as a digest.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    pub token: String,
}

/// The authenticated caller.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    pub username: String,
    pub role: Role,
    /// `admin` for an admin account, `user` for a user with a role.
    pub kind: String,
}

pub(super) fn register(api: Api) -> Api {
    use Area::{Accounts, Phonebook, Session};
    use Method as M;
    api.route(
        M::GET,
        "/api/v1/phonebook",
        Phonebook,
        doc("Global phonebook", None, Some("PhonebookEntry[]"), 200),
        phonebook,
    )
    .route(
        M::POST,
        "/api/v1/phonebook",
        Phonebook,
        doc(
            "Add a phonebook entry",
            Some("NewPhonebookEntry"),
            Some("PhonebookEntry"),
            201,
        ),
        add_entry,
    )
    .route(
        M::GET,
        "/api/v1/phonebook/{id}",
        Phonebook,
        doc("Show a phonebook entry", None, Some("PhonebookEntry"), 200),
        entry,
    )
    .route(
        M::PATCH,
        "/api/v1/phonebook/{id}",
        Phonebook,
        doc(
            "Change a phonebook entry",
            Some("PhonebookPatch"),
            Some("PhonebookEntry"),
            200,
        ),
        update_entry,
    )
    .route(
        M::DELETE,
        "/api/v1/phonebook/{id}",
        Phonebook,
        doc("Delete a phonebook entry", None, None, 204),
        delete_entry,
    )
    .route(
        M::GET,
        "/api/v1/admins",
        Accounts,
        doc("List admin accounts", None, Some("Admin[]"), 200),
        admins,
    )
    .route(
        M::POST,
        "/api/v1/admins",
        Accounts,
        doc("Add an admin account", Some("NewAdmin"), Some("Admin"), 201),
        add_admin,
    )
    .route(
        M::DELETE,
        "/api/v1/admins/{username}",
        Accounts,
        doc("Delete an admin account", None, None, 204),
        delete_admin,
    )
    .route(
        M::GET,
        "/api/v1/me",
        Session,
        doc("Who am I", None, Some("Me"), 200),
        me,
    )
    .route(
        M::POST,
        "/api/v1/tokens",
        Session,
        doc(
            "Issue a bearer token for the caller",
            Some("TokenRequest"),
            Some("TokenResponse"),
            201,
        ),
        token,
    )
}

async fn phonebook(State(s): State<ApiState>) -> Found<Vec<PhonebookEntry>> {
    found(s.store.phonebook().await?)
}

async fn add_entry(
    State(s): State<ApiState>,
    Json(e): Json<NewPhonebookEntry>,
) -> Created<PhonebookEntry> {
    created(s.store.add_phonebook_entry(e).await?)
}

async fn entry(State(s): State<ApiState>, Path(id): Path<i64>) -> Found<PhonebookEntry> {
    found(s.store.phonebook_entry(id).await?)
}

async fn update_entry(
    State(s): State<ApiState>,
    Path(id): Path<i64>,
    Json(p): Json<PhonebookPatch>,
) -> Found<PhonebookEntry> {
    found(s.store.update_phonebook_entry(id, p).await?)
}

async fn delete_entry(State(s): State<ApiState>, Path(id): Path<i64>) -> Done {
    s.store.delete_phonebook_entry(id).await?;
    done()
}

async fn admins(State(s): State<ApiState>) -> Found<Vec<Admin>> {
    found(s.store.admins().await?)
}

async fn add_admin(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
    Json(new): Json<NewAdmin>,
) -> Created<Admin> {
    check_grant(&who, Some(new.role), "role")?;
    created(s.store.create_admin(new).await?)
}

async fn delete_admin(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
    Path(username): Path<String>,
) -> Done {
    let target = s
        .store
        .admins()
        .await?
        .into_iter()
        .find(|a| a.username == username);
    if let Some(a) = target {
        check_grant(&who, Some(a.role), "username")?;
    }
    s.store.delete_admin(&username).await?;
    done()
}

async fn me(Extension(who): Extension<Principal>) -> Found<Me> {
    found(Me {
        username: who.name,
        role: who.role,
        kind: match who.source {
            PrincipalSource::Admin => "admin".into(),
            PrincipalSource::User => "user".into(),
        },
    })
}

async fn token(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
    Json(req): Json<TokenRequest>,
) -> Created<TokenResponse> {
    let token = s
        .store
        .create_token(&who, &req.label)
        .await
        .map_err(AdminError::from)?;
    created(TokenResponse { token })
}
