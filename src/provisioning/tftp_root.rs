//! The TFTP root: the same names as `/prov/`, answered by [`Provisioning::fetch`] (which gives
//! TFTP the secret-free bootstrap for device files), and `<data_dir>/firmware/` files, kept in
//! memory while phones fetch them so 500 phones do not read a firmware 500 times.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;

use super::firmware::FirmwareDir;
use super::{Answer, Provisioning, Request, Transport};
use crate::tftp::{TftpDenied, TftpFiles};

/// Firmware files kept in memory at most (bytes); past it files are read per request.
const FIRMWARE_CACHE: u64 = 256 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct TftpRoot {
    prov: Provisioning,
    firmware: FirmwareDir,
    cache: Arc<Mutex<HashMap<String, (SystemTime, Bytes)>>>,
}

impl TftpRoot {
    pub fn new(prov: Provisioning, firmware: FirmwareDir) -> TftpRoot {
        TftpRoot {
            prov,
            firmware,
            cache: Arc::default(),
        }
    }

    async fn firmware_file(&self, name: &str) -> Option<Bytes> {
        let path = self.firmware.path(name).ok()?;
        let modified = tokio::fs::metadata(&path).await.ok()?.modified().ok()?;
        if let Some((m, data)) = self.lock().get(name)
            && *m == modified
        {
            return Some(data.clone());
        }
        let data = self.firmware.read(name).await.ok()??;
        let mut cache = self.lock();
        let held: u64 = cache.values().map(|(_, d)| d.len() as u64).sum();
        if held + data.len() as u64 > FIRMWARE_CACHE {
            cache.clear();
        }
        cache.insert(name.to_owned(), (modified, data.clone()));
        Some(data)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (SystemTime, Bytes)>> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl TftpFiles for TftpRoot {
    async fn open(&self, name: &str, peer: SocketAddr) -> Result<Bytes, TftpDenied> {
        let req = Request {
            name,
            peer: peer.ip(),
            user_agent: None,
            authorization: None,
            method: "GET",
            path: "",
            transport: Transport::Tftp,
            now: crate::clock::Now::read(),
        };
        match self.prov.fetch(&req).await {
            Ok(Answer::File { file, .. }) => Ok(file.body),
            Ok(Answer::NotFound) => match self.prov.allows(peer.ip()) {
                true => self.firmware_file(name).await.ok_or(TftpDenied::NotFound),
                false => Err(TftpDenied::AccessViolation),
            },
            Ok(Answer::Challenge(_) | Answer::Forbidden | Answer::Banned) => {
                Err(TftpDenied::AccessViolation)
            }
            Err(e) => {
                tracing::error!("tftp: {name}: {e}");
                Err(TftpDenied::NotFound)
            }
        }
    }
}
