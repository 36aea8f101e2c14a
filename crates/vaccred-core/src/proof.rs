//! Linked Data proofs as jsonld-signatures 6 makes them: `Ed25519Signature2018` and
//! `RsaSignature2018` with a detached JWS (RFC 7515 with RFC 7797 `b64: false`).
//!
//! The signed bytes are `ASCII(base64url(header) + ".")` followed by
//! `SHA-256(c14n(proof options)) ‖ SHA-256(c14n(document without proof))`, where the proof
//! options are canonicalized under the security v2 context (not the document's), and c14n is
//! URDNA2015 over the document's RDF.

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::jsonld::{JsonLdError, Processor, SECURITY_V2};

/// The proof purpose DIVOC credentials use.
pub const ASSERTION_METHOD: &str = "assertionMethod";

/// A supported Linked Data proof type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProofType {
    /// Ed25519 signatures, JWS `alg` `EdDSA`.
    Ed25519Signature2018,
    /// RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, JWS `alg` `PS256`.
    RsaSignature2018,
}

impl ProofType {
    /// The proof's `type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            ProofType::Ed25519Signature2018 => "Ed25519Signature2018",
            ProofType::RsaSignature2018 => "RsaSignature2018",
        }
    }

    /// Reads a proof's `type` value.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "Ed25519Signature2018" => Some(ProofType::Ed25519Signature2018),
            "RsaSignature2018" => Some(ProofType::RsaSignature2018),
            _ => None,
        }
    }

    /// The base64url JWS header `{"alg":…,"b64":false,"crit":["b64"]}`, in that member order.
    pub fn jws_header(self) -> &'static str {
        match self {
            // {"alg":"EdDSA","b64":false,"crit":["b64"]}
            ProofType::Ed25519Signature2018 => {
                "eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19"
            }
            // {"alg":"PS256","b64":false,"crit":["b64"]}
            ProofType::RsaSignature2018 => {
                "eyJhbGciOiJQUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19"
            }
        }
    }
}

impl std::fmt::Display for ProofType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The proof options: the proof without its `jws`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofOptions {
    /// The proof type.
    pub proof_type: ProofType,
    /// Creation time, `YYYY-MM-DDTHH:MM:SSZ`.
    pub created: String,
    /// The key identifier.
    pub verification_method: String,
    /// The proof purpose, `assertionMethod` for credentials.
    pub proof_purpose: String,
}

impl ProofOptions {
    /// The options as the JSON-LD document that is canonicalized and hashed.
    fn document(&self) -> Value {
        json!({
            "@context": SECURITY_V2,
            "type": self.proof_type.as_str(),
            "created": self.created,
            "verificationMethod": self.verification_method,
            "proofPurpose": self.proof_purpose,
        })
    }

    /// The proof object with `jws`, in DIVOC's member order.
    pub fn to_proof(&self, jws: String) -> Value {
        json!({
            "type": self.proof_type.as_str(),
            "created": self.created,
            "verificationMethod": self.verification_method,
            "proofPurpose": self.proof_purpose,
            "jws": jws,
        })
    }
}

/// Returns the bytes a proof's JWS signs: the JWS header, `.`, and the two SHA-256 hashes.
///
/// The document's top-level `proof` member, if any, is left out.
///
/// # Errors
///
/// [`JsonLdError`] when either document cannot be canonicalized.
pub fn signing_input(
    processor: &Processor,
    options: &ProofOptions,
    document: &Map<String, Value>,
) -> Result<Vec<u8>, JsonLdError> {
    let key = format!(
        "{}\n{}\n{}\n{}",
        options.proof_type, options.created, options.verification_method, options.proof_purpose
    );
    let options_digest = processor.sha256_memo(&key, &options.document())?;
    let document_nquads = processor.canonize_object(document, Some("proof"))?;
    let header = options.proof_type.jws_header();
    let mut input = Vec::with_capacity(header.len() + 1 + 64);
    input.extend_from_slice(header.as_bytes());
    input.push(b'.');
    input.extend_from_slice(&options_digest);
    input.extend_from_slice(&Sha256::digest(document_nquads.as_bytes()));
    Ok(input)
}

/// Reasons a proof object cannot be read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProofError {
    /// The credential has no `proof` object.
    #[error("the credential has no proof")]
    Missing,
    /// The proof type is not supported.
    #[error("unsupported proof type {0:?}; supported: Ed25519Signature2018, RsaSignature2018")]
    UnsupportedType(String),
    /// A member of the proof is missing or malformed.
    #[error("invalid proof: {0}")]
    Malformed(String),
    /// The `jws` is not a detached JWS of the proof type: an altered or corrupted signature.
    #[error("invalid proof signature: {0}")]
    BadJws(String),
}

/// A proof read from a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// Everything but the signature.
    pub options: ProofOptions,
    /// The signature bytes from the JWS.
    pub signature: Vec<u8>,
}

impl Proof {
    /// Reads and checks a `proof` object: its members and its JWS header.
    ///
    /// # Errors
    ///
    /// [`ProofError`] saying which member is missing or malformed.
    pub fn parse(proof: &Value) -> Result<Proof, ProofError> {
        let Value::Object(map) = proof else {
            return Err(ProofError::Malformed("proof must be a JSON object".into()));
        };
        let text = |name: &str| {
            map.get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| ProofError::Malformed(format!("proof.{name} must be a string")))
        };
        let type_name = text("type")?;
        let proof_type = ProofType::parse(type_name)
            .ok_or_else(|| ProofError::UnsupportedType(type_name.to_owned()))?;
        for name in map.keys() {
            let known = [
                "type",
                "created",
                "verificationMethod",
                "proofPurpose",
                "jws",
            ];
            if !known.contains(&name.as_str()) {
                return Err(ProofError::Malformed(format!(
                    "unexpected member proof.{name}"
                )));
            }
        }
        let jws = text("jws")?;
        let (header, signature) = jws
            .split_once("..")
            .ok_or_else(|| ProofError::BadJws("proof.jws is not a detached JWS".into()))?;
        if header != proof_type.jws_header() {
            return Err(ProofError::BadJws(format!(
                "proof.jws header does not match {proof_type} (expected alg {})",
                if proof_type == ProofType::RsaSignature2018 {
                    "PS256"
                } else {
                    "EdDSA"
                }
            )));
        }
        use base64::Engine as _;
        let signature = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|_| ProofError::BadJws("proof.jws signature is not base64url".into()))?;
        Ok(Proof {
            options: ProofOptions {
                proof_type,
                created: text("created")?.to_owned(),
                verification_method: text("verificationMethod")?.to_owned(),
                proof_purpose: text("proofPurpose")?.to_owned(),
            },
            signature,
        })
    }
}

/// Formats a proof's `created` time: UTC, seconds precision, `Z`.
pub fn format_created(time: time::OffsetDateTime) -> String {
    let utc = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second()
    )
}
