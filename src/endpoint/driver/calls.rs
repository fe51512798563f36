//! The driver's half of calls: where an INVITE goes (the store, the registrar) and who the
//! caller is, handed to the endpoint as a [`Route`].

use super::Driver;
use super::view::{destination, view};
use crate::clock::UnixTime;
use crate::clock::now;
use crate::config::DidTarget;
use crate::dispatch::{CallClass, CallRequest, Caller, Destination, View};
use crate::endpoint::calls::Ended;
use crate::endpoint::calls::{CallerId, Ours, Route};
use crate::endpoint::local::App;
use crate::store::NewCall;
use crate::store::StoreError;
use crate::store::routing::CallingUser;

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

    async fn resolve_call(&mut self, device: i64, dialled: &str) -> Result<Route, StoreError> {
        if self.emergency.iter().any(|n| n == dialled) {
            return self.emergency_call(device, dialled).await;
        }
        let Some(user) = self.calling_user(device).await? else {
            // A workplace phone nobody is logged in at calls no one but emergency numbers.
            return Ok(Route::Refuse(403, "Forbidden"));
        };
        if self.mailbox_code.as_deref() == Some(dialled)
            || user.extension.as_deref() == Some(dialled)
        {
            tracing::info!(
                "sip: device {device} calls the mailbox of {}",
                user.username
            );
            return Ok(Route::Local(App::Mailbox {
                user: user.username,
                device,
            }));
        }
        let target = self.destination(dialled).await?;
        let caller = CallerId {
            name: user.display_name,
            number: user.number.unwrap_or_else(|| user.username.clone()),
            ours: Some(Ours {
                cid: user.cid_number,
                extension: user.extension,
            }),
        };
        tracing::info!("sip: device {device} calls {dialled}");
        if let Destination::Number(number) = target {
            if let Some(fax) = self.fax_at(&number).await? {
                return Ok(Route::Local(fax));
            }
            // Nothing of ours at that number: out through the trunk its prefix picks.
            return Ok(match self.endpoint.trunk_for(&number) {
                Some(trunk) => Route::Trunk {
                    trunk,
                    number,
                    caller,
                },
                None => Route::Refuse(404, "Not Found"),
            });
        }
        let caller_of = Caller {
            device: Some(device),
            user: Some(user.username),
        };
        self.dispatch_route(target, CallClass::Internal, caller_of, caller)
            .await
    }

    /// An emergency number from any device of ours, with or without a user behind it: out
    /// through the trunk its prefix picks, else the first trunk there is.
    async fn emergency_call(&self, device: i64, number: &str) -> Result<Route, StoreError> {
        let user = self.store.calling_user(device).await?;
        tracing::warn!("sip: device {device} calls the emergency number {number}");
        let caller = match user {
            Some(u) => CallerId {
                name: u.display_name,
                number: u.number.unwrap_or(u.username),
                ours: Some(Ours {
                    cid: u.cid_number,
                    extension: u.extension,
                }),
            },
            None => CallerId {
                name: String::new(),
                number: String::new(),
                ours: Some(Ours {
                    cid: None,
                    extension: None,
                }),
            },
        };
        Ok(match self.endpoint.trunk_for_emergency(number) {
            Some(trunk) => Route::Trunk {
                trunk,
                number: number.to_owned(),
                caller,
            },
            None => {
                tracing::error!("sip: no trunk for the emergency number {number}");
                Route::Refuse(503, "Service Unavailable")
            }
        })
    }

    /// The route of a call to `target`: through dispatch with what the store and registrar
    /// know now.
    async fn dispatch_route(
        &mut self,
        target: Destination,
        class: CallClass,
        caller_of: Caller,
        caller: CallerId,
    ) -> Result<Route, StoreError> {
        let view = self.view(&target).await?;
        let request = CallRequest {
            target,
            class,
            caller: caller_of,
        };
        Ok(Route::Dispatch {
            request,
            view,
            caller,
        })
    }

    /// Resolves call `key` from a trunk to the DID target `target`: a user's or a team's
    /// extension, or a team by name; anything else is 404 (a DID never leads out again).
    pub(super) async fn route_from_trunk(&mut self, key: u64, target: DidTarget, caller: CallerId) {
        let found = match &target {
            DidTarget::Extension(ext) => self.destination(ext).await,
            DidTarget::Team(name) => Ok(Destination::Team(name.clone())),
        };
        let route = match found {
            Ok(Destination::Number(number)) => match self.fax_at(&number).await {
                Ok(Some(fax)) => {
                    tracing::info!(
                        "sip: a call from outside ({}) for fax {number}",
                        caller.number
                    );
                    Ok(Route::Local(fax))
                }
                Ok(None) => {
                    tracing::warn!(
                        "sip: a trunk DID leads to {target:?}, which is no user or team"
                    );
                    Ok(Route::Refuse(404, "Not Found"))
                }
                Err(e) => Err(e),
            },
            Ok(dest) => {
                tracing::info!("sip: a call from outside ({}) for {dest:?}", caller.number);
                (self.dispatch_route(dest, CallClass::External, Caller::default(), caller)).await
            }
            Err(e) => Err(e),
        };
        let route = route.unwrap_or_else(|e| {
            tracing::warn!("sip: routing a call from a trunk: {e}");
            Route::Refuse(503, "Service Unavailable")
        });
        self.endpoint.handle_route(key, route, now());
    }
}

/// Routing reads through the [`super::route_cache::RouteCache`].
impl Driver {
    async fn calling_user(&mut self, device: i64) -> Result<Option<CallingUser>, StoreError> {
        let generation = self.store.generation();
        if let Some(found) = self.route_cache.at(generation).caller(device) {
            return Ok(found.clone());
        }
        let found = self.store.calling_user(device).await?;
        (self.route_cache.at(generation)).keep_caller(device, found.clone());
        Ok(found)
    }

    async fn destination(&mut self, dialled: &str) -> Result<Destination, StoreError> {
        let generation = self.store.generation();
        if let Some(found) = self.route_cache.at(generation).destination(dialled) {
            return Ok(found.clone());
        }
        let found = destination(&self.store, dialled).await?;
        (self.route_cache.at(generation)).keep_destination(dialled, found.clone());
        Ok(found)
    }

    /// The view of `target` with who is registered now.
    async fn view(&mut self, target: &Destination) -> Result<View, StoreError> {
        let generation = self.store.generation();
        let registrar = self.endpoint.registrar();
        let registered = |d: i64| !registrar.bindings(d).is_empty();
        if let Some(kept) = self.route_cache.at(generation).view(target) {
            let mut fresh = kept.clone();
            fresh.refresh_reach(registered);
            return Ok(fresh);
        }
        let hops = self.endpoint.dispatch_config().max_forward_hops;
        let found = view(&self.store, target, hops, registered).await?;
        (self.route_cache.at(generation)).keep_view(target.clone(), found.clone());
        Ok(found)
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
