//! Signed revocation lists, as `GET /divoc/api/v1/revocations` publishes them.
//!
//! The body is JSON: `{"issuer", "serial", "thisUpdate", "nextUpdate", "entries": [
//! {"certificateId", "revokedAt", "reason"}], "since"?}`. The issuer signs the body bytes
//! exactly as sent, with a detached JWS (RFC 7515 compact form with an empty payload part
//! and RFC 7797 `b64: false`) in the `X-Vaccred-Signature` response header. Its protected
//! header is `{"alg": "EdDSA" | "PS256", "kid": KEY_ID, "b64": false, "crit": ["b64"]}`,
//! and the signed bytes are `ASCII(base64url(header) + ".")` followed by the body.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys::TrustStore;
use crate::proof::ProofType;

/// Name of the response header that carries the detached JWS.
pub const SIGNATURE_HEADER: &str = "X-Vaccred-Signature";

/// A revocation list, as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationList {
    /// The issuer, as in the credentials' `issuer`.
    pub issuer: String,
    /// The highest entry serial the issuer had assigned when the list was made. Pass it
    /// as `since` to fetch only later entries.
    pub serial: i64,
    /// When the list was made, RFC 3339.
    pub this_update: String,
    /// When the issuer publishes the next list at the latest, RFC 3339.
    pub next_update: String,
    /// The entries, in serial order.
    pub entries: Vec<RevocationEntry>,
    /// For a delta list, the serial after which its entries start. Absent in a full list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<i64>,
}

/// One revoked or superseded certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevocationEntry {
    /// The certificate's `evidence[0].certificateId`.
    pub certificate_id: String,
    /// When the revocation was recorded, RFC 3339.
    pub revoked_at: String,
    /// Reason code: `superseded` when an update replaced the certificate.
    pub reason: String,
}

/// Error verifying a signed revocation list.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RevocationListError {
    /// The signature is not a detached JWS with the expected header.
    #[error("invalid revocation list signature: {0}")]
    SignatureFormat(String),
    /// No trusted key has the header's `kid` and algorithm.
    #[error("no trusted key {0:?} for the revocation list: add the issuer's published key")]
    UnknownKey(String),
    /// No trusted key verifies the signature, so the body was changed or signed by another key.
    #[error("the revocation list signature does not verify")]
    SignatureMismatch,
    /// The signed body is not a revocation list.
    #[error("invalid revocation list body: {0}")]
    Body(String),
}

/// Protected header of the detached JWS.
#[derive(Deserialize)]
struct JwsHeader {
    alg: String,
    kid: String,
    b64: bool,
    crit: Vec<String>,
}

/// Verifies the detached JWS `signature` over the body `bytes` with the keys of
/// `trust`, then parses the body.
///
/// # Errors
///
/// [`RevocationListError::SignatureFormat`] when the signature is not a detached JWS
/// with `b64: false`, [`RevocationListError::UnknownKey`] when no trusted key matches its
/// `kid` and `alg`, [`RevocationListError::SignatureMismatch`] when none of them verifies,
/// and [`RevocationListError::Body`] when the verified body is not a revocation list.
pub fn verify_revocation_list(
    bytes: &[u8],
    signature: &str,
    trust: &TrustStore,
) -> Result<RevocationList, RevocationListError> {
    let format_error = |message: &str| RevocationListError::SignatureFormat(message.to_owned());
    let mut parts = signature.trim().split('.');
    let (Some(header_part), Some(payload_part), Some(signature_part), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format_error("a compact JWS has three dot-separated parts"));
    };
    if !payload_part.is_empty() {
        return Err(format_error("the payload part of a detached JWS is empty"));
    }
    let header_bytes = URL_SAFE_NO_PAD
        .decode(header_part)
        .map_err(|_| format_error("the header is not base64url"))?;
    let header: JwsHeader = serde_json::from_slice(&header_bytes)
        .map_err(|_| format_error("the header lacks alg, kid, b64 or crit"))?;
    if header.b64 || !header.crit.iter().any(|name| name == "b64") {
        return Err(format_error(
            "the header must have \"b64\": false and list b64 in crit",
        ));
    }
    let proof_type = match header.alg.as_str() {
        "EdDSA" => ProofType::Ed25519Signature2018,
        "PS256" => ProofType::RsaSignature2018,
        _ => return Err(format_error("alg must be EdDSA or PS256")),
    };
    let signature_bytes = URL_SAFE_NO_PAD
        .decode(signature_part)
        .map_err(|_| format_error("the signature is not base64url"))?;

    let candidates: Vec<_> = trust
        .candidates(&header.kid, false)
        .into_iter()
        .filter(|trusted| trusted.key.proof_type() == proof_type)
        .collect();
    if candidates.is_empty() {
        return Err(RevocationListError::UnknownKey(header.kid));
    }
    let mut signing_input = Vec::with_capacity(header_part.len() + 1 + bytes.len());
    signing_input.extend_from_slice(header_part.as_bytes());
    signing_input.push(b'.');
    signing_input.extend_from_slice(bytes);
    let verified = candidates
        .iter()
        .any(|trusted| trusted.key.verify(&signing_input, &signature_bytes));
    if !verified {
        return Err(RevocationListError::SignatureMismatch);
    }

    let value: Value = serde_json::from_slice(bytes)
        .map_err(|error| RevocationListError::Body(error.to_string()))?;
    serde_json::from_value(value).map_err(|error| RevocationListError::Body(error.to_string()))
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::keys::TrustedKey;
    use crate::sign::{KeyType, SigningKey};

    const BODY: &[u8] = br#"{"issuer":"https://moh.example","serial":2,"thisUpdate":"2026-01-01T00:00:00Z","nextUpdate":"2026-01-01T01:00:00Z","entries":[{"certificateId":"123","revokedAt":"2026-01-01T00:00:00Z","reason":"revoked"}]}"#;

    fn sign(key: &SigningKey, bytes: &[u8]) -> String {
        let alg = match key.proof_type() {
            ProofType::Ed25519Signature2018 => "EdDSA",
            _ => "PS256",
        };
        let header = serde_json::json!({
            "alg": alg, "kid": key.id().as_str(), "b64": false, "crit": ["b64"],
        });
        let header = URL_SAFE_NO_PAD.encode(header.to_string());
        let mut input = format!("{header}.").into_bytes();
        input.extend_from_slice(bytes);
        let signature = key.sign_bytes(&input).unwrap();
        format!("{header}..{}", URL_SAFE_NO_PAD.encode(signature))
    }

    fn trusting(key: &SigningKey) -> TrustStore {
        let mut trust = TrustStore::new();
        trust.add(TrustedKey {
            id: Some(key.id().clone()),
            key: key.public_key().clone(),
        });
        trust
    }

    #[test]
    fn signed_list_verifies_and_parses() {
        for key_type in [KeyType::Ed25519, KeyType::Rsa] {
            let key = SigningKey::generate(key_type, None, "did:example:moh").unwrap();
            let list = verify_revocation_list(BODY, &sign(&key, BODY), &trusting(&key)).unwrap();
            assert_eq!(list.serial, 2);
            assert_eq!(list.entries.len(), 1);
            assert_eq!(list.entries[0].certificate_id, "123");
            assert_eq!(list.since, None);
        }
    }

    #[test]
    fn altered_body_fails() {
        let key = SigningKey::generate(KeyType::Ed25519, None, "did:example:moh").unwrap();
        let signature = sign(&key, BODY);
        let altered = String::from_utf8(BODY.to_vec())
            .unwrap()
            .replace("\"123\"", "\"124\"");
        let result = verify_revocation_list(altered.as_bytes(), &signature, &trusting(&key));
        assert_eq!(result, Err(RevocationListError::SignatureMismatch));
    }

    #[test]
    fn other_key_is_unknown_or_fails() {
        let key = SigningKey::generate(KeyType::Ed25519, None, "did:example:moh").unwrap();
        let other = SigningKey::generate(KeyType::Ed25519, None, "did:example:moh").unwrap();
        let result = verify_revocation_list(BODY, &sign(&key, BODY), &trusting(&other));
        assert!(matches!(result, Err(RevocationListError::UnknownKey(_))));

        let mut untagged = TrustStore::new();
        untagged.add(TrustedKey {
            id: None,
            key: other.public_key().clone(),
        });
        let result = verify_revocation_list(BODY, &sign(&key, BODY), &untagged);
        assert_eq!(result, Err(RevocationListError::SignatureMismatch));
    }

    #[test]
    fn attached_payload_is_rejected() {
        let key = SigningKey::generate(KeyType::Ed25519, None, "did:example:moh").unwrap();
        let signature = sign(&key, BODY).replacen("..", ".e30.", 1);
        let result = verify_revocation_list(BODY, &signature, &trusting(&key));
        assert!(matches!(
            result,
            Err(RevocationListError::SignatureFormat(_))
        ));
    }
}
