//! The fields a certificate template prints, read from a signed credential.
//!
//! Everything comes from the credential's `credentialSubject` and `evidence[0]`, so any
//! stored or downloaded credential renders, DIVOC-issued ones included. Missing fields
//! become empty strings, because DIVOC credentials leave many of them out or empty.

use serde::Serialize;
use serde_json::Value;
use time::PrimitiveDateTime;
use time::format_description::well_known::Rfc3339;

use crate::RenderError;

/// Maximum number of earlier doses listed in the table, so the page stays one page.
pub const MAX_EARLIER_DOSES: usize = 10;

/// The kind of certificate, which selects the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateKind {
    /// Proof of vaccination (`ProofOfVaccinationCredential`).
    Vaccination,
    /// Proof of a test (`ProofOfTestCertificateCredential`).
    Test,
}

impl CertificateKind {
    /// Returns the name used in template file names (`vaccination`, `test`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Vaccination => "vaccination",
            Self::Test => "test",
        }
    }
}

/// A signed credential to render, with the beneficiary's earlier doses.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub(crate) credential_json: String,
    pub(crate) kind: CertificateKind,
    pub(crate) data: CertificateData,
    /// Modification time written into the QR code's ZIP entry.
    pub(crate) zip_modified: PrimitiveDateTime,
    /// Issuance date, for the PDF creation date.
    pub(crate) issued: time::Date,
}

/// Template input: the JSON that templates read from `/certificate.json`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CertificateData {
    pub(crate) certificate_id: String,
    pub(crate) issuer: String,
    pub(crate) issuance_date: String,
    pub(crate) name: String,
    pub(crate) dob: String,
    pub(crate) age: String,
    pub(crate) gender: String,
    pub(crate) ref_id: String,
    pub(crate) vaccine: String,
    pub(crate) icd11_code: String,
    pub(crate) prophylaxis: String,
    pub(crate) manufacturer: String,
    pub(crate) batch: String,
    pub(crate) date: String,
    pub(crate) dose: String,
    pub(crate) total_doses: String,
    /// `final`, `provisional`, `booster`, or empty when the dose numbers are unknown.
    pub(crate) dose_status: &'static str,
    pub(crate) facility: String,
    pub(crate) vaccinator: String,
    pub(crate) country: String,
    pub(crate) test: TestData,
    pub(crate) earlier_doses: Vec<EarlierDose>,
    /// Number of earlier doses left out of `earlier_doses` past [`MAX_EARLIER_DOSES`].
    pub(crate) earlier_doses_omitted: usize,
}

/// Fields of a test certificate's evidence (DIVOC `TestDetails`).
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TestData {
    pub(crate) test_name: String,
    pub(crate) test_type: String,
    pub(crate) disease: String,
    pub(crate) sample_date: String,
    pub(crate) result: String,
    pub(crate) result_date: String,
}

/// One earlier dose of the beneficiary, a row of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EarlierDose {
    pub(crate) date: String,
    pub(crate) dose: String,
    pub(crate) vaccine: String,
    pub(crate) batch: String,
}

impl Certificate {
    /// Reads a signed credential and the beneficiary's other credentials.
    ///
    /// Of `others`, the credentials with another certificate id and a vaccination date
    /// before this one's (or the same date with a lower dose number) fill the
    /// earlier-dose table, oldest first. The QR code's ZIP entry gets the issuance date
    /// as its modification time; [`Certificate::with_zip_modified`] changes it.
    ///
    /// # Errors
    ///
    /// Returns [`RenderError::InvalidCredential`] naming the field when the JSON is not
    /// an object, has no `evidence[0]` or no `issuanceDate` in RFC 3339 form.
    pub fn from_signed<S: AsRef<str>>(
        credential_json: &str,
        others: &[S],
    ) -> Result<Self, RenderError> {
        let credential = parse_object(credential_json)?;
        let evidence = evidence(&credential)?;
        let issued = issuance_date(&credential)?;
        let kind = kind_of(&credential, evidence);
        let mut data = read_data(&credential, evidence);

        let mut earlier = Vec::new();
        for (index, other) in others.iter().enumerate() {
            let other = parse_object(other.as_ref()).map_err(|error| match error {
                RenderError::InvalidCredential { reason } => RenderError::InvalidCredential {
                    reason: format!("earlier credential {index}: {reason}"),
                },
                other => other,
            })?;
            let Ok(other_evidence) = self::evidence(&other) else {
                continue;
            };
            // Test results and undated records are not doses of this vaccination.
            if kind_of(&other, other_evidence) != CertificateKind::Vaccination {
                continue;
            }
            let dose = read_earlier(other_evidence);
            let other_id = text(other_evidence, "certificateId");
            if !dose.date.is_empty() && other_id != data.certificate_id && is_before(&dose, &data) {
                earlier.push(dose);
            }
        }
        earlier.sort_by(|a, b| {
            a.date
                .cmp(&b.date)
                .then_with(|| dose_number(&a.dose).total_cmp(&dose_number(&b.dose)))
        });
        data.earlier_doses_omitted = earlier.len().saturating_sub(MAX_EARLIER_DOSES);
        earlier.drain(..data.earlier_doses_omitted);
        data.earlier_doses = earlier;

        Ok(Self {
            credential_json: credential_json.to_owned(),
            kind,
            data,
            zip_modified: PrimitiveDateTime::new(issued.date(), issued.time()),
            issued: issued.date(),
        })
    }

    /// Returns a fictional certificate of `kind` with every field the bundled templates
    /// print (a vaccination's second dose has its first as an earlier dose), for checking
    /// templates before real certificates arrive.
    pub fn sample(kind: CertificateKind) -> Self {
        let (credential, others) = match kind {
            CertificateKind::Test => (sample_credential(sample_test_evidence()), Vec::new()),
            CertificateKind::Vaccination => (
                sample_credential(sample_dose("000000002", 2, "2021-05-01")),
                vec![sample_credential(sample_dose("000000001", 1, "2021-04-01")).to_string()],
            ),
        };
        Self::from_signed(&credential.to_string(), &others)
            .expect("the sample credential has every required field")
    }

    /// Sets the modification time of the QR code's ZIP entry, so the QR code matches
    /// one made elsewhere (the server uses the time it stored the certificate).
    pub fn with_zip_modified(mut self, modified: PrimitiveDateTime) -> Self {
        self.zip_modified = modified;
        self
    }

    /// Returns every text the templates print from the credential, earlier doses included.
    pub(crate) fn text_fields(&self) -> impl Iterator<Item = &str> {
        let data = &self.data;
        let test = &data.test;
        [
            &data.certificate_id,
            &data.issuer,
            &data.name,
            &data.gender,
            &data.ref_id,
            &data.vaccine,
            &data.prophylaxis,
            &data.manufacturer,
            &data.batch,
            &data.facility,
            &data.vaccinator,
            &data.country,
            &test.test_name,
            &test.test_type,
            &test.disease,
            &test.result,
        ]
        .into_iter()
        .map(String::as_str)
        .chain(
            data.earlier_doses
                .iter()
                .flat_map(|dose| [dose.vaccine.as_str(), dose.batch.as_str()]),
        )
    }

    /// Returns the certificate kind, read from the credential's `type`.
    pub fn kind(&self) -> CertificateKind {
        self.kind
    }

    /// Returns `evidence[0].certificateId`, possibly empty.
    pub fn certificate_id(&self) -> &str {
        &self.data.certificate_id
    }

    /// Returns the number of rows in the earlier-dose table.
    pub fn earlier_dose_count(&self) -> usize {
        self.data.earlier_doses.len()
    }
}

fn parse_object(json: &str) -> Result<Value, RenderError> {
    let value: Value =
        serde_json::from_str(json).map_err(|error| RenderError::InvalidCredential {
            reason: format!("not JSON: {error}"),
        })?;
    if value.is_object() {
        Ok(value)
    } else {
        Err(RenderError::InvalidCredential {
            reason: "expected a JSON object".into(),
        })
    }
}

fn evidence(credential: &Value) -> Result<&Value, RenderError> {
    credential
        .get("evidence")
        .and_then(|evidence| evidence.get(0))
        .filter(|evidence| evidence.is_object())
        .ok_or_else(|| RenderError::InvalidCredential {
            reason: "evidence[0] is missing or not an object".into(),
        })
}

fn issuance_date(credential: &Value) -> Result<time::OffsetDateTime, RenderError> {
    let raw = credential
        .get("issuanceDate")
        .and_then(Value::as_str)
        .unwrap_or("");
    time::OffsetDateTime::parse(raw, &Rfc3339)
        .map(|date| date.to_offset(time::UtcOffset::UTC))
        .map_err(|_| RenderError::InvalidCredential {
            reason: format!("issuanceDate {raw:?} is not an RFC 3339 timestamp"),
        })
}

fn kind_of(credential: &Value, evidence: &Value) -> CertificateKind {
    let has_type = |value: &Value, wanted: &str| match value.get("type") {
        Some(Value::Array(types)) => types.iter().any(|t| t.as_str() == Some(wanted)),
        Some(Value::String(single)) => single == wanted,
        _ => false,
    };
    if has_type(credential, "ProofOfTestCertificateCredential") || has_type(evidence, "TestDetails")
    {
        CertificateKind::Test
    } else {
        CertificateKind::Vaccination
    }
}

fn read_data(credential: &Value, evidence: &Value) -> CertificateData {
    let subject = credential.get("credentialSubject").unwrap_or(&Value::Null);
    let dose = text(evidence, "dose");
    let total_doses = text(evidence, "totalDoses");
    let country = evidence
        .pointer("/facility/address/addressCountry")
        .map(to_text)
        .unwrap_or_default();
    CertificateData {
        certificate_id: text(evidence, "certificateId"),
        issuer: issuer(credential),
        issuance_date: date_part(&text(credential, "issuanceDate")),
        name: text(subject, "name"),
        dob: date_part(&text(subject, "dob")),
        age: text(subject, "age"),
        gender: text(subject, "gender"),
        ref_id: text(subject, "refId"),
        vaccine: text(evidence, "vaccine"),
        icd11_code: text(evidence, "icd11Code"),
        prophylaxis: text(evidence, "prophylaxis"),
        manufacturer: text(evidence, "manufacturer"),
        batch: text(evidence, "batch"),
        date: date_part(&text(evidence, "date")),
        dose_status: dose_status(&dose, &total_doses),
        dose,
        total_doses,
        facility: evidence
            .pointer("/facility/name")
            .map(to_text)
            .unwrap_or_default(),
        vaccinator: evidence
            .pointer("/verifier/name")
            .map(to_text)
            .unwrap_or_default(),
        country,
        test: read_test(evidence),
        earlier_doses: Vec::new(),
        earlier_doses_omitted: 0,
    }
}

fn read_test(evidence: &Value) -> TestData {
    TestData {
        test_name: text(evidence, "testName"),
        test_type: text(evidence, "testType"),
        disease: text(evidence, "disease"),
        sample_date: date_part(&text(evidence, "sampleCollectionTimestamp")),
        result: text(evidence, "result"),
        result_date: date_part(&text(evidence, "resultTimestamp")),
    }
}

fn read_earlier(evidence: &Value) -> EarlierDose {
    EarlierDose {
        date: date_part(&text(evidence, "date")),
        dose: text(evidence, "dose"),
        vaccine: text(evidence, "vaccine"),
        batch: text(evidence, "batch"),
    }
}

/// Returns a sample credential around `evidence`, of the kind its `type` names.
fn sample_credential(evidence: Value) -> Value {
    let credential_type = if evidence["type"][0] == "TestDetails" {
        "ProofOfTestCertificateCredential"
    } else {
        "ProofOfVaccinationCredential"
    };
    serde_json::json!({
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiableCredential", credential_type],
        "credentialSubject": {
            "type": "Person",
            "name": "Sample Beneficiary",
            "gender": "Female",
            "dob": "1990-01-01",
            "refId": "SAMPLE-REF",
        },
        "issuer": "https://issuer.example",
        "issuanceDate": "2021-05-01T10:00:00.000Z",
        "evidence": [evidence],
    })
}

fn sample_facility() -> Value {
    serde_json::json!({ "name": "Sample Health Centre", "address": { "addressCountry": "JAM" } })
}

fn sample_dose(certificate_id: &str, dose: u32, date: &str) -> Value {
    serde_json::json!({
        "type": ["Vaccination"],
        "certificateId": certificate_id,
        "vaccine": "Sample COVID-19 Vaccine",
        "icd11Code": "XM68M6",
        "prophylaxis": "COVID-19 vaccine",
        "manufacturer": "Sample Manufacturer",
        "batch": "SAMPLE-1",
        "date": format!("{date}T09:00:00.000Z"),
        "dose": dose,
        "totalDoses": 2,
        "verifier": { "name": "Sample Vaccinator" },
        "facility": sample_facility(),
    })
}

fn sample_test_evidence() -> Value {
    serde_json::json!({
        "type": ["TestDetails"],
        "certificateId": "000000003",
        "testName": "Sample antigen test",
        "testType": "Antigen",
        "disease": "COVID-19",
        "sampleCollectionTimestamp": "2021-05-01T09:00:00.000Z",
        "resultTimestamp": "2021-05-01T10:00:00.000Z",
        "result": "Negative",
        "verifier": { "name": "Sample Vaccinator" },
        "facility": sample_facility(),
    })
}

/// Returns a dose number for ordering, with values that are not numbers last.
fn dose_number(dose: &str) -> f64 {
    dose.parse::<f64>().unwrap_or(f64::INFINITY)
}

/// Tests whether an earlier-dose row comes before the certificate's own dose: an earlier
/// date, or the same date and a lower dose number.
fn is_before(dose: &EarlierDose, data: &CertificateData) -> bool {
    match dose.date.cmp(&data.date) {
        std::cmp::Ordering::Less => true,
        std::cmp::Ordering::Greater => false,
        std::cmp::Ordering::Equal => match (dose.dose.parse::<f64>(), data.dose.parse::<f64>()) {
            (Ok(earlier), Ok(current)) => earlier < current,
            _ => false,
        },
    }
}

/// Returns `final`, `provisional` or `booster` for the dose against the total, or an
/// empty string when either is not a number.
fn dose_status(dose: &str, total: &str) -> &'static str {
    match (dose.parse::<f64>(), total.parse::<f64>()) {
        (Ok(dose), Ok(total)) if dose > total => "booster",
        (Ok(dose), Ok(total)) if dose < total => "provisional",
        (Ok(_), Ok(_)) => "final",
        _ => "",
    }
}

fn issuer(credential: &Value) -> String {
    match credential.get("issuer") {
        Some(Value::Object(object)) => object.get("id").map(to_text).unwrap_or_default(),
        Some(other) => to_text(other),
        None => String::new(),
    }
}

fn text(object: &Value, key: &str) -> String {
    object.get(key).map(to_text).unwrap_or_default()
}

fn to_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null | Value::Array(_) | Value::Object(_) => String::new(),
    }
}

/// Returns the `YYYY-MM-DD` date at the start of a date or RFC 3339 timestamp as written,
/// without converting through any time zone. Other text is returned unchanged.
pub(crate) fn date_part(value: &str) -> String {
    let bytes = value.as_bytes();
    let is_date = bytes.len() >= 10
        && bytes[..10].iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        });
    if is_date {
        value[..10].to_owned()
    } else {
        value.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_part_keeps_written_date() {
        assert_eq!(date_part("2021-05-01T23:30:00.000-05:00"), "2021-05-01");
        assert_eq!(date_part("1994-11-30"), "1994-11-30");
        assert_eq!(date_part("30/11/1994"), "30/11/1994");
        assert_eq!(date_part(""), "");
    }

    #[test]
    fn dose_status_by_dose_and_total() {
        assert_eq!(dose_status("1", "2"), "provisional");
        assert_eq!(dose_status("2", "2"), "final");
        assert_eq!(dose_status("3", "2"), "booster");
        assert_eq!(dose_status("", ""), "");
    }
}
