//! The `VACCRED_*` environment variables and the settings they override.

/// Type of a setting's value, which decides how its variable's text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// Text, used as it is.
    String,
    /// A non-negative whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
}

/// One environment variable and the setting it overrides.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// Variable name, such as `VACCRED_LISTEN`.
    pub name: &'static str,
    /// Dotted key of the setting in the TOML file, such as `worker.lease_seconds`.
    pub key: &'static str,
    /// Type of the value.
    pub kind: ValueKind,
    /// Whether `<name>_FILE` may name a file holding the value instead, for secrets.
    pub secret: bool,
}

const fn var(name: &'static str, key: &'static str, kind: ValueKind) -> EnvVar {
    EnvVar {
        name,
        key,
        kind,
        secret: false,
    }
}

const fn secret(name: &'static str, key: &'static str) -> EnvVar {
    EnvVar {
        name,
        key,
        kind: ValueKind::String,
        secret: true,
    }
}

use ValueKind::{Boolean, Integer, String};

/// Variable naming the TOML configuration file; `--config FILE` takes precedence.
pub const CONFIG_FILE_VAR: &str = "VACCRED_CONFIG";

/// Prefix of variables that test suites read. The server ignores them, so a shell that
/// exports them for `cargo test` can still run the server.
pub(crate) const TEST_VAR_PREFIX: &str = "VACCRED_TEST_";

/// Every setting that an environment variable can override.
pub const ENV_VARS: &[EnvVar] = &[
    var("VACCRED_LISTEN", "listen", String),
    var("VACCRED_DATA_DIR", "data_dir", String),
    secret("VACCRED_DATABASE_URL", "database_url"),
    var("VACCRED_LOG_FORMAT", "log_format", String),
    var("VACCRED_LOG_FILTER", "log_filter", String),
    var("VACCRED_SIGNING_KEY", "signing_key", String),
    var("VACCRED_SIGNING_KEY_ID", "signing_key_id", String),
    var("VACCRED_MAX_REQUEST_BYTES", "max_request_bytes", Integer),
    var(
        "VACCRED_SHUTDOWN_TIMEOUT_SECONDS",
        "shutdown_timeout_seconds",
        Integer,
    ),
    var("VACCRED_UPDATE_LIMIT", "update_limit", Integer),
    var(
        "VACCRED_REVOCATION_LIST_MAX_AGE_SECONDS",
        "revocation_list_max_age_seconds",
        Integer,
    ),
    var("VACCRED_ISSUER_ISSUER", "issuer.issuer", String),
    var("VACCRED_ISSUER_DID", "issuer.did", String),
    var(
        "VACCRED_ISSUER_CERTIFICATE_BASE_URL",
        "issuer.certificate_base_url",
        String,
    ),
    var(
        "VACCRED_ISSUER_INFO_BASE_URL",
        "issuer.info_base_url",
        String,
    ),
    var(
        "VACCRED_ISSUER_FEEDBACK_BASE_URL",
        "issuer.feedback_base_url",
        String,
    ),
    var(
        "VACCRED_ISSUER_INCLUDE_INFO_URL",
        "issuer.include_info_url",
        Boolean,
    ),
    var(
        "VACCRED_ISSUER_INCLUDE_FEEDBACK_URL",
        "issuer.include_feedback_url",
        Boolean,
    ),
    var(
        "VACCRED_ISSUER_VACCINATION_CONTEXT_V1",
        "issuer.vaccination_context_v1",
        String,
    ),
    var(
        "VACCRED_ISSUER_VACCINATION_CONTEXT_V2",
        "issuer.vaccination_context_v2",
        String,
    ),
    var(
        "VACCRED_ISSUER_DEFAULT_SHAPE",
        "issuer.default_shape",
        String,
    ),
    var(
        "VACCRED_ISSUER_DEFAULT_RECIPIENT_COUNTRY",
        "issuer.default_recipient_country",
        String,
    ),
    var(
        "VACCRED_ISSUER_DEFAULT_FACILITY_COUNTRY",
        "issuer.default_facility_country",
        String,
    ),
    var(
        "VACCRED_ISSUER_IDENTITY_REJECTION_PATTERN",
        "issuer.identity_rejection_pattern",
        String,
    ),
    var("VACCRED_WORKER_CONCURRENCY", "worker.concurrency", Integer),
    var("VACCRED_WORKER_BATCH_SIZE", "worker.batch_size", Integer),
    var(
        "VACCRED_WORKER_LEASE_SECONDS",
        "worker.lease_seconds",
        Integer,
    ),
    var(
        "VACCRED_WORKER_POLL_INTERVAL_MS",
        "worker.poll_interval_ms",
        Integer,
    ),
    var("VACCRED_TOKENS_ISSUER", "tokens.issuer", String),
    var(
        "VACCRED_TOKENS_LIFETIME_SECONDS",
        "tokens.lifetime_seconds",
        Integer,
    ),
    var("VACCRED_TOKENS_KEY", "tokens.key", String),
    var("VACCRED_OIDC_ISSUER", "oidc.issuer", String),
    var("VACCRED_OIDC_JWKS", "oidc.jwks", String),
    var("VACCRED_OIDC_AUDIENCE", "oidc.audience", String),
    var(
        "VACCRED_NOTIFICATIONS_DEFAULT_COUNTRY",
        "notifications.default_country",
        String,
    ),
    var(
        "VACCRED_NOTIFICATIONS_PORTAL_URL",
        "notifications.portal_url",
        String,
    ),
    var(
        "VACCRED_NOTIFICATIONS_TEMPLATES_DIR",
        "notifications.templates_dir",
        String,
    ),
    var(
        "VACCRED_NOTIFICATIONS_MAX_ATTEMPTS",
        "notifications.max_attempts",
        Integer,
    ),
    var(
        "VACCRED_NOTIFICATIONS_CONCURRENCY",
        "notifications.concurrency",
        Integer,
    ),
    var(
        "VACCRED_NOTIFICATIONS_RATE_LIMIT_GLOBAL_PER_SECOND",
        "notifications.rate_limit.global_per_second",
        Integer,
    ),
    var(
        "VACCRED_NOTIFICATIONS_RATE_LIMIT_PER_RECIPIENT_PER_HOUR",
        "notifications.rate_limit.per_recipient_per_hour",
        Integer,
    ),
    var(
        "VACCRED_NOTIFICATIONS_SMS_URL",
        "notifications.sms.url",
        String,
    ),
    secret(
        "VACCRED_NOTIFICATIONS_SMS_AUTH_TOKEN",
        "notifications.sms.auth_token",
    ),
    var(
        "VACCRED_NOTIFICATIONS_EMAIL_HOST",
        "notifications.email.host",
        String,
    ),
    var(
        "VACCRED_NOTIFICATIONS_EMAIL_PORT",
        "notifications.email.port",
        Integer,
    ),
    var(
        "VACCRED_NOTIFICATIONS_EMAIL_TLS",
        "notifications.email.tls",
        String,
    ),
    var(
        "VACCRED_NOTIFICATIONS_EMAIL_CA_FILE",
        "notifications.email.ca_file",
        String,
    ),
    var(
        "VACCRED_NOTIFICATIONS_EMAIL_FROM",
        "notifications.email.from",
        String,
    ),
    var(
        "VACCRED_NOTIFICATIONS_EMAIL_USERNAME",
        "notifications.email.username",
        String,
    ),
    secret(
        "VACCRED_NOTIFICATIONS_EMAIL_PASSWORD",
        "notifications.email.password",
    ),
    var("VACCRED_PDF_TEMPLATES_DIR", "pdf.templates_dir", String),
    var("VACCRED_PDF_FONTS_DIR", "pdf.fonts_dir", String),
    var("VACCRED_PDF_LANGUAGE", "pdf.language", String),
    var("VACCRED_PDF_ISSUER_NAME", "pdf.issuer_name", String),
    var("VACCRED_PDF_LOGO", "pdf.logo", String),
    var("VACCRED_PDF_SECOND_LOGO", "pdf.second_logo", String),
    var("VACCRED_PDF_FOOTER", "pdf.footer", String),
];

/// Returns the variable with this exact name.
pub(crate) fn find(name: &str) -> Option<&'static EnvVar> {
    ENV_VARS.iter().find(|var| var.name == name)
}

/// Returns the known name closest to `name`, when it is close enough to be a misspelling.
pub(crate) fn closest_name(name: &str) -> Option<&'static str> {
    let candidates = ENV_VARS.iter().map(|var| var.name).chain([CONFIG_FILE_VAR]);
    candidates
        .map(|candidate| (edit_distance(name, candidate), candidate))
        .filter(|(distance, _)| *distance <= 3)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance over bytes; the names are ASCII.
fn edit_distance(a: &str, b: &str) -> usize {
    let b = b.as_bytes();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, a_byte) in a.bytes().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, b_byte) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_byte != *b_byte);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}
