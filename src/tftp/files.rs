//! Where the served files come from, and the name check that runs before anyone is asked.

use std::future::Future;
use std::net::SocketAddr;

use super::error::TftpError;

/// Where the files come from: the provisioning module implements this (rendered configs, firmware).
pub trait TftpFiles: Clone + Send + Sync + 'static {
    /// The whole file for `name` (one leading `/` already stripped and the name checked by
    /// [`checked_name`]), as requested by `peer`. It should answer promptly: the request holds
    /// one of `max_transfers` slots while it runs.
    fn open(
        &self,
        name: &str,
        peer: SocketAddr,
    ) -> impl Future<Output = Result<bytes::Bytes, TftpDenied>> + Send;
}

/// Why [`TftpFiles::open`] refused a file: ERROR 1 or ERROR 2 on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TftpDenied {
    NotFound,
    AccessViolation,
}

/// The name passed to [`TftpFiles::open`]: the client's name less one leading `/`.
///
/// Refused (ERROR 2) before any lookup: a `..` component, a backslash, a NUL (the codec already
/// cannot produce one), an empty name, and a name still absolute after the one `/` is stripped.
pub fn checked_name(requested: &str) -> Result<&str, TftpError> {
    let name = requested.strip_prefix('/').unwrap_or(requested);
    let unsafe_name = name.is_empty()
        || name.starts_with('/')
        || name.contains(['\\', '\0'])
        || name.split('/').any(|component| component == "..");
    if unsafe_name {
        Err(TftpError::UnsafeName)
    } else {
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::checked_name;

    #[test]
    fn one_leading_slash_is_stripped_and_traversal_is_refused() {
        assert_eq!(checked_name("/001565aabbcc.cfg"), Ok("001565aabbcc.cfg"));
        assert_eq!(checked_name("firmware/t54w.rom"), Ok("firmware/t54w.rom"));
        assert_eq!(checked_name("a..b/c.."), Ok("a..b/c.."));
        for bad in [
            "",
            "/",
            "//etc/passwd",
            "../x",
            "a/../b",
            "a/..",
            "/..",
            "a\\b",
            "a\0b",
        ] {
            assert!(checked_name(bad).is_err(), "{bad:?}");
        }
    }
}
