//! Accepting TCP connections without falling over: a cap on open connections (a permit per
//! connection), and backoff instead of a busy loop when the process runs out of descriptors.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

/// The first pause after a resource error; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(10);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// A listener with a connection cap.
#[derive(Debug)]
pub struct Acceptor {
    listener: TcpListener,
    slots: Arc<Semaphore>,
    proto: &'static str,
}

/// An accepted connection; its slot is free again when `permit` is dropped.
#[derive(Debug)]
pub struct Accepted {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub permit: OwnedSemaphorePermit,
}

impl Acceptor {
    pub fn new(listener: TcpListener, max_connections: usize, proto: &'static str) -> Acceptor {
        Acceptor {
            listener,
            slots: Arc::new(Semaphore::new(max_connections.max(1))),
            proto,
        }
    }

    /// The same listener on the runtime this is called in.
    pub fn rebind(self) -> std::io::Result<Acceptor> {
        let std = self.listener.into_std()?;
        Ok(Acceptor {
            listener: TcpListener::from_std(std)?,
            slots: self.slots,
            proto: self.proto,
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next connection, or None once `shutdown` is cancelled. At the cap it waits for a
    /// slot before accepting, so the kernel's backlog holds new connections meanwhile.
    pub async fn accept(&self, shutdown: &CancellationToken) -> Option<Accepted> {
        let mut backoff = FIRST_BACKOFF;
        loop {
            let permit = tokio::select! {
                () = shutdown.cancelled() => return None,
                permit = self.slots.clone().acquire_owned() => permit.ok()?,
            };
            let accepted = tokio::select! {
                () = shutdown.cancelled() => return None,
                accepted = self.listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, peer)) => {
                    return Some(Accepted {
                        stream,
                        peer,
                        permit,
                    });
                }
                Err(e) if is_resource_error(&e) => {
                    tracing::warn!("{}: accept: {e}; pausing {backoff:?}", self.proto);
                    drop(permit);
                    tokio::select! {
                        () = shutdown.cancelled() => return None,
                        () = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                // A connection that died in the backlog: nothing to wait for.
                Err(e) => tracing::debug!("{}: accept: {e}", self.proto),
            }
        }
    }
}

/// Out of descriptors or memory: accepting again at once would spin.
fn is_resource_error(e: &std::io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM)
    )
}
