//! Ringing with a stepped clock: each device on its own wait and ring time, first answer wins,
//! busy, nothing registered, the caller leaving.

use std::time::Duration;

use super::tests_util::*;
use super::*;
use crate::store::ForwardCondition;

/// Issue 12's example: D1 wait 0/timeout 4, D2 wait 2/timeout 3. INVITE after wait, CANCEL
/// after timeout of ringing: D1 rings 0–4, D2 rings 2–5; then the after-action at 5.
#[test]
fn each_device_rings_on_its_own_clock_then_the_after_action() {
    let mut anna = user("anna", vec![phone(1, 0, 4), phone(2, 2, 3)]);
    anna.actions = voicemail_after("anna");
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    assert_eq!(run.call.poll_timeout(), Some(run.at(2_000)));
    run.advance(2_000);
    assert_eq!(run.call.poll_timeout(), Some(run.at(4_000)));
    run.advance(4_000);
    assert_eq!(run.call.poll_timeout(), Some(run.at(5_000)));
    run.run_out();
    let expected = [
        (0, "ring 1"),
        (2_000, "ring 2"),
        (4_000, "stop 1 Timeout"),
        (5_000, "stop 2 Timeout"),
        (5_000, VOICEMAIL_ANNA),
        (5_000, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
    assert!(run.call.is_finished());
}

/// 30-second ring times pass in a stepped clock, not in real time; a driver that wakes late
/// gets the same events in the same order in one `handle_timeout`.
#[test]
fn thirty_second_timeouts_step_without_waiting() {
    let anna = user("anna", vec![phone(1, 0, 30), phone(2, 10, 30)]);
    let request = call_to(to_user("anna"), CallClass::External);
    let mut run = Run::start(request.clone(), view(vec![anna.clone()]));
    run.run_out();
    let expected = [
        (0, "ring 1"),
        (10_000, "ring 2"),
        (30_000, "stop 1 Timeout"),
        (40_000, "stop 2 Timeout"),
        (40_000, "reject Unavailable"),
        (40_000, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));

    let t0 = crate::clock::now();
    let mut late =
        Call::new(request, view(vec![anna]), DispatchConfig::default(), t0).expect("complete view");
    late.handle_timeout(t0 + Duration::from_secs(120));
    let events: Vec<Event> = std::iter::from_fn(|| late.poll_event()).collect();
    let logged: Vec<Event> = run.log.into_iter().map(|(_, e)| e).collect();
    assert_eq!(events, logged);
}

#[test]
fn the_first_answer_wins_and_every_other_ringing_leg_stops() {
    let devices = vec![
        phone(1, 0, 20),
        phone(2, 0, 20),
        phone(3, 1, 20),
        phone(4, 5, 20),
    ];
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![user("anna", devices)]),
    );
    run.advance(3_000);
    assert!(run.answer(1), "leg 1 is device 2, ringing");
    let expected = [
        (0, "ring 1"),
        (0, "ring 2"),
        (1_000, "ring 3"),
        (3_000, "connect 2"),
        (3_000, "stop 1 AnsweredElsewhere"),
        (3_000, "stop 3 AnsweredElsewhere"),
        (3_000, "finished"),
    ];
    assert_eq!(
        run.timeline(),
        tl(&expected),
        "device 4 (wait 5) never rings"
    );
    assert_eq!(run.call.poll_timeout(), None);
    assert!(
        !run.answer(0),
        "a second answer is too late: the driver hangs it up"
    );
    run.hang_up();
    assert_eq!(run.log.len(), expected.len(), "nothing after finished");
}

#[test]
fn an_answer_after_the_ring_time_is_too_late() {
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![user("anna", vec![phone(1, 0, 4), phone(2, 0, 8)])]),
    );
    run.advance(5_000);
    assert!(!run.answer(0), "device 1 was cancelled at 4 s");
    assert!(run.answer(1));
}

#[test]
fn all_busy_is_486_without_a_busy_forwarding() {
    let mut anna = user("anna", vec![phone(1, 0, 20), phone(2, 0, 20)]);
    anna.actions = voicemail_after("anna");
    let request = call_to(to_user("anna"), CallClass::Internal);
    let mut run = Run::start(request.clone(), view(vec![anna.clone()]));
    run.refuse(0, Refusal::Busy);
    assert_eq!(run.log.len(), 2, "device 2 still rings");
    run.advance(1_000);
    run.refuse(1, Refusal::Rejected);
    let tail = tl(&[(1_000, "reject Busy"), (1_000, "finished")]);
    assert_eq!(run.timeline()[2..], tail[..]);

    // Configured the other way, busy goes to the after-action with the busy greeting.
    let config = DispatchConfig {
        busy: BusyRule::AfterAction,
        ..DispatchConfig::default()
    };
    let mut run = Run::with(request, view(vec![anna]), config);
    run.refuse(0, Refusal::Busy);
    run.refuse(1, Refusal::Busy);
    let vm = "Voicemail { mailbox: \"anna\", reason: Busy }";
    assert_eq!(run.timeline()[2..], tl(&[(0, vm), (0, "finished")])[..]);
}

#[test]
fn a_busy_device_and_one_that_rang_out_is_no_answer() {
    let mut anna = user("anna", vec![phone(1, 0, 20), phone(2, 0, 6)]);
    anna.actions = voicemail_after("anna");
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    run.refuse(0, Refusal::Busy);
    run.run_out();
    let tail = tl(&[
        (6_000, "stop 2 Timeout"),
        (6_000, VOICEMAIL_ANNA),
        (6_000, "finished"),
    ]);
    assert_eq!(run.timeline()[2..], tail[..]);
}

#[test]
fn a_disabled_class_does_not_ring_and_each_class_uses_its_own_policy() {
    let mut desk = phone(1, 0, 20);
    desk.followme.internal.enabled = false;
    desk.followme.external = ring(3, 7);
    let anna = user("anna", vec![desk, phone(2, 0, 10)]);
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna.clone()]),
    );
    run.run_out();
    let internal = [
        (0, "ring 2"),
        (10_000, "stop 2 Timeout"),
        (10_000, "reject Unavailable"),
        (10_000, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&internal));

    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::External),
        view(vec![anna]),
    );
    run.run_out();
    let external = [
        (0, "ring 2"),
        (3_000, "ring 1"),
        (10_000, "stop 1 Timeout"),
        (10_000, "stop 2 Timeout"),
        (10_000, "reject Unavailable"),
        (10_000, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&external));
}

/// Mischbetrieb: the direct phone and the workplace phone ring together, the workplace's with
/// the workplace's FollowMe.
#[test]
fn mixed_mode_rings_direct_and_workplace_devices() {
    let mut anna = user("anna", vec![phone(1, 0, 15)]);
    anna.workplace_devices = vec![phone(7, 5, 5)];
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    run.advance(6_000);
    assert!(run.answer(1), "the workplace phone");
    let expected = [
        (0, "ring 1"),
        (5_000, "ring 7"),
        (6_000, "connect 7"),
        (6_000, "stop 1 AnsweredElsewhere"),
        (6_000, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
}

/// Logging out of the workplace mid-call stops its phone; the direct phone rings on. When the
/// last device leaves, the user is unavailable.
#[test]
fn a_workplace_logout_stops_that_phone_only() {
    let mut anna = user("anna", vec![phone(1, 0, 8)]);
    anna.workplace_devices = vec![phone(7, 0, 20), phone(8, 5, 20)];
    anna.forwardings = vec![forwarding(
        ForwardCondition::Unavailable,
        Destination::Number("0800".into()),
    )];
    let request = call_to(to_user("anna"), CallClass::Internal);
    let mut run = Run::start(request.clone(), view(vec![anna.clone()]));
    run.advance(3_000);
    run.leave(7);
    run.leave(8);
    run.run_out();
    let expected = [
        (0, "ring 1"),
        (0, "ring 7"),
        (3_000, "stop 7 Left"),
        (8_000, "stop 1 Timeout"),
        (8_000, "reject Unavailable"),
        (8_000, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected), "device 8 never rings");

    let mut run = Run::start(request, view(vec![anna]));
    for device in [1, 7, 8] {
        run.leave(device);
    }
    let tail = run.timeline().split_off(2);
    let forward = "anna -> Number(\"0800\") Forwarding(Unavailable)";
    assert_eq!(
        tail[..3],
        tl(&[(0, "stop 1 Left"), (0, "stop 7 Left"), (0, forward)])[..]
    );
}

#[test]
fn nothing_registered_goes_to_unavailable_then_after_action_then_480() {
    let mut off = phone(1, 0, 20);
    off.reach = Reach::Unregistered;
    let mut anna = user("anna", vec![off.clone()]);
    anna.actions = voicemail_after("anna");
    anna.forwardings = vec![forwarding(
        ForwardCondition::Unavailable,
        Destination::Number("+4930123".into()),
    )];
    let request = call_to(to_user("anna"), CallClass::External);
    let run = Run::start(request.clone(), view(vec![anna.clone()]));
    let forward = "ForwardNumber { number: \"+4930123\" }";
    let expected = [
        (0, "anna -> Number(\"+4930123\") Forwarding(Unavailable)"),
        (0, forward),
        (0, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));

    anna.forwardings[0].active = false;
    let run = Run::start(request.clone(), view(vec![anna.clone()]));
    assert_eq!(run.timeline(), tl(&[(0, VOICEMAIL_ANNA), (0, "finished")]));

    let run = Run::start(request, view(vec![user("anna", vec![off])]));
    assert_eq!(
        run.timeline(),
        tl(&[(0, "reject Unavailable"), (0, "finished")])
    );
}

#[test]
fn devices_that_all_fail_count_as_unavailable() {
    let mut anna = user("anna", vec![phone(1, 0, 20), phone(2, 0, 20)]);
    anna.forwardings = vec![forwarding(
        ForwardCondition::Unavailable,
        Destination::Number("0800".into()),
    )];
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    run.refuse(1, Refusal::Gone);
    run.refuse(0, Refusal::Gone);
    assert_eq!(
        run.timeline()[2].1,
        "anna -> Number(\"0800\") Forwarding(Unavailable)"
    );
}

#[test]
fn the_caller_hanging_up_stops_everything() {
    let devices = vec![phone(1, 0, 20), phone(2, 2, 20), phone(3, 9, 20)];
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![user("anna", devices)]),
    );
    run.advance(4_000);
    run.hang_up();
    let expected = [
        (0, "ring 1"),
        (2_000, "ring 2"),
        (4_000, "stop 1 CallerGone"),
        (4_000, "stop 2 CallerGone"),
        (4_000, "finished"),
    ];
    assert_eq!(run.timeline(), tl(&expected));
    assert_eq!(run.call.poll_timeout(), None, "device 3 never rings");
    run.refuse(0, Refusal::Busy);
    assert!(!run.answer(1));
    assert_eq!(run.log.len(), expected.len());
}

#[test]
fn a_mobile_rings_through_the_trunk_and_the_calling_device_not_at_all() {
    let mut mobile = phone(5, 4, 20);
    mobile.reach = Reach::Mobile {
        number: "+491701234567".into(),
    };
    let anna = user("anna", vec![phone(1, 0, 20), mobile]);
    let mut request = call_to(to_user("anna"), CallClass::Internal);
    request.caller.device = Some(1);
    let mut run = Run::start(request, view(vec![anna]));
    run.advance(4_000);
    assert_eq!(
        run.timeline(),
        tl(&[(4_000, "ring 5 via trunk +491701234567")])
    );
}
