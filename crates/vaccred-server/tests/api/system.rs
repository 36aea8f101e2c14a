//! Health, metrics, the OpenAPI document, unknown routes and graceful shutdown.

use std::time::Duration;

use serde_json::Value;
use vaccred_server::auth::Role;

use crate::support::{Backend, TOKEN_PATH, TestApp, backend_tests};

backend_tests!(
    health_and_readiness,
    metrics_count_requests_by_route,
    openapi_describes_every_route,
    unknown_routes_use_the_envelope,
    shutdown_finishes_in_flight_requests,
);

async fn health_and_readiness(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let response = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"]["database"], "ok");
    let key_id = app.state.signing_key().id().to_string();
    assert_eq!(body["checks"]["signingKey"], key_id.as_str());
    app.stop().await.unwrap();
}

async fn metrics_count_requests_by_route(backend: Backend) {
    let app = TestApp::start(backend).await;
    app.http.get(app.url("/healthz")).send().await.unwrap();
    app.http
        .get(app.url("/no/such/path/12345"))
        .send()
        .await
        .unwrap();
    let response = app.http.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = response.text().await.unwrap();
    let expected = [
        r#"vaccred_http_requests_total{method="GET",route="/healthz",status="200"} 1"#,
        r#"vaccred_http_requests_total{method="GET",route="unmatched",status="404"} 1"#,
        "vaccred_http_request_duration_seconds_bucket",
        "vaccred_queue_depth",
        "vaccred_certificates_issued_total",
        "vaccred_signing_failures_total",
    ];
    for line in expected {
        assert!(text.contains(line), "missing {line} in:\n{text}");
    }
    assert!(!text.contains("12345"), "raw paths must not become labels");
    app.stop().await.unwrap();
}

async fn openapi_describes_every_route(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app.http.get(app.url("/openapi.json")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let routes = [
        ("/healthz", "get"),
        ("/readyz", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        (TOKEN_PATH, "post"),
        ("/auth/realms/divoc/protocol/openid-connect/certs", "get"),
        ("/auth/realms/divoc", "get"),
        ("/divoc/api/v1/certify", "post"),
        ("/divoc/api/v3/certify", "post"),
        ("/divoc/api/v1/acknowledgements/{acknowledgementId}", "get"),
        ("/divoc/api/v1/bulkCertify", "post"),
        ("/divoc/api/v1/certify/uploads", "get"),
        ("/divoc/api/v1/certify/uploads/{uploadId}/errors", "get"),
        ("/divoc/api/v1/certificates/{certificateId}", "get"),
        (
            "/certificate/api/certificateQRCode/{preEnrollmentCode}",
            "get",
        ),
        ("/certificate/api/certificatePDF/{preEnrollmentCode}", "get"),
        (
            "/certificate/api/certificatePDF/{preEnrollmentCode}",
            "head",
        ),
        ("/certificate/api/certificatePDF", "get"),
        ("/cert/api/certificatePDF", "get"),
        ("/cert/api/certificatePDF/{preEnrollmentCode}", "get"),
        ("/divoc/api/v1/certificate/revoked", "post"),
        ("/divoc/api/v1/certificate", "put"),
        ("/divoc/api/v3/certificate", "put"),
        ("/divoc/api/v1/certificates/{certificateId}", "delete"),
        ("/divoc/api/v1/revocations", "get"),
        ("/.well-known/jwks.json", "get"),
        ("/.well-known/did.json", "get"),
    ];
    let paths = document["paths"].as_object().unwrap();
    for (path, method) in routes {
        assert!(
            paths.get(path).and_then(|item| item.get(method)).is_some(),
            "{method} {path}"
        );
    }
    let documented: usize = paths
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(
        documented,
        routes.len(),
        "undocumented or untested operations"
    );
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
    app.stop().await.unwrap();
}

async fn unknown_routes_use_the_envelope(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app
        .http
        .get(app.url("/divoc/api/v9/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "NOT_FOUND");
    assert!(body["requestId"].as_str().is_some_and(|id| !id.is_empty()));

    let response = app.http.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), 405);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "METHOD_NOT_ALLOWED");

    // A request id chosen by the caller is kept.
    let response = app
        .http
        .get(app.url("/nowhere"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-abc-123");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["requestId"], "trace-abc-123");
    app.stop().await.unwrap();
}

async fn shutdown_finishes_in_flight_requests(backend: Backend) {
    let app = TestApp::start(backend).await;
    // A secret hashed at the default cost keeps the token request busy while the server
    // shuts down.
    let (id, secret) = app.registered_client(&[Role::FacilityStaff]).await;
    let address = app.base_url.clone();
    let request = app.http.post(app.url(TOKEN_PATH)).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", id.as_str()),
        ("client_secret", secret.as_str()),
    ]);
    let in_flight = tokio::spawn(request.send());
    tokio::time::sleep(Duration::from_millis(5)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(10), app.stop()).await;
    assert!(matches!(stopped, Ok(Ok(()))), "server did not stop cleanly");
    let response = in_flight
        .await
        .unwrap()
        .expect("in-flight request answered");
    assert_eq!(response.status(), 200);

    let after = reqwest::Client::new()
        .get(format!("{address}/healthz"))
        .send()
        .await;
    assert!(after.is_err(), "the listener still accepts connections");
}

/// Checks that the SQLite file and its WAL, which contain personal data, are readable by
/// the owner only.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_files_are_private() {
    use std::os::unix::fs::PermissionsExt as _;

    let app = TestApp::start(Backend::Sqlite).await;
    let token = app.token(&[Role::FacilityStaff]).await;
    let (status, body) = app
        .certify(
            &token,
            1,
            &serde_json::json!([crate::support::certify_request("8761112230")]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    for name in ["vaccred.db", "vaccred.db-wal"] {
        let path = app.data_dir.join(name);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
    }
    app.stop().await.unwrap();
}
