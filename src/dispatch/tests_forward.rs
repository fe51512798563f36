//! Call forwardings [Rufumleitungen] and forwarding actions: chains, loops, the hop limit, and
//! the view the driver has to fetch.

use super::tests_util::{
    Run, call_to, forwarding, phone, step, tl, to_user, user, view, voicemail_after,
};
use super::*;
use crate::store::{ForwardCondition, Scope, Timing};

fn forward(condition: ForwardCondition, to: &str) -> ForwardRule {
    forwarding(condition, to_user(to))
}

#[test]
fn always_forwards_before_anything_rings() {
    let mut anna = user("anna", vec![phone(1, 0, 20)]);
    anna.forwardings = vec![forward(ForwardCondition::Always, "bert")];
    let bert = user("bert", vec![phone(2, 1, 20)]);
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna, bert]),
    );
    run.advance(1_000);
    let expected = [
        (0, "anna -> User(\"bert\") Forwarding(Always)"),
        (1_000, "ring 2"),
    ];
    assert_eq!(
        run.timeline(),
        tl(&expected),
        "anna's own phone does not ring"
    );
}

/// a→b→a: the call stops at the first repeat and goes to the last user's after-action.
#[test]
fn an_always_loop_ends_at_the_last_users_after_action() {
    let mut anna = user("anna", vec![phone(1, 0, 20)]);
    anna.forwardings = vec![forward(ForwardCondition::Always, "bert")];
    let mut bert = user("bert", vec![phone(2, 0, 20)]);
    bert.forwardings = vec![forward(ForwardCondition::Always, "anna")];
    bert.actions = voicemail_after("bert");
    let run = Run::start(
        call_to(to_user("anna"), CallClass::External),
        view(vec![anna, bert]),
    );
    let expected = [
        (0, "anna -> User(\"bert\") Forwarding(Always)"),
        (0, "Voicemail { mailbox: \"bert\", reason: Unavailable }"),
        (0, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
}

#[test]
fn a_no_answer_loop_rings_each_user_once() {
    let mut anna = user("anna", vec![phone(1, 0, 5)]);
    anna.forwardings = vec![forward(ForwardCondition::NoAnswer, "bert")];
    anna.actions = voicemail_after("anna");
    let mut bert = user("bert", vec![phone(2, 2, 4)]);
    bert.forwardings = vec![forward(ForwardCondition::NoAnswer, "anna")];
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna, bert]),
    );
    run.run_out();
    let expected = [
        (0, "ring 1"),
        (5_000, "stop 1 Timeout"),
        (5_000, "anna -> User(\"bert\") Forwarding(NoAnswer)"),
        (7_000, "ring 2"),
        (11_000, "stop 2 Timeout"),
        (11_000, "reject Unavailable"),
        (11_000, "finished"),
    ];
    assert_eq!(
        run.timeline(),
        tl(&expected),
        "bert has no after-action: 480"
    );
}

#[test]
fn busy_follows_the_busy_forwarding() {
    let mut anna = user("anna", vec![phone(1, 0, 20)]);
    anna.forwardings = vec![
        forward(ForwardCondition::NoAnswer, "carl"),
        forward(ForwardCondition::Busy, "bert"),
    ];
    let users = vec![
        anna,
        user("bert", vec![phone(2, 0, 20)]),
        user("carl", vec![]),
    ];
    let mut run = Run::start(call_to(to_user("anna"), CallClass::Internal), view(users));
    run.advance(2_000);
    run.refuse(0, Refusal::Busy);
    let expected = [
        (0, "ring 1"),
        (2_000, "anna -> User(\"bert\") Forwarding(Busy)"),
        (2_000, "ring 2"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
    assert!(run.answer(1));
}

#[test]
fn the_hop_limit_ends_a_long_chain_at_the_last_users_after_action() {
    let names = ["a", "b", "c", "d", "e"];
    let users = names.iter().zip(names.iter().skip(1)).map(|(from, to)| {
        let mut u = user(from, vec![phone(1, 0, 20)]);
        u.forwardings = vec![forward(ForwardCondition::Always, to)];
        u.actions = voicemail_after(from);
        u
    });
    let config = DispatchConfig {
        max_forward_hops: 2,
        ..DispatchConfig::default()
    };
    let run = Run::with(
        call_to(to_user("a"), CallClass::Internal),
        view(users.collect()),
        config,
    );
    let expected = [
        (0, "a -> User(\"b\") Forwarding(Always)"),
        (0, "b -> User(\"c\") Forwarding(Always)"),
        (0, "Voicemail { mailbox: \"c\", reason: Unavailable }"),
        (0, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
}

/// An after-action that forwards back into the loop is skipped; the next step takes the call.
#[test]
fn an_after_action_forward_into_a_loop_is_skipped() {
    let mut anna = user("anna", vec![]);
    anna.forwardings = vec![forward(ForwardCondition::Unavailable, "bert")];
    let mut bert = user("bert", vec![]);
    bert.actions = vec![
        step(
            Scope::Internal,
            Timing::After,
            StepKind::Forward(to_user("anna")),
        ),
        step(
            Scope::Internal,
            Timing::After,
            StepKind::Forward(Destination::Number("110".into())),
        ),
    ];
    let run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna, bert]),
    );
    let expected = [
        (0, "anna -> User(\"bert\") Forwarding(Unavailable)"),
        (0, "bert -> Number(\"110\") AfterAction"),
        (0, "ForwardNumber { number: \"110\" }"),
        (0, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
}

#[test]
fn an_inactive_forwarding_is_ignored() {
    let mut anna = user("anna", vec![phone(1, 0, 20)]);
    let mut rule = forward(ForwardCondition::Always, "bert");
    rule.active = false;
    anna.forwardings = vec![rule];
    let run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    assert_eq!(run.timeline(), tl(&[(0, "ring 1")]));
}

/// The driver asks what the call can reach, fetches it, and asks again; a call on an
/// incomplete view is refused with what is missing.
#[test]
fn the_view_names_what_the_driver_must_fetch() {
    let mut anna = user("anna", vec![]);
    anna.forwardings = vec![forward(ForwardCondition::Busy, "bert")];
    anna.actions = vec![step(
        Scope::External,
        Timing::After,
        StepKind::Forward(Destination::Team("sales".into())),
    )];
    let mut partial = view(vec![anna]);
    let target = to_user("anna");
    let first = partial.missing(&target, 8);
    assert_eq!(
        first,
        vec![to_user("bert"), Destination::Team("sales".into())]
    );
    let request = call_to(target.clone(), CallClass::Internal);
    let err = Call::new(
        request.clone(),
        partial.clone(),
        DispatchConfig::default(),
        crate::clock::now(),
    );
    assert_eq!(
        err.err(),
        Some(DispatchError::Incomplete { missing: first })
    );

    let mut bert = user("bert", vec![]);
    bert.forwardings = vec![forward(ForwardCondition::Always, "anna")];
    partial.insert_user(bert);
    partial.insert_team(TeamView {
        name: "sales".into(),
        members: vec!["carl".into()],
        ring_time: 20,
        ring_all: true,
    });
    assert_eq!(
        partial.missing(&target, 8),
        vec![to_user("carl")],
        "members, not bert's loop"
    );
    partial.insert_user(user("carl", vec![]));
    assert!(partial.missing(&target, 8).is_empty());
    assert!(
        partial.missing(&target, 0).is_empty(),
        "no hops: only the target"
    );
    assert!(
        Call::new(
            request,
            partial,
            DispatchConfig::default(),
            crate::clock::now()
        )
        .is_ok()
    );
}

/// Every forwarding graph of three users (one forwarding each, any condition, to either other
/// user — the store refuses one to oneself; a phone or none; an after-action forward or none), every device
/// timing out or busy, with a hop limit of 1 and 8: the call always ends, once, without
/// ringing a device twice or entering a user twice, within the hop limit.
#[test]
fn every_small_forwarding_graph_ends_without_revisiting() {
    let names = ["a", "b", "c"];
    let conditions = ForwardCondition::ALL;
    let mut options = vec![vec![None]; 3];
    for (i, own) in options.iter_mut().enumerate() {
        for c in conditions {
            let others = names.iter().enumerate().filter(|(j, _)| *j != i);
            own.extend(others.map(|(_, n)| Some((*c, *n))));
        }
    }
    let width = options[0].len() * 4;
    let mut cases = 0;
    for pick in 0..width.pow(3) {
        let mut rest = pick;
        let users: Vec<UserView> = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let (choice, flags) = (rest % width / 4, rest % 4);
                rest /= width;
                let phones = if flags & 1 == 1 {
                    vec![phone(i as DeviceId, 0, 1)]
                } else {
                    vec![]
                };
                let mut u = user(name, phones);
                u.forwardings = options[i][choice]
                    .iter()
                    .map(|(c, to)| forward(*c, to))
                    .collect();
                if flags & 2 == 2 {
                    let next = to_user(names[(i + 1) % 3]);
                    u.actions = vec![step(
                        Scope::Internal,
                        Timing::After,
                        StepKind::Forward(next),
                    )];
                }
                u
            })
            .collect();
        for (hops, busy) in [(1, false), (1, true), (8, false), (8, true)] {
            let config = DispatchConfig {
                max_forward_hops: hops,
                ..DispatchConfig::default()
            };
            check_chain(view(users.clone()), config, busy);
            cases += 1;
        }
    }
    assert!(cases > 100_000, "{cases}");
}

fn check_chain(view: View, config: DispatchConfig, busy: bool) {
    let request = call_to(to_user("a"), CallClass::Internal);
    let mut run = Run::with(request, view, config);
    let mut seen = 0;
    for _ in 0..100 {
        let rings: Vec<LegId> = run.log[seen..]
            .iter()
            .filter_map(|(_, e)| match e {
                Event::Ring { leg, .. } => Some(*leg),
                _ => None,
            })
            .collect();
        seen = run.log.len();
        if busy {
            rings
                .iter()
                .for_each(|leg| run.refuse(leg.0, Refusal::Busy));
        }
        if run.call.is_finished() {
            break;
        }
        run.advance(run.log.last().map_or(0, |(t, _)| *t) + 1_000);
    }
    let events: Vec<&Event> = run.log.iter().map(|(_, e)| e).collect();
    assert_eq!(events.last(), Some(&&Event::Finished), "{events:?}");
    assert_eq!(events.iter().filter(|e| ***e == Event::Finished).count(), 1);
    let mut rung = Vec::new();
    let mut entered = vec![to_user("a")];
    for event in &events {
        match event {
            Event::Ring { device, .. } => rung.push(*device),
            Event::Forwarded { to, .. } if !matches!(to, Destination::Number(_)) => {
                entered.push(to.clone())
            }
            _ => {}
        }
    }
    let (mut unique_rung, mut unique_entered) = (rung.clone(), entered.clone());
    unique_rung.sort_unstable();
    unique_rung.dedup();
    unique_entered.sort();
    unique_entered.dedup();
    assert_eq!(
        unique_rung.len(),
        rung.len(),
        "a device rang twice: {events:?}"
    );
    assert_eq!(
        unique_entered.len(),
        entered.len(),
        "a user entered twice: {events:?}"
    );
    assert!(entered.len() <= config.max_forward_hops + 1, "{events:?}");
}
