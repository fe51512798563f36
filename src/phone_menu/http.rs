//! `/menu/<token>/…` over HTTP(S): the request as the phone sends it, the reply in its dialect.
//! Refusals are fixed plain texts, the same for every reason of the same kind.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{MenuError, PhoneMenu, Request};

#[derive(Debug, Clone)]
struct MenuState {
    menu: PhoneMenu,
    scheme: &'static str,
}

/// The menu routes; `https` tells which listener they serve, for the links in the screens.
pub fn router(menu: PhoneMenu, https: bool) -> Router {
    let scheme = if https { "https" } else { "http" };
    Router::new()
        .route("/menu/{token}", get(root))
        .route("/menu/{token}/", get(root))
        .route("/menu/{token}/{*rest}", get(page))
        .with_state(MenuState { menu, scheme })
}

async fn root(
    state: State<MenuState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(token): Path<String>,
    query: RawQuery,
) -> Response {
    serve(state, peer, headers, token, String::new(), query).await
}

async fn page(
    state: State<MenuState>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path((token, rest)): Path<(String, String)>,
    query: RawQuery,
) -> Response {
    serve(state, peer, headers, token, rest, query).await
}

async fn serve(
    State(s): State<MenuState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    token: String,
    rest: String,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| valid_host(h))
    else {
        return plain(StatusCode::BAD_REQUEST, "bad request\n");
    };
    let query = query.map(|q| url_decode_pairs(&q)).unwrap_or_default();
    let req = Request {
        token: &token,
        path: rest.split('/').filter(|p| !p.is_empty()).collect(),
        query,
        peer: peer.ip(),
        base: format!("{}://{host}", s.scheme),
    };
    match s.menu.handle(&req).await {
        Ok(reply) => (
            [
                (header::CONTENT_TYPE, reply.content_type),
                (header::CACHE_CONTROL, "no-store"),
            ],
            reply.body,
        )
            .into_response(),
        Err(MenuError::UnknownToken) => plain(StatusCode::NOT_FOUND, "not found\n"),
        Err(MenuError::Forbidden) => plain(StatusCode::FORBIDDEN, "forbidden\n"),
        Err(e) => {
            tracing::error!("menu: {e}");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
        }
    }
}

/// A Host header that can go into a URL as it is: name or address, optional port.
fn valid_host(h: &str) -> bool {
    (1..=260).contains(&h.len())
        && h.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
}

/// `a=1&b=%32` as pairs; `+` is a space; undecodable bytes are dropped, never a panic.
fn url_decode_pairs(q: &str) -> Vec<(String, String)> {
    q.split('&')
        .filter(|p| !p.is_empty())
        .take(16)
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let hex = |b: u8| (b as char).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let pair = bytes
            .get(i + 1)
            .copied()
            .and_then(hex)
            .zip(bytes.get(i + 2).copied().and_then(hex));
        match (bytes[i], pair) {
            (b'+', _) => out.push(b' '),
            (b'%', Some((hi, lo))) => {
                out.push((hi * 16 + lo) as u8);
                i += 2;
            }
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn plain(status: StatusCode, text: &'static str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        text,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_without_panicking() {
        assert_eq!(
            url_decode_pairs("ext=100&pin=12%334"),
            vec![("ext".into(), "100".into()), ("pin".into(), "1234".into())]
        );
        assert_eq!(
            url_decode_pairs("a=%&b=%4&c=%zz&d"),
            vec![
                ("a".into(), "%".into()),
                ("b".into(), "%4".into()),
                ("c".into(), "%zz".into()),
                ("d".into(), String::new()),
            ]
        );
        assert_eq!(decode("%C3%BC+x"), "ü x");
        assert_eq!(
            decode("%aü%"),
            "%aü%",
            "a multi-byte character after % must not split"
        );
    }

    #[test]
    fn hosts_with_markup_are_refused() {
        assert!(valid_host("pbx.example.com:8080"));
        assert!(valid_host("[::1]:80"));
        assert!(!valid_host("evil\"><x"));
        assert!(!valid_host(""));
    }
}
