//! The queue depth counts queued items, leased or not, but not settled items or
//! duplicates.

use vaccred_store::{Completion, LeaseOutcome, RequestKind};

use crate::support::{LONG_LEASE, TestDb, certificate, certify_item};

pub async fn queue_depth_counts_queued_items(db: &TestDb) {
    assert_eq!(db.store.queue_depth().await.unwrap(), 0);
    let items = [
        certify_item("DEPTH-1", "P1", 1.0),
        certify_item("DEPTH-2", "P1", 1.0),
        certify_item("DEPTH-3", "P1", 1.0),
        // Repeats DEPTH-1, so it is stored as a duplicate and never queued.
        certify_item("DEPTH-1", "P1", 1.0),
    ];
    db.store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    assert_eq!(db.store.queue_depth().await.unwrap(), 3);

    let claimed = db.store.claim("worker-1", 2, LONG_LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(
        db.store.queue_depth().await.unwrap(),
        3,
        "leased items count"
    );

    let id = db.certificate_id();
    let completion = db
        .store
        .complete(&claimed[0].claim, &certificate(&id))
        .await
        .unwrap();
    assert_eq!(completion, Completion::Issued { superseded: None });
    assert_eq!(db.store.queue_depth().await.unwrap(), 2);

    let rejected = db.store.reject(&claimed[1].claim, "invalid").await.unwrap();
    assert_eq!(rejected, LeaseOutcome::Applied);
    assert_eq!(db.store.queue_depth().await.unwrap(), 1);
}
