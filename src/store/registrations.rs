//! What the SIP registrar needs from the store: a device's SIP account, and a place to keep
//! bindings across restarts. Bindings are runtime state, written behind the registrar's own
//! in-memory table in batches; they are not in the change log.

use crate::clock::UnixTime;

use super::{DeviceKind, Result, Store};

/// A device's SIP account as the registrar checks it. Holds the password: never log it.
#[derive(Clone, sqlx::FromRow)]
pub struct SipAccount {
    pub device_id: i64,
    pub kind: DeviceKind,
    pub password: String,
    /// Owned by a user or a workplace: only such a device may register.
    pub assigned: bool,
}

impl std::fmt::Debug for SipAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipAccount")
            .field("device_id", &self.device_id)
            .field("kind", &self.kind)
            .field("assigned", &self.assigned)
            .finish_non_exhaustive()
    }
}

impl SipAccount {
    /// Phones and softphones register; a mobile number or a virtual fax device never does.
    pub fn may_register(&self) -> bool {
        self.assigned && matches!(self.kind, DeviceKind::IpPhone | DeviceKind::Softphone)
    }
}

#[derive(sqlx::FromRow)]
struct SipAccountRow {
    username: String,
    #[sqlx(flatten)]
    account: SipAccount,
}

/// One binding as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredBinding {
    pub device_id: i64,
    pub contact: String,
    pub expires_at: UnixTime,
    pub transport: String,
    pub source: String,
    pub local: String,
    pub user_agent: Option<String>,
    pub call_id: String,
    pub cseq: i64,
    pub q: Option<String>,
    pub registered_at: UnixTime,
}

const ACCOUNT: &str = "SELECT id AS device_id, kind, sip_password AS password,
       (owner_user_id IS NOT NULL OR owner_workplace_id IS NOT NULL) AS assigned
  FROM devices";

impl Store {
    /// The account with SIP username `username`, if there is one.
    pub async fn sip_account(&self, username: &str) -> Result<Option<SipAccount>> {
        let row = sqlx::query_as(&format!("{ACCOUNT} WHERE sip_username = $1"))
            .bind(username)
            .fetch_optional(&self.read)
            .await?;
        Ok(row)
    }

    /// Every SIP account, by username (the registrar keeps them in memory).
    pub async fn sip_account_list(&self) -> Result<Vec<(String, SipAccount)>> {
        let rows: Vec<SipAccountRow> =
            sqlx::query_as(&ACCOUNT.replace("SELECT ", "SELECT sip_username AS username, "))
                .fetch_all(&self.read)
                .await?;
        Ok(rows.into_iter().map(|r| (r.username, r.account)).collect())
    }

    /// The accounts of `devices` that still exist (to drop bindings of those that may no
    /// longer register).
    pub async fn sip_accounts(&self, devices: &[i64]) -> Result<Vec<SipAccount>> {
        if devices.is_empty() {
            return Ok(Vec::new());
        }
        let mut query = sqlx::QueryBuilder::new(format!("{ACCOUNT} WHERE id IN ("));
        let mut list = query.separated(", ");
        for id in devices {
            list.push_bind(*id);
        }
        query.push(")");
        Ok(query.build_query_as().fetch_all(&self.read).await?)
    }

    /// Writes a batch of binding changes in one transaction: `upserts` replace what is stored
    /// for their (device, contact), `removals` go. A device deleted meanwhile is skipped.
    pub async fn save_bindings(
        &self,
        upserts: &[StoredBinding],
        removals: &[(i64, String)],
    ) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for (device, contact) in removals {
            sqlx::query("DELETE FROM sip_bindings WHERE device_id = $1 AND contact = $2")
                .bind(device)
                .bind(contact)
                .execute(&mut *tx)
                .await?;
        }
        let mut rest = upserts;
        while !rest.is_empty() {
            let (chunk, tail) = rest.split_at(upsert_rows(rest.len()));
            upsert_bindings(&mut tx, chunk).await?;
            rest = tail;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every stored binding still valid at `now`; expired ones are deleted.
    pub async fn load_bindings(&self, now: UnixTime) -> Result<Vec<StoredBinding>> {
        sqlx::query("DELETE FROM sip_bindings WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.write)
            .await?;
        let rows = sqlx::query_as("SELECT * FROM sip_bindings ORDER BY device_id, contact")
            .fetch_all(&self.read)
            .await?;
        Ok(rows)
    }
}

/// The most bindings one statement writes: 11 parameters each stay far below SQLite's 999.
const UPSERT_ROWS: usize = 64;

/// How many of `remaining` rows the next statement writes: [`UPSERT_ROWS`], else the largest
/// power of two that fits, so at most seven statement shapes are prepared and cached.
fn upsert_rows(remaining: usize) -> usize {
    match remaining {
        0 => 0,
        n if n >= UPSERT_ROWS => UPSERT_ROWS,
        n => 1 << n.ilog2(),
    }
}

/// Inserts or replaces `rows` in one statement; a row whose device is gone is skipped. One
/// statement per row was one round trip to SQLite's worker thread each (two wake-ups): with
/// a few thousand phones refreshing, the REGISTER benchmark spent a sixth of its samples there.
async fn upsert_bindings(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    rows: &[StoredBinding],
) -> Result<()> {
    let mut query = sqlx::QueryBuilder::new(
        "INSERT INTO sip_bindings (device_id, contact, expires_at, transport, source, local,
             user_agent, call_id, cseq, q, registered_at)
         SELECT * FROM (",
    );
    query.push_values(rows, |mut row, b| {
        row.push_bind(b.device_id)
            .push_bind(&b.contact)
            .push_bind(b.expires_at)
            .push_bind(&b.transport)
            .push_bind(&b.source)
            .push_bind(&b.local)
            .push_bind(&b.user_agent)
            .push_bind(&b.call_id)
            .push_bind(b.cseq)
            .push_bind(&b.q)
            .push_bind(b.registered_at);
    });
    // VALUES columns are named column1, column2, ... (SQLite's SELECT documentation); the
    // WHERE also keeps the parser from reading ON CONFLICT as a join constraint.
    query.push(
        ") AS v WHERE EXISTS (SELECT 1 FROM devices WHERE id = v.column1)
         ON CONFLICT (device_id, contact) DO UPDATE SET expires_at = excluded.expires_at,
             transport = excluded.transport, source = excluded.source, local = excluded.local,
             user_agent = excluded.user_agent, call_id = excluded.call_id,
             cseq = excluded.cseq, q = excluded.q, registered_at = excluded.registered_at",
    );
    query.build().execute(&mut **tx).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{NewDevice, temp_store};

    fn binding(device_id: i64, contact: &str, expires: i64) -> StoredBinding {
        StoredBinding {
            device_id,
            contact: contact.into(),
            expires_at: UnixTime::from_secs(expires),
            transport: "udp".into(),
            source: "192.0.2.10:5060".into(),
            local: "192.0.2.1".into(),
            user_agent: Some("Yealink SIP-T54W".into()),
            call_id: "abc@192.0.2.10".into(),
            cseq: 7,
            q: None,
            registered_at: UnixTime::from_secs(expires - 3600),
        }
    }

    #[tokio::test]
    async fn bindings_are_kept_until_they_expire_and_leave_with_their_device() {
        let (_dir, store) = temp_store().await;
        let dev = store
            .create_device(NewDevice {
                kind: Some(DeviceKind::Softphone),
                ..NewDevice::default()
            })
            .await
            .expect("device");
        let account = store
            .sip_account(&dev.sip_username)
            .await
            .expect("read")
            .expect("account");
        assert_eq!(account.device_id, dev.id);
        assert!(!account.may_register(), "unassigned");
        assert!(!format!("{account:?}").contains(&account.password));

        let before = store.generation();
        let a = binding(dev.id, "<sip:100@192.0.2.10:5060;transport=udp>", 5000);
        let b = binding(dev.id, "<sip:100@192.0.2.11>", 1000);
        store
            .save_bindings(&[a.clone(), b.clone()], &[])
            .await
            .expect("save");
        assert_eq!(
            store.generation(),
            before,
            "bindings are not config changes"
        );
        assert_eq!(
            store
                .load_bindings(UnixTime::from_secs(2000))
                .await
                .expect("load"),
            vec![a.clone()],
            "the expired one is gone"
        );
        store
            .save_bindings(&[], &[(dev.id, a.contact.clone())])
            .await
            .expect("remove");
        assert!(
            store
                .load_bindings(UnixTime::from_secs(0))
                .await
                .expect("load")
                .is_empty()
        );
        store
            .save_bindings(std::slice::from_ref(&a), &[])
            .await
            .expect("save");
        store.delete_device(dev.id).await.expect("delete");
        assert!(
            store
                .load_bindings(UnixTime::from_secs(0))
                .await
                .expect("load")
                .is_empty()
        );
        assert!(
            store
                .sip_account(&dev.sip_username)
                .await
                .expect("read")
                .is_none()
        );
    }

    #[test]
    fn rows_go_in_statements_of_few_shapes() {
        let mut shapes = std::collections::BTreeSet::new();
        for total in 0..300 {
            let (mut left, mut written) = (total, 0);
            while left > 0 {
                let n = upsert_rows(left);
                assert!((1..=left).contains(&n), "{n} of {left}");
                shapes.insert(n);
                (left, written) = (left - n, written + n);
            }
            assert_eq!(written, total);
        }
        assert_eq!(shapes.len(), 7, "{shapes:?}");
    }

    #[tokio::test]
    async fn a_large_batch_is_written_and_rewritten_row_for_row() {
        let (_dir, store) = temp_store().await;
        let dev = store
            .create_device(NewDevice {
                kind: Some(DeviceKind::Softphone),
                ..NewDevice::default()
            })
            .await
            .expect("device");
        // 150 rows: statements of 64, 64, 16, 4 and 2; one for a device that does not exist.
        let mut rows: Vec<StoredBinding> = (0..149)
            .map(|i| binding(dev.id, &format!("<sip:100@192.0.2.{i}>"), 5000))
            .collect();
        rows.push(binding(dev.id + 1000, "<sip:ghost@192.0.2.1>", 5000));
        store.save_bindings(&rows, &[]).await.expect("save");
        for (i, b) in rows.iter_mut().enumerate() {
            b.cseq = 8;
            b.expires_at = UnixTime::from_secs(6000);
            b.user_agent = (i % 2 == 0).then(|| "Yealink SIP-T54W 2".into());
            b.q = (i % 3 == 0).then(|| "0.5".into());
        }
        store.save_bindings(&rows, &[]).await.expect("rewrite");
        let mut expected: Vec<StoredBinding> =
            rows.into_iter().filter(|b| b.device_id == dev.id).collect();
        expected.sort_by(|a, b| a.contact.cmp(&b.contact));
        assert_eq!(
            store
                .load_bindings(UnixTime::from_secs(5500))
                .await
                .expect("load"),
            expected,
            "every row once, as last written; none for the missing device"
        );
    }
}

#[cfg(test)]
mod reach_tests {
    use crate::store::{NewDevice, NewWorkplace, temp_store};

    #[tokio::test]
    async fn a_workplace_change_reaches_its_phones() {
        let (_dir, store) = temp_store().await;
        store
            .create_workplace(NewWorkplace {
                name: "empfang".into(),
                ..NewWorkplace::default()
            })
            .await
            .expect("workplace");
        let dev = store
            .create_device(NewDevice {
                kind: Some(crate::store::DeviceKind::IpPhone),
                mac: Some("00:15:65:AA:BB:CC".into()),
                vendor: Some(crate::store::Vendor::Yealink),
                workplace: Some("empfang".into()),
                ..NewDevice::default()
            })
            .await
            .expect("device");
        let found = store
            .provisioning_devices(&[], &[], &[1])
            .await
            .expect("query");
        assert_eq!(found.iter().map(|d| d.id).collect::<Vec<_>>(), vec![dev.id]);
    }
}
