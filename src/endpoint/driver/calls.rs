//! The driver's half of calls: where an INVITE goes (looked up off the loop in
//! [`super::routing`], completed with the registrar and the trunks here) handed to the
//! endpoint as a [`Route`], and the records of calls that ended.

use super::Driver;
use super::routing::{self, Found};
use crate::clock::UnixTime;
use crate::clock::now;
use crate::config::DidTarget;
use crate::endpoint::calls::Ended;
use crate::endpoint::calls::{CallerId, Route};
use crate::store::NewCall;
use crate::store::StoreError;

impl Driver {
    /// Looks up where call `key` from `device` to `dialled` goes, off the loop.
    pub(super) fn route_call(&self, key: u64, device: i64, dialled: String) {
        let l = self.lookup.clone();
        self.spawn_route(key, async move {
            routing::from_device(&l, device, &dialled).await
        });
    }

    /// Looks up where call `key` from a trunk to DID target `target` goes, off the loop.
    pub(super) fn route_from_trunk(&self, key: u64, target: DidTarget, caller: CallerId) {
        let l = self.lookup.clone();
        self.spawn_route(
            key,
            async move { routing::from_trunk(&l, target, caller).await },
        );
    }

    fn spawn_route(
        &self,
        key: u64,
        lookup: impl Future<Output = Result<Found, StoreError>> + Send + 'static,
    ) {
        let routes = self.routes.clone();
        tokio::spawn(async move {
            let found = lookup.await.unwrap_or_else(|e| {
                tracing::warn!("sip: routing call {key}: {e}");
                Found::Route(Route::Refuse(503, "Service Unavailable"))
            });
            let _ = routes.send((key, found)).await;
        });
    }

    /// A lookup came back: completed with who is registered now and which trunk takes a
    /// number, it goes to the endpoint.
    pub(super) fn routed(&mut self, (key, found): (u64, Found)) {
        let route = match found {
            Found::Route(Route::Dispatch {
                request,
                mut view,
                caller,
            }) => {
                let registrar = self.endpoint.registrar();
                view.mark_registered(|d| !registrar.bindings(d).is_empty());
                Route::Dispatch {
                    request,
                    view,
                    caller,
                }
            }
            Found::Route(route) => route,
            Found::Outside {
                number,
                caller,
                emergency,
            } => {
                let trunk = match emergency {
                    true => self.endpoint.trunk_for_emergency(&number),
                    false => self.endpoint.trunk_for(&number),
                };
                match trunk {
                    Some(trunk) => Route::Trunk {
                        trunk,
                        number,
                        caller,
                    },
                    None if emergency => {
                        tracing::error!("sip: no trunk for the emergency number {number}");
                        Route::Refuse(503, "Service Unavailable")
                    }
                    None => Route::Refuse(404, "Not Found"),
                }
            }
        };
        self.endpoint.handle_route(key, route, now());
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
