use std::time::Duration;

use super::*;

const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);

fn message(spool: &Spool, attachment: Option<&[u8]>) -> Message {
    let attachments = attachment
        .map(|bytes| {
            let path = spool
                .incoming_dir()
                .join(format!("vm-{}.wav", rand::random::<u32>()));
            std::fs::write(&path, bytes).expect("write attachment");
            vec![Attachment {
                path,
                filename: "voicemail.wav".into(),
                content_type: "audio/wav".into(),
            }]
        })
        .unwrap_or_default();
    Message {
        kind: Kind::Voicemail,
        to: Address {
            email: "anna@example.com".into(),
            name: Some("Anna Schmidt".into()),
        },
        subject: "Neue Voicemail".into(),
        body: "Hallo".into(),
        attachments,
        keep: false,
        reference: None,
    }
}

fn open() -> (tempfile::TempDir, Spool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spool = Spool::open(&dir.path().join("spool"), "pbx.example.com").expect("open");
    (dir, spool)
}

#[test]
fn enqueue_moves_the_attachment_into_a_complete_entry() {
    let (_dir, spool) = open();
    let msg = message(&spool, Some(b"RIFF....WAVE"));
    let original = msg.attachments[0].path.clone();
    let id = spool.enqueue_blocking(msg, NOW).expect("enqueue");
    assert!(!original.exists(), "the caller's file is taken over");
    let (stored, status) = spool.load(id).expect("load");
    assert_eq!(status, Status::queued());
    assert_eq!(stored.created, NOW);
    assert!(
        stored.message_id.ends_with("@pbx.example.com>"),
        "{}",
        stored.message_id
    );
    let bytes = std::fs::read(spool.attachment_path(id, &stored.attachments[0])).expect("att");
    assert_eq!(bytes, b"RIFF....WAVE");
    assert_eq!(stored.attachments[0].filename, "voicemail.wav");
}

#[test]
fn ids_are_unique_ordered_and_survive_reopening() {
    let (dir, spool) = open();
    let a = spool
        .enqueue_blocking(message(&spool, None), NOW)
        .expect("a");
    let b = spool
        .enqueue_blocking(message(&spool, None), NOW)
        .expect("b");
    assert!(b > a);
    let again = Spool::open(&dir.path().join("spool"), "h").expect("reopen");
    let c = again
        .enqueue_blocking(message(&again, None), NOW)
        .expect("c");
    assert!(c > b);
    assert_eq!(again.ids().expect("ids"), vec![a, b, c]);
}

#[test]
fn opening_removes_half_written_entries_and_keeps_complete_ones() {
    let (dir, spool) = open();
    let id = spool
        .enqueue_blocking(message(&spool, Some(b"x")), NOW)
        .expect("enqueue");
    // What a crash inside enqueue leaves: an entry directory in tmp/ without its rename.
    // (pid 0 is never a writer that could still be running).
    let half = dir.path().join("spool/tmp/0.1234");
    let live = dir.path().join(format!("spool/tmp/1.{}", id.0 + 1));
    std::fs::create_dir(&live).expect("live");
    std::fs::create_dir(&half).expect("half");
    std::fs::write(half.join("att-0"), b"partial").expect("partial");
    let spool = Spool::open(&dir.path().join("spool"), "h").expect("reopen");
    assert!(!half.exists());
    assert!(
        live.exists(),
        "init (pid 1) is alive: its entry is being written"
    );
    assert_eq!(spool.ids().expect("ids"), vec![id]);
    assert_eq!(spool.status(id).expect("status").state, State::Queued);
}

#[test]
fn status_changes_are_durable_and_retry_makes_an_entry_due() {
    let (_dir, spool) = open();
    let id = spool
        .enqueue_blocking(message(&spool, None), NOW)
        .expect("enqueue");
    let failed = Status {
        state: State::Failed,
        attempts: 3,
        next_try: None,
        last_error: Some("550 no".into()),
        done: Some(NOW),
    };
    spool.set_status(id, &failed).expect("set");
    assert_eq!(spool.status(id).expect("status"), failed);
    let counts = spool.counts().expect("counts");
    assert_eq!((counts.failed, counts.queued), (1, 0));
    let retried = spool.retry(id).expect("retry");
    assert_eq!((retried.state, retried.attempts), (State::Queued, 3));
    assert_eq!(retried.last_error.as_deref(), Some("550 no"));
}

#[test]
fn remove_takes_the_files_and_unknown_ids_are_not_found() {
    let (dir, spool) = open();
    let id = spool
        .enqueue_blocking(message(&spool, Some(b"x")), NOW)
        .expect("enqueue");
    spool.remove(id).expect("remove");
    assert!(spool.ids().expect("ids").is_empty());
    assert!(
        std::fs::read_dir(dir.path().join("spool/tmp"))
            .expect("tmp")
            .next()
            .is_none()
    );
    assert!(matches!(spool.remove(id), Err(SpoolError::NotFound(_))));
    assert!(matches!(spool.retry(id), Err(SpoolError::NotFound(_))));
    assert!(matches!(
        spool.set_status(id, &Status::queued()),
        Err(SpoolError::NotFound(_))
    ));
}

#[test]
fn expire_removes_only_old_delivered_entries() {
    let (_dir, spool) = open();
    let old = spool
        .enqueue_blocking(message(&spool, None), NOW)
        .expect("old");
    let young = spool
        .enqueue_blocking(message(&spool, None), NOW)
        .expect("young");
    let failed = spool
        .enqueue_blocking(message(&spool, None), NOW)
        .expect("failed");
    let day = Duration::from_secs(86_400);
    let delivered = |at: UnixTime| Status {
        state: State::Delivered,
        done: Some(at),
        ..Status::queued()
    };
    spool.set_status(old, &delivered(NOW)).expect("set");
    spool
        .set_status(young, &delivered(NOW.after(day * 29)))
        .expect("set");
    let failed_status = Status {
        state: State::Failed,
        done: Some(NOW),
        ..Status::queued()
    };
    spool.set_status(failed, &failed_status).expect("set");
    assert_eq!(
        spool.expire(day * 30, NOW.after(day * 30)).expect("expire"),
        1
    );
    assert_eq!(spool.ids().expect("ids"), vec![young, failed]);
}

#[test]
fn bad_messages_are_refused_before_anything_is_written() {
    let (dir, spool) = open();
    let mut msg = message(&spool, None);
    msg.to.email = "anna@example.com\r\nBcc: eve@example.com".into();
    assert!(matches!(
        spool.enqueue_blocking(msg, NOW),
        Err(SpoolError::Invalid { field: "to", .. })
    ));
    let outside = dir.path().join("elsewhere.wav");
    std::fs::write(&outside, b"x").expect("write");
    let mut msg = message(&spool, None);
    msg.attachments.push(Attachment {
        path: outside,
        filename: "a.wav".into(),
        content_type: "audio/wav".into(),
    });
    assert!(matches!(
        spool.enqueue_blocking(msg, NOW),
        Err(SpoolError::Invalid { .. })
    ));
    let mut msg = message(&spool, Some(b"x"));
    msg.attachments[0].content_type = "audio/wav\r\nX-Evil: 1".into();
    assert!(matches!(
        spool.enqueue_blocking(msg, NOW),
        Err(SpoolError::Invalid { .. })
    ));
    assert!(spool.ids().expect("ids").is_empty());
}

#[test]
fn kick_is_seen_once() {
    let (_dir, spool) = open();
    assert!(!spool.take_kick());
    spool.kick().expect("kick");
    assert!(spool.take_kick());
    assert!(!spool.take_kick());
}
