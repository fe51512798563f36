//! `zentrale import`: the xlsx import on the command line, with a progress bar on a terminal
//! and the plan (or what was done) at the end; `--template` writes the template.

use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};

use super::{ImportArgs, print, store};
use crate::import::{self, ChangeKind, Limits, Options, Phase, Report};

pub(super) async fn run(args: ImportArgs) -> anyhow::Result<()> {
    if let Some(path) = &args.template {
        let bytes = if args.with_data {
            import::write_export(&store(&args.config).await?).await?
        } else {
            import::write_template()?
        };
        write_file(path, &bytes)?;
        println!("wrote {}", path.display());
        return Ok(());
    }
    let file = args
        .file
        .as_deref()
        .context("name the xlsx file to import, or give --template FILE")?;
    let bytes = read_file(file)?;
    let workbook = import::read_file(&import::this_program(), bytes)
        .await
        .with_context(|| format!("{}", file.display()))?;
    let store = store(&args.config).await?;
    let options = Options {
        dry_run: args.dry_run,
        prune: args.prune,
        confirmed: args.yes,
        reset_secrets: args.reset_secrets,
        actor: None,
    };
    let bar = Bar::new();
    let report = import::run(&store, &workbook, &options, &mut |phase, done, total| {
        bar.show(phase, done, total);
    })
    .await?;
    bar.done();
    if args.json {
        print(&report)?;
    } else {
        println!("{}", render(&report, args.dry_run || args.verbose));
    }
    outcome(&report)
}

fn read_file(file: &Path) -> anyhow::Result<Vec<u8>> {
    let limit = Limits::default().file_bytes as u64;
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    anyhow::ensure!(
        size <= limit,
        "{}: too large to import ({size} bytes, at most {limit})",
        file.display()
    );
    std::fs::read(file).with_context(|| format!("reading {}", file.display()))
}

/// Writes next to the target and renames, so a half-written template never exists.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let tmp = path.with_extension("xlsx.part");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// The exit: an error (non-zero) when nothing was applied for a reason the admin must act on.
fn outcome(report: &Report) -> anyhow::Result<()> {
    if !report.problems.is_empty() {
        anyhow::bail!(
            "{} problems in the file; nothing was changed",
            report.problem_count()
        );
    }
    if report.needs_confirmation {
        anyhow::bail!(
            "--prune would delete {} records (listed above); add --yes to delete them",
            report.total(|s| s.delete)
        );
    }
    Ok(())
}

/// The report as an admin reads it: counts, changes (when asked), problems, notices, outcome.
pub fn render(report: &Report, changes: bool) -> String {
    let mut out = vec![report.summary()];
    let deletions = report
        .changes
        .iter()
        .filter(|c| c.action == ChangeKind::Delete);
    let listed: Vec<_> = if changes {
        report.changes.iter().collect()
    } else {
        deletions.collect()
    };
    if !listed.is_empty() {
        out.push("changes:".into());
    }
    for c in listed {
        let word = match c.action {
            ChangeKind::Create => "create",
            ChangeKind::Update => "update",
            ChangeKind::Delete => "delete",
        };
        let at = c.row.map(|r| format!(" row {r}")).unwrap_or_default();
        let fields = if c.fields.is_empty() {
            String::new()
        } else {
            format!(" ({})", c.fields.join(", "))
        };
        out.push(format!("  {word} {}{at}: {}{fields}", c.sheet, c.key));
    }
    if !report.problems.is_empty() {
        out.push("problems:".into());
        out.extend(report.problems.iter().map(|p| format!("  {p}")));
    }
    if report.more_problems > 0 {
        out.push(format!("  … and {} more", report.more_problems));
    }
    out.extend(report.notices.iter().map(|n| format!("note: {n}")));
    out.push(
        if report.applied && report.changes.is_empty() {
            "imported: nothing to change."
        } else if report.applied {
            "imported."
        } else if report.dry_run {
            "dry run: nothing was changed."
        } else {
            "nothing was changed."
        }
        .into(),
    );
    out.join("\n")
}

/// A progress bar on stderr when it is a terminal (indicatif hides it otherwise).
struct Bar {
    bar: ProgressBar,
}

impl Bar {
    fn new() -> Bar {
        let bar = ProgressBar::new(0);
        if let Ok(style) =
            ProgressStyle::with_template("{msg:16} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        Bar { bar }
    }

    fn show(&self, phase: Phase, done: usize, total: usize) {
        let msg = match phase {
            Phase::Secrets => "hashing secrets",
            Phase::Rows => "importing rows",
        };
        if self.bar.message() != msg {
            self.bar.reset();
            self.bar.set_message(msg);
        }
        self.bar.set_length(total as u64);
        self.bar.set_position(done as u64);
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}
