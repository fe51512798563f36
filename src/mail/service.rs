//! The delivery driver: the one place where the spool, the SMTP client and the clock meet.
//! It plans every pending entry in a [`Schedule`], sends up to `[smtp] concurrency` at once over
//! pooled connections, and records each outcome through the pure [`RetryPolicy`].
//!
//! Other processes (`zentrale mail test|retry` on the CLI) change the spool directly: new
//! entries are noticed by listing `queue/` every [`RESCAN`], changed ones by the spool's kick
//! file; in-process callers wake the driver through [`super::MailHandle`].

use std::collections::HashSet;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::schedule::Schedule;
use super::transport::{self, Transport};
use super::{MailError, compose};
use crate::clock::{self, Instant, UnixTime};
use crate::config::SmtpConfig;
use crate::spool::retry::{Outcome, RetryPolicy};
use crate::spool::{Id, Kind, Spool, SpoolError, State, Status, Stored};

/// How often `queue/` is listed for entries other processes added.
pub const RESCAN: Duration = Duration::from_secs(1);
/// How often kept, delivered entries past their retention are removed.
const EXPIRE_EVERY: Duration = Duration::from_secs(3600);

/// What one attempt found: None when the entry went away (deleted) or was no longer pending.
type Attempt = (Id, Option<(Stored, Status, Outcome)>);

/// Delivers the spool until shut down.
#[derive(Debug)]
pub struct MailService {
    pub(super) handle: super::MailHandle,
    pub(super) config: SmtpConfig,
}

/// The driver's state between wake-ups.
struct Driver {
    handle: super::MailHandle,
    config: SmtpConfig,
    /// None while `smtp.url` is empty: entries wait.
    transport: Option<Transport>,
    policy: RetryPolicy,
    schedule: Schedule,
    inflight: JoinSet<Attempt>,
    /// Entries the driver has read (pending, done, or damaged), to tell new ones apart.
    known: HashSet<Id>,
    busy: HashSet<Id>,
    last_expire: Option<Instant>,
}

impl MailService {
    pub async fn run(self, shutdown: CancellationToken) -> Result<(), MailError> {
        let mut d = Driver::new(self)?;
        d.handle.spool.ids()?; // an unreadable spool is an error at start, later only logged
        d.rescan(true, clock::now(), UnixTime::now());
        if d.transport.is_none() && !d.schedule.is_empty() {
            let n = d.schedule.len();
            tracing::warn!("mail: smtp.url is empty; {n} messages wait in the spool");
        }
        let mut tick = tokio::time::interval(RESCAN);
        loop {
            let next = d.start_due(clock::now());
            tokio::select! {
                () = shutdown.cancelled() => break,
                Some(done) = d.inflight.join_next(), if !d.inflight.is_empty() => match done {
                    Ok(attempt) => d.finish(attempt, clock::now(), UnixTime::now()).await,
                    Err(e) => tracing::error!("mail: a delivery task ended: {e}"),
                },
                () = sleep_until(next), if next.is_some() => {}
                () = d.handle.wake.notify.notified() => d.on_wake(clock::now(), UnixTime::now()),
                _ = tick.tick() => d.on_tick(clock::now(), UnixTime::now()),
            }
        }
        // Running attempts may finish (the app bounds this by its grace period); one cut off
        // stays pending and is sent again, with the same Message-ID, at the next start.
        while let Some(done) = d.inflight.join_next().await {
            if let Ok(attempt) = done {
                d.finish(attempt, clock::now(), UnixTime::now()).await;
            }
        }
        Ok(())
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

/// One delivery attempt of entry `id`.
async fn attempt(spool: Spool, transport: Transport, from: String, id: Id) -> Attempt {
    let (stored, status) = match spool.load(id) {
        Ok(entry) => entry,
        Err(SpoolError::NotFound(_)) => return (id, None),
        Err(e) => {
            tracing::error!("mail: {e}");
            return (id, None);
        }
    };
    if !status.state.pending() {
        return (id, None);
    }
    let outcome = match compose::compose(&spool, id, &stored, &from).await {
        Ok(email) => transport::send(&transport, email).await,
        Err(e) => Outcome::Permanent(e.to_string()),
    };
    (id, Some((stored, status, outcome)))
}

impl Driver {
    fn new(service: MailService) -> Result<Driver, MailError> {
        let MailService { handle, config } = service;
        let transport = match &config.server {
            Some(server) => Some(transport::transport(&config, server, &handle.host)?),
            None => None,
        };
        Ok(Driver {
            policy: RetryPolicy {
                lifetime: Duration::from_secs(config.lifetime_secs),
                scale: config.backoff_scale,
            },
            handle,
            config,
            transport,
            schedule: Schedule::default(),
            inflight: JoinSet::new(),
            known: HashSet::new(),
            busy: HashSet::new(),
            last_expire: None,
        })
    }

    /// Starts what is due while there is room; returns when to look again (None: nothing to
    /// wait for, or no room until an attempt ends).
    fn start_due(&mut self, now: Instant) -> Option<Instant> {
        let transport = self.transport.as_ref()?;
        while self.inflight.len() < self.config.concurrency {
            let Some(id) = self.schedule.poll_due(now) else {
                break;
            };
            self.busy.insert(id);
            let spool = self.handle.spool.clone();
            let from = self.config.from.clone();
            self.inflight
                .spawn(attempt(spool, transport.clone(), from, id));
        }
        let room = self.inflight.len() < self.config.concurrency;
        self.schedule.poll_timeout().filter(|_| room)
    }

    /// In-process news: new entries are planned at once; changed ones mean reading all again.
    fn on_wake(&mut self, now: Instant, unix: UnixTime) {
        let (news, changed) = self.handle.wake.take();
        if changed {
            self.rescan(true, now, unix);
        }
        for id in news {
            if !self.busy.contains(&id) {
                self.known.insert(id);
                self.schedule.insert(id, now);
            }
        }
    }

    /// Every [`RESCAN`]: entries other processes added or changed; hourly, the clean-up.
    fn on_tick(&mut self, now: Instant, unix: UnixTime) {
        let kicked = self.handle.spool.take_kick();
        self.rescan(kicked, now, unix);
        if self
            .last_expire
            .is_none_or(|t| now.duration_since(t) >= EXPIRE_EVERY)
        {
            self.last_expire = Some(now);
            self.expire(unix);
        }
    }

    /// Plans pending entries: on a full rescan every entry is read again, otherwise only ones
    /// not seen before. Entries that vanished are forgotten.
    fn rescan(&mut self, full: bool, now: Instant, unix: UnixTime) {
        let ids = match self.handle.spool.ids() {
            Ok(ids) => ids,
            Err(e) => return tracing::warn!("mail: cannot list the spool: {e}"),
        };
        let present: HashSet<Id> = ids.iter().copied().collect();
        for gone in self.known.difference(&present).copied().collect::<Vec<_>>() {
            self.known.remove(&gone);
            self.schedule.remove(gone);
        }
        for id in ids {
            if self.busy.contains(&id) || (!full && self.known.contains(&id)) {
                continue;
            }
            self.known.insert(id);
            match self.handle.spool.status(id) {
                Ok(s) if s.state.pending() => {
                    let wait = s.next_try.map_or(Duration::ZERO, |t| t.since(unix));
                    self.schedule.insert(id, now + wait);
                }
                Ok(_) | Err(SpoolError::NotFound(_)) => self.schedule.remove(id),
                Err(e) => tracing::warn!("mail: {e}"),
            }
        }
    }

    /// Records an attempt's outcome and does what follows from it.
    async fn finish(&mut self, (id, found): Attempt, now: Instant, unix: UnixTime) {
        self.busy.remove(&id);
        let Some((stored, status, outcome)) = found else {
            return;
        };
        let (new, delay) =
            self.policy
                .after_attempt(&status, stored.created, &outcome, unix, rand::random());
        let spool = &self.handle.spool;
        let to = &stored.to.email;
        let written = match new.state {
            State::Delivered if !stored.keep => spool.remove(id),
            _ => spool.set_status(id, &new),
        };
        match written {
            Ok(()) => {}
            // Deleted by the admin while it was being sent.
            Err(SpoolError::NotFound(_)) => return,
            Err(e) => tracing::error!("mail: {id}: cannot record its status: {e}"),
        }
        self.tell_sender(&stored, new.state);
        let error = new.last_error.as_deref().unwrap_or("");
        match new.state {
            State::Delivered => {
                tracing::info!("mail: {id} delivered to {to} {}", stored.message_id)
            }
            State::Deferred => {
                tracing::info!(
                    "mail: {id} to {to} deferred (attempt {}): {error}",
                    new.attempts
                );
                self.schedule.insert(id, now + delay.unwrap_or_default());
            }
            State::Failed => {
                tracing::error!(
                    "mail: {id} to {to} failed after {} attempts: {error}",
                    new.attempts
                );
                self.notify_admin(id, &stored, &new, now, unix).await;
            }
            State::Queued => {}
        }
    }

    /// Hands a referenced mail's final outcome back to its sender (voicemail: keep or delete).
    fn tell_sender(&self, stored: &Stored, state: State) {
        let delivered = match state {
            State::Delivered => true,
            State::Failed => false,
            State::Queued | State::Deferred => return,
        };
        if let Some(reference) = &stored.reference {
            let outcome = super::MailOutcome {
                kind: stored.kind,
                reference: reference.clone(),
                delivered,
            };
            // No listener (the CLI, or a daemon without voicemail) is fine.
            let _ = self.handle.outcomes.send(outcome);
        }
    }

    /// Reports a failed message to `[smtp] admin_email`, itself through the spool; a failed
    /// report is only logged, so reports never loop.
    async fn notify_admin(
        &mut self,
        id: Id,
        stored: &Stored,
        status: &Status,
        now: Instant,
        unix: UnixTime,
    ) {
        if stored.kind == Kind::AdminNotice || self.config.admin_email.is_empty() {
            return;
        }
        match self
            .handle
            .admin_notice(&self.config.admin_email, id, stored, status, unix)
            .await
        {
            Ok(notice) => {
                self.known.insert(notice);
                self.schedule.insert(notice, now);
            }
            Err(e) => tracing::error!("mail: cannot queue the report about {id} to the admin: {e}"),
        }
    }

    fn expire(&self, unix: UnixTime) {
        if self.config.retention_days == 0 {
            return;
        }
        let retention = Duration::from_secs(u64::from(self.config.retention_days) * 86_400);
        match self.handle.spool.expire(retention, unix) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                "mail: removed {n} delivered messages kept longer than {} days",
                self.config.retention_days
            ),
            Err(e) => tracing::warn!("mail: removing old delivered messages: {e}"),
        }
    }
}
