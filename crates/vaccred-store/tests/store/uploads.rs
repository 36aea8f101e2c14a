//! Bulk certification uploads: rows, error rows and the derived status.

use vaccred_store::{
    Completion, ItemStatus, LeaseOutcome, NewUploadRow, Personal, StoreError, UploadRowContent,
    UploadStatus,
};

use crate::support::{TestDb, certificate, certify_item};

fn item_row(line: u64, code: &str) -> NewUploadRow {
    NewUploadRow {
        line,
        cells: Personal::new(vec![code.to_owned(), "1".to_owned()]),
        content: UploadRowContent::Item(certify_item(code, "P1", 1.0)),
    }
}

fn error_row(line: u64, problems: &[&str]) -> NewUploadRow {
    NewUploadRow {
        line,
        cells: Personal::new(vec![String::new(), "x".to_owned()]),
        content: UploadRowContent::Errors(problems.iter().map(|p| (*p).to_owned()).collect()),
    }
}

fn columns() -> Vec<String> {
    vec!["preEnrollmentCode".to_owned(), "vaccinationDose".to_owned()]
}

pub async fn upload_stores_items_and_errors(db: &TestDb) {
    let rows = [
        item_row(2, "U-1"),
        error_row(
            3,
            &[
                "preEnrollmentCode is required",
                "vaccinationDose is not a number",
            ],
        ),
        item_row(4, "U-2"),
        item_row(5, "U-1"),
    ];
    let receipt = db
        .store
        .accept_upload("admin-1", "batch.csv", &columns(), &rows)
        .await
        .unwrap();
    let statuses: Vec<_> = receipt
        .acknowledgement
        .items
        .iter()
        .map(|item| item.status)
        .collect();
    assert_eq!(
        statuses,
        [
            ItemStatus::Queued,
            ItemStatus::Queued,
            ItemStatus::Duplicate
        ]
    );
    assert_eq!(db.count("upload_rows").await, 4);

    let uploads = db.store.uploads("admin-1").await.unwrap();
    assert_eq!(uploads.len(), 1);
    let upload = &uploads[0];
    assert_eq!(upload.id, receipt.upload_id);
    assert_eq!(upload.filename, "batch.csv");
    assert_eq!(upload.columns, columns());
    assert_eq!(upload.acknowledgement_id, receipt.acknowledgement.id);
    assert_eq!(upload.total_records, 4);
    assert_eq!(upload.total_error_rows, 1);
    assert_eq!(upload.status, UploadStatus::Processing);

    let errors = db.store.upload_errors(receipt.upload_id).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 3);
    assert_eq!(errors[0].cells.expose(), &["", "x"]);
    assert_eq!(
        errors[0].errors,
        "preEnrollmentCode is required; vaccinationDose is not a number"
    );

    assert!(db.store.uploads("admin-2").await.unwrap().is_empty());
    let found = db.store.upload(receipt.upload_id).await.unwrap().unwrap();
    assert_eq!(found.client_id, "admin-1");
    assert!(
        db.store
            .upload(receipt.upload_id + 100)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn upload_status_follows_items(db: &TestDb) {
    let clean = db
        .store
        .accept_upload("admin-1", "clean.csv", &columns(), &[item_row(2, "S-1")])
        .await
        .unwrap();
    let partial = db
        .store
        .accept_upload(
            "admin-1",
            "partial.csv",
            &columns(),
            &[
                item_row(2, "S-2"),
                error_row(3, &["recipientName is required"]),
            ],
        )
        .await
        .unwrap();
    let rejected = db
        .store
        .accept_upload("admin-1", "rejected.csv", &columns(), &[item_row(2, "S-3")])
        .await
        .unwrap();

    for _ in 0..2 {
        let claimed = db.claim_one(&db.store, "worker-1").await;
        let id = db.certificate_id();
        let outcome = db
            .store
            .complete(&claimed.claim, &certificate(&id))
            .await
            .unwrap();
        assert!(matches!(outcome, Completion::Issued { .. }), "{outcome:?}");
    }
    let claimed = db.claim_one(&db.store, "worker-1").await;
    let outcome = db
        .store
        .reject(&claimed.claim, "vaccine name unknown")
        .await
        .unwrap();
    assert_eq!(outcome, LeaseOutcome::Applied);

    let status = |id: i64| async move { db.store.upload(id).await.unwrap().unwrap() };
    let clean_summary = status(clean.upload_id).await;
    assert_eq!(clean_summary.status, UploadStatus::Success);
    assert_eq!(clean_summary.total_error_rows, 0);
    let partial_summary = status(partial.upload_id).await;
    assert_eq!(partial_summary.status, UploadStatus::Failed);
    assert_eq!(partial_summary.total_error_rows, 1);
    let rejected_summary = status(rejected.upload_id).await;
    assert_eq!(rejected_summary.status, UploadStatus::Failed);
    assert_eq!(rejected_summary.total_error_rows, 1);

    let errors = db.store.upload_errors(rejected.upload_id).await.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 2);
    assert_eq!(errors[0].errors, "vaccine name unknown");

    let listed: Vec<i64> = db
        .store
        .uploads("admin-1")
        .await
        .unwrap()
        .iter()
        .map(|upload| upload.id)
        .collect();
    assert_eq!(
        listed,
        [rejected.upload_id, partial.upload_id, clean.upload_id]
    );
}

pub async fn upload_of_only_errors_is_failed(db: &TestDb) {
    let receipt = db
        .store
        .accept_upload("admin-1", "bad.csv", &columns(), &[error_row(2, &["bad"])])
        .await
        .unwrap();
    assert!(receipt.acknowledgement.items.is_empty());
    let upload = db.store.upload(receipt.upload_id).await.unwrap().unwrap();
    assert_eq!(upload.status, UploadStatus::Failed);
    assert_eq!(db.count("work_items").await, 0);
}

pub async fn upload_is_all_or_nothing(db: &TestDb) {
    // The repeated line number violates the primary key after the items were inserted.
    let rows = [item_row(2, "N-1"), item_row(2, "N-2")];
    let result = db
        .store
        .accept_upload("admin-1", "dup.csv", &columns(), &rows)
        .await;
    assert!(matches!(result, Err(StoreError::Database(_))), "{result:?}");
    assert_eq!(db.count("uploads").await, 0);
    assert_eq!(db.count("upload_rows").await, 0);
    assert_eq!(db.count("work_items").await, 0);
    assert_eq!(db.count("acknowledgements").await, 0);
}
