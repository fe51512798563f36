use super::*;
use crate::store::temp_store;

fn call(started: i64) -> NewCall {
    NewCall {
        started_at: UnixTime::from_secs(started),
        answered_at: Some(UnixTime::from_secs(started + 3)),
        ended_at: UnixTime::from_secs(started + 60),
        caller_number: "+4930123456".into(),
        caller_name: Some("ACME".into()),
        callee: "100".into(),
        class: CallClass::External,
        answered_by: Some(7),
        outcome: CallOutcome::Answered,
        after_action: None,
    }
}

#[tokio::test]
async fn records_page_newest_first_without_gaps_or_repeats() {
    let (_dir, store) = temp_store().await;
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(store.record_call(&call(1_000 + i)).await.expect("record"));
    }
    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let page = store.calls(Some(3), before).await.expect("page");
        pages += 1;
        assert!(page.calls.len() <= 3);
        seen.extend(page.calls.iter().map(|c| c.id));
        match page.next_before {
            Some(next) => before = Some(next),
            None => break,
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    assert_eq!(pages, 3);
    let first = store.calls(None, None).await.expect("all");
    assert_eq!(first.next_before, None);
    let newest = &first.calls[0];
    assert_eq!(newest.started_at, UnixTime::from_secs(1_006));
    assert_eq!(newest.class, CallClass::External);
    assert_eq!(newest.outcome, CallOutcome::Answered);
    assert_eq!(newest.answered_by, Some(7));
    assert_eq!(newest.caller_name.as_deref(), Some("ACME"));
}

#[tokio::test]
async fn bad_limits_and_impossible_times_are_refused() {
    let (_dir, store) = temp_store().await;
    for limit in [0, MAX_PAGE + 1] {
        match store.calls(Some(limit), None).await {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "limit"),
            other => panic!("{limit}: {other:?}"),
        }
    }
    let ended_early = NewCall {
        ended_at: UnixTime::from_secs(999),
        ..call(1_000)
    };
    let answered_late = NewCall {
        answered_at: Some(UnixTime::from_secs(2_000)),
        ..call(1_000)
    };
    let answered_by_nobody_knows_when = NewCall {
        answered_at: None,
        ..call(1_000)
    };
    for (bad, want) in [
        (ended_early, "ended_at"),
        (answered_late, "answered_at"),
        (answered_by_nobody_knows_when, "answered_by"),
    ] {
        match store.record_call(&bad).await {
            Err(StoreError::Invalid { field, .. }) => assert_eq!(field, want),
            other => panic!("{want}: {other:?}"),
        }
    }
    assert!(
        store
            .calls(None, None)
            .await
            .expect("page")
            .calls
            .is_empty()
    );
}

/// A name from outside is kept, bounded and without control characters.
#[tokio::test]
async fn hostile_caller_names_are_kept_but_defused() {
    let (_dir, store) = temp_store().await;
    let hostile = NewCall {
        caller_name: Some(format!("Evil\r\nX-Injected: 1{}", "A".repeat(10_000))),
        answered_at: None,
        answered_by: None,
        outcome: CallOutcome::NoAnswer,
        after_action: Some(ActionKind::Voicemail),
        ..call(1_000)
    };
    store.record_call(&hostile).await.expect("recorded");
    let page = store.calls(None, None).await.expect("page");
    let name = page.calls[0].caller_name.clone().expect("name");
    assert!(name.starts_with("Evil  X-Injected: 1A"), "{name}");
    assert_eq!(name.chars().count(), MAX_TEXT);
    assert_eq!(page.calls[0].after_action, Some(ActionKind::Voicemail));
}

#[tokio::test]
async fn pruning_drops_only_calls_started_before_the_cut() {
    let (_dir, store) = temp_store().await;
    for started in [100, 200, 300, 400] {
        store.record_call(&call(started)).await.expect("record");
    }
    let pruned = store
        .prune_calls(UnixTime::from_secs(300))
        .await
        .expect("prune");
    assert_eq!(pruned, 2);
    let left: Vec<i64> = (store.calls(None, None).await.expect("page").calls)
        .iter()
        .map(|c| c.started_at.secs())
        .collect();
    assert_eq!(left, [400, 300]);
    assert_eq!(
        store
            .prune_calls(UnixTime::from_secs(300))
            .await
            .expect("again"),
        0
    );
}

/// More rows than one prune statement takes: the loop goes on until all old rows are gone.
#[tokio::test]
async fn pruning_many_rows_takes_several_statements_and_misses_none() {
    let (_dir, store) = temp_store().await;
    let old = 2 * PRUNE_CHUNK + 7;
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1)
         INSERT INTO calls (started_at, ended_at, caller_number, callee, class, outcome)
         SELECT i, i + 10, '100', '101', 'internal', 'no-answer' FROM n",
    )
    .bind(old)
    .execute(&store.write)
    .await
    .expect("old rows");
    store.record_call(&call(1_000_000)).await.expect("new row");
    let pruned = store
        .prune_calls(UnixTime::from_secs(1_000_000))
        .await
        .expect("prune");
    assert_eq!(pruned, old as u64);
    let page = store.calls(None, None).await.expect("page");
    assert_eq!(page.calls.len(), 1);
    assert_eq!(page.calls[0].started_at, UnixTime::from_secs(1_000_000));
}

/// The SIP service writes the calls that ended meanwhile together: all in order, or (one
/// with its times out of order among them) none.
#[tokio::test]
async fn calls_recorded_together_are_all_written_or_none() {
    let (_dir, store) = temp_store().await;
    let bad = NewCall {
        ended_at: UnixTime::from_secs(1),
        ..call(1_000)
    };
    match store.record_calls(&[call(1_000), bad]).await {
        Err(StoreError::Invalid { field, .. }) => assert_eq!(field, "ended_at"),
        other => panic!("{other:?}"),
    }
    assert!(
        store
            .calls(None, None)
            .await
            .expect("page")
            .calls
            .is_empty()
    );
    store
        .record_calls(&[call(1_000), call(2_000), call(3_000)])
        .await
        .expect("recorded");
    let page = store.calls(None, None).await.expect("page");
    let started: Vec<i64> = page.calls.iter().map(|c| c.started_at.secs()).collect();
    assert_eq!(started, [3_000, 2_000, 1_000], "newest first, each once");
}
