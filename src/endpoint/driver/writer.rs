//! Writes binding changes behind the registrar, in batches at most [`BATCH`] late, so phones
//! stay reachable after a restart or a kill -9 without a database write per REGISTER.

use std::collections::HashMap;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::registrar::register::uri_key;
use crate::registrar::{Binding, Origin, Write};
use crate::sip::NameAddr;
use crate::store::Store;
use crate::store::registrations::StoredBinding;

/// How long changes gather before they are written together.
const BATCH: Duration = Duration::from_millis(200);

#[derive(Debug)]
pub struct BindingWriter {
    store: Store,
    rx: mpsc::UnboundedReceiver<Write>,
}

impl BindingWriter {
    pub fn new(store: Store) -> (mpsc::UnboundedSender<Write>, BindingWriter) {
        let (tx, rx) = mpsc::unbounded_channel();
        (tx, BindingWriter { store, rx })
    }

    /// Runs until every sender is gone, writing what it got on the way out.
    pub async fn run(mut self) {
        while let Some(first) = self.rx.recv().await {
            // Gather without listening: the endpoint's writes then wake this task once per
            // batch, not once per REGISTER (a cross-thread wake-up each).
            tokio::time::sleep(BATCH).await;
            let mut batch = vec![first];
            while let Ok(w) = self.rx.try_recv() {
                batch.push(w);
            }
            self.write(batch).await;
        }
    }

    async fn write(&self, batch: Vec<Write>) {
        let (upserts, removals) = coalesce(batch);
        if let Err(e) = self.store.save_bindings(&upserts, &removals).await {
            tracing::warn!(
                "sip: writing {} binding changes: {e}",
                upserts.len() + removals.len()
            );
        }
    }
}

/// The rows a batch leaves behind: for each (device, contact) only its last change counts. One
/// pass over a map: at thousands of refreshes a second a batch holds thousands of writes, and
/// comparing each with all before it was the writer's whole cost.
fn coalesce(batch: Vec<Write>) -> (Vec<StoredBinding>, Vec<(i64, String)>) {
    let mut last: HashMap<(i64, String), Write> = HashMap::with_capacity(batch.len());
    for w in batch {
        let key = match &w {
            Write::Upsert(b) => (b.device_id, b.contact.clone()),
            Write::Remove { device, contact } => (*device, contact.clone()),
        };
        last.insert(key, w);
    }
    let mut changes: Vec<_> = last.into_iter().collect();
    // In key order: the same batch always makes the same statements.
    changes.sort_unstable_by(|(a, _), (b, _)| a.cmp(b));
    let (mut upserts, mut removals) = (Vec::new(), Vec::new());
    for (key, w) in changes {
        match w {
            Write::Upsert(b) => upserts.push(to_stored(&b)),
            Write::Remove { .. } => removals.push(key),
        }
    }
    (upserts, removals)
}

fn to_stored(b: &Binding) -> StoredBinding {
    StoredBinding {
        device_id: b.device_id,
        contact: b.contact.clone(),
        expires_at: b.expires_at,
        transport: b.origin.transport.clone(),
        source: b.origin.source.clone(),
        local: b.origin.local.clone(),
        user_agent: b.origin.user_agent.clone(),
        call_id: b.origin.call_id.clone(),
        cseq: i64::from(b.origin.cseq),
        q: b.q.clone(),
        registered_at: b.registered_at,
    }
}

/// A stored binding as the registrar holds it (its key computed again from the contact).
pub fn from_stored(s: StoredBinding) -> Binding {
    let key = NameAddr::parse(&s.contact, "Contact")
        .map(|c| uri_key(&c.uri))
        .unwrap_or_else(|_| s.contact.clone());
    Binding {
        device_id: s.device_id,
        key,
        expires_at: s.expires_at,
        q: s.q,
        origin: Origin {
            transport: s.transport,
            source: s.source,
            local: s.local,
            user_agent: s.user_agent,
            call_id: s.call_id,
            cseq: u32::try_from(s.cseq).unwrap_or(0),
        },
        registered_at: s.registered_at,
        contact: s.contact,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::UnixTime;

    fn binding(device: i64, contact: &str, cseq: u32) -> Binding {
        Binding {
            device_id: device,
            contact: contact.into(),
            key: contact.into(),
            expires_at: UnixTime::from_secs(2_000_000_000),
            q: None,
            origin: Origin {
                transport: "udp".into(),
                source: "192.0.2.1:5060".into(),
                local: "192.0.2.9:5060".into(),
                user_agent: None,
                call_id: "c".into(),
                cseq,
            },
            registered_at: UnixTime::from_secs(1_999_999_000),
        }
    }

    fn remove(device: i64, contact: &str) -> Write {
        Write::Remove {
            device,
            contact: contact.into(),
        }
    }

    #[test]
    fn only_the_last_change_of_each_contact_is_written() {
        let batch = vec![
            Write::Upsert(binding(1, "<sip:a@x>", 1)),
            Write::Upsert(binding(2, "<sip:b@x>", 1)),
            Write::Upsert(binding(1, "<sip:a@x>", 2)),
            remove(2, "<sip:b@x>"),
            remove(3, "<sip:c@x>"),
            Write::Upsert(binding(3, "<sip:c@x>", 5)),
            Write::Upsert(binding(1, "<sip:a2@x>", 1)),
        ];
        let (upserts, removals) = coalesce(batch);
        let rows: Vec<_> = upserts
            .iter()
            .map(|u| (u.device_id, u.contact.as_str(), u.cseq))
            .collect();
        assert_eq!(
            rows,
            [
                (1, "<sip:a2@x>", 1),
                (1, "<sip:a@x>", 2),
                (3, "<sip:c@x>", 5)
            ]
        );
        assert_eq!(removals, [(2, "<sip:b@x>".to_string())]);
    }

    #[test]
    fn a_batch_of_thousands_of_refreshes_keeps_one_row_each() {
        let batch: Vec<_> = (0..3)
            .flat_map(|round| (0..2000).map(move |d| Write::Upsert(binding(d, "<sip:p@x>", round))))
            .collect();
        let (upserts, removals) = coalesce(batch);
        assert_eq!(upserts.len(), 2000);
        assert!(upserts.iter().all(|u| u.cseq == 2), "the last refresh wins");
        assert!(removals.is_empty());
    }
}
