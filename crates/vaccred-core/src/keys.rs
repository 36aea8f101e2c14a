//! Public keys, key identifiers and the trust store used to verify credentials.
//!
//! Key files are read in the formats deployments have: PEM (SPKI `PUBLIC KEY` for RSA and
//! Ed25519, PKCS#1 `RSA PUBLIC KEY`), DIVOC's raw base58 Ed25519 public key, JSON objects with
//! `publicKeyBase58` or `publicKeyPem` (DIVOC key nodes), JWK sets, and DID documents. A PEM
//! file may name its key with a `Key-Id: …` line before the `-----BEGIN` line.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs1::DecodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::jsonld::is_absolute_iri;
use crate::proof::ProofType;

/// Errors reading keys.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The text is in none of the supported key formats.
    #[error("unrecognised key format: {0}")]
    Format(String),
    /// The key material is malformed.
    #[error("invalid key: {0}")]
    Invalid(String),
    /// A key identifier is not usable as a proof's `verificationMethod`.
    #[error(
        "invalid key id {0:?}: it must be an absolute IRI without spaces, such as \
         did:example:moh#key-1"
    )]
    InvalidKeyId(String),
    /// The key type is not Ed25519 or RSA.
    #[error("unsupported key type {0}; use an Ed25519 or RSA key")]
    UnsupportedType(String),
}

/// A key identifier, used as a proof's `verificationMethod`: an absolute IRI such as
/// `did:india` or `did:web:moh.example#key-1`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId(String);

impl KeyId {
    /// Validates a key identifier.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidKeyId`] unless `id` is an absolute IRI of at most 512 bytes.
    /// Relative identifiers would drop out of the signed proof options.
    pub fn new(id: impl Into<String>) -> Result<Self, KeyError> {
        let id = id.into();
        let spaced = id.chars().any(|c| c.is_whitespace() || c.is_control());
        if id.len() > 512 || spaced || !is_absolute_iri(&id) || id.starts_with("_:") {
            return Err(KeyError::InvalidKeyId(id));
        }
        Ok(KeyId(id))
    }

    /// The identifier text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A public key for verifying signatures.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublicKey {
    /// An Ed25519 key, for `Ed25519Signature2018` proofs.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// An RSA key, for `RsaSignature2018` proofs (RSASSA-PSS with SHA-256).
    Rsa(rsa::RsaPublicKey),
}

impl PublicKey {
    /// The proof type this key verifies.
    pub fn proof_type(&self) -> ProofType {
        match self {
            PublicKey::Ed25519(_) => ProofType::Ed25519Signature2018,
            PublicKey::Rsa(_) => ProofType::RsaSignature2018,
        }
    }

    /// The DER-encoded SubjectPublicKeyInfo.
    pub fn spki_der(&self) -> Vec<u8> {
        let document = match self {
            PublicKey::Ed25519(key) => key.to_public_key_der(),
            PublicKey::Rsa(key) => key.to_public_key_der(),
        };
        document.map(|d| d.as_bytes().to_vec()).unwrap_or_default()
    }

    /// The SPKI in PEM (`-----BEGIN PUBLIC KEY-----`), with a `Key-Id:` line when given.
    pub fn to_pem(&self, id: Option<&KeyId>) -> String {
        encode_pem("PUBLIC KEY", &self.spki_der(), id)
    }

    /// A short fingerprint: base64url of the first 12 bytes of SHA-256 over the SPKI.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.spki_der());
        URL_SAFE_NO_PAD.encode(&digest[..12])
    }

    /// The raw 32-byte key in base58 (DIVOC's `publicKeyBase58`), for Ed25519 keys.
    pub fn to_base58(&self) -> Option<String> {
        match self {
            PublicKey::Ed25519(key) => Some(bs58::encode(key.as_bytes()).into_string()),
            PublicKey::Rsa(_) => None,
        }
    }

    /// The key as a JSON Web Key (RFC 7517), with `kid` when given.
    pub fn to_jwk(&self, id: Option<&KeyId>) -> Value {
        let mut jwk = match self {
            PublicKey::Ed25519(key) => serde_json::json!({
                "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(key.as_bytes()),
            }),
            PublicKey::Rsa(key) => {
                use rsa::traits::PublicKeyParts as _;
                serde_json::json!({
                    "kty": "RSA",
                    "n": URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
                    "e": URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
                })
            }
        };
        if let (Some(id), Value::Object(map)) = (id, &mut jwk) {
            map.insert("kid".into(), Value::String(id.to_string()));
        }
        jwk
    }

    /// Checks `signature` over `message` with this key's proof algorithm.
    pub(crate) fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        match self {
            PublicKey::Ed25519(key) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify_strict(message, &signature).is_ok()),
            PublicKey::Rsa(key) => {
                use rsa::signature::Verifier as _;
                let verifier = rsa::pss::VerifyingKey::<Sha256>::new_with_salt_len(key.clone(), 32);
                rsa::pss::Signature::try_from(signature)
                    .is_ok_and(|signature| verifier.verify(message, &signature).is_ok())
            }
        }
    }

    fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            return Ok(PublicKey::Ed25519(key));
        }
        rsa::RsaPublicKey::from_public_key_der(der)
            .map(PublicKey::Rsa)
            .map_err(|e| KeyError::Invalid(format!("not an Ed25519 or RSA public key: {e}")))
    }

    /// Reads a raw 32-byte Ed25519 public key.
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] when the bytes are not a valid Ed25519 point.
    pub fn ed25519_from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            KeyError::Invalid(format!(
                "an Ed25519 public key has 32 bytes, not {}",
                bytes.len()
            ))
        })?;
        ed25519_dalek::VerifyingKey::from_bytes(&bytes)
            .map(PublicKey::Ed25519)
            .map_err(|e| KeyError::Invalid(format!("not a valid Ed25519 public key: {e}")))
    }

    /// Reads an RSA public key from DER: SPKI or PKCS#1 `RSAPublicKey`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] when neither encoding parses.
    pub fn rsa_from_der(der: &[u8]) -> Result<Self, KeyError> {
        rsa::RsaPublicKey::from_public_key_der(der)
            .or_else(|_| rsa::RsaPublicKey::from_pkcs1_der(der))
            .map(PublicKey::Rsa)
            .map_err(|e| KeyError::Invalid(format!("not an RSA public key: {e}")))
    }
}

/// A key trusted to sign credentials.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedKey {
    /// The `verificationMethod` this key is trusted for; `None` trusts it for any.
    pub id: Option<KeyId>,
    /// The key.
    pub key: PublicKey,
}

/// The keys a verifier trusts.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    keys: Vec<TrustedKey>,
}

impl TrustStore {
    /// Creates an empty trust store.
    pub fn new() -> Self {
        TrustStore::default()
    }

    /// Adds a key.
    pub fn add(&mut self, key: TrustedKey) {
        self.keys.push(key);
    }

    /// Adds every key found in a key file's contents.
    ///
    /// # Errors
    ///
    /// As [`parse_public_keys`].
    pub fn add_file_contents(&mut self, bytes: &[u8]) -> Result<usize, KeyError> {
        let keys = parse_public_keys(bytes)?;
        let count = keys.len();
        self.keys.extend(keys);
        Ok(count)
    }

    /// All trusted keys.
    pub fn keys(&self) -> &[TrustedKey] {
        &self.keys
    }

    /// The number of trusted keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is trusted.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys to try for a proof: those whose id equals `verification_method` and those
    /// without an id, or every key when `any_key` is set.
    pub fn candidates(&self, verification_method: &str, any_key: bool) -> Vec<&TrustedKey> {
        self.keys
            .iter()
            .filter(|key| {
                any_key
                    || key
                        .id
                        .as_ref()
                        .is_none_or(|id| id.as_str() == verification_method)
            })
            .collect()
    }
}

/// A PEM block: its label, DER contents and the `Key-Id:` line before it, if any.
pub(crate) struct PemBlock {
    pub(crate) label: String,
    pub(crate) der: Vec<u8>,
    pub(crate) key_id: Option<String>,
}

/// Reads every PEM block in `text`.
pub(crate) fn parse_pem_blocks(text: &str) -> Result<Vec<PemBlock>, KeyError> {
    let mut blocks = Vec::new();
    let mut key_id = None;
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if let Some(id) = line.strip_prefix("Key-Id:") {
            key_id = Some(id.trim().to_owned());
            continue;
        }
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for line in lines.by_ref() {
            if line == end {
                closed = true;
                break;
            }
            if !line.contains(':') {
                body.push_str(line);
            }
        }
        if !closed {
            return Err(KeyError::Format(format!(
                "the PEM block {label} has no END line"
            )));
        }
        let der = STANDARD
            .decode(body.as_bytes())
            .map_err(|e| KeyError::Format(format!("the PEM block {label} is not base64: {e}")))?;
        blocks.push(PemBlock {
            label: label.to_owned(),
            der,
            key_id: key_id.take(),
        });
    }
    Ok(blocks)
}

/// Encodes DER as PEM with 64-column lines, preceded by a `Key-Id:` line when given.
pub fn encode_pem(label: &str, der: &[u8], id: Option<&KeyId>) -> String {
    let mut out = String::new();
    if let Some(id) = id {
        out.push_str(&format!("Key-Id: {id}\n"));
    }
    out.push_str(&format!("-----BEGIN {label}-----\n"));
    let encoded = STANDARD.encode(der);
    for chunk in encoded.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

fn optional_id(id: Option<&str>) -> Result<Option<KeyId>, KeyError> {
    id.map(KeyId::new).transpose()
}

/// Reads the public keys in a key file's contents (see the module documentation for the
/// formats).
///
/// # Errors
///
/// [`KeyError`] when the contents are in no supported format or hold no key.
pub fn parse_public_keys(bytes: &[u8]) -> Result<Vec<TrustedKey>, KeyError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| KeyError::Format("a key file must be text (PEM, base58 or JSON)".into()))?
        .trim();
    let keys = if text.contains("-----BEGIN ") {
        keys_from_pem(text)?
    } else if text.starts_with('{') {
        let value: Value = serde_json::from_str(text)
            .map_err(|e| KeyError::Format(format!("invalid JSON: {e}")))?;
        keys_from_json(&value)?
    } else {
        let raw = bs58::decode(text).into_vec().map_err(|_| {
            KeyError::Format("expected PEM, JSON or a base58 Ed25519 public key".into())
        })?;
        vec![TrustedKey {
            id: None,
            key: PublicKey::ed25519_from_bytes(&raw)?,
        }]
    };
    if keys.is_empty() {
        return Err(KeyError::Format("no public key found".into()));
    }
    Ok(keys)
}

fn keys_from_pem(text: &str) -> Result<Vec<TrustedKey>, KeyError> {
    let mut keys = Vec::new();
    for block in parse_pem_blocks(text)? {
        let key = match block.label.as_str() {
            "PUBLIC KEY" => PublicKey::from_spki_der(&block.der)?,
            "RSA PUBLIC KEY" => PublicKey::rsa_from_der(&block.der)?,
            label if label.contains("PRIVATE KEY") => {
                return Err(KeyError::Format(format!(
                    "found a {label}; give verifiers the public key (vaccred keys generate \
                     writes it to PREFIX.pub.pem)"
                )));
            }
            _ => continue,
        };
        keys.push(TrustedKey {
            id: optional_id(block.key_id.as_deref())?,
            key,
        });
    }
    Ok(keys)
}

/// Members that hold private key material in DIVOC key nodes and JWKs.
const PRIVATE_MEMBERS: [&str; 4] = ["privateKeyBase58", "privateKeyPem", "d", "privateKeyJwk"];

fn has_private_material(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(key, item)| {
            PRIVATE_MEMBERS.contains(&key.as_str()) || has_private_material(item)
        }),
        Value::Array(items) => items.iter().any(has_private_material),
        _ => false,
    }
}

fn keys_from_json(value: &Value) -> Result<Vec<TrustedKey>, KeyError> {
    if has_private_material(value) {
        return Err(KeyError::Format(
            "the JSON holds a private key; give verifiers only the public key (remove \
             privateKeyBase58, privateKeyPem or the JWK member \"d\")"
                .into(),
        ));
    }
    if let Some(keys) = value.get("keys").and_then(Value::as_array) {
        return keys.iter().map(|jwk| key_from_jwk(jwk, None)).collect();
    }
    if let Some(methods) = value.get("verificationMethod").and_then(Value::as_array) {
        return methods.iter().map(key_from_node).collect();
    }
    if value.get("kty").is_some() {
        return Ok(vec![key_from_jwk(value, None)?]);
    }
    Ok(vec![key_from_node(value)?])
}

/// Reads a key node: `{id?, publicKeyBase58 | publicKeyPem | publicKeyJwk}`.
fn key_from_node(node: &Value) -> Result<TrustedKey, KeyError> {
    let id = optional_id(node.get("id").and_then(Value::as_str))?;
    if let Some(base58) = node.get("publicKeyBase58").and_then(Value::as_str) {
        let raw = bs58::decode(base58)
            .into_vec()
            .map_err(|e| KeyError::Invalid(format!("publicKeyBase58 is not base58: {e}")))?;
        let key = PublicKey::ed25519_from_bytes(&raw)?;
        return Ok(TrustedKey { id, key });
    }
    if let Some(pem) = node.get("publicKeyPem").and_then(Value::as_str) {
        let mut keys = keys_from_pem(pem)?;
        let key = keys
            .pop()
            .ok_or_else(|| KeyError::Format("publicKeyPem contains no key".into()))?;
        return Ok(TrustedKey {
            id: id.or(key.id),
            key: key.key,
        });
    }
    if let Some(jwk) = node.get("publicKeyJwk") {
        return key_from_jwk(jwk, id);
    }
    Err(KeyError::Format(
        "a JSON key needs publicKeyBase58, publicKeyPem or publicKeyJwk, or a JWK set".into(),
    ))
}

fn jwk_bytes(jwk: &Value, member: &str) -> Result<Vec<u8>, KeyError> {
    let text = jwk
        .get(member)
        .and_then(Value::as_str)
        .ok_or_else(|| KeyError::Invalid(format!("the JWK has no {member:?} member")))?;
    URL_SAFE_NO_PAD
        .decode(text.trim_end_matches('='))
        .map_err(|e| KeyError::Invalid(format!("JWK member {member:?} is not base64url: {e}")))
}

fn key_from_jwk(jwk: &Value, id: Option<KeyId>) -> Result<TrustedKey, KeyError> {
    let id = match id {
        Some(id) => Some(id),
        None => optional_id(jwk.get("kid").and_then(Value::as_str))?,
    };
    let kty = jwk.get("kty").and_then(Value::as_str).unwrap_or_default();
    let key = match (kty, jwk.get("crv").and_then(Value::as_str)) {
        ("OKP", Some("Ed25519")) => PublicKey::ed25519_from_bytes(&jwk_bytes(jwk, "x")?)?,
        ("RSA", _) => {
            let n = rsa::BigUint::from_bytes_be(&jwk_bytes(jwk, "n")?);
            let e = rsa::BigUint::from_bytes_be(&jwk_bytes(jwk, "e")?);
            let key = rsa::RsaPublicKey::new(n, e)
                .map_err(|e| KeyError::Invalid(format!("invalid RSA JWK: {e}")))?;
            PublicKey::Rsa(key)
        }
        (kty, crv) => {
            return Err(KeyError::UnsupportedType(format!(
                "JWK kty {kty:?} crv {crv:?}"
            )));
        }
    };
    Ok(TrustedKey { id, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIVOC_ED25519_PUBLIC: &str = "DaipNW4xaH2bh1XGNNdqjnSYyru3hLnUgTBSfSvmZ2hi";

    #[test]
    fn base58_key_without_id() {
        let keys = parse_public_keys(DIVOC_ED25519_PUBLIC.as_bytes()).unwrap();
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0].id, None);
        assert_eq!(
            keys[0].key.to_base58().as_deref(),
            Some(DIVOC_ED25519_PUBLIC)
        );
    }

    #[test]
    fn pem_round_trip_keeps_key_id() {
        let key = parse_public_keys(DIVOC_ED25519_PUBLIC.as_bytes())
            .unwrap()
            .remove(0)
            .key;
        let id = KeyId::new("did:example:moh#key-1").unwrap();
        let pem = key.to_pem(Some(&id));
        let parsed = parse_public_keys(pem.as_bytes()).unwrap();
        assert_eq!(parsed, vec![TrustedKey { id: Some(id), key }]);
    }

    #[test]
    fn jwk_round_trip() {
        let key = parse_public_keys(DIVOC_ED25519_PUBLIC.as_bytes())
            .unwrap()
            .remove(0)
            .key;
        let id = KeyId::new("did:india").unwrap();
        let jwks = serde_json::json!({"keys": [key.to_jwk(Some(&id))]});
        let parsed = parse_public_keys(jwks.to_string().as_bytes()).unwrap();
        assert_eq!(parsed, vec![TrustedKey { id: Some(id), key }]);
    }

    #[test]
    fn key_id_must_be_absolute() {
        assert!(KeyId::new("did:india").is_ok());
        assert!(KeyId::new("key-1").is_err());
        assert!(KeyId::new("did:x y").is_err());
        assert!(KeyId::new("_:b0").is_err());
    }

    #[test]
    fn private_key_is_rejected_as_trust() {
        let text = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
        let error = parse_public_keys(text.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("public key"), "{error}");
    }

    #[test]
    fn candidates_by_verification_method() {
        let key = parse_public_keys(DIVOC_ED25519_PUBLIC.as_bytes())
            .unwrap()
            .remove(0)
            .key;
        let mut store = TrustStore::new();
        store.add(TrustedKey {
            id: Some(KeyId::new("did:a").unwrap()),
            key: key.clone(),
        });
        store.add(TrustedKey { id: None, key });
        assert_eq!(store.candidates("did:a", false).len(), 2);
        assert_eq!(store.candidates("did:b", false).len(), 1);
        assert_eq!(store.candidates("did:b", true).len(), 2);
    }
}
