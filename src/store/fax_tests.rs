use super::*;
use crate::store::{FaxFormat, FaxSettings, NewUser, temp_store};

async fn user(store: &Store, name: &str, email: Option<&str>) -> i64 {
    let new = NewUser {
        username: name.into(),
        display_name: name.into(),
        email: email.map(Into::into),
        fax_extension: Some(format!("19{}", name.as_bytes()[0] % 10)),
        password: Some(crate::store::secret::Secret::new("correct horse battery")),
        ..NewUser::default()
    };
    store.create_user(new).await.expect("user");
    store.user_id(name).await.expect("id")
}

fn fax(user: i64, name: &str, file: Option<&str>) -> NewFax {
    NewFax {
        user,
        name: name.into(),
        file: file.map(Into::into),
        format: "pdf",
        caller_number: "+4930123456".into(),
        remote_id: "+49 30 123456".into(),
        pages: 3,
        bit_rate: 14_400,
        ecm: true,
        duration_ms: 61_000,
        completion_code: 0,
        result: "OK".into(),
        received_at: UnixTime::from_secs(1_796_369_400),
        mail_queued: true,
    }
}

async fn store_fax(store: &Store, new: &NewFax) -> i64 {
    let pending = store.begin_fax(new).await.expect("insert");
    let id = pending.id;
    pending.commit().await.expect("commit");
    id
}

async fn device(store: &Store, name: &str, email: Option<&str>, keep: bool) {
    let mut s = store.fax_settings(name).await.expect("device");
    s.email = email.map(Into::into);
    s.keep_faxes = keep;
    store.set_fax_settings(name, s).await.expect("settings");
}

#[tokio::test]
async fn a_fax_row_is_listed_with_its_metadata_and_deleted_with_its_file() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    let first = store_fax(&store, &fax(anna, "fax-1-a", Some("fax-1-a.pdf"))).await;
    let mut failed = fax(anna, "fax-2-b", None);
    failed.completion_code = 49;
    failed.pages = 0;
    failed.received_at = UnixTime::from_secs(1_796_369_500);
    let second = store_fax(&store, &failed).await;
    let rows = store.faxes(anna).await.expect("list");
    assert_eq!(
        rows.iter().map(|r| r.id).collect::<Vec<_>>(),
        vec![second, first],
        "newest first"
    );
    let row = store.fax(anna, first).await.expect("row").expect("there");
    assert_eq!(
        (row.pages, row.bit_rate, row.ecm, row.remote_id.as_str()),
        (3, 14_400, true, "+49 30 123456")
    );
    assert_eq!(row.mail, "queued");
    assert_eq!(
        store.fax_files(anna).await.expect("files"),
        vec!["fax-1-a.pdf".to_owned()]
    );
    assert_eq!(store.fax(anna + 1, first).await.expect("other"), None);
    assert_eq!(
        store.delete_fax_message(anna, first).await.expect("delete"),
        Some(Some("fax-1-a.pdf".into()))
    );
    assert_eq!(
        store
            .delete_fax_message(anna, second)
            .await
            .expect("delete"),
        Some(None)
    );
    assert_eq!(
        store.delete_fax_message(anna, first).await.expect("again"),
        None
    );
}

#[tokio::test]
async fn an_uncommitted_fax_leaves_no_row() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    let pending = store
        .begin_fax(&fax(anna, "fax-1-a", Some("fax-1-a.pdf")))
        .await
        .expect("insert");
    drop(pending);
    assert!(store.faxes(anna).await.expect("list").is_empty());
}

#[tokio::test]
async fn the_device_email_wins_over_the_user_s_and_blank_is_none() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", Some("anna@example.com")).await;
    let to = store.fax_recipient(anna).await.expect("r").expect("user");
    assert_eq!(to.email.as_deref(), Some("anna@example.com"));
    assert!(to.keep, "kept unless the device says otherwise");
    device(&store, "anna", Some("fax@example.com"), false).await;
    let to = store.fax_recipient(anna).await.expect("r").expect("user");
    assert_eq!(to.email.as_deref(), Some("fax@example.com"));
    assert!(!to.keep);
    let bert = user(&store, "bert", None).await;
    let to = store.fax_recipient(bert).await.expect("r").expect("user");
    assert_eq!(to.email, None, "no address anywhere: no mail");
    assert_eq!(store.fax_recipient(4242).await.expect("r"), None);
}

#[tokio::test]
async fn delivered_and_not_kept_goes_kept_or_failed_is_recorded() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    let bert = user(&store, "bert", None).await;
    device(&store, "anna", None, false).await;
    let a = store_fax(&store, &fax(anna, "a", Some("a.pdf"))).await;
    let failed = store_fax(&store, &fax(anna, "f", Some("f.pdf"))).await;
    let b = store_fax(&store, &fax(bert, "b", Some("b.pdf"))).await;
    assert_eq!(
        store.fax_mailed("a", true).await.expect("a"),
        Some((anna, Some("a.pdf".into())))
    );
    assert_eq!(store.fax(anna, a).await.expect("a"), None);
    assert_eq!(store.fax_mailed("f", false).await.expect("f"), None);
    let row = store.fax(anna, failed).await.expect("f").expect("stays");
    assert_eq!(row.mail, "failed");
    assert_eq!(store.fax_mailed("b", true).await.expect("b"), None);
    let row = store.fax(bert, b).await.expect("b").expect("kept");
    assert_eq!(row.mail, "delivered");
    assert_eq!(store.fax_mailed("nothing", true).await.expect("none"), None);
    let settings: FaxSettings = store.fax_settings("bert").await.expect("bert");
    assert!(settings.keep_faxes);
    assert_eq!(settings.format, FaxFormat::Pdf);
}

#[tokio::test]
async fn a_user_s_faxes_go_with_the_user() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    store_fax(&store, &fax(anna, "a", Some("a.pdf"))).await;
    store.delete_user("anna").await.expect("delete");
    assert!(store.faxes(anna).await.expect("list").is_empty());
}
