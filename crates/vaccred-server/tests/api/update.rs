//! The update (correction) API: new certificates replace old ones, which the revocation
//! check then reports, and DIVOC's 412 cases store nothing.

use serde_json::{Value, json};
use vaccred_server::auth::Role;
use vaccred_store::CertificateStatus;

use crate::issuing::{issue_doses, revocation_status, settled_certificate_ids, stored_credential};
use crate::support::{Backend, TestApp, backend_tests, certify_request};

backend_tests!(
    update_supersedes_old_certificate,
    update_without_certificate_is_412,
    update_is_all_or_nothing,
    update_limit_is_412,
    update_needs_certify_role,
);

/// Sends an update body and returns the status and raw body.
async fn update(app: &TestApp, token: &str, version: u8, body: &Value) -> (u16, Vec<u8>) {
    let response = app
        .http
        .put(app.url(&format!("/divoc/api/v{version}/certificate")))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.bytes().await.unwrap().to_vec())
}

fn corrected(request: &Value) -> Value {
    let mut request = request.clone();
    request["recipient"]["name"] = json!("Corrected Recipient");
    request
}

async fn update_supersedes_old_certificate(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, request, ids) = issue_doses(&app, 1).await;
    let old_id = ids[0].clone();
    let staff = app.token(&[Role::FacilityStaff]).await;

    for version in [1, 3] {
        let (status, body) = update(&app, &staff, version, &json!([corrected(&request)])).await;
        assert_eq!(
            status,
            200,
            "v{version}: {}",
            String::from_utf8_lossy(&body)
        );
        let accepted: Value = serde_json::from_slice(&body).unwrap();
        let new_ids = settled_certificate_ids(&app, &staff, &accepted).await;
        assert_eq!(new_ids.len(), 1);
        assert_ne!(new_ids[0], old_id);

        let acknowledgement = app
            .http
            .get(app.url(&format!(
                "/divoc/api/v1/acknowledgements/{}",
                accepted["acknowledgementId"].as_str().unwrap()
            )))
            .bearer_auth(&staff)
            .send()
            .await
            .unwrap();
        let acknowledgement: Value = acknowledgement.json().await.unwrap();
        assert_eq!(acknowledgement["kind"], "update");
    }

    let store = app.state.store();
    let old = store
        .certificate(&old_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(old.status, CertificateStatus::Superseded);
    let latest = store
        .certificates_for_update(&old.pre_enrollment_code, old.dose)
        .await
        .unwrap()
        .latest
        .unwrap()
        .to_string();
    let latest_credential = stored_credential(&app, &latest).await;
    assert!(latest_credential.contains("Corrected Recipient"));

    let old_credential = stored_credential(&app, &old_id).await;
    assert_eq!(revocation_status(&app, &old_credential).await, 200);
    assert_eq!(revocation_status(&app, &latest_credential).await, 404);
    app.stop().await.unwrap();
}

async fn update_without_certificate_is_412(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, request, _) = issue_doses(&app, 1).await;
    let staff = app.token(&[Role::FacilityStaff]).await;

    let unknown = certify_request("8765550101");
    let (status, body) = update(&app, &staff, 3, &json!([unknown])).await;
    assert_eq!(status, 412);
    assert!(body.is_empty(), "412 has a body");

    let mut second_dose = request.clone();
    second_dose["vaccination"]["dose"] = json!(2);
    let (status, body) = update(&app, &staff, 1, &json!([second_dose])).await;
    assert_eq!(status, 412);
    assert!(body.is_empty(), "412 has a body");
    app.stop().await.unwrap();
}

async fn update_is_all_or_nothing(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (code, request, ids) = issue_doses(&app, 1).await;
    let staff = app.token(&[Role::FacilityStaff]).await;

    let body = json!([corrected(&request), certify_request("8765550102")]);
    let (status, _) = update(&app, &staff, 3, &body).await;
    assert_eq!(status, 412);

    assert_eq!(app.state.store().queue_depth().await.unwrap(), 0);
    let certificates = app
        .state
        .store()
        .certificates_for_code(&code)
        .await
        .unwrap();
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0].certificate_id.to_string(), ids[0]);
    assert_eq!(certificates[0].status, CertificateStatus::Active);
    app.stop().await.unwrap();
}

async fn update_limit_is_412(backend: Backend) {
    let app = TestApp::start_with(backend, |config| config.update_limit = 1).await;
    let (_, request, _) = issue_doses(&app, 1).await;
    let staff = app.token(&[Role::FacilityStaff]).await;

    let (status, body) = update(&app, &staff, 3, &json!([corrected(&request)])).await;
    assert_eq!(status, 200);
    let accepted: Value = serde_json::from_slice(&body).unwrap();
    settled_certificate_ids(&app, &staff, &accepted).await;

    let (status, body) = update(&app, &staff, 3, &json!([corrected(&request)])).await;
    assert_eq!(status, 412);
    assert!(body.is_empty(), "412 has a body");
    app.stop().await.unwrap();
}

async fn update_needs_certify_role(backend: Backend) {
    let app = TestApp::start(backend).await;
    let request = certify_request("8765550103");
    let (status, _) = update(&app, "not-a-token", 3, &json!([request])).await;
    assert_eq!(status, 401);
    let recipient = app.token(&[Role::Recipient]).await;
    let (status, _) = update(&app, &recipient, 3, &json!([request])).await;
    assert_eq!(status, 403);
    let api = app.token(&[Role::Api]).await;
    let (status, _) = update(&app, &api, 3, &json!([request])).await;
    assert_eq!(status, 412);
    app.stop().await.unwrap();
}
