//! The phones' HTTP side: `/prov/<file>`, `/phonebook/<token>/<file>`, `/firmware/<file>`.
//! Maps [`Answer`]s to responses in one place; bodies of refusals are fixed texts, so two
//! refusals differ in nothing a scanner could read.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::firmware::FirmwareDir;
use super::{Answer, Provisioning, Request, Transport};

#[derive(Debug, Clone)]
struct PhoneState {
    prov: Provisioning,
    firmware: FirmwareDir,
    transport: Transport,
}

/// The phone routes, for the HTTP or the HTTPS listener (`transport` tells which).
pub fn router(prov: Provisioning, firmware: FirmwareDir, transport: Transport) -> Router {
    Router::new()
        .route("/prov/{name}", get(prov_file))
        .route("/phonebook/{token}/{file}", get(phonebook))
        .route("/firmware/{file}", get(firmware_file))
        .with_state(PhoneState {
            prov,
            firmware,
            transport,
        })
}

/// The hot path of a provisioning storm: headers are read in place, not copied.
async fn prov_file(
    State(s): State<PhoneState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> Response {
    let headers = request.headers();
    let text = |h: header::HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    let req = Request {
        name: &name,
        peer: peer.ip(),
        user_agent: text(header::USER_AGENT),
        authorization: text(header::AUTHORIZATION),
        method: request.method().as_str(),
        path: request.uri().path(),
        transport: s.transport,
        now: crate::clock::Now::read(),
    };
    match s.prov.fetch(&req).await {
        Ok(answer) => respond(answer, headers),
        Err(e) => internal(&e),
    }
}

async fn phonebook(
    State(s): State<PhoneState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((token, file)): Path<(String, String)>,
) -> Response {
    match s
        .prov
        .phonebook(&token, &file, peer.ip(), crate::clock::now())
        .await
    {
        Ok(answer) => respond(answer, &headers),
        Err(e) => internal(&e),
    }
}

async fn firmware_file(
    State(s): State<PhoneState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(name): Path<String>,
) -> Response {
    if !s.prov.allows(peer.ip()) {
        tracing::warn!(
            "provisioning: denied {} network-not-allowed",
            crate::net::canonical_ip(peer.ip())
        );
        return plain(StatusCode::FORBIDDEN, "forbidden\n");
    }
    let Ok(path) = s.firmware.path(&name) else {
        return plain(StatusCode::NOT_FOUND, "not found\n");
    };
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return plain(StatusCode::NOT_FOUND, "not found\n"),
    };
    let len = match file.metadata().await {
        Ok(m) if m.is_file() => m.len(),
        _ => return plain(StatusCode::NOT_FOUND, "not found\n"),
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024));
    let mut resp = Response::new(body);
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    resp
}

fn respond(answer: Answer, request: &HeaderMap) -> Response {
    match answer {
        Answer::File { file, content_type } => {
            let unchanged = request
                .get(header::IF_NONE_MATCH)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| {
                    v.split(',')
                        .any(|t| t.trim() == &*file.etag || t.trim() == "*")
                });
            let mut resp = if unchanged {
                StatusCode::NOT_MODIFIED.into_response()
            } else {
                Response::new(Body::from(file.body))
            };
            let h = resp.headers_mut();
            h.insert(header::ETAG, file.etag_header);
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            h.insert(header::CONTENT_TYPE, content_type);
            resp
        }
        Answer::Challenge(value) => {
            let mut resp = plain(StatusCode::UNAUTHORIZED, "authentication required\n");
            if let Ok(v) = HeaderValue::from_str(&value) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            resp
        }
        Answer::NotFound => plain(StatusCode::NOT_FOUND, "not found\n"),
        Answer::Forbidden => plain(StatusCode::FORBIDDEN, "forbidden\n"),
        Answer::Banned => plain(StatusCode::TOO_MANY_REQUESTS, "too many requests\n"),
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

fn internal(e: &super::ProvisioningError) -> Response {
    tracing::error!("provisioning: {e}");
    plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
}
