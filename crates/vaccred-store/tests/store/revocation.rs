//! Updates, revocation rules and the revocation list.

use std::time::Duration;

use vaccred_core::credential::DoseNumber;
use vaccred_store::{
    CertificateStatus, Completion, DoseSelection, ItemStatus, RequestKind, RevokeError, StoreError,
};

use crate::support::{LONG_LEASE, TestDb, certificate, certify_item, update_item};

fn dose(value: f64) -> DoseNumber {
    DoseNumber::new(value).unwrap()
}

pub async fn update_supersedes_and_revokes(db: &TestDb) {
    let first = db.issue("V-1", 1.0).await;
    let old = db.issue("V-1", 2.0).await;
    let eligibility = db
        .store
        .certificates_for_update("V-1", dose(2.0))
        .await
        .unwrap();
    assert_eq!(eligibility.count, 1);
    assert_eq!(eligibility.latest.as_ref(), Some(&old));

    db.clock.advance(Duration::from_secs(5));
    let items = [update_item("V-1", 2.0, &old)];
    db.store
        .accept("client-1", RequestKind::Update, &items)
        .await
        .unwrap();
    let claimed = db.claim_one(&db.store, "worker-1").await;
    assert_eq!(claimed.replaces.as_ref(), Some(&old));
    let new = db.certificate_id();
    let outcome = db
        .store
        .complete(&claimed.claim, &certificate(&new))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Completion::Issued {
            superseded: Some(old.clone())
        }
    );

    let stored_old = db.store.certificate(&old).await.unwrap().unwrap();
    assert_eq!(stored_old.status, CertificateStatus::Superseded);
    assert_eq!(stored_old.superseded_by.as_ref(), Some(&new));
    let entry = db.store.revocation(&old).await.unwrap().unwrap();
    assert_eq!(entry.reason, "superseded");
    assert_eq!(entry.dose.get(), 2.0);
    assert_eq!(entry.pre_enrollment_code, "V-1");
    assert_eq!(entry.replaced_by.as_ref(), Some(&new));
    assert_eq!(
        entry.revoked_at,
        crate::support::START + Duration::from_secs(5)
    );
    assert!(db.store.is_revoked(&old).await.unwrap());
    assert!(!db.store.is_revoked(&new).await.unwrap());
    assert!(!db.store.is_revoked(&first).await.unwrap());
    assert!(!db.store.is_revoked_by_key("V-1", dose(2.0)).await.unwrap());

    let eligibility = db
        .store
        .certificates_for_update("V-1", dose(2.0))
        .await
        .unwrap();
    assert_eq!(eligibility.count, 2);
    assert_eq!(eligibility.latest.as_ref(), Some(&new));
    let latest = db.store.latest_certificate("V-1").await.unwrap().unwrap();
    assert_eq!(latest.certificate_id, new);
    assert_eq!(latest.status, CertificateStatus::Active);
}

pub async fn update_limit_counts_queued_updates(db: &TestDb) {
    let original = db.issue("L-1", 1.0).await;
    // Two corrections allowed: one queued in the first body, then the second body contains
    // two more items, of which the second would be the third correction.
    let first = [update_item("L-1", 1.0, &original)];
    db.store
        .accept_updates("client-1", &first, 2)
        .await
        .unwrap();
    let second = [
        update_item("L-1", 1.0, &original),
        update_item("L-1", 1.0, &original),
    ];
    let error = db
        .store
        .accept_updates("client-1", &second, 2)
        .await
        .unwrap_err();
    assert!(
        matches!(error, StoreError::UpdateLimitReached { index: 1, limit: 2 }),
        "{error:?}"
    );
    // Nothing of the refused body was stored.
    assert_eq!(db.count("acknowledgements").await, 2);

    // Eight concurrent bodies race for the one correction left.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = db.store.clone();
        let items = [update_item("L-1", 1.0, &original)];
        tasks.push(tokio::spawn(async move {
            store.accept_updates("client-1", &items, 2).await
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(StoreError::UpdateLimitReached { .. }) => {}
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(accepted, 1);
}

pub async fn concurrent_updates_follow_chain(db: &TestDb) {
    let original = db.issue("W-1", 1.0).await;
    let items = [
        update_item("W-1", 1.0, &original),
        update_item("W-1", 1.0, &original),
    ];
    db.store
        .accept("client-1", RequestKind::Update, &items)
        .await
        .unwrap();
    let claimed = db.store.claim("worker-1", 2, LONG_LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);

    let second = db.certificate_id();
    let outcome = db
        .store
        .complete(&claimed[0].claim, &certificate(&second))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Completion::Issued {
            superseded: Some(original.clone())
        }
    );
    // Both updates named the original, which is already superseded: the newest
    // certificate of the chain is superseded instead.
    let third = db.certificate_id();
    let outcome = db
        .store
        .complete(&claimed[1].claim, &certificate(&third))
        .await
        .unwrap();
    assert_eq!(
        outcome,
        Completion::Issued {
            superseded: Some(second.clone())
        }
    );

    let certificates = db.store.certificates_for_code("W-1").await.unwrap();
    let states: Vec<_> = certificates
        .iter()
        .map(|c| (c.certificate_id.clone(), c.status, c.superseded_by.clone()))
        .collect();
    assert_eq!(
        states,
        [
            (
                original,
                CertificateStatus::Superseded,
                Some(second.clone())
            ),
            (second, CertificateStatus::Superseded, Some(third.clone())),
            (third, CertificateStatus::Active, None),
        ]
    );
    assert_eq!(db.count("revocations").await, 2);
}

pub async fn revoke_enforces_divoc_rules(db: &TestDb) {
    let one = db.issue("X-1", 1.0).await;
    let two = db.issue("X-1", 2.0).await;
    let three = db.issue("X-1", 3.0).await;

    let doses = |list: &[u32]| DoseSelection::Doses(list.to_vec());
    let result = db.store.revoke("X-1", &doses(&[]), "withdrawn").await;
    assert!(matches!(result, Err(RevokeError::NoDoses)), "{result:?}");
    let result = db.store.revoke("X-1", &doses(&[1, 3]), "withdrawn").await;
    assert!(
        matches!(result, Err(RevokeError::NotContiguous { ref doses }) if doses == &[1, 3]),
        "{result:?}"
    );
    let result = db.store.revoke("X-1", &doses(&[1, 2]), "withdrawn").await;
    assert!(
        matches!(result, Err(RevokeError::HighestDoseMissing { highest, .. }) if highest == 3.0),
        "{result:?}"
    );
    let result = db
        .store
        .revoke("X-9", &DoseSelection::All, "withdrawn")
        .await;
    assert!(matches!(result, Err(RevokeError::NotFound)), "{result:?}");
    let result = db.store.revoke("X-1", &doses(&[3]), "").await;
    assert!(
        matches!(result, Err(RevokeError::InvalidReason(_))),
        "{result:?}"
    );
    assert_eq!(
        db.count("revocations").await,
        0,
        "rejected calls revoke nothing"
    );

    let entries = db
        .store
        .revoke("X-1", &doses(&[3, 2]), "withdrawn")
        .await
        .unwrap();
    let revoked: Vec<_> = entries
        .iter()
        .map(|e| (e.certificate_id.clone(), e.dose.get()))
        .collect();
    assert_eq!(revoked, [(two.clone(), 2.0), (three.clone(), 3.0)]);
    assert!(
        entries
            .iter()
            .all(|e| e.reason == "withdrawn" && e.replaced_by.is_none())
    );
    let status = |id| async move { db.store.certificate(id).await.unwrap().unwrap().status };
    assert_eq!(status(&one).await, CertificateStatus::Active);
    assert_eq!(status(&two).await, CertificateStatus::Revoked);
    assert_eq!(status(&three).await, CertificateStatus::Revoked);
    assert!(db.store.is_revoked_by_key("X-1", dose(2.0)).await.unwrap());
    assert!(!db.store.is_revoked_by_key("X-1", dose(1.0)).await.unwrap());

    // Dose 1 is now the highest active dose.
    let result = db.store.revoke("X-1", &doses(&[2]), "withdrawn").await;
    assert!(
        matches!(result, Err(RevokeError::HighestDoseMissing { .. })),
        "{result:?}"
    );
    let entries = db
        .store
        .revoke("X-1", &doses(&[1]), "withdrawn")
        .await
        .unwrap();
    assert_eq!(entries.len(), 1);
    let result = db
        .store
        .revoke("X-1", &DoseSelection::All, "withdrawn")
        .await;
    assert!(matches!(result, Err(RevokeError::NotFound)), "{result:?}");
    // Revocation keeps the idempotency key, and a revoked dose cannot be updated.
    let items = [certify_item("X-1", "P1", 3.0)];
    let again = db
        .store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    assert_eq!(again.items[0].status, ItemStatus::Duplicate);
    let eligibility = db
        .store
        .certificates_for_update("X-1", dose(3.0))
        .await
        .unwrap();
    assert_eq!(eligibility.count, 0);
    assert_eq!(eligibility.latest, None);
}

pub async fn revoke_all_doses(db: &TestDb) {
    db.issue("Y-1", 1.0).await;
    db.issue("Y-1", 2.0).await;
    db.issue("Y-2", 1.0).await;
    let entries = db
        .store
        .revoke("Y-1", &DoseSelection::All, "data-entry-error")
        .await
        .unwrap();
    assert_eq!(entries.len(), 2);
    assert!(db.store.latest_certificate("Y-1").await.unwrap().is_none());
    assert!(db.store.latest_certificate("Y-2").await.unwrap().is_some());
}

pub async fn revocation_list_full_and_delta(db: &TestDb) {
    let empty = db.store.revocation_list(None).await.unwrap();
    assert!(empty.entries.is_empty());
    assert_eq!(empty.max_serial, 0);

    let old = db.issue("Z-1", 1.0).await;
    db.update("Z-1", 1.0, &old).await;
    db.issue("Z-2", 1.0).await;
    db.issue("Z-2", 2.0).await;
    db.store
        .revoke("Z-2", &DoseSelection::All, "withdrawn")
        .await
        .unwrap();

    let full = db.store.revocation_list(None).await.unwrap();
    let serials: Vec<i64> = full.entries.iter().map(|e| e.serial).collect();
    assert_eq!(serials, [1, 2, 3]);
    assert_eq!(full.max_serial, 3);
    assert_eq!(full.entries[0].certificate_id, old);
    assert_eq!(full.entries[0].reason, "superseded");

    let delta = db.store.revocation_list(Some(1)).await.unwrap();
    let serials: Vec<i64> = delta.entries.iter().map(|e| e.serial).collect();
    assert_eq!(serials, [2, 3]);
    assert_eq!(delta.max_serial, 3);
    assert_eq!(delta.entries, full.entries[1..]);

    let none = db.store.revocation_list(Some(3)).await.unwrap();
    assert!(none.entries.is_empty());
    assert_eq!(none.max_serial, 3);
}

pub async fn concurrent_revocations_get_distinct_serials(db: &TestDb) {
    for n in 0..6 {
        db.issue(&format!("K-{n}"), 1.0).await;
    }
    let other = db.second_store().await;
    let mut tasks = Vec::new();
    for n in 0..6 {
        let store = if n % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            store
                .revoke(&format!("K-{n}"), &DoseSelection::All, "withdrawn")
                .await
        }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let list = db.store.revocation_list(None).await.unwrap();
    let serials: Vec<i64> = list.entries.iter().map(|e| e.serial).collect();
    assert_eq!(serials, [1, 2, 3, 4, 5, 6]);
    other.close().await;
}
