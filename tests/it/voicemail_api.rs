//! The voicemail API against the real daemon: messages (heard, delete, counts), greeting
//! uploads in any WAV format, and who may list and who may listen. Messages are deposited
//! with the library, as in `voicemail.rs`.

use serde_json::json;

use crate::harness::Daemon;
use crate::smtp::wait_until;
use crate::voicemail::{Library, create_user, get_bytes, messages};

#[test]
fn heard_and_delete_over_the_api_move_the_counts() {
    let d = Daemon::start();
    create_user(&d, "anna", "de", None, true);
    let lib = Library::open(d.dir.path());
    let first = lib.deposit("anna", 1).expect("1");
    let second = lib.deposit("anna", 2).expect("2");
    assert_eq!(lib.counts("anna"), (2, 0));
    let one = format!("/api/v1/users/anna/voicemail/messages/{first}");
    let (status, info) = d.call("PATCH", &one, Some(json!({"heard": true})));
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["heard"], true);
    assert_eq!(info["caller_name"], "Jörg Müller");
    assert_eq!(lib.counts("anna"), (1, 1));
    let (status, err) = d.call("PATCH", &one, Some(json!({"heard": "yes"})));
    assert_eq!(status, 422, "{err}");
    let two = format!("/api/v1/users/anna/voicemail/messages/{second}");
    let (status, info) = d.call("GET", &two, None);
    assert_eq!((status, info["duration_ms"].as_u64()), (200, Some(2_000)));
    assert_eq!(d.call("DELETE", &two, None).0, 204);
    assert_eq!(lib.counts("anna"), (0, 1));
    assert_eq!(d.call("GET", &two, None).0, 404);
    assert_eq!(d.call("DELETE", &two, None).0, 404);
    assert_eq!(
        d.call("GET", "/api/v1/users/nobody/voicemail/messages", None)
            .0,
        404
    );
    assert_eq!(messages(&d, "anna").len(), 1);
    // Deleting the user takes the box's files too (the rows go with the user).
    let dir = d
        .dir
        .path()
        .join(format!("data/voicemail/{}", lib.user("anna")));
    assert!(dir.is_dir());
    assert_eq!(d.call("DELETE", "/api/v1/users/anna", None).0, 204);
    wait_until("the deleted user's box to go", || !dir.exists());
}

/// A 16-bit stereo WAV at 44.1 kHz, `frames` long, a 440 Hz tone left, silence right.
fn cd_wav(frames: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).expect("writer");
    for i in 0..frames {
        let t = f64::from(i) / 44_100.0;
        let v = (16_000.0 * (2.0 * std::f64::consts::PI * 440.0 * t).sin()) as i16;
        w.write_sample(v).expect("left");
        w.write_sample(0i16).expect("right");
    }
    w.finalize().expect("finalize");
    out.into_inner()
}

#[test]
fn a_greeting_upload_becomes_8k_mono_and_garbage_is_refused() {
    let d = Daemon::start();
    create_user(&d, "anna", "de", None, true);
    let path = "/api/v1/users/anna/voicemail/greetings/busy";
    let put = |bytes: Vec<u8>| {
        let resp = d
            .req("PUT", path)
            .header("content-type", "audio/wav")
            .body(bytes)
            .send()
            .expect("put");
        crate::harness::status_json(resp)
    };
    // 2.5 s at 44.1 kHz stereo: 20,000 samples at 8 kHz.
    let (status, answer) = put(cd_wav(110_250));
    assert_eq!(status, 204, "{answer}");
    let (status, bytes, kind) = get_bytes(&d, path);
    assert_eq!((status, kind.as_str()), (200, "audio/wav"));
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a WAV");
    let spec = reader.spec();
    assert_eq!(
        (spec.sample_rate, spec.channels, spec.bits_per_sample),
        (8_000, 1, 16)
    );
    assert_eq!(reader.duration(), 20_000);
    // The mix of a half-scale tone and silence: about a quarter of full scale, not silence.
    let peak = reader
        .into_samples::<i16>()
        .map(|s| s.expect("sample").unsigned_abs())
        .max()
        .expect("samples");
    assert!((7_000..9_000).contains(&peak), "peak {peak}");

    let (status, err) = put(b"RIFF....WAVEnot really a wav file".to_vec());
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["field"], "file", "{err}");
    assert!(
        err["error"].as_str().expect("error").contains("WAV"),
        "{err}"
    );
    let (status, err) = put(cd_wav(44_100 * 61));
    assert_eq!(status, 422, "{err}");
    assert!(
        err["error"].as_str().expect("error").contains("60 seconds"),
        "{err}"
    );
    assert_eq!(
        d.req("PUT", "/api/v1/users/anna/voicemail/greetings/lunch")
            .body(cd_wav(100))
            .send()
            .expect("put")
            .status()
            .as_u16(),
        404
    );
    // The refused uploads left the greeting as it was.
    assert_eq!(get_bytes(&d, path).0, 200);
    assert_eq!(d.call("DELETE", path, None).0, 204);
    assert_eq!(get_bytes(&d, path).0, 404);
    assert_eq!(d.call("DELETE", path, None).0, 404);
}

#[test]
fn who_may_list_and_who_may_listen() {
    let d = Daemon::start();
    create_user(&d, "anna", "de", None, true);
    for (name, role) in [
        ("tina", "telephony-admin"),
        ("adam", "admin"),
        ("paul", "phonebook-admin"),
    ] {
        let body = json!({"username": name, "display_name": name, "password": format!("{name}-pw-123"),
            "role": role});
        assert_eq!(d.call("POST", "/api/v1/users", Some(body)).0, 201);
    }
    let lib = Library::open(d.dir.path());
    let anna = lib.deposit("anna", 1).expect("anna's");
    let paul = lib.deposit("paul", 1).expect("paul's");
    let status = |who: &str, path: String| {
        d.anon("GET", &path)
            .basic_auth(who, Some(format!("{who}-pw-123")))
            .send()
            .expect("get")
            .status()
            .as_u16()
    };
    let list = |u: &str| format!("/api/v1/users/{u}/voicemail/messages");
    let audio = |u: &str, id: i64| format!("/api/v1/users/{u}/voicemail/messages/{id}/audio");
    assert_eq!(status("tina", list("anna")), 200);
    assert_eq!(status("adam", list("anna")), 200);
    assert_eq!(
        status("tina", audio("anna", anna)),
        403,
        "the telephony admin may not listen"
    );
    assert_eq!(status("adam", audio("anna", anna)), 403, "nor the admin");
    assert_eq!(
        get_bytes(&d, &audio("anna", anna)).0,
        200,
        "the system admin may"
    );
    // The phonebook admin reaches no one's box but their own, where they may also listen.
    assert_eq!(status("paul", list("anna")), 403);
    assert_eq!(status("paul", audio("anna", anna)), 403);
    assert_eq!(status("paul", list("paul")), 200);
    assert_eq!(status("paul", audio("paul", paul)), 200);
    // An admin deletes; the listing never carries a secret or a path.
    let body = messages(&d, "anna");
    let text = serde_json::to_string(&body).expect("json");
    assert!(
        !text.contains("msg-") && !text.contains("/voicemail/"),
        "{text}"
    );
    let del = d
        .anon(
            "DELETE",
            &format!("/api/v1/users/anna/voicemail/messages/{anna}"),
        )
        .basic_auth("adam", Some("adam-pw-123"))
        .send()
        .expect("delete");
    assert_eq!(del.status().as_u16(), 204);
    assert_eq!(lib.counts("anna"), (0, 0));
}
