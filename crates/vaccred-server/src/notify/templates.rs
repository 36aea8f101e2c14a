//! Message templates: one set per event and language, as minijinja files.
//!
//! Each event has four files in `LANGUAGE/`: `EVENT.sms.j2` (the SMS text),
//! `EVENT.subject.j2`, `EVENT.txt.j2` and `EVENT.html.j2` (the e-mail). A file in the
//! configured `templates_dir` replaces the built-in file of the same name. A language
//! without its own file falls back to the English one. HTML templates escape their
//! variables; the others insert them as they are.

use std::path::PathBuf;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};
use serde_json::{Map, json};
use vaccred_store::NotificationEvent;

use super::segments;
use crate::config::NotificationsConfig;

/// Language whose built-in templates every other language falls back to.
const FALLBACK_LANGUAGE: &str = "en";

/// The built-in templates, by file name relative to the template root.
const BUILT_IN: &[(&str, &str)] = &[
    builtin!("certificate_issued.sms.j2"),
    builtin!("certificate_issued.subject.j2"),
    builtin!("certificate_issued.txt.j2"),
    builtin!("certificate_issued.html.j2"),
    builtin!("certificate_updated.sms.j2"),
    builtin!("certificate_updated.subject.j2"),
    builtin!("certificate_updated.txt.j2"),
    builtin!("certificate_updated.html.j2"),
    builtin!("certificate_revoked.sms.j2"),
    builtin!("certificate_revoked.subject.j2"),
    builtin!("certificate_revoked.txt.j2"),
    builtin!("certificate_revoked.html.j2"),
    builtin!("otp.sms.j2"),
    builtin!("otp.subject.j2"),
    builtin!("otp.txt.j2"),
    builtin!("otp.html.j2"),
];

macro_rules! builtin {
    ($file:literal) => {
        (
            concat!("en/", $file),
            include_str!(concat!("../../templates/en/", $file)),
        )
    };
}
use builtin;

/// A rendered e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EmailContent {
    pub(crate) subject: String,
    pub(crate) text: String,
    pub(crate) html: String,
}

/// Error of loading or rendering a template.
#[derive(Debug, thiserror::Error)]
#[error("template {name}: {message}")]
pub(crate) struct TemplateError {
    /// The template file, such as `en/otp.sms.j2`.
    pub(crate) name: String,
    pub(crate) message: String,
}

/// The loaded templates and the variables every message shares.
#[derive(Debug)]
pub(crate) struct Templates {
    environment: Environment<'static>,
    portal_link: String,
    otp_valid_minutes: u64,
    sms_max_segments: usize,
}

impl Templates {
    /// Loads the templates and renders each with sample values, so a broken override or
    /// an SMS template that exceeds `sms_max_segments` stops the server at start.
    ///
    /// # Errors
    /// The first template that cannot be parsed or rendered, or whose SMS is too long.
    pub(crate) fn load(config: &NotificationsConfig) -> Result<Self, TemplateError> {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.set_auto_escape_callback(|name| {
            if name.ends_with(".html.j2") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        let directory = config.templates_dir.clone();
        environment.set_loader(move |name| load_source(directory.as_ref(), name));
        let templates = Templates {
            environment,
            portal_link: config.portal_url.trim().to_owned(),
            otp_valid_minutes: config.otp_valid_seconds.div_ceil(60),
            sms_max_segments: usize::try_from(config.sms_max_segments).unwrap_or(usize::MAX),
        };
        templates.check(&config.language)?;
        Ok(templates)
    }

    /// Renders the SMS text of `event` and checks its length in segments.
    pub(crate) fn render_sms(
        &self,
        event: NotificationEvent,
        language: &str,
        variables: &serde_json::Value,
    ) -> Result<String, TemplateError> {
        let (name, text) = self.render(event, language, "sms", variables)?;
        let length = segments::measure(&text);
        if length.segments > self.sms_max_segments {
            return Err(TemplateError {
                name,
                message: format!(
                    "the SMS takes {} segments ({:?}, {} units), more than \
                     notifications.sms_max_segments = {}: shorten the template, or raise \
                     the limit for long names and non-GSM-7 characters (which need UCS-2)",
                    length.segments, length.encoding, length.units, self.sms_max_segments
                ),
            });
        }
        Ok(text)
    }

    /// Renders the subject, text and HTML body of an e-mail about `event`.
    pub(crate) fn render_email(
        &self,
        event: NotificationEvent,
        language: &str,
        variables: &serde_json::Value,
    ) -> Result<EmailContent, TemplateError> {
        let (_, subject) = self.render(event, language, "subject", variables)?;
        let (_, text) = self.render(event, language, "txt", variables)?;
        let (_, html) = self.render(event, language, "html", variables)?;
        Ok(EmailContent {
            subject: subject.trim().replace(['\r', '\n'], " "),
            text,
            html,
        })
    }

    fn render(
        &self,
        event: NotificationEvent,
        language: &str,
        kind: &str,
        variables: &serde_json::Value,
    ) -> Result<(String, String), TemplateError> {
        let mut name = format!("{language}/{event}.{kind}.j2");
        let template = match self.environment.get_template(&name) {
            Ok(template) => template,
            Err(error) if error.kind() == minijinja::ErrorKind::TemplateNotFound => {
                name = format!("{FALLBACK_LANGUAGE}/{event}.{kind}.j2");
                self.environment
                    .get_template(&name)
                    .map_err(|error| template_error(&name, &error))?
            }
            Err(error) => return Err(template_error(&name, &error)),
        };
        let context = self.context(variables);
        let text = template
            .render(context)
            .map_err(|error| template_error(&name, &error))?;
        Ok((name, text.trim_end().to_owned()))
    }

    /// Adds the shared variables to a message's own.
    fn context(&self, variables: &serde_json::Value) -> Value {
        let mut context = match variables {
            serde_json::Value::Object(map) => map.clone(),
            _ => Map::new(),
        };
        context.insert("portal_link".to_owned(), json!(self.portal_link));
        context.insert("valid_minutes".to_owned(), json!(self.otp_valid_minutes));
        Value::from(minijinja::value::Serde(serde_json::Value::Object(context)))
    }

    /// Renders every template of `language` with sample values.
    fn check(&self, language: &str) -> Result<(), TemplateError> {
        let certificate = json!({
            "first_name": "Alexandria-Catherine",
            "vaccine": "Oxford-AstraZeneca ChAdOx1",
            "dose": 2,
            "certificate_id": "123456789012",
        });
        let otp = json!({ "code": "123456" });
        for event in NotificationEvent::ALL {
            let sample = if event == NotificationEvent::Otp {
                &otp
            } else {
                &certificate
            };
            self.render_sms(event, language, sample)?;
            self.render_email(event, language, sample)?;
        }
        Ok(())
    }
}

/// Reads a template from `directory` when it has the file, else from the built-ins.
fn load_source(
    directory: Option<&PathBuf>,
    name: &str,
) -> Result<Option<String>, minijinja::Error> {
    if let Some(directory) = directory {
        let path = directory.join(name);
        match std::fs::read_to_string(&path) {
            Ok(text) => return Ok(Some(text)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(minijinja::Error::new(
                    minijinja::ErrorKind::InvalidOperation,
                    format!("cannot read {}: {error}", path.display()),
                ));
            }
        }
    }
    Ok(BUILT_IN
        .iter()
        .find(|(built_in, _)| *built_in == name)
        .map(|(_, text)| (*text).to_owned()))
}

fn template_error(name: &str, error: &minijinja::Error) -> TemplateError {
    TemplateError {
        name: name.to_owned(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> NotificationsConfig {
        NotificationsConfig {
            portal_url: "https://portal.example/c".to_owned(),
            ..NotificationsConfig::default()
        }
    }

    fn variables() -> serde_json::Value {
        json!({
            "first_name": "Ann <b>",
            "vaccine": "COVISHIELD",
            "dose": 1,
            "certificate_id": "987",
        })
    }

    #[test]
    fn built_in_sms_renders() {
        let templates = Templates::load(&config()).expect("built-in templates load");
        let event = NotificationEvent::CertificateIssued;
        let text = templates
            .render_sms(event, "en", &variables())
            .expect("renders");
        assert!(
            text.starts_with("Hello Ann <b>, your COVISHIELD dose 1"),
            "{text}"
        );
        assert!(text.ends_with("https://portal.example/c"), "{text}");
    }

    #[test]
    fn html_escapes_variables() {
        let templates = Templates::load(&config()).expect("built-in templates load");
        let event = NotificationEvent::CertificateRevoked;
        let email = templates
            .render_email(event, "en", &variables())
            .expect("renders");
        assert!(email.html.contains("Ann &lt;b&gt;"), "{}", email.html);
        assert!(email.text.contains("Ann <b>"), "{}", email.text);
        assert_eq!(email.subject, "Your vaccination certificate was revoked");
    }

    #[test]
    fn unknown_language_falls_back() {
        let templates = Templates::load(&config()).expect("built-in templates load");
        let text = templates
            .render_sms(NotificationEvent::Otp, "es", &json!({"code": "42"}))
            .expect("falls back to English");
        assert!(text.contains("42"), "{text}");
    }

    #[test]
    fn directory_overrides_file() {
        let directory = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir(directory.path().join("es")).expect("language directory");
        std::fs::write(
            directory.path().join("es/otp.sms.j2"),
            "Su código es {{ code }}",
        )
        .expect("template written");
        let config = NotificationsConfig {
            templates_dir: Some(directory.path().to_owned()),
            language: "es".to_owned(),
            ..config()
        };
        let templates = Templates::load(&config).expect("templates load");
        let text = templates
            .render_sms(NotificationEvent::Otp, "es", &json!({"code": "42"}))
            .expect("renders");
        assert_eq!(text, "Su código es 42");
    }

    #[test]
    fn long_sms_template_rejected_at_load() {
        let directory = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir(directory.path().join("en")).expect("language directory");
        std::fs::write(
            directory.path().join("en/certificate_issued.sms.j2"),
            "x".repeat(200),
        )
        .expect("template written");
        let config = NotificationsConfig {
            templates_dir: Some(directory.path().to_owned()),
            sms_max_segments: 1,
            ..config()
        };
        let error = Templates::load(&config).expect_err("too long");
        assert_eq!(error.name, "en/certificate_issued.sms.j2");
        assert!(error.message.contains("2 segments"), "{}", error.message);
    }

    #[test]
    fn unknown_variable_rejected_at_load() {
        let directory = tempfile::tempdir().expect("temporary directory");
        std::fs::create_dir(directory.path().join("en")).expect("language directory");
        std::fs::write(
            directory.path().join("en/otp.subject.j2"),
            "Code for {{ last_name }}",
        )
        .expect("template written");
        let config = NotificationsConfig {
            templates_dir: Some(directory.path().to_owned()),
            ..config()
        };
        let error = Templates::load(&config).expect_err("undefined variable");
        assert_eq!(error.name, "en/otp.subject.j2");
    }
}
