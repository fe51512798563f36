//! Voicemail boxes over real HTTP and real SMTP (aiosmtpd). Until the SIP side records calls,
//! messages are deposited from this process with the library (`zentrale::voicemail::Mailboxes`
//! on the daemon's data directory and database), as the call driver deposits them; the daemon
//! mails them, applies the keep/delete rule, and serves the API.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::harness::{Daemon, config_path, prepared_dir};
use crate::smtp::{SmtpPeer, sha256_hex, smtp_config, wait_until};
use zentrale::clock::UnixTime;
use zentrale::config::Config;
use zentrale::mail::MailHandle;
use zentrale::store::Store;
use zentrale::voicemail::{MailboxError, Mailboxes, NewMessage, Reason};

/// `secs` seconds of a deterministic sawtooth at 8 kHz.
fn samples(secs: u64) -> Vec<i16> {
    (0..secs * 8_000)
        .map(|i| ((i * 37) % 16_000) as i16 - 8_000)
        .collect()
}

/// The WAV the box must hold for `samples`, built independently of the code under test.
fn expected_wav(samples: &[i16]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8_000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    let mut w = hound::WavWriter::new(&mut out, spec).expect("writer");
    for s in samples {
        w.write_sample(*s).expect("sample");
    }
    w.finalize().expect("finalize");
    out.into_inner()
}

/// The library on the daemon's data directory, as the daemon opens it.
pub(crate) struct Library {
    pub(crate) runtime: tokio::runtime::Runtime,
    store: Store,
    pub(crate) boxes: Mailboxes,
}

impl Library {
    pub(crate) fn open(dir: &Path) -> Library {
        let config = Config::load(&config_path(dir)).expect("config");
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let (store, boxes) = runtime.block_on(async {
            let store = zentrale::app::open_store(&config).await.expect("store");
            let mail = MailHandle::open(&config).expect("mail");
            let boxes = Mailboxes::open(&config.server.data_dir, store.clone(), mail)
                .await
                .expect("boxes");
            (store, boxes)
        });
        Library {
            runtime,
            store,
            boxes,
        }
    }

    pub(crate) fn user(&self, name: &str) -> i64 {
        self.runtime
            .block_on(self.store.user_id(name))
            .expect("user id")
    }

    /// Records `secs` seconds (plus 2 s of silence that is cut) and deposits it for `user`.
    pub(crate) fn deposit(&self, user: &str, secs: u64) -> Result<i64, MailboxError> {
        let user = self.user(user);
        let mut rec = self.boxes.start_recording().expect("start");
        for packet in samples(secs).chunks(160) {
            rec.push(packet).expect("push");
        }
        rec.push(&[0; 16_000]).expect("silence");
        rec.drop_tail(16_000);
        let msg = NewMessage {
            user,
            caller_number: "+4930123456".into(),
            caller_name: "Jörg Müller".into(),
            reason: Reason::Busy,
            received_at: UnixTime::from_secs(1_796_369_400),
        };
        self.runtime
            .block_on(self.boxes.deposit(rec, msg))
            .map(|id| id.0)
    }

    pub(crate) fn counts(&self, user: &str) -> (u32, u32) {
        let id = self.user(user);
        self.runtime
            .block_on(self.store.mailbox_counts(id))
            .expect("counts")
    }
}

pub(crate) fn create_user(d: &Daemon, name: &str, language: &str, email: Option<&str>, keep: bool) {
    let body = json!({"username": name, "display_name": format!("{name} Schmidt"),
        "auth": "none", "language": language, "email": email});
    let (status, answer) = d.call("POST", "/api/v1/users", Some(body));
    assert_eq!(status, 201, "{answer}");
    let path = format!("/api/v1/users/{name}/voicemail");
    let (status, answer) = d.call("PUT", &path, Some(json!({"keep_messages": keep})));
    assert_eq!(status, 200, "{answer}");
}

pub(crate) fn messages(d: &Daemon, user: &str) -> Vec<Value> {
    let (status, list) = d.call(
        "GET",
        &format!("/api/v1/users/{user}/voicemail/messages"),
        None,
    );
    assert_eq!(status, 200, "{list}");
    list.as_array().expect("list").clone()
}

pub(crate) fn get_bytes(d: &Daemon, path: &str) -> (u16, Vec<u8>, String) {
    let resp = d.req("GET", path).send().expect("get");
    let kind = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap_or("").to_owned())
        .unwrap_or_default();
    let status = resp.status().as_u16();
    (status, resp.bytes().expect("body").to_vec(), kind)
}

fn to(rcpt: &'static str) -> impl Fn(&Value) -> bool {
    move |e| e["rcpt"][0] == rcpt
}

#[test]
fn the_mail_carries_the_wav_in_the_user_s_language_and_keep_decides_what_stays() {
    let smtp = SmtpPeer::start(0, &[]);
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    create_user(&d, "anna", "de", Some("anna@example.com"), false);
    create_user(&d, "bert", "en", Some("bert@example.com"), true);
    let lib = Library::open(d.dir.path());
    let wav = expected_wav(&samples(3));

    lib.deposit("anna", 3).expect("anna's");
    let bert = lib.deposit("bert", 3).expect("bert's");

    let got = smtp.wait_for("accepted", to("anna@example.com"), 1);
    assert_eq!(got[0]["subject"], "Neue Voicemail von Jörg Müller");
    let body = got[0]["body"].as_str().expect("body");
    assert!(
        body.contains("Hallo anna Schmidt")
            && body.contains("0:03")
            && body.contains("+4930123456"),
        "{body}"
    );
    let att = &got[0]["attachments"][0];
    assert_eq!(att["content_type"], "audio/wav");
    assert_eq!(
        att["sha256"],
        sha256_hex(&wav),
        "the box's WAV, byte for byte"
    );

    let got = smtp.wait_for("accepted", to("bert@example.com"), 1);
    assert_eq!(got[0]["subject"], "New voicemail from Jörg Müller");
    assert_eq!(got[0]["attachments"][0]["sha256"], sha256_hex(&wav));

    // Anna keeps nothing: after SMTP accepted, the message, its file and its count go.
    wait_until("anna's delivered message to go", || {
        messages(&d, "anna").is_empty()
    });
    assert_eq!(lib.counts("anna"), (0, 0));
    let anna_dir = d
        .dir
        .path()
        .join(format!("data/voicemail/{}", lib.user("anna")));
    let left: Vec<_> = std::fs::read_dir(&anna_dir)
        .expect("box dir")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");

    // Bert keeps: listed, counted, and the API gives the same bytes that were mailed.
    wait_until("bert's delivery to be recorded", || {
        messages(&d, "bert")
            .first()
            .is_some_and(|m| m["mail"] == "delivered")
    });
    let list = messages(&d, "bert");
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0]["id"], bert);
    assert_eq!(list[0]["duration_ms"], 3_000);
    assert_eq!(list[0]["reason"], "busy");
    assert_eq!(list[0]["heard"], false);
    assert_eq!(list[0]["mail"], "delivered");
    assert_eq!(lib.counts("bert"), (1, 0));
    let (status, bytes, kind) = get_bytes(
        &d,
        &format!("/api/v1/users/bert/voicemail/messages/{bert}/audio"),
    );
    assert_eq!((status, kind.as_str()), (200, "audio/wav"));
    assert_eq!(bytes, wav);
}

#[test]
fn a_mail_that_fails_for_good_leaves_the_message_in_the_box() {
    let smtp = SmtpPeer::start(0, &[]);
    let d = Daemon::start_with_config(&smtp_config(smtp.port, ""));
    create_user(&d, "carl", "en", Some("reject@example.com"), false);
    let lib = Library::open(d.dir.path());
    let id = lib.deposit("carl", 1).expect("deposit");
    smtp.wait_for("rejected", to("reject@example.com"), 1);
    wait_until("the failure to be recorded", || {
        messages(&d, "carl")
            .first()
            .is_some_and(|m| m["mail"] == "failed")
    });
    let list = messages(&d, "carl");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id);
    assert_eq!(list[0]["mail"], "failed");
    assert_eq!(lib.counts("carl"), (1, 0));
}

/// A tmpfs mounted for the test, unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(path: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(path).expect("mount point");
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .status()
            .expect("mount (the tests run as root)");
        assert!(
            ok.success(),
            "mount -t tmpfs failed (the tests run as root)"
        );
        Tmpfs(path.to_owned())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(tree(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

/// The spool on its own small filesystem, nearly full: the box's file cannot be linked there
/// (another filesystem), the copy runs out of space, and the deposit leaves nothing behind.
/// With room again, the same path (copy instead of link) works.
#[test]
fn a_full_disk_on_deposit_leaves_nothing_behind() {
    let dir = prepared_dir();
    let data = dir.path().join("data");
    let spool = data.join("spool");
    let tmpfs = Tmpfs::mount(&spool, "1m");
    let out = crate::harness::zentrale(
        dir.path(),
        &[
            "user",
            "add",
            "--username",
            "anna",
            "--display-name",
            "Anna",
            "--auth",
            "none",
            "--email",
            "anna@example.com",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lib = Library::open(dir.path());
    let ballast = spool.join("ballast");
    let room = vec![0u8; 1024 * 1024 - 96 * 1024];
    std::fs::write(&ballast, &room).expect("fill the spool's disk");

    // 10 s are 160 KB: more than the spool's disk has left.
    let err = lib.deposit("anna", 10).expect_err("no room in the spool");
    assert!(matches!(err, MailboxError::Full), "{err:?}");
    assert_eq!(lib.counts("anna"), (0, 0));
    let user = lib.user("anna");
    assert!(
        lib.runtime
            .block_on(lib.boxes.messages(user))
            .expect("list")
            .is_empty()
    );
    let voicemail = tree(&data.join("voicemail"));
    assert!(voicemail.is_empty(), "{voicemail:?}");
    let spooled: Vec<_> = tree(&spool)
        .into_iter()
        .filter(|p| !p.ends_with("ballast"))
        .collect();
    assert!(spooled.is_empty(), "{spooled:?}");

    std::fs::remove_file(&ballast).expect("make room");
    lib.deposit("anna", 10).expect("room again");
    assert_eq!(lib.counts("anna"), (1, 0));
    assert_eq!(
        tree(&spool.join("queue")).len(),
        3,
        "message, status, attachment"
    );
    drop(lib);
    drop(tmpfs);
}

/// MWI end to end: the counts a deposit and a heard mark write reach the owner's registered
/// phone (sipp) as NOTIFYs, through the change feed the SIP side follows.
#[test]
fn the_owner_s_phone_shows_each_deposit_and_each_heard_message() {
    let d = Daemon::start();
    let account = crate::sip::phone_account(&d);
    let port = crate::mwi::free_port();
    let phone = crate::sip::phone_on(&d, &account, &port, "voicemail_mwi_new_uas.xml");
    let lib = Library::open(d.dir.path());
    let id = lib.deposit("anna", 1).expect("deposit");
    assert!(
        crate::sip::ended(phone),
        "no NOTIFY with 1/0 after the deposit"
    );
    let (user, password) = &account;
    let (mut uas, dir) = crate::sip::sipp_command(
        &d,
        "voicemail_mwi_heard_uas.xml",
        "u1",
        user,
        password,
        &port,
    );
    let phone = (uas.spawn().expect("sipp"), dir);
    let path = format!("/api/v1/users/anna/voicemail/messages/{id}");
    assert_eq!(d.call("PATCH", &path, Some(json!({"heard": true}))).0, 200);
    assert!(crate::sip::ended(phone), "no NOTIFY with 0/1 after heard");
}
