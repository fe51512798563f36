//! baresip as a phone that answers and talks: anna's Yealink account (as provisioned) is a
//! baresip that answers by itself; bert's softphone, a second baresip, calls extension 100
//! through zentrale. Each plays a known sound into the call (aufile: an upward chirp from the
//! caller, a downward one from the callee) and records what it hears (sndfile); the recordings
//! must be the other side's sound after G.711, found by normalized cross-correlation. The SDP
//! passes through zentrale, so the RTP goes phone to phone. Then the caller puts the call on
//! hold and back: baresip's own re-INVITEs pass through zentrale both ways.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::json;

use crate::harness::{Daemon, eventually};
use crate::sip::{phone_account, sip_status};
use crate::sip_baresip::Baresip;

pub(crate) const RATE: usize = 8000;
/// Seconds of sound in each file (aufile stops at its end; the call is shorter).
pub(crate) const SECONDS: usize = 5;
/// How much each side must have recorded before the call ends, in samples.
const HEARD: usize = 3 * RATE;
/// Bounds that only end a broken run.
const WITHIN: Duration = Duration::from_secs(20);

/// A linear chirp from `from` to `to` Hz over [`SECONDS`]: no two stretches alike, so where a
/// recording matches it is unambiguous.
pub(crate) fn chirp(from: f64, to: f64) -> Vec<i16> {
    let mut phase = 0.0f64;
    (0..SECONDS * RATE)
        .map(|i| {
            let t = i as f64 / RATE as f64;
            phase += 2.0 * std::f64::consts::PI * (from + (to - from) * t / SECONDS as f64)
                / RATE as f64;
            (10_000.0 * phase.sin()) as i16
        })
        .collect()
}

/// 16-bit mono PCM WAV at [`RATE`].
pub(crate) fn write_wav(path: &Path, samples: &[i16]) {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&(RATE as u32).to_le_bytes());
    wav.extend_from_slice(&(RATE as u32 * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    std::fs::write(path, wav).expect("wav");
}

/// The samples of a 16-bit mono WAV (what follows its `data` chunk id; a file still being
/// written has a size of 0 there, so its length is not trusted).
pub(crate) fn read_wav(path: &Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap_or_default();
    let Some(at) = bytes.windows(4).position(|w| w == b"data") else {
        return Vec::new();
    };
    (bytes.get(at + 8..).unwrap_or_default())
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect()
}

/// The recording of what a baresip heard: sndfile's `dump-…-dec.wav` in `dir`.
pub(crate) fn heard(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
}

/// The best normalized cross-correlation of 1/8 s of `recorded` (from its second second on,
/// past the jitter buffer's start) against any stretch of `source`.
pub(crate) fn best_match(recorded: &[i16], source: &[i16]) -> f64 {
    let window: Vec<f64> = (recorded[RATE..RATE + RATE / 8].iter())
        .map(|&s| f64::from(s))
        .collect();
    let energy: f64 = window.iter().map(|s| s * s).sum();
    let source: Vec<f64> = source.iter().map(|&s| f64::from(s)).collect();
    // The stretch's energy, kept up to date as it slides.
    let mut own: f64 = source[..window.len()].iter().map(|s| s * s).sum();
    let mut best = 0.0f64;
    for lag in 0..source.len() - window.len() {
        let stretch = &source[lag..lag + window.len()];
        let dot: f64 = stretch.iter().zip(&window).map(|(a, b)| a * b).sum();
        best = best.max(dot / (own * energy).sqrt().max(1.0));
        own += source[lag + window.len()].powi(2) - source[lag].powi(2);
    }
    best
}

pub(crate) fn rms(samples: &[i16]) -> f64 {
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}

/// Runs baresip command `command` through its ctrl_tcp socket at `control` (a netstring of
/// JSON); true when baresip answered that it did.
fn command(control: &str, command: &str) -> bool {
    let connected = eventually(WITHIN, || std::net::TcpStream::connect(control).ok());
    let Some(mut stream) = connected else {
        return false;
    };
    let json = json!({"command": command, "params": "", "token": "test"}).to_string();
    let sent = stream.write_all(format!("{}:{json},", json.len()).as_bytes());
    let _ = stream.set_read_timeout(Some(WITHIN));
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    // Events may come first; the answer is the netstring with "response".
    while sent.is_ok() && !String::from_utf8_lossy(&seen).contains("\"response\":true") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&seen).contains("\"ok\":true")
}

/// A baresip that plays `sound` into its calls, records them into `recordings`, with the
/// account's `params` (answering by itself) and `extra` config lines.
pub(crate) fn phone(
    d: &Daemon,
    account: (&str, &str),
    sound: &Path,
    recordings: &Path,
    (params, extra): (&str, &str),
    args: &[&str],
) -> Baresip {
    // aubridge is a player that needs no sound card; menu runs the -e commands.
    let config = format!(
        "module aufile.so\nmodule aubridge.so\nmodule sndfile.so\nmodule_app menu.so\n\
         audio_source aufile,{}\naudio_player aubridge,{}\nsnd_path {}\n{extra}",
        sound.display(),
        recordings.display(),
        recordings.display()
    );
    Baresip::start_with(d, account, (&config, params), args)
}

#[test]
fn baresip_answers_a_call_through_zentrale_both_hear_each_other_and_hold_passes_through() {
    let d = Daemon::start();
    let (anna, anna_password) = phone_account(&d);
    let (bert, bert_password) = crate::calls::bert(&d);

    let files = tempfile::tempdir().expect("tempdir");
    let (up, down) = (chirp(300.0, 3400.0), chirp(3400.0, 300.0));
    let (caller_sound, callee_sound) = (files.path().join("up.wav"), files.path().join("down.wav"));
    write_wav(&caller_sound, &up);
    write_wav(&callee_sound, &down);
    let (callee_heard, caller_heard) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );

    let callee = phone(
        &d,
        (&anna, &anna_password),
        &callee_sound,
        callee_heard.path(),
        (";regint=600;answermode=auto", ""),
        &[],
    );
    let registered = eventually(WITHIN, || {
        (sip_status(&d)["registered"] == true).then_some(())
    });
    assert!(
        registered.is_some(),
        "baresip did not register:\n{}",
        callee.output()
    );

    let dial = format!("/dial sip:100@{}", d.addr("SIP/UDP"));
    let control = format!("127.0.0.1:{}", crate::mwi::free_port());
    let caller = phone(
        &d,
        (&bert, &bert_password),
        &caller_sound,
        caller_heard.path(),
        (
            ";regint=0",
            &format!("module ctrl_tcp.so\nctrl_tcp_listen {control}\n"),
        ),
        &["-e", &dial],
    );
    let long_enough = |dir: &Path| {
        heard(dir)
            .filter(|p| read_wav(p).len() >= HEARD)
            .map(|_| ())
    };
    let talked = eventually(WITHIN, || {
        long_enough(callee_heard.path())?;
        long_enough(caller_heard.path())
    });
    if talked.is_none() {
        panic!(
            "no call with sound both ways; zentrale:\n{}\ncaller:\n{}\ncallee:\n{}",
            d.log(),
            caller.output(),
            callee.output()
        );
    }
    // Hold: the callee gets the caller's re-INVITE with a=sendonly and its a=recvonly answer
    // reaches the caller (both in baresip's SIP trace, -s).
    assert!(command(&control, "hold"), "baresip did not take hold");
    let held = eventually(WITHIN, || {
        let held = callee.output().contains("a=sendonly") && caller.output().contains("a=recvonly");
        held.then_some(())
    });
    assert!(
        held.is_some(),
        "the hold did not pass through zentrale; zentrale:\n{}\ncaller:\n{}\ncallee:\n{}",
        d.log(),
        caller.output(),
        callee.output()
    );
    // Resume: the callee gets a=sendrecv again, and the caller its a=sendrecv answer. (Sound
    // after a re-INVITE is not checked: baresip 1.0's sndfile stops recording at the first
    // one, even between two baresips without zentrale.)
    let sendrecv = |output: String| output.matches("a=sendrecv").count();
    let before = (sendrecv(callee.output()), sendrecv(caller.output()));
    assert!(command(&control, "resume"), "baresip did not resume");
    let resumed = eventually(WITHIN, || {
        let (callee_now, caller_now) = (sendrecv(callee.output()), sendrecv(caller.output()));
        // The callee saw the offer and sent its answer; the caller sent the offer and saw it.
        (callee_now >= before.0 + 2 && caller_now >= before.1 + 2).then_some(())
    });
    assert!(
        resumed.is_some(),
        "the resume did not pass through zentrale; caller:\n{}\ncallee:\n{}",
        caller.output(),
        callee.output()
    );
    // The caller hangs up (baresip sends BYE as it exits); zentrale passes it on.
    let (_, caller_output) = caller.terminate();
    let record = crate::calls::last_call(&d);
    assert_eq!(record["outcome"], "answered", "{record}");
    let hung_up = eventually(WITHIN, || {
        callee
            .output()
            .contains("terminated (duration")
            .then_some(())
    });
    assert!(
        hung_up.is_some(),
        "the BYE did not reach the callee:\n{}",
        callee.output()
    );
    let callee_output = callee.output();

    for (dir, source, who) in [
        (callee_heard.path(), &up, "the callee hearing the caller"),
        (caller_heard.path(), &down, "the caller hearing the callee"),
    ] {
        let recorded = read_wav(&heard(dir).expect("a recording"));
        let level = rms(&recorded[RATE..2 * RATE]);
        assert!(
            level > 1000.0,
            "{who}: silence (rms {level:.0})\n{caller_output}\n{callee_output}"
        );
        let best = best_match(&recorded, source);
        eprintln!("{who}: rms {level:.0}, best correlation {best:.4}");
        assert!(
            best > 0.9,
            "{who}: the sound does not match (best correlation {best:.3})"
        );
    }
}
