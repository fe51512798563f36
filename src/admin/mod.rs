//! The admin REST API under `/api/v1`: JSON over HTTP, Basic or bearer auth, the seed's roles.
//!
//! Every route is registered through [`Api::route`], which records its method, path, role area
//! and documentation in one [`RouteTable`]. The auth guard reads that table (a route missing from
//! it is refused), and the OpenAPI document is generated from it, so the three cannot drift.

mod auth;
mod body;
mod error;
mod handlers;
mod openapi;
pub mod roles;

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, on};

pub use error::AdminError;
pub use openapi::document as openapi_document;
use roles::Area;

use crate::store::Store;

/// What a route documents about itself.
#[derive(Debug, Clone, Copy)]
pub struct Doc {
    pub summary: &'static str,
    /// Schema name of the request body, if it takes one.
    pub request: Option<&'static str>,
    /// Schema name of the success body (`Name[]` for a list), None for 204.
    pub response: Option<&'static str>,
    /// Success status.
    pub status: u16,
    /// Query parameters the route takes: `name` (boolean) or `name:type` (`name:integer`).
    pub query: &'static [&'static str],
}

/// One row of the route table.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub area: Area,
    pub doc: Doc,
}

/// All API routes with their areas; the guard's and the OpenAPI document's single source.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<RouteSpec>,
    index: HashMap<(Method, String), Area>,
}

impl RouteTable {
    pub fn routes(&self) -> &[RouteSpec] {
        &self.routes
    }

    /// The area of a matched route, None if the table does not list it.
    pub fn area(&self, method: &Method, path: &str) -> Option<Area> {
        self.index.get(&(method.clone(), path.to_owned())).copied()
    }

    fn push(&mut self, spec: RouteSpec) {
        self.index
            .insert((spec.method.clone(), spec.path.to_owned()), spec.area);
        self.routes.push(spec);
    }
}

/// Shared state of the API handlers.
#[derive(Debug, Clone)]
pub struct ApiState {
    pub store: Store,
    pub firmware: crate::provisioning::firmware::FirmwareDir,
    /// The menu's PIN lockouts, which admins list and clear.
    pub guard: crate::phone_menu::Guard,
    /// Written before devices are shown, so their last fetch is current.
    pub fetches: crate::provisioning::FetchLog,
    /// Where devices are registered (phone status).
    pub presence: crate::registrar::presence::Presence,
    table: Arc<RouteTable>,
    credentials: Arc<auth::CredentialCache>,
    /// One import at a time: each may use a reading child of up to 1 GiB and holds the writer.
    imports: Arc<tokio::sync::Semaphore>,
}

/// Builds the router and the route table side by side.
pub struct Api {
    router: Router<ApiState>,
    table: RouteTable,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api").field("table", &self.table).finish()
    }
}

impl Api {
    /// Registers `handler` for `method path`, reachable by the roles that may use `area`.
    pub fn route<H, T>(
        mut self,
        method: Method,
        path: &'static str,
        area: Area,
        doc: Doc,
        handler: H,
    ) -> Self
    where
        H: Handler<T, ApiState>,
        T: 'static,
    {
        let filter =
            MethodFilter::try_from(method.clone()).expect("API routes use standard methods");
        self.router = self.router.route(path, on(filter, handler));
        self.table.push(RouteSpec {
            method,
            path,
            area,
            doc,
        });
        self
    }
}

/// The route table alone (for the OpenAPI document and tests).
pub fn route_table() -> RouteTable {
    handlers::register(Api {
        router: Router::new(),
        table: RouteTable::default(),
    })
    .table
}

impl ApiState {
    /// `device` with its phone status from the registrar.
    pub fn with_status(&self, mut device: crate::store::Device) -> crate::store::Device {
        device.sip = self.presence.status(device.id);
        device
    }

    /// Every device of `list` with its phone status.
    /// `user` with `reachable`, `ringing` and `busy` from the SIP side (phone status
    /// [Telefonstatus]).
    pub fn with_reachability(&self, mut user: crate::store::User) -> crate::store::User {
        let status = &mut user.phone_status;
        let devices = &status.ring_devices;
        status.reachable = devices.iter().any(|d| self.presence.status(*d).registered);
        let lines: Vec<_> = devices.iter().map(|d| self.presence.line(*d)).collect();
        status.ringing = lines.iter().any(|l| l.ringing);
        status.busy = lines.iter().any(|l| l.busy);
        user
    }

    pub fn with_statuses(&self, list: Vec<crate::store::Device>) -> Vec<crate::store::Device> {
        list.into_iter().map(|d| self.with_status(d)).collect()
    }
}

/// What the API works on besides its own state.
#[derive(Debug, Clone)]
pub struct AdminParts {
    pub store: Store,
    pub firmware: crate::provisioning::firmware::FirmwareDir,
    pub guard: crate::phone_menu::Guard,
    pub fetches: crate::provisioning::FetchLog,
    pub presence: crate::registrar::presence::Presence,
    pub max_body_bytes: usize,
}

/// The `/api/v1` router and `/healthz`, ready to serve.
pub fn router(parts: AdminParts) -> Router {
    let api = handlers::register(Api {
        router: Router::new(),
        table: RouteTable::default(),
    });
    let max_body_bytes = parts.max_body_bytes;
    let state = ApiState {
        store: parts.store,
        firmware: parts.firmware,
        guard: parts.guard,
        fetches: parts.fetches,
        presence: parts.presence,
        table: Arc::new(api.table),
        credentials: Arc::default(),
        imports: Arc::new(tokio::sync::Semaphore::new(1)),
    };
    let limit = body::BodyLimit(max_body_bytes);
    let guarded = api.router.route_layer(axum::middleware::from_fn_with_state(
        state.clone(),
        auth::guard,
    ));
    Router::new()
        .merge(guarded)
        .route("/api/v1/openapi.json", axum::routing::get(openapi::serve))
        .route("/healthz", axum::routing::get(handlers::healthz))
        .fallback(|| async { AdminError::NoRoute })
        .method_not_allowed_fallback(|| async { AdminError::Method })
        .layer(axum::Extension(limit))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}
