//! The signed revocation list: full list, delta, cache headers and the detached JWS,
//! checked with the key published in the JWK set.

use aws_lc_rs::signature::{ED25519, UnparsedPublicKey};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vaccred_server::auth::Role;

use crate::issuing::{issue_doses, revoke};
use crate::support::{Backend, TestApp, backend_tests};

backend_tests!(
    list_full_and_delta,
    list_signature_verifies,
    list_cache_headers,
    list_rejects_bad_since,
);

const LIST_PATH: &str = "/divoc/api/v1/revocations";

/// A fetched list: its body bytes, parsed body and headers.
struct Fetched {
    bytes: Vec<u8>,
    body: Value,
    headers: reqwest::header::HeaderMap,
}

async fn fetch(app: &TestApp, query: &str) -> Fetched {
    let response = app
        .http
        .get(app.url(&format!("{LIST_PATH}{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "list status");
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap().to_vec();
    let body = serde_json::from_slice(&bytes).unwrap();
    Fetched {
        bytes,
        body,
        headers,
    }
}

fn entry_ids(list: &Value) -> Vec<String> {
    list["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["certificateId"].as_str().unwrap().to_owned())
        .collect()
}

async fn list_full_and_delta(backend: Backend) {
    let app = TestApp::start(backend).await;
    let empty = fetch(&app, "").await;
    assert_eq!(empty.body["serial"], 0);
    assert_eq!(empty.body["entries"], Value::Array(Vec::new()));
    assert_eq!(
        empty.body["issuer"],
        app.state.config().issuer.issuer.as_str()
    );
    assert!(empty.body.get("since").is_none());

    let (code, _, ids) = issue_doses(&app, 2).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let (status, _) = revoke(&app, &staff, &code, "doses=2&reason=withdrawn").await;
    assert_eq!(status, 200);
    let first = fetch(&app, "").await;
    assert_eq!(first.body["serial"], 1);
    assert_eq!(entry_ids(&first.body), vec![ids[1].clone()]);
    assert_eq!(first.body["entries"][0]["reason"], "withdrawn");
    let revoked_at = first.body["entries"][0]["revokedAt"].as_str().unwrap();
    assert!(
        OffsetDateTime::parse(revoked_at, &Rfc3339).is_ok(),
        "{revoked_at}"
    );

    let (status, _) = revoke(&app, &staff, &code, "doses=1").await;
    assert_eq!(status, 200);
    let full = fetch(&app, "").await;
    assert_eq!(full.body["serial"], 2);
    assert_eq!(entry_ids(&full.body), vec![ids[1].clone(), ids[0].clone()]);

    let delta = fetch(&app, "?since=1").await;
    assert_eq!(delta.body["since"], 1);
    assert_eq!(delta.body["serial"], 2);
    assert_eq!(entry_ids(&delta.body), vec![ids[0].clone()]);
    let current = fetch(&app, "?since=2").await;
    assert_eq!(current.body["entries"], Value::Array(Vec::new()));
    app.stop().await.unwrap();
}

async fn list_signature_verifies(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (code, _, _) = issue_doses(&app, 1).await;
    let staff = app.token(&[Role::FacilityStaff]).await;
    let (status, _) = revoke(&app, &staff, &code, "allDoses=true").await;
    assert_eq!(status, 200);
    let list = fetch(&app, "").await;
    let signature = list.headers["x-vaccred-signature"].to_str().unwrap();

    let parts: Vec<&str> = signature.split('.').collect();
    assert_eq!(parts.len(), 3, "{signature}");
    assert!(parts[1].is_empty(), "payload part of a detached JWS");
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let key_id = app.state.signing_key().id().to_string();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], key_id.as_str());
    assert_eq!(header["b64"], false);
    assert_eq!(header["crit"], serde_json::json!(["b64"]));

    let jwks: Value = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|jwk| jwk["kid"] == key_id.as_str())
        .expect("signing key published");
    let public = URL_SAFE_NO_PAD.decode(jwk["x"].as_str().unwrap()).unwrap();
    let public = UnparsedPublicKey::new(&ED25519, public);
    let signature_bytes = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let signing_input = |body: &[u8]| {
        let mut input = format!("{}.", parts[0]).into_bytes();
        input.extend_from_slice(body);
        input
    };
    assert!(
        public
            .verify(&signing_input(&list.bytes), &signature_bytes)
            .is_ok()
    );

    let altered = String::from_utf8(list.bytes.clone())
        .unwrap()
        .replace("\"revoked\"", "\"restored\"");
    assert_ne!(altered.as_bytes(), list.bytes.as_slice());
    assert!(
        public
            .verify(&signing_input(altered.as_bytes()), &signature_bytes)
            .is_err()
    );
    app.stop().await.unwrap();
}

async fn list_cache_headers(backend: Backend) {
    let app = TestApp::start_with(backend, |config| {
        config.revocation_list_max_age_seconds = 600;
    })
    .await;
    let list = fetch(&app, "").await;
    assert_eq!(list.headers["cache-control"], "public, max-age=600");
    assert_eq!(list.headers["etag"], "W/\"0\"");
    assert_eq!(list.headers["content-type"], "application/json");
    let this_update = list.body["thisUpdate"].as_str().unwrap();
    let next_update = list.body["nextUpdate"].as_str().unwrap();
    let this_update = OffsetDateTime::parse(this_update, &Rfc3339).unwrap();
    let next_update = OffsetDateTime::parse(next_update, &Rfc3339).unwrap();
    assert_eq!((next_update - this_update).whole_seconds(), 600);

    let response = app
        .http
        .get(app.url(LIST_PATH))
        .header("if-none-match", "W/\"0\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 304);
    let response = app
        .http
        .get(app.url(LIST_PATH))
        .header("if-none-match", "W/\"7\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    app.stop().await.unwrap();
}

async fn list_rejects_bad_since(backend: Backend) {
    let app = TestApp::start(backend).await;
    for query in ["?since=-1", "?since=one"] {
        let response = app
            .http
            .get(app.url(&format!("{LIST_PATH}{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "INVALID_QUERY");
    }
    app.stop().await.unwrap();
}
