//! The revoke API: DIVOC 2.0's dose rules, the revoked ids it returns and the revocation
//! check afterwards.

use vaccred_server::auth::Role;

use crate::issuing::{issue_doses, revocation_status, revoke, stored_credential};
use crate::support::{Backend, TestApp, backend_tests};

backend_tests!(
    revoke_selected_doses,
    revoke_all_doses,
    revoke_rejects_bad_dose_lists,
    revoke_unknown_code_is_404,
    revoke_needs_role,
);

async fn revoke_selected_doses(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (code, _, ids) = issue_doses(&app, 3).await;
    let staff = app.token(&[Role::FacilityStaff]).await;

    let (status, body) = revoke(&app, &staff, &code, "doses=3,2&reason=entered-in-error").await;
    assert_eq!(status, 200, "{body}");
    let mut revoked: Vec<String> = serde_json::from_value(body).unwrap();
    revoked.sort();
    let mut expected = vec![ids[1].clone(), ids[2].clone()];
    expected.sort();
    assert_eq!(revoked, expected);

    let dose_1 = stored_credential(&app, &ids[0]).await;
    assert_eq!(revocation_status(&app, &dose_1).await, 404);
    for id in &ids[1..] {
        let credential = stored_credential(&app, id).await;
        assert_eq!(revocation_status(&app, &credential).await, 200, "{id}");
    }
    let entry = app
        .state
        .store()
        .revocation(&ids[2].parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.reason, "entered-in-error");

    // Dose 1 is now the highest active dose, so it can be revoked alone.
    let (status, body) = revoke(&app, &staff, &code, "doses=1").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, serde_json::json!([ids[0]]));
    assert_eq!(revocation_status(&app, &dose_1).await, 200);
    let entry = app
        .state
        .store()
        .revocation(&ids[0].parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.reason, "revoked");
    app.stop().await.unwrap();
}

async fn revoke_all_doses(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (code, _, ids) = issue_doses(&app, 2).await;
    let admin = app.token(&[Role::Admin]).await;

    // allDoses=true overrides a dose list that would be rejected.
    let (status, body) = revoke(&app, &admin, &code, "allDoses=true&doses=1").await;
    assert_eq!(status, 200, "{body}");
    let revoked: Vec<String> = serde_json::from_value(body).unwrap();
    assert_eq!(revoked.len(), 2);
    for id in &ids {
        assert!(revoked.contains(id), "{id} not revoked");
        let credential = stored_credential(&app, id).await;
        assert_eq!(revocation_status(&app, &credential).await, 200, "{id}");
    }

    let (status, _) = revoke(&app, &admin, &code, "allDoses=true").await;
    assert_eq!(status, 404);
    app.stop().await.unwrap();
}

async fn revoke_rejects_bad_dose_lists(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (code, _, ids) = issue_doses(&app, 3).await;
    let api = app.token(&[Role::Api]).await;

    let cases = [
        ("", "INVALID_DOSES"),
        ("doses=", "INVALID_DOSES"),
        ("allDoses=false", "INVALID_DOSES"),
        ("doses=1,3", "INVALID_DOSES"),
        ("doses=1,2", "INVALID_DOSES"),
        ("doses=two", "INVALID_DOSES"),
        ("doses=3&reason=superseded", "INVALID_REASON"),
    ];
    for (query, code_expected) in cases {
        let (status, body) = revoke(&app, &api, &code, query).await;
        assert_eq!(status, 400, "{query:?}: {body}");
        assert_eq!(body["code"], code_expected, "{query:?}");
    }
    for id in &ids {
        let credential = stored_credential(&app, id).await;
        assert_eq!(revocation_status(&app, &credential).await, 404, "{id}");
    }
    app.stop().await.unwrap();
}

async fn revoke_unknown_code_is_404(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let (status, body) = revoke(&app, &staff, "PEC-UNKNOWN", "doses=1").await;
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["code"], "NOT_FOUND");
    let (status, _) = revoke(&app, &staff, "PEC-UNKNOWN", "allDoses=true").await;
    assert_eq!(status, 404);
    app.stop().await.unwrap();
}

async fn revoke_needs_role(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (code, _, _) = issue_doses(&app, 1).await;
    let (status, _) = revoke(&app, "not-a-token", &code, "allDoses=true").await;
    assert_eq!(status, 401);
    let recipient = app.token(&[Role::Recipient]).await;
    let (status, _) = revoke(&app, &recipient, &code, "allDoses=true").await;
    assert_eq!(status, 403);
    let facility_admin = app.token(&[Role::FacilityAdmin]).await;
    let (status, _) = revoke(&app, &facility_admin, &code, "allDoses=true").await;
    assert_eq!(status, 403);
    app.stop().await.unwrap();
}
