//! Token endpoint, bearer token checks and role boundaries.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use vaccred_server::auth::Role;

use crate::support::{Backend, TOKEN_PATH, TestApp, backend_tests, certify_request};

backend_tests!(
    token_from_form_body,
    token_from_basic_auth,
    token_rejects_bad_credentials,
    token_rejects_other_grants,
    missing_token_is_401,
    invalid_tokens_are_401,
    missing_role_is_403,
);

async fn token_from_form_body(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, secret) = app.registered_client(&[Role::FacilityStaff]).await;
    let response = app
        .http
        .post(app.url(TOKEN_PATH))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 3600);
    let token = body["access_token"].as_str().unwrap();

    // The claims carry the roles where Keycloak puts them.
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        claims["resource_access"][&id]["roles"],
        json!(["facility-staff"])
    );
    assert_eq!(claims["azp"], id.as_str());

    let (status, _) = app.certify(token, 1, &json!([])).await;
    assert_eq!(status, 200);
    app.stop().await.unwrap();
}

async fn token_from_basic_auth(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, secret) = app.client(&[Role::Api]).await;
    let credentials = STANDARD.encode(format!("{id}:{secret}"));
    let response = app
        .http
        .post(app.url(TOKEN_PATH))
        .header("authorization", format!("Basic {credentials}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert!(body["access_token"].as_str().is_some_and(|t| t.len() > 100));

    // Credentials in both places are ambiguous.
    let response = app
        .http
        .post(app.url(TOKEN_PATH))
        .header("authorization", format!("Basic {credentials}"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    app.stop().await.unwrap();
}

async fn token_rejects_bad_credentials(backend: Backend) {
    let app = TestApp::start(backend).await;
    let (id, secret) = app.client(&[Role::FacilityStaff]).await;
    let attempts = [
        (id.as_str(), "wrong-secret".to_owned()),
        ("no-such-client", secret.clone()),
        (id.as_str(), format!("{secret}x")),
    ];
    for (client_id, client_secret) in attempts {
        let response = app
            .http
            .post(app.url(TOKEN_PATH))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client_id),
                ("client_secret", client_secret.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "client {client_id}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_client");
    }

    // A disabled client gets no token either.
    app.state.store().disable_api_client(&id).await.unwrap();
    let response = app
        .http
        .post(app.url(TOKEN_PATH))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    app.stop().await.unwrap();
}

async fn token_rejects_other_grants(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app
        .http
        .post(app.url(TOKEN_PATH))
        .form(&[
            ("grant_type", "password"),
            ("username", "x"),
            ("password", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unsupported_grant_type");

    let response = app
        .http
        .post(app.url(TOKEN_PATH))
        .json(&json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    app.stop().await.unwrap();
}

async fn missing_token_is_401(backend: Backend) {
    let app = TestApp::start(backend).await;
    let response = app
        .http
        .post(app.url("/divoc/api/v1/certify"))
        .json(&json!([certify_request("8761234567")]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["code"], "UNAUTHORIZED");
    assert_eq!(body["requestId"], request_id.as_str());
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("missing bearer token")
    );
    app.stop().await.unwrap();
}

async fn invalid_tokens_are_401(backend: Backend) {
    let app = TestApp::start(backend).await;
    let token = app.token(&[Role::FacilityStaff]).await;
    let (header, rest) = token.split_once('.').unwrap();
    let (payload, signature) = rest.split_once('.').unwrap();
    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered_signature = format!("{header}.{payload}.{flipped}{}", &signature[1..]);
    let expired = expired_token(&app);
    let cases = [
        ("garbage", "not-a-jwt".to_owned()),
        ("tampered signature", tampered_signature),
        ("expired", expired),
        ("unknown issuer", foreign_token()),
    ];
    for (case, token) in cases {
        let response = app
            .http
            .get(app.url("/divoc/api/v1/certificates/123456789"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "UNAUTHORIZED", "{case}");
    }
    app.stop().await.unwrap();
}

async fn missing_role_is_403(backend: Backend) {
    let app = TestApp::start(backend).await;
    let recipient = app.token(&[Role::Recipient]).await;
    let (status, body) = app
        .certify(&recipient, 3, &json!([certify_request("8761234567")]))
        .await;
    assert_eq!(status, 403);
    assert_eq!(body["code"], "FORBIDDEN");
    assert!(body["message"].as_str().unwrap().contains("facility-staff"));

    let staff = app.token(&[Role::FacilityStaff]).await;
    let response = app
        .http
        .get(app.url("/divoc/api/v1/certificates/123456789"))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    app.stop().await.unwrap();
}

/// Signs a token with the server's own key whose `exp` is long past.
fn expired_token(app: &TestApp) -> String {
    let pem = std::fs::read(app.data_dir.join("token-key.pem")).unwrap();
    let key = EncodingKey::from_rsa_pem(&pem).unwrap();
    let jwks: Value = app.state.authenticator().issuer().jwks();
    let mut header = Header::new(Algorithm::RS256);
    header.kid = jwks["keys"][0]["kid"].as_str().map(str::to_owned);
    let claims = json!({
        "iss": "vaccred",
        "sub": "someone",
        "exp": 1_000_000_000,
        "iat": 999_990_000,
        "resource_access": {"x": {"roles": ["facility-admin"]}},
    });
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

/// Signs a well-formed token from an issuer the server does not trust.
pub fn foreign_token() -> String {
    let key = crate::oidc::TestProvider::new();
    key.token(&json!({
        "iss": "https://elsewhere.example/realms/divoc",
        "sub": "intruder",
        "exp": jsonwebtoken::get_current_timestamp() + 600,
        "resource_access": {"x": {"roles": ["facility-admin"]}},
    }))
}
