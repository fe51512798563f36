//! Checks a server makes on a well-formed request before any method-specific work, each with
//! the response RFC 3261 prescribes: 416 for a Request-URI scheme it does not serve (§8.2.2.1),
//! 420 with Unsupported for a Require it does not know (§8.2.2.3), 415 with Accept for a body
//! type it cannot read (§8.2.3). RFC 4475 `unkscm`, `novelsc`, `bext01`, `invut`.

use super::header_name::HeaderName;
use super::message::{Request, Response};
use super::method::Method;
use super::uri::Uri;

/// What this server understands.
#[derive(Debug, Clone, Copy)]
pub struct Capabilities<'a> {
    /// Option tags for Require (lower case).
    pub extensions: &'a [&'a str],
    /// Body media types (lower case `type/subtype`).
    pub body_types: &'a [&'a str],
}

impl Default for Capabilities<'static> {
    fn default() -> Self {
        Capabilities {
            extensions: &[],
            body_types: &["application/sdp", "multipart/mixed"],
        }
    }
}

/// A request the server refuses before looking at it further.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    UnsupportedScheme,
    BadExtension(Vec<String>),
    UnsupportedMediaType,
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::UnsupportedScheme => 416,
            Refusal::BadExtension(_) => 420,
            Refusal::UnsupportedMediaType => 415,
        }
    }

    /// The response, To tag included (the caller chose it; a request within a dialog keeps
    /// the dialog's, §12.2.1.1).
    pub fn response(&self, request: &Request, to_tag: &str, caps: &Capabilities) -> Response {
        let reason = match self {
            Refusal::UnsupportedScheme => "Unsupported URI Scheme",
            Refusal::BadExtension(_) => "Bad Extension",
            Refusal::UnsupportedMediaType => "Unsupported Media Type",
        };
        let mut r = Response::for_request(request, self.status(), reason);
        if r.head.to.tag().is_none() {
            r.head.to.params.set("tag", Some(to_tag.to_owned()));
        }
        match self {
            Refusal::BadExtension(tags) => r
                .head
                .headers
                .push(HeaderName::UNSUPPORTED, tags.join(", ")),
            Refusal::UnsupportedMediaType => r
                .head
                .headers
                .push(HeaderName::ACCEPT, caps.body_types.join(", ")),
            Refusal::UnsupportedScheme => {}
        }
        r
    }
}

/// The first reason to refuse `request`, if any. ACK and CANCEL are never refused for a
/// Require (§8.2.2.3); a header that failed to parse was refused earlier by the parser.
pub fn screen(request: &Request, caps: &Capabilities) -> Result<(), Refusal> {
    if !matches!(request.uri, Uri::Sip(_) | Uri::Tel(_)) {
        return Err(Refusal::UnsupportedScheme);
    }
    if !matches!(request.method, Method::Ack | Method::Cancel) {
        let required = request
            .head
            .headers
            .tokens(&HeaderName::REQUIRE)
            .unwrap_or_default();
        let unknown: Vec<String> = required
            .into_iter()
            .filter(|t| !caps.extensions.contains(&t.to_ascii_lowercase().as_str()))
            .collect();
        if !unknown.is_empty() {
            return Err(Refusal::BadExtension(unknown));
        }
    }
    if !request.body.is_empty() {
        let ct = request.head.headers.content_type().ok().flatten();
        if !ct.is_some_and(|t| caps.body_types.contains(&t.as_str())) {
            return Err(Refusal::UnsupportedMediaType);
        }
    }
    Ok(())
}
