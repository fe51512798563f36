//! The file operations a durable queue is built from: a file is written and fsynced, and a
//! rename is followed by an fsync of the directory, so after a crash either the old or the new
//! name is there with complete contents (rename(2) is atomic; ext4 and xfs need the directory
//! fsync for the name itself to survive).

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Makes a directory's entries (new names, renames, removals) durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Writes a new file and fsyncs it; an existing file is an error.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Replaces `dir/name` with `bytes` atomically and durably (temp file, fsync, rename, fsync dir).
pub fn replace(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let _ = std::fs::remove_file(&tmp);
    write_new(&tmp, bytes)?;
    if let Err(e) = std::fs::rename(&tmp, dir.join(name)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    sync_dir(dir)
}

/// Whether an error means the disk (or the quota) is full.
pub fn is_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_swaps_contents_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        replace(dir.path(), "status.json", b"one").expect("first");
        replace(dir.path(), "status.json", b"two").expect("second");
        let text = std::fs::read(dir.path().join("status.json")).expect("read");
        assert_eq!(text, b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn write_new_refuses_to_overwrite() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a");
        write_new(&path, b"x").expect("first");
        assert!(write_new(&path, b"y").is_err());
    }
}
