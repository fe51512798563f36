//! `/api/v1/mail`: the mail queue (entries with state, attempts, next try and last error; never
//! a body) and the admin's test mail. Admin and above.

use axum::Extension;
use axum::http::{Method, StatusCode};
use serde::{Deserialize, Serialize};

use super::{Done, Found, doc, done, found};
use crate::admin::Api;
use crate::admin::body::{Json, Path};
use crate::admin::error::AdminError;
use crate::admin::roles::Area;
use crate::clock::UnixTime;
use crate::mail::MailHandle;
use crate::spool::{Counts, Id, Summary};

const ENTRY: &str = "/api/v1/mail/queue/{id}";

/// The queue: counts per state and every entry, oldest first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailQueue {
    pub counts: Counts,
    pub entries: Vec<Summary>,
}

/// Where the test mail goes.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailTest {
    pub to: String,
}

/// The queued test mail.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MailQueued {
    pub id: Id,
}

pub(super) fn register(api: Api) -> Api {
    use Area::Mail;
    use Method as M;
    api.route(
        M::GET,
        "/api/v1/mail/queue",
        Mail,
        doc(
            "The mail queue with counts per state",
            None,
            Some("MailQueue"),
            200,
        ),
        queue,
    )
    .route(
        M::POST,
        "/api/v1/mail/queue/{id}/retry",
        Mail,
        doc("Send an entry again now", None, Some("Summary"), 200),
        retry,
    )
    .route(
        M::DELETE,
        ENTRY,
        Mail,
        doc("Remove an entry and its files", None, None, 204),
        delete,
    )
    .route(
        M::POST,
        "/api/v1/mail/test",
        Mail,
        doc(
            "Queue a test mail",
            Some("MailTest"),
            Some("MailQueued"),
            202,
        ),
        test,
    )
}

async fn queue(Extension(mail): Extension<MailHandle>) -> Found<MailQueue> {
    let entries = blocking(move || mail.list()).await?;
    let counts = count(&entries);
    found(MailQueue { counts, entries })
}

fn count(entries: &[Summary]) -> Counts {
    use crate::spool::State as S;
    let mut c = Counts::default();
    for e in entries {
        *match e.state {
            S::Queued => &mut c.queued,
            S::Deferred => &mut c.deferred,
            S::Delivered => &mut c.delivered,
            S::Failed => &mut c.failed,
        } += 1;
    }
    c
}

async fn retry(Extension(mail): Extension<MailHandle>, Path(id): Path<u64>) -> Found<Summary> {
    let id = Id(id);
    let summary = blocking(move || {
        mail.retry(id)?;
        let (stored, status) = mail.spool.load(id)?;
        Ok(Summary::new(id, &stored, &status))
    })
    .await?;
    found(summary)
}

async fn delete(Extension(mail): Extension<MailHandle>, Path(id): Path<u64>) -> Done {
    blocking(move || mail.delete(Id(id))).await?;
    done()
}

async fn test(
    Extension(mail): Extension<MailHandle>,
    Json(body): Json<MailTest>,
) -> Result<(StatusCode, axum::Json<MailQueued>), AdminError> {
    let id = mail.send_test(&body.to, UnixTime::now()).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(MailQueued { id })))
}

/// Spool reads and renames on a blocking thread.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::spool::SpoolError> + Send + 'static,
) -> Result<T, AdminError> {
    match tokio::task::spawn_blocking(f).await {
        Ok(result) => Ok(result?),
        Err(e) => Err(AdminError::Spool(crate::spool::SpoolError::Io {
            path: std::path::PathBuf::new(),
            source: std::io::Error::other(e),
        })),
    }
}
