//! Tokens of an external OpenID Connect provider, checked against its JSON Web Key Set.
//!
//! The key set comes from a URL, fetched at start and again when a token names an unknown
//! key (the provider rotated its keys), or from a file read at start.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet, KeyAlgorithm, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};
use tokio::sync::RwLock;

use super::{AccessClaims, Principal, TokenError, TokenSource, classify};
use crate::config::OidcConfig;

/// Shortest time between two fetches of a key set URL, so tokens with made-up key ids
/// cannot make the server flood the provider.
const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(10);
/// Time allowed for fetching the key set.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Error returned when the provider's key set cannot be obtained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JwksError {
    /// The URL could not be fetched.
    #[error("cannot fetch the OpenID Connect key set from {url}: {message}")]
    Fetch {
        /// The key set URL.
        url: String,
        /// The HTTP client's message.
        message: String,
    },
    /// The file could not be read.
    #[error("cannot read the OpenID Connect key set file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The document is not a JSON Web Key Set.
    #[error("invalid OpenID Connect key set from {source_name}: {message}")]
    Invalid {
        /// The URL or file.
        source_name: String,
        /// The parser's message.
        message: String,
    },
}

#[derive(Debug)]
enum KeySource {
    Url {
        url: String,
        client: reqwest::Client,
    },
    File(String),
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// Verifies tokens of the configured provider.
pub struct OidcVerifier {
    issuer: String,
    audience: Option<String>,
    source: KeySource,
    cache: RwLock<KeyCache>,
}

impl std::fmt::Debug for OidcVerifier {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("OidcVerifier")
            .field("issuer", &self.issuer)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

impl OidcVerifier {
    /// Creates the verifier and loads the key set. A key set URL that cannot be fetched
    /// now is logged and fetched again when the first token arrives; a file must be
    /// readable.
    ///
    /// # Errors
    /// Returns [`JwksError`] when a key set file cannot be read or parsed. Returns `None`
    /// inside `Ok` when no provider is configured.
    pub async fn from_config(config: &OidcConfig) -> Result<Option<Self>, JwksError> {
        let (Some(issuer), Some(jwks)) = (&config.issuer, &config.jwks) else {
            return Ok(None);
        };
        let source = if jwks.starts_with("http://") || jwks.starts_with("https://") {
            let client = reqwest::Client::builder()
                .timeout(FETCH_TIMEOUT)
                .build()
                .map_err(|error| JwksError::Fetch {
                    url: jwks.clone(),
                    message: error.to_string(),
                })?;
            KeySource::Url {
                url: jwks.clone(),
                client,
            }
        } else {
            KeySource::File(jwks.clone())
        };
        let verifier = Self {
            issuer: issuer.clone(),
            audience: config.audience.clone(),
            source,
            cache: RwLock::new(KeyCache::default()),
        };
        match verifier.refresh().await {
            Ok(count) => tracing::info!(oidc.keys = count, "loaded the OpenID Connect key set"),
            Err(error @ JwksError::Fetch { .. }) => {
                tracing::warn!(%error, "OpenID Connect key set unavailable; retrying on demand");
            }
            Err(error) => return Err(error),
        }
        Ok(Some(verifier))
    }

    /// Verifies an RS256 token of the provider.
    ///
    /// # Errors
    /// Returns [`TokenError`] for an unknown key, a bad signature or invalid claims.
    pub async fn verify(&self, token: &str, header: &Header) -> Result<Principal, TokenError> {
        if header.alg != Algorithm::RS256 {
            return Err(TokenError::UntrustedIssuer);
        }
        let kid = header.kid.as_deref().unwrap_or_default();
        let key = match self.key(kid).await {
            Some(key) => key,
            None => {
                self.refresh_if_due().await;
                self.key(kid).await.ok_or(TokenError::UntrustedIssuer)?
            }
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_required_spec_claims(&["exp", "iss"]);
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &key, &validation)
            .map_err(|error| classify(&error))?;
        Ok(data.claims.into_principal(TokenSource::External))
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.cache.read().await.keys.get(kid).cloned()
    }

    async fn refresh_if_due(&self) {
        let due = match self.cache.read().await.fetched_at {
            Some(at) => at.elapsed() >= MIN_REFRESH_INTERVAL,
            None => true,
        };
        if !due || matches!(self.source, KeySource::File(_)) {
            return;
        }
        if let Err(error) = self.refresh().await {
            tracing::warn!(%error, "cannot refresh the OpenID Connect key set");
        }
    }

    /// Loads the key set and replaces the cached keys. Returns the number of keys.
    async fn refresh(&self) -> Result<usize, JwksError> {
        let (source_name, text) = match &self.source {
            KeySource::Url { url, client } => {
                self.cache.write().await.fetched_at = Some(Instant::now());
                (url.clone(), fetch(client, url).await?)
            }
            KeySource::File(path) => {
                let text =
                    tokio::fs::read_to_string(path)
                        .await
                        .map_err(|source| JwksError::Read {
                            path: path.clone(),
                            source,
                        })?;
                (path.clone(), text)
            }
        };
        let set: JwkSet = serde_json::from_str(&text).map_err(|error| JwksError::Invalid {
            source_name,
            message: error.to_string(),
        })?;
        let keys = signing_keys(&set);
        let count = keys.len();
        let mut cache = self.cache.write().await;
        cache.keys = keys;
        cache.fetched_at = Some(Instant::now());
        Ok(count)
    }
}

async fn fetch(client: &reqwest::Client, url: &str) -> Result<String, JwksError> {
    let failed = |error: reqwest::Error| JwksError::Fetch {
        url: url.to_owned(),
        message: error.to_string(),
    };
    client
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(failed)?
        .text()
        .await
        .map_err(failed)
}

/// Keeps the RSA signing keys with a key id; encryption keys and others are skipped.
fn signing_keys(set: &JwkSet) -> HashMap<String, DecodingKey> {
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        let common = &jwk.common;
        if !matches!(jwk.algorithm, AlgorithmParameters::RSA(_)) {
            continue;
        }
        if matches!(common.public_key_use, Some(PublicKeyUse::Encryption)) {
            continue;
        }
        if common
            .key_algorithm
            .is_some_and(|algorithm| algorithm != KeyAlgorithm::RS256)
        {
            continue;
        }
        let (Some(kid), Ok(key)) = (&common.key_id, DecodingKey::from_jwk(jwk)) else {
            continue;
        };
        keys.insert(kid.clone(), key);
    }
    keys
}
