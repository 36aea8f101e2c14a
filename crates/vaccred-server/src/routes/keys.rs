//! The public signing keys, published for verifiers: a JSON Web Key Set and a DID
//! document. Both list every key in the store's `signing_keys`, active and retired, so
//! certificates signed before a key rotation still verify.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use vaccred_core::keys::{PublicKey, parse_public_keys};
use vaccred_core::proof::ProofType;
use vaccred_store::SigningKeyRecord;

use super::certify::store_error;
use crate::error::ApiError;
use crate::state::AppState;

/// `Cache-Control` of both documents: a verifier that cached them gets a new key within
/// five minutes. A server lists its key on start, before it signs anything.
const CACHE_CONTROL: &str = "public, max-age=300";

/// Returns the public signing keys as a JSON Web Key Set (RFC 7517), with `kid` set to
/// the key id that proofs name in `verificationMethod`.
#[utoipa::path(
    get,
    path = "/.well-known/jwks.json",
    tag = "keys",
    responses(
        (status = 200, description = "JWK set of every active and retired signing key", body = Object),
        (status = 503, description = "The database is unavailable"),
    )
)]
pub async fn jwks(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut keys = Vec::new();
    for (record, key) in published_keys(&state).await? {
        let mut jwk = key.to_jwk(Some(&record.key_id));
        if let Value::Object(members) = &mut jwk {
            members.insert("alg".to_owned(), Value::from(jws_algorithm(&key)));
            members.insert("use".to_owned(), Value::from("sig"));
        }
        keys.push(jwk);
    }
    json_response(&json!({ "keys": keys }))
}

/// Returns a DID document for the issuer DID with every signing key as a verification
/// method: Ed25519 keys as `Ed25519VerificationKey2018` with `publicKeyBase58`, RSA keys
/// as `RsaVerificationKey2018` with `publicKeyJwk`.
#[utoipa::path(
    get,
    path = "/.well-known/did.json",
    tag = "keys",
    responses(
        (status = 200, description = "DID document listing every active and retired signing key", body = Object),
        (status = 503, description = "The database is unavailable"),
    )
)]
pub async fn did_document(State(state): State<AppState>) -> Result<Response, ApiError> {
    let did = state.config().issuer.did.clone();
    let mut methods = Vec::new();
    let mut ids = Vec::new();
    for (record, key) in published_keys(&state).await? {
        let id = record.key_id.to_string();
        let method = match key.to_base58() {
            Some(base58) => json!({
                "id": id,
                "type": "Ed25519VerificationKey2018",
                "controller": did,
                "publicKeyBase58": base58,
            }),
            None => json!({
                "id": id,
                "type": "RsaVerificationKey2018",
                "controller": did,
                "publicKeyJwk": key.to_jwk(None),
            }),
        };
        methods.push(method);
        ids.push(Value::from(id));
    }
    json_response(&json!({
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/v2"],
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": ids,
    }))
}

/// Reads the listed keys. A record whose PEM cannot be read is left out and logged, so
/// one damaged row does not hide the other keys.
async fn published_keys(state: &AppState) -> Result<Vec<(SigningKeyRecord, PublicKey)>, ApiError> {
    let records = state.store().signing_keys().await.map_err(store_error)?;
    let mut keys = Vec::with_capacity(records.len());
    for record in records {
        let parsed = parse_public_keys(record.public_key_pem.as_bytes());
        match parsed.map(|mut found| found.pop()) {
            Ok(Some(trusted)) => keys.push((record, trusted.key)),
            Ok(None) => {}
            Err(error) => {
                tracing::error!(key.id = %record.key_id, %error, "cannot read a listed signing key");
            }
        }
    }
    Ok(keys)
}

fn jws_algorithm(key: &PublicKey) -> &'static str {
    match key.proof_type() {
        ProofType::Ed25519Signature2018 => "EdDSA",
        _ => "PS256",
    }
}

fn json_response(document: &Value) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(document).map_err(ApiError::internal)?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    Ok(response)
}
