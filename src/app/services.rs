//! Every long-running part of the daemon, in one shape: `run(self, shutdown) -> Result`.
//! [`Services::run`] spawns them into one `JoinSet`, waits for SIGTERM/SIGINT, a cancelled
//! `shutdown` or the first failure, then cancels the rest and gives them the grace period.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::follower::ChangeFollower;
use super::watchdog::Watchdog;
use crate::endpoint::driver::SipServer;
use crate::net::http::HttpServer;
use crate::provisioning::{RecordWriter, TftpRoot};
use crate::tftp::TftpServer;

/// A service that stopped with an error.
#[derive(Debug, thiserror::Error)]
#[error("{service}: {source}")]
pub struct ServiceError {
    pub service: &'static str,
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

type Outcome = (&'static str, Result<(), ServiceError>);

/// The daemon's services.
#[derive(Debug)]
pub struct Services {
    pub http: HttpServer,
    pub https: Option<HttpServer>,
    pub tftp: TftpServer<TftpRoot>,
    pub fetch_records: RecordWriter,
    pub sip: SipServer,
    pub changes: ChangeFollower,
    pub watchdog: Watchdog,
    pub mail: crate::mail::MailService,
    pub voicemail: crate::voicemail::MailboxService,
    pub fax: crate::fax::FaxInboxService,
}

impl Services {
    /// Runs every service until a signal, `shutdown`, or the first failure; then drains them
    /// within `grace`. Returns the first failure.
    pub async fn run(
        self,
        shutdown: CancellationToken,
        grace: Duration,
    ) -> Result<(), ServiceError> {
        let mut set = JoinSet::new();
        let stop = || shutdown.clone();
        spawn(&mut set, "HTTP", self.http.run(stop()));
        if let Some(https) = self.https {
            spawn(&mut set, "HTTPS", https.run(stop()));
        }
        spawn(&mut set, "TFTP", self.tftp.run(stop()));
        spawn(&mut set, "fetch records", self.fetch_records.run(stop()));
        spawn(&mut set, "SIP", self.sip.run_on_own_thread(stop()));
        spawn(&mut set, "change feed", self.changes.run(stop()));
        spawn(&mut set, "watchdog", self.watchdog.run(stop()));
        spawn(&mut set, "mail", self.mail.run(stop()));
        spawn(&mut set, "voicemail", self.voicemail.run(stop()));
        spawn(&mut set, "fax", self.fax.run(stop()));
        let mut failure = None;
        let signal = signals();
        tokio::pin!(signal);
        loop {
            tokio::select! {
                () = &mut signal => { tracing::info!("shutting down"); break }
                () = shutdown.cancelled() => break,
                joined = set.join_next() => match joined {
                    // A service may end early without fault (the watchdog when systemd asks for none).
                    Some(outcome) => if let Some(f) = failed(outcome) {
                        failure = Some(f);
                        break;
                    },
                    None => break,
                },
            }
        }
        super::notify(&[sd_notify::NotifyState::Stopping]);
        shutdown.cancel();
        let drain = async {
            while let Some(outcome) = set.join_next().await {
                if let Some(f) = failed(outcome) {
                    failure.get_or_insert(f);
                }
            }
        };
        if tokio::time::timeout(grace, drain).await.is_err() {
            tracing::warn!("still running after {grace:?}; closing them");
            set.abort_all();
        }
        failure.map_or(Ok(()), Err)
    }
}

fn spawn<E>(
    set: &mut JoinSet<Outcome>,
    name: &'static str,
    service: impl Future<Output = Result<(), E>> + Send + 'static,
) where
    E: std::error::Error + Send + Sync + 'static,
{
    set.spawn(async move {
        let result = service.await.map_err(|e| ServiceError {
            service: name,
            source: Box::new(e),
        });
        (name, result)
    });
}

/// The error of a service that ended, or of its task.
fn failed(joined: Result<Outcome, tokio::task::JoinError>) -> Option<ServiceError> {
    match joined {
        Ok((name, Ok(()))) => {
            tracing::debug!("{name}: stopped");
            None
        }
        Ok((_, Err(e))) => {
            tracing::error!("{e}");
            Some(e)
        }
        Err(e) if e.is_cancelled() => None,
        Err(e) => {
            tracing::error!("a service task failed: {e}");
            Some(ServiceError {
                service: "task",
                source: Box::new(e),
            })
        }
    }
}

async fn signals() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot install signal handlers");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
