//! The resolved view a call is dispatched on: what the driver read from the store and the
//! registrar for the users and teams a call can reach, as plain data. Dispatch never reads the
//! store; the driver fills a [`View`] until [`View::missing`] is empty.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::store::{FollowMe, ForwardCondition, RingPolicy, Scope, Timing};

use super::CallClass;

/// A device as the store numbers it.
pub type DeviceId = i64;

/// Where a call (or a forwarding, or an action) goes, already resolved by the driver: an
/// extension or username that names a user is a `User`, a team's extension a `Team`, anything
/// else a `Number` dialled out through a trunk.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Destination {
    User(String),
    Team(String),
    Number(String),
}

/// How a device is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// A phone or softphone with at least one registered contact.
    Registered,
    /// A phone or softphone with no registered contact: not rung.
    Unregistered,
    /// A mobile device: rung through a trunk with its number (seed, quick-create: "Hat ein
    /// Mobiltelefon"), with its FollowMe like any device.
    Mobile { number: String },
}

/// One device of a ring set with its FollowMe for the owner it rings for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceView {
    pub id: DeviceId,
    pub followme: FollowMe,
    pub reach: Reach,
}

impl DeviceView {
    /// The FollowMe of `class` [Warten/Läuten Intern/Extern/Agent].
    pub fn policy(&self, class: CallClass) -> RingPolicy {
        match class {
            CallClass::Internal => self.followme.internal,
            CallClass::External => self.followme.external,
            CallClass::Team => self.followme.team,
        }
    }
}

/// A call forwarding [Rufumleitung] of a user; inactive ones are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardRule {
    pub condition: ForwardCondition,
    pub to: Destination,
    pub active: bool,
}

/// What an action does, with its target resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// The voicemail box of `mailbox` (a username: the own box or the one the action names).
    Voicemail {
        mailbox: String,
    },
    Forward(Destination),
    Announcement {
        prompt: String,
    },
}

/// One action [Aktion] of a user or of their action template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub scope: Scope,
    pub timing: Timing,
    pub kind: StepKind,
}

/// A user as a call sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserView {
    pub username: String,
    /// Devices assigned to the user directly.
    pub devices: Vec<DeviceView>,
    /// Devices of the workplace the user is logged in at, with the workplace's FollowMe
    /// (seed, Mischbetrieb: "dass ein Benutzer einen Arbeitsplatz und gleichzeitig direkt
    /// zugewiesene Telefone benutzt").
    pub workplace_devices: Vec<DeviceView>,
    pub forwardings: Vec<ForwardRule>,
    /// The user's own actions, in order.
    pub actions: Vec<Step>,
    /// The steps of the action template the user follows (empty when none).
    pub template: Vec<Step>,
}

impl UserView {
    /// Every device that rings for the user: direct ones and those of their workplace (seed,
    /// Arbeitsplätze nutzen: "sind alle dem Arbeitsplatz zugeteilten Telefone unter der
    /// Durchwahl des Benutzer erreichbar").
    pub fn ring_set(&self) -> impl Iterator<Item = &DeviceView> {
        self.devices.iter().chain(&self.workplace_devices)
    }

    /// The actions for (`scope`, `timing`): the user's own, or — when they have none for that
    /// pair — their template's (store::templates: "gets its actions for every (scope, timing)
    /// they have no own action for").
    pub fn steps(&self, scope: Scope, timing: Timing) -> Vec<&StepKind> {
        let own = matching(&self.actions, scope, timing);
        if own.is_empty() {
            matching(&self.template, scope, timing)
        } else {
            own
        }
    }

    /// The first active forwarding for `condition`.
    pub fn forwarding(&self, condition: ForwardCondition) -> Option<&Destination> {
        self.forwardings
            .iter()
            .find(|f| f.active && f.condition == condition)
            .map(|f| &f.to)
    }

    /// Users and teams the user's forwardings and actions name.
    fn references(&self) -> impl Iterator<Item = &Destination> {
        let forwards = self.forwardings.iter().filter(|f| f.active).map(|f| &f.to);
        let steps = self.actions.iter().chain(&self.template);
        let actions = steps.filter_map(|s| match &s.kind {
            StepKind::Forward(to) => Some(to),
            _ => None,
        });
        forwards.chain(actions)
    }
}

/// A team [Team]: calls to it ring its members with their devices' team FollowMe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TeamView {
    pub name: String,
    /// Usernames, in hunt order.
    pub members: Vec<String>,
    /// Seconds a member's device rings when its own team timeout is 0 (seed, Läuten Agent:
    /// "Dieser Timeout überschreibt den Timeout, der beim Team eingestellt ist").
    pub ring_time: u32,
    /// All members at once; otherwise one member after another in `members` order.
    pub ring_all: bool,
}

/// Everything a call may reach, keyed by username and team name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct View {
    pub users: BTreeMap<String, UserView>,
    pub teams: BTreeMap<String, TeamView>,
}

impl View {
    pub fn insert_user(&mut self, user: UserView) {
        self.users.insert(user.username.clone(), user);
    }

    pub fn insert_team(&mut self, team: TeamView) {
        self.teams.insert(team.name.clone(), team);
    }

    /// Says again which phones are registered (`registered`), for a view read from the store
    /// earlier and kept while the store did not change; mobile devices stay as they are.
    pub fn refresh_reach(&mut self, registered: impl Fn(DeviceId) -> bool) {
        let devices = (self.users.values_mut())
            .flat_map(|u| u.devices.iter_mut().chain(u.workplace_devices.iter_mut()));
        for d in devices {
            if matches!(d.reach, Reach::Registered | Reach::Unregistered) {
                d.reach = match registered(d.id) {
                    true => Reach::Registered,
                    false => Reach::Unregistered,
                };
            }
        }
    }

    /// Users and teams a call to `target` can reach within `max_hops` forwardings that the
    /// view does not hold yet. The driver fetches them and asks again until this is empty.
    pub fn missing(&self, target: &Destination, max_hops: usize) -> Vec<Destination> {
        let mut seen = BTreeSet::new();
        let mut missing = Vec::new();
        // Breadth first: each name is explored at its fewest hops, so with the most budget left.
        let mut queue = VecDeque::from([(target.clone(), 0usize)]);
        while let Some((dest, hops)) = queue.pop_front() {
            if matches!(dest, Destination::Number(_)) || !seen.insert(dest.clone()) {
                continue;
            }
            match &dest {
                Destination::User(name) => match self.users.get(name) {
                    Some(user) if hops < max_hops => {
                        queue.extend(user.references().map(|d| (d.clone(), hops + 1)));
                    }
                    Some(_) => {}
                    None => missing.push(dest.clone()),
                },
                Destination::Team(name) => match self.teams.get(name) {
                    // Members ring as agents: their own forwardings and actions do not apply.
                    Some(team) => missing.extend(
                        (team.members.iter())
                            .filter(|m| !self.users.contains_key(*m))
                            .map(|m| Destination::User(m.clone())),
                    ),
                    None => missing.push(dest.clone()),
                },
                Destination::Number(_) => {}
            }
        }
        missing.sort();
        missing.dedup();
        missing
    }
}

fn matching(steps: &[Step], scope: Scope, timing: Timing) -> Vec<&StepKind> {
    let matching = steps
        .iter()
        .filter(|s| s.scope == scope && s.timing == timing);
    matching.map(|s| &s.kind).collect()
}
