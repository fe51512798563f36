//! What the provisioning server reads and writes: one snapshot of everything that goes into
//! phone configs (secrets included, so none of these types is serializable), the close of an
//! enrollment window, fetch records, firmware per model, and auto-registered phones.

use super::devices::{Owner, Spec};
use super::{DeviceKind, ProvState, Result, Store, StoreError, Vendor};
use crate::clock::UnixTime;

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
    pub enroll_until: Option<UnixTime>,
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
    /// Row ids of the owner, the workplace and its guest: what a change to them reaches.
    pub user_id: Option<i64>,
    pub workplace_id: Option<i64>,
    pub guest_id: Option<i64>,
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
    pub at: UnixTime,
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
       g.extension AS guest_extension, d.owner_user_id AS user_id,
       d.owner_workplace_id AS workplace_id, w.current_user_id AS guest_id
  FROM devices d
  LEFT JOIN users u ON u.id = d.owner_user_id
  LEFT JOIN workplaces w ON w.id = d.owner_workplace_id
  LEFT JOIN users g ON g.id = w.current_user_id
 WHERE d.mac IS NOT NULL";

const PHONEBOOK: &str = "SELECT name, number, COALESCE(company, '') AS company FROM phonebook
 UNION ALL
SELECT u.display_name, u.extension, '' FROM users u
  JOIN user_phonebook p ON p.user_id = u.id
 WHERE p.enabled AND u.extension IS NOT NULL";

impl Store {
    /// All devices with a MAC, the phonebook and the firmware choices, read in one transaction.
    pub async fn provisioning_data(&self) -> Result<ProvisioningData> {
        let mut tx = self.read.begin().await?;
        let devices = sqlx::query_as(&format!("{DEVICES} ORDER BY d.id"))
            .fetch_all(&mut *tx)
            .await?;
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

    /// The devices (with a MAC) among `devices`, owned by one of `users` or `workplaces`, or at
    /// a workplace where one of `users` is logged in: what a change to those reaches.
    pub async fn provisioning_devices(
        &self,
        devices: &[i64],
        users: &[i64],
        workplaces: &[i64],
    ) -> Result<Vec<ProvDevice>> {
        let mut query = sqlx::QueryBuilder::new(DEVICES);
        query.push(" AND (0");
        for (column, ids) in [
            ("d.id", devices),
            ("d.owner_user_id", users),
            ("w.current_user_id", users),
            ("d.owner_workplace_id", workplaces),
        ] {
            if ids.is_empty() {
                continue;
            }
            query.push(format!(" OR {column} IN ("));
            let mut list = query.separated(", ");
            for id in ids {
                list.push_bind(*id);
            }
            query.push(")");
        }
        query.push(") ORDER BY d.id");
        Ok(query.build_query_as().fetch_all(&self.read).await?)
    }

    /// The phonebook as phones see it: global entries and users who are in it, sorted.
    pub async fn provisioning_phonebook(&self) -> Result<Vec<PhonebookLine>> {
        let mut lines: Vec<PhonebookLine> = sqlx::query_as(PHONEBOOK).fetch_all(&self.read).await?;
        lines.sort();
        Ok(lines)
    }

    /// Closes the enrollment window of `id` if it is still open at `now`; true when this call
    /// closed it (so exactly one fetch gets the config without proof).
    pub async fn close_enrollment(&self, id: i64, now: UnixTime) -> Result<bool> {
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
}
