//! Offline verification of signed credentials, with a typed outcome.
//!
//! The outcome keeps "could not verify" (the input could not be read, or no trusted key or
//! supported proof applies) apart from "invalid" (a trusted key's signature does not match,
//! or the certificate is revoked or expired). Neither is ever a bare `bool`.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::jsonld::{Coverage, JsonLdError, Processor};
use crate::keys::{KeyId, TrustStore};
use crate::proof::{ASSERTION_METHOD, Proof, ProofError, ProofType, signing_input};

/// Reasons a credential could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CouldNotVerify {
    /// No QR code could be read from the image.
    #[error("unreadable QR code: {0}")]
    UnreadableQr(String),
    /// The input is in none of the supported formats.
    #[error("not a supported certificate format: {0}")]
    UnsupportedFormat(String),
    /// The payload is not a JSON object.
    #[error("malformed credential JSON: {0}")]
    MalformedJson(String),
    /// The credential has no proof, or its proof is malformed.
    #[error("{0}")]
    Proof(ProofError),
    /// The proof type is not supported.
    #[error("unsupported proof type {0:?}")]
    UnsupportedProofType(String),
    /// No trusted key for the proof's `verificationMethod`.
    #[error(
        "no trusted {proof_type} key for verificationMethod {verification_method:?}; add the \
         issuer's public key to the trust store"
    )]
    UntrustedKey {
        /// The proof's `verificationMethod`.
        verification_method: String,
        /// The proof type, which decides the key type needed.
        proof_type: ProofType,
    },
    /// The credential cannot be canonicalized (for example an undefined property).
    #[error("the credential cannot be canonicalized: {0}")]
    Canonicalization(JsonLdError),
    /// The revocation status could not be checked.
    #[error("the revocation status could not be checked: {0}")]
    RevocationUnavailable(String),
}

/// Reasons a verified credential is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Invalid {
    /// No trusted key's signature matches: the credential was altered or signed by another key.
    #[error("the signature does not match the credential")]
    BadSignature,
    /// The proof's purpose is not `assertionMethod`.
    #[error("the proof purpose {0:?} is not assertionMethod")]
    WrongProofPurpose(String),
    /// The issuer revoked the certificate.
    #[error("the certificate was revoked{}", .reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Revoked {
        /// The reason the issuer gave, if any.
        reason: Option<String>,
    },
    /// The certificate's validity has ended.
    #[error("the certificate expired on {0}")]
    Expired(String),
    /// Displayed vaccination or issuer fields are not covered by the signature: the JSON
    /// contains values that drop out of the signed JSON-LD data, as when a relative `id` is
    /// slipped in next to the signed nodes.
    #[error("these fields are not covered by the signature: {}", .0.join(", "))]
    UnsignedContent(Vec<String>),
    /// Members are keyed by IRIs instead of terms of the credential's context, which can
    /// place signed data beside unsigned look-alikes; issuers never write such members.
    #[error("members keyed by IRIs instead of context terms: {}", .0.join(", "))]
    IriMembers(Vec<String>),
}

/// A revocation status source, such as a downloaded revocation list or an online check.
pub trait RevocationCheck {
    /// Returns `Ok(Some(reason))` when revoked, `Ok(None)` when not, and `Err` with a
    /// message when the status cannot be determined.
    fn revoked(&self, credential: &Map<String, Value>) -> Result<Option<Option<String>>, String>;
}

/// Settings of a verification.
#[derive(Clone, Debug)]
pub struct VerifyOptions {
    /// Try every trusted key of the proof's type, whatever its id. Real DIVOC deployments
    /// have signed with their own key while naming another DID as `verificationMethod`.
    pub any_key: bool,
    /// The current time for expiry checks; `None` skips them.
    pub now: Option<OffsetDateTime>,
    /// Also treat `evidence[].effectiveUntil` as an expiry date (DIVOC verifiers do not).
    pub enforce_effective_until: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            any_key: false,
            now: Some(OffsetDateTime::now_utc()),
            enforce_effective_until: false,
        }
    }
}

/// The result of verifying a credential.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Outcome {
    /// Authentic, not revoked, not expired.
    Valid {
        /// The credential.
        credential: Map<String, Value>,
        /// The trusted key whose signature matched (its id, if it has one).
        key_id: Option<KeyId>,
        /// The proof type.
        proof_type: ProofType,
        /// Holder fields (such as `name`, `dob`) shown by [`Summary`] that the signature does
        /// not cover. DIVOC signs none of them when `credentialSubject.id` is not an absolute
        /// IRI, as in credentials with an empty id; such values must not be trusted.
        unsigned: Vec<String>,
    },
    /// Verified and found invalid.
    Invalid {
        /// Why.
        reason: Invalid,
        /// The credential as read.
        credential: Map<String, Value>,
    },
    /// Could not be verified.
    CouldNotVerify {
        /// Why.
        reason: CouldNotVerify,
        /// The credential, when it could be read.
        credential: Option<Map<String, Value>>,
    },
}

impl Outcome {
    /// The credential, when it could be read.
    pub fn credential(&self) -> Option<&Map<String, Value>> {
        match self {
            Outcome::Valid { credential, .. } | Outcome::Invalid { credential, .. } => {
                Some(credential)
            }
            Outcome::CouldNotVerify { credential, .. } => credential.as_ref(),
        }
    }

    /// Whether the credential is valid.
    pub fn is_valid(&self) -> bool {
        matches!(self, Outcome::Valid { .. })
    }
}

/// Verifies a credential given as JSON text.
pub fn verify_json(
    processor: &Processor,
    trust: &TrustStore,
    json: &[u8],
    options: &VerifyOptions,
    revocation: Option<&dyn RevocationCheck>,
) -> Outcome {
    match serde_json::from_slice::<Value>(json) {
        Ok(Value::Object(credential)) => {
            verify_credential(processor, trust, credential, options, revocation)
        }
        Ok(_) => could_not(
            CouldNotVerify::MalformedJson("not a JSON object".into()),
            None,
        ),
        Err(error) => could_not(CouldNotVerify::MalformedJson(error.to_string()), None),
    }
}

fn could_not(reason: CouldNotVerify, credential: Option<Map<String, Value>>) -> Outcome {
    Outcome::CouldNotVerify { reason, credential }
}

/// Verifies a parsed credential: its proof against the trust store, then its expiry and,
/// when a source is given, its revocation status.
pub fn verify_credential(
    processor: &Processor,
    trust: &TrustStore,
    credential: Map<String, Value>,
    options: &VerifyOptions,
    revocation: Option<&dyn RevocationCheck>,
) -> Outcome {
    let proof = match credential.get("proof").map(Proof::parse) {
        None => return could_not(CouldNotVerify::Proof(ProofError::Missing), Some(credential)),
        Some(Err(ProofError::UnsupportedType(name))) => {
            return could_not(CouldNotVerify::UnsupportedProofType(name), Some(credential));
        }
        Some(Err(ProofError::BadJws(_))) => {
            let reason = Invalid::BadSignature;
            return Outcome::Invalid { reason, credential };
        }
        Some(Err(error)) => return could_not(CouldNotVerify::Proof(error), Some(credential)),
        Some(Ok(proof)) => proof,
    };
    let key_id = match check_signature(processor, trust, &credential, &proof, options.any_key) {
        Ok(key_id) => key_id,
        Err(Ok(reason)) => return Outcome::Invalid { reason, credential },
        Err(Err(reason)) => return could_not(reason, Some(credential)),
    };
    let coverage = match processor.coverage(&credential, Some("proof")) {
        Ok(coverage) => coverage,
        Err(error) => return could_not(CouldNotVerify::Canonicalization(error), Some(credential)),
    };
    if !coverage.iri_keys.is_empty() {
        let reason = Invalid::IriMembers(coverage.iri_keys);
        return Outcome::Invalid { reason, credential };
    }
    let unsigned = unsigned_fields(&coverage, &credential);
    let (holder, other): (Vec<String>, Vec<String>) = unsigned
        .into_iter()
        .partition(|field| HOLDER_FIELDS.contains(&field.as_str()));
    if !other.is_empty() {
        let reason = Invalid::UnsignedContent(other);
        return Outcome::Invalid { reason, credential };
    }
    if let Some(reason) = expiry(&credential, options) {
        return Outcome::Invalid { reason, credential };
    }
    if let Some(check) = revocation {
        match check.revoked(&credential) {
            Ok(Some(reason)) => {
                let reason = Invalid::Revoked { reason };
                return Outcome::Invalid { reason, credential };
            }
            Ok(None) => {}
            Err(message) => {
                return could_not(
                    CouldNotVerify::RevocationUnavailable(message),
                    Some(credential),
                );
            }
        }
    }
    Outcome::Valid {
        credential,
        key_id,
        proof_type: proof.options.proof_type,
        unsigned: holder,
    }
}

/// Summary fields that describe the holder rather than the vaccination.
const HOLDER_FIELDS: [&str; 4] = ["name", "age", "dob", "gender"];

/// The [`Summary`] fields with a value that the signed dataset does not contain.
fn unsigned_fields(coverage: &Coverage, credential: &Map<String, Value>) -> Vec<String> {
    Summary::fields(credential)
        .into_iter()
        .filter(|field| !field.value.is_empty() && !coverage.signed.contains(&field.pointer))
        .map(|field| field.name.to_owned())
        .collect()
}

/// Checks the proof; `Err(Ok(_))` is invalid, `Err(Err(_))` could not verify.
fn check_signature(
    processor: &Processor,
    trust: &TrustStore,
    credential: &Map<String, Value>,
    proof: &Proof,
    any_key: bool,
) -> Result<Option<KeyId>, Result<Invalid, CouldNotVerify>> {
    let options = &proof.options;
    let candidates: Vec<_> = trust
        .candidates(&options.verification_method, any_key)
        .into_iter()
        .filter(|key| key.key.proof_type() == options.proof_type)
        .collect();
    if candidates.is_empty() {
        return Err(Err(CouldNotVerify::UntrustedKey {
            verification_method: options.verification_method.clone(),
            proof_type: options.proof_type,
        }));
    }
    if options.proof_purpose != ASSERTION_METHOD {
        return Err(Ok(Invalid::WrongProofPurpose(
            options.proof_purpose.clone(),
        )));
    }
    let input = signing_input(processor, options, credential)
        .map_err(|e| Err(CouldNotVerify::Canonicalization(e)))?;
    candidates
        .iter()
        .find(|key| key.key.verify(&input, &proof.signature))
        .map(|key| key.id.clone())
        .ok_or(Ok(Invalid::BadSignature))
}

fn expiry(credential: &Map<String, Value>, options: &VerifyOptions) -> Option<Invalid> {
    let now = options.now?;
    let mut limits: Vec<&str> = Vec::new();
    if let Some(date) = credential.get("expirationDate").and_then(Value::as_str) {
        limits.push(date);
    }
    if options.enforce_effective_until {
        let evidence = credential.get("evidence").and_then(Value::as_array);
        for item in evidence.into_iter().flatten() {
            if let Some(date) = item.get("effectiveUntil").and_then(Value::as_str) {
                limits.push(date);
            }
        }
    }
    limits
        .into_iter()
        .find(|limit| end_of(limit).is_some_and(|end| end < now))
        .map(|limit| Invalid::Expired(limit.to_owned()))
}

/// The end of validity of an RFC 3339 date-time, or of a `YYYY-MM-DD` day (its last instant).
fn end_of(limit: &str) -> Option<OffsetDateTime> {
    if let Ok(time) = OffsetDateTime::parse(limit, &Rfc3339) {
        return Some(time);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let day = time::Date::parse(limit, &format).ok()?;
    day.next_day().map(|next| next.midnight().assume_utc())
}

/// Verifies a certificate given in any supported form: a QR image (PNG or JPEG), ZIP bytes
/// (raw or DIVOC's Latin-1-as-UTF-8 form), `B64:` text, or credential JSON.
pub fn verify_input(
    processor: &Processor,
    trust: &TrustStore,
    input: &[u8],
    options: &VerifyOptions,
    revocation: Option<&dyn RevocationCheck>,
) -> Outcome {
    use crate::qr::{QrError, decode_credential};
    match decode_credential(input) {
        Ok(decoded) => verify_json(processor, trust, &decoded.json, options, revocation),
        Err(
            error @ (QrError::InvalidImage { .. }
            | QrError::ImageTooLarge { .. }
            | QrError::QrNotFound),
        ) => could_not(CouldNotVerify::UnreadableQr(error.to_string()), None),
        Err(error) => could_not(CouldNotVerify::UnsupportedFormat(error.to_string()), None),
    }
}

/// The fields a verifier shows, read from the credential as DIVOC's verifier app reads them.
/// Missing fields are empty strings; numbers are shown as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Summary {
    /// `credentialSubject.name`.
    pub name: String,
    /// `credentialSubject.age`.
    pub age: String,
    /// `credentialSubject.dob`.
    pub dob: String,
    /// `credentialSubject.gender`.
    pub gender: String,
    /// `evidence[0].certificateId`.
    pub certificate_id: String,
    /// `evidence[0].vaccine`.
    pub vaccine: String,
    /// `evidence[0].prophylaxis` (the vaccine type).
    pub prophylaxis: String,
    /// `evidence[0].date`.
    pub date: String,
    /// `evidence[0].effectiveStart` (date of issue).
    pub effective_start: String,
    /// `evidence[0].effectiveUntil` (valid until).
    pub effective_until: String,
    /// `evidence[0].dose`.
    pub dose: String,
    /// `evidence[0].totalDoses`.
    pub total_doses: String,
    /// `evidence[0].facility.name`.
    pub facility: String,
    /// `issuer`, or its `id` when it is an object.
    pub issuer: String,
}

/// One displayed value and where it is in the credential JSON.
struct Field {
    name: &'static str,
    pointer: String,
    value: String,
}

fn text_of(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Number(number)) => number.to_string(),
        Some(Value::Bool(flag)) => flag.to_string(),
        _ => String::new(),
    }
}

impl Summary {
    /// Reads the displayed fields of a credential.
    pub fn of(credential: &Map<String, Value>) -> Self {
        let mut summary = Summary::default();
        for field in Summary::fields(credential) {
            let slot = match field.name {
                "name" => &mut summary.name,
                "age" => &mut summary.age,
                "dob" => &mut summary.dob,
                "gender" => &mut summary.gender,
                "certificateId" => &mut summary.certificate_id,
                "vaccine" => &mut summary.vaccine,
                "prophylaxis" => &mut summary.prophylaxis,
                "date" => &mut summary.date,
                "effectiveStart" => &mut summary.effective_start,
                "effectiveUntil" => &mut summary.effective_until,
                "dose" => &mut summary.dose,
                "totalDoses" => &mut summary.total_doses,
                "facility" => &mut summary.facility,
                _ => &mut summary.issuer,
            };
            *slot = field.value;
        }
        summary
    }

    /// The displayed fields with their JSON pointers: the subject's and the first evidence
    /// entry's members, the facility name and the issuer (a string or an object's `id`).
    fn fields(credential: &Map<String, Value>) -> Vec<Field> {
        let mut fields = Vec::new();
        let mut add = |name: &'static str, pointer: String| {
            let value = text_of(credential_pointer(credential, &pointer));
            fields.push(Field {
                name,
                pointer,
                value,
            });
        };
        for name in HOLDER_FIELDS {
            add(name, format!("/credentialSubject/{name}"));
        }
        let evidence = match credential.get("evidence") {
            Some(Value::Array(_)) => "/evidence/0",
            _ => "/evidence",
        };
        for name in [
            "certificateId",
            "vaccine",
            "prophylaxis",
            "date",
            "effectiveStart",
            "effectiveUntil",
            "dose",
            "totalDoses",
        ] {
            add(name, format!("{evidence}/{name}"));
        }
        add("facility", format!("{evidence}/facility/name"));
        match credential.get("issuer") {
            Some(Value::Object(_)) => add("issuer", "/issuer/id".to_owned()),
            _ => add("issuer", "/issuer".to_owned()),
        }
        fields
    }
}

fn credential_pointer<'a>(credential: &'a Map<String, Value>, pointer: &str) -> Option<&'a Value> {
    let mut tokens = pointer.trim_start_matches('/').split('/');
    let first = credential.get(tokens.next()?)?;
    tokens.try_fold(first, |value, token| match value {
        Value::Array(items) => items.get(token.parse::<usize>().ok()?),
        Value::Object(map) => map.get(token),
        _ => None,
    })
}
