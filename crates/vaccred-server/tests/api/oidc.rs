//! Tokens of an external OpenID Connect provider, simulated with a key set file.

use std::path::Path;

use aws_lc_rs::encoding::{AsDer as _, Pkcs8V1Der};
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{KeyPair as _, RsaKeyPair};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use vaccred_core::keys::{PublicKey, encode_pem};

use crate::support::{Backend, TestApp, backend_tests, certify_request};

pub const ISSUER: &str = "https://keycloak.test/auth/realms/divoc";
const KID: &str = "test-provider-key";

/// An RSA key standing in for a Keycloak realm key.
pub struct TestProvider {
    encoding: EncodingKey,
    jwk: Value,
}

impl TestProvider {
    pub fn new() -> Self {
        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let der: Pkcs8V1Der<'static> = pair.as_der().unwrap();
        let pem = encode_pem("PRIVATE KEY", der.as_ref(), None);
        let encoding = EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
        let public = PublicKey::rsa_from_der(pair.public_key().as_ref()).unwrap();
        let mut jwk = public.to_jwk(None);
        jwk["kid"] = json!(KID);
        jwk["alg"] = json!("RS256");
        jwk["use"] = json!("sig");
        Self { encoding, jwk }
    }

    /// Writes the key set with this key and an encryption key that must be ignored.
    pub fn write_jwks(&self, path: &Path) {
        let mut encryption = self.jwk.clone();
        encryption["kid"] = json!("encryption-key");
        encryption["use"] = json!("enc");
        encryption["alg"] = json!("RSA-OAEP");
        let set = json!({ "keys": [encryption, self.jwk] });
        std::fs::write(path, set.to_string()).unwrap();
    }

    pub fn token(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(KID.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding).unwrap()
    }

    /// Signs a token as the DIVOC realm issues it, with the roles under the client `client`.
    pub fn user_token(&self, client: &str, roles: &[&str], username: &str) -> String {
        self.token(&json!({
            "iss": ISSUER,
            "sub": format!("user-{username}"),
            "aud": "account",
            "azp": client,
            "exp": jsonwebtoken::get_current_timestamp() + 600,
            "preferred_username": username,
            "resource_access": {
                client: { "roles": roles },
                "account": { "roles": ["view-profile"] },
            },
        }))
    }
}

/// Starts a server that trusts `provider`, with the audience check set when given.
pub async fn app_trusting(
    backend: Backend,
    provider: &TestProvider,
    audience: Option<&str>,
) -> TestApp {
    let jwks_dir = tempfile::tempdir().unwrap();
    let jwks_path = jwks_dir.path().join("jwks.json");
    provider.write_jwks(&jwks_path);
    let app = TestApp::start_with(backend, |config| {
        config.oidc.issuer = Some(ISSUER.to_owned());
        config.oidc.jwks = Some(jwks_path.to_string_lossy().into_owned());
        config.oidc.audience = audience.map(str::to_owned);
    })
    .await;
    drop(jwks_dir);
    app
}

backend_tests!(external_token_grants_roles, external_token_checks_claims);

async fn external_token_grants_roles(backend: Backend) {
    let provider = TestProvider::new();
    let app = app_trusting(backend, &provider, None).await;
    let token = provider.user_token("facility-api", &["facility-staff"], "staff-1");
    let (status, body) = app
        .certify(&token, 3, &json!([certify_request("8760000001")]))
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["items"][0]["status"], "queued");

    let viewer = provider.user_token("certificate-login", &["recipient"], "8760000001");
    let (status, _) = app
        .certify(&viewer, 3, &json!([certify_request("8760000001")]))
        .await;
    assert_eq!(status, 403);
    app.stop().await.unwrap();
}

async fn external_token_checks_claims(backend: Backend) {
    let provider = TestProvider::new();
    let app = app_trusting(backend, &provider, Some("vaccred-api")).await;
    let now = jsonwebtoken::get_current_timestamp();
    let roles = json!({"facility-api": {"roles": ["facility-staff"]}});
    let cases = [
        (
            "wrong audience",
            json!({"iss": ISSUER, "sub": "u", "aud": "account", "exp": now + 600, "resource_access": roles}),
        ),
        (
            "wrong issuer",
            json!({"iss": "https://other.test/realms/divoc", "sub": "u", "aud": "vaccred-api", "exp": now + 600, "resource_access": roles}),
        ),
        (
            "expired",
            json!({"iss": ISSUER, "sub": "u", "aud": "vaccred-api", "exp": now - 3600, "resource_access": roles}),
        ),
        (
            "no expiry",
            json!({"iss": ISSUER, "sub": "u", "aud": "vaccred-api", "resource_access": roles}),
        ),
    ];
    for (case, claims) in cases {
        let (status, body) = app.certify(&provider.token(&claims), 1, &json!([])).await;
        assert_eq!(status, 401, "{case}: {body}");
    }
    let valid = json!({"iss": ISSUER, "sub": "u", "aud": "vaccred-api", "exp": now + 600, "resource_access": roles});
    let (status, _) = app.certify(&provider.token(&valid), 1, &json!([])).await;
    assert_eq!(status, 200);
    app.stop().await.unwrap();
}
