//! Where a call goes, read from the store by a task of its own (8–10 queries for a call to a
//! user: run inside the SIP loop, they held up every other message while they waited). What
//! only the loop knows — who is registered now, which trunk takes a number — it adds when the
//! [`Found`] comes back (`calls.rs`).

use std::sync::Arc;

use super::view::{destination, view};
use crate::config::DidTarget;
use crate::dispatch::{CallClass, CallRequest, Caller, Destination};
use crate::endpoint::calls::{CallerId, Ours, Route};
use crate::store::{Store, StoreError};

/// What a lookup needs besides the call.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub store: Store,
    /// `[calls] emergency_numbers`.
    pub emergency: Arc<[String]>,
    /// `[calls] max_forward_hops`: how deep the view reaches.
    pub hops: usize,
}

/// What a lookup found.
#[derive(Debug)]
pub enum Found {
    /// Through dispatch (its view's phones not yet marked registered or not), or refused.
    Route(Route),
    /// A number none of ours has: out through a trunk.
    Outside {
        number: String,
        caller: CallerId,
        emergency: bool,
    },
}

/// A call from our `device` to `dialled`.
pub async fn from_device(l: &Lookup, device: i64, dialled: &str) -> Result<Found, StoreError> {
    let emergency = l.emergency.iter().any(|n| n == dialled);
    let user = l.store.calling_user(device).await?;
    if emergency {
        tracing::warn!("sip: device {device} calls the emergency number {dialled}");
    }
    let Some(user) = user else {
        if !emergency {
            // A workplace phone nobody is logged in at calls no one but emergency numbers.
            return Ok(Found::Route(Route::Refuse(403, "Forbidden")));
        }
        let caller = CallerId {
            name: String::new(),
            number: String::new(),
            ours: Some(Ours {
                cid: None,
                extension: None,
            }),
        };
        return Ok(outside(dialled, caller, true));
    };
    let caller = CallerId {
        name: user.display_name,
        number: user.number.unwrap_or_else(|| user.username.clone()),
        ours: Some(Ours {
            cid: user.cid_number,
            extension: user.extension,
        }),
    };
    if emergency {
        return Ok(outside(dialled, caller, true));
    }
    tracing::info!("sip: device {device} calls {dialled}");
    match destination(&l.store, dialled).await? {
        // Nothing of ours at that number: out through the trunk its prefix picks.
        Destination::Number(number) => Ok(outside(&number, caller, false)),
        target => {
            let caller_of = Caller {
                device: Some(device),
                user: Some(user.username),
            };
            dispatched(l, target, CallClass::Internal, caller_of, caller).await
        }
    }
}

fn outside(number: &str, caller: CallerId, emergency: bool) -> Found {
    Found::Outside {
        number: number.to_owned(),
        caller,
        emergency,
    }
}

/// A call from a trunk to the DID target `target`: a user's or a team's extension, or a team
/// by name; anything else is 404 (a DID never leads out again).
pub async fn from_trunk(
    l: &Lookup,
    target: DidTarget,
    caller: CallerId,
) -> Result<Found, StoreError> {
    let dest = match &target {
        DidTarget::Extension(ext) => destination(&l.store, ext).await?,
        DidTarget::Team(name) => Destination::Team(name.clone()),
    };
    if let Destination::Number(_) = dest {
        tracing::warn!("sip: a trunk DID leads to {target:?}, which is no user or team");
        return Ok(Found::Route(Route::Refuse(404, "Not Found")));
    }
    tracing::info!("sip: a call from outside ({}) for {dest:?}", caller.number);
    dispatched(l, dest, CallClass::External, Caller::default(), caller).await
}

/// Through dispatch to `target`, with the view of everything it can reach.
async fn dispatched(
    l: &Lookup,
    target: Destination,
    class: CallClass,
    caller_of: Caller,
    caller: CallerId,
) -> Result<Found, StoreError> {
    // Registered or not is the loop's to say when the view comes back.
    let view = view(&l.store, &target, l.hops, |_| false).await?;
    let request = CallRequest {
        target,
        class,
        caller: caller_of,
    };
    Ok(Found::Route(Route::Dispatch {
        request,
        view,
        caller,
    }))
}
