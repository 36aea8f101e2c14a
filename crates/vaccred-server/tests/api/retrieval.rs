//! Certificate retrieval by pre-enrollment code, recipient ownership and revocation checks.

use serde_json::{Value, json};
use vaccred_server::auth::Role;
use vaccred_store::DoseSelection;

use crate::oidc::{TestProvider, app_trusting};
use vaccred_server::Server;

use crate::support::{Backend, TestApp, backend_tests, certify_request, test_config};

backend_tests!(
    recipient_reads_only_own_certificate,
    unknown_code_is_404,
    pdf_lists_earlier_doses,
    record_returns_pdf_when_accepted,
    citizen_downloads_pdf_by_id,
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

/// Extracts a PDF's text with poppler's `pdftotext`.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, pdf).unwrap();
    let output = std::process::Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) must be installed");
    assert!(output.status.success(), "pdftotext failed");
    String::from_utf8(output.stdout).unwrap()
}

async fn pdf_lists_earlier_doses(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let first = certify_request("8765550004");
    let code = first["preEnrollmentCode"].as_str().unwrap().to_owned();
    let mut second = first.clone();
    second["vaccination"]["dose"] = json!(2);
    second["vaccination"]["batch"] = json!("SECOND-BATCH");
    second["vaccination"]["date"] = json!("2021-06-12T10:00:00Z");
    for request in [first, second] {
        let (status, body) = app.certify(&staff, 3, &json!([request])).await;
        assert_eq!(status, 200, "{body}");
        app.wait_settled(&staff, body["acknowledgementId"].as_str().unwrap())
            .await;
    }

    let reader = app.token(&[Role::Api]).await;
    let path = app.url(&format!("/certificate/api/certificatePDF/{code}"));
    let response = app
        .http
        .get(&path)
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"certificate-"),
        "{disposition}"
    );
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    let text = pdf_text(&pdf);
    assert!(text.contains("Test Recipient"), "{text}");
    assert!(text.contains("Final"), "{text}");
    assert!(text.contains("2 of 2"), "{text}");
    assert!(text.contains("SECOND-BATCH"), "{text}");
    // The first dose's row in the earlier-dose table.
    assert!(text.contains("2021-05-01"), "{text}");
    assert!(text.contains("MB3428BX"), "{text}");

    let response = app
        .http
        .head(&path)
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    assert_eq!(
        response.headers()["content-disposition"].to_str().unwrap(),
        disposition
    );
    let length: usize = response.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(length, pdf.len());

    let response = app.http.get(&path).send().await.unwrap();
    assert_eq!(response.status(), 401);
    let missing = app.url("/certificate/api/certificatePDF/NO-SUCH-CODE");
    let response = app
        .http
        .get(&missing)
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = app
        .http
        .head(&missing)
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    app.stop().await.unwrap();
}

async fn record_returns_pdf_when_accepted(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (_, certificate_id) = issue(&app, "8765550005").await;
    let path = app.url(&format!("/divoc/api/v1/certificates/{certificate_id}"));
    let admin = app.token(&[Role::FacilityAdmin]).await;

    let response = app
        .http
        .get(&path)
        .bearer_auth(&admin)
        .header("accept", "application/pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let expected = format!("attachment; filename=\"certificate-{certificate_id}.pdf\"");
    assert_eq!(
        response.headers()["content-disposition"].to_str().unwrap(),
        expected
    );
    let pdf = response.bytes().await.unwrap();
    assert!(pdf_text(&pdf).contains(&certificate_id));

    let response = app
        .http
        .get(&path)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let record: Value = response.json().await.unwrap();
    assert_eq!(record["certificateId"], certificate_id.as_str());

    let staff = app.token(&[Role::FacilityStaff]).await;
    let response = app
        .http
        .get(&path)
        .bearer_auth(&staff)
        .header("accept", "application/pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    app.stop().await.unwrap();
}

async fn citizen_downloads_pdf_by_id(backend: Backend) {
    let provider = TestProvider::new();
    let app = app_trusting(backend, &provider, None).await;
    let (code, certificate_id) = issue(&app, "8765550006").await;
    let owner = provider.user_token("certificate-login", &["recipient"], "8765550006");
    let get = |path: String, token: String| {
        let request = app.http.get(app.url(&path)).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };

    for base in [
        "/certificate/api/certificatePDF",
        "/cert/api/certificatePDF",
    ] {
        let path = format!("{base}?certificateId={certificate_id}");
        let response = get(path.clone(), owner.clone()).await;
        assert_eq!(response.status(), 200, "{base}");
        assert_eq!(response.headers()["content-type"], "application/pdf");
        let disposition = response.headers()["content-disposition"].to_str().unwrap();
        assert_eq!(
            disposition,
            format!("attachment; filename=\"certificate-{certificate_id}.pdf\"")
        );
        assert_eq!(response.headers()["cache-control"], "private, no-store");
        let pdf = response.bytes().await.unwrap();
        assert!(pdf_text(&pdf).contains("Test Recipient"));

        let response = get(format!("{base}?certificateId=12%2034"), owner.clone()).await;
        assert_eq!(response.status(), 400, "{base}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains("certificateId"),
            "{body}"
        );

        let stranger = provider.user_token("certificate-login", &["recipient"], "8765550007");
        assert_eq!(get(path, stranger).await.status(), 404, "{base}");

        let response = get(base.to_owned(), owner.clone()).await;
        assert_eq!(response.status(), 400, "{base}");
        let body: Value = response.json().await.unwrap();
        assert!(
            body["message"].as_str().unwrap().contains("certificateId"),
            "{body}"
        );
    }

    // Integrations with the api role fetch by pre-enrollment code on DIVOC's other path.
    let api = app.token(&[Role::Api]).await;
    let response = get(format!("/cert/api/certificatePDF/{code}"), api).await;
    assert_eq!(response.status(), 200);
    assert!(response.bytes().await.unwrap().starts_with(b"%PDF-"));

    // A revoked certificate is not served for printing.
    app.state
        .store()
        .revoke(&code, &DoseSelection::All, "entered in error")
        .await
        .unwrap();
    let path = format!("/certificate/api/certificatePDF?certificateId={certificate_id}");
    let response = get(path, owner).await;
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("revoked"),
        "{body}"
    );
    let admin = app.token(&[Role::FacilityAdmin]).await;
    let record = app.url(&format!("/divoc/api/v1/certificates/{certificate_id}"));
    let response = app
        .http
        .get(&record)
        .bearer_auth(&admin)
        .header("accept", "application/pdf")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404, "no PDF of a revoked certificate");
    let response = app
        .http
        .get(&record)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "its record stays readable");
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

/// A configured template is rendered once at start, so a broken one stops the server
/// with the file and line instead of failing every PDF request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_pdf_settings_stop_start() {
    let dir = tempfile::tempdir().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("vaccination.en.typ"),
        "#import \"common.typ\": *\n#show: setup.with(title: \"x\")\n#data.noSuchField\n",
    )
    .unwrap();
    let mut config = test_config(&dir);
    config.pdf.templates_dir = Some(templates);
    let Err(error) = Server::start(config.clone()).await else {
        panic!("the server started with a broken template");
    };
    let message = error_chain(&error);
    assert!(message.contains("vaccination.en.typ line 3"), "{message}");

    config.pdf.templates_dir = None;
    config.pdf.language = "english please".to_owned();
    let Err(error) = Server::start(config).await else {
        panic!("the server started with an invalid language");
    };
    let message = error_chain(&error);
    assert!(message.contains("invalid language"), "{message}");
}

/// Joins an error's message with those of its sources, as the command line prints them.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
