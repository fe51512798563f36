//! Builds the dispatch core's [`View`] for a call from the store and the registrar: every user
//! the call can reach within the forwarding hop limit, with their devices' FollowMe and whether
//! each is registered, and every team it can reach with its members.

use crate::dispatch::{
    Destination, DeviceView, ForwardRule, Reach, Step, StepKind, TeamView, UserView, View,
};
use crate::store::routing::{Dialled, RouteUser};
use crate::store::{ActionKind, Device, DeviceKind, Store, StoreError};

/// Where `number` leads: a user, a team, or an outside number (a speed dial stands for its number,
/// followed once, so a code that names an extension reaches that user).
pub async fn destination(store: &Store, number: &str) -> Result<Destination, StoreError> {
    Ok(match store.dialled(number).await? {
        Dialled::User(u) => Destination::User(u),
        Dialled::Team(t) => Destination::Team(t),
        Dialled::SpeedDial(n) => match store.dialled(&n).await? {
            Dialled::User(u) => Destination::User(u),
            Dialled::Team(t) => Destination::Team(t),
            _ => Destination::Number(n),
        },
        Dialled::Fax(_) | Dialled::Other => Destination::Number(number.to_owned()),
    })
}

/// The view of everything a call to `target` can reach; `registered` says whether a device
/// has a binding now.
pub async fn view(
    store: &Store,
    target: &Destination,
    max_hops: usize,
    registered: impl Fn(i64) -> bool,
) -> Result<View, StoreError> {
    let mut view = View::default();
    loop {
        let missing = view.missing(target, max_hops);
        if missing.is_empty() {
            return Ok(view);
        }
        for dest in missing {
            let name = match dest {
                Destination::User(name) => name,
                Destination::Team(name) => {
                    view.insert_team(team_view(store, name).await?);
                    continue;
                }
                Destination::Number(_) => continue,
            };
            let user = match store.route_user(&name).await? {
                Some(found) => user_view(store, found, &registered).await?,
                // Gone meanwhile: a user with nothing to ring.
                None => UserView {
                    username: name,
                    ..UserView::default()
                },
            };
            view.insert_user(user);
        }
    }
}

/// A team as dispatch sees it; one deleted meanwhile rings nobody.
async fn team_view(store: &Store, name: String) -> Result<TeamView, StoreError> {
    match store.team(&name).await {
        Ok(t) => Ok(TeamView {
            name: t.name,
            members: t.members,
            ring_time: t.ring_time,
            ring_all: t.ring_all,
        }),
        Err(StoreError::NotFound { .. }) => Ok(TeamView {
            name,
            ..TeamView::default()
        }),
        Err(e) => Err(e),
    }
}

async fn user_view(
    store: &Store,
    u: RouteUser,
    registered: &impl Fn(i64) -> bool,
) -> Result<UserView, StoreError> {
    let devices = |list: &[Device]| list.iter().map(|d| device(d, registered)).collect();
    let mut forwardings = Vec::new();
    for f in &u.forwardings {
        forwardings.push(ForwardRule {
            condition: f.condition,
            to: destination(store, &f.target).await?,
            active: f.active,
        });
    }
    let mut actions = Vec::new();
    for a in &u.actions {
        let kind = step(store, &u.username, a.kind, a.target.as_deref()).await?;
        actions.extend(kind.map(|kind| Step {
            scope: a.scope,
            timing: a.timing,
            kind,
        }));
    }
    let mut template = Vec::new();
    for a in &u.template {
        let kind = step(store, &u.username, a.kind, a.target.as_deref()).await?;
        template.extend(kind.map(|kind| Step {
            scope: a.scope,
            timing: a.timing,
            kind,
        }));
    }
    Ok(UserView {
        devices: devices(&u.devices),
        workplace_devices: devices(&u.workplace_devices),
        username: u.username,
        forwardings,
        actions,
        template,
    })
}

fn device(d: &Device, registered: &impl Fn(i64) -> bool) -> DeviceView {
    let reach = match (&d.kind, &d.number) {
        (DeviceKind::Mobile, Some(number)) => Reach::Mobile {
            number: number.clone(),
        },
        _ if registered(d.id) => Reach::Registered,
        _ => Reach::Unregistered,
    };
    DeviceView {
        id: d.id,
        followme: d.followme.unwrap_or_default(),
        reach,
    }
}

/// An action's step; None for one whose target is missing (the store refuses those).
async fn step(
    store: &Store,
    username: &str,
    kind: ActionKind,
    target: Option<&str>,
) -> Result<Option<StepKind>, StoreError> {
    Ok(match (kind, target) {
        (ActionKind::Voicemail, mailbox) => Some(StepKind::Voicemail {
            mailbox: mailbox.unwrap_or(username).to_owned(),
        }),
        (ActionKind::ForwardUser, Some(t)) => Some(StepKind::Forward(destination(store, t).await?)),
        (ActionKind::ForwardNumber, Some(t)) => {
            Some(StepKind::Forward(Destination::Number(t.into())))
        }
        (ActionKind::Announcement, Some(p)) => Some(StepKind::Announcement { prompt: p.into() }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{ForwardCondition, NewDevice, NewForwarding, NewUser, temp_store};

    async fn user(store: &Store, name: &str, extension: &str) {
        let new = NewUser {
            username: name.into(),
            display_name: name.into(),
            extension: Some(extension.into()),
            password: Some(crate::store::secret::Secret::new("correct horse battery")),
            ..NewUser::default()
        };
        store.create_user(new).await.expect("user");
    }

    async fn device(store: &Store, kind: DeviceKind, owner: &str) -> i64 {
        let new = NewDevice {
            kind: Some(kind),
            label: Some("d".into()),
            number: (kind == DeviceKind::Mobile).then(|| "+4917012345".into()),
            user: Some(owner.into()),
            ..NewDevice::default()
        };
        store.create_device(new).await.expect("device").id
    }

    #[tokio::test]
    async fn a_call_sees_every_user_its_forwardings_reach_with_what_is_registered() {
        let (_dir, store) = temp_store().await;
        user(&store, "anna", "100").await;
        user(&store, "bert", "101").await;
        let soft = device(&store, DeviceKind::Softphone, "anna").await;
        device(&store, DeviceKind::Mobile, "anna").await;
        let berts = device(&store, DeviceKind::Softphone, "bert").await;
        let busy = NewForwarding {
            condition: ForwardCondition::Busy,
            target: "101".into(),
            active: true,
        };
        store
            .add_forwarding("anna", busy)
            .await
            .expect("forwarding");
        let target = destination(&store, "100").await.expect("100");
        assert_eq!(target, Destination::User("anna".into()));
        let v = view(&store, &target, 8, |d| d == soft).await.expect("view");
        let anna = &v.users["anna"];
        let reach: Vec<&Reach> = anna.devices.iter().map(|d| &d.reach).collect();
        assert_eq!(
            reach,
            [
                &Reach::Registered,
                &Reach::Mobile {
                    number: "+4917012345".into()
                }
            ]
        );
        assert_eq!(anna.forwardings[0].to, Destination::User("bert".into()));
        let bert = &v.users["bert"];
        assert_eq!(bert.devices[0].id, berts);
        assert_eq!(bert.devices[0].reach, Reach::Unregistered);
        let outside = destination(&store, "0301234").await.expect("outside");
        assert_eq!(outside, Destination::Number("0301234".into()));
    }

    /// A team's extension leads to the team; the view holds it and every member as a user.
    #[tokio::test]
    async fn a_call_to_a_team_sees_the_team_and_its_members() {
        let (_dir, store) = temp_store().await;
        user(&store, "anna", "100").await;
        user(&store, "bert", "101").await;
        let annas = device(&store, DeviceKind::Softphone, "anna").await;
        let team = crate::store::NewTeam {
            name: "sales".into(),
            extension: "600".into(),
            ring_time: Some(12),
            ring_all: Some(false),
            members: vec!["bert".into(), "anna".into()],
            ..Default::default()
        };
        store.create_team(&team).await.expect("team");
        let target = destination(&store, "600").await.expect("600");
        assert_eq!(target, Destination::Team("sales".into()));
        let v = view(&store, &target, 8, |_| true).await.expect("view");
        let sales = &v.teams["sales"];
        assert_eq!(sales.members, ["bert", "anna"]);
        assert_eq!((sales.ring_time, sales.ring_all), (12, false));
        assert_eq!(v.users["anna"].devices[0].id, annas);
        assert!(v.users.contains_key("bert"));
        assert!(v.missing(&target, 8).is_empty());
    }
}
