use super::*;
use crate::store::changes::{Entity, Since};
use crate::store::{
    Device, DeviceKind, NewDevice, NewUser, NewWorkplace, VoicemailSettings, temp_store,
};

async fn user(store: &Store, name: &str, extension: &str) -> i64 {
    let new = NewUser {
        username: name.into(),
        display_name: name.into(),
        extension: Some(extension.into()),
        password: Some(crate::store::secret::Secret::new("correct horse battery")),
        ..NewUser::default()
    };
    store.create_user(new).await.expect("user");
    let (id,): (i64,) = sqlx::query_as("SELECT id FROM users WHERE username = $1")
        .bind(name)
        .fetch_one(&store.read)
        .await
        .expect("id");
    id
}

async fn phone(store: &Store, user: Option<&str>, workplace: Option<&str>) -> Device {
    let new = NewDevice {
        kind: Some(DeviceKind::Softphone),
        label: Some("phone".into()),
        user: user.map(Into::into),
        workplace: workplace.map(Into::into),
        ..NewDevice::default()
    };
    store.create_device(new).await.expect("device")
}

#[tokio::test]
async fn a_box_is_seen_by_its_owner_s_phones_and_by_whoever_monitors_it() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", "100").await;
    let bert = user(&store, "bert", "101").await;
    user(&store, "carl", "102").await;
    let workplace = NewWorkplace {
        name: "empfang".into(),
        ..NewWorkplace::default()
    };
    store.create_workplace(workplace).await.expect("workplace");
    let a = phone(&store, Some("anna"), None).await;
    let b = phone(&store, Some("bert"), None).await;
    let c = phone(&store, Some("carl"), None).await;
    let w = phone(&store, None, Some("empfang")).await;
    let monitors = VoicemailSettings {
        keep_messages: false,
        email: None,
        monitored_mailbox: Some("anna".into()),
    };
    store
        .set_voicemail_settings("carl", monitors)
        .await
        .expect("monitor");
    store.login("empfang", "anna").await.expect("login");

    let state = store
        .mailbox_state(anna)
        .await
        .expect("state")
        .expect("anna");
    assert_eq!(state.devices, vec![a.id, c.id, w.id]);
    assert_eq!(
        (state.account.as_str(), state.new, state.old),
        ("100", 0, 0)
    );

    let granted = |user| MailboxAccess::Granted {
        user,
        own: false,
        new: 0,
        old: 0,
    };
    let own = |user| MailboxAccess::Granted {
        user,
        own: true,
        new: 0,
        old: 0,
    };
    let access = |device: i64, target: String| {
        let store = store.clone();
        async move { store.mailbox_access(device, &target).await.expect("access") }
    };
    assert_eq!(access(a.id, a.sip_username.clone()).await, own(Some(anna)));
    assert_eq!(access(a.id, "100".into()).await, granted(Some(anna)));
    assert_eq!(
        access(c.id, "100".into()).await,
        granted(Some(anna)),
        "monitors"
    );
    assert_eq!(access(w.id, w.sip_username.clone()).await, own(Some(anna)));
    assert_eq!(access(b.id, "100".into()).await, MailboxAccess::Forbidden);
    assert_eq!(access(b.id, "101".into()).await, granted(Some(bert)));
    assert_eq!(access(b.id, "999".into()).await, MailboxAccess::Unknown);
    store.set_mailbox_counts(anna, 4, 0).await.expect("counts");
    let (wid,): (i64,) = sqlx::query_as("SELECT id FROM workplaces WHERE name = 'empfang'")
        .fetch_one(&store.read)
        .await
        .expect("workplace");
    let shown = store.workplace_mailboxes(&[wid]).await.expect("shown");
    assert_eq!(shown.len(), 1);
    assert_eq!((shown[0].device, shown[0].user_id), (w.id, Some(anna)));
    assert_eq!(
        (shown[0].account.as_deref(), shown[0].new_messages),
        (Some("100"), 4)
    );
    store.logout("empfang").await.expect("logout");
    assert_eq!(access(w.id, w.sip_username.clone()).await, own(None));
    let shown = store.workplace_mailboxes(&[wid]).await.expect("shown");
    assert_eq!((shown[0].user_id, shown[0].new_messages), (None, 0));
}

#[tokio::test]
async fn counts_are_kept_and_every_change_is_in_the_feed() {
    let (_dir, store) = temp_store().await;
    let anna = user(&store, "anna", "100").await;
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (0, 0));
    let before = store.generation();
    store.set_mailbox_counts(anna, 2, 5).await.expect("set");
    store.set_mailbox_counts(anna, 1, 6).await.expect("set");
    assert_eq!(store.mailbox_counts(anna).await.expect("counts"), (1, 6));
    let Since::Changes(list) = store.changes_since(before).await.expect("feed") else {
        panic!("lagged");
    };
    // (The user's own creation may still be in the window: the pool marks it in a task.)
    let seen: Vec<(Entity, i64)> = list.iter().map(|c| (c.entity, c.id)).collect();
    assert!(seen.ends_with(&[(Entity::Mailbox, anna); 2]), "{seen:?}");
    assert_eq!(seen.iter().filter(|c| c.0 == Entity::Mailbox).count(), 2);
}
