use super::*;
use crate::store::changes::{Entity, Since};
use crate::store::{NewUser, VoicemailSettings, temp_store};

async fn user(store: &Store, name: &str, email: Option<&str>) -> i64 {
    let new = NewUser {
        username: name.into(),
        display_name: name.into(),
        email: email.map(Into::into),
        password: Some(crate::store::secret::Secret::new("correct horse battery")),
        ..NewUser::default()
    };
    store.create_user(new).await.expect("user");
    store.user_id(name).await.expect("id")
}

fn message(user: i64, file: &str) -> NewVoicemail {
    NewVoicemail {
        user,
        file: file.into(),
        caller_number: "+4930123456".into(),
        caller_name: "Jörg".into(),
        reason: "unavailable",
        received_at: UnixTime::from_secs(1_796_369_400),
        duration_ms: 4_200,
        mail_queued: true,
    }
}

async fn store_message(store: &Store, user: i64, file: &str) -> i64 {
    let pending = store
        .begin_voicemail(&message(user, file))
        .await
        .expect("insert");
    let id = pending.id;
    pending.commit().await.expect("commit");
    id
}

async fn keep(store: &Store, name: &str, keep: bool) {
    let settings = VoicemailSettings {
        keep_messages: keep,
        email: None,
        monitored_mailbox: None,
    };
    store
        .set_voicemail_settings(name, settings)
        .await
        .expect("settings");
}

#[tokio::test]
async fn counts_follow_every_change_to_the_messages() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (0, 0));
    let first = store_message(&store, anna, "a.wav").await;
    let second = store_message(&store, anna, "b.wav").await;
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (2, 0));
    assert!(
        store
            .set_voicemail_heard(anna, first, true)
            .await
            .expect("heard")
    );
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (1, 1));
    assert!(
        store
            .set_voicemail_heard(anna, first, false)
            .await
            .expect("new again")
    );
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (2, 0));
    let file = store.delete_voicemail(anna, second).await.expect("delete");
    assert_eq!(file.as_deref(), Some("b.wav"));
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (1, 0));
    assert_eq!(
        store.delete_voicemail(anna, second).await.expect("again"),
        None
    );
    assert!(
        !store
            .set_voicemail_heard(anna, 999, true)
            .await
            .expect("no such")
    );
    let rows = store.voicemail_messages(anna).await.expect("list");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, first);
    assert_eq!(rows[0].duration_ms, 4_200);
}

#[tokio::test]
async fn an_uncommitted_message_leaves_neither_row_nor_counts() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    let pending = store
        .begin_voicemail(&message(anna, "a.wav"))
        .await
        .expect("insert");
    drop(pending);
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (0, 0));
    assert!(
        store
            .voicemail_messages(anna)
            .await
            .expect("list")
            .is_empty()
    );
}

#[tokio::test]
async fn a_count_change_is_logged_for_the_sip_side() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    let before = store.generation();
    store_message(&store, anna, "a.wav").await;
    store.catch_up().await.expect("catch up");
    let Since::Changes(changes) = store.changes_since(before).await.expect("changes") else {
        panic!("lagged");
    };
    assert!(
        changes
            .iter()
            .any(|c| c.entity == Entity::Mailbox && c.id == anna),
        "{changes:?}"
    );
}

#[tokio::test]
async fn delivered_mail_deletes_only_from_a_box_that_does_not_keep() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    let bert = user(&store, "bert", None).await;
    keep(&store, "anna", false).await;
    keep(&store, "bert", true).await;
    store_message(&store, anna, "a.wav").await;
    let kept = store_message(&store, bert, "b.wav").await;
    let gone = store.voicemail_mailed("a.wav", true).await.expect("mailed");
    assert_eq!(gone, Some((anna, "a.wav".to_owned())));
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (0, 0));
    assert_eq!(
        store.voicemail_mailed("b.wav", true).await.expect("mailed"),
        None
    );
    let row = store.voicemail_message(bert, kept).await.expect("row");
    assert_eq!(row.expect("kept").mail, "delivered");
    assert_eq!(store.mailbox_counts(bert).await.expect("counts"), (1, 0));
}

#[tokio::test]
async fn failed_mail_keeps_the_message_even_when_the_box_does_not_keep() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    keep(&store, "anna", false).await;
    let id = store_message(&store, anna, "a.wav").await;
    assert_eq!(
        store
            .voicemail_mailed("a.wav", false)
            .await
            .expect("failed"),
        None
    );
    let row = store.voicemail_message(anna, id).await.expect("row");
    assert_eq!(row.expect("kept").mail, "failed");
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (1, 0));
}

#[tokio::test]
async fn the_box_address_wins_over_the_user_s() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", Some("anna@example.com")).await;
    let r = store
        .voicemail_recipient(anna)
        .await
        .expect("r")
        .expect("anna");
    assert_eq!(r.email.as_deref(), Some("anna@example.com"));
    let settings = VoicemailSettings {
        keep_messages: true,
        email: Some("vm@example.com".into()),
        monitored_mailbox: None,
    };
    store
        .set_voicemail_settings("anna", settings)
        .await
        .expect("settings");
    let r = store
        .voicemail_recipient(anna)
        .await
        .expect("r")
        .expect("anna");
    assert_eq!(r.email.as_deref(), Some("vm@example.com"));
    assert!(r.keep);
    let bert = user(&store, "bert", None).await;
    let r = store
        .voicemail_recipient(bert)
        .await
        .expect("r")
        .expect("bert");
    assert_eq!(r.email, None);
}

#[tokio::test]
async fn deleting_a_user_removes_their_messages() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", None).await;
    store_message(&store, anna, "a.wav").await;
    store.delete_user("anna").await.expect("delete");
    assert!(!store.user_exists(anna).await.expect("exists"));
    assert!(store.voicemail_files(anna).await.expect("files").is_empty());
}
