//! Certify, acknowledgement polling, issuance, duplicates and validation errors.

use std::time::Duration;

use secrecy::ExposeSecret as _;
use serde_json::{Value, json};
use vaccred_core::credential::{ParseOptions, Shape, parse_requests_with};
use vaccred_core::jsonld::Processor;
use vaccred_core::keys::{TrustStore, TrustedKey};
use vaccred_core::verify::{Outcome, VerifyOptions, verify_input};
use vaccred_server::auth::Role;
use vaccred_store::{NewItem, Personal, RequestKind, Store};

use crate::support::{Backend, TestApp, backend_tests, certify_request};

backend_tests!(
    certify_issues_verifiable_certificate,
    certify_v1_builds_certify_v2,
    duplicate_is_not_signed_again,
    schema_errors_list_every_field,
    age_rules_answer_missing_fields,
    unreadable_body_is_400,
    acknowledgement_of_other_client_is_hidden,
    oversized_body_is_413,
    restart_resumes_abandoned_items,
    credential_too_large_for_qr_is_rejected,
);

/// Verifies a QR PNG against the server's signing key.
fn verify_png(app: &TestApp, png: &[u8]) -> Outcome {
    let key = app.state.signing_key();
    let mut trust = TrustStore::new();
    trust.add(TrustedKey {
        id: Some(key.id().clone()),
        key: key.public_key().clone(),
    });
    verify_input(
        &Processor::default(),
        &trust,
        png,
        &VerifyOptions::default(),
        None,
    )
}

async fn certify_issues_verifiable_certificate(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let request = certify_request("8761112222");
    let code = request["preEnrollmentCode"].as_str().unwrap().to_owned();
    let (status, body) = app.certify(&staff, 3, &json!([request])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["index"], 0);
    assert_eq!(body["items"][0]["status"], "queued");
    let acknowledgement_id = body["acknowledgementId"].as_str().unwrap();

    let settled = app.wait_settled(&staff, acknowledgement_id).await;
    let item = &settled["items"][0];
    assert_eq!(item["status"], "issued", "{settled}");
    let certificate_id = item["certificateId"].as_str().unwrap().to_owned();
    assert_eq!(certificate_id.len(), 9);

    let reader = app.token(&[Role::Api]).await;
    let response = app
        .http
        .get(app.url(&format!("/certificate/api/certificateQRCode/{code}")))
        .bearer_auth(&reader)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.unwrap();
    let outcome = verify_png(&app, &png);
    let Outcome::Valid { credential, .. } = outcome else {
        panic!("QR code does not verify: {outcome:?}");
    };
    assert_eq!(
        credential["evidence"][0]["certificateId"],
        certificate_id.as_str()
    );
    assert_eq!(credential["credentialSubject"]["refId"], code.as_str());
    assert_eq!(
        credential["@context"][1],
        "https://cowin.gov.in/credentials/vaccination/v2"
    );
    assert!(
        app.state
            .metrics()
            .encode()
            .unwrap()
            .contains("vaccred_certificates_issued_total 1")
    );
    app.stop().await.unwrap();
}

async fn certify_v1_builds_certify_v2(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let (status, body) = app
        .certify(&staff, 1, &json!([certify_request("8761112223")]))
        .await;
    assert_eq!(status, 200, "{body}");
    let settled = app
        .wait_settled(&staff, body["acknowledgementId"].as_str().unwrap())
        .await;
    let certificate_id = settled["items"][0]["certificateId"].as_str().unwrap();

    let admin = app.token(&[Role::FacilityAdmin]).await;
    let response = app
        .http
        .get(app.url(&format!("/divoc/api/v1/certificates/{certificate_id}")))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let record: Value = response.json().await.unwrap();
    assert_eq!(record["certificateId"], certificate_id);
    assert_eq!(record["mobile"], "8761112223");
    assert_eq!(record["contact"], json!(["tel:8761112223"]));
    assert_eq!(record["meta"]["certificateType"], "certifyV2");
    assert_eq!(
        record["certificate"]["@context"][1],
        "https://cowin.gov.in/credentials/vaccination/v1"
    );
    assert_eq!(record["status"], "active");
    app.stop().await.unwrap();
}

async fn duplicate_is_not_signed_again(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let body = json!([certify_request("8761112224")]);
    let (status, first) = app.certify(&staff, 3, &body).await;
    assert_eq!(status, 200);
    let first_item = first["items"][0]["itemId"].as_i64().unwrap();
    let settled = app
        .wait_settled(&staff, first["acknowledgementId"].as_str().unwrap())
        .await;
    let certificate_id = settled["items"][0]["certificateId"].clone();

    // The client retries the same body, for example after a timeout.
    let (status, retry) = app.certify(&staff, 3, &body).await;
    assert_eq!(status, 200);
    assert_ne!(retry["acknowledgementId"], first["acknowledgementId"]);
    assert_eq!(retry["items"][0]["status"], "duplicate");
    assert_eq!(retry["items"][0]["duplicateOf"], first_item);
    assert_eq!(retry["items"][0]["certificateId"], certificate_id);

    let status = app
        .wait_settled(&staff, retry["acknowledgementId"].as_str().unwrap())
        .await;
    assert_eq!(status["items"][0]["status"], "duplicate");
    assert_eq!(status["items"][0]["certificateId"], certificate_id);
    app.stop().await.unwrap();
}

async fn schema_errors_list_every_field(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let mut first = certify_request("8761112225");
    first["recipient"].as_object_mut().unwrap().remove("name");
    let mut second = certify_request("8761112226");
    second["vaccination"]["dose"] = json!(0);
    let (status, body) = app
        .certify(
            &staff,
            1,
            &json!([first, certify_request("8761112227"), second]),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["code"], "INVALID_FIELDS");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.contains("[0].recipient.name in body is required"),
        "{message}"
    );
    assert!(
        message.contains("[2].vaccination.dose in body should be greater than or equal to 1"),
        "{message}"
    );
    let paths: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|error| error["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["[0].recipient.name", "[2].vaccination.dose"]);
    assert!(body["requestId"].as_str().is_some_and(|id| !id.is_empty()));

    // Nothing of a rejected body is stored: the valid middle item was not queued.
    let (status, again) = app
        .certify(&staff, 1, &json!([certify_request("8761112227")]))
        .await;
    assert_eq!(status, 200);
    assert_eq!(again["items"][0]["status"], "queued");
    app.stop().await.unwrap();
}

async fn age_rules_answer_missing_fields(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let mut request = certify_request("8761112228");
    request["recipient"].as_object_mut().unwrap().remove("dob");
    let (status, body) = app.certify(&staff, 3, &json!([request])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "MISSING_FIELDS");
    assert_eq!(
        body["message"],
        "Age and DOB both are missing. Atleast one should be present"
    );

    let mut future = certify_request("8761112229");
    future["recipient"]["dob"] = json!("2999-01-01");
    let (status, body) = app.certify(&staff, 3, &json!([future])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["message"],
        "Invalid Age or DOB. Should be less than current date"
    );
    app.stop().await.unwrap();
}

async fn unreadable_body_is_400(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let response = app
        .http
        .post(app.url("/divoc/api/v3/certify"))
        .bearer_auth(&staff)
        .header("content-type", "application/json")
        .body("[{\"preEnrollmentCode\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_JSON");

    let mut wrong_type = certify_request("8761112230");
    wrong_type["recipient"]["name"] = json!(42);
    let (status, body) = app.certify(&staff, 3, &json!([wrong_type])).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["code"], "INVALID_VALUE");
    assert_eq!(body["errors"][0]["path"], "[0].recipient.name");
    app.stop().await.unwrap();
}

async fn acknowledgement_of_other_client_is_hidden(backend: Backend) {
    let app = TestApp::start(backend).await;
    let owner = app.token(&[Role::FacilityStaff]).await;
    let other = app.token(&[Role::FacilityStaff]).await;
    let admin = app.token(&[Role::Admin]).await;
    let (_, body) = app
        .certify(&owner, 3, &json!([certify_request("8761112231")]))
        .await;
    let path = format!(
        "/divoc/api/v1/acknowledgements/{}",
        body["acknowledgementId"].as_str().unwrap()
    );
    for (token, expected) in [(&owner, 200), (&other, 404), (&admin, 200)] {
        let response = app
            .http
            .get(app.url(&path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
    }
    let response = app
        .http
        .get(app.url("/divoc/api/v1/acknowledgements/not-a-uuid"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    app.stop().await.unwrap();
}

async fn oversized_body_is_413(backend: Backend) {
    let app = TestApp::start_with(backend, |config| config.max_request_bytes = 4096).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let body = json!(
        (0..10)
            .map(|_| certify_request("8761112232"))
            .collect::<Vec<_>>()
    );
    let (status, response) = app.certify(&staff, 3, &body).await;
    assert_eq!(status, 413, "{response}");
    assert_eq!(response["code"], "PAYLOAD_TOO_LARGE");
    app.stop().await.unwrap();
}

/// Checks that an item leased by a worker that died is issued after a restart, once the
/// lease ends.
async fn restart_resumes_abandoned_items(backend: Backend) {
    let mut app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let request = certify_request("8761112233");
    let client = app_subject(&staff);
    let mut acknowledgement = None;
    let slot = &mut acknowledgement;
    app.restart(|config| async move {
        let store = Store::open(config.database_url().expose_secret())
            .await
            .unwrap();
        let options = ParseOptions {
            shape: Shape::V3,
            ..ParseOptions::default()
        };
        let parsed = parse_requests_with(request.to_string().as_bytes(), &options).unwrap();
        let item = NewItem {
            shape: Shape::V3,
            request_json: Personal::new(serde_json::to_string(&parsed[0]).unwrap()),
            pre_enrollment_code: parsed[0].pre_enrollment_code.clone(),
            program_id: "C19".to_owned(),
            dose: parsed[0].vaccination.dose,
            replaces: None,
        };
        let accepted = store
            .accept(&client, RequestKind::Certify, &[item])
            .await
            .unwrap();
        let claimed = store
            .claim("worker-that-crashed", 10, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(claimed.len(), 1);
        *slot = Some(accepted.id.to_string());
        store.close().await;
    })
    .await;
    let acknowledgement = acknowledgement.unwrap();
    let settled = app.wait_settled(&staff, &acknowledgement).await;
    assert_eq!(settled["items"][0]["status"], "issued", "{settled}");
    app.stop().await.unwrap();
}

/// Reads the `sub` claim of a token, which the server records as the submitting client.
fn app_subject(token: &str) -> String {
    use base64::Engine as _;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    let claims: Value = serde_json::from_slice(&bytes).unwrap();
    claims["sub"].as_str().unwrap().to_owned()
}

/// Checks that an item whose signed credential cannot fit in a QR code is rejected with
/// the reason, instead of being issued and then failing every QR and PDF request.
async fn credential_too_large_for_qr_is_rejected(backend: Backend) {
    let app = TestApp::start(backend).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let mut long = certify_request("8761112228");
    // Pseudo-random letters (xorshift), which deflate poorly, so the ZIP passes the limit.
    let mut state = 0x2545_f491_u32;
    let name: String = (0..1500)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            char::from(b'a' + (state % 26) as u8)
        })
        .collect();
    long["recipient"]["name"] = json!(name);
    long["preEnrollmentCode"] = json!("LONG-NAME-1");
    let mut normal = certify_request("8761112229");
    normal["preEnrollmentCode"] = json!("NORMAL-1");
    let (status, body) = app.certify(&staff, 1, &json!([long, normal])).await;
    assert_eq!(status, 200, "{body}");
    let settled = app
        .wait_settled(&staff, body["acknowledgementId"].as_str().unwrap())
        .await;
    let items = settled["items"].as_array().unwrap();
    assert_eq!(items[0]["status"], "rejected", "{settled}");
    let reason = items[0]["reason"].as_str().unwrap();
    assert!(reason.contains("too large for a QR code"), "{reason}");
    assert!(reason.contains("recipient.name"), "{reason}");
    assert_eq!(items[1]["status"], "issued", "{settled}");

    let response = app
        .http
        .get(app.url("/certificate/api/certificateQRCode/LONG-NAME-1"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    app.stop().await.unwrap();
}
