//! Devices [Endgeräte]: IP phones, softphones, mobiles and virtual fax devices, each with its own
//! random SIP credentials and menu token, owned by one user, one workplace or nobody.

use crate::clock::UnixTime;
use sqlx::SqliteConnection;

use super::secret::{Secret, random_alnum, random_hex};
use super::{
    Device, DeviceKind, DevicePatch, FollowMe, NewDevice, ProvState, Provisioning, Result,
    SipStatus, Store, StoreError, Vendor, followme, unique_as_conflict, unix_now, validate,
};

/// Who a device belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Owner {
    Nobody,
    User(i64),
    Workplace(i64),
}

/// What a new device row needs; credentials and token are made here.
#[derive(Debug)]
pub(super) struct Spec {
    pub kind: DeviceKind,
    pub mac: Option<String>,
    pub vendor: Option<Vendor>,
    pub model: Option<String>,
    pub label: String,
    pub number: Option<String>,
    pub owner: Owner,
    pub sip_password: Option<Secret>,
}

const SELECT: &str =
    "SELECT d.id, d.kind, d.mac, d.vendor, d.model, d.label, d.number, d.sip_username,
       u.username, w.name AS workplace, d.prov_state, d.enroll_until,
       COALESCE(df.firmware, d.firmware) AS firmware, df.ip AS last_ip,
       df.fetched_at AS last_seen, df.file AS last_file, df.model AS reported_model,
       (r.device_id IS NOT NULL) AS resync_pending, d.created_at, f.device_id AS fm_device, f.user_configurable,
       f.internal_enabled, f.internal_wait, f.internal_timeout,
       f.external_enabled, f.external_wait, f.external_timeout,
       f.team_enabled, f.team_wait, f.team_timeout
  FROM devices d
  LEFT JOIN users u ON u.id = d.owner_user_id
  LEFT JOIN workplaces w ON w.id = d.owner_workplace_id
  LEFT JOIN followme f ON f.device_id = d.id
  LEFT JOIN device_fetches df ON df.device_id = d.id
  LEFT JOIN device_resync r ON r.device_id = d.id";

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: DeviceKind,
    mac: Option<String>,
    vendor: Option<Vendor>,
    model: Option<String>,
    label: String,
    number: Option<String>,
    sip_username: String,
    username: Option<String>,
    workplace: Option<String>,
    prov_state: ProvState,
    enroll_until: Option<UnixTime>,
    firmware: Option<String>,
    last_ip: Option<String>,
    last_seen: Option<UnixTime>,
    last_file: Option<String>,
    reported_model: Option<String>,
    resync_pending: bool,
    created_at: UnixTime,
    #[sqlx(flatten)]
    followme: followme::Row,
}

impl From<Row> for Device {
    fn from(r: Row) -> Device {
        Device {
            id: r.id,
            kind: r.kind,
            mac: r.mac,
            vendor: r.vendor,
            model: r.model,
            label: r.label,
            number: r.number,
            sip_username: r.sip_username,
            user: r.username,
            workplace: r.workplace,
            followme: r.followme.into_followme(),
            provisioning: Provisioning {
                state: r.prov_state,
                enroll_until: r.enroll_until,
                firmware: r.firmware,
                last_ip: r.last_ip,
                last_seen: r.last_seen,
                last_file: r.last_file,
                reported_model: r.reported_model,
                resync_pending: r.resync_pending,
            },
            sip: SipStatus::default(),
            created_at: r.created_at,
        }
    }
}

/// Inserts a device, giving it SIP credentials, a menu token and (when owned) default FollowMe.
pub(super) async fn insert(
    conn: &mut SqliteConnection,
    spec: Spec,
    window_hours: u64,
) -> Result<i64> {
    insert_many(conn, vec![spec], window_hours)
        .await?
        .pop()
        .ok_or_else(|| StoreError::not_found("device", "just created"))
}

/// Rows per multi-row INSERT: far below SQLite's 32,766 bound parameters.
const CHUNK: usize = 500;

/// Inserts devices in a few statements; their ids in the order of `specs`.
pub(super) async fn insert_many(
    conn: &mut SqliteConnection,
    specs: Vec<Spec>,
    window_hours: u64,
) -> Result<Vec<i64>> {
    let now = unix_now();
    let mut ids = Vec::with_capacity(specs.len());
    let mut owned = Vec::new();
    for chunk in specs.chunks(CHUNK) {
        let names: Vec<String> = chunk
            .iter()
            .map(|_| random_alnum(12).to_ascii_lowercase())
            .collect();
        let mut query = sqlx::QueryBuilder::new(
            "INSERT INTO devices (kind, mac, vendor, model, label, number, sip_username, sip_password,
                 token, owner_user_id, owner_workplace_id, prov_state, enroll_until, created_at,
                 prov_username, prov_password) ",
        );
        query.push_values(chunk.iter().zip(&names), |mut b, (spec, name)| {
            let (user, workplace) = owner_columns(spec.owner);
            let (state, until) = enrollment(spec.owner, spec.kind, now, window_hours);
            let password = spec
                .sip_password
                .as_ref()
                .map(|s| s.expose().to_owned())
                .unwrap_or_else(|| random_alnum(24));
            b.push_bind(spec.kind)
                .push_bind(spec.mac.clone())
                .push_bind(spec.vendor)
                .push_bind(spec.model.clone())
                .push_bind(spec.label.clone())
                .push_bind(spec.number.clone())
                .push_bind(name.clone())
                .push_bind(password)
                .push_bind(random_hex(16))
                .push_bind(user)
                .push_bind(workplace)
                .push_bind(state)
                .push_bind(until)
                .push_bind(now)
                .push_bind(random_hex(6))
                .push_bind(random_hex(16));
        });
        // RETURNING comes in no promised order: match the rows by their unique SIP name.
        query.push(" RETURNING id, sip_username");
        let rows: Vec<(i64, String)> = query
            .build_query_as()
            .fetch_all(&mut *conn)
            .await
            .map_err(unique_as_conflict("mac", "a device with this MAC exists"))?;
        let by_name: std::collections::HashMap<String, i64> =
            rows.into_iter().map(|(id, name)| (name, id)).collect();
        for (spec, name) in chunk.iter().zip(&names) {
            let id = *by_name
                .get(name)
                .ok_or_else(|| StoreError::not_found("device", "just created"))?;
            if spec.owner != Owner::Nobody {
                owned.push(id);
            }
            ids.push(id);
        }
    }
    followme::insert_many(conn, &owned, &FollowMe::default()).await?;
    Ok(ids)
}

fn owner_columns(owner: Owner) -> (Option<i64>, Option<i64>) {
    match owner {
        Owner::Nobody => (None, None),
        Owner::User(id) => (Some(id), None),
        Owner::Workplace(id) => (None, Some(id)),
    }
}

/// An assigned phone may fetch its first full config for a while; others wait for the admin.
fn enrollment(
    owner: Owner,
    kind: DeviceKind,
    now: UnixTime,
    hours: u64,
) -> (ProvState, Option<UnixTime>) {
    if owner == Owner::Nobody || kind != DeviceKind::IpPhone {
        (ProvState::New, None)
    } else {
        (ProvState::Enrolling, Some(window_end(now, hours)))
    }
}

/// When an enrollment window opened at `now` for `hours` closes.
fn window_end(now: UnixTime, hours: u64) -> UnixTime {
    now.after(std::time::Duration::from_secs(hours.saturating_mul(3600)))
}

/// Deletes device `id`; a fax device goes only with its user's fax settings.
pub(super) async fn remove(conn: &mut SqliteConnection, id: i64) -> Result<()> {
    let device = one(conn, id).await?;
    if device.kind == DeviceKind::Fax {
        return Err(StoreError::invalid(
            "id",
            "a fax device is removed with its user's fax settings",
        ));
    }
    sqlx::query("DELETE FROM devices WHERE id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Gives a device a new owner; FollowMe starts over at the defaults for the new owner.
pub(super) async fn assign(
    conn: &mut SqliteConnection,
    id: i64,
    owner: Owner,
    window_hours: u64,
) -> Result<()> {
    let (user, workplace) = owner_columns(owner);
    let kind: (DeviceKind,) = sqlx::query_as("SELECT kind FROM devices WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("device", id))?;
    let (state, until) = enrollment(owner, kind.0, unix_now(), window_hours);
    sqlx::query(
        "UPDATE devices SET owner_user_id = $1, owner_workplace_id = $2,
             prov_state = CASE WHEN $3 = 'new' THEN prov_state ELSE $3 END,
             enroll_until = COALESCE($4, enroll_until)
         WHERE id = $5",
    )
    .bind(user)
    .bind(workplace)
    .bind(state)
    .bind(until)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    followme::delete(conn, id).await?;
    if owner != Owner::Nobody {
        followme::insert(conn, id, &FollowMe::default()).await?;
    }
    Ok(())
}

/// The current owner of device `id`.
pub(super) async fn owner_of(conn: &mut SqliteConnection, id: i64) -> Result<Owner> {
    let row: Option<(Option<i64>, Option<i64>)> =
        sqlx::query_as("SELECT owner_user_id, owner_workplace_id FROM devices WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    match row {
        None => Err(StoreError::not_found("device", id)),
        Some((Some(user), _)) => Ok(Owner::User(user)),
        Some((None, Some(workplace))) => Ok(Owner::Workplace(workplace)),
        Some((None, None)) => Ok(Owner::Nobody),
    }
}

/// Devices matching `filter` (a SQL condition on `d`, with `$1` bound to `arg`).
pub(super) async fn select(
    conn: &mut SqliteConnection,
    filter: &str,
    arg: i64,
) -> Result<Vec<Device>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("{SELECT} WHERE {filter} ORDER BY d.id"))
        .bind(arg)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows.into_iter().map(Device::from).collect())
}

pub(super) async fn one(conn: &mut SqliteConnection, id: i64) -> Result<Device> {
    select(conn, "d.id = $1", id)
        .await?
        .pop()
        .ok_or_else(|| StoreError::not_found("device", id))
}

impl Store {
    pub async fn create_device(&self, new: NewDevice) -> Result<Device> {
        let mut tx = self.write.begin().await?;
        let id = self.add_device(&mut tx, new).await?;
        let device = one(&mut tx, id).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Validates and inserts a device inside `conn`'s transaction.
    pub(super) async fn add_device(
        &self,
        conn: &mut SqliteConnection,
        new: NewDevice,
    ) -> Result<i64> {
        let owner = self
            .owner(conn, new.user.as_deref(), new.workplace.as_deref())
            .await?;
        let spec = device_spec(new, owner)?;
        insert(conn, spec, self.window_hours).await
    }

    pub async fn device(&self, id: i64) -> Result<Device> {
        one(&mut *self.read.acquire().await?, id).await
    }

    pub async fn devices(&self) -> Result<Vec<Device>> {
        select(&mut *self.read.acquire().await?, "$1 = 1", 1).await
    }

    pub async fn update_device(&self, id: i64, patch: DevicePatch) -> Result<Device> {
        let mut tx = self.write.begin().await?;
        self.change_device(&mut tx, id, &patch).await?;
        let device = one(&mut tx, id).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// The change itself, inside `conn`'s transaction.
    pub(super) async fn change_device(
        &self,
        conn: &mut SqliteConnection,
        id: i64,
        patch: &DevicePatch,
    ) -> Result<()> {
        let mut device = one(conn, id).await?;
        if device.kind == DeviceKind::Fax && (patch.user.is_some() || patch.workplace.is_some()) {
            return Err(StoreError::invalid(
                "user",
                "a fax device belongs to its user; change it under /users/{username}/fax",
            ));
        }
        apply_patch(&mut device, patch)?;
        check_kind_fields(device.kind, device.mac.as_deref(), device.number.as_deref())?;
        sqlx::query("UPDATE devices SET mac = $1, vendor = $2, model = $3, label = $4, number = $5 WHERE id = $6")
            .bind(&device.mac)
            .bind(device.vendor)
            .bind(&device.model)
            .bind(&device.label)
            .bind(&device.number)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(unique_as_conflict("mac", "a device with this MAC exists"))?;
        if let Some(secret) = &patch.sip_password {
            validate::password("sip_password", secret)?;
            sqlx::query("UPDATE devices SET sip_password = $1 WHERE id = $2")
                .bind(secret.expose())
                .bind(id)
                .execute(&mut *conn)
                .await?;
        }
        if patch.user.is_some() || patch.workplace.is_some() {
            let (user, workplace) = new_owner_names(&device, patch);
            let owner = self
                .owner(conn, user.as_deref(), workplace.as_deref())
                .await?;
            check_owner_kind(device.kind, owner)?;
            // Re-assigning to the same owner would reset its FollowMe.
            if owner_of(conn, id).await? != owner {
                assign(conn, id, owner, self.window_hours).await?;
            }
        }
        Ok(())
    }

    pub async fn delete_device(&self, id: i64) -> Result<()> {
        let mut tx = self.write.begin().await?;
        remove(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Re-opens the enrollment window of a device and gives it a new menu token and new
    /// provisioning credentials (the old ones may be what leaked).
    pub async fn enroll_device(&self, id: i64) -> Result<Device> {
        let mut tx = self.write.begin().await?;
        one(&mut tx, id).await?;
        let until = window_end(unix_now(), self.window_hours);
        sqlx::query(
            "UPDATE devices SET prov_state = $1, enroll_until = $2, token = $3,
                 prov_username = $4, prov_password = $5 WHERE id = $6",
        )
        .bind(ProvState::Enrolling)
        .bind(until)
        .bind(random_hex(16))
        .bind(random_hex(6))
        .bind(random_hex(16))
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let device = one(&mut tx, id).await?;
        tx.commit().await?;
        Ok(device)
    }

    /// Resolves an owner given by username or workplace name (at most one of them).
    pub(super) async fn owner(
        &self,
        conn: &mut SqliteConnection,
        user: Option<&str>,
        workplace: Option<&str>,
    ) -> Result<Owner> {
        match (user, workplace) {
            (Some(_), Some(_)) => Err(StoreError::invalid(
                "workplace",
                "a device belongs to a user or a workplace, not both",
            )),
            (Some(name), None) => Ok(Owner::User(
                super::users::referenced(conn, "user", name).await?,
            )),
            (None, Some(name)) => Ok(Owner::Workplace(
                super::workplaces::referenced(conn, "workplace", name).await?,
            )),
            (None, None) => Ok(Owner::Nobody),
        }
    }
}

/// The owner a patch asks for: naming a user moves the device off its workplace and the other
/// way round; `null` on one side clears only that side.
fn new_owner_names(device: &Device, patch: &DevicePatch) -> (Option<String>, Option<String>) {
    let names_user = matches!(patch.user, Some(Some(_)));
    let names_workplace = matches!(patch.workplace, Some(Some(_)));
    let user = match &patch.user {
        Some(v) => v.clone(),
        None if names_workplace => None,
        None => device.user.clone(),
    };
    let workplace = match &patch.workplace {
        Some(v) => v.clone(),
        None if names_user => None,
        None => device.workplace.clone(),
    };
    (user, workplace)
}

fn apply_patch(device: &mut Device, patch: &DevicePatch) -> Result<()> {
    if let Some(mac) = &patch.mac {
        device.mac = mac
            .as_deref()
            .map(|m| validate::mac("mac", m))
            .transpose()?;
    }
    if let Some(vendor) = patch.vendor {
        device.vendor = vendor;
    }
    if let Some(model) = &patch.model {
        if let Some(m) = model {
            validate::model("model", m)?;
        }
        device.model.clone_from(model);
    }
    if let Some(label) = &patch.label {
        validate::display_text("label", label)?;
        device.label.clone_from(label);
    }
    if let Some(number) = &patch.number {
        if let Some(n) = number {
            validate::phone_number("number", n)?;
        }
        device.number.clone_from(number);
    }
    Ok(())
}

fn device_spec(new: NewDevice, owner: Owner) -> Result<Spec> {
    let kind = new
        .kind
        .ok_or_else(|| StoreError::invalid("kind", "is required"))?;
    if kind == DeviceKind::Fax {
        return Err(StoreError::invalid(
            "kind",
            "fax devices are created through the user's fax settings",
        ));
    }
    check_owner_kind(kind, owner)?;
    let mac = new
        .mac
        .as_deref()
        .map(|m| validate::mac("mac", m))
        .transpose()?;
    check_kind_fields(kind, mac.as_deref(), new.number.as_deref())?;
    if let Some(m) = &new.model {
        validate::model("model", m)?;
    }
    if let Some(n) = &new.number {
        validate::phone_number("number", n)?;
    }
    if let Some(s) = &new.sip_password {
        validate::password("sip_password", s)?;
    }
    let label = match new.label {
        Some(l) => {
            validate::display_text("label", &l)?;
            l
        }
        None => default_label(
            kind,
            new.vendor,
            new.model.as_deref(),
            mac.as_deref(),
            new.number.as_deref(),
        ),
    };
    Ok(Spec {
        kind,
        mac,
        vendor: new.vendor,
        model: new.model,
        label,
        number: new.number,
        owner,
        sip_password: new.sip_password,
    })
}

fn check_kind_fields(kind: DeviceKind, mac: Option<&str>, number: Option<&str>) -> Result<()> {
    match kind {
        DeviceKind::IpPhone if mac.is_none() => {
            Err(StoreError::invalid("mac", "an ip-phone needs its MAC"))
        }
        DeviceKind::Mobile if number.is_none() => Err(StoreError::invalid(
            "number",
            "a mobile device needs its phone number",
        )),
        DeviceKind::Softphone | DeviceKind::Mobile | DeviceKind::Fax if mac.is_some() => {
            Err(StoreError::invalid("mac", "only an ip-phone has a MAC"))
        }
        // A mobile's number is dialled outside; anything else with a number would be an
        // extension that bypasses the dialplan's uniqueness.
        DeviceKind::IpPhone | DeviceKind::Softphone | DeviceKind::Fax if number.is_some() => Err(
            StoreError::invalid("number", "only a mobile device has a number"),
        ),
        _ => Ok(()),
    }
}

fn check_owner_kind(kind: DeviceKind, owner: Owner) -> Result<()> {
    if matches!(owner, Owner::Workplace(_))
        && !matches!(kind, DeviceKind::IpPhone | DeviceKind::Softphone)
    {
        return Err(StoreError::invalid(
            "workplace",
            "only ip-phones and softphones can belong to a workplace",
        ));
    }
    Ok(())
}

/// The label a device gets when none is given: vendor, model and MAC; "Mobile <number>", ...
pub fn default_label(
    kind: DeviceKind,
    vendor: Option<Vendor>,
    model: Option<&str>,
    mac: Option<&str>,
    number: Option<&str>,
) -> String {
    match kind {
        DeviceKind::IpPhone => {
            let name = [vendor.map(|v| v.as_str()), model]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let mac = mac.unwrap_or_default();
            if name.is_empty() {
                mac.to_owned()
            } else {
                format!("{name} {mac}")
            }
        }
        DeviceKind::Softphone => "Softphone".into(),
        DeviceKind::Mobile => format!("Mobile {}", number.unwrap_or_default()),
        DeviceKind::Fax => "Fax".into(),
    }
}
