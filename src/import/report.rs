//! What an import did or would do: counts per sheet, every change with the fields it touches,
//! every problem with its sheet, row and column. Secrets appear by name only.

use serde::Serialize;
use utoipa::ToSchema;

/// Something in the file that stops the import; the import changes nothing while there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// The sheet as the file names it.
    pub sheet: String,
    /// One-based row, None for the sheet as a whole.
    pub row: Option<u32>,
    /// The column's key (header), when one is to blame.
    pub column: Option<String>,
    /// The cell, e.g. `C5`.
    pub cell: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.sheet)?;
        if let Some(row) = self.row {
            write!(f, " row {row}")?;
        }
        match (&self.column, &self.cell) {
            (Some(column), Some(cell)) => write!(f, ", column {column} ({cell})")?,
            (Some(column), None) => write!(f, ", column {column}")?,
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Create,
    Update,
    Delete,
}

/// One record the import creates, updates or (with prune) deletes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Change {
    pub sheet: String,
    /// The row it comes from; None for a deletion (the record is not in the file).
    pub row: Option<u32>,
    /// Username, MAC, workplace name, ... of the record.
    pub key: String,
    pub action: ChangeKind,
    /// The fields an update changes.
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SheetCounts {
    pub sheet: String,
    pub create: usize,
    pub update: usize,
    pub unchanged: usize,
    pub delete: usize,
    pub problems: usize,
}

/// The result of an import or a dry run.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct Report {
    pub dry_run: bool,
    /// True only when the changes were committed.
    pub applied: bool,
    /// A prune would delete records and was not confirmed (`--yes`, `yes=true`).
    pub needs_confirmation: bool,
    pub sheets: Vec<SheetCounts>,
    pub changes: Vec<Change>,
    pub problems: Vec<Problem>,
    /// Problems beyond the first [`MAX_PROBLEMS`], counted but not listed.
    pub more_problems: usize,
    /// Things worth knowing that do not stop the import.
    pub notices: Vec<String>,
}

/// Problems listed in a report; a file with more has them counted (per sheet too).
pub const MAX_PROBLEMS: usize = 1000;

impl Report {
    pub fn counts(&mut self, sheet: &str) -> &mut SheetCounts {
        if let Some(i) = self.sheets.iter().position(|s| s.sheet == sheet) {
            return &mut self.sheets[i];
        }
        self.sheets.push(SheetCounts {
            sheet: sheet.to_owned(),
            ..SheetCounts::default()
        });
        let last = self.sheets.len() - 1;
        &mut self.sheets[last]
    }

    /// Records a change (an update with no fields is "unchanged").
    pub fn change(
        &mut self,
        sheet: &str,
        row: Option<u32>,
        key: &str,
        action: ChangeKind,
        fields: Vec<String>,
    ) {
        let counts = self.counts(sheet);
        match action {
            ChangeKind::Create => counts.create += 1,
            ChangeKind::Update if fields.is_empty() => {
                counts.unchanged += 1;
                return;
            }
            ChangeKind::Update => counts.update += 1,
            ChangeKind::Delete => counts.delete += 1,
        }
        self.changes.push(Change {
            sheet: sheet.to_owned(),
            row,
            key: key.to_owned(),
            action,
            fields,
        });
    }

    pub fn problem(&mut self, problem: Problem) {
        self.counts(&problem.sheet.clone()).problems += 1;
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(problem);
        } else {
            self.more_problems += 1;
        }
    }

    /// All problems, listed or not.
    pub fn problem_count(&self) -> usize {
        self.problems.len() + self.more_problems
    }

    pub fn total(&self, pick: impl Fn(&SheetCounts) -> usize) -> usize {
        self.sheets.iter().map(pick).sum()
    }

    /// The plan in a few lines: per sheet, then the totals.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for s in &self.sheets {
            out.push_str(&format!(
                "{}: create {}, update {}, unchanged {}, delete {}, problems {}\n",
                s.sheet, s.create, s.update, s.unchanged, s.delete, s.problems
            ));
        }
        out.push_str(&format!(
            "total: create {}, update {}, unchanged {}, delete {}, problems {}",
            self.total(|s| s.create),
            self.total(|s| s.update),
            self.total(|s| s.unchanged),
            self.total(|s| s.delete),
            self.problem_count()
        ));
        out
    }
}
