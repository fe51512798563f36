use super::*;
use crate::store::{
    ActionKind, DeviceKind, ForwardCondition, NewDevice, NewForwarding, NewUser, NewWorkplace,
    Scope, SpeedDialBody, Timing, temp_store,
};

async fn user(store: &Store, name: &str, extension: &str) {
    let new = NewUser {
        username: name.into(),
        display_name: name.into(),
        extension: Some(extension.into()),
        password: Some(crate::store::secret::Secret::new("correct horse battery")),
        ..NewUser::default()
    };
    store.create_user(new).await.expect("user");
}

async fn device(store: &Store, kind: DeviceKind, user: Option<&str>, workplace: Option<&str>) {
    let new = NewDevice {
        kind: Some(kind),
        label: Some("d".into()),
        number: (kind == DeviceKind::Mobile).then(|| "+4917012345".into()),
        user: user.map(Into::into),
        workplace: workplace.map(Into::into),
        ..NewDevice::default()
    };
    store.create_device(new).await.expect("device");
}

#[tokio::test]
async fn a_dialled_string_names_a_user_a_speed_dial_or_nothing() {
    let (_dir, store) = temp_store().await;
    user(&store, "anna", "100").await;
    let body = SpeedDialBody {
        name: "Pizza".into(),
        number: "+49301234".into(),
    };
    store.put_speed_dial("77", &body).await.expect("speed dial");
    assert_eq!(
        store.dialled("100").await.expect("100"),
        Dialled::User("anna".into())
    );
    assert_eq!(
        store.dialled("anna").await.expect("anna"),
        Dialled::User("anna".into())
    );
    assert_eq!(
        store.dialled("77").await.expect("77"),
        Dialled::SpeedDial("+49301234".into())
    );
    assert_eq!(
        store.dialled("0301234").await.expect("other"),
        Dialled::Other
    );
    let team = crate::store::NewTeam {
        name: "sales".into(),
        extension: "600".into(),
        ..Default::default()
    };
    store.create_team(&team).await.expect("team");
    assert_eq!(
        store.dialled("600").await.expect("600"),
        Dialled::Team("sales".into())
    );
}

#[tokio::test]
async fn a_user_comes_with_devices_workplace_phones_forwardings_and_actions() {
    let (_dir, store) = temp_store().await;
    user(&store, "anna", "100").await;
    user(&store, "bert", "101").await;
    let workplace = NewWorkplace {
        name: "empfang".into(),
        ..NewWorkplace::default()
    };
    store.create_workplace(workplace).await.expect("workplace");
    device(&store, DeviceKind::Softphone, Some("anna"), None).await;
    device(&store, DeviceKind::Mobile, Some("anna"), None).await;
    device(&store, DeviceKind::Softphone, None, Some("empfang")).await;
    let busy = NewForwarding {
        condition: ForwardCondition::Busy,
        target: "bert".into(),
        active: true,
    };
    store
        .add_forwarding("anna", busy)
        .await
        .expect("forwarding");
    let after = crate::store::NewAction {
        scope: Scope::External,
        timing: Timing::After,
        kind: ActionKind::Voicemail,
        target: None,
    };
    store.add_action("anna", after).await.expect("action");

    let anna = store
        .route_user("anna")
        .await
        .expect("route")
        .expect("anna");
    let kinds: Vec<DeviceKind> = anna.devices.iter().map(|d| d.kind).collect();
    assert!(kinds.contains(&DeviceKind::Softphone) && kinds.contains(&DeviceKind::Mobile));
    assert!(
        anna.devices.iter().all(|d| d.followme.is_some()),
        "FollowMe per device"
    );
    assert!(anna.workplace_devices.is_empty(), "not logged in");
    assert_eq!(anna.forwardings.len(), 1);
    assert!(anna.actions.iter().any(|a| a.kind == ActionKind::Voicemail));

    store.login("empfang", "anna").await.expect("login");
    let anna = store
        .route_user("anna")
        .await
        .expect("route")
        .expect("anna");
    assert_eq!(anna.workplace_devices.len(), 1, "mixed mode");
    assert!(store.route_user("nobody").await.expect("route").is_none());
    let at_desk = anna.workplace_devices[0].id;
    let caller = store
        .calling_user(at_desk)
        .await
        .expect("caller")
        .expect("anna");
    assert_eq!(
        (caller.username.as_str(), caller.number.as_deref()),
        ("anna", Some("100"))
    );
}
