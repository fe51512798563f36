//! JSON request bodies: size-capped, strictly parsed, every failure a clear 4xx naming the field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use super::error::AdminError;

/// A JSON body of type `T`. Malformed JSON is 400; JSON of the wrong shape is 422 with the field;
/// a body over the cap is 413.
#[derive(Debug)]
pub struct Json<T>(pub T);

/// Like [`Json`], but an empty body is `None`.
#[derive(Debug)]
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read(req, state).await?;
        parse(&bytes).map(Json)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = AdminError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = read(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(None));
        }
        parse(&bytes).map(|v| OptionalJson(Some(v)))
    }
}

async fn read<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, AdminError> {
    let limit = req
        .extensions()
        .get::<BodyLimit>()
        .map(|l| l.0)
        .unwrap_or(usize::MAX);
    Bytes::from_request(req, state)
        .await
        .map_err(|_| AdminError::TooLarge(limit))
}

/// Path parameters; one that does not parse (`/devices/abc`) names nothing that exists: 404.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> axum::extract::FromRequestParts<S> for Path<T> {
    type Rejection = AdminError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|_| AdminError::NoRoute)
    }
}

/// The configured body cap, put into each request's extensions for the error message.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// Parses `bytes` as one JSON value of type `T`, nothing after it.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AdminError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(shape_error)?;
    de.end().map_err(|e| AdminError::Malformed(e.to_string()))?;
    Ok(value)
}

fn shape_error(e: serde_path_to_error::Error<serde_json::Error>) -> AdminError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if !inner.is_data() {
        return AdminError::Malformed(inner.to_string());
    }
    // serde quotes the offending value; for a secret sent with the wrong type that would be
    // the secret itself.
    let secret = ["password", "pin", "sip_password"]
        .iter()
        .any(|s| path == *s || path.ends_with(&format!(".{s}")));
    if secret {
        return AdminError::Shape {
            field: Some(path),
            message: "must be a string".into(),
        };
    }
    let message = strip_position(&inner.to_string());
    // serde names unknown and missing fields only in its message; elsewhere the path has it.
    let named = backticked(&message)
        .filter(|_| message.starts_with("unknown field") || message.starts_with("missing field"));
    let field = match (named, path.as_str()) {
        (Some(name), ".") => Some(name.to_owned()),
        // An unknown field is already the last segment of the path.
        (Some(name), p) if p == name || p.ends_with(&format!(".{name}")) => Some(p.to_owned()),
        (Some(name), p) => Some(format!("{p}.{name}")),
        (None, ".") => None,
        (None, p) => Some(p.to_owned()),
    };
    AdminError::Shape { field, message }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// serde_json appends " at line L column C"; the field says more than the position.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct T {
        name: String,
        count: u32,
        inner: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        wait: u32,
    }

    fn field(text: &str) -> (u16, Option<String>) {
        match parse::<T>(text.as_bytes()) {
            Ok(_) => (200, None),
            Err(e) => {
                let status = e.status().as_u16();
                match e {
                    AdminError::Shape { field, .. } => (status, field),
                    _ => (status, None),
                }
            }
        }
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field(r#"{"name":"a","count":1}"#), (200, None));
        assert_eq!(
            field(r#"{"name":"a","count":"x"}"#),
            (422, Some("count".into()))
        );
        assert_eq!(
            field(r#"{"name":"a","count":1,"bogus":1}"#),
            (422, Some("bogus".into()))
        );
        assert_eq!(field(r#"{"count":1}"#), (422, Some("name".into())));
        assert_eq!(
            field(r#"{"name":"a","count":1,"inner":{"wait":-1}}"#),
            (422, Some("inner.wait".into()))
        );
        assert_eq!(
            field(r#"{"name":"a","count":1,"inner":{"x":1}}"#),
            (422, Some("inner.x".into()))
        );
        assert_eq!(field(r#"{"name":"a""#).0, 400);
        assert_eq!(field(r#"{"name":"a","count":1} trailing"#).0, 400);
        assert_eq!(field("").0, 400);
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct WithPin {
        pin: String,
    }

    /// Regression (review): `{"pin": 98765}` echoed the PIN in the error message.
    #[test]
    fn a_mistyped_secret_is_not_echoed() {
        let err = parse::<WithPin>(br#"{"pin": 98765}"#).expect_err("wrong type");
        assert_eq!(err.status().as_u16(), 422);
        assert!(!err.to_string().contains("98765"), "{err}");
    }
}
