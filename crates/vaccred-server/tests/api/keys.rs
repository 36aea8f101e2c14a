//! The published key set: the JWK set and the DID document each let a verifier trust the
//! key that signed the server's certificates.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use vaccred_core::jsonld::Processor;
use vaccred_core::keys::{KeyId, TrustStore, parse_public_keys};
use vaccred_core::sign::{KeyType, SigningKey};
use vaccred_core::verify::{VerifyOptions, verify_json};

use crate::issuing::{issue_doses, stored_credential};
use crate::support::{Backend, TestApp, backend_tests};

backend_tests!(
    published_keys_verify_certificates,
    rsa_keys_verify_certificates,
    key_documents_are_cacheable,
);

const DOCUMENTS: [&str; 2] = ["/.well-known/jwks.json", "/.well-known/did.json"];

/// Checks that each key document lets a verifier trust the server's signing key and
/// verify `credential` with it.
async fn assert_documents_verify(app: &TestApp, credential: &str) {
    let key_id = app.state.signing_key().id().to_string();
    for path in DOCUMENTS {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let bytes = response.bytes().await.unwrap();
        let keys = parse_public_keys(&bytes).unwrap_or_else(|error| panic!("{path}: {error}"));
        assert!(
            keys.iter()
                .any(|key| key.id.as_ref().map(ToString::to_string) == Some(key_id.clone())),
            "{path} lacks {key_id}"
        );

        let mut trust = TrustStore::new();
        for key in keys {
            trust.add(key);
        }
        let options = VerifyOptions {
            now: None,
            ..VerifyOptions::default()
        };
        let outcome = verify_json(
            &Processor::default(),
            &trust,
            credential.as_bytes(),
            &options,
            None,
        );
        assert!(outcome.is_valid(), "{path}: {outcome:?}");
    }
}

async fn published_keys_verify_certificates(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, _, ids) = issue_doses(&app, 1).await;
    let credential = stored_credential(&app, &ids[0]).await;
    assert_documents_verify(&app, &credential).await;

    let key_id = app.state.signing_key().id().to_string();
    let did: Value = app
        .http
        .get(app.url(DOCUMENTS[1]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(did["id"], app.state.config().issuer.did.as_str());
    assert_eq!(
        did["verificationMethod"][0]["type"],
        "Ed25519VerificationKey2018"
    );
    assert_eq!(did["assertionMethod"], serde_json::json!([key_id]));
    app.stop().await.unwrap();
}

async fn rsa_keys_verify_certificates(backend: Backend) {
    let key_dir = tempfile::tempdir().unwrap();
    let key_path = key_dir.path().join("rsa-key.pem");
    let key_id = KeyId::new("did:example:moh#rsa-1").unwrap();
    let key = SigningKey::generate(KeyType::Rsa, Some(key_id), "did:example:moh").unwrap();
    std::fs::write(&key_path, key.to_pkcs8_pem().unwrap().as_bytes()).unwrap();
    let app = TestApp::start_with(backend, |config| {
        config.signing_key = Some(key_path.clone());
        config.signing_key_id = Some("did:example:moh#rsa-1".to_owned());
    })
    .await;
    let (_, _, ids) = issue_doses(&app, 1).await;
    let credential = stored_credential(&app, &ids[0]).await;
    assert_documents_verify(&app, &credential).await;

    let did: Value = app
        .http
        .get(app.url(DOCUMENTS[1]))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let method = &did["verificationMethod"][0];
    assert_eq!(method["type"], "RsaVerificationKey2018");
    assert_eq!(method["publicKeyJwk"]["kty"], "RSA");

    let response = app
        .http
        .get(app.url("/divoc/api/v1/revocations"))
        .send()
        .await
        .unwrap();
    let signature = response.headers()["x-vaccred-signature"].to_str().unwrap();
    let header = signature.split('.').next().unwrap();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
    assert_eq!(header["alg"], "PS256");
    assert_eq!(header["kid"], "did:example:moh#rsa-1");
    app.stop().await.unwrap();
}

async fn key_documents_are_cacheable(backend: Backend) {
    let app = TestApp::start(backend).await;
    for path in DOCUMENTS {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "application/json");
        let cache_control = response.headers()["cache-control"].to_str().unwrap();
        assert!(
            cache_control.starts_with("public, max-age="),
            "{cache_control}"
        );
    }
    app.stop().await.unwrap();
}
