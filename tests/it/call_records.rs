//! Call records over real HTTP. The records are written into the daemon's store from this
//! process with the library's `record_call`, as the SIP service writes them when a call ends;
//! the daemon pages through them.

use serde_json::{Value, json};

use crate::harness::Daemon;
use zentrale::clock::UnixTime;
use zentrale::store::{ActionKind, CallClass, CallOutcome, NewCall, Store, StoreOptions};

/// Records `n` calls, one second apart, into the daemon's store; returns their ids.
fn record(d: &Daemon, n: i64) -> Vec<i64> {
    let db = d.dir.path().join("data/zentrale.db");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let store = Store::open(&StoreOptions {
            url: format!("sqlite://{}", db.display()),
            default_language: "de".into(),
            enrollment_window_hours: 24,
        })
        .await
        .expect("store");
        let mut ids = Vec::new();
        for i in 0..n {
            let call = NewCall {
                started_at: UnixTime::from_secs(1_800_000_000 + i),
                answered_at: None,
                ended_at: UnixTime::from_secs(1_800_000_030 + i),
                caller_number: format!("+49301234{i}"),
                caller_name: Some("ACME".into()),
                callee: "100".into(),
                class: CallClass::External,
                answered_by: None,
                outcome: CallOutcome::NoAnswer,
                after_action: Some(ActionKind::Voicemail),
            };
            ids.push(store.record_call(&call).await.expect("record"));
        }
        store.close().await;
        ids
    })
}

#[test]
fn calls_page_newest_first_to_the_last_page() {
    let d = Daemon::start();
    let (status, empty) = d.call("GET", "/api/v1/calls", None);
    assert_eq!(status, 200, "{empty}");
    assert_eq!(empty, json!({"calls": [], "next_before": null}));
    let mut ids = record(&d, 5);
    ids.reverse();
    let mut seen = Vec::new();
    let mut path = "/api/v1/calls?limit=2".to_owned();
    loop {
        let (status, page) = d.call("GET", &path, None);
        assert_eq!(status, 200, "{page}");
        let calls = page["calls"].as_array().expect("calls");
        assert!(calls.len() <= 2, "{page}");
        seen.extend(calls.iter().map(|c| c["id"].as_i64().expect("id")));
        match page["next_before"].as_i64() {
            Some(next) => path = format!("/api/v1/calls?limit=2&before={next}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let (_, page) = d.call("GET", "/api/v1/calls?limit=1", None);
    let newest = &page["calls"][0];
    assert_eq!(newest["class"], "external");
    assert_eq!(newest["outcome"], "no-answer");
    assert_eq!(newest["after_action"], "voicemail");
    assert_eq!(newest["caller_number"], "+493012344");
    assert_eq!(newest["started_at"], 1_800_000_004);
    assert_eq!(newest["answered_at"], Value::Null);
}

#[test]
fn bad_paging_is_a_clear_422() {
    let d = Daemon::start();
    for query in ["limit=0", "limit=1001", "limit=ten", "before=x", "page=2"] {
        let (status, err) = d.call("GET", &format!("/api/v1/calls?{query}"), None);
        assert_eq!(status, 422, "{query}: {err}");
        assert!(
            err["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{err}"
        );
    }
    let (_, err) = d.call("GET", "/api/v1/calls?limit=0", None);
    assert_eq!(err["field"], "limit");
}
