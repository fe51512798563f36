//! The HTTPS listener (rustls): the same router as HTTP, for phones that fetch their configs
//! over TLS and for the admin. The certificate is the admin's (`http.tls_cert`/`tls_key`), or
//! one made for `server.public_host` on first start and kept in `<data_dir>/tls/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::TokioIo;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

/// A TLS handshake that takes longer than this is dropped (slowloris).
const HANDSHAKE: Duration = Duration::from_secs(10);

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

/// Serves `router` over TLS on `listener` until `shutdown`; running connections get `grace`.
pub async fn serve(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    router: Router,
    shutdown: CancellationToken,
    grace: Duration,
) {
    let acceptor = TlsAcceptor::from(tls);
    let mut connections = JoinSet::new();
    loop {
        let (tcp, peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!("https: accept: {e}");
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
        };
        connections.spawn(connection(acceptor.clone(), tcp, peer, router.clone()));
    }
    let drain = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(grace, drain).await.is_err() {
        connections.abort_all();
    }
}

async fn connection(
    acceptor: TlsAcceptor,
    tcp: tokio::net::TcpStream,
    peer: SocketAddr,
    router: Router,
) {
    let tls = match tokio::time::timeout(HANDSHAKE, acceptor.accept(tcp)).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return tracing::debug!("https: handshake with {peer}: {e}"),
        Err(_) => return tracing::debug!("https: handshake with {peer} timed out"),
    };
    let service = hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
        let mut router = router.clone();
        let mut req = req.map(axum::body::Body::new);
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));
        async move {
            use tower::Service;
            router.call(req).await
        }
    });
    let builder = hyper::server::conn::http1::Builder::new();
    if let Err(e) = builder.serve_connection(TokioIo::new(tls), service).await {
        tracing::debug!("https: connection with {peer}: {e}");
    }
}
