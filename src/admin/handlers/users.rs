//! `/api/v1/users` and the tabs of a user: voicemail, fax, phonebook, caller id, devices,
//! forwardings, actions; plus the forwardings overview.

use axum::Extension;
use axum::extract::State;
use axum::http::Method;

use super::{Created, Done, Found, check_grant, check_outranks, created, doc, done, found};
use crate::admin::body::{Json, OptionalJson, Path};
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::store::*;

const USER: &str = "/api/v1/users/{username}";

pub(super) fn register(api: Api) -> Api {
    use Area::{Phonebook, Users};
    use Method as M;
    api.route(
        M::GET,
        "/api/v1/users",
        Users,
        doc("List users", None, Some("User[]"), 200),
        list,
    )
    .route(
        M::POST,
        "/api/v1/users",
        Users,
        doc(
            "Quick-create a user [Schnellanlage]",
            Some("NewUser"),
            Some("User"),
            201,
        ),
        create,
    )
    .route(
        M::GET,
        USER,
        Users,
        doc("Show a user", None, Some("User"), 200),
        show,
    )
    .route(
        M::PATCH,
        USER,
        Users,
        doc("Change a user", Some("UserPatch"), Some("User"), 200),
        update,
    )
    .route(
        M::DELETE,
        USER,
        Users,
        doc("Delete a user", None, None, 204),
        delete,
    )
    .route(
        M::GET,
        "/api/v1/users/{username}/voicemail",
        Users,
        doc(
            "Voicemail box settings",
            None,
            Some("VoicemailSettings"),
            200,
        ),
        voicemail,
    )
    .route(
        M::PUT,
        "/api/v1/users/{username}/voicemail",
        Users,
        doc(
            "Set voicemail box settings",
            Some("VoicemailSettings"),
            Some("VoicemailSettings"),
            200,
        ),
        set_voicemail,
    )
    .route(
        M::GET,
        "/api/v1/users/{username}/fax",
        Users,
        doc("Virtual fax device", None, Some("FaxSettings"), 200),
        fax,
    )
    .route(
        M::PUT,
        "/api/v1/users/{username}/fax",
        Users,
        doc(
            "Create or change the virtual fax device",
            Some("FaxSettings"),
            Some("FaxSettings"),
            200,
        ),
        set_fax,
    )
    .route(
        M::DELETE,
        "/api/v1/users/{username}/fax",
        Users,
        doc("Remove the virtual fax device", None, None, 204),
        delete_fax,
    )
    .route(
        M::GET,
        "/api/v1/users/{username}/phonebook",
        Phonebook,
        doc(
            "The user's phonebook entry",
            None,
            Some("UserPhonebook"),
            200,
        ),
        phonebook,
    )
    .route(
        M::PUT,
        "/api/v1/users/{username}/phonebook",
        Phonebook,
        doc(
            "Set the user's phonebook entry",
            Some("UserPhonebook"),
            Some("UserPhonebook"),
            200,
        ),
        set_phonebook,
    )
    .route(
        M::GET,
        "/api/v1/users/{username}/cid",
        Users,
        doc("Alternative caller id", None, Some("CidSettings"), 200),
        cid,
    )
    .route(
        M::PUT,
        "/api/v1/users/{username}/cid",
        Users,
        doc(
            "Set the alternative caller id",
            Some("CidSettings"),
            Some("CidSettings"),
            200,
        ),
        set_cid,
    )
    .route(
        M::GET,
        "/api/v1/users/{username}/devices",
        Users,
        super::OWNER_DEVICES,
        devices,
    )
    .route(
        M::PUT,
        "/api/v1/users/{username}/devices/{id}",
        Users,
        super::ASSIGN,
        assign,
    )
    .route(
        M::DELETE,
        "/api/v1/users/{username}/devices/{id}",
        Users,
        super::UNASSIGN,
        unassign,
    )
    .route(
        M::GET,
        "/api/v1/users/{username}/forwardings",
        Users,
        doc(
            "The user's call forwardings",
            None,
            Some("Forwarding[]"),
            200,
        ),
        forwardings,
    )
    .route(
        M::POST,
        "/api/v1/users/{username}/forwardings",
        Users,
        doc(
            "Add a call forwarding",
            Some("NewForwarding"),
            Some("Forwarding"),
            201,
        ),
        add_forwarding,
    )
    .route(
        M::PATCH,
        "/api/v1/users/{username}/forwardings/{id}",
        Users,
        doc(
            "Change a call forwarding",
            Some("ForwardingPatch"),
            Some("Forwarding"),
            200,
        ),
        update_forwarding,
    )
    .route(
        M::DELETE,
        "/api/v1/users/{username}/forwardings/{id}",
        Users,
        doc("Delete a call forwarding", None, None, 204),
        delete_forwarding,
    )
    .route(
        M::GET,
        "/api/v1/users/{username}/actions",
        Users,
        doc("The user's actions", None, Some("Action[]"), 200),
        actions,
    )
    .route(
        M::POST,
        "/api/v1/users/{username}/actions",
        Users,
        doc("Append an action", Some("NewAction"), Some("Action"), 201),
        add_action,
    )
    .route(
        M::DELETE,
        "/api/v1/users/{username}/actions/{id}",
        Users,
        doc("Delete an action", None, None, 204),
        delete_action,
    )
    .route(
        M::GET,
        "/api/v1/forwardings",
        Users,
        doc(
            "All users' call forwardings, active or not",
            None,
            Some("Forwarding[]"),
            200,
        ),
        all_forwardings,
    )
}

async fn list(State(s): State<ApiState>) -> Found<Vec<User>> {
    let users = s.store.users().await?;
    found(users.into_iter().map(|u| s.with_reachability(u)).collect())
}

async fn create(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
    Json(new): Json<NewUser>,
) -> Created<User> {
    check_grant(&who, new.role, "role")?;
    created(s.store.create_user(new).await?)
}

async fn show(State(s): State<ApiState>, Path(username): Path<String>) -> Found<User> {
    found(s.with_reachability(s.store.user(&username).await?))
}

async fn update(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
    Path(username): Path<String>,
    Json(patch): Json<UserPatch>,
) -> Found<User> {
    check_outranks(&s.store, &who, &username).await?;
    check_grant(&who, patch.role.flatten(), "role")?;
    found(s.store.update_user(&username, patch).await?)
}

async fn delete(
    State(s): State<ApiState>,
    Extension(who): Extension<Principal>,
    Path(username): Path<String>,
) -> Done {
    check_outranks(&s.store, &who, &username).await?;
    s.store.delete_user(&username).await?;
    done()
}

async fn voicemail(
    State(s): State<ApiState>,
    Path(username): Path<String>,
) -> Found<VoicemailSettings> {
    found(s.store.voicemail_settings(&username).await?)
}

async fn set_voicemail(
    State(s): State<ApiState>,
    Path(username): Path<String>,
    Json(v): Json<VoicemailSettings>,
) -> Found<VoicemailSettings> {
    found(s.store.set_voicemail_settings(&username, v).await?)
}

async fn fax(State(s): State<ApiState>, Path(username): Path<String>) -> Found<FaxSettings> {
    found(s.store.fax_settings(&username).await?)
}

async fn set_fax(
    State(s): State<ApiState>,
    Path(username): Path<String>,
    Json(f): Json<FaxSettings>,
) -> Found<FaxSettings> {
    found(s.store.set_fax_settings(&username, f).await?)
}

async fn delete_fax(State(s): State<ApiState>, Path(username): Path<String>) -> Done {
    s.store.delete_fax(&username).await?;
    done()
}

async fn phonebook(
    State(s): State<ApiState>,
    Path(username): Path<String>,
) -> Found<UserPhonebook> {
    found(s.store.user_phonebook(&username).await?)
}

async fn set_phonebook(
    State(s): State<ApiState>,
    Path(username): Path<String>,
    Json(p): Json<UserPhonebook>,
) -> Found<UserPhonebook> {
    found(s.store.set_user_phonebook(&username, p).await?)
}

async fn cid(State(s): State<ApiState>, Path(username): Path<String>) -> Found<CidSettings> {
    found(s.store.cid(&username).await?)
}

async fn set_cid(
    State(s): State<ApiState>,
    Path(username): Path<String>,
    Json(c): Json<CidSettings>,
) -> Found<CidSettings> {
    found(s.store.set_cid(&username, c).await?)
}

async fn devices(State(s): State<ApiState>, Path(username): Path<String>) -> Found<Vec<Device>> {
    s.fetches.flush().await;
    found(s.with_statuses(s.store.owner_devices(OwnerRef::User(&username)).await?))
}

async fn assign(
    State(s): State<ApiState>,
    Path((username, id)): Path<(String, i64)>,
    OptionalJson(fm): OptionalJson<FollowMe>,
) -> Found<Device> {
    found(
        s.store
            .assign_device(OwnerRef::User(&username), id, fm)
            .await?,
    )
}

async fn unassign(State(s): State<ApiState>, Path((username, id)): Path<(String, i64)>) -> Done {
    s.store
        .unassign_device(OwnerRef::User(&username), id)
        .await?;
    done()
}

async fn forwardings(
    State(s): State<ApiState>,
    Path(username): Path<String>,
) -> Found<Vec<Forwarding>> {
    found(s.store.forwardings(Some(&username)).await?)
}

async fn all_forwardings(State(s): State<ApiState>) -> Found<Vec<Forwarding>> {
    found(s.store.forwardings(None).await?)
}

async fn add_forwarding(
    State(s): State<ApiState>,
    Path(username): Path<String>,
    Json(f): Json<NewForwarding>,
) -> Created<Forwarding> {
    created(s.store.add_forwarding(&username, f).await?)
}

async fn update_forwarding(
    State(s): State<ApiState>,
    Path((username, id)): Path<(String, i64)>,
    Json(f): Json<ForwardingPatch>,
) -> Found<Forwarding> {
    found(s.store.update_forwarding(&username, id, f).await?)
}

async fn delete_forwarding(
    State(s): State<ApiState>,
    Path((username, id)): Path<(String, i64)>,
) -> Done {
    s.store.delete_forwarding(&username, id).await?;
    done()
}

async fn actions(State(s): State<ApiState>, Path(username): Path<String>) -> Found<Vec<Action>> {
    found(s.store.actions(&username).await?)
}

async fn add_action(
    State(s): State<ApiState>,
    Path(username): Path<String>,
    Json(a): Json<NewAction>,
) -> Created<Action> {
    created(s.store.add_action(&username, a).await?)
}

async fn delete_action(
    State(s): State<ApiState>,
    Path((username, id)): Path<(String, i64)>,
) -> Done {
    s.store.delete_action(&username, id).await?;
    done()
}
