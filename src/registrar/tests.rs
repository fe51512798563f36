use super::*;

const T0: UnixTime = UnixTime::from_secs(1_800_000_000);

fn at(secs: i64) -> UnixTime {
    UnixTime::from_secs(T0.secs() + secs)
}

fn origin(call_id: &str, cseq: u32) -> Origin {
    Origin {
        transport: "udp".into(),
        source: "192.0.2.10:5060".into(),
        local: "192.0.2.1".into(),
        user_agent: Some("Yealink SIP-T54W".into()),
        call_id: call_id.into(),
        cseq,
    }
}

fn contact(host: &str, expires: Option<u32>) -> Update {
    Update {
        contact: format!("<sip:100@{host};transport=udp>"),
        key: format!("sip:100@{host}"),
        expires,
        q: None,
    }
}

fn register(r: &mut Registrar, updates: Vec<Update>, cseq: u32, now: UnixTime) -> Vec<Binding> {
    r.register(7, Request::Contacts(updates), &origin("c1", cseq), now)
        .expect("registered")
}

#[test]
fn a_binding_lives_for_its_granted_time_and_is_written_behind() {
    let mut r = Registrar::new(RegistrarLimits::default());
    let list = register(&mut r, vec![contact("192.0.2.10", Some(600))], 1, T0);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].remaining(T0), 600);
    assert_eq!(r.poll_event(), Some(Event::Reachable { device: 7 }));
    assert!(matches!(r.poll_writes().as_slice(), [Write::Upsert(b)] if b.expires_at == at(600)));
    assert_eq!(r.poll_timeout(), Some(at(600)));

    r.handle_timeout(at(599));
    assert_eq!(r.bindings(7).len(), 1);
    r.handle_timeout(at(600));
    assert!(r.bindings(7).is_empty());
    assert_eq!(r.poll_event(), Some(Event::Unreachable { device: 7 }));
    assert_eq!(
        r.poll_writes(),
        vec![Write::Remove {
            device: 7,
            contact: "<sip:100@192.0.2.10;transport=udp>".into()
        }]
    );
    assert_eq!(r.poll_timeout(), None);
}

#[test]
fn expiry_is_bounded_by_the_limits() {
    let mut r = Registrar::new(RegistrarLimits::default());
    assert_eq!(
        r.register(
            7,
            Request::Contacts(vec![contact("a", Some(59))]),
            &origin("c", 1),
            T0
        ),
        Err(RegisterError::TooBrief { min_expires: 60 })
    );
    assert!(r.poll_writes().is_empty(), "nothing changed");
    let list = register(&mut r, vec![contact("a", Some(86_400))], 2, T0);
    assert_eq!(list[0].remaining(T0), 3600, "clamped to max_expires");
    let list = register(&mut r, vec![contact("b", None)], 3, T0);
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|b| b.remaining(T0) == 3600), "default");
}

#[test]
fn a_refresh_replaces_and_expires_zero_removes_one_contact() {
    let mut r = Registrar::new(RegistrarLimits::default());
    register(
        &mut r,
        vec![contact("a", Some(600)), contact("b", Some(600))],
        1,
        T0,
    );
    let list = register(&mut r, vec![contact("a", Some(1200))], 2, at(100));
    assert_eq!(list.len(), 2);
    assert_eq!(r.poll_timeout(), Some(at(600)), "b first");
    let list = register(&mut r, vec![contact("b", Some(0))], 3, at(200));
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].key, "sip:100@a");
    assert_eq!(r.poll_timeout(), Some(at(1300)));
    assert_eq!(r.poll_event(), Some(Event::Reachable { device: 7 }));
    assert_eq!(r.poll_event(), None, "still reachable through a");
}

#[test]
fn an_old_request_of_the_same_call_id_changes_nothing() {
    let mut r = Registrar::new(RegistrarLimits::default());
    register(&mut r, vec![contact("a", Some(600))], 5, T0);
    r.poll_writes();
    assert_eq!(
        r.register(
            7,
            Request::Contacts(vec![contact("a", Some(0))]),
            &origin("c1", 5),
            T0
        ),
        Err(RegisterError::OutOfOrder)
    );
    // Another Call-ID (the phone rebooted) may do anything.
    let list = r
        .register(
            7,
            Request::Contacts(vec![contact("a", Some(0))]),
            &origin("c2", 1),
            T0,
        )
        .expect("removed");
    assert!(list.is_empty());
}

#[test]
fn the_wildcard_removes_every_binding_of_the_device_only() {
    let mut r = Registrar::new(RegistrarLimits::default());
    register(
        &mut r,
        vec![contact("a", Some(600)), contact("b", Some(600))],
        1,
        T0,
    );
    r.register(
        8,
        Request::Contacts(vec![contact("c", Some(600))]),
        &origin("x", 1),
        T0,
    )
    .expect("other device");
    let list = r
        .register(7, Request::RemoveAll, &origin("c1", 2), T0)
        .expect("removed");
    assert!(list.is_empty());
    assert_eq!(r.len(), 1);
    assert_eq!(r.bindings(8).len(), 1);
    let removed = r
        .poll_writes()
        .into_iter()
        .filter(|w| matches!(w, Write::Remove { device: 7, .. }))
        .count();
    assert_eq!(removed, 2);
}

#[test]
fn tables_are_bounded() {
    let limits = RegistrarLimits {
        max_contacts_per_device: 2,
        max_bindings: 3,
        ..RegistrarLimits::default()
    };
    let mut r = Registrar::new(limits);
    register(&mut r, vec![contact("a", None), contact("b", None)], 1, T0);
    assert_eq!(
        r.register(
            7,
            Request::Contacts(vec![contact("c", None)]),
            &origin("c1", 2),
            T0
        ),
        Err(RegisterError::Full)
    );
    // A refresh of a known contact still works at the cap.
    register(&mut r, vec![contact("a", None)], 3, T0);
    r.register(
        8,
        Request::Contacts(vec![contact("d", None)]),
        &origin("x", 1),
        T0,
    )
    .expect("third binding");
    assert_eq!(
        r.register(
            9,
            Request::Contacts(vec![contact("e", None)]),
            &origin("y", 1),
            T0
        ),
        Err(RegisterError::Full)
    );
}

#[test]
fn a_removed_device_loses_its_bindings_at_once() {
    let mut r = Registrar::new(RegistrarLimits::default());
    register(&mut r, vec![contact("a", None)], 1, T0);
    r.poll_event();
    r.remove_device(7);
    assert!(r.bindings(7).is_empty());
    assert_eq!(r.poll_event(), Some(Event::Unreachable { device: 7 }));
    assert_eq!(r.poll_timeout(), None);
}

#[test]
fn a_thirty_day_old_table_expires_in_microseconds() {
    let mut r = Registrar::new(RegistrarLimits::default());
    for device in 0..1000 {
        r.register(
            device,
            Request::Contacts(vec![contact("a", None)]),
            &origin("c", 1),
            T0,
        )
        .expect("registered");
    }
    r.handle_timeout(at(30 * 86_400));
    assert!(r.is_empty());
    assert_eq!(r.poll_writes().len(), 2000, "1000 upserts, 1000 removals");
}
