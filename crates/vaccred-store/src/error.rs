//! Errors of the store.

use vaccred_core::credential::CertificateId;

/// Error returned by [`Store`](crate::Store) operations.
///
/// Messages name ids and columns, never personal data such as names, mobile numbers or
/// dates of birth. Database errors carry the driver's message, which for a violated
/// constraint names the constraint but not the row.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL names a backend this store does not support.
    #[error(
        "unsupported database URL scheme {scheme:?}: use postgres://, postgresql://, \
         sqlite:// or a SQLite file path"
    )]
    UnsupportedUrl {
        /// The scheme of the URL, without the rest, which may contain a password.
        scheme: String,
    },
    /// A query or connection failed, or a constraint rejected a row. The message includes
    /// sqlx's, which is therefore not also given as the source, so an error chain prints
    /// it once.
    #[error("database operation failed: {0}")]
    Database(sqlx::Error),
    /// Applying the embedded migrations failed.
    #[error("database migration failed: {0}")]
    Migration(sqlx::migrate::MigrateError),
    /// An item of a request body contradicts the request kind.
    #[error("item {index} is invalid: {problem}")]
    InvalidItem {
        /// Position of the item in the request body.
        index: usize,
        /// Description of the problem.
        problem: &'static str,
    },
    /// Concurrent requests kept taking and releasing an item's idempotency key while it
    /// was being stored. Nothing was stored; the request can be sent again.
    #[error("the idempotency key of item {index} changed hands repeatedly: retry the request")]
    KeyContention {
        /// Position of the item in the request body.
        index: usize,
    },
    /// An update item's dose already has as many certificates and queued updates as the
    /// update limit allows. Nothing was stored.
    #[error("item {index} cannot be accepted: its dose has reached the update limit of {limit}")]
    UpdateLimitReached {
        /// Position of the item in the request body.
        index: usize,
        /// The limit that applied.
        limit: u32,
    },
    /// Another certificate already has this id. The caller should sign again with a new id.
    #[error("certificate id {0} is already in use: generate a new id and sign again")]
    CertificateIdInUse(CertificateId),
    /// A client secret hash is not a PHC string.
    #[error("invalid secret hash: use a PHC string such as $argon2id$v=19$…")]
    InvalidSecretHash,
    /// An API client with this id already exists.
    #[error("API client {0:?} already exists: choose another client id")]
    ApiClientExists(String),
    /// No API client has this id.
    #[error("API client {0:?} not found")]
    ApiClientNotFound(String),
    /// A signing key with this id is already listed.
    #[error("signing key {0} is already listed")]
    SigningKeyExists(String),
    /// No signing key has this id.
    #[error("signing key {0} not found")]
    SigningKeyNotFound(String),
    /// A notification to enqueue is incomplete.
    #[error("invalid notification: {0}")]
    InvalidNotification(&'static str),
    /// No outbox message has this id.
    #[error("notification {0} not found: list them with `vaccred notifications list`")]
    NotificationNotFound(i64),
    /// A column contains a value this version of the store never writes.
    #[error(
        "column {column} contains the invalid value {value:?}: the row was written by other \
         software or a newer version"
    )]
    InvalidColumn {
        /// Table and column, such as `work_items.status`.
        column: &'static str,
        /// The value found. Only columns without personal data are reported.
        value: String,
    },
}

/// Error returned by [`Store::revoke`](crate::Store::revoke). The first three variants
/// are DIVOC's 400 responses, [`RevokeError::NotFound`] its 404.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RevokeError {
    /// Neither a dose list nor "all doses" was given, or the list is empty.
    #[error("no doses given: pass doses=1,2,… or allDoses=true")]
    NoDoses,
    /// The doses, once sorted, have a gap.
    #[error("doses {doses:?} are not contiguous: revoke a run of consecutive doses")]
    NotContiguous {
        /// The requested doses, sorted and without repeats.
        doses: Vec<u32>,
    },
    /// The doses do not include the highest dose that has an active certificate.
    #[error(
        "doses {doses:?} do not include the highest certified dose {highest}: revoke a \
         run of doses that ends at dose {highest}, or pass allDoses=true"
    )]
    HighestDoseMissing {
        /// The requested doses, sorted and without repeats.
        doses: Vec<u32>,
        /// The highest dose with an active certificate.
        highest: f64,
    },
    /// No active certificate exists for the pre-enrollment code and doses.
    #[error("no active certificate found for the pre-enrollment code and doses")]
    NotFound,
    /// The revocation reason is empty or longer than 64 characters.
    #[error("invalid revocation reason {0:?}: use 1 to 64 characters")]
    InvalidReason(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        Self::Database(error)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Self::Migration(error)
    }
}

impl From<sqlx::Error> for RevokeError {
    fn from(error: sqlx::Error) -> Self {
        RevokeError::Store(StoreError::Database(error))
    }
}

/// Result type of store operations.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
