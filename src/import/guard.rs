//! The checks a file passes before calamine opens it: that it is an xlsx (a zip) at all, not
//! encrypted, not a zip bomb, without DTDs, and not declaring more shared strings than we
//! allow (calamine reserves the declared `uniqueCount` up front, calamine issue 684).
//!
//! Every entry is decompressed here through a counting reader, so the sizes checked are the
//! real ones, not what the archive claims.

use std::io::{BufReader, Cursor, Read};

use quick_xml::events::Event;
use zip::ZipArchive;
use zip::result::ZipError;

use super::FileError;
use super::limits::Limits;

/// The OLE compound-file signature: an encrypted OOXML package, or a legacy `.xls`.
const COMPOUND_FILE: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Refuses `bytes` unless they are an xlsx package within `limits`.
pub fn check(bytes: &[u8], limits: &Limits) -> Result<(), FileError> {
    if bytes.len() > limits.file_bytes {
        return Err(too_large("the file", &mib(limits.file_bytes as u64)));
    }
    if bytes.starts_with(&COMPOUND_FILE) {
        return Err(FileError::Compound);
    }
    if !bytes.starts_with(b"PK\x03\x04") {
        return Err(FileError::NotXlsx);
    }
    let mut zip = ZipArchive::new(Cursor::new(bytes)).map_err(zip_error)?;
    if zip.len() > limits.entries {
        return Err(too_large(
            "entries in the archive",
            &limits.entries.to_string(),
        ));
    }
    let mut total = 0u64;
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(zip_error)?;
        let name = entry.name().map_err(zip_error)?.into_owned();
        if entry.size() > limits.entry_bytes {
            return Err(too_large(&format!("part {name}"), &mib(limits.entry_bytes)));
        }
        let mut capped = Capped::new(entry, limits.entry_bytes);
        let scan = if is_xml(&name) {
            scan_xml(&mut capped, &name, limits)
        } else {
            std::io::copy(&mut capped, &mut std::io::sink())
                .map(drop)
                .map_err(|e| FileError::Damaged(format!("part {name}: {e}")))
        };
        if capped.exceeded {
            return Err(too_large(&format!("part {name}"), &mib(limits.entry_bytes)));
        }
        scan?;
        total += capped.read;
        if total > limits.total_bytes {
            return Err(too_large("the unpacked file", &mib(limits.total_bytes)));
        }
    }
    Ok(())
}

fn is_xml(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".xml", ".rels", ".vml"]
        .iter()
        .any(|ext| lower.ends_with(ext))
}

/// Reads one XML part to its end: no DTD (entity expansion), well-formed, and for the
/// shared-strings table, no more strings than allowed, declared or present.
fn scan_xml<R: Read>(part: &mut R, name: &str, limits: &Limits) -> Result<(), FileError> {
    let mut xml = quick_xml::Reader::from_reader(BufReader::new(part));
    // Wherever the package keeps it (calamine follows `_rels/.rels` to the workbook's folder).
    let shared = name.to_ascii_lowercase().ends_with("sharedstrings.xml");
    let mut strings = 0u64;
    let mut buf = Vec::new();
    loop {
        let event = xml
            .read_event_into(&mut buf)
            .map_err(|e| FileError::Damaged(format!("part {name}: {e}")))?;
        match event {
            Event::DocType(_) => {
                return Err(FileError::Unsafe(format!(
                    "part {name} declares a DTD (entities are never expanded)"
                )));
            }
            Event::Start(e) | Event::Empty(e) if shared => match e.local_name().as_ref() {
                "sst" => check_declared_counts(&e, limits)?,
                "si" => strings += 1,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        if strings > limits.shared_strings {
            return Err(too_large(
                "shared strings",
                &limits.shared_strings.to_string(),
            ));
        }
        buf.clear();
    }
    Ok(())
}

fn check_declared_counts(
    sst: &quick_xml::events::BytesStart<'_>,
    limits: &Limits,
) -> Result<(), FileError> {
    for attr in sst.attributes().flatten() {
        if matches!(attr.key.local_name().as_ref(), "uniqueCount" | "count") {
            let declared = attr.value.trim().parse::<u64>().ok();
            match declared {
                Some(n) if n <= limits.shared_strings => {}
                // A count that does not parse is ignored by calamine; a huge one is reserved.
                None => {}
                Some(_) => {
                    return Err(too_large(
                        "shared strings",
                        &limits.shared_strings.to_string(),
                    ));
                }
            }
        }
    }
    Ok(())
}

pub(super) fn too_large(what: &str, limit: &str) -> FileError {
    FileError::TooLarge {
        what: what.to_owned(),
        limit: limit.to_owned(),
    }
}

/// A byte count as people read it: `128 MiB`.
pub(super) fn mib(bytes: u64) -> String {
    format!("{} MiB", bytes >> 20)
}

fn zip_error(e: ZipError) -> FileError {
    match e {
        ZipError::UnsupportedArchive(msg) if msg == ZipError::PASSWORD_REQUIRED => {
            FileError::Encrypted
        }
        ZipError::UnsupportedArchive(msg) => FileError::Damaged(format!("unsupported zip: {msg}")),
        ZipError::InvalidPassword => FileError::Encrypted,
        other => FileError::Damaged(format!("not a complete zip archive ({other})")),
    }
}

/// A reader that counts what passes and stops with an error past `limit` bytes.
struct Capped<R> {
    inner: R,
    limit: u64,
    read: u64,
    exceeded: bool,
}

impl<R> Capped<R> {
    fn new(inner: R, limit: u64) -> Self {
        Capped {
            inner,
            limit,
            read: 0,
            exceeded: false,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        if self.read > self.limit {
            self.exceeded = true;
            return Err(std::io::Error::other("part larger than allowed"));
        }
        Ok(n)
    }
}
