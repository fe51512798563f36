//! The one module that owns the database: users, devices, workplaces and everything hanging off
//! them (teams, call records), with the seed's validation rules and quick-create side effects.
//!
//! SQLite is the embedded engine (WAL, foreign keys on, versioned migrations). All SQL is kept
//! portable (`$N` placeholders, `RETURNING`, unix-second integers) so a PostgreSQL pool can run the
//! same queries later. Writes go through a pool of one connection: SQLite has one writer anyway,
//! and queueing in-process avoids `SQLITE_BUSY` upgrades; reads use their own pool.
//!
//! Every operation that the API, the CLI and the xlsx import share lives here, so all three get
//! the same validation and side effects; the import runs them in one [`Batch`].

mod accounts;
mod actions;
mod assignments;
mod batch;
pub mod boxes;
pub mod calls;
pub mod changes;
mod devices;
pub mod fax;
mod followme;
mod forwardings;
mod hasher;
pub mod mailboxes;
pub mod menu;
mod model;
mod numbers;
mod phonebook;
mod profile;
pub mod provisioning;
mod quick_create;
pub mod registrations;
pub mod routing;
pub mod secret;
mod speed_dials;
pub mod teams;
mod templates;
mod users;
pub mod validate;
pub mod voicemail;
mod workplaces;

use std::str::FromStr;
use std::time::Duration;

use crate::clock::UnixTime;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

pub use accounts::{Principal, PrincipalSource};
pub use assignments::OwnerRef;
pub use batch::Batch;
pub use calls::{CallPage, CallRecord, NewCall};
pub use devices::default_label;
pub use model::*;
pub use teams::{NewMember, NewTeam, Team, TeamPatch};
pub use users::Hashed;

/// What can go wrong in the store; the API maps each variant to one HTTP status (and SIP will
/// map it to a response code), so what went wrong is structured, never only text.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Input broke a rule of the seed (the caller's fault).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// Input collides with existing data, e.g. a taken extension.
    #[error("{field}: {message}")]
    Conflict { field: String, message: String },
    #[error("{kind} {key} not found")]
    NotFound { kind: &'static str, key: String },
    /// The caller may not do this (e.g. grant a role above its own).
    #[error("{0}")]
    Forbidden(String),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("password hashing: {0}")]
    Hash(String),
    /// Too many password checks queued; try again shortly.
    #[error("busy checking passwords; try again")]
    Busy,
}

impl StoreError {
    pub(crate) fn invalid(field: &str, message: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub(crate) fn not_found(kind: &'static str, key: impl ToString) -> Self {
        StoreError::NotFound {
            kind,
            key: key.to_string(),
        }
    }

    pub(crate) fn conflict(field: &str, message: impl Into<String>) -> Self {
        StoreError::Conflict {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field a client should fix, where there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            StoreError::Invalid { field, .. } | StoreError::Conflict { field, .. } => Some(field),
            _ => None,
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Handle to the database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    read: SqlitePool,
    write: SqlitePool,
    default_language: String,
    window_hours: u64,
    hasher: hasher::Hasher,
    changes: std::sync::Arc<changes::Feed>,
}

/// Settings the store needs from the config.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// `sqlite://FILE`.
    pub url: String,
    /// Language of users created without one.
    pub default_language: String,
    /// Hours an assigned phone may fetch its first full config.
    pub enrollment_window_hours: u64,
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn open(opts: &StoreOptions) -> Result<Store> {
        let options = SqliteConnectOptions::from_str(&opts.url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
        let feed: std::sync::Arc<std::sync::OnceLock<std::sync::Arc<changes::Feed>>> =
            Default::default();
        let (hooked, released) = (feed.clone(), feed.clone());
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .after_connect(move |conn, _| {
                let feed = hooked.clone();
                Box::pin(async move {
                    let mut handle = conn.lock_handle().await?;
                    handle.set_update_hook(move |r| {
                        if let Some(feed) = feed.get() {
                            let insert = r.operation == sqlx::sqlite::SqliteOperation::Insert;
                            feed.touched(r.table, insert);
                        }
                    });
                    Ok(())
                })
            })
            .after_release(move |_, _| {
                if let Some(feed) = released.get() {
                    feed.released();
                }
                Box::pin(async { Ok(true) })
            })
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&write).await?;
        let changes =
            std::sync::Arc::new(changes::Feed::new(changes::last_generation(&write).await?));
        let _ = feed.set(changes.clone());
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store {
            read,
            write,
            default_language: opts.default_language.clone(),
            window_hours: opts.enrollment_window_hours,
            hasher: hasher::Hasher::for_this_machine(),
            changes,
        })
    }

    /// The language of users created without one (`server.language`).
    pub fn default_language(&self) -> &str {
        &self.default_language
    }

    /// A cheap query that proves the database answers (for the systemd watchdog).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    /// Checks a secret against a stored argon2 hash (on the hashing workers).
    pub async fn verify_secret(&self, secret: &secret::Secret, stored: &str) -> bool {
        self.hasher.verify(secret, stored).await
    }

    /// Costs what a password check costs, for answers that must not be faster (unknown names).
    pub async fn spend_a_hash(&self, secret: &secret::Secret) {
        let _ = self.hasher.hash(secret).await;
    }

    /// Closes both pools, waiting for running statements.
    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

/// The rows `select` (a query ending in `IN (`) finds for `values`, asked 500 at a time (far
/// below SQLite's bound on parameters).
pub(crate) async fn select_in<T>(
    conn: &mut sqlx::SqliteConnection,
    select: &str,
    values: &[&str],
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    let mut out = Vec::new();
    for chunk in values.chunks(500) {
        let mut query = sqlx::QueryBuilder::new(select);
        let mut list = query.separated(", ");
        for v in chunk {
            list.push_bind(*v);
        }
        query.push(")");
        out.extend(query.build_query_as::<T>().fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// A store in a fresh temporary directory (German by default), for tests.
#[cfg(test)]
pub(crate) async fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&StoreOptions {
        url: format!("sqlite://{}", dir.path().join("z.db").display()),
        default_language: "de".into(),
        enrollment_window_hours: 24,
    })
    .await
    .expect("store");
    (dir, store)
}

/// The wall clock now, as the store keeps it.
pub(crate) fn unix_now() -> UnixTime {
    UnixTime::now()
}

/// The id `sql` (a `SELECT id ... WHERE name = $1`) finds for `name`; none is `NotFound`.
pub(crate) async fn find_id(
    conn: &mut sqlx::SqliteConnection,
    sql: &str,
    what: &'static str,
    name: &str,
) -> Result<i64> {
    let row: Option<(i64,)> = sqlx::query_as(sql)
        .bind(name)
        .fetch_optional(&mut *conn)
        .await?;
    row.map(|r| r.0)
        .ok_or_else(|| StoreError::not_found(what, name))
}

/// For a name given in a request body, unknown is the caller's mistake in `field` (422), not a
/// missing resource (404).
pub(crate) fn named_in_body(field: &str) -> impl FnOnce(StoreError) -> StoreError {
    let field = field.to_owned();
    move |e| match e {
        StoreError::NotFound { kind, key } => {
            StoreError::invalid(&field, format!("there is no {kind} {key}"))
        }
        other => other,
    }
}

/// Maps a UNIQUE violation to a conflict on `field`, passing other errors through.
pub(crate) fn unique_as_conflict(
    field: &str,
    message: &str,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    let (field, message) = (field.to_owned(), message.to_owned());
    move |e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { field, message }
        }
        _ => StoreError::Database(e),
    }
}
