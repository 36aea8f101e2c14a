//! API client secrets: generation and Argon2id hashing in PHC string form.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::SecretString;

/// Bytes of randomness in a generated secret: 256 bits.
const SECRET_BYTES: usize = 32;

/// Error returned when a secret cannot be generated or hashed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The hashing library failed.
    #[error("cannot hash the client secret: {0}")]
    Hash(String),
}

/// Generates a client secret: 32 random bytes as unpadded base64url (43 characters).
///
/// # Errors
/// Returns [`SecretError::Random`] when the system generator fails.
pub fn generate_secret() -> Result<SecretString, SecretError> {
    let mut bytes = zeroize::Zeroizing::new([0u8; SECRET_BYTES]);
    SystemRandom::new()
        .fill(bytes.as_mut())
        .map_err(|_| SecretError::Random)?;
    Ok(SecretString::from(URL_SAFE_NO_PAD.encode(&bytes[..])))
}

/// Hashes a secret with Argon2id and the library's default cost (19 MiB, 2 passes, the
/// OWASP recommendation), returning the PHC string to store.
///
/// # Errors
/// Returns [`SecretError::Hash`] when the library fails.
pub fn hash_secret(secret: &str) -> Result<String, SecretError> {
    Argon2::default()
        .hash_password(secret.as_bytes())
        .map(|hash| hash.to_string())
        .map_err(|error| SecretError::Hash(error.to_string()))
}

/// Tests whether `secret` matches a stored PHC string. A malformed stored hash matches
/// nothing.
pub fn verify_secret(secret: &str, stored_hash: &str) -> bool {
    let Ok(hash) = PasswordHash::new(stored_hash) else {
        tracing::warn!("stored client secret hash is not a valid PHC string");
        return false;
    };
    Argon2::default()
        .verify_password(secret.as_bytes(), &hash)
        .is_ok()
}

/// A hash of a random secret, checked when the client id is unknown so that the response
/// takes as long as for a known client.
pub(crate) fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_secret("decoy client secret").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    #[test]
    fn generated_secret_has_256_bits() {
        let secret = generate_secret().unwrap();
        assert_eq!(secret.expose_secret().len(), 43);
        let other = generate_secret().unwrap();
        assert_ne!(secret.expose_secret(), other.expose_secret());
    }

    #[test]
    fn hash_verifies_only_its_secret() {
        let hash = hash_secret("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_secret("correct horse", &hash));
        assert!(!verify_secret("correct horse!", &hash));
    }

    #[test]
    fn malformed_hash_matches_nothing() {
        assert!(!verify_secret("anything", "not a phc string"));
        assert!(!verify_secret("", ""));
    }
}
