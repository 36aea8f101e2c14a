use std::io::Write as _;
use std::path::Path;

use secrecy::ExposeSecret as _;

use super::*;

fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn file_with(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn defaults_without_file_or_variables() {
    let config = load(None, vars(&[("PATH", "/usr/bin")])).unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(config.data_dir, Path::new("./vaccred-data"));
    assert_eq!(config.log_format, LogFormat::Text);
    assert_eq!(config.update_limit, 100);
    assert_eq!(config.issuer.did, "did:jm:moh");
    assert_eq!(
        config.database_url().expose_secret(),
        Path::new("./vaccred-data")
            .join("vaccred.db")
            .to_string_lossy()
    );
}

#[test]
fn file_then_environment_override() {
    let file = file_with(
        "listen = \"0.0.0.0:9000\"\nlog_format = \"json\"\n\n[issuer]\ndid = \"did:jm:test\"\n\n[worker]\nlease_seconds = 30\n",
    );
    let config = load(
        Some(file.path()),
        vars(&[
            ("VACCRED_LISTEN", "127.0.0.1:9100"),
            ("VACCRED_WORKER_BATCH_SIZE", "4"),
            ("VACCRED_ISSUER_INCLUDE_INFO_URL", "false"),
        ]),
    )
    .unwrap();
    assert_eq!(config.listen.to_string(), "127.0.0.1:9100");
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(config.issuer.did, "did:jm:test");
    assert!(!config.issuer.include_info_url);
    assert_eq!(config.worker.lease_seconds, 30);
    assert_eq!(config.worker.batch_size.get(), 4);
}

#[test]
fn config_file_from_variable() {
    let file = file_with("update_limit = 5\n");
    let path = file.path().to_string_lossy().into_owned();
    let config = load(None, vars(&[("VACCRED_CONFIG", &path)])).unwrap();
    assert_eq!(config.update_limit, 5);
}

#[test]
fn unknown_file_key_is_named() {
    let file = file_with("listen = \"127.0.0.1:1\"\nlisten_port = 8080\n");
    let error = load(Some(file.path()), vars(&[])).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, ConfigError::InvalidFile { .. }),
        "{message}"
    );
    assert!(message.contains("listen_port"), "{message}");

    let nested = file_with("[worker]\nthreads = 4\n");
    let message = load(Some(nested.path()), vars(&[]))
        .unwrap_err()
        .to_string();
    assert!(message.contains("threads"), "{message}");

    let issuer = file_with("[issuer]\ndidd = \"did:x:y\"\n");
    let message = load(Some(issuer.path()), vars(&[]))
        .unwrap_err()
        .to_string();
    assert!(message.contains("didd"), "{message}");
}

#[test]
fn unknown_variable_is_named() {
    let error = load(None, vars(&[("VACCRED_LISTN", "127.0.0.1:1")])).unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(&error, ConfigError::UnknownEnvVar { name, .. } if name == "VACCRED_LISTN"),
        "{message}"
    );
    assert!(
        message.contains("did you mean VACCRED_LISTEN?"),
        "{message}"
    );

    let message = load(None, vars(&[("VACCRED_COMPLETELY_DIFFERENT", "1")]))
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("VACCRED_COMPLETELY_DIFFERENT"),
        "{message}"
    );
}

#[test]
fn test_variables_are_ignored() {
    let config = load(None, vars(&[("VACCRED_TEST_POSTGRES_URL", "postgres://x")]));
    assert!(config.is_ok());
}

#[test]
fn invalid_variable_values_are_named() {
    let cases = [
        ("VACCRED_LISTEN", "not an address"),
        ("VACCRED_WORKER_LEASE_SECONDS", "-5"),
        ("VACCRED_ISSUER_INCLUDE_INFO_URL", "yes"),
        ("VACCRED_LOG_FORMAT", "xml"),
        ("VACCRED_ISSUER_DEFAULT_SHAPE", "certifyV9"),
    ];
    for (name, value) in cases {
        let error = load(None, vars(&[(name, value)])).unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, ConfigError::InvalidEnvValue { .. }),
            "{name}: {message}"
        );
        assert!(message.contains(name), "{message}");
    }
}

#[test]
fn secret_from_file_variable() {
    let file = file_with("postgres://user:pw@127.0.0.1/db\n");
    let path = file.path().to_string_lossy().into_owned();
    let config = load(None, vars(&[("VACCRED_DATABASE_URL_FILE", &path)])).unwrap();
    assert_eq!(
        config.database_url().expose_secret(),
        "postgres://user:pw@127.0.0.1/db"
    );

    let both = load(
        None,
        vars(&[
            ("VACCRED_DATABASE_URL_FILE", &path),
            ("VACCRED_DATABASE_URL", "postgres://other"),
        ]),
    )
    .unwrap_err();
    assert!(matches!(both, ConfigError::Conflict { .. }), "{both}");

    // Only secrets have a _FILE form.
    let error = load(None, vars(&[("VACCRED_LISTEN_FILE", &path)])).unwrap_err();
    assert!(
        matches!(error, ConfigError::UnknownEnvVar { .. }),
        "{error}"
    );
}

#[test]
fn contradictory_settings_rejected() {
    let error = load(
        None,
        vars(&[("VACCRED_OIDC_ISSUER", "https://kc/realms/divoc")]),
    )
    .unwrap_err();
    assert!(error.to_string().contains("oidc.jwks"), "{error}");
    let error = load(None, vars(&[("VACCRED_TOKENS_LIFETIME_SECONDS", "0")])).unwrap_err();
    assert!(
        error.to_string().contains("tokens.lifetime_seconds"),
        "{error}"
    );
}

#[test]
fn every_variable_names_a_setting() {
    let mut names = std::collections::BTreeSet::new();
    for var in ENV_VARS {
        assert!(names.insert(var.name), "{} is listed twice", var.name);
        let value = match var.kind {
            ValueKind::String if var.key == "listen" => "127.0.0.1:1",
            ValueKind::String if var.key == "log_format" => "json",
            ValueKind::String if var.key == "issuer.default_shape" => "certifyV2",
            ValueKind::String if var.key.ends_with("pattern") => "^NA$",
            ValueKind::String if var.key == "notifications.default_country" => "JM",
            ValueKind::String if var.key == "notifications.email.tls" => "implicit",
            ValueKind::String if var.key == "notifications.email.from" => "a@moh.example",
            ValueKind::String => "did:example:value",
            ValueKind::Integer => "3",
            ValueKind::Boolean => "true",
        };
        let mut pairs = vec![(var.name.to_owned(), value.to_owned())];
        if var.key == "oidc.issuer" || var.key == "oidc.audience" {
            pairs.push(("VACCRED_OIDC_JWKS".to_owned(), "/jwks.json".to_owned()));
        }
        if var.key == "oidc.jwks" || var.key == "oidc.audience" {
            pairs.push(("VACCRED_OIDC_ISSUER".to_owned(), "https://kc".to_owned()));
        }
        let companions = notification_companions(var.key);
        pairs.extend(companions.into_iter().filter(|(name, _)| name != var.name));
        load(None, pairs).unwrap_or_else(|error| panic!("{}: {error}", var.name));
    }
}

/// Returns the variables a notification setting needs beside it to pass validation.
fn notification_companions(key: &str) -> Vec<(String, String)> {
    let pair = |name: &str, value: &str| (name.to_owned(), value.to_owned());
    let mut pairs = Vec::new();
    if key.starts_with("notifications.sms.") || key.starts_with("notifications.email.") {
        pairs.push(pair(
            "VACCRED_NOTIFICATIONS_PORTAL_URL",
            "https://portal.example/certificate",
        ));
    }
    if key.starts_with("notifications.sms.") {
        pairs.push(pair("VACCRED_NOTIFICATIONS_DEFAULT_COUNTRY", "JM"));
        pairs.push(pair(
            "VACCRED_NOTIFICATIONS_SMS_URL",
            "http://127.0.0.1:9/send",
        ));
    }
    if key.starts_with("notifications.email.") {
        pairs.push(pair("VACCRED_NOTIFICATIONS_EMAIL_HOST", "smtp.example"));
        pairs.push(pair("VACCRED_NOTIFICATIONS_EMAIL_FROM", "a@moh.example"));
    }
    if key == "notifications.email.username" || key == "notifications.email.password" {
        pairs.push(pair("VACCRED_NOTIFICATIONS_EMAIL_USERNAME", "mailer"));
        pairs.push(pair("VACCRED_NOTIFICATIONS_EMAIL_PASSWORD", "secret"));
    }
    pairs
}

#[test]
fn email_ca_file_from_variable() {
    let config = load(
        None,
        vars(&[
            ("VACCRED_NOTIFICATIONS_EMAIL_HOST", "smtp.moh.example"),
            ("VACCRED_NOTIFICATIONS_EMAIL_FROM", "noreply@moh.example"),
            (
                "VACCRED_NOTIFICATIONS_PORTAL_URL",
                "https://portal.example/certificate",
            ),
            (
                "VACCRED_NOTIFICATIONS_EMAIL_CA_FILE",
                "/etc/vaccred/relay-ca.pem",
            ),
        ]),
    )
    .unwrap();
    let email = config.notifications.email.expect("e-mail configured");
    assert_eq!(
        email.ca_file.as_deref(),
        Some(Path::new("/etc/vaccred/relay-ca.pem"))
    );
}

#[test]
fn email_ca_file_without_tls_rejected() {
    let error = load(
        None,
        vars(&[
            ("VACCRED_NOTIFICATIONS_EMAIL_HOST", "127.0.0.1"),
            ("VACCRED_NOTIFICATIONS_EMAIL_TLS", "none"),
            ("VACCRED_NOTIFICATIONS_EMAIL_FROM", "noreply@moh.example"),
            (
                "VACCRED_NOTIFICATIONS_PORTAL_URL",
                "https://portal.example/certificate",
            ),
            (
                "VACCRED_NOTIFICATIONS_EMAIL_CA_FILE",
                "/etc/vaccred/relay-ca.pem",
            ),
        ]),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("notifications.email.ca_file"),
        "{error}"
    );
}

#[test]
fn portal_url_required_with_sms() {
    let error = load(
        None,
        vars(&[
            ("VACCRED_NOTIFICATIONS_DEFAULT_COUNTRY", "JM"),
            ("VACCRED_NOTIFICATIONS_SMS_URL", "http://127.0.0.1:9/send"),
        ]),
    )
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("notifications.portal_url is missing"),
        "{error}"
    );
    let error = load(
        None,
        vars(&[
            ("VACCRED_NOTIFICATIONS_DEFAULT_COUNTRY", "JM"),
            ("VACCRED_NOTIFICATIONS_SMS_URL", "http://127.0.0.1:9/send"),
            ("VACCRED_NOTIFICATIONS_PORTAL_URL", "portal.moh.gov.jm"),
        ]),
    )
    .unwrap_err();
    assert!(error.to_string().contains("not an http(s) URL"), "{error}");
    for bare in ["https://", "HTTPS:///certificate"] {
        let error = load(
            None,
            vars(&[
                ("VACCRED_NOTIFICATIONS_DEFAULT_COUNTRY", "JM"),
                ("VACCRED_NOTIFICATIONS_SMS_URL", "http://127.0.0.1:9/send"),
                ("VACCRED_NOTIFICATIONS_PORTAL_URL", bare),
            ]),
        )
        .unwrap_err();
        assert!(error.to_string().contains("not an http(s) URL"), "{error}");
    }
}
