//! The xlsx import [Benutzerimport, Erweiterter Import]: users, phones, workplaces, the global
//! phonebook, speed dials and action templates from one workbook, repeatable and safe.
//!
//! ```text
//!  file ─> isolate (child: guard ─> read) ─> Workbook ─> records ─> run ─> Batch ─> Report
//!  template: schema ─> template ─> xlsx
//! ```
//!
//! Call contract: [`read_file`] turns untrusted bytes into plain cells in a child process
//! with memory and time limits (or refuses the file with a [`FileError`]); [`run`] checks every
//! row with the store's own rules and applies all of them in one transaction, or none: a dry
//! run, a problem anywhere, or a prune without confirmation rolls everything back. Rows match
//! existing records by their key and update them; nothing is deleted without prune. The
//! [`Report`] says what was (or would be) created, updated, left, deleted, and every problem by
//! sheet, row and column.

mod guard;
mod isolate;
mod limits;
mod read;
mod records;
mod report;
mod run;
mod schema;
mod table;
mod template;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};

pub use isolate::{CHILD_COMMAND, child_main, this_program};
pub use limits::Limits;
pub use read::{Workbook, read_workbook};
pub use report::{Change, ChangeKind, Problem, Report, SheetCounts};
pub use run::{Actor, Options, Phase, run};
pub use template::{write_export, write_template};

use crate::store::StoreError;

/// Why a file cannot be read at all (problems in rows are in the [`Report`] instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum FileError {
    #[error("not an xlsx file: save it from Excel or LibreOffice as an .xlsx workbook")]
    NotXlsx,
    #[error(
        "an encrypted (password-protected) workbook or an old .xls file: save it as .xlsx without a password"
    )]
    Compound,
    #[error("the workbook is password-protected: save it without a password")]
    Encrypted,
    #[error("the file is damaged or truncated: {0}")]
    Damaged(String),
    #[error("too large to import: {what} (at most {limit})")]
    TooLarge { what: String, limit: String },
    #[error("sheet {sheet}: cell {cell} is outside the {limit} an import reads")]
    Beyond {
        sheet: String,
        cell: String,
        limit: String,
    },
    #[error("refused: {0}")]
    Unsafe(String),
    #[error("the file could not be read: {0}")]
    Reader(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the workbook: {0}")]
    Write(String),
}

impl From<rust_xlsxwriter::XlsxError> for ImportError {
    fn from(e: rust_xlsxwriter::XlsxError) -> Self {
        ImportError::Write(e.to_string())
    }
}

/// Reads an uploaded or given file into cells, in a child process of `program` (normally
/// [`this_program`]).
pub async fn read_file(program: &std::path::Path, bytes: Vec<u8>) -> Result<Workbook, FileError> {
    isolate::read_in_child(program, bytes).await
}
