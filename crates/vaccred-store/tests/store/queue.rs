//! Claiming and settling work items.

use std::collections::HashSet;
use std::time::Duration;

use vaccred_store::{Completion, ItemStatus, LeaseOutcome, RequestKind, Store, StoreError};

use crate::support::{LONG_LEASE, TestDb, certificate, certify_item};

const LEASE: Duration = Duration::from_secs(30);

async fn accept_codes(db: &TestDb, prefix: &str, count: usize) {
    let items: Vec<_> = (0..count)
        .map(|n| certify_item(&format!("{prefix}-{n}"), "P1", 1.0))
        .collect();
    db.store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
}

/// Claims and completes items until none is left; returns the completed item ids.
async fn drain(db: &TestDb, store: Store, worker: &'static str) -> Vec<i64> {
    let mut completed = Vec::new();
    loop {
        let claimed = store.claim(worker, 2, LONG_LEASE).await.unwrap();
        if claimed.is_empty() {
            return completed;
        }
        for item in claimed {
            let id = db.certificate_id();
            let outcome = store
                .complete(&item.claim, &certificate(&id))
                .await
                .unwrap();
            let item_id = item.claim.item_id();
            assert_eq!(
                outcome,
                Completion::Issued { superseded: None },
                "{worker}, item {item_id}"
            );
            completed.push(item_id.get());
        }
    }
}

pub async fn workers_complete_each_item_once(db: &TestDb) {
    const ITEMS: usize = 120;
    accept_codes(db, "Q", ITEMS).await;
    let other = db.second_store().await;
    let (a, b, c, d) = tokio::join!(
        drain(db, db.store.clone(), "worker-a"),
        drain(db, db.store.clone(), "worker-b"),
        drain(db, other.clone(), "worker-c"),
        drain(db, other.clone(), "worker-d"),
    );
    let all: Vec<i64> = [a, b, c, d].concat();
    let distinct: HashSet<i64> = all.iter().copied().collect();
    assert_eq!(all.len(), ITEMS);
    assert_eq!(distinct.len(), ITEMS);
    assert_eq!(db.count("certificates").await, ITEMS as i64);
    other.close().await;
}

pub async fn expired_lease_is_taken_over(db: &TestDb) {
    accept_codes(db, "T", 1).await;
    let other = db.second_store().await;
    let first = db.store.claim("worker-a", 5, LEASE).await.unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].attempts, 1);

    // Held lease: nothing to claim, even just before expiry.
    db.clock.advance(LEASE - Duration::from_millis(1));
    assert!(other.claim("worker-b", 5, LEASE).await.unwrap().is_empty());

    db.clock.advance(Duration::from_millis(1));
    let second = other.claim("worker-b", 5, LEASE).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].claim.item_id(), first[0].claim.item_id());
    assert_eq!(second[0].attempts, 2);

    let stale = db.certificate_id();
    let outcome = db
        .store
        .complete(&first[0].claim, &certificate(&stale))
        .await
        .unwrap();
    assert_eq!(outcome, Completion::LostLease);
    let fresh = db.certificate_id();
    let outcome = other
        .complete(&second[0].claim, &certificate(&fresh))
        .await
        .unwrap();
    assert_eq!(outcome, Completion::Issued { superseded: None });
    assert_eq!(db.count("certificates").await, 1);
    other.close().await;
}

pub async fn lost_lease_changes_nothing(db: &TestDb) {
    accept_codes(db, "L", 1).await;
    let first = db.claim_one(&db.store, "worker-a").await;
    db.clock.advance(LONG_LEASE);
    let second = db.claim_one(&db.store, "worker-b").await;

    let stale = db.certificate_id();
    let outcome = db
        .store
        .complete(&first.claim, &certificate(&stale))
        .await
        .unwrap();
    assert_eq!(outcome, Completion::LostLease);
    assert!(db.store.certificate(&stale).await.unwrap().is_none());
    assert_eq!(db.count("certificates").await, 0);
    assert_eq!(db.count("certificate_contacts").await, 0);

    let reject = db.store.reject(&first.claim, "late").await.unwrap();
    assert_eq!(reject, LeaseOutcome::LostLease);
    let release = db.store.release(&first.claim).await.unwrap();
    assert_eq!(release, LeaseOutcome::LostLease);
    let retry = db
        .store
        .retry_later(&first.claim, "late", LEASE)
        .await
        .unwrap();
    assert_eq!(retry, LeaseOutcome::LostLease);

    let status = db
        .store
        .acknowledgement(second.acknowledgement_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.items[0].status, ItemStatus::Queued);
    assert_eq!(status.items[0].reason, None);

    // The current holder is unaffected.
    let id = db.certificate_id();
    let outcome = db
        .store
        .complete(&second.claim, &certificate(&id))
        .await
        .unwrap();
    assert_eq!(outcome, Completion::Issued { superseded: None });
    // A settled claim cannot complete again.
    let again = db.certificate_id();
    let outcome = db
        .store
        .complete(&second.claim, &certificate(&again))
        .await
        .unwrap();
    assert_eq!(outcome, Completion::LostLease);
}

/// Races the expired holder's completion against a second worker's claim and
/// completion. Either may win, but the item yields exactly one certificate.
pub async fn expired_lease_race_issues_once(db: &TestDb) {
    let other = db.second_store().await;
    for round in 0..10 {
        accept_codes(db, &format!("R{round}"), 1).await;
        let first = db.claim_one(&db.store, "worker-a").await;
        db.clock.advance(LEASE);
        let stale_id = db.certificate_id();
        let fresh_id = db.certificate_id();
        let stale_certificate = certificate(&stale_id);
        let stale = db.store.complete(&first.claim, &stale_certificate);
        let takeover = async {
            let claimed = other.claim("worker-b", 1, LEASE).await.unwrap();
            match claimed.first() {
                Some(item) => Some(other.complete(&item.claim, &certificate(&fresh_id)).await),
                None => None,
            }
        };
        let (stale, takeover) = tokio::join!(stale, takeover);
        let issued = [Some(stale.unwrap()), takeover.map(Result::unwrap)]
            .into_iter()
            .flatten()
            .filter(|outcome| matches!(outcome, Completion::Issued { .. }))
            .count();
        assert_eq!(issued, 1, "round {round}");
        assert_eq!(db.count("certificates").await, round + 1, "round {round}");
    }
    other.close().await;
}

pub async fn retry_later_backs_off(db: &TestDb) {
    accept_codes(db, "B", 1).await;
    let first = db.claim_one(&db.store, "worker-a").await;
    let backoff = Duration::from_secs(60);
    let outcome = db
        .store
        .retry_later(&first.claim, "signer unavailable", backoff)
        .await
        .unwrap();
    assert_eq!(outcome, LeaseOutcome::Applied);

    db.clock.advance(backoff - Duration::from_millis(1));
    assert!(
        db.store
            .claim("worker-a", 1, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    db.clock.advance(Duration::from_millis(1));
    let second = db.claim_one(&db.store, "worker-a").await;
    assert_eq!(second.attempts, 2);

    let status = db
        .store
        .acknowledgement(second.acknowledgement_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        status.items[0].last_error.as_deref(),
        Some("signer unavailable")
    );
    assert_eq!(status.items[0].attempts, 2);
}

pub async fn release_returns_item_at_once(db: &TestDb) {
    accept_codes(db, "S", 1).await;
    let first = db.claim_one(&db.store, "worker-a").await;
    let outcome = db.store.release(&first.claim).await.unwrap();
    assert_eq!(outcome, LeaseOutcome::Applied);
    let second = db.claim_one(&db.store, "worker-b").await;
    assert_eq!(second.claim.item_id(), first.claim.item_id());
    assert_eq!(second.attempts, 1, "a released claim is not an attempt");
    assert_eq!(second.claim.worker_id(), "worker-b");
}

pub async fn claim_takes_oldest_first(db: &TestDb) {
    accept_codes(db, "O", 5).await;
    assert!(
        db.store
            .claim("worker-a", 0, LEASE)
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = db.store.claim("worker-a", 3, LEASE).await.unwrap();
    let codes: Vec<_> = claimed
        .iter()
        .map(|item| item.pre_enrollment_code.as_str())
        .collect();
    assert_eq!(codes, ["O-0", "O-1", "O-2"]);
    let item = &claimed[0];
    assert_eq!(item.index, 0);
    assert_eq!(item.kind, RequestKind::Certify);
    assert_eq!(item.program_id, "P1");
    assert_eq!(item.dose.get(), 1.0);
    assert!(item.request_json.expose().contains("\"O-0\""));
    assert_eq!(
        item.claim.expires_at(),
        crate::support::START + LEASE,
        "lease expiry follows the store clock"
    );
    let rest = db.store.claim("worker-b", 10, LEASE).await.unwrap();
    assert_eq!(rest.len(), 2);
}

pub async fn taken_certificate_id_keeps_lease(db: &TestDb) {
    let taken = db.issue("U-1", 1.0).await;
    accept_codes(db, "U", 1).await;
    let claimed = db.claim_one(&db.store, "worker-a").await;
    let result = db
        .store
        .complete(&claimed.claim, &certificate(&taken))
        .await;
    assert!(
        matches!(result, Err(StoreError::CertificateIdInUse(ref id)) if *id == taken),
        "{result:?}"
    );
    let fresh = db.certificate_id();
    let outcome = db
        .store
        .complete(&claimed.claim, &certificate(&fresh))
        .await
        .unwrap();
    assert_eq!(outcome, Completion::Issued { superseded: None });
    assert_eq!(db.count("certificates").await, 2);
}

pub async fn batch_completes_owned_items(db: &TestDb) {
    accept_codes(db, "B", 3).await;
    let claimed = db.store.claim("worker-a", 3, LONG_LEASE).await.unwrap();
    assert_eq!(claimed.len(), 3);
    // The third item's lease passes to another worker before the batch is stored.
    let ids: Vec<_> = claimed.iter().map(|_| db.certificate_id()).collect();
    let certificates: Vec<_> = ids.iter().map(certificate).collect();
    let released = db.store.release(&claimed[2].claim).await.unwrap();
    assert_eq!(released, LeaseOutcome::Applied);
    let taken_over = db.claim_one(&db.store, "worker-b").await;
    let pairs: Vec<_> = claimed
        .iter()
        .zip(&certificates)
        .map(|(item, certificate)| (&item.claim, certificate))
        .collect();
    let completions = db.store.complete_batch(&pairs).await.unwrap();
    let issued = Completion::Issued { superseded: None };
    assert_eq!(
        completions,
        vec![issued.clone(), issued, Completion::LostLease]
    );
    assert!(db.store.certificate(&ids[0]).await.unwrap().is_some());
    assert!(db.store.certificate(&ids[1]).await.unwrap().is_some());
    assert!(db.store.certificate(&ids[2]).await.unwrap().is_none());
    assert_eq!(db.count("certificates").await, 2);
    let fresh = db.certificate_id();
    let outcome = db
        .store
        .complete(&taken_over.claim, &certificate(&fresh))
        .await
        .unwrap();
    assert_eq!(outcome, Completion::Issued { superseded: None });
}

pub async fn batch_with_taken_id_stores_nothing(db: &TestDb) {
    let taken = db.issue("Z-1", 1.0).await;
    accept_codes(db, "T", 2).await;
    let claimed = db.store.claim("worker-a", 2, LONG_LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let fresh = db.certificate_id();
    let certificates = [certificate(&fresh), certificate(&taken)];
    let pairs = [
        (&claimed[0].claim, &certificates[0]),
        (&claimed[1].claim, &certificates[1]),
    ];
    let result = db.store.complete_batch(&pairs).await;
    assert!(
        matches!(result, Err(StoreError::CertificateIdInUse(ref id)) if *id == taken),
        "{result:?}"
    );
    assert!(db.store.certificate(&fresh).await.unwrap().is_none());
    assert_eq!(db.count("certificates").await, 1);
    // Both claims still hold their items.
    let outcome = db
        .store
        .complete(&claimed[0].claim, &certificate(&fresh))
        .await
        .unwrap();
    assert_eq!(outcome, Completion::Issued { superseded: None });
}
