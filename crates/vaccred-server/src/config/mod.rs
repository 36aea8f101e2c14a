//! Server configuration: typed, loaded once at start, then passed explicitly.
//!
//! Values come from three layers, each overriding the one before: the defaults below, a
//! TOML file (`--config FILE` or `VACCRED_CONFIG`), and `VACCRED_*` environment variables
//! (see [`ENV_VARS`]). Unknown keys in the file and unknown `VACCRED_*` variables are
//! rejected by name, so a misspelt setting never passes silently.

mod env;
mod load;
mod notifications;

use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::Deserialize;
use vaccred_core::credential::IssuerConfig;

pub use env::{ENV_VARS, EnvVar, ValueKind};
pub use load::{ConfigError, load, load_from_process};
pub use notifications::{
    BodyFormat, EmailConfig, NotificationsConfig, RateLimitConfig, SmsAuth, SmsConfig, SmsPreset,
    SmtpTls,
};

/// Name of the SQLite database file inside `data_dir`.
pub const SQLITE_FILE_NAME: &str = "vaccred.db";
/// Name of the generated development signing key inside `data_dir`.
pub const DEV_SIGNING_KEY_FILE_NAME: &str = "signing-key.pem";
/// Name of the generated token signing key inside `data_dir`.
pub const TOKEN_KEY_FILE_NAME: &str = "token-key.pem";

/// The whole server configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Socket address the HTTP server binds.
    pub listen: SocketAddr,
    /// Directory for the SQLite database and generated keys. Created on start.
    pub data_dir: PathBuf,
    /// Database URL: `postgres://…` selects PostgreSQL; `sqlite://PATH` or a plain path
    /// selects a SQLite file. Absent means the SQLite file `vaccred.db` in `data_dir`.
    pub database_url: Option<SecretString>,
    /// Log line format.
    pub log_format: LogFormat,
    /// `tracing` filter directives, such as `info` or `vaccred_server=debug,info`.
    pub log_filter: String,
    /// Credential signing key file: PKCS#8 or PKCS#1 PEM, or DIVOC's base58 Ed25519 key.
    /// Absent means a development Ed25519 key generated into `data_dir` on first start.
    pub signing_key: Option<PathBuf>,
    /// Proofs' `verificationMethod`. Absent means the key file's `Key-Id:` line, else
    /// the issuer DID, as DIVOC uses its `CERTIFICATE_DID`.
    pub signing_key_id: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_request_bytes: usize,
    /// Time allowed for in-flight requests and signing work after a shutdown signal, in
    /// seconds.
    pub shutdown_timeout_seconds: u64,
    /// Certificates one dose may be corrected (updated) this many times (DIVOC's
    /// `CERTIFICATE_UPDATE_LIMIT`).
    pub update_limit: u32,
    /// How long verifiers may cache the revocation list, in seconds: its `nextUpdate` is
    /// this long after `thisUpdate`, and its `Cache-Control` has this `max-age`.
    pub revocation_list_max_age_seconds: u64,
    /// Settings of the credentials this server issues.
    pub issuer: IssuerConfig,
    /// Background signing workers.
    pub worker: WorkerConfig,
    /// Bearer tokens issued by this server's token endpoint.
    pub tokens: TokenConfig,
    /// An external OpenID Connect provider whose tokens are also accepted.
    pub oidc: OidcConfig,
    /// SMS and e-mail notifications.
    pub notifications: NotificationsConfig,
    /// Certificate PDFs: templates, fonts and the texts printed around the certificate.
    pub pdf: PdfConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./vaccred-data"),
            database_url: None,
            log_format: LogFormat::Text,
            log_filter: "info".to_owned(),
            signing_key: None,
            signing_key_id: None,
            max_request_bytes: 4 * 1024 * 1024,
            shutdown_timeout_seconds: 30,
            update_limit: 100,
            revocation_list_max_age_seconds: 3600,
            issuer: IssuerConfig::default(),
            worker: WorkerConfig::default(),
            tokens: TokenConfig::default(),
            oidc: OidcConfig::default(),
            notifications: NotificationsConfig::default(),
            pdf: PdfConfig::default(),
        }
    }
}

impl Config {
    /// Returns the database URL: the configured one, or the path of the SQLite file
    /// `vaccred.db` in `data_dir`.
    pub fn database_url(&self) -> SecretString {
        match &self.database_url {
            Some(url) => url.clone(),
            None => {
                let path = self.data_dir.join(SQLITE_FILE_NAME);
                SecretString::from(path.to_string_lossy().into_owned())
            }
        }
    }

    /// Returns the signing key file, or `None` when a development key is used.
    pub fn signing_key_path(&self) -> Option<&Path> {
        self.signing_key.as_deref()
    }

    /// Returns the token signing key file: the configured one or the one in `data_dir`.
    pub fn token_key_path(&self) -> PathBuf {
        match &self.tokens.key {
            Some(path) => path.clone(),
            None => self.data_dir.join(TOKEN_KEY_FILE_NAME),
        }
    }
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Background signing workers.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Signing tasks running at once. Absent means the number of CPUs available.
    pub concurrency: Option<NonZeroUsize>,
    /// Work items claimed per database round trip.
    pub batch_size: NonZeroUsize,
    /// How long a claimed item stays reserved for its worker, in seconds. An item whose
    /// lease runs out, for example because the process died, is claimed again.
    pub lease_seconds: u64,
    /// Pause between polls when no work is queued, in milliseconds.
    pub poll_interval_ms: u64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            concurrency: None,
            batch_size: NonZeroUsize::new(16).unwrap_or(NonZeroUsize::MIN),
            lease_seconds: 60,
            poll_interval_ms: 500,
        }
    }
}

impl WorkerConfig {
    /// Returns the number of signing tasks to run.
    pub fn effective_concurrency(&self) -> NonZeroUsize {
        self.concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().unwrap_or(NonZeroUsize::MIN))
    }
}

/// Bearer tokens issued by this server.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// `iss` claim of issued tokens.
    pub issuer: String,
    /// Lifetime of an issued token, in seconds.
    pub lifetime_seconds: u64,
    /// RSA private key (PEM) that signs the tokens. Absent means a key generated into
    /// `data_dir` on first start.
    pub key: Option<PathBuf>,
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            issuer: "vaccred".to_owned(),
            lifetime_seconds: 3600,
            key: None,
        }
    }
}

/// An external OpenID Connect provider, such as the ministry's Keycloak realm.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OidcConfig {
    /// Expected `iss` claim, such as `https://host/auth/realms/divoc`. Absent disables
    /// external tokens.
    pub issuer: Option<String>,
    /// The provider's JSON Web Key Set: an `http(s)://` URL or a file path.
    pub jwks: Option<String>,
    /// Expected `aud` claim. Absent means the audience is not checked, as DIVOC does not.
    pub audience: Option<String>,
}

/// Certificate PDFs.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PdfConfig {
    /// Directory of Typst templates (`{kind}.{language}.typ`) and the files they use,
    /// overriding the bundled templates. Read once at start.
    pub templates_dir: Option<PathBuf>,
    /// Directory of extra font files (`.ttf`, `.otf`, `.ttc`), added after the bundled
    /// fonts. Read once at start.
    pub fonts_dir: Option<PathBuf>,
    /// Template language, such as `en`; English is used where no template has it.
    pub language: String,
    /// Issuer name printed in the header. Empty means the credential's `issuer`.
    pub issuer_name: String,
    /// Logo image (`.png`, `.jpg` or `.svg`) printed at the start of the header.
    pub logo: Option<PathBuf>,
    /// Second logo image printed at the end of the header, such as a coat of arms.
    pub second_logo: Option<PathBuf>,
    /// Footer text.
    pub footer: String,
}

impl Default for PdfConfig {
    fn default() -> Self {
        Self {
            templates_dir: None,
            fonts_dir: None,
            language: "en".to_owned(),
            issuer_name: "Ministry of Health and Wellness, Jamaica".to_owned(),
            logo: None,
            second_logo: None,
            footer: String::new(),
        }
    }
}

impl PdfConfig {
    /// Returns the renderer settings.
    pub fn renderer_config(&self) -> vaccred_pdf::RendererConfig {
        vaccred_pdf::RendererConfig {
            templates_dir: self.templates_dir.clone(),
            fonts_dir: self.fonts_dir.clone(),
            issuer_name: self.issuer_name.clone(),
            logo: self.logo.clone(),
            second_logo: self.second_logo.clone(),
            footer: self.footer.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
