//! Accepting request bodies and the idempotency key.

use vaccred_store::{AcknowledgementId, ItemStatus, LeaseOutcome, RequestKind, StoreError};

use crate::support::{LONG_LEASE, TestDb, certificate, certify_item, update_item};

pub async fn accept_is_all_or_nothing(db: &TestDb) {
    // The third item violates the non-empty pre-enrollment code constraint after the
    // first two rows were inserted in the same transaction.
    let items = [
        certify_item("A-1", "P1", 1.0),
        certify_item("A-2", "P1", 1.0),
        certify_item("", "P1", 1.0),
        certify_item("A-4", "P1", 1.0),
    ];
    let result = db
        .store
        .accept("client-1", RequestKind::Certify, &items)
        .await;
    assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
    assert_eq!(db.count("acknowledgements").await, 0);
    assert_eq!(db.count("work_items").await, 0);

    // The keys of the rolled-back items are free.
    let retry = db
        .store
        .accept("client-1", RequestKind::Certify, &items[..2])
        .await
        .unwrap();
    assert!(
        retry
            .items
            .iter()
            .all(|item| item.status == ItemStatus::Queued)
    );
}

pub async fn concurrent_bodies_fail_alone(db: &TestDb) {
    // Bodies sent together may be committed together (SQLite commits them in groups). A
    // failing body must leave the others of its group stored.
    let mut tasks = Vec::new();
    for body in 0..40 {
        let store = db.store.clone();
        let code = if body % 10 == 3 {
            String::new()
        } else {
            format!("G-{body}")
        };
        let items = [
            certify_item(&format!("G-{body}-first"), "P1", 1.0),
            certify_item(&code, "P1", 1.0),
        ];
        tasks.push(tokio::spawn(async move {
            store.accept("client-1", RequestKind::Certify, &items).await
        }));
    }
    let mut failed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(ack) => assert_eq!(ack.items.len(), 2),
            Err(StoreError::Database(_)) => failed += 1,
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
    assert_eq!(failed, 4);
    assert_eq!(db.count("acknowledgements").await, 36);
    assert_eq!(db.count("work_items").await, 72);
}

pub async fn duplicate_within_one_body(db: &TestDb) {
    let items = [
        certify_item("B-1", "P1", 1.0),
        certify_item("B-1", "P1", 2.0),
        certify_item("B-1", "P1", 1.0),
        certify_item("B-1", "P2", 1.0),
    ];
    let ack = db
        .store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    let statuses: Vec<_> = ack.items.iter().map(|item| item.status).collect();
    assert_eq!(
        statuses,
        [
            ItemStatus::Queued,
            ItemStatus::Queued,
            ItemStatus::Duplicate,
            ItemStatus::Queued
        ]
    );
    assert_eq!(ack.items[2].duplicate_of, Some(ack.items[0].item_id));
    assert_eq!(ack.items[2].certificate_id, None);
    let indexes: Vec<_> = ack.items.iter().map(|item| item.index).collect();
    assert_eq!(indexes, [0, 1, 2, 3]);
}

pub async fn duplicate_across_bodies(db: &TestDb) {
    let items = [certify_item("C-1", "P1", 1.0)];
    let first = db
        .store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    let second = db
        .store
        .accept("client-2", RequestKind::Certify, &items)
        .await
        .unwrap();
    assert_eq!(second.items[0].status, ItemStatus::Duplicate);
    assert_eq!(second.items[0].duplicate_of, Some(first.items[0].item_id));
    assert_eq!(second.items[0].certificate_id, None);

    let issued = db.claim_and_complete().await;

    let third = db
        .store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    assert_eq!(third.items[0].status, ItemStatus::Duplicate);
    assert_eq!(third.items[0].certificate_id.as_ref(), Some(&issued));

    // The earlier duplicate now reports the original's certificate.
    let status = db.store.acknowledgement(second.id).await.unwrap().unwrap();
    assert_eq!(status.items[0].status, ItemStatus::Duplicate);
    assert_eq!(status.items[0].certificate_id.as_ref(), Some(&issued));
    assert_eq!(status.items[0].duplicate_of, Some(first.items[0].item_id));

    // Duplicates are never claimed.
    let claimed = db.store.claim("worker-1", 10, LONG_LEASE).await.unwrap();
    assert!(claimed.is_empty());
}

pub async fn concurrent_accepts_yield_one_original(db: &TestDb) {
    let other = db.second_store().await;
    let mut tasks = Vec::new();
    for task in 0..8 {
        let store = if task % 2 == 0 {
            db.store.clone()
        } else {
            other.clone()
        };
        tasks.push(tokio::spawn(async move {
            let items = [
                certify_item("D-1", "P1", 1.0),
                certify_item("D-2", "P1", 1.0),
            ];
            store.accept("client-1", RequestKind::Certify, &items).await
        }));
    }
    let mut acks = Vec::new();
    for task in tasks {
        acks.push(task.await.unwrap().unwrap());
    }
    for index in 0..2 {
        let queued: Vec<_> = acks
            .iter()
            .map(|ack| &ack.items[index])
            .filter(|item| item.status == ItemStatus::Queued)
            .collect();
        assert_eq!(queued.len(), 1, "item {index}: exactly one original");
        let original = queued[0].item_id;
        for ack in &acks {
            let item = &ack.items[index];
            if item.item_id != original {
                assert_eq!(item.status, ItemStatus::Duplicate);
                assert_eq!(item.duplicate_of, Some(original));
            }
        }
    }
    assert_eq!(db.count("work_items").await, 16);
    other.close().await;
}

pub async fn rejected_original_frees_key(db: &TestDb) {
    let items = [certify_item("E-1", "P1", 1.0)];
    db.store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    let claimed = db.claim_one(&db.store, "worker-1").await;
    let outcome = db
        .store
        .reject(&claimed.claim, "missing tel: contact")
        .await
        .unwrap();
    assert_eq!(outcome, LeaseOutcome::Applied);

    let again = db
        .store
        .accept("client-1", RequestKind::Certify, &items)
        .await
        .unwrap();
    assert_eq!(again.items[0].status, ItemStatus::Queued);
}

pub async fn update_items_skip_idempotency(db: &TestDb) {
    let original = db.issue("F-1", 1.0).await;
    let items = [
        update_item("F-1", 1.0, &original),
        update_item("F-1", 1.0, &original),
    ];
    let ack = db
        .store
        .accept("client-1", RequestKind::Update, &items)
        .await
        .unwrap();
    assert!(
        ack.items
            .iter()
            .all(|item| item.status == ItemStatus::Queued)
    );

    let missing = [certify_item("F-1", "P1", 1.0)];
    let result = db
        .store
        .accept("client-1", RequestKind::Update, &missing)
        .await;
    assert!(
        matches!(result, Err(StoreError::InvalidItem { index: 0, .. })),
        "{result:?}"
    );
    let certify_with_replace = [update_item("F-1", 1.0, &original)];
    let result = db
        .store
        .accept("client-1", RequestKind::Certify, &certify_with_replace)
        .await;
    assert!(
        matches!(result, Err(StoreError::InvalidItem { index: 0, .. })),
        "{result:?}"
    );
}

pub async fn acknowledgement_reports_item_states(db: &TestDb) {
    let items = [
        certify_item("G-1", "P1", 1.0),
        certify_item("G-2", "P1", 1.0),
    ];
    let ack = db
        .store
        .accept("client-7", RequestKind::Certify, &items)
        .await
        .unwrap();
    assert_eq!(ack.received_at, crate::support::START);

    let claimed = db.store.claim("worker-1", 2, LONG_LEASE).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let issued = db.certificate_id();
    let outcome = db
        .store
        .complete(&claimed[0].claim, &certificate(&issued))
        .await
        .unwrap();
    assert!(matches!(
        outcome,
        vaccred_store::Completion::Issued { superseded: None }
    ));
    let outcome = db
        .store
        .reject(&claimed[1].claim, "programId is required")
        .await
        .unwrap();
    assert_eq!(outcome, LeaseOutcome::Applied);

    let status = db.store.acknowledgement(ack.id).await.unwrap().unwrap();
    assert_eq!(status.client_id, "client-7");
    assert_eq!(status.kind, RequestKind::Certify);
    assert_eq!(status.received_at, crate::support::START);
    assert_eq!(status.items.len(), 2);
    assert_eq!(status.items[0].status, ItemStatus::Issued);
    assert_eq!(status.items[0].certificate_id.as_ref(), Some(&issued));
    assert_eq!(status.items[0].attempts, 1);
    assert_eq!(status.items[1].status, ItemStatus::Rejected);
    assert_eq!(
        status.items[1].reason.as_deref(),
        Some("programId is required")
    );
    assert_eq!(status.items[1].certificate_id, None);

    let unknown = db
        .store
        .acknowledgement(AcknowledgementId::new_random())
        .await
        .unwrap();
    assert!(unknown.is_none());
}

pub async fn empty_body_is_acknowledged(db: &TestDb) {
    let ack = db
        .store
        .accept("client-1", RequestKind::Certify, &[])
        .await
        .unwrap();
    assert!(ack.items.is_empty());
    let status = db.store.acknowledgement(ack.id).await.unwrap().unwrap();
    assert!(status.items.is_empty());
}
