use super::*;
use crate::store::{NewPhonebookEntry, NewWorkplace, StoreOptions, temp_store};

fn workplace(name: &str) -> NewWorkplace {
    NewWorkplace {
        name: name.into(),
        ..NewWorkplace::default()
    }
}

fn changes(since: Since) -> Vec<(Entity, i64)> {
    match since {
        Since::Changes(list) => list.into_iter().map(|c| (c.entity, c.id)).collect(),
        Since::Lagged => panic!("lagged"),
    }
}

#[tokio::test]
async fn own_writes_are_in_the_feed_at_once_with_entity_and_id() {
    let (_dir, store) = temp_store().await;
    let before = store.generation();
    store
        .create_workplace(workplace("empfang"))
        .await
        .expect("workplace");
    let entry = store
        .add_phonebook_entry(NewPhonebookEntry {
            name: "Hausmeister".into(),
            number: "0301234".into(),
            company: None,
            extra: Default::default(),
        })
        .await
        .expect("entry");
    let seen = changes(store.changes_since(before).await.expect("since"));
    assert!(seen.iter().any(|c| c.0 == Entity::Workplace), "{seen:?}");
    assert_eq!(seen.last(), Some(&(Entity::Phonebook, entry.id)));
    assert!(store.generation() > before);
    assert_eq!(
        changes(
            store
                .changes_since(store.generation())
                .await
                .expect("since")
        ),
        vec![]
    );
}

#[tokio::test]
async fn a_rolled_back_batch_leaves_no_change() {
    let (_dir, store) = temp_store().await;
    let before = store.generation();
    let mut batch = store.batch().await.expect("batch");
    batch
        .create_workplace(&workplace("lager"))
        .await
        .expect("workplace");
    batch.rollback().await.expect("rollback");
    assert_eq!(
        changes(store.changes_since(before).await.expect("since")),
        vec![]
    );
    assert_eq!(store.generation(), before);
}

#[tokio::test]
async fn another_process_s_commits_arrive_when_the_log_is_read() {
    let (dir, store) = temp_store().await;
    let other = Store::open(&StoreOptions {
        url: format!("sqlite://{}", dir.path().join("z.db").display()),
        default_language: "de".into(),
        enrollment_window_hours: 24,
    })
    .await
    .expect("second handle");
    let before = store.generation();
    let w = other
        .create_workplace(workplace("halle"))
        .await
        .expect("workplace");
    assert_eq!(
        changes(store.changes_since(before).await.expect("since")),
        vec![],
        "not read yet"
    );
    assert!(store.catch_up().await.expect("catch up") >= 1);
    let seen = changes(store.changes_since(before).await.expect("since"));
    assert!(seen.contains(&(Entity::Workplace, 1)), "{seen:?} {w:?}");
}

#[tokio::test]
async fn generations_continue_after_a_restart() {
    let (dir, store) = temp_store().await;
    store
        .create_workplace(workplace("a"))
        .await
        .expect("workplace");
    store.catch_up().await.expect("catch up");
    let before = store.generation();
    store.close().await;
    let again = Store::open(&StoreOptions {
        url: format!("sqlite://{}", dir.path().join("z.db").display()),
        default_language: "de".into(),
        enrollment_window_hours: 24,
    })
    .await
    .expect("reopen");
    assert_eq!(again.generation(), before);
}

#[test]
fn a_consumer_behind_the_window_is_told_to_reload() {
    let feed = Feed::new(10);
    let rows = (11..11 + WINDOW as i64 + 5)
        .map(|seq| (seq, "device".to_owned(), seq))
        .collect();
    feed.publish(rows);
    assert_eq!(feed.since(10), Since::Lagged);
    let last = 10 + WINDOW as u64 + 5;
    match feed.since(last - 2) {
        Since::Changes(list) => {
            let gens: Vec<u64> = list.iter().map(|c| c.generation).collect();
            assert_eq!(gens, vec![last - 1, last]);
        }
        Since::Lagged => panic!("within the window"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_single_write_is_seen_by_the_next_call_before_the_pool_marks_it() {
    let (_dir, store) = temp_store().await;
    let before = store.generation();
    let w = store
        .create_workplace(workplace("tresen"))
        .await
        .expect("workplace");
    // No yield in between: the pool's release task has not run yet.
    let seen = changes(store.changes_since(before).await.expect("since"));
    assert!(seen.contains(&(Entity::Workplace, 1)), "{seen:?} {w:?}");
}

#[tokio::test]
async fn runtime_records_are_no_changes() {
    let (_dir, store) = temp_store().await;
    let before = store.generation();
    store
        .save_bindings(&[], &[(1, "<sip:x@192.0.2.1>".into())])
        .await
        .expect("runtime write");
    assert!(!store.has_unread_commits());
    assert_eq!(store.catch_up().await.expect("catch up"), 0);
    assert_eq!(store.generation(), before);
}
