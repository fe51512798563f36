//! The sheets of a workbook as typed rows. Only the form of each cell is checked here (a word
//! from its list, yes/no, text); what a value means (a free extension, an existing user) is
//! checked by the store, with the API's own rules, when the row is applied.

use std::collections::{HashMap, HashSet};

use super::read::Workbook;
use super::report::{Problem, Report};
use super::schema::{self, SheetKind};
use super::table::{Cells, Field, Table};
use crate::store::secret::Secret;
use crate::store::{
    ActionKind, Auth, NewAction, Role, Scope, Timing, Vendor, VoicemailMode, validate,
};

#[derive(Debug)]
pub struct UserRow {
    pub row: u32,
    pub username: String,
    pub display_name: Field<String>,
    pub extension: Field<String>,
    pub auth: Field<Auth>,
    pub password: Field<Secret>,
    pub pin: Field<Secret>,
    pub fax_extension: Field<String>,
    pub email: Field<String>,
    pub language: Field<String>,
    pub voicemail: Field<VoicemailMode>,
    pub softphone: Field<bool>,
    pub mobile_number: Field<String>,
    pub role: Field<Role>,
    pub action_template: Field<String>,
}

#[derive(Debug)]
pub struct PhoneRow {
    pub row: u32,
    /// Normalised: 12 lowercase hex digits.
    pub mac: String,
    pub vendor: Field<Vendor>,
    pub model: Field<String>,
    pub label: Field<String>,
    pub user: Field<String>,
    pub workplace: Field<String>,
}

#[derive(Debug)]
pub struct WorkplaceRow {
    pub row: u32,
    pub name: String,
    pub display_name: Field<String>,
    pub allowed_users: Field<Vec<String>>,
    pub allowed_roles: Field<Vec<Role>>,
}

#[derive(Debug)]
pub struct PhonebookRow {
    pub row: u32,
    pub name: String,
    pub number: Field<String>,
    pub company: Field<String>,
    /// The extra fields (email, mobile, fax, notes) by key.
    pub extra: Vec<(&'static str, Field<String>)>,
}

#[derive(Debug)]
pub struct SpeedDialRow {
    pub row: u32,
    pub code: String,
    pub name: Field<String>,
    pub number: Field<String>,
}

/// All rows of one action template, in order.
#[derive(Debug)]
pub struct TemplateRows {
    pub name: String,
    /// The first row that names it.
    pub first_row: u32,
    /// A row said `-` as the kind: no actions (rather than "keep them").
    pub clear: bool,
    /// Each step with its row.
    pub steps: Vec<(u32, NewAction)>,
}

/// The rows of one sheet, with what locates a problem in it.
#[derive(Debug)]
pub struct SheetRows<T> {
    /// The sheet as the file names it.
    pub sheet: String,
    /// Zero-based column of each key the header has.
    pub columns: HashMap<&'static str, u32>,
    pub rows: Vec<T>,
    /// The key of every row, whether it read cleanly or not: what a prune keeps.
    pub keys: HashSet<String>,
}

impl<T> SheetRows<T> {
    /// A problem at `row`, in the column of `key` when the sheet has one.
    pub fn problem(&self, row: Option<u32>, key: Option<&str>, message: String) -> Problem {
        super::table::locate(&self.sheet, &self.columns, row, key, message)
    }
}

/// The rows of each sheet the file has (with at least one data row).
#[derive(Debug, Default)]
pub struct Records {
    pub users: Option<SheetRows<UserRow>>,
    pub phones: Option<SheetRows<PhoneRow>>,
    pub workplaces: Option<SheetRows<WorkplaceRow>>,
    pub phonebook: Option<SheetRows<PhonebookRow>>,
    pub speed_dials: Option<SheetRows<SpeedDialRow>>,
    pub templates: Option<SheetRows<TemplateRows>>,
}

/// Reads every sheet; what cannot be read goes to `report` as problems.
pub fn parse(workbook: &Workbook, report: &mut Report) -> Records {
    let mut records = Records::default();
    let mut seen: HashMap<SheetKind, &str> = HashMap::new();
    for sheet in &workbook.sheets {
        if schema::is_notes(&sheet.name) {
            continue;
        }
        let Some(def) = schema::sheet_named(&sheet.name) else {
            let known: Vec<&str> = schema::SHEETS.iter().map(|s| s.name).collect();
            report.problem(sheet_problem(
                &sheet.name,
                format!(
                    "unknown sheet; an import reads {} (and ignores {})",
                    known.join(", "),
                    schema::NOTES
                ),
            ));
            continue;
        };
        if let Some(first) = seen.insert(def.kind, &sheet.name) {
            report.problem(sheet_problem(
                &sheet.name,
                format!("sheet {first} holds the same records; use one of them"),
            ));
            continue;
        }
        let mut problems = Vec::new();
        let table = Table::new(def, sheet, &mut problems);
        problems.into_iter().for_each(|p| report.problem(p));
        let Some(table) = table else { continue };
        // Counts in the file's order of sheets, whatever order they are applied in.
        report.counts(&sheet.name);
        match def.kind {
            SheetKind::Users => {
                records.users = Some(sheet_rows(&table, rows(&table, report, user)))
            }
            SheetKind::Phones => {
                records.phones = Some(sheet_rows(&table, rows(&table, report, phone)))
            }
            SheetKind::Workplaces => {
                records.workplaces = Some(sheet_rows(&table, rows(&table, report, workplace)));
            }
            SheetKind::Phonebook => {
                records.phonebook = Some(sheet_rows(&table, rows(&table, report, phonebook)));
            }
            SheetKind::SpeedDials => {
                records.speed_dials = Some(sheet_rows(&table, rows(&table, report, speed_dial)));
            }
            SheetKind::ActionTemplates => {
                let (steps, keys) = rows(&table, report, step);
                records.templates = Some(sheet_rows(&table, (group_templates(steps), keys)));
            }
        }
    }
    records
}

fn sheet_rows<T>(table: &Table<'_>, (rows, keys): (Vec<T>, HashSet<String>)) -> SheetRows<T> {
    SheetRows {
        sheet: table.sheet.name.clone(),
        columns: table.columns().clone(),
        rows,
        keys,
    }
}

fn sheet_problem(sheet: &str, message: String) -> Problem {
    Problem {
        sheet: sheet.to_owned(),
        row: None,
        column: None,
        cell: None,
        message,
    }
}

/// Every data row read by `read`, skipping (and reporting) rows with problems and rows whose
/// key repeats an earlier row's.
fn rows<T>(
    table: &Table<'_>,
    report: &mut Report,
    read: fn(&mut Cells<'_>) -> Option<(String, T)>,
) -> (Vec<T>, HashSet<String>) {
    let key = table.def.key();
    let mut first_row: HashMap<String, u32> = HashMap::new();
    let mut out = Vec::new();
    let mut keys = HashSet::new();
    for mut cells in table.rows() {
        let number = cells.number();
        keys.extend(key_of(table.def.kind, &cells));
        let read = read(&mut cells);
        if let Some((k, _)) = &read {
            let repeats = table.def.kind != SheetKind::ActionTemplates;
            match first_row.get(k) {
                Some(first) if repeats => {
                    cells.problem(Some(key), format!("{k} is already in row {first}"));
                }
                _ => {
                    first_row.insert(k.clone(), number);
                }
            }
        }
        let problems = cells.finish();
        if problems.is_empty() {
            out.extend(read.map(|(_, row)| row));
        } else {
            problems.into_iter().for_each(|p| report.problem(p));
        }
    }
    (out, keys)
}

/// A row's key as a prune compares it (a MAC normalised when it can be).
fn key_of(kind: SheetKind, cells: &Cells<'_>) -> Option<String> {
    match kind {
        SheetKind::Users => cells.peek("username"),
        SheetKind::Phones => cells
            .peek("mac")
            .map(|m| validate::mac("mac", &m).unwrap_or(m)),
        SheetKind::Workplaces => cells.peek("name"),
        SheetKind::Phonebook => Some(phonebook_key(
            &cells.peek("name")?,
            &cells.peek("number").unwrap_or_default(),
        )),
        SheetKind::SpeedDials => cells.peek("code"),
        SheetKind::ActionTemplates => cells.peek("template"),
    }
}

/// The key of a phonebook entry: name and number together.
pub fn phonebook_key(name: &str, number: &str) -> String {
    format!("{name} / {number}")
}

/// The key cell: required.
fn key(cells: &mut Cells<'_>, key: &str) -> Option<String> {
    match cells.text(key) {
        Field::Value(v) => Some(v),
        Field::Empty | Field::Clear => {
            cells.problem(Some(key), "must not be empty");
            None
        }
        Field::Absent => None,
    }
}

/// A secret cell; `-` does not remove a password or PIN (that is the API's to do).
fn secret(c: &mut Cells<'_>, key: &str) -> Field<Secret> {
    match c.secret_text(key) {
        Field::Value(v) => Field::Value(Secret::new(v)),
        Field::Clear => {
            c.problem(
                Some(key),
                "- does not remove it; leave the cell empty to keep it",
            );
            Field::Absent
        }
        Field::Empty => Field::Empty,
        Field::Absent => Field::Absent,
    }
}

fn user(c: &mut Cells<'_>) -> Option<(String, UserRow)> {
    let username = key(c, "username")?;
    let password = secret(c, "password");
    let pin = secret(c, "pin");
    let row = UserRow {
        row: c.number(),
        display_name: c.text("display_name"),
        extension: c.text("extension"),
        auth: c.word("auth", Auth::parse, Auth::ALL),
        password,
        pin,
        fax_extension: c.text("fax_extension"),
        email: c.text("email"),
        language: c.text("language"),
        voicemail: c.word("voicemail", VoicemailMode::parse, VoicemailMode::ALL),
        softphone: c.flag("softphone"),
        mobile_number: c.text("mobile_number"),
        role: c.word("role", Role::parse, Role::ALL),
        action_template: c.text("action_template"),
        username: username.clone(),
    };
    Some((username, row))
}

fn phone(c: &mut Cells<'_>) -> Option<(String, PhoneRow)> {
    let mac = key(c, "mac")?;
    // Rows match by the normalised MAC, so two notations of one phone are one key.
    let normal = match validate::mac("mac", &mac) {
        Ok(m) => m,
        Err(e) => {
            c.problem(Some("mac"), message_of(&e));
            return None;
        }
    };
    let row = PhoneRow {
        row: c.number(),
        mac: normal.clone(),
        vendor: c.word("vendor", Vendor::parse, Vendor::ALL),
        model: c.text("model"),
        label: c.text("label"),
        user: c.text("user"),
        workplace: c.text("workplace"),
    };
    Some((normal, row))
}

fn workplace(c: &mut Cells<'_>) -> Option<(String, WorkplaceRow)> {
    let name = key(c, "name")?;
    let roles = c.list("allowed_roles").and_then(|words| {
        let roles: Vec<Option<Role>> = words
            .iter()
            .map(|w| Role::parse(&w.to_lowercase()))
            .collect();
        let unknown: Vec<&String> = words
            .iter()
            .zip(&roles)
            .filter(|(_, r)| r.is_none())
            .map(|(w, _)| w)
            .take(3)
            .collect();
        if unknown.is_empty() {
            Field::Value(roles.into_iter().flatten().collect())
        } else {
            c.problem(Some("allowed_roles"), format!("not roles: {unknown:?}"));
            Field::Absent
        }
    });
    let row = WorkplaceRow {
        row: c.number(),
        display_name: c.text("display_name"),
        allowed_users: c.list("allowed_users"),
        allowed_roles: roles,
        name: name.clone(),
    };
    Some((name, row))
}

/// The phonebook's extra columns, stored in the entry's extra fields.
pub const PHONEBOOK_EXTRA: [&str; 4] = ["email", "mobile", "fax", "notes"];

fn phonebook(c: &mut Cells<'_>) -> Option<(String, PhonebookRow)> {
    let name = key(c, "name")?;
    let number = c.text("number");
    let row = PhonebookRow {
        row: c.number(),
        company: c.text("company"),
        extra: PHONEBOOK_EXTRA.iter().map(|k| (*k, c.text(k))).collect(),
        name: name.clone(),
        number: number.clone(),
    };
    let key = phonebook_key(&name, number.value().map_or("", String::as_str));
    Some((key, row))
}

fn speed_dial(c: &mut Cells<'_>) -> Option<(String, SpeedDialRow)> {
    let code = key(c, "code")?;
    let row = SpeedDialRow {
        row: c.number(),
        name: c.text("name"),
        number: c.text("number"),
        code: code.clone(),
    };
    Some((code, row))
}

/// What one row of the ActionTemplates sheet says about its template.
#[derive(Debug)]
enum Line {
    Action(NewAction),
    /// Only the template's name: a new template without actions; an existing one stays.
    Name,
    /// `-` as the kind: the template has no actions.
    Clear,
}

/// A template's name, the row and what it says.
type Step = (String, u32, Line);

/// One step of a template; a row with only the template's name is a template without steps.
fn step(c: &mut Cells<'_>) -> Option<(String, Step)> {
    let template = key(c, "template")?;
    let scope = c.word("scope", Scope::parse, Scope::ALL);
    let timing = c.word("timing", Timing::parse, Timing::ALL);
    let kind = c.word("kind", ActionKind::parse, ActionKind::ALL);
    let target = c.text("target").value().cloned();
    let named = [
        matches!(scope, Field::Value(_)),
        matches!(timing, Field::Value(_)),
        matches!(kind, Field::Value(_)),
        target.is_some(),
    ];
    if named.iter().all(|n| !n) {
        let line = if matches!(kind, Field::Clear) {
            Line::Clear
        } else {
            Line::Name
        };
        return Some((template.clone(), (template, c.number(), line)));
    }
    let scope = required(c, scope, "scope");
    let timing = required(c, timing, "timing");
    let kind = required(c, kind, "kind");
    let action = NewAction {
        scope: scope?,
        timing: timing?,
        kind: kind?,
        target,
    };
    Some((
        template.clone(),
        (template, c.number(), Line::Action(action)),
    ))
}

fn required<T>(c: &mut Cells<'_>, field: Field<T>, key: &str) -> Option<T> {
    match field {
        Field::Value(v) => Some(v),
        Field::Empty | Field::Clear => {
            c.problem(Some(key), "must not be empty");
            None
        }
        // Absent after a problem with the cell, or because the sheet lacks the column.
        Field::Absent => {
            if !c.has(key) {
                c.problem(None, format!("the sheet needs the column {key}"));
            }
            None
        }
    }
}

fn group_templates(steps: Vec<Step>) -> Vec<TemplateRows> {
    let mut out: Vec<TemplateRows> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (name, row, action) in steps {
        let i = *index.entry(name.clone()).or_insert_with(|| {
            out.push(TemplateRows {
                name,
                first_row: row,
                steps: Vec::new(),
                clear: false,
            });
            out.len() - 1
        });
        match action {
            Line::Action(action) => out[i].steps.push((row, action)),
            Line::Clear => out[i].clear = true,
            Line::Name => {}
        }
    }
    out
}

/// A store error's message without its field (the problem names the column).
pub fn message_of(e: &crate::store::StoreError) -> String {
    match e {
        crate::store::StoreError::Invalid { message, .. }
        | crate::store::StoreError::Conflict { message, .. } => message.clone(),
        other => other.to_string(),
    }
}
