//! HTTPS (rustls) for phones that fetch their configs over TLS and for the admin; served by
//! [`crate::net::http`] like HTTP. The certificate is the admin's (`http.tls_cert`/`tls_key`), or
//! one made for `server.public_host` on first start and kept in `<data_dir>/tls/`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Debug, thiserror::Error)]
pub enum HttpsError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Pem { path: PathBuf, message: String },
    #[error("making a self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("TLS setup: {0}")]
    Tls(#[from] rustls::Error),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The certificate and key files to use: the admin's, or ours (made now if missing).
pub fn certificate_files(
    cert: &Path,
    key: &Path,
    data_dir: &Path,
    host: &str,
) -> Result<(PathBuf, PathBuf), HttpsError> {
    if !cert.as_os_str().is_empty() {
        return Ok((cert.to_owned(), key.to_owned()));
    }
    let dir = data_dir.join("tls");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    let made = rcgen::generate_simple_self_signed(vec![host.to_owned()])?;
    let write = |path: &Path, text: &str, mode: u32| {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let fail = |source| HttpsError::Write {
            path: path.to_owned(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(fail)?;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(path)
            .map_err(fail)?;
        f.write_all(text.as_bytes())
            .and_then(|()| f.sync_all())
            .map_err(fail)
    };
    write(&key, &made.key_pair.serialize_pem(), 0o600)?;
    write(&cert, &made.cert.pem(), 0o644)?;
    tracing::info!(
        "https: made a self-signed certificate for {host} in {}",
        dir.display()
    );
    Ok((cert, key))
}

/// A rustls server config from PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, HttpsError> {
    let pem = |path: &Path| {
        std::fs::read(path).map_err(|source| HttpsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    let bad = |path: &Path, message: String| HttpsError::Pem {
        path: path.to_owned(),
        message,
    };
    let certs = CertificateDer::pem_slice_iter(&pem(cert)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad(cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(cert, "no certificate in it".into()));
    }
    let key_der = PrivateKeyDer::from_pem_slice(&pem(key)?).map_err(|e| bad(key, e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
