//! Reading an untrusted file in a child process. calamine cannot be bounded from outside in
//! every path (it reserves what a file declares: issues 684, 693), so the reading runs in
//! `zentrale import-read` under an address-space and CPU limit, with a wall-clock timeout.
//! Whatever a file does to the reader, the daemon only sees the child end: a hostile file gets
//! its error and everyone else gets on with their work.
//!
//! Protocol: the file on the child's stdin, one JSON [`Answer`] on its stdout.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::FileError;
use super::limits::Limits;
use super::read::{Workbook, read_workbook};

/// The hidden subcommand the child runs.
pub const CHILD_COMMAND: &str = "import-read";

/// Address space of the child: calamine, the cells and their JSON fit in a fraction of it.
const CHILD_MEMORY: u64 = 1 << 30;
const CHILD_CPU_SECS: u64 = 60;
/// Wall-clock bound on the child (it may also be starved of CPU by a busy machine).
const CHILD_TIMEOUT: Duration = Duration::from_secs(120);
/// The largest answer the child sends (and the parent reads): what the parsed cells may cost
/// the daemon. 50,000 rows of the Users sheet take about 25 MiB.
const MAX_ANSWER: usize = 64 << 20;

#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    Read(Workbook),
    Refused(FileError),
}

/// This program, for re-executing it as the reading child.
pub fn this_program() -> PathBuf {
    let proc = PathBuf::from("/proc/self/exe");
    if proc.exists() {
        return proc;
    }
    std::env::current_exe().unwrap_or(proc)
}

/// Reads `bytes` with `program import-read` (normally [`this_program`]).
pub async fn read_in_child(program: &Path, bytes: Vec<u8>) -> Result<Workbook, FileError> {
    let limits = Limits::default();
    if bytes.len() > limits.file_bytes {
        return Err(super::guard::too_large(
            "the file",
            &super::guard::mib(limits.file_bytes as u64),
        ));
    }
    let mut child = tokio::process::Command::new(program)
        .arg(CHILD_COMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .env_clear()
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| reader_failed(format!("cannot start the reader: {e}")))?;
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(reader_failed("the reader has no pipes".into()));
    };
    // A child that stops reading must not block us: feed it from its own task.
    let feed = tokio::spawn(async move {
        let _ = stdin.write_all(&bytes).await;
    });
    let mut answer = Vec::new();
    let run = async {
        stdout
            .take(MAX_ANSWER as u64 + 1)
            .read_to_end(&mut answer)
            .await?;
        child.wait().await
    };
    let status = tokio::time::timeout(CHILD_TIMEOUT, run).await;
    feed.abort();
    let status = match status {
        Err(_) => return Err(reader_failed("it took longer than allowed".into())),
        Ok(Err(e)) => return Err(reader_failed(format!("reading its answer: {e}"))),
        Ok(Ok(status)) => status,
    };
    if answer.len() > MAX_ANSWER {
        return Err(FileError::TooLarge {
            what: "the text in its cells".into(),
            limit: format!("{} MiB", MAX_ANSWER >> 20),
        });
    }
    match serde_json::from_slice::<Answer>(&answer) {
        Ok(Answer::Read(workbook)) if status.success() => Ok(workbook),
        Ok(Answer::Refused(e)) => Err(e),
        _ => Err(reader_failed(match status.code() {
            Some(code) => format!("the reader failed (exit {code})"),
            None => "the reader ran out of its memory or time limit".into(),
        })),
    }
}

fn reader_failed(why: String) -> FileError {
    FileError::Reader(why)
}

/// The child: limits itself, reads the file from stdin, answers on stdout. No core dump: the
/// file's passwords and PINs are in its memory.
pub fn child_main() -> ExitCode {
    use rlimit::{Resource, setrlimit};
    let limited = setrlimit(Resource::CORE, 0, 0)
        .and_then(|()| setrlimit(Resource::AS, CHILD_MEMORY, CHILD_MEMORY))
        .and_then(|()| setrlimit(Resource::CPU, CHILD_CPU_SECS, CHILD_CPU_SECS));
    let answer = match limited {
        Err(e) => Answer::Refused(reader_failed(format!("cannot limit the reader: {e}"))),
        Ok(()) => read_stdin(),
    };
    let (bytes, ok) = match serde_json::to_vec(&answer) {
        Ok(bytes) if bytes.len() <= MAX_ANSWER => (bytes, matches!(answer, Answer::Read(_))),
        _ => {
            let refused = Answer::Refused(FileError::TooLarge {
                what: "the text in its cells".into(),
                limit: format!("{} MiB", MAX_ANSWER >> 20),
            });
            (serde_json::to_vec(&refused).unwrap_or_default(), false)
        }
    };
    let mut out = std::io::stdout().lock();
    let written = out.write_all(&bytes).and_then(|()| out.flush());
    if written.is_ok() && ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn read_stdin() -> Answer {
    let limits = Limits::default();
    let mut bytes = Vec::new();
    let cap = limits.file_bytes as u64 + 1;
    if let Err(e) = std::io::stdin().lock().take(cap).read_to_end(&mut bytes) {
        return Answer::Refused(reader_failed(format!("reading the file: {e}")));
    }
    match read_workbook(&bytes, &limits) {
        Ok(workbook) => Answer::Read(workbook),
        Err(e) => Answer::Refused(e),
    }
}
