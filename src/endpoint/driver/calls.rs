//! The driver's half of calls: where an INVITE goes (the store, the registrar) and who the
//! caller is, handed to the endpoint as a [`Route`].

use super::Driver;
use super::view::{destination, view};
use crate::clock::UnixTime;
use crate::clock::now;
use crate::dispatch::{CallClass, CallRequest, Caller, Destination};
use crate::endpoint::calls::Ended;
use crate::endpoint::calls::{CallerId, Route};
use crate::store::NewCall;
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

impl Driver {
    /// Drops call records past `[calls] retention_days`.
    pub(super) async fn prune_calls(&self, retention: &crate::config::CallsConfig) {
        match self
            .store
            .prune_calls(retention.cutoff(UnixTime::now()))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!("sip: pruned {n} call records past retention"),
            Err(e) => tracing::warn!("sip: pruning call records: {e}"),
        }
    }

    /// Queues the record of a call that ended for the [`super::recorder::CallRecorder`].
    pub(super) fn record_call(&self, ended: Ended) {
        let (wall, at) = (UnixTime::now(), now());
        // Instants of the core, as wall-clock times: that long before now.
        let when = |t: crate::clock::Instant| {
            let ago = at.saturating_duration_since(t).as_secs();
            UnixTime::from_secs(wall.secs().saturating_sub(i64::try_from(ago).unwrap_or(0)))
        };
        let r = &ended.record;
        let call = NewCall {
            started_at: when(r.started),
            answered_at: r.answered.map(when),
            ended_at: when(ended.ended),
            caller_number: ended
                .caller
                .as_ref()
                .map_or_else(String::new, |c| c.number.clone()),
            caller_name: ended.caller.as_ref().map(|c| c.name.clone()),
            callee: r.dialled.clone(),
            class: r.class,
            answered_by: r.answered_by,
            outcome: r.outcome.unwrap_or(crate::store::CallOutcome::Failed),
            after_action: r.after_action,
        };
        // Fails only once the recorder is gone, after the loop ended.
        let _ = self.records.send(call);
    }
}
