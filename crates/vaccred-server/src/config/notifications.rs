//! The `[notifications]` section: SMS gateway, SMTP server, templates, retries and rate
//! limits of certificate messages and one-time codes.

use std::collections::BTreeMap;
use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// Notification delivery. Without `sms` and `email` nothing is enqueued or sent.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotificationsConfig {
    /// ISO 3166-1 alpha-2 code of the country whose national mobile numbers are accepted
    /// without a `+`, such as `JM`. Required with `sms`; when set, certify and update
    /// requests with a mobile number that does not normalise to E.164 are rejected.
    pub default_country: Option<String>,
    /// Citizen portal address that messages link to, the `portal_link` template variable.
    /// Required with `sms` or `email`.
    pub portal_url: String,
    /// Template language of certificate messages.
    pub language: String,
    /// Directory whose `LANGUAGE/EVENT.KIND.j2` files replace the built-in templates.
    pub templates_dir: Option<PathBuf>,
    /// Attempts before a message is marked failed.
    pub max_attempts: u32,
    /// Wait after the first failed attempt, in seconds; it doubles with each attempt.
    pub backoff_base_seconds: u64,
    /// Maximum wait between two attempts, in seconds.
    pub backoff_max_seconds: u64,
    /// How long a one-time code stays sendable, in seconds.
    pub otp_valid_seconds: u64,
    /// Maximum SMS segments of one message; longer messages fail without being sent.
    pub sms_max_segments: u32,
    /// Delivery tasks running at once in this process.
    pub concurrency: usize,
    /// Messages claimed per database round trip.
    pub batch_size: u32,
    /// How long a claimed message stays reserved for its worker, in seconds. Keep it
    /// above `send_timeout_seconds`.
    pub lease_seconds: u64,
    /// Pause between polls when nothing is pending, in milliseconds.
    pub poll_interval_ms: u64,
    /// Time allowed for one gateway request or SMTP transaction, in seconds.
    pub send_timeout_seconds: u64,
    /// Rate limits.
    pub rate_limit: RateLimitConfig,
    /// The SMS gateway. Absent disables SMS.
    pub sms: Option<SmsConfig>,
    /// The SMTP server. Absent disables e-mail.
    pub email: Option<EmailConfig>,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        Self {
            default_country: None,
            portal_url: String::new(),
            language: "en".to_owned(),
            templates_dir: None,
            max_attempts: 8,
            backoff_base_seconds: 30,
            backoff_max_seconds: 3600,
            otp_valid_seconds: 300,
            sms_max_segments: 3,
            concurrency: 8,
            batch_size: 32,
            lease_seconds: 120,
            poll_interval_ms: 500,
            send_timeout_seconds: 15,
            rate_limit: RateLimitConfig::default(),
            sms: None,
            email: None,
        }
    }
}

/// Rate limits of message delivery, counted per process.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Messages sent per second over all recipients and channels; 0 means no limit.
    pub global_per_second: u32,
    /// Messages sent to one recipient per hour; 0 means no limit.
    pub per_recipient_per_hour: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            global_per_second: 50,
            per_recipient_per_hour: 10,
        }
    }
}

/// Shape of an SMS gateway's request and response.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsPreset {
    /// msg91's v2 `sendsms` JSON API, as DIVOC's notification service calls it: header
    /// `authkey`, body `{"sender","route","country","unicode","sms":[{"message","to"}]}`.
    Msg91,
    /// A Twilio-style form API: HTTP Basic authentication with an account id and token,
    /// form fields `To`, `From` and `Body`, success on 201 with a `sid`.
    Twilio,
    /// A generic JSON webhook: `{"to","message","reference"}` with an optional bearer
    /// token, success on any 2xx. The default.
    #[default]
    Webhook,
    /// Every field comes from this section.
    Custom,
}

/// Encoding of the request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyFormat {
    /// `application/json`.
    Json,
    /// `application/x-www-form-urlencoded`.
    Form,
}

/// Authentication of gateway requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmsAuth {
    /// None, or only what `headers` add.
    None,
    /// `Authorization: Bearer <auth_token>`.
    Bearer,
    /// HTTP Basic with `username` and `auth_token`.
    Basic,
    /// The token in the header named `auth_header`.
    Header,
}

/// An SMS gateway. A preset fills every field left out.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmsConfig {
    /// Request and response shape.
    pub preset: SmsPreset,
    /// Gateway URL. Template variables are expanded in it, such as `{{ username }}`.
    pub url: String,
    /// HTTP method. Default: `POST`.
    pub method: Option<String>,
    /// Authentication kind.
    pub auth: Option<SmsAuth>,
    /// Account id or user name for Basic authentication.
    pub username: Option<String>,
    /// API key, token or password.
    pub auth_token: Option<SecretString>,
    /// Header that carries `auth_token` with `auth = "header"`.
    pub auth_header: Option<String>,
    /// Sender id or number.
    pub sender: Option<String>,
    /// Extra request headers.
    pub headers: BTreeMap<String, String>,
    /// Body encoding.
    pub body_format: Option<BodyFormat>,
    /// Body as a TOML table whose strings are templates over `to`, `to_digits`,
    /// `to_national`, `message`, `reference`, `sender` and `username`.
    pub body: Option<toml::Table>,
    /// HTTP statuses that mean accepted. Default: any 2xx.
    pub success_statuses: Option<Vec<u16>>,
    /// JSON pointer (RFC 6901) into the response whose value must equal `success_value`.
    pub success_pointer: Option<String>,
    /// Value expected at `success_pointer`.
    pub success_value: Option<String>,
    /// JSON pointer to the gateway's message id in the response.
    pub reference_pointer: Option<String>,
    /// Country calling code msg91 prefixes to national numbers. Default: 1.
    pub country_code: Option<String>,
}

/// TLS of the SMTP connection.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, which must succeed (usually port 587).
    /// The default.
    #[default]
    Starttls,
    /// TLS from the first byte (usually port 465).
    Implicit,
    /// No encryption. Accepted only for a loopback host, such as a local relay.
    None,
}

/// The SMTP server that sends e-mail.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmailConfig {
    /// Host name; with TLS, the certificate must match it.
    pub host: String,
    /// Port. Default: 587 with STARTTLS, 465 with implicit TLS, 25 without TLS.
    pub port: Option<u16>,
    /// TLS mode.
    pub tls: SmtpTls,
    /// User name for SMTP authentication (PLAIN or LOGIN). Absent means none.
    pub username: Option<String>,
    /// Password for SMTP authentication.
    pub password: Option<SecretString>,
    /// Sender address, such as `Ministry of Health <noreply@moh.example>`.
    pub from: String,
    /// PEM file of CA certificates trusted beside the system's roots, for a relay whose
    /// certificate a private CA signed.
    pub ca_file: Option<PathBuf>,
}

impl EmailConfig {
    /// Returns the configured port or the usual one for the TLS mode.
    pub fn effective_port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            SmtpTls::Starttls => 587,
            SmtpTls::Implicit => 465,
            SmtpTls::None => 25,
        })
    }
}

impl NotificationsConfig {
    /// Returns the region of `default_country`, in which certify requests' mobile
    /// numbers are checked, or `None` when it is not set.
    pub fn mobile_region(&self) -> Option<vaccred_core::phone::Region> {
        self.default_country
            .as_deref()
            .and_then(vaccred_core::phone::Region::from_iso_code)
    }

    /// Checks the settings that serde cannot, returning the message for the first
    /// problem with the key to fix.
    pub(crate) fn validate(&self) -> Result<(), String> {
        let positive = [
            ("max_attempts", u64::from(self.max_attempts)),
            ("backoff_base_seconds", self.backoff_base_seconds),
            ("otp_valid_seconds", self.otp_valid_seconds),
            ("sms_max_segments", u64::from(self.sms_max_segments)),
            ("concurrency", self.concurrency as u64),
            ("batch_size", u64::from(self.batch_size)),
            ("send_timeout_seconds", self.send_timeout_seconds),
        ];
        for (key, value) in positive {
            if value == 0 {
                return Err(format!("notifications.{key} must be at least 1"));
            }
        }
        if self.lease_seconds <= self.send_timeout_seconds {
            return Err("notifications.lease_seconds must be greater than \
                 notifications.send_timeout_seconds, or a slow send is repeated"
                .to_owned());
        }
        if let Some(country) = &self.default_country
            && vaccred_core::phone::Region::from_iso_code(country).is_none()
        {
            let supported: Vec<_> = vaccred_core::phone::Region::supported_codes().collect();
            return Err(format!(
                "notifications.default_country {country:?} is not supported: use one of {}",
                supported.join(", ")
            ));
        }
        if self.sms.is_some() && self.default_country.is_none() {
            return Err(
                "notifications.sms needs notifications.default_country, such as \"JM\"".to_owned(),
            );
        }
        if let Some(sms) = &self.sms
            && sms.preset != SmsPreset::Twilio
            && sms.url.trim().is_empty()
        {
            return Err("notifications.sms.url is missing: set the gateway's URL".to_owned());
        }
        if self.sms.is_some() || self.email.is_some() {
            let url = self.portal_url.trim();
            if url.is_empty() {
                return Err(
                    "notifications.portal_url is missing: set the citizen portal \
                     address that messages link to, such as \
                     https://portal.moh.gov.jm/certificate"
                        .to_owned(),
                );
            }
            let lower = url.to_ascii_lowercase();
            let host = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"))
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("");
            if host.is_empty() {
                return Err(format!(
                    "notifications.portal_url {url:?} is not an http(s) URL: messages link \
                     to it, so write it in full, such as https://portal.moh.gov.jm/certificate"
                ));
            }
        }
        if let Some(email) = &self.email {
            email.validate()?;
        }
        Ok(())
    }
}

impl EmailConfig {
    fn validate(&self) -> Result<(), String> {
        if self.host.trim().is_empty() {
            return Err("notifications.email.host is missing: set the SMTP server".to_owned());
        }
        if self.tls == SmtpTls::None && !is_loopback(&self.host) {
            return Err(format!(
                "notifications.email.tls = \"none\" is only accepted for a loopback host, \
                 not {:?}: use \"starttls\" or \"implicit\"",
                self.host
            ));
        }
        if self.tls == SmtpTls::None && self.ca_file.is_some() {
            return Err(
                "notifications.email.ca_file is set but tls = \"none\" uses no certificate: \
                 use \"starttls\" or \"implicit\", or remove ca_file"
                    .to_owned(),
            );
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(
                "set notifications.email.username and notifications.email.password \
                 together, or neither"
                    .to_owned(),
            );
        }
        if self.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(format!(
                "notifications.email.from {:?} is not an e-mail address: use a form such \
                 as \"Ministry of Health <noreply@moh.example>\"",
                self.from
            ));
        }
        Ok(())
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}
