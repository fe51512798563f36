//! Writes binding changes behind the registrar, in batches at most [`BATCH`] late, so phones
//! stay reachable after a restart or a kill -9 without a database write per REGISTER.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::registrar::register::uri_key;
use crate::registrar::{Binding, Origin, Write};
use crate::sip::NameAddr;
use crate::store::Store;
use crate::store::registrations::StoredBinding;

/// How long changes gather before they are written together.
const BATCH: Duration = Duration::from_millis(200);
/// After a failed write (a locked or full disk), the next try waits this long, doubling up
/// to [`RETRY_MAX`]; the changes stay queued meanwhile and newer ones replace older.
pub(super) const RETRY_FIRST: Duration = Duration::from_secs(1);
pub(super) const RETRY_MAX: Duration = Duration::from_secs(30);
/// On shutdown, a failing store gets this many more tries.
pub(super) const LAST_TRIES: u32 = 3;

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

    /// Runs until every sender is gone, writing what it got on the way out. A failed write
    /// is tried again later with whatever came meanwhile: a binding change is never dropped
    /// while the store may still take it.
    pub async fn run(mut self) {
        let mut queue = Queue::default();
        let mut open = true;
        loop {
            if queue.is_empty() {
                match self.rx.recv().await {
                    Some(w) => queue.push(w),
                    None => return,
                }
            }
            // Gather without listening: the endpoint's writes then wake this task once per
            // batch, not once per REGISTER (a cross-thread wake-up each; 8 % of a REGISTER
            // benchmark's samples). After the channel closed, retries do not wait long.
            let delay = match open {
                true => queue.delay(),
                false => queue.delay().min(RETRY_FIRST),
            };
            tokio::time::sleep(delay).await;
            while open {
                match self.rx.try_recv() {
                    Ok(w) => queue.push(w),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => open = false,
                }
            }
            let (upserts, removals) = queue.batch();
            match self.store.save_bindings(&upserts, &removals).await {
                Ok(()) => queue.written(),
                Err(e) => {
                    let n = upserts.len() + removals.len();
                    tracing::warn!("sip: writing {n} binding changes (will try again): {e}");
                    queue.failed();
                    if !open && queue.failures >= LAST_TRIES {
                        tracing::error!("sip: {n} binding changes are lost: {e}");
                        return;
                    }
                }
            }
            if !open && queue.is_empty() {
                return;
            }
        }
    }
}

/// Binding changes not yet in the store: the latest per (device, contact), and how many
/// writes of them failed in a row.
#[derive(Debug, Default)]
struct Queue {
    changes: BTreeMap<(i64, String), Write>,
    failures: u32,
}

impl Queue {
    fn push(&mut self, w: Write) {
        let key = match &w {
            Write::Upsert(b) => (b.device_id, b.contact.clone()),
            Write::Remove { device, contact } => (*device, contact.clone()),
        };
        self.changes.insert(key, w);
    }

    fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// How long to gather before the next write: a batch, or the backoff after failures.
    fn delay(&self) -> Duration {
        match self.failures {
            0 => BATCH,
            n => RETRY_FIRST
                .saturating_mul(1 << (n - 1).min(16))
                .min(RETRY_MAX),
        }
    }

    /// What to write: rows to replace and rows to delete.
    fn batch(&self) -> (Vec<StoredBinding>, Vec<(i64, String)>) {
        let (mut upserts, mut removals) = (Vec::new(), Vec::new());
        for w in self.changes.values() {
            match w {
                Write::Upsert(b) => upserts.push(to_stored(b)),
                Write::Remove { device, contact } => removals.push((*device, contact.clone())),
            }
        }
        (upserts, removals)
    }

    fn written(&mut self) {
        self.changes.clear();
        self.failures = 0;
    }

    fn failed(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }
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
                source: "192.0.2.10:5062".into(),
                local: "192.0.2.1:5060".into(),
                user_agent: None,
                call_id: "c".into(),
                cseq,
            },
            registered_at: UnixTime::from_secs(1),
        }
    }

    #[test]
    fn the_latest_change_per_contact_is_written() {
        let mut q = Queue::default();
        q.push(Write::Upsert(binding(1, "<sip:a@x>", 1)));
        q.push(Write::Upsert(binding(1, "<sip:a@x>", 2)));
        q.push(Write::Upsert(binding(2, "<sip:b@x>", 1)));
        q.push(Write::Remove {
            device: 2,
            contact: "<sip:b@x>".into(),
        });
        let (upserts, removals) = q.batch();
        assert_eq!(upserts.len(), 1);
        assert_eq!(upserts[0].cseq, 2);
        assert_eq!(removals, vec![(2, "<sip:b@x>".to_owned())]);
    }

    #[test]
    fn a_failed_write_keeps_the_changes_and_backs_off() {
        let mut q = Queue::default();
        q.push(Write::Upsert(binding(1, "<sip:a@x>", 1)));
        assert_eq!(q.delay(), BATCH);
        let delays: Vec<u64> = (0..7)
            .map(|_| {
                q.failed();
                q.delay().as_secs()
            })
            .collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 30, 30]);
        q.push(Write::Upsert(binding(3, "<sip:c@x>", 1)));
        assert_eq!(q.batch().0.len(), 2, "kept, and the newer change added");
        q.written();
        assert!(q.is_empty());
        assert_eq!(q.delay(), BATCH);
    }
}
