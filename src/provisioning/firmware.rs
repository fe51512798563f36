//! Firmware files the admin uploads for the phones, under `<data_dir>/firmware/`. Names are
//! checked before they touch the file system: one plain file name, no path components.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use super::ProvisioningError;

/// The firmware folder and its size cap; cheap to clone.
#[derive(Debug, Clone)]
pub struct FirmwareDir {
    dir: PathBuf,
    max_bytes: u64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FirmwareFile {
    pub file: String,
    pub size: u64,
}

/// A firmware name: 1 to 128 of letters, digits, `.`, `_`, `-`, `+`, not starting with a dot.
pub fn valid_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+".contains(&b))
}

fn bad_name(name: &str) -> ProvisioningError {
    let shown: String = name.chars().take(64).collect();
    ProvisioningError::Firmware(format!(
        "{shown:?} is not a firmware file name (letters, digits, '.', '_', '-', '+'; no paths)"
    ))
}

impl FirmwareDir {
    pub fn new(dir: PathBuf, max_bytes: u64) -> FirmwareDir {
        FirmwareDir { dir, max_bytes }
    }

    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// The path of `name`, or an error for a name that is not a plain file name.
    pub fn path(&self, name: &str) -> Result<PathBuf, ProvisioningError> {
        if valid_name(name) {
            Ok(self.dir.join(name))
        } else {
            Err(bad_name(name))
        }
    }

    pub async fn list(&self) -> Result<Vec<FirmwareFile>, ProvisioningError> {
        let mut out = Vec::new();
        let mut entries = match tokio::fs::read_dir(&self.dir).await {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        while let Some(entry) = entries.next_entry().await? {
            let name = entry.file_name().to_string_lossy().into_owned();
            let meta = entry.metadata().await?;
            if meta.is_file() && valid_name(&name) {
                out.push(FirmwareFile {
                    file: name,
                    size: meta.len(),
                });
            }
        }
        out.sort_by(|a, b| a.file.cmp(&b.file));
        Ok(out)
    }

    /// Stores `chunks` as `name`: written to a temporary file, fsynced, then renamed into place,
    /// so a phone never fetches half a firmware. Over `max_bytes` nothing is kept.
    pub async fn save<S, E>(
        &self,
        name: &str,
        mut chunks: S,
    ) -> Result<FirmwareFile, ProvisioningError>
    where
        S: futures_core::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let target = self.path(name)?;
        tokio::fs::create_dir_all(&self.dir).await?;
        let temp = self
            .dir
            .join(format!(".upload-{}", crate::store::secret::random_hex(8)));
        let result = self.write_capped(&temp, &mut chunks).await;
        match result {
            Ok(size) => {
                tokio::fs::rename(&temp, &target).await?;
                sync_dir(&self.dir).await;
                Ok(FirmwareFile {
                    file: name.to_owned(),
                    size,
                })
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                Err(e)
            }
        }
    }

    async fn write_capped<S, E>(
        &self,
        temp: &Path,
        chunks: &mut S,
    ) -> Result<u64, ProvisioningError>
    where
        S: futures_core::Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        use std::future::poll_fn;
        use std::pin::Pin;
        let mut file = tokio::fs::File::create(temp).await?;
        let mut size = 0u64;
        while let Some(chunk) = poll_fn(|cx| Pin::new(&mut *chunks).poll_next(cx)).await {
            let chunk = chunk.map_err(|e| ProvisioningError::Firmware(format!("upload: {e}")))?;
            size += chunk.len() as u64;
            if size > self.max_bytes {
                return Err(ProvisioningError::TooLarge(self.max_bytes));
            }
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        Ok(size)
    }

    pub async fn delete(&self, name: &str) -> Result<bool, ProvisioningError> {
        match tokio::fs::remove_file(self.path(name)?).await {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The whole file (for TFTP, which serves from memory); None when there is none.
    pub async fn read(&self, name: &str) -> Result<Option<Bytes>, ProvisioningError> {
        match tokio::fs::read(self.path(name)?).await {
            Ok(data) => Ok(Some(Bytes::from(data))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }
}

async fn sync_dir(dir: &Path) {
    if let Ok(d) = tokio::fs::File::open(dir).await {
        let _ = d.sync_all().await;
    }
}
