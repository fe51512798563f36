//! Who is calling: HTTP Basic (argon2-checked, then remembered briefly) or a bearer token; then
//! whether the route table lets that role in. A route missing from the table is refused.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use crate::clock::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::error::AdminError;
use super::{ApiState, roles};
use crate::store::secret::Secret;
use crate::store::{Principal, Store, StoreError};

/// How long a verified password is remembered; argon2 per request would cost ~20 ms each.
const REMEMBER: Duration = Duration::from_secs(60);
const MAX_REMEMBERED: usize = 4096;

/// Recently verified Basic credentials: digest of (name, password) → (stored hash, when).
/// An entry counts only while the stored hash is unchanged, so a new password takes effect at once.
#[derive(Debug, Default)]
pub struct CredentialCache(Mutex<HashMap<[u8; 32], (String, Instant)>>);

impl CredentialCache {
    fn key(name: &str, password: &Secret) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(name.as_bytes());
        h.update([0]);
        h.update(password.expose().as_bytes());
        h.finalize().into()
    }

    fn hit(&self, key: &[u8; 32], stored_hash: &str, now: Instant) -> bool {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key).is_some_and(|(hash, at)| {
            hash == stored_hash && now.saturating_duration_since(*at) < REMEMBER
        })
    }

    fn remember(&self, key: [u8; 32], stored_hash: String, now: Instant) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_REMEMBERED {
            map.retain(|_, (_, at)| now.saturating_duration_since(*at) < REMEMBER);
            if map.len() >= MAX_REMEMBERED {
                map.clear();
            }
        }
        map.insert(key, (stored_hash, now));
    }
}

/// Checks Basic credentials against the store, using the cache to skip argon2 on repeats.
async fn basic(
    store: &Store,
    cache: &CredentialCache,
    name: &str,
    password: &Secret,
) -> Result<Option<Principal>, StoreError> {
    let Some((principal, stored)) = store.credentials(name).await? else {
        // As slow as a wrong password, so timing does not tell which names exist.
        store.spend_a_hash(password).await;
        return Ok(None);
    };
    let key = CredentialCache::key(name, password);
    if cache.hit(&key, &stored, crate::clock::now()) {
        return Ok(Some(principal));
    }
    if store.verify_secret(password, &stored).await {
        cache.remember(key, stored, crate::clock::now());
        Ok(Some(principal))
    } else {
        Ok(None)
    }
}

/// Reads the Authorization header into a principal, or says why not.
async fn principal(state: &ApiState, header: Option<String>) -> Result<Principal, AdminError> {
    let header = header.ok_or(AdminError::Unauthorized)?;
    let (scheme, value) = header.split_once(' ').ok_or(AdminError::Unauthorized)?;
    let found = if scheme.eq_ignore_ascii_case("bearer") {
        state.store.token_principal(value.trim()).await?
    } else if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .map_err(|_| AdminError::Unauthorized)?;
        let text = String::from_utf8(decoded).map_err(|_| AdminError::Unauthorized)?;
        let (name, password) = text.split_once(':').ok_or(AdminError::Unauthorized)?;
        basic(
            &state.store,
            &state.credentials,
            name,
            &Secret::new(password),
        )
        .await?
    } else {
        None
    };
    found.ok_or(AdminError::Unauthorized)
}

/// Middleware on every API route: authenticate, then authorize by the route table.
pub async fn guard(
    State(state): State<ApiState>,
    mut req: Request,
    next: Next,
) -> Result<Response, AdminError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let who = principal(&state, header).await?;
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    // axum answers HEAD on every GET route; it reads what GET reads.
    let method = if req.method() == Method::HEAD {
        Method::GET
    } else {
        req.method().clone()
    };
    let area = state.table.area(&method, &path);
    let own = area.is_some_and(|area| {
        who.source == crate::store::PrincipalSource::User
            && roles::own_voicemail(area, &who.name, req.uri().path())
    });
    match area {
        Some(area) if roles::allows(who.role, area) || own => {
            req.extensions_mut().insert(who);
            Ok(next.run(req).await)
        }
        Some(_) => Err(AdminError::Forbidden(format!(
            "role {} may not {} {path}",
            who.role,
            req.method()
        ))),
        None => Err(AdminError::Forbidden(format!(
            "{} {path} is not in the role table",
            req.method()
        ))),
    }
}
