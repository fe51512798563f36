//! `/api/v1/users/{username}/fax/inbox/…`: a user's received faxes (list, metadata, the
//! document, delete).
//!
//! Who may do what is in [`Area::Fax`] and [`Area::FaxDocument`]; the owner, logged in with
//! their own password, always reaches their own inbox.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, header};
use axum::response::{IntoResponse, Response};

use super::{Done, Found, doc, done, found};
use crate::admin::body::Path;
use crate::admin::error::AdminError;
use crate::admin::openapi::FAX_DOCUMENT;
use crate::admin::roles::Area;
use crate::admin::{Api, ApiState};
use crate::fax::{FaxId, FaxInbox, FaxInfo, InboxError};

const INBOX: &str = "/api/v1/users/{username}/fax/inbox";
const FAX: &str = "/api/v1/users/{username}/fax/inbox/{id}";
const DOCUMENT: &str = "/api/v1/users/{username}/fax/inbox/{id}/document";

pub(super) fn register(api: Api) -> Api {
    use Area::{Fax, FaxDocument};
    use Method as M;
    let list = doc(
        "The user's received faxes, newest first, with pages, sender's station id, bit rate, ECM, duration, result and mail state",
        None,
        Some("FaxInfo[]"),
        200,
    );
    let document = doc(
        "A received fax: application/pdf or image/tiff (the device's format); 404 when no page arrived",
        None,
        Some(FAX_DOCUMENT),
        200,
    );
    api.route(M::GET, INBOX, Fax, list, faxes)
        .route(
            M::GET,
            FAX,
            Fax,
            doc("A received fax's metadata", None, Some("FaxInfo"), 200),
            fax,
        )
        .route(M::GET, DOCUMENT, FaxDocument, document, fax_document)
        .route(
            M::DELETE,
            FAX,
            Fax,
            doc("Delete a received fax and its document", None, None, 204),
            delete_fax,
        )
}

async fn faxes(
    State(s): State<ApiState>,
    Extension(inbox): Extension<FaxInbox>,
    Path(username): Path<String>,
) -> Found<Vec<FaxInfo>> {
    let user = s.store.user_id(&username).await?;
    found(inbox.faxes(user).await?)
}

async fn fax(
    State(s): State<ApiState>,
    Extension(inbox): Extension<FaxInbox>,
    Path((username, id)): Path<(String, i64)>,
) -> Found<FaxInfo> {
    let user = s.store.user_id(&username).await?;
    found(inbox.fax(user, FaxId(id)).await?)
}

async fn fax_document(
    State(s): State<ApiState>,
    Extension(inbox): Extension<FaxInbox>,
    Path((username, id)): Path<(String, i64)>,
) -> Result<Response, AdminError> {
    let user = s.store.user_id(&username).await?;
    let (path, format) = inbox.document(user, FaxId(id)).await?;
    let bytes = tokio::fs::read(&path).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => InboxError::NotFound("document"),
        _ => InboxError::Io {
            path: path.clone(),
            source: e,
        },
    })?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], bytes).into_response())
}

async fn delete_fax(
    State(s): State<ApiState>,
    Extension(inbox): Extension<FaxInbox>,
    Path((username, id)): Path<(String, i64)>,
) -> Done {
    let user = s.store.user_id(&username).await?;
    inbox.delete(user, FaxId(id)).await?;
    done()
}
