//! One sheet as a table: its header row mapped to our columns, and each data row's cells read
//! as text, words, yes/no or lists, every problem located at its cell.

use std::collections::HashMap;

use super::read::{Row, Sheet, Value, cell_name};
use super::report::Problem;
use super::schema::SheetDef;

/// What a row says about one field. An absent column and an empty cell never change an
/// existing record (an empty cell in a new one is no value, or the default); a lone `-` clears
/// the field or sets its default; anything else is a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field<T> {
    Absent,
    Empty,
    Clear,
    Value(T),
}

/// The cell text that clears a field.
pub const CLEAR: &str = "-";

impl<T> Field<T> {
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// What `read` makes of a value; absent, empty and clear stay what they are.
    pub fn and_then<U>(self, read: impl FnOnce(T) -> Field<U>) -> Field<U> {
        match self {
            Field::Value(v) => read(v),
            Field::Absent => Field::Absent,
            Field::Empty => Field::Empty,
            Field::Clear => Field::Clear,
        }
    }
}

/// A sheet whose header row has been read.
#[derive(Debug)]
pub struct Table<'a> {
    pub def: &'static SheetDef,
    pub sheet: &'a Sheet,
    /// Zero-based column index of each key present.
    columns: HashMap<&'static str, u32>,
}

impl<'a> Table<'a> {
    /// Reads the header (the first non-empty row). None, with the reason in `problems`, when
    /// the sheet cannot be read as `def`; also None for a sheet without data rows.
    pub fn new(
        def: &'static SheetDef,
        sheet: &'a Sheet,
        problems: &mut Vec<Problem>,
    ) -> Option<Self> {
        let header = sheet.rows.first()?;
        let mut columns = HashMap::new();
        let mut ok = true;
        for cell in &header.cells {
            let at = |message: String| Problem {
                sheet: sheet.name.clone(),
                row: Some(header.number),
                column: None,
                cell: Some(cell_name(header.number, cell.column)),
                message,
            };
            let Value::Text(text) = &cell.value else {
                problems.push(at("a header must be text".into()));
                ok = false;
                continue;
            };
            match def.column_named(text) {
                Some(c) if columns.insert(c.key, cell.column).is_some() => {
                    problems.push(at(format!("column {} appears twice", c.key)));
                    ok = false;
                }
                Some(_) => {}
                None => {
                    let known: Vec<&str> = def.columns.iter().map(|c| c.key).collect();
                    problems.push(at(format!(
                        "unknown column {:?}; this sheet has: {}",
                        text.trim(),
                        known.join(", ")
                    )));
                    ok = false;
                }
            }
        }
        if !columns.contains_key(def.key()) {
            problems.push(Problem {
                sheet: sheet.name.clone(),
                row: Some(header.number),
                column: Some(def.key().into()),
                cell: None,
                message: format!("the header row needs the column {}", def.key()),
            });
            ok = false;
        }
        (ok && sheet.rows.len() > 1).then_some(Table {
            def,
            sheet,
            columns,
        })
    }

    /// The data rows (all after the header).
    pub fn rows(&self) -> impl Iterator<Item = Cells<'_>> {
        self.sheet.rows[1..].iter().map(move |row| Cells {
            table: self,
            row,
            problems: Vec::new(),
        })
    }

    pub fn has(&self, key: &str) -> bool {
        self.columns.contains_key(key)
    }

    pub fn columns(&self) -> &HashMap<&'static str, u32> {
        &self.columns
    }
}

/// One data row being read; problems collect until [`Cells::finish`].
#[derive(Debug)]
pub struct Cells<'a> {
    table: &'a Table<'a>,
    pub row: &'a Row,
    problems: Vec<Problem>,
}

impl Cells<'_> {
    pub fn number(&self) -> u32 {
        self.row.number
    }

    pub fn has(&self, key: &str) -> bool {
        self.table.has(key)
    }

    /// A problem at the cell of `key` (or the row, for `None`).
    pub fn problem(&mut self, key: Option<&str>, message: impl Into<String>) {
        let problem = self.table.problem(self.row.number, key, message.into());
        self.problems.push(problem);
    }

    /// The row's problems; empty when it read cleanly.
    pub fn finish(self) -> Vec<Problem> {
        self.problems
    }

    /// The text of `key`'s cell as the row's key, without judging it (no problem recorded).
    pub fn peek(&self, key: &str) -> Option<String> {
        match self.raw(key) {
            Field::Value(Value::Text(t)) => Some(t.trim().to_owned()),
            Field::Value(Value::Int(i)) => Some(i.to_string()),
            Field::Value(Value::Number(f)) => Some(format!("{f}")),
            _ => None,
        }
    }

    fn raw(&self, key: &str) -> Field<&Value> {
        let Some(&column) = self.table.columns.get(key) else {
            return Field::Absent;
        };
        match self.row.cells.iter().find(|c| c.column == column) {
            Some(cell) => Field::Value(&cell.value),
            None => Field::Empty,
        }
    }

    /// Text of a cell, trimmed; numbers as their digits. Blank text is empty.
    pub fn text(&mut self, key: &str) -> Field<String> {
        self.text_as(key, true)
    }

    /// A secret's text: as typed (a space may belong to a password), and a cell that is not
    /// text is refused without repeating it.
    pub fn secret_text(&mut self, key: &str) -> Field<String> {
        self.text_as(key, false)
    }

    fn text_as(&mut self, key: &str, plain: bool) -> Field<String> {
        let value = match self.raw(key) {
            Field::Absent | Field::Clear => return Field::Absent,
            Field::Empty => return Field::Empty,
            Field::Value(v) => v.clone(),
        };
        let text = match value {
            Value::Text(t) if plain => t.trim().to_owned(),
            Value::Text(t) if t.trim().is_empty() || t.trim() == CLEAR => t.trim().to_owned(),
            Value::Text(t) => t,
            // A number cell has lost a PIN's leading zeros; a formula is not repeated.
            _ if !plain => {
                self.problem(
                    Some(key),
                    "must be typed as text, not as a number or formula",
                );
                return Field::Absent;
            }
            Value::Int(i) => i.to_string(),
            Value::Number(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", f as i64),
            Value::Number(f) => f.to_string(),
            other => {
                let why = match other {
                    Value::Bool(_) => "a TRUE/FALSE value; type the text".to_owned(),
                    Value::Date(_) => "a date or time; type the text".to_owned(),
                    Value::Error(e) => format!("an error value ({e})"),
                    Value::Formula(f) => {
                        format!("a formula (={f}); formulas are not evaluated, type the value")
                    }
                    Value::TooLong(n) => format!("{n} characters; at most 1024 fit a cell"),
                    _ => "not text".to_owned(),
                };
                self.problem(Some(key), why);
                return Field::Absent;
            }
        };
        match text.as_str() {
            "" => Field::Empty,
            CLEAR => Field::Clear,
            _ => Field::Value(text),
        }
    }

    /// One of a closed set of words (`parse`), case-insensitive.
    pub fn word<T>(&mut self, key: &str, parse: fn(&str) -> Option<T>, all: &[T]) -> Field<T>
    where
        T: std::fmt::Display,
    {
        self.text(key).and_then(|t| match parse(&t.to_lowercase()) {
            Some(v) => Field::Value(v),
            None => {
                let words: Vec<String> = all.iter().map(ToString::to_string).collect();
                self.problem(
                    Some(key),
                    format!("{t:?} is not one of: {}", words.join(", ")),
                );
                Field::Absent
            }
        })
    }

    /// yes/no (also ja/nein, true/false, 1/0, x); a TRUE/FALSE cell too.
    pub fn flag(&mut self, key: &str) -> Field<bool> {
        if let Field::Value(Value::Bool(b)) = self.raw(key) {
            return Field::Value(*b);
        }
        self.text(key)
            .and_then(|t| match t.to_lowercase().as_str() {
                "yes" | "ja" | "true" | "wahr" | "1" | "x" => Field::Value(true),
                "no" | "nein" | "false" | "falsch" | "0" => Field::Value(false),
                _ => {
                    self.problem(Some(key), format!("{t:?} is neither yes nor no"));
                    Field::Absent
                }
            })
    }

    /// Items separated by commas, semicolons or line breaks.
    pub fn list(&mut self, key: &str) -> Field<Vec<String>> {
        self.text(key).and_then(|t| {
            Field::Value(
                t.split([',', ';', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
        })
    }
}

impl Table<'_> {
    /// A problem in row `row` at the column of `key` (the row itself when the key has none).
    pub fn problem(&self, row: u32, key: Option<&str>, message: String) -> Problem {
        locate(&self.sheet.name, &self.columns, Some(row), key, message)
    }
}

/// A problem in `sheet` at `row` (None: the sheet), in the column of `key` when `columns`
/// (each key's zero-based index) has it.
pub fn locate(
    sheet: &str,
    columns: &HashMap<&'static str, u32>,
    row: Option<u32>,
    key: Option<&str>,
    message: String,
) -> Problem {
    let column = key.and_then(|k| columns.get_key_value(k));
    Problem {
        sheet: sheet.to_owned(),
        row,
        column: column.map(|(k, _)| (*k).to_owned()),
        cell: row.zip(column).map(|(r, (_, c))| cell_name(r, *c)),
        message,
    }
}
