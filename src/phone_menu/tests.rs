//! The flow against a real store in a temporary directory (no templates needed), the way the
//! HTTP layer calls it.

use std::net::IpAddr;

use super::*;
use crate::store::secret::Secret;
use crate::store::{NewDevice, NewUser, NewWorkplace, Vendor};

struct Site {
    _dir: tempfile::TempDir,
    store: Store,
    menu: PhoneMenu,
}

async fn site(extra: &str) -> Site {
    let (dir, store) = crate::store::temp_store().await;
    let config = Config::parse(extra).expect("config");
    let menu = PhoneMenu::new(&config, store.clone(), Guard::new(&config.menu));
    Site {
        _dir: dir,
        store,
        menu,
    }
}

async fn user(s: &Site, name: &str, ext: &str, pin: &str) {
    let new = NewUser {
        username: name.into(),
        display_name: format!("{name} Schmidt"),
        extension: Some(ext.into()),
        pin: Some(Secret::new(pin)),
        auth: Some(crate::store::Auth::None),
        ..NewUser::default()
    };
    s.store.create_user(new).await.expect("user");
}

/// A workplace with one phone of `vendor`; returns the phone's menu token.
async fn workplace_phone(s: &Site, name: &str, vendor: Vendor, mac: &str) -> String {
    let _ = s
        .store
        .create_workplace(NewWorkplace {
            name: name.into(),
            ..NewWorkplace::default()
        })
        .await;
    let dev = NewDevice {
        kind: Some(crate::store::DeviceKind::IpPhone),
        mac: Some(mac.into()),
        vendor: Some(vendor),
        workplace: Some(name.into()),
        ..NewDevice::default()
    };
    let id = s.store.create_device(dev).await.expect("device").id;
    let data = s.store.provisioning_data().await.expect("data");
    data.devices
        .iter()
        .find(|d| d.id == id)
        .expect("listed")
        .token
        .clone()
}

fn peer() -> IpAddr {
    IpAddr::from([127, 0, 0, 9])
}

async fn get(
    s: &Site,
    token: &str,
    path: &str,
    query: &[(&str, &str)],
) -> Result<Reply, MenuError> {
    let req = Request {
        token,
        path: path.split('/').filter(|p| !p.is_empty()).collect(),
        query: query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        peer: peer(),
        base: "http://pbx".into(),
    };
    s.menu.handle(&req).await
}

async fn body(s: &Site, token: &str, path: &str, query: &[(&str, &str)]) -> String {
    get(s, token, path, query).await.expect("reply").body
}

#[tokio::test]
async fn login_by_extension_and_pin_moves_the_user_to_the_workplace() {
    let s = site("").await;
    user(&s, "anna", "100", "4711").await;
    let token = workplace_phone(&s, "empfang", Vendor::Yealink, "001565aabbcc").await;
    assert!(
        body(&s, &token, "", &[])
            .await
            .contains("<Prompt>Anmelden</Prompt>")
    );
    let ext = body(&s, &token, "login", &[]).await;
    assert!(ext.contains("<Parameter>ext</Parameter>") && ext.contains("password=\"no\""));
    let pin = body(&s, &token, "login/pin", &[("ext", "100")]).await;
    assert!(
        pin.contains("password=\"yes\"") && pin.contains("/login/100/submit</URL>"),
        "{pin}"
    );

    let done = body(&s, &token, "login/100/submit", &[("pin", "4711")]).await;
    assert!(done.contains("Angemeldet: anna Schmidt"), "{done}");
    let w = s.store.workplace("empfang").await.expect("workplace");
    assert_eq!(w.current_user.as_deref(), Some("anna"));
    assert_eq!(s.store.resync_pending().await.expect("resync").len(), 1);
    assert!(
        body(&s, &token, "status", &[])
            .await
            .contains("anna Schmidt seit")
    );

    assert!(body(&s, &token, "logout", &[]).await.contains("Abgemeldet"));
    assert_eq!(
        s.store.workplace("empfang").await.expect("w").current_user,
        None
    );
}

#[tokio::test]
async fn wrong_pin_and_unknown_extension_look_the_same() {
    let s = site("").await;
    user(&s, "anna", "100", "4711").await;
    let token = workplace_phone(&s, "empfang", Vendor::Snom, "000413aabbcc").await;
    let wrong = body(&s, &token, "login/100/submit", &[("pin", "0000")]).await;
    let unknown = body(&s, &token, "login/999/submit", &[("pin", "0000")]).await;
    assert_eq!(wrong, unknown);
    assert!(wrong.contains("Durchwahl oder PIN falsch"));
    assert_eq!(
        s.store.workplace("empfang").await.expect("w").current_user,
        None
    );
}

#[tokio::test]
async fn a_right_pin_during_lockout_is_refused_without_checking_it() {
    let s = site("").await;
    user(&s, "anna", "100", "4711").await;
    let token = workplace_phone(&s, "empfang", Vendor::Cisco, "00cafe000001").await;
    for _ in 0..3 {
        body(&s, &token, "login/100/submit", &[("pin", "1111")]).await;
    }
    let locked = body(&s, &token, "login/100/submit", &[("pin", "4711")]).await;
    assert!(locked.contains("Zu viele Versuche"), "{locked}");
    assert_eq!(s.menu.evaluated(), 3, "the right PIN was not even checked");
    assert_eq!(
        s.store.workplace("empfang").await.expect("w").current_user,
        None
    );
    let list = s.menu.inner.guard.list();
    assert_eq!(
        (list[0].kind.as_str(), list[0].key.as_str()),
        ("extension", "100")
    );
    assert!(s.menu.inner.guard.clear(&Subject::Extension("100".into())));
    assert!(
        body(&s, &token, "login/100/submit", &[("pin", "4711")])
            .await
            .contains("Angemeldet")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_guesses_from_one_phone_evaluate_only_ten() {
    let s = site("").await;
    let token = workplace_phone(&s, "empfang", Vendor::Grandstream, "000b82aabbcc").await;
    let s = std::sync::Arc::new(s);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..10_000u32 {
        let (s, token) = (s.clone(), token.clone());
        tasks.spawn(async move {
            let ext = format!("{}", 10_000 + i);
            get(
                &s,
                &token,
                &format!("login/{ext}/submit"),
                &[("pin", "1234")],
            )
            .await
            .map(|r| r.body)
        });
    }
    let mut locked = 0;
    while let Some(r) = tasks.join_next().await {
        let body = r.expect("task").expect("reply");
        assert!(roxmltree::Document::parse(&body).is_ok());
        locked += usize::from(body.contains("Zu viele Versuche"));
    }
    assert_eq!(s.menu.evaluated(), 10);
    assert_eq!(locked, 9_990);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_users_logging_in_at_once_leave_one_of_them_there() {
    let s = site("").await;
    user(&s, "anna", "100", "4711").await;
    user(&s, "bert", "101", "4712").await;
    let token = workplace_phone(&s, "empfang", Vendor::Poly, "0004f2aabbcc").await;
    let (a, b) = tokio::join!(
        get(&s, &token, "login/100/submit", &[("pin", "4711")]),
        get(&s, &token, "login/101/submit", &[("pin", "4712")]),
    );
    assert!(a.expect("a").body.contains("Angemeldet") && b.expect("b").body.contains("Angemeldet"));
    let w = s.store.workplace("empfang").await.expect("w");
    let winner = w.current_user.expect("someone is there");
    let loser = if winner == "anna" { "bert" } else { "anna" };
    assert_eq!(
        s.store
            .user(&winner)
            .await
            .expect("u")
            .phone_status
            .workplace
            .as_deref(),
        Some("empfang")
    );
    assert_eq!(
        s.store.user(loser).await.expect("u").phone_status.workplace,
        None
    );
}

#[tokio::test]
async fn restricted_workplaces_say_so_only_after_the_right_pin() {
    let s = site("").await;
    user(&s, "anna", "100", "4711").await;
    user(&s, "bert", "101", "4712").await;
    let new = NewWorkplace {
        name: "chef".into(),
        allowed_users: vec!["bert".into()],
        ..NewWorkplace::default()
    };
    s.store.create_workplace(new).await.expect("workplace");
    let token = workplace_phone(&s, "chef", Vendor::Fanvil, "0c383eaabbcc").await;
    let no = body(&s, &token, "login/100/submit", &[("pin", "4711")]).await;
    assert!(no.contains("nicht anmelden"), "{no}");
    let wrong = body(&s, &token, "login/100/submit", &[("pin", "0000")]).await;
    assert!(wrong.contains("PIN falsch"));
}

#[tokio::test]
async fn unknown_tokens_and_foreign_networks_are_refused() {
    let s = site("[provisioning]\nallowed_networks = [\"10.0.0.0/8\"]\n").await;
    let token = workplace_phone(&s, "empfang", Vendor::Yealink, "001565aabbcd").await;
    assert!(matches!(
        get(&s, &token, "", &[]).await,
        Err(MenuError::Forbidden)
    ));
    let open = site("").await;
    assert!(matches!(
        get(&open, &"0".repeat(32), "", &[]).await,
        Err(MenuError::UnknownToken)
    ));
    assert!(matches!(
        get(&open, "../../etc", "", &[]).await,
        Err(MenuError::UnknownToken)
    ));
}
