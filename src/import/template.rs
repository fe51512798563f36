//! The workbook we write: the template (headers only), or an export of what the store holds,
//! to edit and import again. One sheet per [`schema::SHEETS`] entry, every column text-formatted
//! (so Excel keeps `0049…` and `+49…` as typed), drop-down lists where a column has choices, a
//! note on each header, and a notes sheet in German and English.
//!
//! A value we write that starts with `=`, `+`, `-` or `@` gets Excel's quote prefix: the cell
//! shows and re-imports the text as it is, and Excel never takes it for a formula when someone
//! edits it. Secrets are never exported.

use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format, Note, Workbook, Worksheet,
};

use super::ImportError;
use super::limits::Limits;
use super::records::PHONEBOOK_EXTRA;
use super::schema::{self, SheetDef, SheetKind};
use super::table::CLEAR;
use crate::store::{Result as StoreResult, Store};

/// Rows of text per sheet, in the schema's column order.
type Rows = Vec<Vec<String>>;

/// The empty template.
pub fn write_template() -> Result<Vec<u8>, ImportError> {
    write(&Export::default())
}

/// A workbook holding everything the import reads, as the store has it now.
pub async fn write_export(store: &Store) -> Result<Vec<u8>, ImportError> {
    write(&Export::load(store).await?)
}

fn write(data: &Export) -> Result<Vec<u8>, ImportError> {
    let mut book = Workbook::new();
    for def in schema::SHEETS {
        let sheet = book.add_worksheet();
        sheet.set_name(def.name)?;
        write_sheet(sheet, def, data.rows(def.kind))?;
    }
    let notes = book.add_worksheet();
    notes.set_name(schema::NOTES)?;
    write_notes(notes)?;
    Ok(book.save_to_buffer()?)
}

fn write_sheet(sheet: &mut Worksheet, def: &SheetDef, rows: &Rows) -> Result<(), ImportError> {
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7));
    let text = Format::new().set_num_format("@");
    let quoted = text.clone().set_quote_prefix();
    let last_row = Limits::default().rows - 1;
    for (i, column) in def.columns.iter().enumerate() {
        let col = i as u16;
        sheet.write_string_with_format(0, col, column.key, &header)?;
        sheet.insert_note(
            0,
            col,
            &Note::new(format!(
                "{}: {}\n{}",
                column.german, column.note_de, column.note_en
            ))
            .set_author("zentrale"),
        )?;
        sheet.set_column_format(col, &text)?;
        sheet.set_column_width(col, (column.key.len().max(column.example.len()) + 4) as f64)?;
        if !column.choices.is_empty() {
            // '-' clears a field; a typo only warns, and the import names it at its cell.
            let mut words = column.choices.to_vec();
            words.push(CLEAR);
            let list = DataValidation::new()
                .allow_list_strings(&words)?
                .set_error_style(DataValidationErrorStyle::Warning)
                .set_error_message(format!("one of: {}", words.join(", ")))?;
            sheet.add_data_validation(1, col, last_row, col, &list)?;
        }
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, value) in row.iter().enumerate().filter(|(_, v)| !v.is_empty()) {
            let format = if value.starts_with(['=', '+', '-', '@']) {
                &quoted
            } else {
                &text
            };
            sheet.write_string_with_format(r as u32 + 1, c as u16, value, format)?;
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

const HOW_DE: &[&str] = &[
    "So funktioniert der Import",
    "Jedes Blatt legt an oder ändert: Zeilen werden am Schlüssel erkannt (Anmeldename, MAC-Adresse, Name des Arbeitsplatzes, Kurzwahl, Vorlage; im Telefonbuch Name und Nummer).",
    "Ein leeres Feld und eine fehlende Spalte ändern an vorhandenen Einträgen nichts (bei neuen heißt leer: kein Wert bzw. der Standard). Ein einzelnes - leert ein Feld oder setzt seinen Standard. Dieses Blatt wird nicht importiert.",
    "Erst prüfen: zentrale import DATEI.xlsx --dry-run zeigt, was angelegt, geändert und gelöscht würde, und jedes Problem mit Blatt, Zeile und Spalte. Ohne --dry-run gilt: alles oder nichts.",
    "Gelöscht wird nur mit --prune --yes: dann fehlt, was ein Blatt mit Zeilen nicht mehr nennt. Passwörter und PINs werden nie exportiert; vorhandene bleiben, außer mit --reset-secrets.",
    "Formeln werden nicht ausgewertet: bitte Werte eintragen.",
];

const HOW_EN: &[&str] = &[
    "How the import works",
    "Each sheet creates or updates: rows match by their key (username, MAC address, workplace name, speed-dial code, template; in the phonebook name and number together).",
    "An empty cell and a missing column change nothing in existing records (in new ones empty means no value, or the default). A lone - clears a field or sets its default. This sheet is not imported.",
    "Check first: zentrale import FILE.xlsx --dry-run shows what would be created, updated and deleted, and every problem by sheet, row and column. Without --dry-run it is all or nothing.",
    "Nothing is deleted unless --prune --yes: then what a sheet with rows no longer lists goes. Passwords and PINs are never exported; existing ones stay unless --reset-secrets.",
    "Formulas are not evaluated: please enter values.",
];

fn write_notes(sheet: &mut Worksheet) -> Result<(), ImportError> {
    let bold = Format::new().set_bold();
    let mut row = 0u32;
    for (i, (de, en)) in HOW_DE.iter().zip(HOW_EN).enumerate() {
        let format = if i == 0 { bold.clone() } else { Format::new() };
        sheet.write_string_with_format(row, 0, *de, &format)?;
        sheet.write_string_with_format(row, 4, *en, &format)?;
        row += 1;
    }
    row += 1;
    let headings = [
        "Blatt / Sheet",
        "Spalte / Column",
        "Name",
        "Beschreibung",
        "Description",
        "Werte / Values",
        "Beispiel / Example",
    ];
    for (c, h) in headings.iter().enumerate() {
        sheet.write_string_with_format(row, c as u16, *h, &bold)?;
    }
    for def in schema::SHEETS {
        row += 1;
        sheet.write_string_with_format(row, 0, def.name, &bold)?;
        sheet.write_string(row, 3, def.about_de)?;
        sheet.write_string(row, 4, def.about_en)?;
        for column in def.columns {
            row += 1;
            let cells = [
                def.german,
                column.key,
                column.german,
                column.note_de,
                column.note_en,
                &column.choices.join(", "),
                column.example,
            ];
            for (c, value) in cells.iter().enumerate() {
                sheet.write_string(row, c as u16, *value)?;
            }
        }
    }
    for (c, width) in [16, 18, 22, 60, 60, 40, 22].into_iter().enumerate() {
        sheet.set_column_width(c as u16, width)?;
    }
    Ok(())
}

/// The store's records as rows of the sheets.
#[derive(Debug, Default)]
struct Export {
    users: Rows,
    phones: Rows,
    workplaces: Rows,
    phonebook: Rows,
    speed_dials: Rows,
    templates: Rows,
}

fn opt(value: Option<impl ToString>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

impl Export {
    async fn load(store: &Store) -> StoreResult<Export> {
        let users = store.users().await?.into_iter().map(|u| {
            vec![
                u.username,
                u.display_name,
                opt(u.extension),
                u.auth.to_string(),
                String::new(),
                String::new(),
                opt(u.fax_extension),
                opt(u.email),
                u.language,
                u.voicemail.to_string(),
                if u.softphone { "yes" } else { "no" }.to_owned(),
                opt(u.mobile_number),
                opt(u.role),
                opt(u.action_template),
            ]
        });
        let phones = store.devices().await?.into_iter().filter_map(|d| {
            Some(vec![
                d.mac?,
                opt(d.vendor),
                opt(d.model),
                d.label,
                opt(d.user),
                opt(d.workplace),
            ])
        });
        let workplaces = store.workplaces().await?.into_iter().map(|w| {
            let roles: Vec<&str> = w.allowed_roles.iter().map(|r| r.as_str()).collect();
            vec![
                w.name,
                w.display_name,
                w.allowed_users.join(", "),
                roles.join(", "),
            ]
        });
        let phonebook = store.phonebook().await?.into_iter().map(|e| {
            let mut row = vec![e.name, e.number, opt(e.company)];
            row.extend(PHONEBOOK_EXTRA.iter().map(|k| opt(e.extra.get(*k))));
            row
        });
        let speed_dials = store
            .speed_dials()
            .await?
            .into_iter()
            .map(|d| vec![d.code, d.name, d.number]);
        let mut templates = Vec::new();
        for t in store.action_templates().await? {
            if t.actions.is_empty() {
                templates.push(vec![t.name.clone()]);
            }
            for a in t.actions {
                templates.push(vec![
                    t.name.clone(),
                    a.scope.to_string(),
                    a.timing.to_string(),
                    a.kind.to_string(),
                    opt(a.target),
                ]);
            }
        }
        Ok(Export {
            users: users.collect(),
            phones: phones.collect(),
            workplaces: workplaces.collect(),
            phonebook: phonebook.collect(),
            speed_dials: speed_dials.collect(),
            templates,
        })
    }

    fn rows(&self, kind: SheetKind) -> &Rows {
        match kind {
            SheetKind::Users => &self.users,
            SheetKind::Phones => &self.phones,
            SheetKind::Workplaces => &self.workplaces,
            SheetKind::Phonebook => &self.phonebook,
            SheetKind::SpeedDials => &self.speed_dials,
            SheetKind::ActionTemplates => &self.templates,
        }
    }
}
