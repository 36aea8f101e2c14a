//! Parsing and validation of certification request bodies.
//!
//! The rules are those of DIVOC's go-swagger schema (`CertificationRequest` for
//! `/v1/certify`, `CertificationRequestV2` for `/v3/certify`) and of its certify handler.
//! Unlike DIVOC, which stops at the first error, every error is collected.

use serde_json::{Map, Value};
use time::Date;

use super::config::Shape;
use super::datetime::{format_date, whole_years};
use super::error::{Expected, Problem, RequestError};
use super::fields::{Reader, join};
use super::request::{Address, CertificationRequest, Facility, Recipient, Vaccination, Vaccinator};

/// Options for `parse_requests_with`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseOptions {
    /// Request rules to apply. `Shape::V2` applies DIVOC's `/v1/certify` schema.
    /// `Shape::V3` applies its `/v3/certify` schema, in which `recipient.gender`,
    /// `recipient.address`, `facility.address` and `vaccinator` are optional.
    pub shape: Shape,
    /// Current date. When set, a missing `recipient.age` is computed from
    /// `recipient.dob` in whole years, and a `dob` after this date is rejected, as
    /// DIVOC's certify handler does. When `None`, `age` stays absent and
    /// `build_credential` computes it at the issuance date.
    pub today: Option<Date>,
    /// Default region of `tel:` contacts. When set, each `recipient.contact` entry that
    /// starts with `tel:` must normalise to an E.164 number (see [`crate::phone`]).
    pub mobile_region: Option<crate::phone::Region>,
}

impl Default for ParseOptions {
    fn default() -> Self {
        Self {
            shape: Shape::V2,
            today: None,
            mobile_region: None,
        }
    }
}

/// Parses a request body with DIVOC's `/v1/certify` rules and no current date.
///
/// The body may be DIVOC's JSON array of requests or a single request object. An empty
/// array gives an empty list. Unknown fields are ignored, as DIVOC ignores them. Unlike
/// DIVOC, an `address.city` string is read and kept.
pub fn parse_requests(body: &[u8]) -> Result<Vec<CertificationRequest>, RequestError> {
    parse_requests_with(body, &ParseOptions::default())
}

/// Parses a request body with the given options. The body forms are those of
/// `parse_requests`.
///
/// Error paths start with `[index]` for an array body and with the field name for a
/// single object.
pub fn parse_requests_with(
    body: &[u8],
    options: &ParseOptions,
) -> Result<Vec<CertificationRequest>, RequestError> {
    let value: Value = serde_json::from_slice(body).map_err(RequestError::Syntax)?;
    let mut reader = Reader::new();
    let mut requests = Vec::new();
    match &value {
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                let parsed = read_request(&mut reader, options, item, &format!("[{index}]"));
                requests.extend(parsed);
            }
        }
        Value::Object(_) => requests.extend(read_request(&mut reader, options, &value, "")),
        other => reader.wrong_type(String::new(), Expected::ObjectOrArray, other),
    }
    reader.finish(requests)
}

/// Reads one request object with the given rules and no current date.
pub(crate) fn request_from_value(
    value: &Value,
    shape: Shape,
) -> Result<CertificationRequest, RequestError> {
    let options = ParseOptions {
        shape,
        ..ParseOptions::default()
    };
    let mut reader = Reader::new();
    let request = read_request(&mut reader, &options, value, "");
    // `read_request` returns `None` only after recording an error, so `finish` has
    // already returned that error in that case.
    reader
        .finish(request)?
        .ok_or(RequestError::Invalid(Vec::new()))
}

fn read_request(
    reader: &mut Reader,
    options: &ParseOptions,
    value: &Value,
    path: &str,
) -> Option<CertificationRequest> {
    let object = reader.as_object(value, path)?;
    let strict = options.shape == Shape::V2;

    let pre_enrollment_code = reader.required_string(object, path, "preEnrollmentCode", 1);
    let enrollment_type = reader.optional_string(object, path, "enrollmentType", 1);
    let program_id = reader.optional_string(object, path, "programId", 1);
    let comorbidities = reader.optional_string_list(object, path, "comorbidities");

    let recipient = match reader.required_object(object, path, "recipient") {
        Some((member, member_path)) => read_recipient(reader, options, member, &member_path),
        None => None,
    };
    let vaccination = match reader.required_object(object, path, "vaccination") {
        Some((member, member_path)) => read_vaccination(reader, member, &member_path),
        None => None,
    };
    let vaccinator = read_vaccinator(reader, object, path, strict);
    let facility = match reader.required_object(object, path, "facility") {
        Some((member, member_path)) => read_facility(reader, member, &member_path, strict),
        None => None,
    };
    let meta = reader.optional_object(object, path, "meta");

    Some(CertificationRequest {
        pre_enrollment_code: pre_enrollment_code?,
        enrollment_type,
        program_id,
        comorbidities,
        recipient: recipient?,
        vaccination: vaccination?,
        vaccinator: vaccinator?,
        facility: facility?,
        meta: meta.map(|(meta, _)| meta.clone()),
    })
}

fn read_recipient(
    reader: &mut Reader,
    options: &ParseOptions,
    object: &Map<String, Value>,
    path: &str,
) -> Option<Recipient> {
    let strict = options.shape == Shape::V2;
    let name = reader.required_string(object, path, "name", 1);
    let dob = reader.optional_date(object, path, "dob");
    let age = reader.optional_string(object, path, "age", 1);
    let gender = if strict {
        reader.required_string(object, path, "gender", 1).map(Some)
    } else {
        Some(reader.optional_string(object, path, "gender", 1))
    };
    // The `certifyV3` rules here accept a recipient without nationality, identity or
    // contact, as Jamaica's source system sends it, although DIVOC's own `/v3/certify`
    // schema requires all three. Absent values read as empty.
    let (nationality, identity, contact) = if strict {
        (
            reader.required_string(object, path, "nationality", 1),
            reader.required_string(object, path, "identity", 1),
            reader.required_string_list(object, path, "contact", 1),
        )
    } else {
        (
            Some(
                reader
                    .optional_string(object, path, "nationality", 1)
                    .unwrap_or_default(),
            ),
            Some(
                reader
                    .optional_string(object, path, "identity", 1)
                    .unwrap_or_default(),
            ),
            optional_contact(reader, object, path),
        )
    };
    if let (Some(region), Some(contacts)) = (&options.mobile_region, &contact) {
        check_mobile_numbers(reader, region, contacts, &join(path, "contact"));
    }
    let address = read_address_field(reader, object, path, strict, AddressRules::RECIPIENT);
    let mut age = age;
    let age_and_dob_valid =
        !reader.has_error_at(&join(path, "age")) && !reader.has_error_at(&join(path, "dob"));
    if age_and_dob_valid {
        apply_age_rules(reader, &mut age, dob, path, options.today);
    }
    Some(Recipient {
        name: name?,
        dob,
        age,
        gender: gender?,
        nationality: nationality?,
        identity: identity?,
        contact: contact?,
        address: address?,
    })
}

/// Reads an optional `contact` list whose entries, when present, must not be empty.
/// Returns `None` only after an error.
fn optional_contact(
    reader: &mut Reader,
    object: &Map<String, Value>,
    path: &str,
) -> Option<Vec<String>> {
    let absent = matches!(object.get("contact"), None | Some(Value::Null));
    if absent {
        Some(Vec::new())
    } else {
        reader.required_string_list(object, path, "contact", 1)
    }
}

/// Records an error for each `tel:` contact that is not a valid mobile number.
fn check_mobile_numbers(
    reader: &mut Reader,
    region: &crate::phone::Region,
    contacts: &[String],
    path: &str,
) {
    for (index, contact) in contacts.iter().enumerate() {
        let Some(number) = contact.strip_prefix("tel:") else {
            continue;
        };
        if let Err(error) = crate::phone::normalize(number, region) {
            let reason = error.to_string();
            reader.push(
                format!("{path}[{index}]"),
                Problem::InvalidMobileNumber { reason },
            );
        }
    }
}

/// Applies DIVOC's certify-handler rules: age or dob must be present, age is computed
/// from dob when `today` is known, and the age must be a whole number of at least 0.
fn apply_age_rules(
    reader: &mut Reader,
    age: &mut Option<String>,
    dob: Option<Date>,
    path: &str,
    today: Option<Date>,
) {
    match (age.as_deref(), dob) {
        (None, None) => reader.push(path.to_owned(), Problem::MissingAgeAndDob),
        (Some(given), _) => {
            if parse_age(given).is_none_or(|years| years < 0) {
                let problem = Problem::InvalidAgeOrDob {
                    value: given.to_owned(),
                };
                reader.push(join(path, "age"), problem);
            }
        }
        (None, Some(dob)) => {
            let Some(today) = today else { return };
            let years = whole_years(dob, today);
            if years < 0 {
                let value = format_date(dob);
                reader.push(join(path, "dob"), Problem::InvalidAgeOrDob { value });
            } else {
                *age = Some(years.to_string());
            }
        }
    }
}

/// Parses an age string as Go's `strconv.Atoi` does: an optional sign and decimal digits
/// that fit in 64 bits.
pub(crate) fn parse_age(age: &str) -> Option<i64> {
    age.parse().ok()
}

/// Address rules that differ between recipient and facility in DIVOC's schema.
#[derive(Clone, Copy)]
struct AddressRules {
    pincode_min_length: usize,
}

impl AddressRules {
    const RECIPIENT: Self = Self {
        pincode_min_length: 0,
    };
    const FACILITY: Self = Self {
        pincode_min_length: 1,
    };
}

/// Reads the `address` member of `object`. Returns `Some(None)` when an optional address
/// is absent, and `None` after an error.
fn read_address_field(
    reader: &mut Reader,
    object: &Map<String, Value>,
    path: &str,
    required: bool,
    rules: AddressRules,
) -> Option<Option<Address>> {
    let field = if required {
        reader.required_object(object, path, "address")
    } else {
        match reader.optional_object(object, path, "address") {
            Some(field) => Some(field),
            None if reader.has_error_at(&join(path, "address")) => None,
            None => return Some(None),
        }
    };
    let (address, address_path) = field?;
    read_address(reader, address, &address_path, rules).map(Some)
}

fn read_address(
    reader: &mut Reader,
    object: &Map<String, Value>,
    path: &str,
    rules: AddressRules,
) -> Option<Address> {
    let address_line1 = reader.required_string(object, path, "addressLine1", 0);
    let address_line2 = reader.optional_string(object, path, "addressLine2", 0);
    let district = reader.required_string(object, path, "district", 1);
    let city = reader.optional_string(object, path, "city", 0);
    let state = reader.required_string(object, path, "state", 1);
    let country = reader.optional_string(object, path, "country", 2);
    let pincode = reader.required_string(object, path, "pincode", rules.pincode_min_length);
    Some(Address {
        address_line1: address_line1?,
        address_line2,
        district: district?,
        city,
        state: state?,
        country,
        pincode: pincode?,
    })
}

fn read_vaccination(
    reader: &mut Reader,
    object: &Map<String, Value>,
    path: &str,
) -> Option<Vaccination> {
    let name = reader.required_string(object, path, "name", 0);
    let batch = reader.optional_string(object, path, "batch", 0);
    let manufacturer = reader.required_string(object, path, "manufacturer", 0);
    let date = reader.required_date_time(object, path, "date");
    let effective_start = reader.required_date(object, path, "effectiveStart");
    let effective_until = reader.required_date(object, path, "effectiveUntil");
    let dose = reader.required_dose(object, path, "dose");
    let total_doses = reader.required_dose(object, path, "totalDoses");
    Some(Vaccination {
        name: name?,
        batch,
        manufacturer: manufacturer?,
        date: date?,
        effective_start: effective_start?,
        effective_until: effective_until?,
        dose: dose?,
        total_doses: total_doses?,
    })
}

/// Reads `vaccinator`. Returns `Some(None)` when an optional vaccinator is absent, and
/// `None` after an error.
fn read_vaccinator(
    reader: &mut Reader,
    object: &Map<String, Value>,
    path: &str,
    required: bool,
) -> Option<Option<Vaccinator>> {
    let field = if required {
        reader.required_object(object, path, "vaccinator")
    } else {
        match reader.optional_object(object, path, "vaccinator") {
            Some(field) => Some(field),
            None if reader.has_error_at(&join(path, "vaccinator")) => None,
            None => return Some(None),
        }
    };
    let (vaccinator, vaccinator_path) = field?;
    let name = reader.required_string(vaccinator, &vaccinator_path, "name", 1)?;
    Some(Some(Vaccinator { name }))
}

fn read_facility(
    reader: &mut Reader,
    object: &Map<String, Value>,
    path: &str,
    strict: bool,
) -> Option<Facility> {
    let name = reader.required_string(object, path, "name", 1);
    let address = read_address_field(reader, object, path, strict, AddressRules::FACILITY);
    Some(Facility {
        name: name?,
        address: address?,
    })
}
