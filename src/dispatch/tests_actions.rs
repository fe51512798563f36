//! Actions [Aktionen] Vorher and Nachher, the action-template rule, and targets that need no
//! ringing at all.

use super::tests_util::*;
use super::*;
use crate::store::{Scope, Timing};

/// Actions Vorher run before ringing; a user without an own action for a (class, timing)
/// follows their template's, one with an own action keeps it.
#[test]
fn before_actions_and_the_template_rule() {
    let mut anna = user("anna", vec![phone(1, 0, 5)]);
    let announce = StepKind::Announcement {
        prompt: "welcome".into(),
    };
    let forward = StepKind::Forward(Destination::Number("+4930999".into()));
    anna.template = vec![
        step(Scope::External, Timing::Before, announce.clone()),
        step(Scope::External, Timing::Before, forward),
        step(
            Scope::Internal,
            Timing::After,
            StepKind::Voicemail {
                mailbox: "office".into(),
            },
        ),
    ];
    anna.actions = vec![step(
        Scope::Internal,
        Timing::After,
        StepKind::Voicemail {
            mailbox: "anna".into(),
        },
    )];
    let run = Run::start(
        call_to(to_user("anna"), CallClass::External),
        view(vec![anna.clone()]),
    );
    let expected = [
        (0, "Announcement { prompt: \"welcome\" }"),
        (0, "anna -> Number(\"+4930999\") BeforeAction"),
        (0, "ForwardNumber { number: \"+4930999\" }"),
        (0, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));

    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna.clone()]),
    );
    run.run_out();
    assert_eq!(
        run.timeline()[2].1,
        VOICEMAIL_ANNA,
        "own action, not the template's"
    );

    anna.actions = vec![step(Scope::Internal, Timing::Before, announce)];
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    run.run_out();
    let expected = [
        (0, "Announcement { prompt: \"welcome\" }"),
        (0, "ring 1"),
        (5_000, "stop 1 Timeout"),
        (
            5_000,
            "Voicemail { mailbox: \"office\", reason: Unavailable }",
        ),
        (5_000, "finished"),
    ];
    assert_eq!(
        run.timeline(),
        tl(&expected),
        "own Vorher, template's Nachher"
    );
}

#[test]
fn a_voicemail_action_vorher_takes_the_call_before_anything_rings() {
    let mut anna = user("anna", vec![phone(1, 0, 20)]);
    let closed = StepKind::Voicemail {
        mailbox: "anna".into(),
    };
    anna.actions = vec![step(Scope::External, Timing::Before, closed)];
    let run = Run::start(
        call_to(to_user("anna"), CallClass::External),
        view(vec![anna.clone()]),
    );
    assert_eq!(run.timeline(), tl(&[(0, VOICEMAIL_ANNA), (0, "finished")]));
    let run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    assert_eq!(run.timeline(), tl(&[(0, "ring 1")]), "only external calls");
}

#[test]
fn a_number_target_goes_out_through_the_trunk() {
    let run = Run::start(
        call_to(Destination::Number("+4930555".into()), CallClass::Internal),
        View::default(),
    );
    let expected = [
        (0, "ForwardNumber { number: \"+4930555\" }"),
        (0, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
}

/// A device the driver lists twice (direct and at the workplace) rings once.
#[test]
fn a_device_listed_twice_rings_once() {
    let mut anna = user("anna", vec![phone(1, 0, 20)]);
    anna.workplace_devices = vec![phone(1, 3, 5)];
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    run.run_out();
    let expected = [
        (0, "ring 1"),
        (20_000, "stop 1 Timeout"),
        (20_000, "reject Unavailable"),
        (20_000, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
}
