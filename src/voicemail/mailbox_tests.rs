use std::path::Path;

use super::*;
use crate::clock::UnixTime;
use crate::mail::MailOutcome;
use crate::spool::Kind;
use crate::spool::boxes::testing::files;
use crate::store::{NewUser, VoicemailSettings};

type Fixture = crate::spool::boxes::testing::Fixture<super::mailbox::Voicemails>;

impl Fixture {
    async fn user(&self, name: &str, email: Option<&str>, language: &str) -> i64 {
        self.create_user(name, email, language, NewUser::default())
            .await
    }
}

fn message(user: i64) -> NewMessage {
    NewMessage {
        user,
        caller_number: "+4930123456".into(),
        caller_name: "Jörg Müller".into(),
        reason: Reason::Unavailable,
        received_at: UnixTime::from_secs(1_796_369_400),
    }
}

/// A recording of `secs` seconds of a ramp, with `silence` seconds of zeros then cut off.
fn record(boxes: &Mailboxes, secs: u64, silence: u64) -> Recording {
    let mut rec = boxes.start_recording().expect("start");
    let voice: Vec<i16> = (0..secs * 8_000).map(|i| (i % 2_000) as i16).collect();
    for packet in voice.chunks(160) {
        rec.push(packet).expect("push");
    }
    rec.push(&vec![0; (silence * 8_000) as usize])
        .expect("push");
    rec.drop_tail(silence * 8_000);
    assert_eq!(rec.samples(), secs * 8_000);
    rec
}

#[tokio::test]
async fn a_deposit_stores_the_wav_counts_it_and_queues_the_mail_in_the_user_s_language() {
    let f = Fixture::new().await;
    let anna = f.user("anna", Some("anna@example.com"), "de").await;
    let boxes = f.open().await;
    let id = boxes
        .deposit(record(&boxes, 12, 3), message(anna))
        .await
        .expect("deposit");
    assert!(files(&f.dir().join("tmp")).is_empty());
    let info = boxes.message(anna, id).await.expect("message");
    assert_eq!(info.duration_ms, 12_000, "the cut silence is not counted");
    assert!(!info.heard);
    assert_eq!(info.mail, MailState::Queued);
    assert_eq!(f.store.mailbox_counts(anna).await.expect("counts"), (1, 0));
    let wav = boxes.audio_path(anna, id).await.expect("audio");
    let reader = hound::WavReader::open(&wav).expect("a WAV");
    assert_eq!(reader.spec(), super::mailbox_recording::spec());
    assert_eq!(reader.duration(), 96_000);

    let queued = f.mail.list().expect("queue");
    assert_eq!(queued.len(), 1);
    let (stored, _) = f.mail.spool.load(queued[0].id).expect("entry");
    assert_eq!(stored.kind, Kind::Voicemail);
    assert_eq!(stored.to.email, "anna@example.com");
    assert_eq!(stored.subject, "Neue Voicemail von Jörg Müller");
    assert!(stored.body.contains("0:12"), "{}", stored.body);
    assert!(
        stored.body.contains("2026-12-04 07:30 UTC"),
        "{}",
        stored.body
    );
    assert_eq!(stored.attachments[0].content_type, "audio/wav");
    let attached = f
        .mail
        .spool
        .attachment_path(queued[0].id, &stored.attachments[0]);
    assert_eq!(
        std::fs::read(attached).expect("attachment"),
        std::fs::read(&wav).expect("box file")
    );
    assert!(files(&f.mail.spool.incoming_dir()).is_empty());
}

#[tokio::test]
async fn without_an_address_the_message_only_stays_in_the_box() {
    let f = Fixture::new().await;
    let bert = f.user("bert", None, "en").await;
    let boxes = f.open().await;
    let id = boxes
        .deposit(record(&boxes, 2, 0), message(bert))
        .await
        .expect("deposit");
    assert!(f.mail.list().expect("queue").is_empty());
    assert_eq!(boxes.messages(bert).await.expect("list")[0].id, id);
}

#[tokio::test]
async fn keep_false_deletes_after_delivery_keep_true_and_failures_keep() {
    let f = Fixture::new().await;
    let anna = f.user("anna", Some("anna@example.com"), "en").await;
    let bert = f.user("bert", Some("bert@example.com"), "en").await;
    for (name, keep) in [("anna", false), ("bert", true)] {
        let settings = VoicemailSettings {
            keep_messages: keep,
            email: None,
            monitored_mailbox: None,
        };
        f.store
            .set_voicemail_settings(name, settings)
            .await
            .expect("settings");
    }
    let boxes = f.open().await;
    let a = boxes
        .deposit(record(&boxes, 1, 0), message(anna))
        .await
        .expect("a");
    let failed = boxes
        .deposit(record(&boxes, 1, 0), message(anna))
        .await
        .expect("f");
    let b = boxes
        .deposit(record(&boxes, 1, 0), message(bert))
        .await
        .expect("b");
    let outcome = |file: &Path, delivered| MailOutcome {
        kind: Kind::Voicemail,
        reference: file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned(),
        delivered,
    };
    let a_file = boxes.audio_path(anna, a).await.expect("a");
    let failed_file = boxes.audio_path(anna, failed).await.expect("f");
    let b_file = boxes.audio_path(bert, b).await.expect("b");
    boxes.mailed(outcome(&a_file, true)).await;
    boxes.mailed(outcome(&failed_file, false)).await;
    boxes.mailed(outcome(&b_file, true)).await;
    assert!(!a_file.exists(), "delivered and not kept: gone");
    assert!(matches!(
        boxes.message(anna, a).await,
        Err(MailboxError::NotFound(_))
    ));
    assert!(failed_file.exists(), "a failed mail leaves the message");
    assert_eq!(f.store.mailbox_counts(anna).await.expect("counts"), (1, 0));
    assert!(b_file.exists(), "kept");
    assert_eq!(f.store.mailbox_counts(bert).await.expect("counts"), (1, 0));
}

#[tokio::test]
async fn heard_and_delete_update_counts_and_files() {
    let f = Fixture::new().await;
    let anna = f.user("anna", None, "de").await;
    let boxes = f.open().await;
    let one = boxes
        .deposit(record(&boxes, 1, 0), message(anna))
        .await
        .expect("1");
    let two = boxes
        .deposit(record(&boxes, 1, 0), message(anna))
        .await
        .expect("2");
    boxes.mark_heard(anna, one, true).await.expect("heard");
    assert_eq!(f.store.mailbox_counts(anna).await.expect("counts"), (1, 1));
    let path = boxes.audio_path(anna, two).await.expect("path");
    boxes.delete(anna, two).await.expect("delete");
    assert!(!path.exists());
    assert_eq!(f.store.mailbox_counts(anna).await.expect("counts"), (0, 1));
    assert!(matches!(
        boxes.delete(anna, two).await,
        Err(MailboxError::NotFound(_))
    ));
    assert!(matches!(
        boxes.mark_heard(anna + 1, one, true).await,
        Err(MailboxError::NotFound(_))
    ));
}

#[tokio::test]
async fn open_removes_what_a_crash_left_behind() {
    let f = Fixture::new().await;
    let anna = f.user("anna", None, "de").await;
    let boxes = f.open().await;
    let id = boxes
        .deposit(record(&boxes, 1, 0), message(anna))
        .await
        .expect("1");
    let kept = boxes.audio_path(anna, id).await.expect("path");
    boxes
        .put_greeting(anna, GreetingKind::Busy, vec![1; 800])
        .await
        .expect("greeting");
    // A recording cut off by kill -9 (its pid is long gone), a message file whose row was
    // never committed, a greeting's temp file, and the box of a user deleted while stopped.
    let tmp = f.dir().join("tmp");
    std::fs::write(tmp.join("999999999.0123.wav"), b"RIFF").expect("leftover");
    let dir = f.dir().join(anna.to_string());
    std::fs::write(dir.join("msg-1-deadbeef.wav"), b"RIFF").expect("stray");
    std::fs::write(dir.join(".greeting-busy.wav.tmp"), b"RIFF").expect("temp");
    std::fs::create_dir_all(f.dir().join("4242")).expect("gone user");
    std::fs::write(f.dir().join("4242/msg-1-0.wav"), b"RIFF").expect("gone user's");
    let live = boxes
        .start_recording()
        .expect("a live recording of this process");
    drop(boxes);
    drop(live);

    let boxes = f.open().await;
    assert!(files(&tmp).is_empty());
    assert!(!f.dir().join("4242").exists());
    let name = kept
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(files(&dir), vec!["greeting-busy.wav".to_owned(), name]);
    assert!(boxes.greeting_path(anna, GreetingKind::Busy).is_some());
}

#[tokio::test]
async fn a_dropped_or_discarded_recording_leaves_no_file() {
    let f = Fixture::new().await;
    let boxes = f.open().await;
    let mut rec = boxes.start_recording().expect("start");
    rec.push(&[1; 16_000]).expect("push");
    drop(rec);
    let rec = boxes.start_recording().expect("start");
    rec.discard();
    assert!(files(&f.dir().join("tmp")).is_empty());
}

#[tokio::test]
async fn a_deposit_for_a_user_that_is_gone_leaves_nothing() {
    let f = Fixture::new().await;
    let boxes = f.open().await;
    let err = boxes
        .deposit(record(&boxes, 1, 0), message(77))
        .await
        .expect_err("no such user");
    assert!(matches!(err, MailboxError::NotFound("user")), "{err}");
    assert!(files(&f.dir().join("tmp")).is_empty());
    assert!(!f.dir().join("77").exists());
}

#[tokio::test]
async fn greetings_replace_and_delete() {
    let f = Fixture::new().await;
    let anna = f.user("anna", None, "de").await;
    let boxes = f.open().await;
    assert_eq!(boxes.greeting_path(anna, GreetingKind::Unavailable), None);
    boxes
        .put_greeting(anna, GreetingKind::Unavailable, vec![7; 8_000])
        .await
        .expect("put");
    boxes
        .put_greeting(anna, GreetingKind::Unavailable, vec![9; 4_000])
        .await
        .expect("replace");
    let path = boxes
        .greeting_path(anna, GreetingKind::Unavailable)
        .expect("greeting");
    let mut reader = hound::WavReader::open(&path).expect("wav");
    assert_eq!(reader.duration(), 4_000);
    assert_eq!(reader.samples::<i16>().next().expect("one").expect("ok"), 9);
    assert_eq!(boxes.greeting_path(anna, GreetingKind::Busy), None);
    boxes
        .delete_greeting(anna, GreetingKind::Unavailable)
        .await
        .expect("delete");
    assert_eq!(boxes.greeting_path(anna, GreetingKind::Unavailable), None);
    assert!(matches!(
        boxes.delete_greeting(anna, GreetingKind::Unavailable).await,
        Err(MailboxError::NotFound(_))
    ));
}

#[test]
fn durations_read_as_minutes_and_seconds() {
    assert_eq!(format_duration(0), "0:00");
    assert_eq!(format_duration(41_600), "0:42");
    assert_eq!(format_duration(725_000), "12:05");
}

#[tokio::test]
async fn a_spool_failure_after_the_row_was_written_leaves_nothing() {
    let f = Fixture::new().await;
    let anna = f.user("anna", Some("anna@example.com"), "de").await;
    let boxes = f.open().await;
    // The spool cannot make its entry directory: enqueue fails inside the open transaction.
    let spool_tmp = f.mail.spool.root().join("tmp");
    std::fs::remove_dir_all(&spool_tmp).expect("rm");
    std::fs::write(&spool_tmp, b"in the way").expect("block");
    let err = boxes
        .deposit(record(&boxes, 2, 0), message(anna))
        .await
        .expect_err("the spool fails");
    assert!(matches!(err, MailboxError::Spool(_)), "{err:?}");
    assert!(boxes.messages(anna).await.expect("list").is_empty());
    assert_eq!(f.store.mailbox_counts(anna).await.expect("counts"), (0, 0));
    assert!(files(&f.dir().join(anna.to_string())).is_empty());
    assert!(files(&f.dir().join("tmp")).is_empty());
    assert!(files(&f.mail.spool.incoming_dir()).is_empty());
    assert!(f.mail.list().expect("queue").is_empty());

    // With the spool healthy again the same deposit goes through.
    std::fs::remove_file(&spool_tmp).expect("unblock");
    std::fs::create_dir(&spool_tmp).expect("tmp");
    boxes
        .deposit(record(&boxes, 2, 0), message(anna))
        .await
        .expect("deposit");
    assert_eq!(f.store.mailbox_counts(anna).await.expect("counts"), (1, 0));
}
