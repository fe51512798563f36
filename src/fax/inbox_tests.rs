use std::path::PathBuf;
use std::time::Duration;

use super::testing::make_document;
use super::*;
use crate::clock::UnixTime;
use crate::mail::MailOutcome;
use crate::spool::Kind;
use crate::spool::boxes::testing::files;
use crate::store::{FaxFormat, NewUser};

type Fixture = crate::spool::boxes::testing::Fixture<super::inbox::Faxes>;

impl Fixture {
    /// A user with a fax device (extension `ext`); `email` is the user's.
    async fn user(&self, name: &str, ext: &str, email: Option<&str>, lang: &str) -> i64 {
        let fax_extension = Some(ext.into());
        let new = NewUser {
            fax_extension,
            ..NewUser::default()
        };
        self.create_user(name, email, lang, new).await
    }

    async fn device(&self, name: &str, email: Option<&str>, format: FaxFormat, keep: bool) {
        let mut s = self.store.fax_settings(name).await.expect("device");
        s.email = email.map(Into::into);
        s.format = format;
        s.keep_faxes = keep;
        self.store
            .set_fax_settings(name, s)
            .await
            .expect("settings");
    }
}

fn reception(pages: u32, code: i32, text: &str, tiff: Option<PathBuf>) -> Reception {
    Reception {
        completion_code: code,
        completion_text: text.into(),
        pages,
        remote_station_id: "+49 30 987654".into(),
        bit_rate: 14_400,
        ecm: true,
        tiff,
    }
}

/// A received document of `pages` pages in `format`, written where a reception would be
/// (`tmp/last.tif`, the PDF beside it).
fn received(inbox: &FaxInbox, pages: u32, format: DocumentFormat) -> FaxDocument {
    let path = last_tiff(inbox);
    let scratch = tempfile::tempdir().expect("scratch");
    std::fs::copy(make_document(scratch.path(), pages, 200), &path).expect("copy");
    let rx = reception(pages, 0, "OK", Some(path.clone()));
    write_document(&path, format, &rx, Duration::from_secs(42)).expect("document")
}

fn last_tiff(inbox: &FaxInbox) -> PathBuf {
    inbox
        .reception_path()
        .with_file_name(format!("{}.last.tif", std::process::id()))
}

fn incoming(user: i64, format: DocumentFormat, tiff: Option<PathBuf>) -> ReceivedFax {
    ReceivedFax {
        user,
        caller_number: "+4930987654".into(),
        format,
        received_at: UnixTime::from_secs(1_796_369_400),
        tiff,
    }
}

/// What the call side hands over with a document made by [`received`].
fn incoming_tmp(inbox: &FaxInbox, user: i64, format: DocumentFormat) -> ReceivedFax {
    incoming(user, format, Some(last_tiff(inbox)))
}

#[tokio::test]
async fn a_pdf_is_stored_and_mailed_to_the_device_email_in_the_user_s_language() {
    let f = Fixture::new().await;
    let anna = f.user("anna", "190", Some("anna@example.com"), "de").await;
    f.device("anna", Some("fax@example.com"), FaxFormat::Pdf, true)
        .await;
    let inbox = f.open().await;
    let doc = received(&inbox, 2, DocumentFormat::Pdf);
    let fax = incoming_tmp(&inbox, anna, DocumentFormat::Pdf);
    let id = inbox.deposit(doc, fax).await.expect("deposit");
    assert!(
        files(&f.dir().join("tmp")).is_empty(),
        "TIFF and PDF moved or removed"
    );
    let info = inbox.fax(anna, id).await.expect("fax");
    assert_eq!(
        (info.pages, info.bit_rate, info.ecm, info.duration_ms),
        (2, 14_400, true, 42_000)
    );
    assert_eq!(info.remote_station_id, "+49 30 987654");
    assert!(info.complete && info.document);
    assert_eq!(
        (info.format, info.mail),
        (FaxFileFormat::Pdf, FaxMailState::Queued)
    );
    let (path, _) = inbox.document(anna, id).await.expect("document");
    assert_eq!(
        path.parent(),
        Some(f.dir().join(anna.to_string()).as_path())
    );
    let pdf = std::fs::read(&path).expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));

    let queued = f.mail.list().expect("queue");
    assert_eq!(queued.len(), 1);
    let (stored, _) = f.mail.spool.load(queued[0].id).expect("entry");
    assert_eq!(stored.kind, Kind::Fax);
    assert_eq!(stored.to.email, "fax@example.com");
    assert_eq!(stored.subject, "Neues Fax von +49 30 987654 (2 Seiten)");
    assert!(
        stored.body.contains("2026-12-04 07:30 UTC"),
        "{}",
        stored.body
    );
    assert_eq!(stored.attachments.len(), 1);
    assert_eq!(stored.attachments[0].content_type, "application/pdf");
    assert_eq!(stored.attachments[0].filename, "fax-2026-12-04-0730.pdf");
    let attached = f
        .mail
        .spool
        .attachment_path(queued[0].id, &stored.attachments[0]);
    assert_eq!(std::fs::read(attached).expect("attachment"), pdf);
    assert!(files(&f.mail.spool.incoming_dir()).is_empty());
}

#[tokio::test]
async fn a_failed_reception_is_stored_and_mailed_with_its_page_count_and_cause() {
    let f = Fixture::new().await;
    let bert = f.user("bert", "191", Some("bert@example.com"), "en").await;
    let inbox = f.open().await;
    // The link died after one page: spandsp's TIFF holds it, T.30 names the cause.
    let path = inbox.reception_path();
    let scratch = tempfile::tempdir().expect("scratch");
    std::fs::copy(make_document(scratch.path(), 1, 200), &path).expect("copy");
    let cause = "Disconnected after permitted retries";
    let rx = reception(1, 41, cause, Some(path.clone()));
    let doc = write_document(&path, DocumentFormat::Tiff, &rx, Duration::from_secs(90))
        .expect("document");
    let partial = inbox
        .deposit(doc, incoming(bert, DocumentFormat::Tiff, Some(path)))
        .await
        .expect("partial");
    // Nothing arrived at all: no document, still a row and a mail.
    // spandsp opened the TIFF but no page made it in.
    let empty = inbox.reception_path();
    std::fs::write(&empty, b"II*\0").expect("empty tiff");
    let rx = reception(0, 49, "The call dropped prematurely", Some(empty.clone()));
    let doc =
        write_document(&empty, DocumentFormat::Tiff, &rx, Duration::ZERO).expect("no document");
    let none = inbox
        .deposit(doc, incoming(bert, DocumentFormat::Tiff, Some(empty)))
        .await
        .expect("nothing");

    assert!(
        files(&f.dir().join("tmp")).is_empty(),
        "the empty TIFF is gone too"
    );
    let info = inbox.fax(bert, partial).await.expect("partial");
    assert!(!info.complete && info.document);
    assert_eq!((info.pages, info.result.as_str()), (1, cause));
    let info = inbox.fax(bert, none).await.expect("none");
    assert!(!info.complete && !info.document);
    assert!(matches!(
        inbox.document(bert, none).await,
        Err(InboxError::NotFound("document"))
    ));
    let mut mails: Vec<_> = f
        .mail
        .list()
        .expect("queue")
        .into_iter()
        .map(|s| f.mail.spool.load(s.id).expect("entry").0)
        .collect();
    mails.sort_by_key(|m| m.attachments.len());
    assert_eq!(mails.len(), 2);
    assert_eq!(
        mails[0].subject,
        "Incomplete fax from +49 30 987654 (0 pages)"
    );
    assert!(mails[0].attachments.is_empty());
    assert!(
        mails[0]
            .body
            .contains("Pages received: 0, cause: The call dropped prematurely"),
        "{}",
        mails[0].body
    );
    assert!(
        mails[1]
            .body
            .contains(&format!("Pages received: 1, cause: {cause}")),
        "{}",
        mails[1].body
    );
    assert_eq!(mails[1].attachments[0].content_type, "image/tiff");
    assert_eq!(
        mails[1].to.email, "bert@example.com",
        "no device email: the user's"
    );
}

#[tokio::test]
async fn without_any_address_the_fax_only_stays_in_the_inbox() {
    let f = Fixture::new().await;
    let carl = f.user("carl", "192", None, "en").await;
    let inbox = f.open().await;
    let id = inbox
        .deposit(
            received(&inbox, 1, DocumentFormat::Tiff),
            incoming_tmp(&inbox, carl, DocumentFormat::Tiff),
        )
        .await
        .expect("deposit");
    assert!(f.mail.list().expect("queue").is_empty());
    let info = inbox.fax(carl, id).await.expect("fax");
    assert_eq!(
        (info.mail, info.format),
        (FaxMailState::None, FaxFileFormat::Tiff)
    );
    let (path, _) = inbox.document(carl, id).await.expect("document");
    assert!(path.to_string_lossy().ends_with(".tif"));
    inbox.delete(carl, id).await.expect("delete");
    assert!(!path.exists());
    assert!(matches!(
        inbox.delete(carl, id).await,
        Err(InboxError::NotFound(_))
    ));
}

#[tokio::test]
async fn not_kept_goes_after_delivery_kept_and_failed_mails_stay() {
    let f = Fixture::new().await;
    let anna = f.user("anna", "190", Some("anna@example.com"), "en").await;
    let bert = f.user("bert", "191", Some("bert@example.com"), "en").await;
    f.device("anna", None, FaxFormat::Pdf, false).await;
    let inbox = f.open().await;
    let mut refs = Vec::new();
    for user in [anna, anna, bert] {
        let id = inbox
            .deposit(
                received(&inbox, 1, DocumentFormat::Pdf),
                incoming_tmp(&inbox, user, DocumentFormat::Pdf),
            )
            .await
            .expect("deposit");
        let (path, _) = inbox.document(user, id).await.expect("path");
        let reference = f
            .store
            .fax(user, id.0)
            .await
            .expect("row")
            .expect("there")
            .name;
        refs.push((user, id, path, reference));
    }
    let outcome = |reference: &str, delivered| MailOutcome {
        kind: Kind::Fax,
        reference: reference.into(),
        delivered,
    };
    inbox.mailed(outcome(&refs[0].3, true)).await;
    inbox.mailed(outcome(&refs[1].3, false)).await;
    inbox.mailed(outcome(&refs[2].3, true)).await;
    // A voicemail outcome with a fax's reference is not the fax's.
    inbox
        .mailed(MailOutcome {
            kind: Kind::Voicemail,
            reference: refs[1].3.clone(),
            delivered: true,
        })
        .await;
    assert!(!refs[0].2.exists(), "delivered, not kept: gone");
    assert!(matches!(
        inbox.fax(anna, refs[0].1).await,
        Err(InboxError::NotFound(_))
    ));
    assert!(refs[1].2.exists());
    assert_eq!(
        inbox.fax(anna, refs[1].1).await.expect("f").mail,
        FaxMailState::Failed
    );
    assert!(refs[2].2.exists(), "kept by default");
    assert_eq!(
        inbox.fax(bert, refs[2].1).await.expect("b").mail,
        FaxMailState::Delivered
    );
}

#[tokio::test]
async fn a_spool_failure_after_the_row_was_written_leaves_nothing() {
    let f = Fixture::new().await;
    let anna = f.user("anna", "190", Some("anna@example.com"), "de").await;
    let inbox = f.open().await;
    let spool_tmp = f.mail.spool.root().join("tmp");
    std::fs::remove_dir_all(&spool_tmp).expect("rm");
    std::fs::write(&spool_tmp, b"in the way").expect("block");
    let err = inbox
        .deposit(
            received(&inbox, 1, DocumentFormat::Pdf),
            incoming_tmp(&inbox, anna, DocumentFormat::Pdf),
        )
        .await
        .expect_err("the spool fails");
    assert!(matches!(err, InboxError::Spool(_)), "{err:?}");
    assert!(inbox.faxes(anna).await.expect("list").is_empty());
    assert!(files(&f.dir().join(anna.to_string())).is_empty());
    assert!(files(&f.dir().join("tmp")).is_empty());
    assert!(files(&f.mail.spool.incoming_dir()).is_empty());
    assert!(f.mail.list().expect("queue").is_empty());

    std::fs::remove_file(&spool_tmp).expect("unblock");
    std::fs::create_dir(&spool_tmp).expect("tmp");
    inbox
        .deposit(
            received(&inbox, 1, DocumentFormat::Pdf),
            incoming_tmp(&inbox, anna, DocumentFormat::Pdf),
        )
        .await
        .expect("deposit");
    assert_eq!(inbox.faxes(anna).await.expect("list").len(), 1);
}

#[tokio::test]
async fn a_deposit_for_a_user_that_is_gone_leaves_nothing() {
    let f = Fixture::new().await;
    let inbox = f.open().await;
    let err = inbox
        .deposit(
            received(&inbox, 1, DocumentFormat::Pdf),
            incoming_tmp(&inbox, 77, DocumentFormat::Pdf),
        )
        .await
        .expect_err("no such user");
    assert!(matches!(err, InboxError::NotFound("user")), "{err}");
    assert!(files(&f.dir().join("tmp")).is_empty());
    assert!(!f.dir().join("77").exists());
}

#[tokio::test]
async fn open_removes_what_a_crash_left_behind() {
    let f = Fixture::new().await;
    let anna = f.user("anna", "190", None, "de").await;
    let inbox = f.open().await;
    let id = inbox
        .deposit(
            received(&inbox, 1, DocumentFormat::Pdf),
            incoming_tmp(&inbox, anna, DocumentFormat::Pdf),
        )
        .await
        .expect("deposit");
    let (kept, _) = inbox.document(anna, id).await.expect("path");
    // A reception cut off by kill -9 (its pid is long gone), a document whose row was never
    // committed, and the inbox of a user deleted while stopped.
    let tmp = f.dir().join("tmp");
    std::fs::write(tmp.join("999999999.0123.tif"), b"II*\0").expect("leftover");
    std::fs::write(tmp.join("999999999.0123.pdf"), b"%PDF-").expect("leftover");
    let dir = f.dir().join(anna.to_string());
    std::fs::write(dir.join("fax-1-deadbeef.pdf"), b"%PDF-").expect("stray");
    std::fs::create_dir_all(f.dir().join("4242")).expect("gone user");
    std::fs::write(f.dir().join("4242/fax-1-0.pdf"), b"%PDF-").expect("gone user's");
    drop(inbox);

    let inbox = f.open().await;
    assert!(files(&tmp).is_empty());
    assert!(!f.dir().join("4242").exists());
    let name = kept
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    assert_eq!(files(&dir), vec![name]);
    assert_eq!(inbox.faxes(anna).await.expect("list").len(), 1);
}
