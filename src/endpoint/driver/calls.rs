//! The driver's half of calls: where an INVITE goes (the store, the registrar) and who the
//! caller is, handed to the endpoint as a [`Route`].

use super::Driver;
use super::view::{destination, view};
use crate::clock::now;
use crate::dispatch::{CallClass, CallRequest, Caller, Destination};
use crate::endpoint::calls::{CallerId, Route};
use crate::store::StoreError;

impl Driver {
    /// Resolves call `key` from `device` to `dialled` and tells the endpoint.
    pub(super) async fn route_call(&mut self, key: u64, device: i64, dialled: &str) {
        let route = match self.resolve_call(device, dialled).await {
            Ok(route) => route,
            Err(e) => {
                tracing::warn!("sip: routing a call from device {device}: {e}");
                Route::Refuse(503, "Service Unavailable")
            }
        };
        self.endpoint.handle_route(key, route, now());
    }

    async fn resolve_call(&self, device: i64, dialled: &str) -> Result<Route, StoreError> {
        let Some(user) = self.store.calling_user(device).await? else {
            // A workplace phone nobody is logged in at calls no one (emergency numbers go
            // through a trunk, which is still to come).
            return Ok(Route::Refuse(403, "Forbidden"));
        };
        let target = destination(&self.store, dialled).await?;
        if let Destination::Number(_) = target {
            // Outside numbers need a trunk (not yet): nothing of ours at that number.
            return Ok(Route::Refuse(404, "Not Found"));
        }
        let registrar = self.endpoint.registrar();
        let registered = |d: i64| !registrar.bindings(d).is_empty();
        let hops = crate::dispatch::DispatchConfig::default().max_forward_hops;
        let view = view(&self.store, &target, hops, registered).await?;
        let caller = CallerId {
            name: user.display_name,
            number: user.number.unwrap_or_else(|| user.username.clone()),
        };
        let request = CallRequest {
            target,
            class: CallClass::Internal,
            caller: Caller {
                device: Some(device),
                user: Some(user.username),
            },
        };
        tracing::info!("sip: device {device} calls {dialled}");
        Ok(Route::Dispatch {
            request,
            view,
            caller,
        })
    }
}
