//! Signing keys and credential signing (native targets only; verification needs none of this).
//!
//! Private-key operations use aws-lc-rs: its RSA-PSS signing is about four times faster than
//! the pure-Rust `rsa` crate and constant-time.

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _, RSA_PSS_SHA256, RsaKeyPair};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::jsonld::{JsonLdError, Processor};
use crate::keys::{KeyError, KeyId, PublicKey, encode_pem, parse_pem_blocks};
use crate::proof::{ASSERTION_METHOD, ProofOptions, ProofType, format_created, signing_input};

/// The algorithm of a signing key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyType {
    /// Ed25519, for `Ed25519Signature2018`.
    Ed25519,
    /// RSA 2048, for `RsaSignature2018`.
    Rsa,
}

enum Pair {
    Ed25519(Ed25519KeyPair),
    Rsa(RsaKeyPair),
}

/// A private key with its identifier. Its `Debug` output shows only the id and type.
pub struct SigningKey {
    id: KeyId,
    pair: Pair,
    public: PublicKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("id", &self.id)
            .field("proof_type", &self.proof_type())
            .finish_non_exhaustive()
    }
}

/// Errors of signing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The document cannot be canonicalized.
    #[error(transparent)]
    JsonLd(#[from] JsonLdError),
    /// The document already has a proof.
    #[error("the credential already has a proof; remove it to sign again")]
    AlreadySigned,
    /// The cryptographic library failed.
    #[error("signing failed in the cryptographic library")]
    Crypto,
}

fn rejected(kind: &str) -> impl Fn(aws_lc_rs::error::KeyRejected) -> KeyError + '_ {
    move |e| KeyError::Invalid(format!("{kind} was rejected: {e}"))
}

impl SigningKey {
    /// Generates a new key, with id `id` or `<did>#<fingerprint>`. RSA keys are 2048 bits, as
    /// DIVOC's.
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] if the system random generator fails.
    pub fn generate(key_type: KeyType, id: Option<KeyId>, did: &str) -> Result<Self, KeyError> {
        let failed = |_| KeyError::Invalid("key generation failed".into());
        let pair = match key_type {
            KeyType::Ed25519 => Pair::Ed25519(Ed25519KeyPair::generate().map_err(failed)?),
            KeyType::Rsa => Pair::Rsa(RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?),
        };
        let public = public_of(&pair)?;
        let id = match id {
            Some(id) => id,
            None => default_key_id(did, &public)?,
        };
        Ok(SigningKey { id, pair, public })
    }

    /// Keeps the given id, or uses the DID itself as DIVOC does with `CERTIFICATE_DID`.
    fn from_pair(pair: Pair, id: Option<KeyId>, did: &str) -> Result<Self, KeyError> {
        let public = public_of(&pair)?;
        let id = match id {
            Some(id) => id,
            None => KeyId::new(did)?,
        };
        Ok(SigningKey { id, pair, public })
    }

    /// Reads a private key from PEM: PKCS#8 `PRIVATE KEY` (Ed25519 or RSA) or PKCS#1
    /// `RSA PRIVATE KEY`. The id is `id` if given, else the file's `Key-Id:` line, else
    /// `did` itself, as DIVOC uses its `CERTIFICATE_DID` as `verificationMethod`.
    ///
    /// # Errors
    ///
    /// [`KeyError`] for unreadable, encrypted or unsupported keys.
    pub fn from_pem(text: &str, id: Option<KeyId>, did: &str) -> Result<Self, KeyError> {
        let blocks = parse_pem_blocks(text)?;
        let block = blocks
            .iter()
            .find(|b| b.label.ends_with("PRIVATE KEY"))
            .ok_or_else(|| KeyError::Format("no PRIVATE KEY block in the PEM text".into()))?;
        let pair = match block.label.as_str() {
            "PRIVATE KEY" => match Ed25519KeyPair::from_pkcs8_maybe_unchecked(&block.der) {
                Ok(pair) => Pair::Ed25519(pair),
                Err(_) => Pair::Rsa(
                    RsaKeyPair::from_pkcs8(&block.der).map_err(rejected("the PKCS#8 key"))?,
                ),
            },
            "RSA PRIVATE KEY" => {
                Pair::Rsa(RsaKeyPair::from_der(&block.der).map_err(rejected("the PKCS#1 key"))?)
            }
            "ENCRYPTED PRIVATE KEY" => {
                return Err(KeyError::Format(
                    "encrypted private keys are not supported; decrypt it first with \
                     `openssl pkcs8 -in KEY -out PLAIN.pem`"
                        .into(),
                ));
            }
            other => return Err(KeyError::UnsupportedType(other.to_owned())),
        };
        let id = match (id, &block.key_id) {
            (Some(id), _) => Some(id),
            (None, Some(text)) => Some(KeyId::new(text.as_str())?),
            (None, None) => None,
        };
        Self::from_pair(pair, id, did)
    }

    /// Reads DIVOC's base58 Ed25519 private key: 64 bytes (seed followed by public key, as
    /// crypto-ld 3 writes `privateKeyBase58`) or a 32-byte seed. The id is `id` or `did`.
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] for malformed or inconsistent keys.
    pub fn from_base58(private: &str, id: Option<KeyId>, did: &str) -> Result<Self, KeyError> {
        let raw = Zeroizing::new(
            bs58::decode(private.trim())
                .into_vec()
                .map_err(|_| KeyError::Invalid("the private key is not base58".into()))?,
        );
        let pair = match raw.len() {
            64 => Ed25519KeyPair::from_seed_and_public_key(&raw[..32], &raw[32..])
                .map_err(rejected("the base58 Ed25519 key"))?,
            32 => Ed25519KeyPair::from_seed_unchecked(&raw)
                .map_err(rejected("the base58 Ed25519 seed"))?,
            n => {
                let message = format!("a base58 Ed25519 private key has 64 or 32 bytes, not {n}");
                return Err(KeyError::Invalid(message));
            }
        };
        Self::from_pair(Pair::Ed25519(pair), id, did)
    }

    /// The key identifier, used as `verificationMethod`.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The public half.
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The proof type this key makes.
    pub fn proof_type(&self) -> ProofType {
        self.public.proof_type()
    }

    /// The private key as PKCS#8 PEM with a `Key-Id:` line.
    ///
    /// # Errors
    ///
    /// [`KeyError::Invalid`] if the library cannot encode the key.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        let failed = |_| KeyError::Invalid("the key cannot be encoded as PKCS#8".into());
        let der: Pkcs8V1Der<'static> = match &self.pair {
            Pair::Ed25519(pair) => pair.as_der().map_err(failed)?,
            Pair::Rsa(pair) => pair.as_der().map_err(failed)?,
        };
        Ok(Zeroizing::new(encode_pem(
            "PRIVATE KEY",
            der.as_ref(),
            Some(&self.id),
        )))
    }

    /// Signs `message` with the key's proof algorithm.
    ///
    /// # Errors
    ///
    /// [`SignError::Crypto`] if the library fails.
    pub fn sign_bytes(&self, message: &[u8]) -> Result<Vec<u8>, SignError> {
        match &self.pair {
            Pair::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
            Pair::Rsa(pair) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    &RSA_PSS_SHA256,
                    &SystemRandom::new(),
                    message,
                    &mut signature,
                )
                .map_err(|_| SignError::Crypto)?;
                Ok(signature)
            }
        }
    }
}

fn public_of(pair: &Pair) -> Result<PublicKey, KeyError> {
    match pair {
        Pair::Ed25519(pair) => PublicKey::ed25519_from_bytes(pair.public_key().as_ref()),
        Pair::Rsa(pair) => PublicKey::rsa_from_der(pair.public_key().as_ref()),
    }
}

/// The default id of a generated key, `<did>#<fingerprint>`.
///
/// # Errors
///
/// [`KeyError::InvalidKeyId`] when `did` is not an absolute IRI.
pub fn default_key_id(did: &str, public: &PublicKey) -> Result<KeyId, KeyError> {
    KeyId::new(format!("{did}#{}", public.fingerprint()))
}

/// Adds a proof to an unsigned credential, as DIVOC's signer does: the proof options are
/// the key's proof type, `created`, the key id as `verificationMethod` and `assertionMethod`.
///
/// # Errors
///
/// [`SignError`] when the credential already has a proof, cannot be canonicalized (for
/// example a property missing from its context), or the signature fails.
pub fn sign_credential(
    processor: &Processor,
    key: &SigningKey,
    mut credential: Map<String, Value>,
    created: time::OffsetDateTime,
) -> Result<Map<String, Value>, SignError> {
    if credential.contains_key("proof") {
        return Err(SignError::AlreadySigned);
    }
    let options = ProofOptions {
        proof_type: key.proof_type(),
        created: format_created(created),
        verification_method: key.id.to_string(),
        proof_purpose: ASSERTION_METHOD.to_owned(),
    };
    let input = signing_input(processor, &options, &credential)?;
    let signature = key.sign_bytes(&input)?;
    let jws = format!(
        "{}..{}",
        options.proof_type.jws_header(),
        URL_SAFE_NO_PAD.encode(signature)
    );
    credential.insert("proof".to_owned(), options.to_proof(jws));
    Ok(credential)
}
