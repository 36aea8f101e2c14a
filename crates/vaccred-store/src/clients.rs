//! API clients: the callers of the certify and update API.

use std::fmt;

use time::OffsetDateTime;

use crate::backend::{Store, on_backend};
use crate::error::{Result, StoreError};
use crate::types::from_millis;

/// A client secret's hash as a PHC string, such as `$argon2id$v=19$m=…$salt$hash`. The
/// caller hashes and verifies; the store only keeps the string. `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretHash(String);

impl SecretHash {
    /// Wraps a PHC string.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidSecretHash`] unless `phc` starts with `$` followed by an
    /// algorithm name, as PHC strings do.
    pub fn new(phc: impl Into<String>) -> Result<Self> {
        let phc = phc.into();
        let algorithm = phc
            .strip_prefix('$')
            .and_then(|rest| rest.split('$').next());
        match algorithm {
            Some(name) if !name.is_empty() => Ok(SecretHash(phc)),
            _ => Err(StoreError::InvalidSecretHash),
        }
    }

    /// Returns the PHC string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

/// A client to register with [`Store::add_api_client`].
#[derive(Debug, Clone)]
pub struct NewApiClient {
    /// Unique, non-empty client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Hash of the client secret.
    pub secret_hash: SecretHash,
    /// Roles granted, such as DIVOC's `facility-staff` and `facility-admin`.
    pub roles: Vec<String>,
}

/// A registered API client.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiClient {
    /// Client id.
    pub client_id: String,
    /// Display name.
    pub name: String,
    /// Hash of the client secret.
    pub secret_hash: SecretHash,
    /// Roles granted.
    pub roles: Vec<String>,
    /// When the client was registered.
    pub created_at: OffsetDateTime,
    /// When the client was disabled; disabled clients must not be authenticated.
    pub disabled_at: Option<OffsetDateTime>,
}

impl ApiClient {
    /// Returns whether the client has been disabled.
    pub fn is_disabled(&self) -> bool {
        self.disabled_at.is_some()
    }
}

#[derive(sqlx::FromRow)]
struct ApiClientRow {
    client_id: String,
    name: String,
    secret_hash: String,
    roles_json: String,
    created_at: i64,
    disabled_at: Option<i64>,
}

const INSERT_CLIENT: &str = "
    INSERT INTO api_clients (client_id, name, secret_hash, roles_json, created_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (client_id) DO NOTHING";

const CLIENT_COLUMNS: &str =
    "SELECT client_id, name, secret_hash, roles_json, created_at, disabled_at FROM api_clients";

const SET_CLIENT_SECRET: &str = "
    UPDATE api_clients SET secret_hash = $1 WHERE client_id = $2";

const DISABLE_CLIENT: &str = "
    UPDATE api_clients SET disabled_at = COALESCE(disabled_at, $1) WHERE client_id = $2";

impl Store {
    /// Registers an API client.
    ///
    /// # Errors
    ///
    /// [`StoreError::ApiClientExists`] when the id is taken; [`StoreError::Database`]
    /// when the id is empty or the database fails.
    pub async fn add_api_client(&self, client: &NewApiClient) -> Result<ApiClient> {
        let now = self.now_millis();
        let roles = serde_json::Value::from(client.roles.clone()).to_string();
        let inserted = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query(INSERT_CLIENT)
                .bind(&client.client_id)
                .bind(&client.name)
                .bind(client.secret_hash.as_str())
                .bind(&roles)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::ApiClientExists(client.client_id.clone()));
        }
        Ok(ApiClient {
            client_id: client.client_id.clone(),
            name: client.name.clone(),
            secret_hash: client.secret_hash.clone(),
            roles: client.roles.clone(),
            created_at: from_millis("api_clients.created_at", now)?,
            disabled_at: None,
        })
    }

    /// Returns the API client with this id, disabled or not.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn api_client(&self, client_id: &str) -> Result<Option<ApiClient>> {
        let sql = format!("{CLIENT_COLUMNS} WHERE client_id = $1");
        let row: Option<ApiClientRow> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(&sql)
                .bind(client_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(api_client_from_row).transpose()
    }

    /// Returns every API client, ordered by id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn api_clients(&self) -> Result<Vec<ApiClient>> {
        let sql = format!("{CLIENT_COLUMNS} ORDER BY client_id");
        let rows: Vec<ApiClientRow> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(&sql).fetch_all(pool).await?
        });
        rows.into_iter().map(api_client_from_row).collect()
    }

    /// Replaces an API client's secret hash, so only the new secret gets tokens. Tokens
    /// issued before stay valid until they expire.
    ///
    /// # Errors
    ///
    /// [`StoreError::ApiClientNotFound`] when no client has this id;
    /// [`StoreError::Database`] when the database fails.
    pub async fn set_api_client_secret(&self, client_id: &str, hash: &SecretHash) -> Result<()> {
        let changed = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query(SET_CLIENT_SECRET)
                .bind(hash.as_str())
                .bind(client_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::ApiClientNotFound(client_id.to_owned()));
        }
        tracing::info!(client.id = client_id, "API client secret replaced");
        Ok(())
    }

    /// Disables an API client. Disabling a disabled client keeps its first disable time.
    ///
    /// # Errors
    ///
    /// [`StoreError::ApiClientNotFound`] when no client has this id;
    /// [`StoreError::Database`] when the database fails.
    pub async fn disable_api_client(&self, client_id: &str) -> Result<()> {
        let now = self.now_millis();
        let changed = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query(DISABLE_CLIENT)
                .bind(now)
                .bind(client_id)
                .execute(pool)
                .await?
                .rows_affected()
        });
        if changed == 0 {
            return Err(StoreError::ApiClientNotFound(client_id.to_owned()));
        }
        tracing::info!(client.id = client_id, "API client disabled");
        Ok(())
    }
}

fn api_client_from_row(row: ApiClientRow) -> Result<ApiClient> {
    let roles = serde_json::from_str(&row.roles_json).map_err(|_| StoreError::InvalidColumn {
        column: "api_clients.roles_json",
        value: row.roles_json.clone(),
    })?;
    let secret_hash = SecretHash::new(row.secret_hash).map_err(|_| StoreError::InvalidColumn {
        column: "api_clients.secret_hash",
        value: String::from("(not shown)"),
    })?;
    Ok(ApiClient {
        client_id: row.client_id,
        name: row.name,
        secret_hash,
        roles,
        created_at: from_millis("api_clients.created_at", row.created_at)?,
        disabled_at: row
            .disabled_at
            .map(|millis| from_millis("api_clients.disabled_at", millis))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_accepts_phc_strings_only() {
        assert!(SecretHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").is_ok());
        assert!(SecretHash::new("plain-secret").is_err());
        assert!(SecretHash::new("$").is_err());
    }

    #[test]
    fn secret_hash_debug_hides_value() {
        let hash = SecretHash::new("$argon2id$v=19$abc").unwrap();
        assert_eq!(format!("{hash:?}"), "SecretHash(..)");
    }
}
