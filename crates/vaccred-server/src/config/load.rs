//! Reading the configuration layers and merging them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Config;
use super::env::{CONFIG_FILE_VAR, EnvVar, TEST_VAR_PREFIX, ValueKind, closest_name, find};

const PREFIX: &str = "VACCRED_";
const FILE_SUFFIX: &str = "_FILE";

/// Error returned when the configuration cannot be loaded. Messages name the file, key or
/// variable at fault. They may quote a rejected value of an ordinary setting, but never
/// the value of a secret (`VACCRED_DATABASE_URL`), which any text passes as valid.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The configuration file cannot be read.
    #[error("cannot read the configuration file {path}: {source}")]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The configuration file is not valid TOML, has an unknown key or a value of the
    /// wrong type.
    #[error("invalid configuration file {path}: {message}")]
    InvalidFile {
        /// The file.
        path: PathBuf,
        /// The parser's message, with the line and key.
        message: String,
    },
    /// A `VACCRED_*` variable names no setting.
    #[error("unknown environment variable {name}{}", suggestion_text(.suggestion))]
    UnknownEnvVar {
        /// The variable.
        name: String,
        /// A known variable with a similar name.
        suggestion: Option<&'static str>,
    },
    /// A variable's value has the wrong type for its setting.
    #[error("invalid value in environment variable {name} (setting {key}): {message}")]
    InvalidEnvValue {
        /// The variable.
        name: String,
        /// The setting it overrides.
        key: &'static str,
        /// The reason the value was rejected.
        message: String,
    },
    /// A variable's value is not valid Unicode.
    #[error("environment variable {name} is not valid UTF-8 text")]
    NotUnicode {
        /// The variable.
        name: String,
    },
    /// A `*_FILE` variable names a file that cannot be read.
    #[error("cannot read the file that environment variable {name} names: {source}")]
    SecretFile {
        /// The variable.
        name: String,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// Both a variable and its `*_FILE` form are set.
    #[error("both {name} and {name}_FILE are set: set only one of them")]
    Conflict {
        /// The variable.
        name: &'static str,
    },
    /// The merged settings contradict each other or are out of range.
    #[error("invalid configuration: {0}")]
    Invalid(String),
}

fn suggestion_text(suggestion: &Option<&'static str>) -> String {
    match suggestion {
        Some(name) => format!(" (did you mean {name}?)"),
        None => ": no setting has this name; the configuration reference lists every \
                 VACCRED_* variable"
            .to_owned(),
    }
}

/// Loads the configuration from the process environment and, when given or named by
/// `VACCRED_CONFIG`, a TOML file.
///
/// # Errors
/// Returns [`ConfigError`] for an unreadable or invalid file, an unknown or invalid
/// `VACCRED_*` variable, or contradictory settings.
pub fn load_from_process(config_file: Option<&Path>) -> Result<Config, ConfigError> {
    let mut vars = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str() else { continue };
        if !name.starts_with(PREFIX) {
            continue;
        }
        let value = value.into_string().map_err(|_| ConfigError::NotUnicode {
            name: name.to_owned(),
        })?;
        vars.push((name.to_owned(), value));
    }
    load(config_file, vars)
}

/// Loads the configuration from the given variables (only `VACCRED_*` ones are read) and,
/// when given or named by `VACCRED_CONFIG`, a TOML file.
///
/// # Errors
/// As [`load_from_process`].
pub fn load(
    config_file: Option<&Path>,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let vars: BTreeMap<String, String> = vars
        .into_iter()
        .filter(|(name, _)| name.starts_with(PREFIX) && !name.starts_with(TEST_VAR_PREFIX))
        .collect();
    let path = config_file
        .map(Path::to_path_buf)
        .or_else(|| vars.get(CONFIG_FILE_VAR).map(PathBuf::from));
    let mut table = match &path {
        Some(path) => read_file(path)?,
        None => toml::Table::new(),
    };
    for (var, value) in resolve_vars(&vars)? {
        let value = env_value(var, &value)?;
        check_alone(var, &value)?;
        insert(&mut table, var.key, value);
    }
    let config = deserialize(&table).map_err(ConfigError::Invalid)?;
    validate(&config)?;
    Ok(config)
}

fn read_file(path: &Path) -> Result<toml::Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    let invalid = |message: String| ConfigError::InvalidFile {
        path: path.to_owned(),
        message,
    };
    // Deserialising the text itself gives messages with line numbers and key names.
    toml::from_str::<Config>(&text).map_err(|error| invalid(error.to_string()))?;
    text.parse::<toml::Table>()
        .map_err(|error| invalid(error.to_string()))
}

/// Matches each variable to its setting, reading `*_FILE` variables' files.
fn resolve_vars(
    vars: &BTreeMap<String, String>,
) -> Result<Vec<(&'static EnvVar, String)>, ConfigError> {
    let mut resolved = Vec::new();
    for (name, value) in vars {
        if name == CONFIG_FILE_VAR {
            continue;
        }
        if let Some(var) = find(name) {
            resolved.push((var, value.clone()));
            continue;
        }
        let secret_var = name
            .strip_suffix(FILE_SUFFIX)
            .and_then(find)
            .filter(|var| var.secret);
        let Some(var) = secret_var else {
            return Err(ConfigError::UnknownEnvVar {
                name: name.clone(),
                suggestion: closest_name(name),
            });
        };
        if vars.contains_key(var.name) {
            return Err(ConfigError::Conflict { name: var.name });
        }
        let text = std::fs::read_to_string(value).map_err(|source| ConfigError::SecretFile {
            name: name.clone(),
            source,
        })?;
        resolved.push((var, text.trim_end_matches(['\r', '\n']).to_owned()));
    }
    Ok(resolved)
}

fn env_value(var: &'static EnvVar, text: &str) -> Result<toml::Value, ConfigError> {
    let invalid = |message: &str| ConfigError::InvalidEnvValue {
        name: var.name.to_owned(),
        key: var.key,
        message: message.to_owned(),
    };
    match var.kind {
        ValueKind::String => Ok(toml::Value::String(text.to_owned())),
        ValueKind::Integer => text
            .trim()
            .parse::<u64>()
            .ok()
            .and_then(|number| i64::try_from(number).ok())
            .map(toml::Value::Integer)
            .ok_or_else(|| invalid("expected a whole number of at least 0")),
        ValueKind::Boolean => match text.trim() {
            "true" => Ok(toml::Value::Boolean(true)),
            "false" => Ok(toml::Value::Boolean(false)),
            _ => Err(invalid("expected true or false")),
        },
    }
}

/// Deserialises a configuration holding only this value, so that a bad value is reported
/// with its variable's name rather than at the end.
fn check_alone(var: &'static EnvVar, value: &toml::Value) -> Result<(), ConfigError> {
    let mut table = toml::Table::new();
    insert(&mut table, var.key, value.clone());
    deserialize(&table)
        .map(drop)
        .map_err(|message| ConfigError::InvalidEnvValue {
            name: var.name.to_owned(),
            key: var.key,
            message,
        })
}

/// Sets the value at a dotted key, creating the tables on the way.
fn insert(table: &mut toml::Table, dotted_key: &str, value: toml::Value) {
    let mut current = table;
    let mut parts = dotted_key.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            current.insert(part.to_owned(), value);
            return;
        }
        let entry = current
            .entry(part.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        current = next;
    }
}

fn deserialize(table: &toml::Table) -> Result<Config, String> {
    let text = toml::to_string(table).map_err(|error| error.to_string())?;
    toml::from_str::<Config>(&text).map_err(|error| error.message().to_owned())
}

fn validate(config: &Config) -> Result<(), ConfigError> {
    let invalid = |message: &str| Err(ConfigError::Invalid(message.to_owned()));
    if config.tokens.lifetime_seconds == 0 {
        return invalid("tokens.lifetime_seconds must be at least 1");
    }
    if config.worker.lease_seconds == 0 {
        return invalid("worker.lease_seconds must be at least 1");
    }
    if config.max_request_bytes == 0 {
        return invalid("max_request_bytes must be at least 1");
    }
    if config.oidc.issuer.is_some() != config.oidc.jwks.is_some() {
        return invalid("set oidc.issuer and oidc.jwks together, or neither");
    }
    if config.oidc.audience.is_some() && config.oidc.issuer.is_none() {
        return invalid("oidc.audience needs oidc.issuer and oidc.jwks");
    }
    config
        .notifications
        .validate()
        .map_err(ConfigError::Invalid)?;
    Ok(())
}
