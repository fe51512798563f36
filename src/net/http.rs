//! HTTP/1.1 and HTTPS serving of one axum router: every connection holds a slot of the
//! [`Acceptor`]'s cap, must send its request head within `header_read_timeout` (and finish a
//! TLS handshake within `handshake_timeout`), and is asked to close when shutdown begins
//! (idle keep-alive connections close at once, running requests finish; the app bounds the
//! wait with its grace period).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::{Acceptor, NetError};

/// Timeouts of an HTTP server.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    pub header_read_timeout: Duration,
    pub handshake_timeout: Duration,
}

/// One HTTP or HTTPS listener and what it serves.
#[derive(Debug)]
pub struct HttpServer {
    pub acceptor: Acceptor,
    pub tls: Option<Arc<rustls::ServerConfig>>,
    pub router: Router,
    pub limits: HttpLimits,
}

impl HttpServer {
    /// Serves until `shutdown`, then waits for its connections to close.
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), NetError> {
        let tls = self.tls.map(TlsAcceptor::from);
        let mut connections = JoinSet::new();
        loop {
            let accepted = tokio::select! {
                accepted = self.acceptor.accept(&shutdown) => accepted,
                Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            };
            let Some(accepted) = accepted else { break };
            let (router, limits, stop) = (self.router.clone(), self.limits, shutdown.clone());
            let tls = tls.clone();
            connections.spawn(async move {
                let peer = accepted.peer;
                match tls {
                    None => serve(accepted.stream, peer, router, limits, stop).await,
                    Some(tls) => {
                        let handshake = tls.accept(accepted.stream);
                        match tokio::time::timeout(limits.handshake_timeout, handshake).await {
                            Ok(Ok(stream)) => serve(stream, peer, router, limits, stop).await,
                            Ok(Err(e)) => tracing::debug!("https: handshake with {peer}: {e}"),
                            Err(_) => tracing::debug!("https: handshake with {peer} timed out"),
                        }
                    }
                }
                drop(accepted.permit);
            });
        }
        while connections.join_next().await.is_some() {}
        Ok(())
    }
}

/// One connection: requests go to `router` with the peer as `ConnectInfo`.
async fn serve<S>(
    stream: S,
    peer: SocketAddr,
    router: Router,
    limits: HttpLimits,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
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
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("http: connection with {peer}: {e}");
    }
}
