//! Issuer settings and credential shapes.

use std::fmt;

use regex::Regex;

use crate::jsonld::{ContextLoader, VACCINATION_V1, VACCINATION_V2};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Credential shape, named by DIVOC's `meta.certificateType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Shape {
    /// `certifyV2` (DIVOC `/v1/certify`): the vaccination v1 context.
    #[serde(rename = "certifyV2")]
    V2,
    /// `certifyV3` (DIVOC `/v3/certify`), aligned with WHO DDCC: the vaccination v2
    /// context, plus `credentialSubject.dob`, `evidence[0].icd11Code` and
    /// `evidence[0].prophylaxis`.
    #[serde(rename = "certifyV3")]
    V3,
}

impl Shape {
    /// Returns DIVOC's `meta.certificateType` value: `certifyV2` or `certifyV3`.
    pub fn certificate_type(self) -> &'static str {
        match self {
            Shape::V2 => "certifyV2",
            Shape::V3 => "certifyV3",
        }
    }

    /// Returns the vaccination context URL this shape uses as `@context[1]`.
    pub fn context_url(self, config: &IssuerConfig) -> &str {
        match self {
            Shape::V2 => &config.vaccination_context_v1,
            Shape::V3 => &config.vaccination_context_v2,
        }
    }
}

/// Issuer settings for building credentials. Every field has a default, and the defaults
/// are those of Jamaica's Ministry of Health.
///
/// Deserialisation fills absent fields from the defaults and rejects unknown fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, rename_all = "snake_case", deny_unknown_fields)]
pub struct IssuerConfig {
    /// `issuer` of every credential (DIVOC `CERTIFICATE_ISSUER`).
    pub issuer: String,
    /// Issuer DID (DIVOC `CERTIFICATE_DID`): the proof's `verificationMethod` and the
    /// prefix of `<DID>:<identity>` subject ids.
    pub did: String,
    /// Prefix of `evidence[0].id`, followed by the certificate id
    /// (DIVOC `CERTIFICATE_BASE_URL`).
    pub certificate_base_url: String,
    /// Prefix of `evidence[0].infoUrl`, followed by the certificate id
    /// (DIVOC `CERTIFICATE_INFO_BASE_URL`).
    pub info_base_url: String,
    /// Prefix of `evidence[0].feedbackUrl`, followed by the certificate id
    /// (DIVOC `CERTIFICATE_FEEDBACK_BASE_URL`).
    pub feedback_base_url: String,
    /// Whether evidence contains `infoUrl` (DIVOC always emits it).
    pub include_info_url: bool,
    /// Whether evidence contains `feedbackUrl` (DIVOC 1.24 always emits it).
    pub include_feedback_url: bool,
    /// Context URL of `certifyV2` credentials (DIVOC `CERTIFICATE_NAMESPACE`).
    pub vaccination_context_v1: String,
    /// Context URL of `certifyV3` credentials (DIVOC `CERTIFICATE_NAMESPACE_V2`).
    pub vaccination_context_v2: String,
    /// Shape used when a caller does not choose one.
    pub default_shape: Shape,
    /// `credentialSubject.address.addressCountry` when the request has no country.
    pub default_recipient_country: String,
    /// `evidence[0].facility.address.addressCountry` when the request has no country.
    pub default_facility_country: String,
    /// Identities matching this pattern are replaced by the pre-enrollment code in
    /// `<DID>:<...>` subject ids (DIVOC `IDENTITY_REJECTION_PATTERN`).
    pub identity_rejection_pattern: IdentityRejectionPattern,
}

impl IssuerConfig {
    /// Returns the bundled context loader, extended so that configured vaccination context
    /// URLs it does not know serve DIVOC's vaccination v1 and v2 documents. A deployment
    /// that publishes DIVOC's contexts under its own domain can then sign and verify
    /// without fetching them.
    pub fn context_loader(&self) -> ContextLoader {
        let mut loader = ContextLoader::default();
        let pairs = [
            (&self.vaccination_context_v1, VACCINATION_V1),
            (&self.vaccination_context_v2, VACCINATION_V2),
        ];
        for (url, bundled) in pairs {
            if loader.contains(url) {
                continue;
            }
            // `ContextLoader::default` bundles both DIVOC URLs, so the alias succeeds; the
            // `context_loader_aliases_custom_urls` test below checks it.
            if let Ok(extended) = loader.clone().with_alias(url, bundled) {
                loader = extended;
            }
        }
        loader
    }
}

impl Default for IssuerConfig {
    fn default() -> Self {
        Self {
            issuer: "https://www.moh.gov.jm".to_owned(),
            did: "did:jm:moh".to_owned(),
            certificate_base_url: "https://www.moh.gov.jm/vaccine/".to_owned(),
            info_base_url: "https://www.moh.gov.jm/?".to_owned(),
            feedback_base_url: "https://www.moh.gov.jm/?".to_owned(),
            include_info_url: true,
            include_feedback_url: true,
            vaccination_context_v1: "https://cowin.gov.in/credentials/vaccination/v1".to_owned(),
            vaccination_context_v2: "https://cowin.gov.in/credentials/vaccination/v2".to_owned(),
            default_shape: Shape::V3,
            default_recipient_country: "JAM".to_owned(),
            default_facility_country: "JAM".to_owned(),
            identity_rejection_pattern: IdentityRejectionPattern::default(),
        }
    }
}

/// Regular expression for identities that must not appear in subject ids, by default
/// `^NA$|^.?$` (the literal `NA`, or at most one character), DIVOC's default.
///
/// The default is evaluated with JavaScript's semantics, as DIVOC evaluates it: `.` is one
/// UTF-16 code unit other than `\n`, `\r`, U+2028 and U+2029. Other patterns use the
/// `regex` crate's syntax, which agrees with JavaScript for the usual patterns but differs
/// in details: there `.` is any character except `\n`.
#[derive(Clone)]
pub struct IdentityRejectionPattern {
    matcher: Matcher,
}

#[derive(Clone)]
enum Matcher {
    DivocDefault,
    Custom(Regex),
}

/// Error returned for an identity rejection pattern that does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid identity rejection pattern {pattern:?}: {reason}")]
pub struct PatternError {
    /// The rejected pattern.
    pub pattern: String,
    /// The compiler's message.
    pub reason: String,
}

const DEFAULT_IDENTITY_REJECTION_PATTERN: &str = "^NA$|^.?$";

impl IdentityRejectionPattern {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, PatternError> {
        if pattern == DEFAULT_IDENTITY_REJECTION_PATTERN {
            return Ok(Self::default());
        }
        Regex::new(pattern)
            .map(|regex| Self {
                matcher: Matcher::Custom(regex),
            })
            .map_err(|error| PatternError {
                pattern: pattern.to_owned(),
                reason: error.to_string(),
            })
    }

    /// Tests whether `identity` matches the pattern anywhere. Anchor the pattern with `^…$`
    /// to match whole values.
    pub fn is_match(&self, identity: &str) -> bool {
        match &self.matcher {
            Matcher::DivocDefault => identity == "NA" || is_at_most_one_js_char(identity),
            Matcher::Custom(regex) => regex.is_match(identity),
        }
    }

    /// Returns the pattern's source text.
    pub fn as_str(&self) -> &str {
        match &self.matcher {
            Matcher::DivocDefault => DEFAULT_IDENTITY_REJECTION_PATTERN,
            Matcher::Custom(regex) => regex.as_str(),
        }
    }
}

/// Tests whether JavaScript's `/^.?$/` matches `value`.
fn is_at_most_one_js_char(value: &str) -> bool {
    let mut chars = value.chars();
    match (chars.next(), chars.next()) {
        (None, _) => true,
        (Some(c), None) => {
            c.len_utf16() == 1 && !matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}')
        }
        (Some(_), Some(_)) => false,
    }
}

impl Default for IdentityRejectionPattern {
    fn default() -> Self {
        Self {
            matcher: Matcher::DivocDefault,
        }
    }
}

impl PartialEq for IdentityRejectionPattern {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl fmt::Debug for IdentityRejectionPattern {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_tuple("IdentityRejectionPattern")
            .field(&self.as_str())
            .finish()
    }
}

impl Serialize for IdentityRejectionPattern {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IdentityRejectionPattern {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let pattern = String::deserialize(deserializer)?;
        Self::new(&pattern).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_loader_aliases_custom_urls() {
        let config = IssuerConfig {
            vaccination_context_v1: "https://moh.example/credentials/vaccination/v1".to_owned(),
            vaccination_context_v2: "https://moh.example/credentials/vaccination/v2".to_owned(),
            ..IssuerConfig::default()
        };
        let loader = config.context_loader();
        assert!(loader.contains(&config.vaccination_context_v1));
        assert!(loader.contains(&config.vaccination_context_v2));
        assert!(loader.contains(VACCINATION_V1));
        assert!(loader.contains(VACCINATION_V2));
    }
}
