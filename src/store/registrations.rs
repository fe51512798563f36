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
        for b in upserts {
            sqlx::query(
                "INSERT INTO sip_bindings (device_id, contact, expires_at, transport, source, local,
                     user_agent, call_id, cseq, q, registered_at)
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11
                  WHERE EXISTS (SELECT 1 FROM devices WHERE id = $1)
                 ON CONFLICT (device_id, contact) DO UPDATE SET expires_at = $3, transport = $4,
                     source = $5, local = $6, user_agent = $7, call_id = $8, cseq = $9, q = $10,
                     registered_at = $11",
            )
            .bind(b.device_id)
            .bind(&b.contact)
            .bind(b.expires_at)
            .bind(&b.transport)
            .bind(&b.source)
            .bind(&b.local)
            .bind(&b.user_agent)
            .bind(&b.call_id)
            .bind(b.cseq)
            .bind(&b.q)
            .bind(b.registered_at)
            .execute(&mut *tx)
            .await?;
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
}
