//! The certification request: the body items of DIVOC's `/v1/certify` and `/v3/certify`.
//!
//! Values are stored in the form DIVOC's Go API re-serialises them before signing: dates
//! are parsed, empty optional strings are absent, and doses are numbers. Serialising a
//! request produces that form.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};

use super::config::Shape;
use super::datetime::{format_date, format_date_time};

/// One certification request, with DIVOC's camelCase JSON field names.
///
/// Deserialising applies the `certifyV3` request rules of `parse_requests_with`, the less
/// strict set, so every serialised request reads back. Use `parse_requests` or
/// `parse_requests_with` to get every error with its JSON path.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificationRequest {
    /// Recipient's pre-enrollment code, emitted as `credentialSubject.refId`. Never empty.
    pub pre_enrollment_code: String,
    /// Enrollment type; DIVOC enrolls the recipient first when it is `WALK_IN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enrollment_type: Option<String>,
    /// Vaccination programme id. DIVOC's signer requires it, and this crate does not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub program_id: Option<String>,
    /// Comorbidities, used by DIVOC only for walk-in enrollment.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub comorbidities: Vec<String>,
    /// The vaccinated person.
    pub recipient: Recipient,
    /// The vaccination event.
    pub vaccination: Vaccination,
    /// The vaccinator. Always present under the `certifyV2` rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vaccinator: Option<Vaccinator>,
    /// The facility where the vaccination took place.
    pub facility: Facility,
    /// Free-form metadata object stored with the certificate, not part of the credential.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meta: Option<Map<String, Value>>,
}

/// The vaccinated person.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Recipient {
    /// Full name.
    pub name: String,
    /// Date of birth.
    #[serde(
        serialize_with = "serialize_optional_date",
        skip_serializing_if = "Option::is_none"
    )]
    pub dob: Option<Date>,
    /// Age in whole years as sent, a decimal integer string (Go `strconv.Atoi` syntax, so
    /// a leading `+` or `-` is allowed). Absent until computed from `dob`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age: Option<String>,
    /// Gender. Always present under the `certifyV2` rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// Nationality.
    pub nationality: String,
    /// Identity document reference; becomes `credentialSubject.id`.
    pub identity: String,
    /// Contact URIs such as `tel:<digits>` or `mailto:<address>`.
    pub contact: Vec<String>,
    /// Postal address. Always present under the `certifyV2` rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// Postal address of a recipient or facility.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    /// First address line, emitted as `streetAddress`.
    pub address_line1: String,
    /// Second address line, emitted as `streetAddress2`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address_line2: Option<String>,
    /// District.
    pub district: String,
    /// City. DIVOC's request model has no such field and always emits `city` as `""`.
    /// This crate reads it when present and emits it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// State, emitted as `addressRegion`.
    pub state: String,
    /// Country, emitted as `addressCountry`; at least 2 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Postal code, emitted as `postalCode`.
    pub pincode: String,
}

/// The vaccination event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vaccination {
    /// Vaccine name, emitted as `vaccine` and used for the ICD-11 lookup.
    pub name: String,
    /// Batch or lot number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// Manufacturer.
    pub manufacturer: String,
    /// Time of vaccination, with the offset it was sent with (UTC when it had none).
    #[serde(serialize_with = "serialize_date_time")]
    pub date: OffsetDateTime,
    /// First day the vaccination counts as effective.
    #[serde(serialize_with = "serialize_date")]
    pub effective_start: Date,
    /// Last day the vaccination counts as effective.
    #[serde(serialize_with = "serialize_date")]
    pub effective_until: Date,
    /// Dose number, starting at 1.
    pub dose: DoseNumber,
    /// Number of doses in the schedule.
    pub total_doses: DoseNumber,
}

/// The vaccinator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Vaccinator {
    /// Vaccinator's name, emitted as `evidence[0].verifier.name`.
    pub name: String,
}

/// The facility where the vaccination took place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Facility {
    /// Facility name.
    pub name: String,
    /// Facility address. Always present under the `certifyV2` rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A dose count: a finite number of at least 1. DIVOC's schema types doses as
/// numbers, so fractions such as 2.5 are allowed.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct DoseNumber(f64);

impl DoseNumber {
    /// Wraps `value` if it is finite and at least 1.
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && value >= 1.0).then_some(Self(value))
    }

    /// Returns the number.
    pub fn get(self) -> f64 {
        self.0
    }

    /// Converts to the shortest JSON number: `1` and `2` for whole numbers, `2.5` for
    /// fractions, as Go's `json.Marshal` of a `float64` prints them. Whole numbers of
    /// 2^64 and above are written as floats (for example `1e21`, where Go writes `1e+21`).
    pub fn to_json(self) -> Value {
        let whole = self.0.fract() == 0.0 && self.0 < 18_446_744_073_709_551_616.0;
        if whole {
            // The value is a whole number in 1..2^64, so the conversion is exact.
            Value::from(self.0 as u64)
        } else {
            serde_json::Number::from_f64(self.0).map_or(Value::Null, Value::Number)
        }
    }
}

impl Serialize for DoseNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for CertificationRequest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        super::parse::request_from_value(&value, Shape::V3).map_err(serde::de::Error::custom)
    }
}

fn serialize_date<S: Serializer>(date: &Date, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_date(*date))
}

fn serialize_optional_date<S: Serializer>(
    date: &Option<Date>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match date {
        Some(date) => serialize_date(date, serializer),
        None => serializer.serialize_none(),
    }
}

fn serialize_date_time<S: Serializer>(
    date_time: &OffsetDateTime,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_date_time(*date_time))
}
