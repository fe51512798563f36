//! The one place where admin API errors become HTTP: `{"error": "...", "field": "..."}`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The body is not JSON at all.
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// JSON of the wrong shape: unknown field, wrong type, missing field.
    #[error("{message}")]
    Shape {
        field: Option<String>,
        message: String,
    },
    #[error("request body larger than {0} bytes")]
    TooLarge(usize),
    #[error("authentication required")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("no such route")]
    NoRoute,
    #[error("method not allowed on this route")]
    Method,
    #[error(transparent)]
    Provisioning(#[from] crate::provisioning::ProvisioningError),
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error(transparent)]
    Spool(#[from] crate::spool::SpoolError),
    #[error(transparent)]
    Mail(#[from] crate::mail::MailError),
    #[error(transparent)]
    Voicemail(#[from] crate::voicemail::MailboxError),
    #[error(transparent)]
    Fax(#[from] crate::fax::InboxError),
    /// The file has problems; the report lists them, nothing was changed.
    #[error("{} problems in the file; nothing was changed", .0.problem_count())]
    ImportRejected(Box<crate::import::Report>),
    /// A prune would delete records and was not confirmed.
    #[error("prune would delete {} records (see the report); repeat with yes=true", .0.total(|s| s.delete))]
    ImportUnconfirmed(Box<crate::import::Report>),
}

impl From<crate::import::FileError> for AdminError {
    fn from(e: crate::import::FileError) -> Self {
        AdminError::Import(e.into())
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    /// An import's report, with the problems that stopped it.
    #[serde(skip_serializing_if = "Option::is_none")]
    report: Option<&'a crate::import::Report>,
}

impl AdminError {
    pub fn status(&self) -> StatusCode {
        match self {
            AdminError::Store(e) => AdminError::status_of(e),
            AdminError::Malformed(_) => StatusCode::BAD_REQUEST,
            AdminError::Shape { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AdminError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AdminError::Unauthorized => StatusCode::UNAUTHORIZED,
            AdminError::Forbidden(_) => StatusCode::FORBIDDEN,
            AdminError::NoRoute => StatusCode::NOT_FOUND,
            AdminError::Method => StatusCode::METHOD_NOT_ALLOWED,
            AdminError::Provisioning(e) => {
                use crate::provisioning::ProvisioningError as P;
                match e {
                    P::Firmware(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    P::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                    P::Store(e) => AdminError::status_of(e),
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
            AdminError::Import(e) => {
                use crate::import::ImportError as I;
                match e {
                    I::File(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    I::Store(e) => AdminError::status_of(e),
                    I::Write(_) => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
            AdminError::Spool(e) | AdminError::Mail(crate::mail::MailError::Spool(e)) => {
                use crate::spool::SpoolError as S;
                match e {
                    S::NotFound(_) => StatusCode::NOT_FOUND,
                    S::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                    S::Full => StatusCode::SERVICE_UNAVAILABLE,
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
            AdminError::Mail(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AdminError::Voicemail(e) => {
                use crate::voicemail::MailboxError as V;
                match e {
                    V::NotFound(_) => StatusCode::NOT_FOUND,
                    V::BadAudio(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    V::Full => StatusCode::SERVICE_UNAVAILABLE,
                    V::Store(e) => AdminError::status_of(e),
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
            AdminError::Fax(e) => {
                use crate::fax::InboxError as F;
                match e {
                    F::NotFound(_) => StatusCode::NOT_FOUND,
                    F::Full => StatusCode::SERVICE_UNAVAILABLE,
                    F::Store(e) => AdminError::status_of(e),
                    _ => StatusCode::INTERNAL_SERVER_ERROR,
                }
            }
            AdminError::ImportRejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AdminError::ImportUnconfirmed(_) => StatusCode::CONFLICT,
        }
    }

    fn status_of(e: &StoreError) -> StatusCode {
        match e {
            StoreError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            StoreError::Conflict { .. } => StatusCode::CONFLICT,
            StoreError::NotFound { .. } => StatusCode::NOT_FOUND,
            StoreError::Forbidden(_) => StatusCode::FORBIDDEN,
            StoreError::Busy => StatusCode::SERVICE_UNAVAILABLE,
            StoreError::Database(_) | StoreError::Migrate(_) | StoreError::Hash(_) => {
                StatusCode::INTERNAL_SERVER_ERROR
            }
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            AdminError::Store(e) => e.field(),
            AdminError::Provisioning(crate::provisioning::ProvisioningError::Firmware(_)) => {
                Some("file")
            }
            AdminError::Shape { field, .. } => field.as_deref(),
            AdminError::Voicemail(crate::voicemail::MailboxError::BadAudio(_)) => Some("file"),
            AdminError::Import(crate::import::ImportError::File(_))
            | AdminError::ImportRejected(_) => Some("file"),
            AdminError::Import(crate::import::ImportError::Store(e)) => e.field(),
            AdminError::Spool(crate::spool::SpoolError::Invalid { field, .. })
            | AdminError::Mail(crate::mail::MailError::Spool(
                crate::spool::SpoolError::Invalid { field, .. },
            )) => Some(field),
            _ => None,
        }
    }
}

impl IntoResponse for AdminError {
    fn into_response(self) -> Response {
        let status = self.status();
        let error = if status == StatusCode::INTERNAL_SERVER_ERROR {
            // The details (SQL, I/O) are for the log, not for the client.
            tracing::error!(error = %self, "admin API request failed");
            "internal error; see the server log".to_owned()
        } else {
            self.to_string()
        };
        let report = match &self {
            AdminError::ImportRejected(r) | AdminError::ImportUnconfirmed(r) => Some(&**r),
            _ => None,
        };
        let body = Body {
            error,
            field: self.field(),
            report,
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"zentrale\", charset=\"UTF-8\""),
            );
        }
        response
    }
}
