//! Certificate retrieval by pre-enrollment code, recipient ownership and revocation checks.

use serde_json::{Value, json};
use vaccred_server::auth::Role;
use vaccred_store::DoseSelection;

use crate::oidc::{TestProvider, app_trusting};
use crate::support::{Backend, TestApp, backend_tests, certify_request};

backend_tests!(
    recipient_reads_only_own_certificate,
    unknown_code_is_404,
    pdf_is_not_implemented,
    revocation_check_answers,
);

/// Certifies one request and waits for its certificate. Returns the pre-enrollment code
/// and the certificate id.
async fn issue(app: &TestApp, mobile: &str) -> (String, String) {
    let staff = app.token(&[Role::FacilityStaff]).await;
    let request = certify_request(mobile);
    let code = request["preEnrollmentCode"].as_str().unwrap().to_owned();
    let (status, body) = app.certify(&staff, 3, &json!([request])).await;
    assert_eq!(status, 200, "{body}");
    let settled = app
        .wait_settled(&staff, body["acknowledgementId"].as_str().unwrap())
        .await;
    let certificate_id = settled["items"][0]["certificateId"]
        .as_str()
        .unwrap_or_else(|| panic!("not issued: {settled}"))
        .to_owned();
    (code, certificate_id)
}

async fn recipient_reads_only_own_certificate(backend: Backend) {
    let provider = TestProvider::new();
    let app = app_trusting(backend, &provider, None).await;
    let (code, _) = issue(&app, "8765550001").await;
    let path = format!("/certificate/api/certificateQRCode/{code}");

    let owner = provider.user_token("certificate-login", &["recipient"], "8765550001");
    let response = app
        .http
        .get(app.url(&path))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().starts_with(b"\x89PNG"));

    let stranger = provider.user_token("certificate-login", &["recipient"], "8765550002");
    let response = app
        .http
        .get(app.url(&path))
        .bearer_auth(&stranger)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    let no_role = provider.user_token("certificate-login", &["uma_authorization"], "8765550001");
    let response = app
        .http
        .get(app.url(&path))
        .bearer_auth(&no_role)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    app.stop().await.unwrap();
}

async fn unknown_code_is_404(backend: Backend) {
    let app = TestApp::start(backend).await;
    let reader = app.token(&[Role::Api]).await;
    let response = app
        .http
        .get(app.url("/certificate/api/certificateQRCode/NO-SUCH-CODE"))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "NOT_FOUND");

    let admin = app.token(&[Role::FacilityAdmin]).await;
    let response = app
        .http
        .get(app.url("/divoc/api/v1/certificates/999999999"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    app.stop().await.unwrap();
}

async fn pdf_is_not_implemented(backend: Backend) {
    let app = TestApp::start(backend).await;
    let reader = app.token(&[Role::Api]).await;
    let path = app.url("/certificate/api/certificatePDF/ANY-CODE");
    let response = app
        .http
        .get(&path)
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 501);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "NOT_IMPLEMENTED");
    assert_eq!(
        body["message"],
        "PDF certificates are not available yet; fetch the QR code or the credential instead"
    );
    let response = app
        .http
        .head(&path)
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 501);
    let response = app.http.get(&path).send().await.unwrap();
    assert_eq!(response.status(), 401);
    app.stop().await.unwrap();
}

async fn revocation_check_answers(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (code, certificate_id) = issue(&app, "8765550003").await;
    let id = certificate_id.parse().unwrap();
    let stored = app.state.store().certificate(&id).await.unwrap().unwrap();
    let credential = stored.credential_json.expose().clone();
    let check = |body: String| {
        let request = app
            .http
            .post(app.url("/divoc/api/v1/certificate/revoked"))
            .header("content-type", "application/json")
            .body(body);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body = response.bytes().await.unwrap();
            assert!(body.is_empty(), "status {status} has a body");
            status
        }
    };

    assert_eq!(check(credential.clone()).await, 404);
    assert_eq!(check(String::new()).await, 400);
    assert_eq!(check("{}".to_owned()).await, 400);
    assert_eq!(check("not json".to_owned()).await, 400);
    assert_eq!(check(json!({"evidence": []}).to_string()).await, 400);

    // A credential this server never issued is looked up by refId and dose.
    let imported = json!({
        "credentialSubject": {"refId": code},
        "evidence": [{"certificateId": "DIVOC-123", "dose": 1}],
    })
    .to_string();
    assert_eq!(check(imported.clone()).await, 404);

    app.state
        .store()
        .revoke(&code, &DoseSelection::All, "entered in error")
        .await
        .unwrap();
    assert_eq!(check(credential).await, 200);
    assert_eq!(check(imported).await, 200);
    app.stop().await.unwrap();
}
