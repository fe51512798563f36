//! Voicemail with real peers: bert's baresip calls anna, whose phones are all off; her
//! after-action is voicemail, so zentrale answers, plays the greeting and the beep, records
//! what baresip plays (aufile: a known chirp) until `[voicemail] max_secs`, says goodbye and
//! hangs up. The message is then in anna's box (API) and in aiosmtpd's inbox, the same WAV,
//! and its sound is baresip's after the G.711 round trip.

use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};

use crate::call_baresip::{RATE, best_match, chirp, phone, rms, write_wav};
use crate::harness::{Daemon, eventually};
use crate::smtp::{SmtpPeer, sha256_hex, smtp_config};

/// The longest message in these tests: the recording ends there by itself.
const MAX_SECS: usize = 3;
const WITHIN: Duration = Duration::from_secs(30);

/// A daemon that mails to `smtp` and keeps messages `MAX_SECS` long.
fn daemon(smtp: &SmtpPeer) -> Daemon {
    let voicemail =
        format!("\n[voicemail]\nmax_secs = {MAX_SECS}\nmin_secs = 1\nmax_silence_secs = 0\n");
    Daemon::start_with_config(&(smtp_config(smtp.port, "") + &voicemail))
}

/// Anna (extension 100) with no phone at all, mail at anna@example.com in `language`, and
/// voicemail as her after-action for every call.
fn anna(d: &Daemon, language: &str) {
    let user = json!({"username": "anna", "display_name": "Anna Schmidt", "extension": "100",
                      "auth": "none", "email": "anna@example.com", "language": language,
                      "voicemail": "all"});
    let (s, body) = d.call("POST", "/api/v1/users", Some(user));
    assert_eq!(s, 201, "{body}");
    keep_messages(d);
}

/// Anna keeps her messages after they are mailed ("Voicemails speichern"), so the test can
/// compare the box's file with the mail's.
fn keep_messages(d: &Daemon) {
    let keep = json!({"keep_messages": true});
    let (s, body) = d.call("PUT", "/api/v1/users/anna/voicemail", Some(keep));
    assert!(s == 200 || s == 204, "{s} {body}");
}

/// Anna's messages as the API lists them, once there are `n`.
fn messages(d: &Daemon, n: usize) -> Vec<Value> {
    let found = eventually(WITHIN, || {
        let (s, body) = d.call("GET", "/api/v1/users/anna/voicemail/messages", None);
        assert_eq!(s, 200, "{body}");
        let list = body.as_array().cloned().unwrap_or_default();
        (list.len() >= n).then_some(list)
    });
    found.unwrap_or_else(|| panic!("no {n} messages; zentrale:\n{}", d.log()))
}

/// The WAV of anna's message `id`, as the API serves it.
fn audio(d: &Daemon, id: i64) -> Vec<u8> {
    let path = format!("/api/v1/users/anna/voicemail/messages/{id}/audio");
    let response = d.req("GET", &path).send().expect("audio");
    assert_eq!(response.status(), 200);
    response.bytes().expect("bytes").to_vec()
}

/// The samples of a 16-bit mono 8 kHz WAV, checked to be that.
fn wav_samples(bytes: &[u8]) -> Vec<i16> {
    let mut reader = hound::WavReader::new(bytes).expect("a WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (1, 8000, 16),
        "{spec:?}"
    );
    reader
        .samples::<i16>()
        .map(|s| s.expect("sample"))
        .collect()
}

/// Twenty seconds of the test's sound: chirps up and down, so any stretch is recognisable.
fn long_chirp() -> Vec<i16> {
    let (up, down) = (chirp(300.0, 3400.0), chirp(3400.0, 300.0));
    [&up, &down, &up, &down]
        .into_iter()
        .flatten()
        .copied()
        .collect()
}

#[test]
fn a_message_left_by_baresip_is_mailed_as_the_wav_the_caller_spoke() {
    let smtp = SmtpPeer::start(0, &[]);
    let d = daemon(&smtp);
    anna(&d, "en");
    let (bert, bert_password) = crate::calls::bert(&d);
    let files = tempfile::tempdir().expect("tempdir");
    let source = long_chirp();
    let sound = files.path().join("speech.wav");
    write_wav(&sound, &source);
    let heard = tempfile::tempdir().expect("dir");
    let dial = format!("/dial sip:100@{}", d.addr("SIP/UDP"));
    let caller = phone(
        &d,
        (&bert, &bert_password),
        &sound,
        heard.path(),
        (";regint=0", ""),
        &["-e", &dial],
    );
    // zentrale ends the call at max_secs: baresip sees the BYE.
    let ended = eventually(WITHIN, || {
        caller.output().contains("terminated").then_some(())
    });
    assert!(
        ended.is_some(),
        "zentrale did not end the message; zentrale:\n{}\ncaller:\n{}",
        d.log(),
        caller.output()
    );
    let mail = smtp.wait_for("accepted", |_| true, 1).remove(0);
    let list = messages(&d, 1);
    let message = &list[0];
    assert_eq!(message["caller_number"], "101", "{message}");
    assert_eq!(message["reason"], "unavailable", "{message}");
    assert_eq!(message["heard"], false, "{message}");
    let id = message["id"].as_i64().expect("id");
    let wav = audio(&d, id);
    // The mail carries that very file.
    let attachments = mail["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1, "{mail}");
    assert_eq!(attachments[0]["content_type"], "audio/wav", "{mail}");
    assert_eq!(
        attachments[0]["sha256"],
        sha256_hex(&wav).as_str(),
        "{mail}"
    );
    assert_eq!(mail["rcpt"], json!(["anna@example.com"]), "{mail}");
    // As long as max_secs, and the caller's sound.
    let samples = wav_samples(&wav);
    let seconds = samples.len() as f64 / RATE as f64;
    assert!(
        (seconds - MAX_SECS as f64).abs() <= 0.06,
        "the message lasts {seconds:.3} s, not {MAX_SECS} s"
    );
    let level = rms(&samples[RATE..2 * RATE]);
    assert!(level > 1000.0, "silence recorded (rms {level:.0})");
    let best = best_match(&samples, &source);
    assert!(
        best >= 0.9,
        "not the caller's sound (best correlation {best:.3})"
    );
    // The caller heard the greeting before the beep: the shipped English prompt, not silence.
    assert_heard_something(heard.path());
    let record = crate::calls::last_call(&d);
    assert_eq!(record["after_action"], "voicemail", "{record}");
}

/// The caller's own recording (sndfile) holds sound: the greeting reached them.
fn assert_heard_something(dir: &Path) {
    let recorded = crate::call_baresip::heard(dir)
        .map(|p| crate::call_baresip::read_wav(&p))
        .unwrap_or_default();
    assert!(
        recorded.len() > RATE,
        "the caller heard {} samples",
        recorded.len()
    );
    let level = rms(&recorded[..RATE]);
    assert!(level > 100.0, "the caller heard silence (rms {level:.0})");
}

/// `cmd` (from [`crate::sip::sipp_command`]) with `args` before its own (the target stays
/// last).
pub(crate) fn with_args(cmd: &std::process::Command, args: &[&str]) -> std::process::Command {
    let mut more = std::process::Command::new(cmd.get_program());
    if let Some(dir) = cmd.get_current_dir() {
        more.current_dir(dir);
    }
    more.args(args).args(cmd.get_args());
    more.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    more
}

/// An even UDP port nothing uses now (sipp's RTP port; its RTCP would be the next one).
pub(crate) fn media_port() -> String {
    loop {
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
        let port = socket.local_addr().expect("addr").port();
        if port.is_multiple_of(2) && std::net::UdpSocket::bind(("127.0.0.1", port + 1)).is_ok() {
            return port.to_string();
        }
    }
}

#[test]
fn pound_ends_a_message_that_sipp_plays_from_its_pcaps_and_a_stranger_is_not_recorded() {
    let smtp = SmtpPeer::start(0, &[]);
    let config = smtp_config(smtp.port, "") + "\n[voicemail]\nmax_secs = 30\nmin_secs = 1\n";
    let d = Daemon::start_with_config(&config);
    anna(&d, "de");
    let (bert, bert_password) = crate::calls::bert(&d);
    let (uac, dir) = crate::sip::sipp_command(
        &d,
        "voicemail_pcap_uac.xml",
        "u1",
        &bert,
        &bert_password,
        "0",
    );
    crate::dtmf_pcap::write_keys(dir.path(), "##");
    let port = media_port();
    let mut sipp = with_args(&uac, &["-key", "callee", "100", "-mp", &port])
        .spawn()
        .expect("sipp");
    // While sipp speaks, a stranger sends a loud tone to the port zentrale answered with.
    let ours = eventually(WITHIN, || rtp_port_in_answer(dir.path()));
    let ours = ours.unwrap_or_else(|| panic!("no answer SDP; zentrale:\n{}", d.log()));
    let tone = stranger_sends_tone(ours, 3);
    let ok = sipp.wait().expect("sipp").success();
    if !ok {
        crate::sip::print_logs(dir.path());
        panic!(
            "sipp's message did not end with zentrale's BYE; zentrale:\n{}",
            d.log()
        );
    }
    let message = messages(&d, 1).remove(0);
    let mail = smtp.wait_for("accepted", |_| true, 1).remove(0);
    let subject = mail["subject"].as_str().unwrap_or_default().to_owned();
    assert!(subject.contains("Voicemail"), "German subject: {subject}");
    // '#' skipped the greeting, the beep, 1.5 s on the pcap's 7 s of speech, then '#' at
    // about 9 s: the message ends there, far from max_secs.
    let ms = message["duration_ms"].as_u64().expect("duration_ms");
    assert!((7_000..10_500).contains(&ms), "{message}");
    let id = message["id"].as_i64().expect("id");
    let wav = audio(&d, id);
    let samples = wav_samples(&wav);
    // The speech is there (the pcap is a voice; silence would be rms 0 after A-law)…
    let level = rms(&samples[2 * RATE..6 * RATE]);
    assert!(level > 200.0, "no speech recorded (rms {level:.0})");
    // …and the stranger's tone is not: it is far louder than the speech.
    let best = best_match(&samples, &tone);
    assert!(
        best < 0.5,
        "the stranger's tone was recorded (correlation {best:.3})"
    );
}

/// The RTP port of zentrale's answer in sipp's message trace, once it is there.
fn rtp_port_in_answer(dir: &Path) -> Option<u16> {
    let trace = crate::mwi::messages(dir);
    let answer = trace.split("SIP/2.0 200 OK").nth(1)?;
    let line = answer.lines().find(|l| l.starts_with("m=audio "))?;
    line.split(' ').nth(1)?.parse().ok()
}

/// Sends `seconds` of a loud 1 kHz tone as A-law RTP to 127.0.0.1:`port` from a socket of
/// its own, all at once (a source that is not latched is dropped before any timing counts);
/// the tone's samples.
fn stranger_sends_tone(port: u16, seconds: usize) -> Vec<i16> {
    let tone: Vec<i16> = (0..seconds * RATE)
        .map(|i| {
            (16_000.0 * (2.0 * std::f64::consts::PI * 1000.0 * i as f64 / RATE as f64).sin()) as i16
        })
        .collect();
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    for (n, frame) in tone.chunks(160).enumerate() {
        let mut packet = vec![0x80, 8];
        packet.extend_from_slice(&(n as u16).to_be_bytes());
        packet.extend_from_slice(&((n * 160) as u32).to_be_bytes());
        packet.extend_from_slice(&0x0BAD_CAFEu32.to_be_bytes());
        zentrale::media::Codec::Pcma.encode(frame, &mut packet);
        let _ = socket.send_to(&packet, ("127.0.0.1", port));
    }
    tone
}

/// Leaves a message in anna's box from bert's phone (sipp, `voicemail_pcap_uac.xml`).
fn leave_message(d: &Daemon, bert: &(String, String)) {
    let (uac, dir) =
        crate::sip::sipp_command(d, "voicemail_pcap_uac.xml", "u1", &bert.0, &bert.1, "0");
    crate::dtmf_pcap::write_keys(dir.path(), "##");
    let port = media_port();
    let mut uac = with_args(&uac, &["-key", "callee", "100", "-mp", &port]);
    if !uac.status().expect("sipp").success() {
        crate::sip::print_logs(dir.path());
        panic!("leaving a message failed; zentrale:\n{}", d.log());
    }
}

#[test]
fn the_owner_listens_by_phone_and_saving_the_message_turns_her_lamp_off() {
    let smtp = SmtpPeer::start(0, &[]);
    let config = smtp_config(smtp.port, "") + "\n[voicemail]\nmax_secs = 30\nmin_secs = 1\n";
    let d = Daemon::start_with_config(&config);
    let user = json!({"username": "anna", "display_name": "Anna", "extension": "100",
                      "auth": "none", "pin": "4711", "email": "anna@example.com",
                      "language": "en", "voicemail": "all"});
    let account = crate::sip::phone_account_of(&d, user, json!({"user": "anna"}));
    keep_messages(&d);
    // Her desk phone shows the lamp but does not ring for internal calls.
    let (s, devices) = d.call("GET", "/api/v1/users/anna/devices", None);
    assert_eq!(s, 200, "{devices}");
    let id = devices[0]["id"].as_i64().expect("device id");
    let followme = json!({"user_configurable": false,
                          "internal": {"enabled": false, "wait": 0, "timeout": 20},
                          "external": {"enabled": true, "wait": 0, "timeout": 20},
                          "team": {"enabled": true, "wait": 0, "timeout": 20}});
    let (s, body) = d.call(
        "PUT",
        &format!("/api/v1/users/anna/devices/{id}"),
        Some(followme),
    );
    assert!(s == 200 || s == 204, "{s} {body}");
    let port = crate::mwi::free_port();
    let lamp = crate::sip::phone_on(&d, &account, &port, "voicemail_mwi_new_uas.xml");
    let bert = crate::calls::bert(&d);
    leave_message(&d, &bert);
    assert_eq!(messages(&d, 1)[0]["heard"], false);
    assert!(
        crate::sip::ended(lamp),
        "no NOTIFY with 1/0 after the message"
    );
    // Each NOTIFY is a request of its own (new Call-ID): a new sipp takes the next one.
    let (user, password) = &account;
    let (mut uas, uas_dir) = crate::sip::sipp_command(
        &d,
        "voicemail_mwi_heard_uas.xml",
        "u1",
        user,
        password,
        &port,
    );
    let lamp = (uas.spawn().expect("sipp"), uas_dir);
    // Anna dials the feature code from her phone's account: PIN, play, save, leave.
    let (uac, dir) = crate::sip::sipp_command(
        &d,
        "voicemail_listen_uac.xml",
        "u1",
        &account.0,
        &account.1,
        "0",
    );
    crate::dtmf_pcap::write_keys(dir.path(), "4711#19#");
    let port = media_port();
    let mut uac = with_args(&uac, &["-key", "callee", "*97", "-mp", &port]);
    if !uac.status().expect("sipp").success() {
        crate::sip::print_logs(dir.path());
        panic!("listening failed; zentrale:\n{}", d.log());
    }
    let heard = eventually(WITHIN, || {
        let list = messages(&d, 1);
        (list[0]["heard"] == true).then_some(())
    });
    assert!(
        heard.is_some(),
        "the message was not saved as heard:\n{}",
        d.log()
    );
    assert!(
        crate::sip::ended(lamp),
        "no NOTIFY with 0/1 after the message was saved"
    );
}

#[test]
fn a_kill_during_a_recording_loses_nothing_that_was_acknowledged() {
    // The mail server is down at first: the first message waits in the spool.
    let smtp_port = crate::smtp::free_port();
    let config = smtp_config(smtp_port, "") + "\n[voicemail]\nmax_secs = 30\nmin_secs = 1\n";
    let d = Daemon::start_with_config(&config);
    anna(&d, "en");
    let bert = crate::calls::bert(&d);
    leave_message(&d, &bert);
    let kept = messages(&d, 1).remove(0);
    // A second caller is recording when the power goes.
    let (uac, dir) =
        crate::sip::sipp_command(&d, "voicemail_pcap_uac.xml", "u1", &bert.0, &bert.1, "0");
    crate::dtmf_pcap::write_keys(dir.path(), "##");
    let port = media_port();
    let mut second = with_args(&uac, &["-key", "callee", "100", "-mp", &port])
        .spawn()
        .expect("sipp");
    let recording = eventually(WITHIN, || {
        (d.log().matches("records for user").count() >= 2).then_some(())
    });
    assert!(recording.is_some(), "no second recording:\n{}", d.log());
    let data = d.dir.path().join("data");
    let dir = d.kill9();
    let _ = second.kill();
    let _ = second.wait();
    let tmp = data.join("voicemail/tmp");
    let leftovers = || std::fs::read_dir(&tmp).map(|d| d.count()).unwrap_or(0);
    assert!(leftovers() >= 1, "the kill did not come during a recording");
    // Back up, with the mail server there: the acknowledged message is mailed, the
    // half-recorded one is gone without a trace.
    let smtp = SmtpPeer::start(smtp_port, &[]);
    let d = Daemon::spawn(dir, "info", &[]);
    let mail = smtp.wait_for("accepted", |_| true, 1).remove(0);
    let list = messages(&d, 1);
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["id"], kept["id"]);
    let id = kept["id"].as_i64().expect("id");
    let wav = audio(&d, id);
    assert_eq!(
        mail["attachments"][0]["sha256"],
        sha256_hex(&wav).as_str(),
        "{mail}"
    );
    assert_eq!(leftovers(), 0, "the interrupted recording is still there");
}

#[test]
fn a_busy_phone_leads_to_the_busy_box_and_a_message_too_short_is_no_message() {
    let smtp = SmtpPeer::start(0, &[]);
    let config = smtp_config(smtp.port, "")
        + "\n[voicemail]\nmax_secs = 30\n\n[calls]\nwhen_all_busy = \"after-action\"\n";
    let d = Daemon::start_with_config(&config);
    let user = json!({"username": "anna", "display_name": "Anna", "extension": "100",
                      "auth": "none", "email": "anna@example.com", "language": "en",
                      "voicemail": "all"});
    let account = crate::sip::phone_account_of(&d, user, json!({"user": "anna"}));
    keep_messages(&d);
    // Anna's phone is in a call: 486 to both calls that follow.
    let port = crate::mwi::free_port();
    let (user, password) = &account;
    let (mut register, _register_dir) =
        crate::sip::sipp_command(&d, "register.xml", "u1", user, password, &port);
    assert!(register.status().expect("sipp").success(), "registered");
    let (busy, busy_dir) =
        crate::sip::sipp_command(&d, "busy_uas.xml", "u1", user, password, &port);
    let phone = (
        crate::sip::with_calls(&busy, 2).spawn().expect("sipp"),
        busy_dir,
    );
    let bert = crate::calls::bert(&d);
    // First bert hangs up a second after the beep: shorter than min_secs (3 s).
    let (uac, dir) =
        crate::sip::sipp_command(&d, "voicemail_short_uac.xml", "u1", &bert.0, &bert.1, "0");
    crate::dtmf_pcap::write_keys(dir.path(), "#");
    let media = media_port();
    if !with_args(&uac, &["-key", "callee", "100", "-mp", &media])
        .status()
        .expect("sipp")
        .success()
    {
        crate::sip::print_logs(dir.path());
        panic!("the short call failed; zentrale:\n{}", d.log());
    }
    // Then a real message.
    leave_message(&d, &bert);
    assert!(
        crate::sip::ended(phone),
        "anna's phone did not take both calls"
    );
    let list = messages(&d, 1);
    assert_eq!(list.len(), 1, "the short call left a message: {list:?}");
    assert_eq!(list[0]["reason"], "busy", "{}", list[0]);
    let mails = smtp.wait_for("accepted", |_| true, 1);
    let record = crate::calls::last_call(&d);
    assert_eq!(record["outcome"], "busy", "{record}");
    assert_eq!(record["after_action"], "voicemail", "{record}");
    // Only the real message was mailed (the deposit queues its mail before goodbye, and the
    // short one came first).
    assert_eq!(
        smtp.events()
            .iter()
            .filter(|e| e["event"] == "accepted")
            .count(),
        1,
        "{mails:?}"
    );
}

#[test]
fn over_a_lossy_network_the_message_keeps_its_length_and_lost_packets_become_silence() {
    let smtp = SmtpPeer::start(0, &[]);
    let config = smtp_config(smtp.port, "")
        + "\n[voicemail]\nmax_secs = 30\nmin_secs = 1\nmax_silence_secs = 0\n";
    let d = Daemon::start_with_config(&config);
    anna(&d, "en");
    let bert = crate::calls::bert(&d);
    let (uac, dir) =
        crate::sip::sipp_command(&d, "voicemail_lossy_uac.xml", "u1", &bert.0, &bert.1, "0");
    crate::dtmf_pcap::write_keys(dir.path(), "##");
    // 5 s of tone: every 20th packet lost (5%), every 7th pair swapped.
    let lost = crate::dtmf_pcap::write_lossy_tone(dir.path(), "speech.pcap", 5, (20, 7));
    let media = media_port();
    if !with_args(&uac, &["-key", "callee", "100", "-mp", &media])
        .status()
        .expect("sipp")
        .success()
    {
        crate::sip::print_logs(dir.path());
        panic!("the lossy call failed; zentrale:\n{}", d.log());
    }
    let message = messages(&d, 1).remove(0);
    // From the end of the 1 s beep to the second '#', 7 s after the first: about 6 s, not
    // 5% (300 ms) less.
    let ms = message["duration_ms"].as_u64().expect("duration_ms");
    assert!((5_700..6_400).contains(&ms), "{message}");
    let id = message["id"].as_i64().expect("id");
    let wav = audio(&d, id);
    let samples = wav_samples(&wav);
    // Within the tone, silence stands where the lost packets were, as long as they were;
    // swapped packets are put back in order (no more silence than the losses).
    let tone = &samples[RATE..5 * RATE];
    let silent = silent_samples(tone);
    let expected = lost as f64 / 250.0;
    let share = silent as f64 / tone.len() as f64;
    assert!(
        share > expected * 0.5 && share < expected * 1.6,
        "{silent} silent samples ({:.1}%) where {:.1}% of the packets were lost",
        share * 100.0,
        expected * 100.0
    );
}

/// Samples in runs of at least 10 ms near zero (a 1 kHz tone passes zero for a sample or two).
fn silent_samples(samples: &[i16]) -> usize {
    let mut total = 0;
    let mut run = 0;
    for s in samples.iter().chain([&i16::MAX]) {
        if s.unsigned_abs() < 200 {
            run += 1;
        } else {
            if run >= 80 {
                total += run;
            }
            run = 0;
        }
    }
    total
}
