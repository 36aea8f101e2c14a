//! Building the unsigned W3C verifiable credential from a certification request.

use serde_json::{Map, Value, json};
use time::OffsetDateTime;

use super::config::{IssuerConfig, Shape};
use super::datetime::{format_date, format_date_time, format_iso_utc_millis, whole_years};
use super::error::BuildError;
use super::id::CertificateId;
use super::iri::{is_absolute_iri, percent_encode_local_part};
use super::parse::parse_age;
use super::request::{Address, CertificationRequest, Vaccination};
use super::vaccines::VaccineTable;

const CREDENTIALS_CONTEXT: &str = "https://www.w3.org/2018/credentials/v1";

/// Builds the unsigned credential for `request`, with the structure, key order and
/// defaults of DIVOC 1.24's certificate signer, so the JSON text matches DIVOC's for
/// the same input.
///
/// Differences from DIVOC:
/// - A `recipient.identity` that is not an absolute IRI becomes `<DID>:<identity>`, or
///   `<DID>:<preEnrollmentCode>` when the identity matches the rejection pattern, as
///   DIVOC does from 2022. In that local part, whitespace, control characters,
///   `"<>\^`{|}` and `%` are percent-encoded, so the id stays absolute.
/// - `address.city` is emitted when the request has it, and `""` otherwise.
/// - A missing age is computed from `dob` in whole years at the issuance date (UTC).
/// - A missing vaccinator, gender or address (allowed by the `certifyV3` request rules)
///   gives `""` values and the configured default country.
/// - A `certifyV3` recipient with neither identity nor nationality (a request DIVOC's
///   schema refuses) gets the compact subject of Jamaica's credentials: `type`, `id`,
///   `refId`, `name`, `gender` and `dob` only. Its `id` is `<DID>:<preEnrollmentCode>`
///   rather than the empty string of Jamaica's samples, so that the holder's fields are
///   part of the signed data.
///
/// # Errors
/// Returns an error when the subject id, `issuer` or `evidence[0].id` would not be an
/// absolute IRI, when the issuance year is outside 0000–9999, or when the age must be
/// computed from a `dob` after the issuance date.
pub fn build_credential(
    request: &CertificationRequest,
    config: &IssuerConfig,
    vaccines: &VaccineTable,
    shape: Shape,
    certificate_id: &CertificateId,
    issuance_date: OffsetDateTime,
) -> Result<Value, BuildError> {
    let Some(issuance) = format_iso_utc_millis(issuance_date) else {
        let year = issuance_date.year();
        return Err(BuildError::IssuanceYearOutOfRange { year });
    };
    require_absolute_iri("issuer", &config.issuer)?;
    let subject = credential_subject(request, config, shape, issuance_date)?;
    let evidence = evidence(request, config, vaccines, shape, certificate_id)?;

    let mut credential = Map::new();
    let contexts = json!([CREDENTIALS_CONTEXT, shape.context_url(config)]);
    put(&mut credential, "@context", contexts);
    let types = json!(["VerifiableCredential", "ProofOfVaccinationCredential"]);
    put(&mut credential, "type", types);
    put(&mut credential, "credentialSubject", subject);
    put(&mut credential, "issuer", config.issuer.as_str());
    put(&mut credential, "issuanceDate", issuance);
    put(&mut credential, "evidence", vec![evidence]);
    put(&mut credential, "nonTransferable", "true");
    Ok(Value::Object(credential))
}

fn require_absolute_iri(field: &'static str, value: &str) -> Result<(), BuildError> {
    if is_absolute_iri(value) {
        Ok(())
    } else {
        Err(BuildError::NotAbsoluteIri {
            field,
            value: value.to_owned(),
        })
    }
}

fn credential_subject(
    request: &CertificationRequest,
    config: &IssuerConfig,
    shape: Shape,
    issuance_date: OffsetDateTime,
) -> Result<Value, BuildError> {
    let recipient = &request.recipient;
    let age = subject_age(request, issuance_date)?;
    if shape == Shape::V3 && recipient.identity.is_empty() && recipient.nationality.is_empty() {
        let mut subject = Map::new();
        put(&mut subject, "type", "Person");
        put(&mut subject, "id", subject_id(request, config)?);
        put(&mut subject, "refId", request.pre_enrollment_code.as_str());
        put(&mut subject, "name", recipient.name.as_str());
        put(
            &mut subject,
            "gender",
            recipient.gender.as_deref().unwrap_or(""),
        );
        let dob = subject_dob(request, &age, issuance_date);
        put(&mut subject, "dob", dob);
        return Ok(Value::Object(subject));
    }
    let address = address(
        recipient.address.as_ref(),
        &config.default_recipient_country,
    );

    let mut subject = Map::new();
    put(&mut subject, "type", "Person");
    put(&mut subject, "id", subject_id(request, config)?);
    put(&mut subject, "refId", request.pre_enrollment_code.as_str());
    put(&mut subject, "name", recipient.name.as_str());
    put(
        &mut subject,
        "gender",
        recipient.gender.as_deref().unwrap_or(""),
    );
    put(&mut subject, "age", age.as_str());
    put(&mut subject, "nationality", recipient.nationality.as_str());
    put(&mut subject, "address", address);
    if shape == Shape::V3 {
        put(
            &mut subject,
            "dob",
            subject_dob(request, &age, issuance_date),
        );
    }
    Ok(Value::Object(subject))
}

/// Returns `credentialSubject.id`: the identity when it is an absolute IRI, otherwise
/// `<DID>:<identity>`, or `<DID>:<preEnrollmentCode>` for an empty or rejected identity.
fn subject_id(request: &CertificationRequest, config: &IssuerConfig) -> Result<String, BuildError> {
    let identity = request.recipient.identity.as_str();
    if is_absolute_iri(identity) {
        return Ok(identity.to_owned());
    }
    let local_part = if identity.is_empty() || config.identity_rejection_pattern.is_match(identity)
    {
        request.pre_enrollment_code.as_str()
    } else {
        identity
    };
    let id = format!("{}:{}", config.did, percent_encode_local_part(local_part));
    require_absolute_iri("credentialSubject.id", &id)?;
    Ok(id)
}

/// Returns the age as sent, or whole years from `dob` to the issuance date, or `""`
/// when the request has neither (as DIVOC's signer emits).
fn subject_age(
    request: &CertificationRequest,
    issuance_date: OffsetDateTime,
) -> Result<String, BuildError> {
    let recipient = &request.recipient;
    if let Some(age) = &recipient.age {
        return Ok(age.clone());
    }
    let Some(dob) = recipient.dob else {
        return Ok(String::new());
    };
    let issued = utc_date(issuance_date);
    let years = whole_years(dob, issued);
    if years < 0 {
        return Err(BuildError::DobAfterIssuance { dob, issued });
    }
    Ok(years.to_string())
}

/// Returns the `certifyV3` `dob`: the date of birth if its year is after 1900, otherwise
/// 1 January of (issuance year − age) if the age is above 0, otherwise `""`.
fn subject_dob(request: &CertificationRequest, age: &str, issuance_date: OffsetDateTime) -> String {
    if let Some(dob) = request.recipient.dob.filter(|dob| dob.year() > 1900) {
        return format_date(dob);
    }
    let birth_year = parse_age(age)
        .filter(|years| *years > 0)
        .map(|years| i64::from(utc_date(issuance_date).year()) - years);
    match birth_year {
        // NOTE: DIVOC prints the year without zero padding; this pads to four digits and
        // emits "" for ages that would give a year before 0000.
        Some(year) if year >= 0 => format!("{year:04}-01-01"),
        _ => String::new(),
    }
}

fn utc_date(date_time: OffsetDateTime) -> time::Date {
    date_time.to_offset(time::UtcOffset::UTC).date()
}

/// Maps a request address to the credential's seven address keys, in DIVOC's order.
fn address(address: Option<&Address>, default_country: &str) -> Value {
    let text = |value: Option<&str>| Value::from(value.unwrap_or(""));
    let country = address
        .and_then(|address| address.country.as_deref())
        .unwrap_or(default_country);
    json!({
        "streetAddress": text(address.map(|a| a.address_line1.as_str())),
        "streetAddress2": text(address.and_then(|a| a.address_line2.as_deref())),
        "district": text(address.map(|a| a.district.as_str())),
        "city": text(address.and_then(|a| a.city.as_deref())),
        "addressRegion": text(address.map(|a| a.state.as_str())),
        "addressCountry": country,
        "postalCode": text(address.map(|a| a.pincode.as_str())),
    })
}

fn evidence(
    request: &CertificationRequest,
    config: &IssuerConfig,
    vaccines: &VaccineTable,
    shape: Shape,
    certificate_id: &CertificateId,
) -> Result<Value, BuildError> {
    let id = format!("{}{certificate_id}", config.certificate_base_url);
    require_absolute_iri("evidence[0].id", &id)?;

    let mut evidence = Map::new();
    put(&mut evidence, "id", id);
    if config.include_info_url {
        let info_url = format!("{}{certificate_id}", config.info_base_url);
        put(&mut evidence, "infoUrl", info_url);
    }
    put(&mut evidence, "certificateId", certificate_id.as_str());
    put(&mut evidence, "type", json!(["Vaccination"]));
    put_vaccination(&mut evidence, &request.vaccination);

    let verifier = request.vaccinator.as_ref().map_or("", |v| v.name.as_str());
    put(&mut evidence, "verifier", json!({ "name": verifier }));
    put(&mut evidence, "facility", facility(request, config));
    if config.include_feedback_url {
        let feedback_url = format!("{}{certificate_id}", config.feedback_base_url);
        put(&mut evidence, "feedbackUrl", feedback_url);
    }
    if shape == Shape::V3 {
        put_icd11(&mut evidence, vaccines, &request.vaccination.name);
    }
    Ok(Value::Object(evidence))
}

fn put(object: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    object.insert(key.to_owned(), value.into());
}

/// Inserts the vaccination keys from `batch` to `totalDoses`, in DIVOC's order.
fn put_vaccination(evidence: &mut Map<String, Value>, vaccination: &Vaccination) {
    put(
        evidence,
        "batch",
        vaccination.batch.as_deref().unwrap_or(""),
    );
    put(evidence, "vaccine", vaccination.name.as_str());
    put(evidence, "manufacturer", vaccination.manufacturer.as_str());
    put(evidence, "date", format_date_time(vaccination.date));
    put(
        evidence,
        "effectiveStart",
        format_date(vaccination.effective_start),
    );
    put(
        evidence,
        "effectiveUntil",
        format_date(vaccination.effective_until),
    );
    put(evidence, "dose", vaccination.dose.to_json());
    put(evidence, "totalDoses", vaccination.total_doses.to_json());
}

/// Inserts `icd11Code` and `prophylaxis`, both `""` when the vaccine has no mapping.
fn put_icd11(evidence: &mut Map<String, Value>, vaccines: &VaccineTable, vaccine_name: &str) {
    let code = vaccines.lookup(vaccine_name);
    let icd11_code = code.map_or("", |code| code.icd11_code);
    let prophylaxis = code.and_then(|code| code.prophylaxis).unwrap_or("");
    put(evidence, "icd11Code", icd11_code);
    put(evidence, "prophylaxis", prophylaxis);
}

fn facility(request: &CertificationRequest, config: &IssuerConfig) -> Value {
    let facility = &request.facility;
    let address = address(facility.address.as_ref(), &config.default_facility_country);
    json!({ "name": facility.name.as_str(), "address": address })
}
