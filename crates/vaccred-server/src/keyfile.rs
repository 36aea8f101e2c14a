//! Private key files: reading them, and creating generated ones with owner-only access.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use vaccred_core::credential::IssuerConfig;
use vaccred_core::keys::KeyId;
use vaccred_core::sign::{KeyType, SigningKey};
use zeroize::Zeroizing;

use crate::config::{Config, DEV_SIGNING_KEY_FILE_NAME};

/// Error returned when a key file cannot be read, written or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyFileError {
    /// The file cannot be read or written.
    #[error("cannot access the key file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The file does not hold a usable key.
    #[error("invalid key file {path}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// The reason the key is unusable.
        message: String,
    },
}

/// Reads a key file as text, or returns `None` when it does not exist.
///
/// # Errors
/// Returns [`KeyFileError`] when the file exists but cannot be read or is not UTF-8.
pub fn read_key_file(path: &Path) -> Result<Option<Zeroizing<String>>, KeyFileError> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let text = std::str::from_utf8(&bytes).map_err(|_| KeyFileError::Invalid {
                path: path.to_owned(),
                message: "a key file must be PEM or base58 text".to_owned(),
            })?;
            Ok(Some(Zeroizing::new(text.to_owned())))
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(KeyFileError::Io {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Creates `path` with `contents`, readable by the owner only. Fails if the file exists,
/// so two processes starting at once never overwrite each other's key.
///
/// # Errors
/// Returns [`KeyFileError::Io`] when the file exists or cannot be written.
pub fn write_new_private_file(path: &Path, contents: &[u8]) -> Result<(), KeyFileError> {
    let io_error = |source| KeyFileError::Io {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).map_err(io_error)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(io_error)?;
    file.write_all(contents).map_err(io_error)?;
    file.sync_all().map_err(io_error)
}

/// Source of the credential signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SigningKeyOrigin {
    /// The configured `signing_key` file.
    Configured,
    /// A development key in `data_dir`, generated now or on an earlier start.
    Development,
}

/// Loads the configured credential signing key, or the development key in `data_dir`,
/// generating it on first start.
///
/// # Errors
/// Returns [`KeyFileError`] when the key file cannot be read, written or parsed.
pub fn load_signing_key(config: &Config) -> Result<(SigningKey, SigningKeyOrigin), KeyFileError> {
    let id = match &config.signing_key_id {
        Some(id) => Some(
            KeyId::new(id.as_str()).map_err(|error| KeyFileError::Invalid {
                path: config.signing_key.clone().unwrap_or_default(),
                message: format!("signing_key_id: {error}"),
            })?,
        ),
        None => None,
    };
    if let Some(path) = config.signing_key_path() {
        let text = read_key_file(path)?.ok_or_else(|| KeyFileError::Io {
            path: path.to_owned(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        let key = parse_signing_key(&text, id, &config.issuer, path)?;
        return Ok((key, SigningKeyOrigin::Configured));
    }
    let path = config.data_dir.join(DEV_SIGNING_KEY_FILE_NAME);
    let text = match read_key_file(&path)? {
        Some(text) => text,
        None => generate_development_key(&path, &config.issuer)?,
    };
    let key = parse_signing_key(&text, id, &config.issuer, &path)?;
    Ok((key, SigningKeyOrigin::Development))
}

fn generate_development_key(
    path: &Path,
    issuer: &IssuerConfig,
) -> Result<Zeroizing<String>, KeyFileError> {
    let invalid = |message: String| KeyFileError::Invalid {
        path: path.to_owned(),
        message,
    };
    let key = SigningKey::generate(KeyType::Ed25519, None, &issuer.did)
        .map_err(|error| invalid(error.to_string()))?;
    let pem = key
        .to_pkcs8_pem()
        .map_err(|error| invalid(error.to_string()))?;
    write_new_private_file(path, pem.as_bytes())?;
    let public_path = path.with_extension("pub.pem");
    let public_pem = key.public_key().to_pem(Some(key.id()));
    if let Err(error) = std::fs::write(&public_path, public_pem) {
        tracing::warn!(key.path = %public_path.display(), %error, "cannot write the public key");
    }
    tracing::info!(
        key.id = %key.id(),
        key.path = %path.display(),
        "generated a development signing key"
    );
    Ok(pem)
}

/// Reads PEM, DIVOC's JSON key document with `privateKeyBase58`, or a bare base58 key.
fn parse_signing_key(
    text: &str,
    id: Option<KeyId>,
    issuer: &IssuerConfig,
    path: &Path,
) -> Result<SigningKey, KeyFileError> {
    let invalid = |message: String| KeyFileError::Invalid {
        path: path.to_owned(),
        message,
    };
    let did = issuer.did.as_str();
    let key = if text.contains("-----BEGIN") {
        SigningKey::from_pem(text, id, did)
    } else if text.trim_start().starts_with('{') {
        let value: serde_json::Value = serde_json::from_str(text)
            .map_err(|error| invalid(format!("invalid JSON: {error}")))?;
        let private = value
            .get("privateKeyBase58")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| invalid("the JSON key has no privateKeyBase58 member".to_owned()))?;
        SigningKey::from_base58(private, id, did)
    } else {
        SigningKey::from_base58(text, id, did)
    };
    key.map_err(|error| invalid(error.to_string()))
}
