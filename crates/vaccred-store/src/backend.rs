//! Opening a store: connection pools, migrations, and the functions whose SQL or settings
//! differ between PostgreSQL and SQLite. Those functions carry a "Backend-specific" note;
//! every other statement in this crate is the same text on both backends.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, Sqlite, SqliteConnection, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::clock::{SharedClock, SystemClock};
use crate::error::{Result, StoreError};
use crate::group::AcceptGroups;
use crate::types::to_millis;

static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");

/// Runs `$body` once per backend, with `$inner` bound to the pool or transaction of
/// whichever backend `$value` contains. The body is compiled for each backend, so the same
/// query text is type-checked against both drivers.
macro_rules! on_backend {
    ($kind:ident, $value:expr, |$inner:ident| $body:expr) => {
        match $value {
            $crate::backend::$kind::Postgres($inner) => $body,
            $crate::backend::$kind::Sqlite($inner) => $body,
        }
    };
}
pub(crate) use on_backend;

#[derive(Debug, Clone)]
pub(crate) enum Pool {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls it back.
pub(crate) enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(SqliteTx),
}

/// A SQLite write transaction together with the store's writer turn.
///
/// SQLite lets one connection write at a time. Without the turn, a connection that finds
/// the write lock taken sleeps in SQLite's busy handler, in steps of up to 100 ms. A short
/// certify transaction could then wait behind a batch commit far longer than the commit
/// takes. An in-process FIFO lock hands the write lock over as soon as it is free. Processes other than this one still wait in the busy
/// handler. Fields drop in order: the transaction rolls back before the turn ends.
pub(crate) struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
    _turn: OwnedMutexGuard<()>,
}

impl SqliteTx {
    async fn commit(self) -> std::result::Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

impl std::ops::Deref for SqliteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.tx
    }
}

impl std::ops::DerefMut for SqliteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.tx
    }
}

impl Tx {
    pub(crate) async fn commit(self) -> Result<()> {
        on_backend!(Tx, self, |tx| tx.commit().await?);
        Ok(())
    }
}

/// The database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// PostgreSQL, shared by any number of service processes.
    Postgres,
    /// A SQLite file in WAL mode, for a single host.
    Sqlite,
}

/// Settings for [`Store::open_with`].
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Maximum number of pooled connections. Default: 10.
    pub max_connections: u32,
    /// How long a SQLite connection waits for another connection's write lock before the
    /// statement fails. Default: 5 seconds.
    pub sqlite_busy_timeout: Duration,
    /// Source of the current time. Default: [`SystemClock`].
    pub clock: SharedClock,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            max_connections: 10,
            sqlite_busy_timeout: Duration::from_secs(5),
            clock: Arc::new(SystemClock),
        }
    }
}

/// The database of the issuance service: accepted requests, the signing work queue,
/// certificates, revocations, API clients and signing keys. Clones share one pool.
#[derive(Debug, Clone)]
pub struct Store {
    pub(crate) pool: Pool,
    clock: SharedClock,
    /// Backend-specific: the turn that SQLite write transactions take (see `SqliteTx`).
    sqlite_writer: Arc<Mutex<()>>,
    /// Backend-specific: the task that commits accepted bodies in groups on SQLite.
    pub(crate) accept_groups: Option<AcceptGroups>,
    pub(crate) notifications: Option<Arc<crate::notifications::NotificationPolicy>>,
}

impl Store {
    /// Opens the database at `url` with default options and applies pending migrations.
    ///
    /// `url` is `postgres://…` or `postgresql://…` for PostgreSQL, and `sqlite://PATH`,
    /// `sqlite:PATH` or a plain file path for SQLite. A SQLite file is created if missing.
    ///
    /// # Errors
    ///
    /// [`StoreError::UnsupportedUrl`] for other schemes, [`StoreError::Database`] when
    /// connecting fails, [`StoreError::Migration`] when the schema cannot be brought up
    /// to date.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_with(url, StoreOptions::default()).await
    }

    /// Opens the database at `url` (see [`Store::open`]) with `options`.
    ///
    /// # Errors
    ///
    /// As [`Store::open`].
    pub async fn open_with(url: &str, options: StoreOptions) -> Result<Store> {
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        if postgres {
            let connect = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new()
                .max_connections(options.max_connections)
                .connect_with(connect)
                .await?;
            return Store::from_postgres_pool(pool, options.clock).await;
        }
        let pool = open_sqlite(url, &options).await?;
        Store::from_sqlite_pool(pool, options.clock).await
    }

    /// Wraps an existing PostgreSQL pool and applies pending migrations. Use this to set
    /// connection options the URL cannot express, such as a `search_path`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Migration`] when the schema cannot be brought up to date.
    pub async fn from_postgres_pool(pool: PgPool, clock: SharedClock) -> Result<Store> {
        POSTGRES_MIGRATIONS.run(&pool).await?;
        tracing::info!(backend = "postgres", "store opened and migrated");
        Ok(Store {
            pool: Pool::Postgres(pool),
            clock,
            sqlite_writer: Arc::default(),
            accept_groups: None,
            notifications: None,
        })
    }

    /// Wraps an existing SQLite pool and applies pending migrations. The pool's
    /// connection options are used as given, so the caller chooses journal mode, foreign
    /// key enforcement and busy timeout.
    ///
    /// # Errors
    ///
    /// [`StoreError::Migration`] when the schema cannot be brought up to date.
    pub async fn from_sqlite_pool(pool: SqlitePool, clock: SharedClock) -> Result<Store> {
        SQLITE_MIGRATIONS.run(&pool).await?;
        tracing::info!(backend = "sqlite", "store opened and migrated");
        let sqlite_writer = Arc::default();
        let accept_groups = AcceptGroups::start(pool.clone(), Arc::clone(&sqlite_writer));
        Ok(Store {
            pool: Pool::Sqlite(pool),
            clock,
            sqlite_writer,
            accept_groups: Some(accept_groups),
            notifications: None,
        })
    }

    /// Returns the backend this store runs on.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Postgres(_) => Backend::Postgres,
            Pool::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Runs a trivial query, for readiness checks.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when no connection can be made or the query fails.
    pub async fn health(&self) -> Result<()> {
        on_backend!(Pool, &self.pool, |pool| {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Closes every pooled connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        on_backend!(Pool, &self.pool, |pool| pool.close().await);
    }

    /// Returns the clock's current time in column format (milliseconds).
    pub(crate) fn now_millis(&self) -> i64 {
        to_millis(self.clock.now())
    }

    /// Begins a transaction that will write.
    ///
    /// Backend-specific: SQLite first waits for this store's writer turn, then starts
    /// with `BEGIN IMMEDIATE`, which takes the database's write lock at once (waiting up
    /// to the busy timeout for other processes). A transaction that read first
    /// would instead have to upgrade its lock later, which fails at once with
    /// `SQLITE_BUSY` when another connection has written in between. PostgreSQL uses a plain
    /// `BEGIN` at READ COMMITTED, and row locks and unique indexes order the writers.
    pub(crate) async fn begin_write(&self) -> Result<Tx> {
        Ok(match &self.pool {
            Pool::Postgres(pool) => Tx::Postgres(pool.begin().await?),
            Pool::Sqlite(pool) => begin_sqlite_write(pool, &self.sqlite_writer).await?,
        })
    }
}

/// Backend-specific: waits for the writer turn `turn`, then begins a SQLite write
/// transaction with `BEGIN IMMEDIATE` (see [`Store::begin_write`]).
pub(crate) async fn begin_sqlite_write(pool: &SqlitePool, turn: &Arc<Mutex<()>>) -> Result<Tx> {
    let turn = Arc::clone(turn).lock_owned().await;
    let tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    Ok(Tx::Sqlite(SqliteTx { tx, _turn: turn }))
}

/// Backend-specific: opens a SQLite pool in WAL mode with foreign keys enforced and
/// `synchronous=FULL`, so a committed transaction survives a power failure.
///
/// NOTE: only file databases are tested. `sqlite::memory:` runs without WAL in shared-cache
/// mode, where concurrent writers may fail with `SQLITE_LOCKED` instead of waiting.
async fn open_sqlite(url: &str, options: &StoreOptions) -> Result<SqlitePool> {
    let connect = if url.starts_with("sqlite:") {
        let options = SqliteConnectOptions::from_str(url)?;
        if !url.contains("memory") {
            create_private_file(options.get_filename())?;
        }
        options
    } else if let Some((scheme, _)) = url.split_once("://") {
        return Err(StoreError::UnsupportedUrl {
            scheme: scheme.to_owned(),
        });
    } else {
        create_private_file(std::path::Path::new(url))?;
        SqliteConnectOptions::new().filename(url)
    };
    let connect = connect
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(options.sqlite_busy_timeout);
    let pool = SqlitePoolOptions::new()
        .max_connections(options.max_connections)
        .connect_with(connect)
        .await?;
    Ok(pool)
}

/// Creates a missing database file readable by its owner only (mode 0600), because it
/// contains names, dates of birth and phone numbers. SQLite gives the `-wal` and `-shm` files
/// the database file's mode. An existing file keeps its mode, and in-memory databases and
/// `file:` URIs are left to SQLite.
fn create_private_file(path: &std::path::Path) -> Result<()> {
    let text = path.to_string_lossy();
    if text.is_empty() || text == ":memory:" || text.starts_with("file:") || path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        // Another process created it first; SQLite opens it as it is.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::Database(sqlx::Error::Io(error))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_move_in_lockstep() {
        let postgres: Vec<_> = POSTGRES_MIGRATIONS
            .iter()
            .map(|m| (m.version, m.description.clone()))
            .collect();
        let sqlite: Vec<_> = SQLITE_MIGRATIONS
            .iter()
            .map(|m| (m.version, m.description.clone()))
            .collect();
        assert!(!postgres.is_empty());
        assert_eq!(postgres, sqlite);
    }

    #[tokio::test]
    async fn open_rejects_other_schemes() {
        let error = Store::open("mysql://user:secret@localhost/db")
            .await
            .unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, StoreError::UnsupportedUrl { ref scheme } if scheme == "mysql"));
        assert!(!message.contains("secret"), "{message}");
    }
}
