//! Signing and verification against vectors and credentials made by DIVOC's own code.

use std::path::Path;

use serde_json::{Map, Value};
use time::macros::datetime;
use vaccred_core::jsonld::Processor;
use vaccred_core::keys::{KeyId, TrustStore};
use vaccred_core::sign::{SigningKey, sign_credential};
use vaccred_core::verify::{CouldNotVerify, Invalid, Outcome, VerifyOptions, verify_credential};

const DIVOC_ED25519_PRIVATE: &str =
    "41WN3qJL5Agwg8MERbEmMLKnkNstv5iSD8oJ8sRnDyBUegeGKgjqgKm9qZTmhcLQSWCdTkSN3Cd1tPqMn1rjM3BJ";
const DIVOC_ED25519_PUBLIC: &str = "DaipNW4xaH2bh1XGNNdqjnSYyru3hLnUgTBSfSvmZ2hi";

fn fixture(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn object(text: &str) -> Map<String, Value> {
    match serde_json::from_str(text).unwrap() {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn divoc_ed25519_key() -> SigningKey {
    let id = KeyId::new("did:india").unwrap();
    SigningKey::from_base58(DIVOC_ED25519_PRIVATE, Some(id), "did:india").unwrap()
}

fn trust(contents: &[&str]) -> TrustStore {
    let mut store = TrustStore::new();
    for text in contents {
        store.add_file_contents(text.as_bytes()).unwrap();
    }
    store
}

fn no_expiry() -> VerifyOptions {
    VerifyOptions {
        now: None,
        ..VerifyOptions::default()
    }
}

#[test]
fn ed25519_jws_matches_appendix_a() {
    let processor = Processor::default();
    let cases = [
        (
            "appendix-a/v2-unsigned.json",
            "8GieLg0BPsvSB0QAMB30-9p0G18eYVrmpwjhUZ00LiWg2bZ8jbL5MvMWzLnPdfM0QkyRNhWtgsrCZJxQJccdDA",
        ),
        (
            "appendix-a/v3-unsigned.json",
            "R8b9DVDKiqvMyjozKga7xRdP3bcz8DFxKJ70HHLcYTDZ5mYIJAXmw8v2X1x0clNLHaCUBIeYeYdYk-BpSQdaCA",
        ),
    ];
    for (file, signature) in cases {
        let signed = sign_credential(
            &processor,
            &divoc_ed25519_key(),
            object(&fixture(file)),
            datetime!(2021-05-01 10:05:00 UTC),
        )
        .unwrap();
        let expected =
            format!("eyJhbGciOiJFZERTQSIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19..{signature}");
        assert_eq!(signed["proof"]["jws"], Value::String(expected), "{file}");
        assert_eq!(signed["proof"]["created"], "2021-05-01T10:05:00Z");
        assert_eq!(signed["proof"]["verificationMethod"], "did:india");
    }
}

#[test]
fn divoc_signed_credentials_verify() {
    let processor = Processor::default();
    let store = trust(&[
        &fixture("divoc/divoc-dev-rsa.pub.pem"),
        DIVOC_ED25519_PUBLIC,
    ]);
    for file in [
        "divoc/divoc-dev-ed25519-divocdev-v1.json",
        "divoc/divoc-dev-rsa-cowin-v1-commented.json",
        "divoc/divoc-dev-rsa-divocdev-v1.json",
    ] {
        let outcome = verify_credential(
            &processor,
            &store,
            object(&fixture(file)),
            &no_expiry(),
            None,
        );
        assert!(outcome.is_valid(), "{file}: {outcome:?}");
    }
}

#[test]
fn tampered_divoc_credential_fails() {
    let processor = Processor::default();
    let store = trust(&[&fixture("divoc/divoc-dev-rsa.pub.pem")]);
    let credential = object(&fixture(
        "divoc/divoc-dev-rsa-divocdev-v1-tampered-subject-id.json",
    ));
    let outcome = verify_credential(&processor, &store, credential, &no_expiry(), None);
    assert!(
        matches!(
            outcome,
            Outcome::Invalid {
                reason: Invalid::BadSignature,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[test]
fn rsa_sign_then_verify() {
    let processor = Processor::default();
    let key =
        SigningKey::from_pem(&fixture("divoc/divoc-dev-rsa.priv.pem"), None, "did:india").unwrap();
    let signed = sign_credential(
        &processor,
        &key,
        object(&fixture("appendix-a/v3-unsigned.json")),
        datetime!(2021-05-01 10:05:00 UTC),
    )
    .unwrap();
    let store = trust(&[&fixture("divoc/divoc-dev-rsa.pub.pem")]);
    let outcome = verify_credential(&processor, &store, signed.clone(), &no_expiry(), None);
    assert!(outcome.is_valid(), "{outcome:?}");
    let mut altered = signed;
    altered["credentialSubject"]["name"] = Value::String("Someone Else".into());
    let outcome = verify_credential(&processor, &store, altered, &no_expiry(), None);
    assert!(
        matches!(
            outcome,
            Outcome::Invalid {
                reason: Invalid::BadSignature,
                ..
            }
        ),
        "{outcome:?}"
    );
}

#[test]
fn unknown_key_could_not_verify() {
    let processor = Processor::default();
    let credential = object(&fixture("divoc/divoc-dev-rsa-divocdev-v1.json"));
    let outcome = verify_credential(
        &processor,
        &TrustStore::new(),
        credential,
        &no_expiry(),
        None,
    );
    assert!(
        matches!(
            outcome,
            Outcome::CouldNotVerify {
                reason: CouldNotVerify::UntrustedKey { .. },
                ..
            }
        ),
        "{outcome:?}"
    );
}

fn signed_v3() -> Map<String, Value> {
    let processor = Processor::default();
    let created = datetime!(2021-05-01 10:05:00 UTC);
    let unsigned = object(&fixture("appendix-a/v3-unsigned.json"));
    sign_credential(&processor, &divoc_ed25519_key(), unsigned, created).unwrap()
}

fn verify_with_divoc_key(credential: Map<String, Value>) -> Outcome {
    let store = trust(&[DIVOC_ED25519_PUBLIC]);
    verify_credential(
        &Processor::default(),
        &store,
        credential,
        &no_expiry(),
        None,
    )
}

#[test]
fn signed_fields_are_all_covered() {
    let outcome = verify_with_divoc_key(signed_v3());
    let Outcome::Valid { unsigned, .. } = outcome else {
        panic!("expected valid: {outcome:?}");
    };
    assert!(unsigned.is_empty(), "{unsigned:?}");
}

#[test]
fn iri_keyed_members_are_invalid() {
    // Signed nodes moved under IRI keys, with look-alike unsigned nodes under the terms.
    let mut forged = signed_v3();
    let credentials = "https://www.w3.org/2018/credentials#";
    let subject = forged["credentialSubject"].clone();
    forged.insert(format!("{credentials}credentialSubject"), subject);
    forged["credentialSubject"] =
        serde_json::json!({"type": "Person", "id": "x", "name": "Mallory"});
    let outcome = verify_with_divoc_key(forged);
    assert!(
        matches!(&outcome, Outcome::Invalid { reason: Invalid::IriMembers(members), .. }
            if members == &["/https:~1~1www.w3.org~12018~1credentials#credentialSubject"]),
        "{outcome:?}"
    );
}

#[test]
fn relative_evidence_id_is_unsigned_content() {
    let processor = Processor::default();
    let created = datetime!(2021-05-01 10:05:00 UTC);
    let mut unsigned = object(&fixture("appendix-a/v3-unsigned.json"));
    unsigned["evidence"][0]["id"] = Value::String("vaccine-123".into());
    let signed = sign_credential(&processor, &divoc_ed25519_key(), unsigned, created).unwrap();
    let outcome = verify_with_divoc_key(signed);
    let Outcome::Invalid {
        reason: Invalid::UnsignedContent(fields),
        ..
    } = &outcome
    else {
        panic!("expected unsigned content: {outcome:?}");
    };
    assert!(fields.contains(&"vaccine".to_owned()), "{fields:?}");
    assert!(fields.contains(&"dose".to_owned()), "{fields:?}");
}

#[test]
fn empty_subject_id_warns_holder_unsigned() {
    // DIVOC credentials with an empty credentialSubject.id sign none of the holder fields.
    let processor = Processor::default();
    let created = datetime!(2021-05-01 10:05:00 UTC);
    let mut unsigned = object(&fixture("appendix-a/v3-unsigned.json"));
    unsigned["credentialSubject"]["id"] = Value::String(String::new());
    let signed = sign_credential(&processor, &divoc_ed25519_key(), unsigned, created).unwrap();
    let outcome = verify_with_divoc_key(signed);
    let Outcome::Valid { unsigned, .. } = &outcome else {
        panic!("expected valid: {outcome:?}");
    };
    assert_eq!(unsigned, &["name", "age", "dob", "gender"]);
}
