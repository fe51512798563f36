//! The Phones sheet: IP phones by MAC. A phone already known (added by the admin, or
//! registered by itself when it first asked for its config) is updated and assigned; an
//! unknown MAC is added. A new owner opens the phone's enrollment window, as in the API.

use super::{ImportError, Run};
use crate::import::records::{PhoneRow, SheetRows};
use crate::import::report::ChangeKind;
use crate::import::table::Field;
use crate::store::{Device, DeviceKind, DevicePatch, NewDevice, default_label};

impl Run<'_> {
    pub(super) async fn phones(&mut self, sheet: &SheetRows<PhoneRow>) -> Result<(), ImportError> {
        for row in &sheet.rows {
            self.step();
            let mac = row.mac.clone();
            match self.snap.phones.get(&mac).cloned() {
                None => {
                    let new = NewDevice {
                        kind: Some(DeviceKind::IpPhone),
                        mac: Some(mac.clone()),
                        vendor: row.vendor.value().copied(),
                        model: row.model.value().cloned(),
                        label: row.label.value().cloned(),
                        number: None,
                        user: row.user.value().cloned(),
                        workplace: row.workplace.value().cloned(),
                        sip_password: None,
                    };
                    let done = self.batch.create_device(new).await;
                    if self.settle(done, sheet, Some(row.row))? {
                        self.record(sheet, Some(row.row), &mac, ChangeKind::Create, Vec::new());
                    }
                }
                Some(device) => {
                    let (patch, fields) = diff(row, &device);
                    let done = if fields.is_empty() {
                        Ok(())
                    } else {
                        self.batch.update_device(device.id, &patch).await
                    };
                    if self.settle(done, sheet, Some(row.row))? {
                        self.record(sheet, Some(row.row), &mac, ChangeKind::Update, fields);
                    }
                }
            }
        }
        Ok(())
    }

    pub(super) async fn prune_phones(
        &mut self,
        sheet: &SheetRows<PhoneRow>,
    ) -> Result<(), ImportError> {
        let mut gone: Vec<(String, i64)> = self
            .snap
            .phones
            .iter()
            .filter(|(mac, d)| d.kind == DeviceKind::IpPhone && !sheet.keys.contains(*mac))
            .map(|(mac, d)| (mac.clone(), d.id))
            .collect();
        gone.sort();
        for (mac, id) in gone {
            let done = self.batch.delete_device(id).await;
            if self.settle(done, sheet, None)? {
                self.record(sheet, None, &mac, ChangeKind::Delete, Vec::new());
            }
        }
        Ok(())
    }
}

/// What the row changes about `device`.
fn diff(row: &PhoneRow, device: &Device) -> (DevicePatch, Vec<String>) {
    let mut patch = DevicePatch::default();
    let mut fields = Vec::new();
    let vendor = pick(&row.vendor, device.vendor);
    if vendor != device.vendor {
        patch.vendor = Some(vendor);
        fields.push("vendor".to_owned());
    }
    let model = pick(&row.model, device.model.clone());
    if model != device.model {
        patch.model = Some(model.clone());
        fields.push("model".to_owned());
    }
    let label = match &row.label {
        Field::Absent | Field::Empty => device.label.clone(),
        Field::Clear => default_label(
            DeviceKind::IpPhone,
            vendor,
            model.as_deref(),
            device.mac.as_deref(),
            None,
        ),
        Field::Value(l) => l.clone(),
    };
    if label != device.label {
        patch.label = Some(label);
        fields.push("label".to_owned());
    }
    let (user, workplace) = owner(row, device);
    if user != device.user {
        fields.push("user".to_owned());
        patch.user = Some(user);
    }
    if workplace != device.workplace {
        fields.push("workplace".to_owned());
        patch.workplace = Some(workplace);
    }
    (patch, fields)
}

/// The owner a row wants. Naming one side moves the phone off the other, as in the API; a
/// `-` unassigns its side; both named is the store's to refuse.
fn owner(row: &PhoneRow, device: &Device) -> (Option<String>, Option<String>) {
    match (&row.user, &row.workplace) {
        (Field::Value(u), Field::Value(w)) => (Some(u.clone()), Some(w.clone())),
        (Field::Value(u), _) => (Some(u.clone()), None),
        (_, Field::Value(w)) => (None, Some(w.clone())),
        (u, w) => (
            pick(u, device.user.clone()),
            pick(w, device.workplace.clone()),
        ),
    }
}

/// The value the row wants: the file's, none for `-`, the current for no column or no value.
fn pick<T: Clone>(field: &Field<T>, cur: Option<T>) -> Option<T> {
    match field {
        Field::Absent | Field::Empty => cur,
        Field::Clear => None,
        Field::Value(v) => Some(v.clone()),
    }
}
