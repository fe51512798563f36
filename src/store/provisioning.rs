//! What the provisioning server reads and writes: one snapshot of everything that goes into
//! phone configs (secrets included, so none of these types is serializable), the close of an
//! enrollment window, fetch records, firmware per model, and auto-registered phones.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sqlx::SqliteConnection;

use super::devices::{Owner, Spec};
use super::{DeviceKind, ProvState, Result, Store, StoreError, Vendor, unix_now};

/// Everything a phone config or phonebook is rendered from, as of one store generation.
#[derive(Debug, Default)]
pub struct ProvisioningData {
    pub devices: Vec<ProvDevice>,
    /// Global phonebook and every user whose phonebook entry is enabled, sorted by name.
    pub phonebook: Vec<PhonebookLine>,
    pub firmware: Vec<FirmwareModel>,
}

/// A device as its config needs it. Holds secrets: never log or serialize it.
#[derive(Clone, sqlx::FromRow)]
pub struct ProvDevice {
    pub id: i64,
    pub kind: DeviceKind,
    pub mac: Option<String>,
    pub vendor: Option<Vendor>,
    pub model: Option<String>,
    pub label: String,
    pub sip_username: String,
    pub sip_password: String,
    pub prov_username: Option<String>,
    pub prov_password: Option<String>,
    pub token: String,
    pub prov_state: ProvState,
    pub enroll_until: Option<i64>,
    /// The directly assigned user.
    pub user_name: Option<String>,
    pub user_display: Option<String>,
    pub user_language: Option<String>,
    pub user_extension: Option<String>,
    /// The workplace it belongs to, and who is logged in there.
    pub workplace: Option<String>,
    pub workplace_display: Option<String>,
    pub guest_display: Option<String>,
    pub guest_language: Option<String>,
    pub guest_extension: Option<String>,
}

impl std::fmt::Debug for ProvDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProvDevice")
            .field("id", &self.id)
            .field("mac", &self.mac)
            .field("vendor", &self.vendor)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, sqlx::FromRow, serde::Serialize)]
pub struct PhonebookLine {
    pub name: String,
    pub number: String,
    pub company: String,
}

/// The firmware file phones of one vendor and model are told to install.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize, utoipa::ToSchema)]
pub struct FirmwareModel {
    pub vendor: Vendor,
    pub model: String,
    pub file: String,
}

/// One phone fetch, recorded in batches.
#[derive(Debug, Clone)]
pub struct Fetch {
    pub device_id: i64,
    pub ip: String,
    pub at: i64,
    pub file: String,
    pub user_agent: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    /// The store generation the fetched config was rendered from; clears older resync marks.
    pub generation: u64,
}

const DEVICES: &str = "SELECT d.id, d.kind, d.mac, d.vendor, d.model, d.label, d.sip_username,
       d.sip_password, d.prov_username, d.prov_password, d.token, d.prov_state, d.enroll_until,
       u.username AS user_name, u.display_name AS user_display, u.language AS user_language,
       u.extension AS user_extension, w.name AS workplace, w.display_name AS workplace_display,
       g.display_name AS guest_display, g.language AS guest_language,
       g.extension AS guest_extension
  FROM devices d
  LEFT JOIN users u ON u.id = d.owner_user_id
  LEFT JOIN workplaces w ON w.id = d.owner_workplace_id
  LEFT JOIN users g ON g.id = w.current_user_id
 WHERE d.mac IS NOT NULL
 ORDER BY d.id";

const PHONEBOOK: &str = "SELECT name, number, COALESCE(company, '') AS company FROM phonebook
 UNION ALL
SELECT u.display_name, u.extension, '' FROM users u
  JOIN user_phonebook p ON p.user_id = u.id
 WHERE p.enabled AND u.extension IS NOT NULL";

/// Counts committed changes to the tables configs are rendered from, so caches know when to
/// render again. Fed by SQLite's update hook on the write connection and bumped when that
/// connection goes back to the pool, i.e. after the commit is visible to readers.
#[derive(Debug, Default)]
pub(super) struct Changes {
    generation: AtomicU64,
    dirty: AtomicBool,
    /// The triggers' change count last seen (+1; 0: not read yet), see [`Store::notice_other_writers`].
    counted: AtomicU64,
}

impl Changes {
    pub(super) fn touched(&self, table: &str) {
        // Neither a fetch record nor a resync mark changes what a phone is sent.
        if table != "device_fetches" && table != "device_resync" {
            self.dirty.store(true, Ordering::Release);
        }
    }

    /// A transaction is being rolled back: what it touched did not change.
    pub(super) fn forget_uncommitted(&self) {
        self.dirty.store(false, Ordering::Release);
    }

    pub(super) fn released(&self) {
        if self.dirty.swap(false, Ordering::AcqRel) {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// Starts this process's generations above every one a resync mark was stored with, so a mark
/// left by an earlier run is cleared by the first fetch after the restart.
pub(super) async fn resume_generation(pool: &sqlx::SqlitePool, changes: &Changes) -> Result<()> {
    let (max,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(generation), 0) FROM device_resync")
        .fetch_one(pool)
        .await?;
    changes
        .generation
        .store(max.max(0) as u64 + 1, Ordering::Release);
    Ok(())
}

pub(super) async fn install_hooks(
    conn: &mut SqliteConnection,
    changes: Arc<Changes>,
) -> Result<()> {
    let mut handle = conn.lock_handle().await?;
    handle.set_update_hook(move |r| changes.touched(r.table));
    Ok(())
}

impl Store {
    /// Bumped after every committed change that can alter a phone's config or phonebook.
    pub fn generation(&self) -> u64 {
        self.changes.generation.load(Ordering::Acquire)
    }

    /// Catches what other processes committed (the CLI beside the daemon): the migration's
    /// triggers count every change to the tables configs are made from, and a count that moved
    /// since the last call starts a new generation. True when it did. Our own commits move the
    /// count too, which costs one more render of what they changed.
    pub async fn notice_other_writers(&self) -> Result<bool> {
        let (count,): (i64,) = sqlx::query_as("SELECT changes FROM store_version")
            .fetch_one(&self.read)
            .await?;
        let seen = count.max(0) as u64 + 1;
        let before = self.changes.counted.swap(seen, Ordering::AcqRel);
        let moved = before != 0 && before != seen;
        if moved {
            self.changes.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(moved)
    }

    /// All devices with a MAC, the phonebook and the firmware choices, read in one transaction.
    pub async fn provisioning_data(&self) -> Result<ProvisioningData> {
        let mut tx = self.read.begin().await?;
        let devices = sqlx::query_as(DEVICES).fetch_all(&mut *tx).await?;
        let mut phonebook: Vec<PhonebookLine> =
            sqlx::query_as(PHONEBOOK).fetch_all(&mut *tx).await?;
        phonebook.sort();
        let firmware = sqlx::query_as("SELECT vendor, model, file FROM firmware_models")
            .fetch_all(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ProvisioningData {
            devices,
            phonebook,
            firmware,
        })
    }

    /// Closes the enrollment window of `id` if it is still open at `now`; true when this call
    /// closed it (so exactly one fetch gets the config without proof).
    pub async fn close_enrollment(&self, id: i64, now: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE devices SET prov_state = $1, enroll_until = NULL
              WHERE id = $2 AND prov_state = $3 AND enroll_until > $4",
        )
        .bind(ProvState::Provisioned)
        .bind(id)
        .bind(ProvState::Enrolling)
        .bind(now)
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Writes a batch of fetch records (the newest per device wins).
    pub async fn record_fetches(&self, fetches: &[Fetch]) -> Result<()> {
        let mut tx = self.write.begin().await?;
        for f in fetches {
            sqlx::query(
                "INSERT INTO device_fetches (device_id, ip, fetched_at, file, user_agent, model, firmware)
                 SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM devices WHERE id = $1)
                 ON CONFLICT (device_id) DO UPDATE SET ip = $2, fetched_at = $3, file = $4,
                     user_agent = $5, model = COALESCE($6, model), firmware = COALESCE($7, firmware)",
            )
            .bind(f.device_id)
            .bind(&f.ip)
            .bind(f.at)
            .bind(&f.file)
            .bind(&f.user_agent)
            .bind(&f.model)
            .bind(&f.firmware)
            .execute(&mut *tx)
            .await?;
            super::menu::fetched(&mut tx, f.device_id, f.generation).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds an unknown phone as an unassigned device; None when its MAC is taken meanwhile.
    pub async fn auto_register(
        &self,
        mac: &str,
        vendor: Vendor,
        model: Option<&str>,
    ) -> Result<Option<i64>> {
        let mut tx = self.write.begin().await?;
        let model = model.filter(|m| super::validate::model("model", m).is_ok());
        let spec = Spec {
            kind: DeviceKind::IpPhone,
            mac: Some(mac.to_owned()),
            vendor: Some(vendor),
            model: model.map(str::to_owned),
            label: super::devices::default_label(
                DeviceKind::IpPhone,
                Some(vendor),
                model,
                Some(mac),
                None,
            ),
            number: None,
            owner: Owner::Nobody,
            sip_password: None,
        };
        match super::devices::insert(&mut tx, spec, self.window_hours).await {
            Ok(id) => {
                tx.commit().await?;
                Ok(Some(id))
            }
            Err(StoreError::Conflict { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub async fn firmware_models(&self) -> Result<Vec<FirmwareModel>> {
        let rows = sqlx::query_as(
            "SELECT vendor, model, file FROM firmware_models ORDER BY vendor, model",
        )
        .fetch_all(&self.read)
        .await?;
        Ok(rows)
    }

    /// Chooses `file` as the firmware for phones of `vendor`/`model` (None removes the choice).
    pub async fn set_firmware_model(
        &self,
        vendor: Vendor,
        model: &str,
        file: Option<&str>,
    ) -> Result<()> {
        super::validate::model("model", model)?;
        match file {
            Some(file) => {
                sqlx::query(
                    "INSERT INTO firmware_models (vendor, model, file) VALUES ($1, $2, $3)
                 ON CONFLICT (vendor, model) DO UPDATE SET file = $3",
                )
                .bind(vendor)
                .bind(model)
                .bind(file)
                .execute(&self.write)
                .await?
            }
            None => {
                sqlx::query("DELETE FROM firmware_models WHERE vendor = $1 AND model = $2")
                    .bind(vendor)
                    .bind(model)
                    .execute(&self.write)
                    .await?
            }
        };
        Ok(())
    }

    /// The time the store uses, for callers that compare against stored timestamps.
    pub fn now(&self) -> i64 {
        unix_now()
    }
}
