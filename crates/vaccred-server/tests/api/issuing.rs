//! Helpers for tests that need issued certificates: certify and wait, read the stored
//! credential, and ask the revocation check about it.

use serde_json::{Value, json};
use vaccred_server::auth::Role;

use crate::support::{TestApp, certify_request};

/// Certifies doses `1..=doses` of one fresh pre-enrollment code in one body and waits for
/// the certificates. Returns the code, the request of dose 1 and the certificate ids in
/// dose order.
pub async fn issue_doses(app: &TestApp, doses: u32) -> (String, Value, Vec<String>) {
    let staff = app.token(&[Role::FacilityStaff]).await;
    let first = certify_request("8765550100");
    let code = first["preEnrollmentCode"].as_str().unwrap().to_owned();
    let body: Vec<Value> = (1..=doses)
        .map(|dose| {
            let mut request = first.clone();
            request["vaccination"]["dose"] = json!(dose);
            request["vaccination"]["totalDoses"] = json!(doses.max(2));
            request
        })
        .collect();
    let (status, response) = app.certify(&staff, 3, &Value::from(body)).await;
    assert_eq!(status, 200, "certify: {response}");
    let ids = settled_certificate_ids(app, &staff, &response).await;
    (code, first, ids)
}

/// Waits for every item of an accepted certify or update body and returns the
/// certificate ids in body order.
pub async fn settled_certificate_ids(app: &TestApp, token: &str, accepted: &Value) -> Vec<String> {
    let acknowledgement_id = accepted["acknowledgementId"].as_str().unwrap();
    let settled = app.wait_settled(token, acknowledgement_id).await;
    settled["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            item["certificateId"]
                .as_str()
                .unwrap_or_else(|| panic!("not issued: {settled}"))
                .to_owned()
        })
        .collect()
}

/// Returns the signed credential JSON the server stored for a certificate.
pub async fn stored_credential(app: &TestApp, certificate_id: &str) -> String {
    let id = certificate_id.parse().unwrap();
    let stored = app.state.store().certificate(&id).await.unwrap();
    stored
        .unwrap_or_else(|| panic!("certificate {certificate_id} not stored"))
        .credential_json
        .expose()
        .clone()
}

/// Sends a credential to the revocation check and returns the status: 200 revoked,
/// 404 not revoked.
pub async fn revocation_status(app: &TestApp, credential: &str) -> u16 {
    let response = app
        .http
        .post(app.url("/divoc/api/v1/certificate/revoked"))
        .header("content-type", "application/json")
        .body(credential.to_owned())
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// Revokes through the API and returns the status and body.
pub async fn revoke(app: &TestApp, token: &str, code: &str, query: &str) -> (u16, Value) {
    let url = app.url(&format!("/divoc/api/v1/certificates/{code}?{query}"));
    let response = app
        .http
        .delete(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}
