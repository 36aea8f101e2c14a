//! Errors of request parsing and credential building.

use std::fmt;

use time::Date;

/// Error returned by `parse_requests` and `parse_requests_with`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The body is not JSON.
    #[error(
        "request body is not valid JSON ({0}): send a JSON array of certification requests or one request object"
    )]
    Syntax(#[source] serde_json::Error),
    /// The body is JSON, but some values break the request rules. Every error found is
    /// listed, in document order.
    #[error("request body has {} invalid value(s): {}", .0.len(), join_errors(.0))]
    Invalid(Vec<FieldError>),
}

impl RequestError {
    /// Returns the field errors, or an empty slice for a syntax error.
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            RequestError::Syntax(_) => &[],
            RequestError::Invalid(errors) => errors,
        }
    }
}

fn join_errors(errors: &[FieldError]) -> String {
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    messages.join(" | ")
}

/// One invalid value in a request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// JSON path of the value in the body, such as `[0].recipient.name` for an array body
    /// or `recipient.name` for a single object. Empty for the body itself.
    pub path: String,
    /// Problem found in the value.
    pub problem: Problem,
}

impl fmt::Display for FieldError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "request body"
        } else {
            &self.path
        };
        write!(
            formatter,
            "{path}: {}. {}",
            self.problem.message(),
            self.problem.hint()
        )
    }
}

/// Kind of value a field expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Expected {
    /// Any string.
    String,
    /// A string of at least one character.
    NonEmptyString,
    /// A JSON object.
    Object,
    /// A JSON array of strings.
    StringArray,
    /// A JSON array of requests or one request object.
    ObjectOrArray,
    /// A JSON number.
    Number,
    /// A `YYYY-MM-DD` date string.
    Date,
    /// An RFC 3339 date-time string.
    DateTime,
}

impl Expected {
    fn description(self) -> &'static str {
        match self {
            Expected::String => "a string",
            Expected::NonEmptyString => "a non-empty string",
            Expected::Object => "a JSON object",
            Expected::StringArray => "an array of strings",
            Expected::ObjectOrArray => "an array of request objects or one request object",
            Expected::Number => "a number",
            Expected::Date => "a date string (YYYY-MM-DD)",
            Expected::DateTime => "a date-time string (for example 2021-05-01T10:00:00.000Z)",
        }
    }
}

/// Problem found in a request value.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// A required field is absent or `null`.
    Missing {
        /// The kind of value the field takes.
        expected: Expected,
    },
    /// The value has the wrong JSON type.
    WrongType {
        /// The kind of value the field takes.
        expected: Expected,
        /// The JSON type found, such as `a number`.
        found: &'static str,
    },
    /// A string is shorter than the schema's `minLength`, counted in characters.
    TooShort {
        /// The minimum number of characters.
        min_length: usize,
    },
    /// A number is below the schema's `minimum`.
    BelowMinimum {
        /// The smallest allowed value.
        minimum: u32,
    },
    /// A string is not a valid `YYYY-MM-DD` date.
    InvalidDate {
        /// The rejected string.
        value: String,
    },
    /// A string is not a date-time in one of the accepted layouts.
    InvalidDateTime {
        /// The rejected string.
        value: String,
    },
    /// Neither `recipient.age` nor `recipient.dob` is present.
    MissingAgeAndDob,
    /// `recipient.age` is not a whole number of at least 0, or `recipient.dob` lies after
    /// the current date.
    InvalidAgeOrDob {
        /// The rejected age or date of birth.
        value: String,
    },
    /// A string contains a control or bidirectional formatting character, which could hide or
    /// reorder text on a printed certificate or a verifier's screen.
    ControlCharacter {
        /// The character's code point.
        code_point: u32,
    },
    /// A `tel:` contact that does not normalise to an E.164 mobile number in the
    /// configured default region.
    InvalidMobileNumber {
        /// Why, without the number itself.
        reason: String,
    },
}

impl Problem {
    /// Describes what is wrong. The age rules return DIVOC's messages verbatim.
    pub fn message(&self) -> String {
        match self {
            Problem::Missing { .. } => "required field is missing".to_owned(),
            Problem::WrongType { expected, found } => {
                format!("expected {}, found {found}", expected.description())
            }
            Problem::TooShort { min_length } => {
                format!("value is shorter than {min_length} character(s)")
            }
            Problem::BelowMinimum { minimum } => format!("value is less than {minimum}"),
            Problem::InvalidDate { value } => format!("{value:?} is not a valid date"),
            Problem::InvalidDateTime { value } => format!("{value:?} is not a valid date-time"),
            Problem::MissingAgeAndDob => {
                "Age and DOB both are missing. Atleast one should be present".to_owned()
            }
            Problem::InvalidAgeOrDob { .. } => {
                "Invalid Age or DOB. Should be less than current date".to_owned()
            }
            Problem::ControlCharacter { code_point } => {
                format!("value contains the control character U+{code_point:04X}")
            }
            Problem::InvalidMobileNumber { reason } => {
                format!("value is not a valid mobile number: {reason}")
            }
        }
    }

    /// Says how to correct the value.
    pub fn hint(&self) -> String {
        match self {
            Problem::Missing { expected } | Problem::WrongType { expected, .. } => {
                format!("Send {}.", expected.description())
            }
            Problem::TooShort { min_length } => {
                format!("Send at least {min_length} character(s), or leave out an optional field.")
            }
            Problem::BelowMinimum { minimum } => format!("Send a number of at least {minimum}."),
            Problem::InvalidDate { .. } => {
                "Send an existing calendar date as YYYY-MM-DD, for example 2021-05-01.".to_owned()
            }
            Problem::InvalidDateTime { .. } => {
                "Send RFC 3339 with seconds and a zone, for example 2021-05-01T10:00:00.000Z."
                    .to_owned()
            }
            Problem::MissingAgeAndDob => {
                "Send recipient.age as a whole number or recipient.dob as YYYY-MM-DD.".to_owned()
            }
            Problem::InvalidAgeOrDob { value } => format!(
                "Got {value:?}. Send recipient.age as a whole number of at least 0, or a recipient.dob that is not in the future."
            ),
            Problem::ControlCharacter { .. } => "Remove control characters and bidirectional \
                 formatting characters (such as U+202E) from the text."
                .to_owned(),
            Problem::InvalidMobileNumber { .. } => "Send tel: and the number with its country \
                 code, such as tel:+18765550123, or a full national number of the default \
                 country."
                .to_owned(),
        }
    }

    /// Returns the HTTP status DIVOC 1.24 returns for this problem: 422 for schema rules
    /// (go-swagger validation), 400 for values Go cannot decode and for the handler's age
    /// rules. An empty `preEnrollmentCode`, which DIVOC's API accepts and its signer
    /// drops, is reported as `TooShort` with 422.
    pub fn divoc_status(&self) -> u16 {
        match self {
            Problem::Missing { .. }
            | Problem::TooShort { .. }
            | Problem::BelowMinimum { .. }
            | Problem::ControlCharacter { .. }
            | Problem::InvalidMobileNumber { .. } => 422,
            _ => 400,
        }
    }
}

/// Error returned by `build_credential`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A value used as a JSON-LD `@id` is not an absolute IRI, so JSON-LD processing
    /// would drop it and the statements about it from the signed data.
    #[error(
        "{field} {value:?} is not an absolute IRI: configure a value with a scheme (such as https: or did:) and no whitespace"
    )]
    NotAbsoluteIri {
        /// Credential field, such as `issuer`.
        field: &'static str,
        /// The rejected value.
        value: String,
    },
    /// The issuance date's year is outside 0000–9999.
    #[error("issuance date year {year} is outside 0000-9999: pass the actual signing time")]
    IssuanceYearOutOfRange {
        /// The rejected year.
        year: i32,
    },
    /// The request has no age and a date of birth after the issuance date.
    #[error(
        "date of birth {dob} is after the issuance date {issued}: correct recipient.dob or send recipient.age"
    )]
    DobAfterIssuance {
        /// The recipient's date of birth.
        dob: Date,
        /// The issuance date (UTC).
        issued: Date,
    },
}
