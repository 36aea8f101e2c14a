//! Registering API clients: id checks, secret generation and hashing.

use secrecy::{ExposeSecret as _, SecretString};
use vaccred_store::{ApiClient, NewApiClient, SecretHash, Store, StoreError};

use super::Role;
use super::secret::{SecretError, generate_secret, hash_secret};

/// Longest accepted client id, in characters.
pub const MAX_CLIENT_ID_LEN: usize = 64;

/// Error returned when a client cannot be registered.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The client id is empty, too long or has characters outside the allowed set.
    #[error("invalid client id {0:?}: use 1 to 64 ASCII letters, digits, '.', '_' or '-'")]
    InvalidId(String),
    /// No role was given.
    #[error("a client needs at least one role: pass --role ROLE")]
    NoRoles,
    /// The secret cannot be generated or hashed.
    #[error(transparent)]
    Secret(#[from] SecretError),
    /// The client is disabled, so a new secret would get no tokens.
    #[error("API client {0:?} is disabled: register a new client instead")]
    Disabled(String),
    /// The store rejected the client, for example because the id is taken.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A newly registered client with its secret, which exists only here: the store keeps
/// the hash.
#[derive(Debug)]
pub struct RegisteredClient {
    /// The stored client.
    pub client: ApiClient,
    /// The client secret, to hand to the client's operator once.
    pub secret: SecretString,
}

/// Checks a client id: 1 to 64 ASCII letters, digits, `.`, `_` or `-`, so it can appear
/// in a token's `resource_access` key and in logs without escaping.
///
/// # Errors
/// Returns [`ClientError::InvalidId`] otherwise.
pub fn validate_client_id(client_id: &str) -> Result<(), ClientError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let length_ok = (1..=MAX_CLIENT_ID_LEN).contains(&client_id.len());
    if length_ok && client_id.chars().all(allowed) {
        Ok(())
    } else {
        Err(ClientError::InvalidId(client_id.to_owned()))
    }
}

/// Registers a client with a generated secret and the given roles. The client id is also
/// its display name.
///
/// # Errors
/// Returns [`ClientError`] for an invalid id, no roles, a taken id or a database failure.
pub async fn register_client(
    store: &Store,
    client_id: &str,
    roles: &[Role],
) -> Result<RegisteredClient, ClientError> {
    validate_client_id(client_id)?;
    if roles.is_empty() {
        return Err(ClientError::NoRoles);
    }
    let (secret, secret_hash) = new_secret().await?;
    let mut role_names: Vec<String> = roles.iter().map(|role| role.as_str().to_owned()).collect();
    role_names.sort();
    role_names.dedup();
    let new_client = NewApiClient {
        client_id: client_id.to_owned(),
        name: client_id.to_owned(),
        secret_hash,
        roles: role_names,
    };
    let client = store.add_api_client(&new_client).await?;
    tracing::info!(
        client.id = %client.client_id,
        roles = client.roles.join(","),
        "API client registered"
    );
    Ok(RegisteredClient { client, secret })
}

/// Gives an API client a new secret and returns it; the old secret stops getting tokens.
///
/// # Errors
///
/// [`ClientError::Store`] with `ApiClientNotFound` when no client has this id,
/// [`ClientError::Disabled`] for a disabled client, and the other variants when the secret
/// cannot be generated, hashed or stored.
pub async fn rotate_client_secret(
    store: &Store,
    client_id: &str,
) -> Result<SecretString, ClientError> {
    match store.api_client(client_id).await? {
        None => return Err(StoreError::ApiClientNotFound(client_id.to_owned()).into()),
        Some(client) if client.is_disabled() => {
            return Err(ClientError::Disabled(client_id.to_owned()));
        }
        Some(_) => {}
    }
    let (secret, hash) = new_secret().await?;
    store.set_api_client_secret(client_id, &hash).await?;
    Ok(secret)
}

/// Generates a client secret and its hash; hashing takes a CPU-heavy moment, so it runs
/// on the blocking pool.
async fn new_secret() -> Result<(SecretString, SecretHash), ClientError> {
    let secret = generate_secret()?;
    let exposed = secret.expose_secret().to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_secret(&exposed))
        .await
        .map_err(|error| SecretError::Hash(error.to_string()))??;
    Ok((secret, SecretHash::new(hash)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_id_rules() {
        assert!(validate_client_id("commcare-jm_1.0").is_ok());
        assert!(validate_client_id("").is_err());
        assert!(validate_client_id("has space").is_err());
        assert!(validate_client_id("ünï").is_err());
        assert!(validate_client_id(&"a".repeat(65)).is_err());
        assert!(validate_client_id(&"a".repeat(64)).is_ok());
    }
}
