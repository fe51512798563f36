//! The sheets beside users and phones: workplaces (who may log in is set once the users are
//! in), the global phonebook, speed dials and action templates.

use std::collections::{BTreeMap, HashMap, VecDeque};

use super::{ImportError, Run};
use crate::import::records::{
    PhonebookRow, SheetRows, SpeedDialRow, TemplateRows, WorkplaceRow, phonebook_key,
};
use crate::import::report::ChangeKind;
use crate::import::table::Field;
use crate::store::{
    NewAction, NewPhonebookEntry, NewWorkplace, PhonebookEntry, PhonebookPatch, SpeedDialBody,
    StoreError, WorkplacePatch,
};

/// The kinds of records keyed by a name (or code), for a prune.
#[derive(Debug, Clone, Copy)]
pub(super) enum ByName {
    SpeedDial,
    Template,
    Workplace,
}

/// Who may log in at a workplace, set after the users exist.
#[derive(Debug)]
pub(super) struct Access {
    row: u32,
    name: String,
    patch: WorkplacePatch,
}

impl Run<'_> {
    pub(super) async fn workplaces(
        &mut self,
        sheet: &SheetRows<WorkplaceRow>,
    ) -> Result<Vec<Access>, ImportError> {
        let mut access = Vec::new();
        for row in &sheet.rows {
            self.step();
            let cur = self.snap.workplaces.get(&row.name);
            let (users, roles) = cur.map_or((Vec::new(), Vec::new()), |w| {
                (w.allowed_users.clone(), w.allowed_roles.clone())
            });
            let wanted = WorkplacePatch {
                display_name: None,
                allowed_users: list(&row.allowed_users, &users),
                allowed_roles: list(&row.allowed_roles, &roles),
            };
            let mut fields = Vec::new();
            if wanted.allowed_users.is_some() {
                fields.push("allowed_users".to_owned());
            }
            if wanted.allowed_roles.is_some() {
                fields.push("allowed_roles".to_owned());
            }
            let (done, action) = match cur {
                None => {
                    let new = NewWorkplace {
                        name: row.name.clone(),
                        display_name: row.display_name.value().cloned(),
                        ..NewWorkplace::default()
                    };
                    (self.batch.create_workplace(&new).await, ChangeKind::Create)
                }
                Some(w) => {
                    let display = match &row.display_name {
                        Field::Absent | Field::Empty => None,
                        Field::Clear => Some(row.name.clone()),
                        Field::Value(v) => Some(v.clone()),
                    }
                    .filter(|d| *d != w.display_name);
                    let done = match display {
                        Some(d) => {
                            fields.insert(0, "display_name".into());
                            let patch = WorkplacePatch {
                                display_name: Some(d),
                                ..WorkplacePatch::default()
                            };
                            self.batch.update_workplace(&row.name, &patch).await
                        }
                        None => Ok(()),
                    };
                    (done, ChangeKind::Update)
                }
            };
            if self.settle(done, sheet, Some(row.row))? {
                let changes_access =
                    wanted.allowed_users.is_some() || wanted.allowed_roles.is_some();
                if changes_access {
                    access.push(Access {
                        row: row.row,
                        name: row.name.clone(),
                        patch: wanted,
                    });
                }
                let fields = if action == ChangeKind::Create {
                    Vec::new()
                } else {
                    fields
                };
                self.record(sheet, Some(row.row), &row.name, action, fields);
            }
        }
        Ok(access)
    }

    pub(super) async fn workplace_access(
        &mut self,
        sheet: &SheetRows<WorkplaceRow>,
        access: Vec<Access>,
    ) -> Result<(), ImportError> {
        for a in access {
            let done = self.batch.update_workplace(&a.name, &a.patch).await;
            self.settle(done, sheet, Some(a.row))?;
        }
        Ok(())
    }

    pub(super) async fn phonebook(
        &mut self,
        sheet: &SheetRows<PhonebookRow>,
    ) -> Result<(), ImportError> {
        let matched: Vec<Option<PhonebookEntry>> =
            match_phonebook(&sheet.rows, &self.snap.phonebook)
                .into_iter()
                .map(|e| e.cloned())
                .collect();
        for (row, entry) in sheet.rows.iter().zip(matched) {
            self.step();
            let key = format!(
                "{} {}",
                row.name,
                row.number.value().map_or("", String::as_str)
            );
            let (done, action, fields) = match entry {
                None => {
                    let new = NewPhonebookEntry {
                        name: row.name.clone(),
                        number: row.number.value().cloned().unwrap_or_default(),
                        company: row.company.value().cloned(),
                        extra: extra(row, &BTreeMap::new()),
                    };
                    let done = self.batch.add_phonebook_entry(&new).await;
                    (done, ChangeKind::Create, Vec::new())
                }
                Some(e) => {
                    let (patch, fields) = phonebook_diff(row, &e);
                    let done = if fields.is_empty() {
                        Ok(())
                    } else {
                        self.batch.update_phonebook_entry(e.id, patch).await
                    };
                    (done, ChangeKind::Update, fields)
                }
            };
            if self.settle(done, sheet, Some(row.row))? {
                self.record(sheet, Some(row.row), &key, action, fields);
            }
        }
        Ok(())
    }

    pub(super) async fn prune_phonebook(
        &mut self,
        sheet: &SheetRows<PhonebookRow>,
    ) -> Result<(), ImportError> {
        let gone: Vec<PhonebookEntry> = self
            .snap
            .phonebook
            .iter()
            .filter(|e| !sheet.keys.contains(&phonebook_key(&e.name, &e.number)))
            .cloned()
            .collect();
        for e in gone {
            let done = self.batch.delete_phonebook_entry(e.id).await;
            if self.settle(done, sheet, None)? {
                let key = format!("{} {}", e.name, e.number);
                self.record(sheet, None, &key, ChangeKind::Delete, Vec::new());
            }
        }
        Ok(())
    }

    pub(super) async fn speed_dials(
        &mut self,
        sheet: &SheetRows<SpeedDialRow>,
    ) -> Result<(), ImportError> {
        for row in &sheet.rows {
            self.step();
            let cur = self.snap.speed_dials.get(&row.code);
            let pick = |field: &Field<String>, cur: Option<&String>| match field {
                Field::Absent | Field::Empty => cur.cloned().unwrap_or_default(),
                Field::Clear => String::new(),
                Field::Value(v) => v.clone(),
            };
            let body = SpeedDialBody {
                name: pick(&row.name, cur.map(|d| &d.name)),
                number: pick(&row.number, cur.map(|d| &d.number)),
            };
            let (action, fields) = match cur {
                None => (ChangeKind::Create, Vec::new()),
                Some(d) => {
                    let fields: Vec<String> = [
                        ("name", body.name != d.name),
                        ("number", body.number != d.number),
                    ]
                    .into_iter()
                    .filter(|(_, changed)| *changed)
                    .map(|(f, _)| f.to_owned())
                    .collect();
                    (ChangeKind::Update, fields)
                }
            };
            let done = if action == ChangeKind::Update && fields.is_empty() {
                Ok(())
            } else {
                self.batch.put_speed_dial(&row.code, &body).await
            };
            if self.settle(done, sheet, Some(row.row))? {
                self.record(sheet, Some(row.row), &row.code, action, fields);
            }
        }
        Ok(())
    }

    pub(super) async fn templates(
        &mut self,
        sheet: &SheetRows<TemplateRows>,
    ) -> Result<(), ImportError> {
        for template in &sheet.rows {
            self.step();
            let first = Some(template.first_row);
            let actions: Vec<NewAction> = template.steps.iter().map(|(_, a)| a.clone()).collect();
            let cur = self.snap.templates.get(&template.name);
            // Rows that only name an existing template leave its actions alone.
            let keeps = actions.is_empty() && !template.clear;
            let (action, fields) = match cur {
                None => (ChangeKind::Create, Vec::new()),
                Some(t) if t.actions == actions || keeps => (ChangeKind::Update, Vec::new()),
                Some(_) => (ChangeKind::Update, vec!["actions".to_owned()]),
            };
            if action == ChangeKind::Update && fields.is_empty() {
                self.record(sheet, first, &template.name, action, fields);
                continue;
            }
            match self
                .batch
                .put_action_template(&template.name, &actions)
                .await
            {
                Ok(()) => self.record(sheet, first, &template.name, action, fields),
                Err(e) => {
                    let (row, e) = step_of(e, template);
                    let problem = super::refused(e, sheet, row.or(first))?;
                    self.report.problem(problem);
                }
            }
        }
        Ok(())
    }

    /// Deletes the records of a kind keyed by name that `sheet` does not list.
    pub(super) async fn prune_by_name<T>(
        &mut self,
        sheet: &SheetRows<T>,
        kind: ByName,
    ) -> Result<(), ImportError> {
        let existing: Vec<&String> = match kind {
            ByName::SpeedDial => self.snap.speed_dials.keys().collect(),
            ByName::Template => self.snap.templates.keys().collect(),
            ByName::Workplace => self.snap.workplaces.keys().collect(),
        };
        let mut gone: Vec<String> = existing
            .into_iter()
            .filter(|k| !sheet.keys.contains(*k))
            .cloned()
            .collect();
        gone.sort();
        for name in gone {
            let done = match kind {
                ByName::SpeedDial => self.batch.delete_speed_dial(&name).await,
                ByName::Template => self.batch.delete_action_template(&name).await,
                ByName::Workplace => self.batch.delete_workplace(&name).await,
            };
            if self.settle(done, sheet, None)? {
                self.record(sheet, None, &name, ChangeKind::Delete, Vec::new());
            }
        }
        Ok(())
    }
}

/// The list a row wants, when it differs from `cur` (order does not matter).
fn list<T: Clone + Ord>(field: &Field<Vec<T>>, cur: &[T]) -> Option<Vec<T>> {
    let mut wanted = match field {
        Field::Absent | Field::Empty => return None,
        Field::Clear => Vec::new(),
        Field::Value(v) => v.clone(),
    };
    wanted.sort();
    wanted.dedup();
    let mut cur = cur.to_vec();
    cur.sort();
    (wanted != cur).then_some(wanted)
}

/// For each row, the entry it updates: the first not yet taken with the same name and number.
fn match_phonebook<'e>(
    rows: &[PhonebookRow],
    entries: &'e [PhonebookEntry],
) -> Vec<Option<&'e PhonebookEntry>> {
    let mut by_key: HashMap<String, VecDeque<&PhonebookEntry>> = HashMap::new();
    for e in entries {
        by_key
            .entry(phonebook_key(&e.name, &e.number))
            .or_default()
            .push_back(e);
    }
    rows.iter()
        .map(|row| {
            let key = phonebook_key(&row.name, row.number.value()?);
            by_key.get_mut(&key)?.pop_front()
        })
        .collect()
}

/// The entry's extra fields as the row wants them, starting from `cur`.
fn extra(row: &PhonebookRow, cur: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut out = cur.clone();
    for (key, field) in &row.extra {
        match field {
            Field::Absent | Field::Empty => {}
            Field::Clear => {
                out.remove(*key);
            }
            Field::Value(v) => {
                out.insert((*key).to_owned(), v.clone());
            }
        }
    }
    out
}

fn phonebook_diff(row: &PhonebookRow, e: &PhonebookEntry) -> (PhonebookPatch, Vec<String>) {
    let mut patch = PhonebookPatch::default();
    let mut fields = Vec::new();
    let company = match &row.company {
        Field::Absent | Field::Empty => e.company.clone(),
        Field::Clear => None,
        Field::Value(v) => Some(v.clone()),
    };
    if company != e.company {
        patch.company = Some(company);
        fields.push("company".to_owned());
    }
    let wanted = extra(row, &e.extra);
    if wanted != e.extra {
        for (key, _) in &row.extra {
            if wanted.get(*key) != e.extra.get(*key) {
                fields.push((*key).to_owned());
            }
        }
        patch.extra = Some(wanted);
    }
    (patch, fields)
}

/// The row of the step an error names (`actions[2].target`), and the error about its column.
fn step_of(e: StoreError, template: &TemplateRows) -> (Option<u32>, StoreError) {
    let StoreError::Invalid { field, message } = e else {
        return (None, e);
    };
    let step = field
        .strip_prefix("actions[")
        .and_then(|rest| rest.split_once("]."))
        .and_then(|(i, column)| Some((i.parse::<usize>().ok()?, column.to_owned())));
    match step {
        Some((i, column)) => (
            template.steps.get(i).map(|(row, _)| *row),
            StoreError::Invalid {
                field: column,
                message,
            },
        ),
        None => {
            let field = if field == "name" {
                "template".to_owned()
            } else {
                field
            };
            (None, StoreError::Invalid { field, message })
        }
    }
}
