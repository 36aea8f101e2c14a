//! Certificate lookups, API clients, signing keys and readiness.

use std::time::Duration;

use vaccred_core::credential::{CertificateId, DoseNumber, Shape};
use vaccred_core::keys::KeyId;
use vaccred_core::proof::ProofType;
use vaccred_store::{
    CertificateStatus, Completion, DoseSelection, ItemStatus, KeyStatus, NewApiClient,
    NewSigningKey, RequestKind, SecretHash, StoreError,
};

use crate::support::{START, TestDb, certificate, certify_item};

pub async fn latest_prefers_highest_dose(db: &TestDb) {
    let one = db.issue("M-1", 1.0).await;
    db.clock.advance(Duration::from_secs(1));
    let three = db.issue("M-1", 3.0).await;
    db.clock.advance(Duration::from_secs(1));
    // Issued last, but a lower dose.
    let two = db.issue("M-1", 2.0).await;
    let latest = db.store.latest_certificate("M-1").await.unwrap().unwrap();
    assert_eq!(latest.certificate_id, three);

    // Of one dose, the newest issue wins; equal times fall back to insertion order.
    let two_again = db.update("M-1", 2.0, &two).await;
    db.store
        .revoke("M-1", &DoseSelection::Doses(vec![3]), "withdrawn")
        .await
        .unwrap();
    let latest = db.store.latest_certificate("M-1").await.unwrap().unwrap();
    assert_eq!(latest.certificate_id, two_again);

    let all = db.store.certificates_for_code("M-1").await.unwrap();
    let ids: Vec<&CertificateId> = all.iter().map(|c| &c.certificate_id).collect();
    assert_eq!(ids, [&one, &two, &two_again, &three]);
    assert!(
        db.store
            .latest_certificate("M-404")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn certificate_round_trips_exactly(db: &TestDb) {
    let items = [certify_item("N-1", "P7", 2.5)];
    db.store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    let claimed = db.claim_one(&db.store, "worker-1").await;
    let id = db.certificate_id();
    let mut new = certificate(&id);
    // Whitespace, key order and non-ASCII text must survive byte for byte.
    let credential = "{\"z\": 1,\n  \"a\": \"Zoë \\u00e9\",\t\"n\": 1.50}";
    new.credential_json = vaccred_store::Personal::new(credential.to_owned());
    let outcome = db.store.complete(&claimed.claim, &new).await.unwrap();
    assert_eq!(outcome, Completion::Issued { superseded: None });

    let stored = db.store.certificate(&id).await.unwrap().unwrap();
    assert_eq!(stored.credential_json.expose(), credential);
    assert_eq!(stored.pre_enrollment_code, "N-1");
    assert_eq!(stored.program_id, "P7");
    assert_eq!(stored.dose.get(), 2.5);
    assert_eq!(stored.shape, Shape::V3);
    assert_eq!(stored.key_id.as_str(), "did:example:moh#key-1");
    assert_eq!(stored.name.expose(), "Test Recipient");
    let dob = stored.date_of_birth.as_ref().map(|d| *d.expose());
    assert_eq!(dob, Some(time::macros::date!(1990 - 05 - 17)));
    assert_eq!(stored.contacts.mobiles, ["5550100"]);
    assert_eq!(stored.contacts.emails, ["recipient@example.org"]);
    assert_eq!(
        stored.meta,
        serde_json::json!({"certificateType": "certifyV3"})
    );
    assert_eq!(stored.issued_at, START);
    assert_eq!(stored.status, CertificateStatus::Active);
    assert_eq!(stored.item_id, Some(claimed.claim.item_id()));
    assert!(
        db.store
            .certificate(&db.certificate_id())
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn certificates_found_by_mobile(db: &TestDb) {
    let first = db.issue("H-1", 1.0).await;
    let second = db.issue("H-2", 1.0).await;
    let found = db.store.certificates_for_mobile("5550100").await.unwrap();
    let ids: Vec<_> = found.iter().map(|c| c.certificate_id.clone()).collect();
    assert_eq!(ids, [first, second]);
    assert!(found.iter().all(|c| c.contacts.mobiles == ["5550100"]));
    assert!(
        db.store
            .certificates_for_mobile("5550199")
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.store
            .certificates_for_mobile("recipient@example.org")
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn debug_output_hides_personal_data(db: &TestDb) {
    let id = db.issue("J-1", 1.0).await;
    let stored = db.store.certificate(&id).await.unwrap().unwrap();
    let debug = format!("{stored:?}");
    assert!(!debug.contains("Test Recipient"), "{debug}");
    assert!(!debug.contains("5550100"), "{debug}");
    assert!(!debug.contains("1990"), "{debug}");
    assert!(debug.contains(id.as_str()), "{debug}");
}

pub async fn api_client_crud(db: &TestDb) {
    let hash = SecretHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").unwrap();
    let new = |id: &str| NewApiClient {
        client_id: id.to_owned(),
        name: format!("Facility {id}"),
        secret_hash: hash.clone(),
        roles: vec!["facility-staff".to_owned(), "facility-admin".to_owned()],
    };
    let added = db.store.add_api_client(&new("zeta")).await.unwrap();
    assert_eq!(added.created_at, START);
    db.store.add_api_client(&new("alpha")).await.unwrap();
    let result = db.store.add_api_client(&new("zeta")).await;
    assert!(matches!(result, Err(StoreError::ApiClientExists(ref id)) if id == "zeta"));

    let fetched = db.store.api_client("zeta").await.unwrap().unwrap();
    assert_eq!(fetched, added);
    assert_eq!(fetched.roles, ["facility-staff", "facility-admin"]);
    assert_eq!(fetched.secret_hash.as_str(), hash.as_str());
    assert!(!fetched.is_disabled());
    assert!(db.store.api_client("nobody").await.unwrap().is_none());

    let ids: Vec<_> = db
        .store
        .api_clients()
        .await
        .unwrap()
        .into_iter()
        .map(|client| client.client_id)
        .collect();
    assert_eq!(ids, ["alpha", "zeta"]);

    db.clock.advance(Duration::from_secs(60));
    db.store.disable_api_client("zeta").await.unwrap();
    db.clock.advance(Duration::from_secs(60));
    db.store.disable_api_client("zeta").await.unwrap();
    let disabled = db.store.api_client("zeta").await.unwrap().unwrap();
    assert!(disabled.is_disabled());
    assert_eq!(disabled.disabled_at, Some(START + Duration::from_secs(60)));
    let result = db.store.disable_api_client("nobody").await;
    assert!(
        matches!(result, Err(StoreError::ApiClientNotFound(_))),
        "{result:?}"
    );
}

pub async fn signing_key_lifecycle(db: &TestDb) {
    let key = NewSigningKey {
        key_id: KeyId::new("did:example:moh#key-1").unwrap(),
        algorithm: ProofType::Ed25519Signature2018,
        public_key_pem: "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n"
            .to_owned(),
    };
    let added = db.store.add_signing_key(&key).await.unwrap();
    assert_eq!(added.status, KeyStatus::Active);
    let result = db.store.add_signing_key(&key).await;
    assert!(
        matches!(result, Err(StoreError::SigningKeyExists(_))),
        "{result:?}"
    );

    db.clock.advance(Duration::from_secs(1));
    let rsa = NewSigningKey {
        key_id: KeyId::new("did:example:moh#key-2").unwrap(),
        algorithm: ProofType::RsaSignature2018,
        ..key.clone()
    };
    db.store.add_signing_key(&rsa).await.unwrap();
    db.store.retire_signing_key(&key.key_id).await.unwrap();

    let keys = db.store.signing_keys().await.unwrap();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0].key_id, key.key_id);
    assert_eq!(keys[0].status, KeyStatus::Retired);
    assert_eq!(keys[0].retired_at, Some(START + Duration::from_secs(1)));
    assert_eq!(keys[0].public_key_pem, key.public_key_pem);
    assert_eq!(keys[1].algorithm, ProofType::RsaSignature2018);
    assert_eq!(keys[1].status, KeyStatus::Active);
    let unknown = KeyId::new("did:example:moh#key-9").unwrap();
    let result = db.store.retire_signing_key(&unknown).await;
    assert!(
        matches!(result, Err(StoreError::SigningKeyNotFound(_))),
        "{result:?}"
    );
}

pub async fn health_and_reopen(db: &TestDb) {
    db.store.health().await.unwrap();
    db.issue("I-1", 1.0).await;
    // A second store on the same database skips applied migrations and reads the same data.
    let other = db.second_store().await;
    let found = other.certificates_for_code("I-1").await.unwrap();
    assert_eq!(found.len(), 1);
    let items = [certify_item("I-1", "P1", 1.0)];
    let ack = other
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    assert_eq!(ack.items[0].status, ItemStatus::Duplicate);
    let dose = DoseNumber::new(1.0).unwrap();
    assert_eq!(
        other
            .certificates_for_update("I-1", dose)
            .await
            .unwrap()
            .count,
        1
    );
    other.close().await;
}
