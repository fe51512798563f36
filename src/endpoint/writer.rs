//! Writes binding changes behind the registrar, in batches at most [`BATCH`] late, so phones
//! stay reachable after a restart or a kill -9 without a database write per REGISTER.

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
            let mut batch = vec![first];
            let deadline = tokio::time::sleep(BATCH);
            tokio::pin!(deadline);
            loop {
                tokio::select! {
                    next = self.rx.recv() => match next {
                        Some(w) => batch.push(w),
                        None => break,
                    },
                    () = &mut deadline => break,
                }
            }
            self.write(batch).await;
        }
    }

    async fn write(&self, batch: Vec<Write>) {
        let (mut upserts, mut removals) = (Vec::new(), Vec::new());
        for w in batch {
            match w {
                Write::Upsert(b) => {
                    removals.retain(|(d, c)| !(*d == b.device_id && *c == b.contact));
                    upserts.retain(|u: &StoredBinding| {
                        !(u.device_id == b.device_id && u.contact == b.contact)
                    });
                    upserts.push(to_stored(&b));
                }
                Write::Remove { device, contact } => {
                    upserts.retain(|u| !(u.device_id == device && u.contact == contact));
                    removals.push((device, contact));
                }
            }
        }
        if let Err(e) = self.store.save_bindings(&upserts, &removals).await {
            tracing::warn!(
                "sip: writing {} binding changes: {e}",
                upserts.len() + removals.len()
            );
        }
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
