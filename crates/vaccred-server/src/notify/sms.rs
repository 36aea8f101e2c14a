//! SMS delivery through an HTTP gateway described by configuration: URL, method,
//! headers, authentication, a JSON or form body template, and how to read success from
//! the response. Presets fill in the shapes of common gateways.

use std::collections::BTreeMap;
use std::time::Duration;

use minijinja::Environment;
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Map, Value, json};

use super::SendOutcome;
use crate::config::{BodyFormat, SmsAuth, SmsConfig, SmsPreset};

/// Maximum length, in characters, of a gateway value quoted in an error.
const MAX_QUOTED_CHARS: usize = 64;

/// A configured SMS gateway.
pub(crate) struct SmsGateway {
    client: reqwest::Client,
    url: String,
    method: Method,
    auth: SmsAuth,
    username: String,
    token: Option<SecretString>,
    auth_header: String,
    sender: String,
    country_code: String,
    headers: BTreeMap<String, String>,
    body_format: BodyFormat,
    body: Value,
    success_statuses: Option<Vec<u16>>,
    success_pointer: Option<String>,
    success_value: Option<String>,
    reference_pointer: Option<String>,
    templates: Environment<'static>,
}

impl std::fmt::Debug for SmsGateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsGateway")
            .field("method", &self.method)
            .field("body_format", &self.body_format)
            .finish_non_exhaustive()
    }
}

/// One SMS to send.
pub(crate) struct SmsMessage<'a> {
    /// E.164 number.
    pub(crate) to: &'a str,
    pub(crate) text: &'a str,
    /// Stable id of the outbox message, the same on every attempt.
    pub(crate) reference: &'a str,
}

impl SmsGateway {
    /// Builds the gateway from its configuration and preset. `default_calling_code` is
    /// the country calling code of `notifications.default_country`.
    ///
    /// # Errors
    /// A message naming the setting that is missing or invalid.
    pub(crate) fn new(
        config: &SmsConfig,
        default_calling_code: &str,
        timeout: Duration,
    ) -> Result<Self, String> {
        let preset = Preset::of(config.preset);
        let url = if config.url.trim().is_empty() {
            preset
                .url
                .ok_or("notifications.sms.url is missing: set the gateway's URL")?
                .to_owned()
        } else {
            config.url.clone()
        };

        let method_text = config.method.as_deref().unwrap_or("POST");
        let method =
            Method::from_bytes(method_text.to_ascii_uppercase().as_bytes()).map_err(|_| {
                format!("notifications.sms.method {method_text:?} is not an HTTP method")
            })?;
        let body = match (&config.body, preset.body) {
            (Some(table), _) => toml_to_json(&toml::Value::Table(table.clone())),
            (None, Some(body)) => body,
            (None, None) => {
                return Err(
                    "notifications.sms.body is missing: the custom preset needs a \
                            body template"
                        .to_owned(),
                );
            }
        };

        let body_format = config.body_format.unwrap_or(preset.body_format);
        if body_format == BodyFormat::Form && !is_flat_text_object(&body) {
            return Err(
                "notifications.sms.body must be a table of text values with \
                        body_format = \"form\""
                    .to_owned(),
            );
        }
        let auth = config.auth.unwrap_or(if config.auth_token.is_some() {
            preset.auth
        } else {
            SmsAuth::None
        });
        if auth != SmsAuth::None && config.auth_token.is_none() {
            return Err(
                "notifications.sms.auth_token is missing for the configured \
                        authentication"
                    .to_owned(),
            );
        }

        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()
            .map_err(|error| format!("cannot build the SMS gateway client: {error}"))?;
        let mut templates = Environment::new();
        templates.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        Ok(Self {
            client,
            url,
            method,
            auth,
            username: config.username.clone().unwrap_or_default(),
            token: config.auth_token.clone(),
            auth_header: config
                .auth_header
                .clone()
                .unwrap_or_else(|| preset.auth_header.to_owned()),
            sender: config.sender.clone().unwrap_or_default(),
            country_code: config
                .country_code
                .clone()
                .unwrap_or_else(|| default_calling_code.to_owned()),
            headers: config.headers.clone(),
            body_format,
            body,
            success_statuses: config
                .success_statuses
                .clone()
                .or_else(|| preset.success_statuses.map(<[u16]>::to_vec)),
            success_pointer: config
                .success_pointer
                .clone()
                .or_else(|| preset.success_pointer.map(str::to_owned)),
            success_value: config
                .success_value
                .clone()
                .or_else(|| preset.success_value.map(str::to_owned)),
            reference_pointer: config
                .reference_pointer
                .clone()
                .or_else(|| preset.reference_pointer.map(str::to_owned)),
            templates,
        })
    }

    /// Sends one SMS and classifies the gateway's response.
    ///
    /// A 2xx response that passes the success checks means delivered. Timeouts, connection
    /// errors, 408, 429 and 5xx responses, and 2xx responses that fail the success check are
    /// transient. Any other status is permanent.
    pub(crate) async fn send(&self, message: &SmsMessage<'_>) -> SendOutcome {
        let request = match self.build_request(message) {
            Ok(request) => request,
            Err(error) => {
                return SendOutcome::Permanent {
                    status: None,
                    error,
                };
            }
        };
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => {
                let error = if error.is_timeout() {
                    "the SMS gateway timed out".to_owned()
                } else if error.is_connect() {
                    "cannot connect to the SMS gateway".to_owned()
                } else {
                    format!("the SMS gateway request failed: {}", error.without_url())
                };
                return SendOutcome::Transient {
                    status: None,
                    error,
                };
            }
        };
        let status = response.status();
        let body = response.bytes().await.unwrap_or_default();
        self.classify(status, &body)
    }

    fn build_request(&self, message: &SmsMessage<'_>) -> Result<reqwest::RequestBuilder, String> {
        let variables = self.variables(message);
        let url = self.render_text(&self.url, &variables)?;
        let body = self.render_value(&self.body, &variables)?;
        let mut request = self.client.request(self.method.clone(), url);
        for (name, value) in &self.headers {
            request = request.header(name, self.render_text(value, &variables)?);
        }
        let token = self.token.as_ref().map(|token| token.expose_secret());
        request = match (self.auth, token) {
            (SmsAuth::Bearer, Some(token)) => request.bearer_auth(token),
            (SmsAuth::Basic, Some(token)) => request.basic_auth(&self.username, Some(token)),
            (SmsAuth::Header, Some(token)) => request.header(&self.auth_header, token),
            _ => request,
        };
        Ok(match self.body_format {
            BodyFormat::Json => request.json(&body),
            BodyFormat::Form => {
                let fields: Vec<(String, String)> = body
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, value)| (name.clone(), value.as_str().unwrap_or("").to_owned()))
                    .collect();
                request.form(&fields)
            }
        })
    }

    fn variables(&self, message: &SmsMessage<'_>) -> Value {
        let digits = message.to.trim_start_matches('+');
        let national = digits.strip_prefix(&self.country_code).unwrap_or(digits);
        json!({
            "to": message.to,
            "to_digits": digits,
            "to_national": national,
            "message": message.text,
            "reference": message.reference,
            "sender": self.sender,
            "username": self.username,
            "country_code": self.country_code,
        })
    }

    fn render_text(&self, template: &str, variables: &Value) -> Result<String, String> {
        self.templates
            .render_str(template, minijinja::value::Serde(variables))
            .map_err(|error| format!("the SMS gateway template is invalid: {error}"))
    }

    /// Renders every string of a body template, keeping its structure.
    fn render_value(&self, template: &Value, variables: &Value) -> Result<Value, String> {
        Ok(match template {
            Value::String(text) => Value::String(self.render_text(text, variables)?),
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|item| self.render_value(item, variables))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(fields) => {
                let mut rendered = Map::new();
                for (name, value) in fields {
                    rendered.insert(name.clone(), self.render_value(value, variables)?);
                }
                Value::Object(rendered)
            }
            other => other.clone(),
        })
    }

    fn classify(&self, status: StatusCode, body: &[u8]) -> SendOutcome {
        let status_text = Some(status.as_u16().to_string());
        let accepted = match &self.success_statuses {
            Some(statuses) => statuses.contains(&status.as_u16()),
            None => status.is_success(),
        };
        if !accepted {
            let error = format!("the SMS gateway returned HTTP {}", status.as_u16());
            let transient = status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT
                || status.is_success();
            return if transient {
                SendOutcome::Transient {
                    status: status_text,
                    error,
                }
            } else {
                SendOutcome::Permanent {
                    status: status_text,
                    error,
                }
            };
        }
        let json: Option<Value> = serde_json::from_slice(body).ok();
        if let (Some(pointer), Some(expected)) = (&self.success_pointer, &self.success_value) {
            let found = json.as_ref().and_then(|json| json.pointer(pointer));
            if found.and_then(Value::as_str) != Some(expected.as_str()) {
                let found = found.map_or_else(|| "nothing".to_owned(), quote);
                return SendOutcome::Transient {
                    status: status_text,
                    error: format!(
                        "the SMS gateway returned HTTP {} with {found} at {pointer}, not {expected:?}",
                        status.as_u16()
                    ),
                };
            }
        }
        let reference = self.reference_pointer.as_ref().and_then(|pointer| {
            let value = json.as_ref()?.pointer(pointer)?;
            match value {
                Value::String(text) => Some(text.clone()),
                Value::Number(number) => Some(number.to_string()),
                _ => None,
            }
        });
        SendOutcome::Delivered {
            reference,
            status: status_text,
        }
    }
}

/// Quotes a gateway value for an error, shortened so a verbose gateway cannot fill the
/// attempt log.
fn quote(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= MAX_QUOTED_CHARS {
        return text;
    }
    let short: String = text.chars().take(MAX_QUOTED_CHARS).collect();
    format!("{short}…")
}

/// Request and response shape of a preset; `None` fields must be configured.
struct Preset {
    url: Option<&'static str>,
    auth: SmsAuth,
    auth_header: &'static str,
    body_format: BodyFormat,
    body: Option<Value>,
    success_statuses: Option<&'static [u16]>,
    success_pointer: Option<&'static str>,
    success_value: Option<&'static str>,
    reference_pointer: Option<&'static str>,
}

impl Preset {
    fn of(preset: SmsPreset) -> Preset {
        match preset {
            // msg91 v2 `sendsms`, as DIVOC 1.24's notification service sends it
            // (`pkg/services/sms_service.go`): header `authkey`, this JSON body, and
            // `{"type":"success","message":<request id>}` on success.
            SmsPreset::Msg91 => Preset {
                url: None,
                auth: SmsAuth::Header,
                auth_header: "authkey",
                body_format: BodyFormat::Json,
                body: Some(json!({
                    "sender": "{{ sender }}",
                    "route": "4",
                    "country": "{{ country_code }}",
                    "unicode": "1",
                    "sms": [{ "message": "{{ message }}", "to": ["{{ to_national }}"] }],
                })),
                success_statuses: Some(&[200]),
                success_pointer: Some("/type"),
                success_value: Some("success"),
                reference_pointer: Some("/message"),
            },
            // Twilio's Messages resource: form fields To, From and Body, HTTP Basic with
            // the account SID and auth token, 201 Created with the message `sid`.
            SmsPreset::Twilio => Preset {
                url: Some(
                    "https://api.twilio.com/2010-04-01/Accounts/{{ username }}/Messages.json",
                ),
                auth: SmsAuth::Basic,
                auth_header: "Authorization",
                body_format: BodyFormat::Form,
                body: Some(json!({
                    "To": "{{ to }}",
                    "From": "{{ sender }}",
                    "Body": "{{ message }}",
                })),
                success_statuses: Some(&[200, 201]),
                success_pointer: None,
                success_value: None,
                reference_pointer: Some("/sid"),
            },
            SmsPreset::Webhook => Preset {
                url: None,
                auth: SmsAuth::Bearer,
                auth_header: "Authorization",
                body_format: BodyFormat::Json,
                body: Some(json!({
                    "to": "{{ to }}",
                    "message": "{{ message }}",
                    "reference": "{{ reference }}",
                })),
                success_statuses: None,
                success_pointer: None,
                success_value: None,
                reference_pointer: Some("/id"),
            },
            SmsPreset::Custom => Preset {
                url: None,
                auth: SmsAuth::None,
                auth_header: "Authorization",
                body_format: BodyFormat::Json,
                body: None,
                success_statuses: None,
                success_pointer: None,
                success_value: None,
                reference_pointer: None,
            },
        }
    }
}

fn toml_to_json(value: &toml::Value) -> Value {
    match value {
        toml::Value::String(text) => Value::String(text.clone()),
        toml::Value::Integer(number) => json!(number),
        toml::Value::Float(number) => json!(number),
        toml::Value::Boolean(flag) => Value::Bool(*flag),
        toml::Value::Datetime(datetime) => Value::String(datetime.to_string()),
        toml::Value::Array(items) => Value::Array(items.iter().map(toml_to_json).collect()),
        toml::Value::Table(table) => Value::Object(
            table
                .iter()
                .map(|(name, value)| (name.clone(), toml_to_json(value)))
                .collect(),
        ),
    }
}

fn is_flat_text_object(value: &Value) -> bool {
    value
        .as_object()
        .is_some_and(|fields| fields.values().all(Value::is_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gateway(preset: SmsPreset) -> SmsGateway {
        let config = SmsConfig {
            preset,
            url: "http://127.0.0.1:9/send".to_owned(),
            auth_token: Some(SecretString::from("key")),
            sender: Some("MOH".to_owned()),
            ..SmsConfig::default()
        };
        SmsGateway::new(&config, "1", Duration::from_secs(1)).expect("valid gateway")
    }

    fn message() -> SmsMessage<'static> {
        SmsMessage {
            to: "+18765550123",
            text: "Hello \"Ann\"",
            reference: "vaccred-7",
        }
    }

    #[test]
    fn msg91_body_has_divoc_shape() {
        let gateway = gateway(SmsPreset::Msg91);
        let body = gateway
            .render_value(&gateway.body, &gateway.variables(&message()))
            .expect("renders");
        assert_eq!(
            body,
            json!({
                "sender": "MOH",
                "route": "4",
                "country": "1",
                "unicode": "1",
                "sms": [{"message": "Hello \"Ann\"", "to": ["8765550123"]}],
            })
        );
    }

    #[test]
    fn msg91_success_needs_type() {
        let gateway = gateway(SmsPreset::Msg91);
        let ok = gateway.classify(StatusCode::OK, br#"{"type":"success","message":"abc"}"#);
        assert_eq!(
            ok,
            SendOutcome::Delivered {
                reference: Some("abc".to_owned()),
                status: Some("200".to_owned())
            }
        );
        let error = gateway.classify(StatusCode::OK, br#"{"type":"error","message":"x"}"#);
        assert!(matches!(error, SendOutcome::Transient { .. }), "{error:?}");
    }

    #[test]
    fn statuses_classified() {
        let gateway = gateway(SmsPreset::Webhook);
        let cases = [
            (StatusCode::OK, "delivered"),
            (StatusCode::TOO_MANY_REQUESTS, "transient"),
            (StatusCode::SERVICE_UNAVAILABLE, "transient"),
            (StatusCode::BAD_REQUEST, "permanent"),
            (StatusCode::UNAUTHORIZED, "permanent"),
        ];
        for (status, expected) in cases {
            let outcome = match gateway.classify(status, b"{}") {
                SendOutcome::Delivered { .. } => "delivered",
                SendOutcome::Transient { .. } => "transient",
                SendOutcome::Permanent { .. } => "permanent",
            };
            assert_eq!(outcome, expected, "{status}");
        }
    }

    #[test]
    fn twilio_uses_form_and_account_url() {
        let config = SmsConfig {
            preset: SmsPreset::Twilio,
            username: Some("AC123".to_owned()),
            auth_token: Some(SecretString::from("token")),
            ..SmsConfig::default()
        };
        let gateway = SmsGateway::new(&config, "1", Duration::from_secs(1)).expect("valid");
        let url = gateway
            .render_text(&gateway.url, &gateway.variables(&message()))
            .expect("renders");
        assert_eq!(
            url,
            "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
        );
        assert_eq!(gateway.body_format, BodyFormat::Form);
    }

    #[test]
    fn custom_needs_body() {
        let config = SmsConfig {
            preset: SmsPreset::Custom,
            url: "http://127.0.0.1:9/".to_owned(),
            ..SmsConfig::default()
        };
        let error = SmsGateway::new(&config, "1", Duration::from_secs(1)).unwrap_err();
        assert!(error.contains("notifications.sms.body"), "{error}");
    }
}
