//! Every small case against a model written the plain way (walk the instants in order): all
//! FollowMe settings of two devices (and a third on a smaller grid) crossed with an answer, a
//! device leaving, a refusal, a second input or the caller leaving at each instant. Finds
//! ordering bugs a hand-picked example misses (a stop and a start at one instant, an input at
//! a deadline).

use super::tests_util::{Run, call_to, describe, to_user, user, view, voicemail_after};
use super::*;
use crate::store::{FollowMe, RingPolicy};

#[derive(Debug, Clone, Copy)]
struct Dev {
    wait: u32,
    timeout: u32,
    enabled: bool,
    registered: bool,
}

#[derive(Debug, Clone, Copy)]
enum Input {
    Answer(usize),
    Refuse(usize, Refusal),
    /// The device left the ring set (workplace logout).
    Leave(usize),
    HangUp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Never,
    Waiting,
    Ringing,
    Done,
}

/// The timeline the rules call for, computed instant by instant.
fn model(devs: &[Dev], script: &[(u64, Input)]) -> Vec<(u64, String)> {
    let rung = |d: &Dev| d.enabled && d.registered && d.timeout > 0;
    let mut st: Vec<St> = devs
        .iter()
        .map(|d| if rung(d) { St::Waiting } else { St::Never })
        .collect();
    let mut log = Vec::new();
    let (mut timed_out, mut busy) = (false, false);
    let vm = "Voicemail { mailbox: \"anna\", reason: Unavailable }";
    let terminal = |log: &mut Vec<(u64, String)>, t, timed_out: bool, busy: bool| {
        let last = if !timed_out && busy {
            "reject Busy"
        } else {
            vm
        };
        log.push((t, last.to_owned()));
        log.push((t, "finished".to_owned()));
    };
    if !st.contains(&St::Waiting) {
        terminal(&mut log, 0, false, false);
        return log;
    }
    let starts = devs.iter().map(|d| u64::from(d.wait) * 1000);
    let stops = devs.iter().map(|d| u64::from(d.wait + d.timeout) * 1000);
    let mut instants: Vec<u64> = starts
        .chain(stops)
        .chain(script.iter().map(|(t, _)| *t))
        .collect();
    instants.sort_unstable();
    instants.dedup();
    let over = |st: &[St]| !st.iter().any(|s| matches!(s, St::Waiting | St::Ringing));
    for t in instants {
        for (i, d) in devs.iter().enumerate() {
            if st[i] == St::Ringing && u64::from(d.wait + d.timeout) * 1000 == t {
                st[i] = St::Done;
                timed_out = true;
                log.push((t, format!("stop {} Timeout", i + 1)));
            }
        }
        if over(&st) {
            terminal(&mut log, t, timed_out, busy);
            return log;
        }
        for (i, d) in devs.iter().enumerate() {
            if st[i] == St::Waiting && u64::from(d.wait) * 1000 == t {
                st[i] = St::Ringing;
                log.push((t, format!("ring {}", i + 1)));
            }
        }
        for (_, input) in script.iter().filter(|(at, _)| *at == t) {
            match *input {
                Input::Answer(k) if st[k] == St::Ringing => {
                    log.push((t, format!("connect {}", k + 1)));
                    for (i, s) in st.iter().enumerate() {
                        if *s == St::Ringing && i != k {
                            log.push((t, format!("stop {} AnsweredElsewhere", i + 1)));
                        }
                    }
                    log.push((t, "finished".to_owned()));
                    return log;
                }
                Input::Refuse(k, refusal) if st[k] == St::Ringing => {
                    st[k] = St::Done;
                    busy |= refusal != Refusal::Gone;
                    if over(&st) {
                        terminal(&mut log, t, timed_out, busy);
                        return log;
                    }
                }
                Input::Leave(k) if matches!(st[k], St::Waiting | St::Ringing) => {
                    if st[k] == St::Ringing {
                        log.push((t, format!("stop {} Left", k + 1)));
                    }
                    st[k] = St::Done;
                    if over(&st) {
                        terminal(&mut log, t, timed_out, busy);
                        return log;
                    }
                }
                Input::HangUp => {
                    for (i, s) in st.iter().enumerate() {
                        if *s == St::Ringing {
                            log.push((t, format!("stop {} CallerGone", i + 1)));
                        }
                    }
                    log.push((t, "finished".to_owned()));
                    return log;
                }
                _ => {}
            }
        }
    }
    unreachable!("every device stops at wait + timeout")
}

/// The same case through the core, driven as a driver would.
fn real(devs: &[Dev], script: &[(u64, Input)]) -> Vec<(u64, String)> {
    let devices = devs.iter().enumerate().map(|(i, d)| {
        let p = RingPolicy {
            enabled: d.enabled,
            wait: d.wait,
            timeout: d.timeout,
        };
        let followme = FollowMe {
            user_configurable: false,
            internal: p,
            external: p,
            team: p,
        };
        let reach = if d.registered {
            Reach::Registered
        } else {
            Reach::Unregistered
        };
        DeviceView {
            id: i as DeviceId + 1,
            followme,
            reach,
        }
    });
    let mut anna = user("anna", devices.collect());
    anna.actions = voicemail_after("anna");
    let mut run = Run::start(
        call_to(to_user("anna"), CallClass::Internal),
        view(vec![anna]),
    );
    // Legs are numbered in ring-set order among the devices that ring at all; a device that
    // never rings gets a stray leg number (a response the core must ignore).
    let rung = |d: &Dev| d.enabled && d.registered && d.timeout > 0;
    let leg_of = |k: usize| match rung(&devs[k]) {
        true => devs[..k].iter().filter(|d| rung(d)).count() as u32,
        false => 1000 + k as u32,
    };
    for (t, input) in script {
        run.advance(*t);
        match *input {
            Input::Answer(k) => {
                let before = run.call.is_finished();
                let won = run.answer(leg_of(k));
                let ended = !before && run.call.is_finished();
                assert_eq!(won, ended, "an answer that wins ends dispatch");
            }
            Input::Refuse(k, r) => run.refuse(leg_of(k), r),
            Input::Leave(k) => run.leave(k as DeviceId + 1),
            Input::HangUp => run.hang_up(),
        }
    }
    run.run_out();
    assert!(run.call.is_finished() && run.call.poll_timeout().is_none());
    assert_eq!(
        run.log
            .iter()
            .filter(|(_, e)| *e == Event::Finished)
            .count(),
        1
    );
    run.log.iter().map(|(t, e)| (*t, describe(e))).collect()
}

fn grid(waits: &[u32], timeouts: &[u32]) -> Vec<Dev> {
    let mut all = Vec::new();
    for &wait in waits {
        for &timeout in timeouts {
            for (enabled, registered) in [(true, true), (false, true), (true, false)] {
                all.push(Dev {
                    wait,
                    timeout,
                    enabled,
                    registered,
                });
            }
        }
    }
    all
}

fn scripts(devices: usize, instants: &[u64], pairs: bool) -> Vec<Vec<(u64, Input)>> {
    let mut one = vec![Input::HangUp];
    for k in 0..devices {
        one.extend([Input::Answer(k), Input::Leave(k)]);
        one.extend([Refusal::Busy, Refusal::Rejected, Refusal::Gone].map(|r| Input::Refuse(k, r)));
    }
    let mut all = vec![vec![]];
    for &t in instants {
        for &a in &one {
            all.push(vec![(t, a)]);
            // With `pairs`: a refusal or a device leaving, then anything a second later.
            if pairs && matches!(a, Input::Refuse(..) | Input::Leave(_)) {
                all.extend(one.iter().map(|&b| vec![(t, a), (t + 1000, b)]));
            }
        }
    }
    all
}

fn check(devs: &[Dev], scripts: &[Vec<(u64, Input)>]) -> usize {
    for script in scripts {
        let (want, got) = (model(devs, script), real(devs, script));
        assert_eq!(got, want, "devices {devs:?}, script {script:?}");
    }
    scripts.len()
}

#[test]
fn two_devices_every_setting_every_input_instant() {
    let grid = grid(&[0, 1, 2], &[0, 1, 3]);
    let scripts = scripts(2, &[0, 1000, 2000, 3000, 4500], true);
    let mut cases = 0;
    for a in &grid {
        for b in &grid {
            cases += check(&[*a, *b], &scripts);
        }
    }
    assert!(cases > 200_000, "{cases}");
}

#[test]
fn three_devices_on_a_small_grid() {
    let grid = grid(&[0, 2], &[1, 2]);
    let scripts = scripts(3, &[0, 1000, 2000, 3000], false);
    let mut cases = 0;
    for a in &grid {
        for b in &grid {
            for c in &grid {
                cases += check(&[*a, *b, *c], &scripts);
            }
        }
    }
    assert!(cases > 90_000, "{cases}");
}
