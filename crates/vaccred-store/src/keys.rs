//! Public halves of the signing keys, for publishing the key set. Private keys stay in
//! files and never enter the database.

use time::OffsetDateTime;
use vaccred_core::keys::KeyId;
use vaccred_core::proof::ProofType;

use crate::backend::{Store, on_backend};
use crate::error::{Result, StoreError};
use crate::types::{KeyStatus, from_millis};

/// A public key to list with [`Store::add_signing_key`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSigningKey {
    /// The key id used as the proofs' `verificationMethod`.
    pub key_id: KeyId,
    /// The proof type the key signs.
    pub algorithm: ProofType,
    /// The public key, PEM-encoded.
    pub public_key_pem: String,
}

/// A listed signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    /// The key id.
    pub key_id: KeyId,
    /// The proof type the key signs.
    pub algorithm: ProofType,
    /// The public key, PEM-encoded.
    pub public_key_pem: String,
    /// Active or retired.
    pub status: KeyStatus,
    /// When the key was listed.
    pub created_at: OffsetDateTime,
    /// When the key was retired.
    pub retired_at: Option<OffsetDateTime>,
}

#[derive(sqlx::FromRow)]
struct SigningKeyRow {
    key_id: String,
    algorithm: String,
    public_key_pem: String,
    status: String,
    created_at: i64,
    retired_at: Option<i64>,
}

const INSERT_KEY: &str = "
    INSERT INTO signing_keys (key_id, algorithm, public_key_pem, status, created_at)
    VALUES ($1, $2, $3, 'active', $4)
    ON CONFLICT (key_id) DO NOTHING";

const KEY_COLUMNS: &str =
    "SELECT key_id, algorithm, public_key_pem, status, created_at, retired_at FROM signing_keys";

const RETIRE_KEY: &str = "
    UPDATE signing_keys SET status = 'retired', retired_at = COALESCE(retired_at, $1)
    WHERE key_id = $2";

impl Store {
    /// Lists a new active signing key.
    ///
    /// # Errors
    ///
    /// [`StoreError::SigningKeyExists`] when the key id is listed already;
    /// [`StoreError::Database`] when the database fails.
    pub async fn add_signing_key(&self, key: &NewSigningKey) -> Result<SigningKeyRecord> {
        let now = self.now_millis();
        let inserted = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query(INSERT_KEY)
                .bind(key.key_id.as_str())
                .bind(key.algorithm.as_str())
                .bind(&key.public_key_pem)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::SigningKeyExists(key.key_id.to_string()));
        }
        tracing::info!(key.id = %key.key_id, "signing key listed");
        Ok(SigningKeyRecord {
            key_id: key.key_id.clone(),
            algorithm: key.algorithm,
            public_key_pem: key.public_key_pem.clone(),
            status: KeyStatus::Active,
            created_at: from_millis("signing_keys.created_at", now)?,
            retired_at: None,
        })
    }

    /// Returns every listed signing key, oldest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let sql = format!("{KEY_COLUMNS} ORDER BY created_at, key_id");
        let rows: Vec<SigningKeyRow> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter().map(signing_key_from_row).collect()
    }

    /// Marks a signing key retired. Retiring a retired key keeps its first retire time.
    ///
    /// # Errors
    ///
    /// [`StoreError::SigningKeyNotFound`] when the key id is not listed;
    /// [`StoreError::Database`] when the database fails.
    pub async fn retire_signing_key(&self, key_id: &KeyId) -> Result<()> {
        let now = self.now_millis();
        let changed = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query(RETIRE_KEY)
                .bind(now)
                .bind(key_id.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::SigningKeyNotFound(key_id.to_string()));
        }
        tracing::info!(key.id = %key_id, "signing key retired");
        Ok(())
    }
}

fn signing_key_from_row(row: SigningKeyRow) -> Result<SigningKeyRecord> {
    let invalid = |column: &'static str, value: &str| StoreError::InvalidColumn {
        column,
        value: value.to_owned(),
    };
    Ok(SigningKeyRecord {
        key_id: KeyId::new(row.key_id.as_str())
            .map_err(|_| invalid("signing_keys.key_id", &row.key_id))?,
        algorithm: ProofType::parse(&row.algorithm)
            .ok_or_else(|| invalid("signing_keys.algorithm", &row.algorithm))?,
        public_key_pem: row.public_key_pem,
        status: KeyStatus::from_column(&row.status)?,
        created_at: from_millis("signing_keys.created_at", row.created_at)?,
        retired_at: row
            .retired_at
            .map(|millis| from_millis("signing_keys.retired_at", millis))
            .transpose()?,
    })
}
