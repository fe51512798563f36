//! Applying the rows: one [`Batch`] for the whole file, the records it touches read once at its
//! start, each row compared with what is there (an unchanged row costs no write) and applied
//! with the store's own operations. Order follows the references: prune first (it frees
//! numbers and MACs), then workplaces, users, action templates (their steps name users), the
//! links from users to templates and from workplaces to users, and last the phones, phonebook
//! and speed dials.

mod directory;
mod phones;
mod secrets;
mod snapshot;
mod users;

use super::ImportError;
use super::read::Workbook;
use super::records::{self, Records, SheetRows};
use super::report::{ChangeKind, Problem, Report};
use crate::store::{Batch, Role, Store, StoreError};
use directory::ByName;
use snapshot::Snapshot;

/// How to run an import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Check and plan only; nothing changes.
    pub dry_run: bool,
    /// Delete what the file's sheets do not list (sheets with rows only).
    pub prune: bool,
    /// The prune was confirmed (`--yes`); without it a prune only plans.
    pub confirmed: bool,
    /// Replace passwords and PINs that users already have with the file's.
    pub reset_secrets: bool,
    /// Who imports, through the API; None for the machine's own admin (the CLI).
    pub actor: Option<Actor>,
}

/// An API caller's rank, which bounds the roles the file may grant and the users it may touch.
#[derive(Debug, Clone)]
pub struct Actor {
    pub role: Role,
    /// A caller that is a user, whom a prune never deletes.
    pub username: Option<String>,
}

/// What the import is busy with, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Hashing (and, with reset, checking) passwords and PINs.
    Secrets,
    /// Checking and applying rows.
    Rows,
}

/// Imports `workbook` into `store` as `options` say; `progress` hears (phase, done, total).
pub async fn run(
    store: &Store,
    workbook: &Workbook,
    options: &Options,
    progress: &mut (dyn FnMut(Phase, usize, usize) + Send),
) -> Result<Report, ImportError> {
    let mut report = Report {
        dry_run: options.dry_run,
        ..Report::default()
    };
    let records = records::parse(workbook, &mut report);
    let users = records.users.as_ref().map_or(&[][..], |s| &s.rows[..]);
    let mut secrets = secrets::plan(store, users, options, progress).await?;
    if secrets.kept > 0 {
        report.notices.push(format!(
            "{} existing users keep the password or PIN they have; the file's are used only with --reset-secrets",
            secrets.kept
        ));
    }
    let mut batch = store.batch().await?;
    let snap = Snapshot::load(&mut batch).await?;
    let mut run = Run {
        store,
        options,
        batch,
        snap,
        report,
        progress,
        done: 0,
        total: count(&records),
    };
    run.apply(&records, &mut secrets).await?;
    run.finish().await
}

fn count(r: &Records) -> usize {
    fn n<T>(s: &Option<SheetRows<T>>) -> usize {
        s.as_ref().map_or(0, |s| s.rows.len())
    }
    n(&r.users)
        + n(&r.phones)
        + n(&r.workplaces)
        + n(&r.phonebook)
        + n(&r.speed_dials)
        + n(&r.templates)
}

struct Run<'a> {
    store: &'a Store,
    options: &'a Options,
    batch: Batch,
    snap: Snapshot,
    report: Report,
    progress: &'a mut (dyn FnMut(Phase, usize, usize) + Send),
    done: usize,
    total: usize,
}

impl Run<'_> {
    async fn apply(
        &mut self,
        records: &Records,
        secrets: &mut secrets::Secrets,
    ) -> Result<(), ImportError> {
        if self.options.prune {
            self.prune(records).await?;
        }
        let mut access = Vec::new();
        if let Some(sheet) = &records.workplaces {
            access = self.workplaces(sheet).await?;
        }
        let mut links = Vec::new();
        if let Some(sheet) = &records.users {
            links = self.users(sheet, secrets).await?;
        }
        if let Some(sheet) = &records.templates {
            self.templates(sheet).await?;
        }
        if let Some(sheet) = &records.users {
            self.link_templates(sheet, links).await?;
        }
        if let Some(sheet) = &records.workplaces {
            self.workplace_access(sheet, access).await?;
        }
        if let Some(sheet) = &records.phones {
            self.phones(sheet).await?;
        }
        if let Some(sheet) = &records.phonebook {
            self.phonebook(sheet).await?;
        }
        if let Some(sheet) = &records.speed_dials {
            self.speed_dials(sheet).await?;
        }
        Ok(())
    }

    /// Commits when there is nothing against it; rolls back otherwise.
    async fn finish(mut self) -> Result<Report, ImportError> {
        let deletes = self.report.total(|s| s.delete);
        let unconfirmed = self.options.prune && !self.options.confirmed && deletes > 0;
        if unconfirmed {
            self.report.needs_confirmation = true;
        }
        if self.options.dry_run || unconfirmed || !self.report.problems.is_empty() {
            self.batch.rollback().await?;
        } else {
            self.batch.commit().await?;
            self.report.applied = true;
        }
        Ok(self.report)
    }

    fn step(&mut self) {
        self.done += 1;
        (self.progress)(Phase::Rows, self.done, self.total);
    }

    /// The outcome of one change: a refused change becomes a problem where `sheet` and `row`
    /// say (in the column the error names); a failing database ends the import.
    fn settle<T, R>(
        &mut self,
        done: Result<R, StoreError>,
        sheet: &SheetRows<T>,
        row: Option<u32>,
    ) -> Result<bool, ImportError> {
        match done {
            Ok(_) => Ok(true),
            Err(e) => {
                let problem = refused(e, sheet, row)?;
                self.report.problem(problem);
                Ok(false)
            }
        }
    }

    /// Records a change to the report once it was applied.
    fn record<T>(
        &mut self,
        sheet: &SheetRows<T>,
        row: Option<u32>,
        key: &str,
        action: ChangeKind,
        fields: Vec<String>,
    ) {
        self.report.change(&sheet.sheet, row, key, action, fields);
    }

    /// Deletes what the file's sheets do not list. Runs first, so that what it frees (an
    /// extension, a MAC) can be taken by the file's rows.
    async fn prune(&mut self, records: &Records) -> Result<(), ImportError> {
        if let Some(sheet) = &records.phones {
            self.prune_phones(sheet).await?;
        }
        if let Some(sheet) = &records.speed_dials {
            self.prune_by_name(sheet, ByName::SpeedDial).await?;
        }
        if let Some(sheet) = &records.phonebook {
            self.prune_phonebook(sheet).await?;
        }
        if let Some(sheet) = &records.templates {
            self.prune_by_name(sheet, ByName::Template).await?;
        }
        if let Some(sheet) = &records.users {
            self.prune_users(sheet).await?;
        }
        if let Some(sheet) = &records.workplaces {
            self.prune_by_name(sheet, ByName::Workplace).await?;
        }
        Ok(())
    }
}

/// A store error that refuses a change, as a problem; any other ends the import.
fn refused<T>(
    e: StoreError,
    sheet: &SheetRows<T>,
    row: Option<u32>,
) -> Result<Problem, ImportError> {
    match e {
        StoreError::Invalid { .. }
        | StoreError::Conflict { .. }
        | StoreError::NotFound { .. }
        | StoreError::Forbidden(_) => {
            let column = e.field().map(|f| f.strip_prefix("extra.").unwrap_or(f));
            let message = match column {
                Some(c) if sheet.columns.contains_key(c) => records::message_of(&e),
                _ => e.to_string(),
            };
            Ok(sheet.problem(row, column, message))
        }
        other => Err(ImportError::Store(other)),
    }
}
