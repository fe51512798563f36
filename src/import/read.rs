//! An xlsx file to plain cells, bounded: after [`guard::check`], calamine's streaming cell
//! reader hands over one cell at a time, and every cell's position and size is checked before
//! it is kept. Nothing is allocated by what the sheet declares (its dimension may say
//! `A1:XFD1048576`, calamine issue 693). Formulas are never evaluated: a formula cell is kept as
//! a formula, for the import to refuse at that cell.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx, XlsxError};
use serde::{Deserialize, Serialize};

use super::FileError;
use super::guard;
use super::limits::Limits;

// The short serde names keep the child's answer small: a cell costs a few bytes besides its text.

/// What one non-empty cell holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "i")]
    Int(i64),
    #[serde(rename = "n")]
    Number(f64),
    #[serde(rename = "b")]
    Bool(bool),
    /// A date, time or duration (never right for any column of ours).
    #[serde(rename = "d")]
    Date(String),
    /// An error value such as `#N/A`.
    #[serde(rename = "e")]
    Error(String),
    /// A formula (its text, shortened); its cached value is not used.
    #[serde(rename = "f")]
    Formula(String),
    /// Text longer than [`Limits::cell_chars`]: its length, not the text.
    #[serde(rename = "l")]
    TooLong(usize),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// Zero-based (A is 0).
    #[serde(rename = "c")]
    pub column: u32,
    #[serde(rename = "v")]
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    /// One-based, as the spreadsheet shows it.
    #[serde(rename = "n")]
    pub number: u32,
    #[serde(rename = "c")]
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sheet {
    pub name: String,
    /// Rows with at least one non-empty cell, in order.
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
}

/// Reads every worksheet of `bytes` (chart sheets are skipped).
pub fn read_workbook(bytes: &[u8], limits: &Limits) -> Result<Workbook, FileError> {
    guard::check(bytes, limits)?;
    let mut xlsx: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(calamine_error)?;
    let names = xlsx.sheet_names();
    if names.len() > limits.sheets {
        return Err(FileError::TooLarge {
            what: "sheets".into(),
            limit: limits.sheets.to_string(),
        });
    }
    let mut budget = Budget {
        cells: limits.cells,
        text: limits.text_bytes,
    };
    let mut sheets = Vec::new();
    for name in names {
        match read_sheet(&mut xlsx, &name, limits, &mut budget) {
            Ok(rows) => sheets.push(Sheet { name, rows }),
            Err(Skip::ChartSheet) => {}
            Err(Skip::Refused(e)) => return Err(e),
        }
    }
    Ok(Workbook { sheets })
}

enum Skip {
    ChartSheet,
    Refused(FileError),
}

/// What is left of the workbook's cells and text.
struct Budget {
    cells: usize,
    text: usize,
}

impl From<FileError> for Skip {
    fn from(e: FileError) -> Self {
        Skip::Refused(e)
    }
}

fn read_sheet(
    xlsx: &mut Xlsx<Cursor<&[u8]>>,
    name: &str,
    limits: &Limits,
    budget: &mut Budget,
) -> Result<Vec<Row>, Skip> {
    let mut reader = match xlsx.worksheet_cells_reader(name) {
        Ok(r) => r,
        Err(XlsxError::NotAWorksheet(_)) => return Err(Skip::ChartSheet),
        Err(e) => return Err(calamine_error(e).into()),
    };
    let mut rows: BTreeMap<u32, Vec<Cell>> = BTreeMap::new();
    while let Some(cell) = reader.next_cell_with_formula().map_err(calamine_error)? {
        let Some(value) = value_of(cell.value, cell.formula, limits) else {
            continue;
        };
        let (row, column) = cell.pos;
        let beyond = |limit: String| FileError::Beyond {
            sheet: name.to_owned(),
            cell: cell_name(row + 1, column),
            limit,
        };
        if row >= limits.rows {
            return Err(beyond(format!("{} rows", limits.rows)).into());
        }
        if column >= limits.columns {
            return Err(beyond(format!("{} columns", limits.columns)).into());
        }
        budget.cells = budget
            .cells
            .checked_sub(1)
            .ok_or_else(|| FileError::TooLarge {
                what: "non-empty cells".into(),
                limit: limits.cells.to_string(),
            })?;
        let text = match &value {
            Value::Text(t) => t.len(),
            _ => 0,
        };
        budget.text = budget
            .text
            .checked_sub(text)
            .ok_or_else(|| FileError::TooLarge {
                what: "the text in its cells".into(),
                limit: super::guard::mib(limits.text_bytes as u64),
            })?;
        rows.entry(row + 1)
            .or_default()
            .push(Cell { column, value });
    }
    Ok(rows
        .into_iter()
        .map(|(number, mut cells)| {
            cells.sort_by_key(|c| c.column);
            Row { number, cells }
        })
        .collect())
}

/// The value to keep, None for an empty cell.
fn value_of(value: DataRef<'_>, formula: Option<String>, limits: &Limits) -> Option<Value> {
    if let Some(f) = formula.filter(|f| !f.is_empty()) {
        return Some(Value::Formula(f.chars().take(40).collect()));
    }
    let text = |s: &str| {
        let n = s.chars().count();
        if n > limits.cell_chars {
            Value::TooLong(n)
        } else {
            Value::Text(s.to_owned())
        }
    };
    Some(match value {
        DataRef::Empty => return None,
        DataRef::String(s) => text(&s),
        DataRef::SharedString(s) => text(s),
        DataRef::Int(i) => Value::Int(i),
        DataRef::Float(f) => Value::Number(f),
        DataRef::Bool(b) => Value::Bool(b),
        DataRef::DateTime(d) => Value::Date(format!("{}", d.as_f64())),
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            Value::Date(s.chars().take(40).collect())
        }
        DataRef::Error(e) => Value::Error(e.to_string()),
    })
}

fn calamine_error(e: XlsxError) -> FileError {
    match e {
        XlsxError::Password => FileError::Encrypted,
        other => FileError::Damaged(other.to_string()),
    }
}

/// The spreadsheet name of a column: A … Z, AA … (zero-based).
pub fn column_name(mut column: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (column % 26) as u8);
        if column < 26 {
            break;
        }
        column = column / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// `C5` for one-based row 5, zero-based column 2.
pub fn cell_name(row: u32, column: u32) -> String {
    format!("{}{row}", column_name(column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_run_like_a_spreadsheet() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702, 16383]
            .into_iter()
            .map(column_name)
            .collect();
        assert_eq!(
            names,
            ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA", "XFD"]
        );
        assert_eq!(cell_name(5, 2), "C5");
    }
}
