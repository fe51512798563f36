//! Teams: members ring with their devices' team FollowMe, a device's own Läuten Agent
//! overrides the team's ring time, ring-all or one member after another.

use super::tests_util::{Run, call_to, phone, ring, tl, to_user, user, view, voicemail_after};
use super::*;
use crate::store::ForwardCondition;

fn team(members: &[&str], ring_time: u32, ring_all: bool) -> TeamView {
    TeamView {
        name: "sales".into(),
        members: members.iter().map(|m| (*m).to_owned()).collect(),
        ring_time,
        ring_all,
    }
}

fn sales() -> Destination {
    Destination::Team("sales".into())
}

/// Anna's device has its own Läuten Agent (6 s): it overrides the team's 20 s. Bert's device
/// has none (0): the team's ring time applies. Internal/external policies play no part.
#[test]
fn an_agents_own_team_timeout_overrides_the_teams_ring_time() {
    let mut desk = phone(1, 0, 30);
    desk.followme.team = ring(1, 6);
    let mut other = phone(2, 0, 30);
    other.followme.team = ring(2, 0);
    let mut anna = user("anna", vec![desk]);
    anna.actions = voicemail_after("anna");
    let mut v = view(vec![anna, user("bert", vec![other])]);
    v.insert_team(team(&["anna", "bert"], 20, true));
    let mut run = Run::start(call_to(sales(), CallClass::External), v);
    run.run_out();
    let expected = [
        (1_000, "ring 1"),
        (2_000, "ring 2"),
        (7_000, "stop 1 Timeout"),
        (22_000, "stop 2 Timeout"),
        (22_000, "reject Unavailable"),
        (22_000, "finished"),
    ];
    assert_eq!(
        run.timeline(),
        tl(&expected),
        "agents' own actions do not apply"
    );
}

#[test]
fn a_disabled_team_class_and_the_calling_agent_do_not_ring() {
    let mut desk = phone(1, 0, 30);
    desk.followme.team.enabled = false;
    let mut v = view(vec![
        user("anna", vec![desk]),
        user("bert", vec![phone(2, 0, 5)]),
        user("carl", vec![phone(3, 0, 5)]),
    ]);
    v.insert_team(team(&["anna", "bert", "carl"], 20, true));
    let mut request = call_to(sales(), CallClass::Internal);
    request.caller = Caller {
        device: Some(9),
        user: Some("carl".into()),
    };
    let run = Run::start(request, v);
    assert_eq!(run.timeline(), tl(&[(0, "ring 2")]));
}

/// Without ring-all the members ring one after another, each for their own time; a member
/// with nothing to ring is skipped.
#[test]
fn members_ring_in_turn_without_ring_all() {
    let mut v = view(vec![
        user("anna", vec![phone(1, 0, 4)]),
        user("bert", vec![]),
        user("carl", vec![phone(3, 1, 0), phone(4, 0, 3)]),
    ]);
    v.insert_team(team(&["anna", "bert", "carl"], 10, false));
    let mut run = Run::start(call_to(sales(), CallClass::Internal), v);
    run.run_out();
    let expected = [
        (0, "ring 1"),
        (4_000, "stop 1 Timeout"),
        (4_000, "ring 4"),
        (5_000, "ring 3"),
        (7_000, "stop 4 Timeout"),
        (15_000, "stop 3 Timeout"),
        (15_000, "reject Unavailable"),
        (15_000, "finished"),
    ];
    assert_eq!(
        run.timeline(),
        tl(&expected),
        "device 3 has no own team time: 10 s"
    );
}

#[test]
fn a_team_where_every_agent_is_busy_is_486() {
    let mut v = view(vec![
        user("anna", vec![phone(1, 0, 4)]),
        user("bert", vec![phone(2, 0, 4)]),
    ]);
    v.insert_team(team(&["anna", "bert"], 10, false));
    let mut run = Run::start(call_to(sales(), CallClass::Internal), v);
    run.refuse(0, Refusal::Busy);
    run.refuse(1, Refusal::Busy);
    let expected = [
        (0, "ring 1"),
        (0, "ring 2"),
        (0, "reject Busy"),
        (0, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
}

#[test]
fn a_user_forwards_to_a_team() {
    let mut anna = user("anna", vec![phone(1, 0, 3)]);
    anna.forwardings = vec![ForwardRule {
        condition: ForwardCondition::NoAnswer,
        to: sales(),
        active: true,
    }];
    let mut v = view(vec![anna, user("bert", vec![phone(2, 0, 30)])]);
    v.insert_team(team(&["anna", "bert"], 10, true));
    let mut run = Run::start(call_to(to_user("anna"), CallClass::External), v);
    run.advance(3_000);
    let expected = [
        (0, "ring 1"),
        (3_000, "stop 1 Timeout"),
        (3_000, "anna -> Team(\"sales\") Forwarding(NoAnswer)"),
        (3_000, "ring 1"),
        (3_000, "ring 2"),
    ];
    assert_eq!(
        run.timeline(),
        tl(&expected),
        "anna rings again, now as an agent"
    );
}
