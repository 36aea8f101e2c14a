//! The OAuth2 token endpoint and the public key documents, at Keycloak's paths for
//! DIVOC's `divoc` realm, so existing integrations only change the host name.
//!
//! The token endpoint speaks OAuth2 (RFC 6749 §4.4 and §5), including its error format
//! `{"error", "error_description"}`, because OAuth client libraries parse that format.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::secret::{decoy_hash, verify_secret};
use crate::state::AppState;

/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/auth/realms/divoc/protocol/openid-connect/token";
/// Path of the JSON Web Key Set.
pub const CERTS_PATH: &str = "/auth/realms/divoc/protocol/openid-connect/certs";
/// Path of the realm document that DIVOC services read the token key from.
pub const REALM_PATH: &str = "/auth/realms/divoc";

/// Form body of a token request.
#[derive(Debug, Default, Deserialize, ToSchema, IntoParams)]
pub struct TokenRequest {
    /// Must be `client_credentials`.
    grant_type: Option<String>,
    /// The API client id, unless sent with HTTP Basic authentication.
    client_id: Option<String>,
    /// The API client secret, unless sent with HTTP Basic authentication.
    client_secret: Option<String>,
    /// Requested scope; ignored, because roles are fixed per client.
    #[expect(dead_code, reason = "accepted for compatibility and otherwise unused")]
    scope: Option<String>,
}

/// Successful token response, in Keycloak's field set.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The bearer token.
    access_token: String,
    /// Seconds until the token expires.
    expires_in: u64,
    /// Always 0: no refresh tokens are issued for client credentials.
    refresh_expires_in: u64,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Always 0, as Keycloak sends when no revocation policy is set.
    #[serde(rename = "not-before-policy")]
    not_before_policy: u64,
    /// Always empty.
    scope: &'static str,
}

/// OAuth2 error response (RFC 6749 §5.2).
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// Error code: `invalid_request`, `invalid_client` or `unsupported_grant_type`.
    error: &'static str,
    /// Description of the error.
    error_description: &'static str,
    #[serde(skip)]
    status: StatusCode,
    #[serde(skip)]
    basic_challenge: bool,
}

impl OAuthError {
    fn invalid_request(description: &'static str) -> Self {
        Self {
            error: "invalid_request",
            error_description: description,
            status: StatusCode::BAD_REQUEST,
            basic_challenge: false,
        }
    }

    fn invalid_client(basic_challenge: bool) -> Self {
        Self {
            error: "invalid_client",
            error_description: "unknown client, wrong secret or disabled client",
            status: StatusCode::UNAUTHORIZED,
            basic_challenge,
        }
    }

    fn server_error() -> Self {
        Self {
            error: "server_error",
            error_description: "the token could not be issued: retry later",
            status: StatusCode::INTERNAL_SERVER_ERROR,
            basic_challenge: false,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(&self)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if self.basic_challenge {
            let challenge = HeaderValue::from_static("Basic realm=\"divoc\"");
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

/// Client credentials from the form body or an HTTP Basic header.
struct Credentials {
    client_id: String,
    client_secret: zeroize::Zeroizing<String>,
    from_basic: bool,
}

fn credentials(headers: &HeaderMap, form: &TokenRequest) -> Result<Credentials, OAuthError> {
    let basic = basic_credentials(headers)?;
    let in_body = form.client_id.is_some() || form.client_secret.is_some();
    match (basic, in_body) {
        (Some(_), true) => Err(OAuthError::invalid_request(
            "send the client credentials either in the body or with HTTP Basic, not both",
        )),
        (Some((client_id, client_secret)), false) => Ok(Credentials {
            client_id,
            client_secret,
            from_basic: true,
        }),
        (None, _) => match (&form.client_id, &form.client_secret) {
            (Some(id), Some(secret)) => Ok(Credentials {
                client_id: id.clone(),
                client_secret: zeroize::Zeroizing::new(secret.clone()),
                from_basic: false,
            }),
            _ => Err(OAuthError::invalid_request(
                "missing client_id or client_secret",
            )),
        },
    }
}

/// Reads `Authorization: Basic base64(id:secret)`. RFC 6749 §2.3.1 form-encodes both
/// parts first, so they are percent-decoded.
fn basic_credentials(
    headers: &HeaderMap,
) -> Result<Option<(String, zeroize::Zeroizing<String>)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || OAuthError::invalid_request("malformed HTTP Basic credentials");
    let text = value.to_str().map_err(|_| malformed())?;
    let Some((scheme, encoded)) = text.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded =
        zeroize::Zeroizing::new(STANDARD.decode(encoded.trim()).map_err(|_| malformed())?);
    let decoded = std::str::from_utf8(&decoded).map_err(|_| malformed())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let id = form_decode(id).ok_or_else(malformed)?;
    let secret = form_decode(secret).ok_or_else(malformed)?;
    Ok(Some((id, zeroize::Zeroizing::new(secret))))
}

/// Decodes one `application/x-www-form-urlencoded` value, in which `+` is a space.
fn form_decode(text: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut iter = text.bytes();
    while let Some(byte) = iter.next() {
        match byte {
            b'+' => bytes.push(b' '),
            b'%' => {
                let digits = [iter.next()?, iter.next()?];
                let digits = std::str::from_utf8(&digits).ok()?;
                bytes.push(u8::from_str_radix(digits, 16).ok()?);
            }
            other => bytes.push(other),
        }
    }
    String::from_utf8(bytes).ok()
}

/// Issues a bearer token to an API client (OAuth2 `client_credentials`).
#[utoipa::path(
    post,
    path = "/auth/realms/divoc/protocol/openid-connect/token",
    tag = "auth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Token issued", body = TokenResponse),
        (status = 400, description = "Malformed request or unsupported grant", body = OAuthError),
        (status = 401, description = "Unknown client or wrong secret", body = OAuthError),
    )
)]
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<axum::Form<TokenRequest>, axum::extract::rejection::FormRejection>,
) -> Result<Response, OAuthError> {
    let form = form
        .map_err(|_| {
            OAuthError::invalid_request(
                "send an application/x-www-form-urlencoded body with grant_type=client_credentials",
            )
        })?
        .0;
    match form.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError {
                error: "unsupported_grant_type",
                error_description: "only grant_type=client_credentials is supported",
                status: StatusCode::BAD_REQUEST,
                basic_challenge: false,
            });
        }
        None => return Err(OAuthError::invalid_request("missing grant_type")),
    }

    let credentials = credentials(&headers, &form)?;
    let roles = authenticate_client(&state, &credentials).await?;
    let issued = state
        .authenticator()
        .issuer()
        .issue(&credentials.client_id, &roles)
        .map_err(|error| {
            tracing::error!(%error, "cannot sign an access token");
            OAuthError::server_error()
        })?;
    tracing::info!(client.id = %credentials.client_id, "issued an access token");
    let body = TokenResponse {
        access_token: issued.access_token.as_str().to_owned(),
        expires_in: issued.expires_in,
        refresh_expires_in: 0,
        token_type: "Bearer",
        not_before_policy: 0,
        scope: "",
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// Checks the client's secret and returns its roles.
async fn authenticate_client(
    state: &AppState,
    credentials: &Credentials,
) -> Result<Vec<String>, OAuthError> {
    let client = state
        .store()
        .api_client(&credentials.client_id)
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot read the API client");
            OAuthError::server_error()
        })?;
    let usable = client.filter(|client| client.disabled_at.is_none());
    let stored_hash = usable.as_ref().map_or_else(
        || decoy_hash().to_owned(),
        |client| client.secret_hash.as_str().to_owned(),
    );
    let secret = credentials.client_secret.clone();
    let matches = tokio::task::spawn_blocking(move || verify_secret(&secret, &stored_hash))
        .await
        .unwrap_or(false);
    match usable {
        Some(client) if matches => Ok(client.roles),
        _ => {
            tracing::info!(client.id = ?credentials.client_id, "rejected client credentials");
            Err(OAuthError::invalid_client(credentials.from_basic))
        }
    }
}

/// Returns the public keys that verify this server's tokens.
#[utoipa::path(
    get,
    path = "/auth/realms/divoc/protocol/openid-connect/certs",
    tag = "auth",
    responses((status = 200, description = "JSON Web Key Set", body = Object))
)]
pub async fn certs(State(state): State<AppState>) -> Json<Value> {
    Json(state.authenticator().issuer().jwks())
}

/// Returns the realm document with the token key, as Keycloak's realm endpoint, which
/// DIVOC services read at start.
#[utoipa::path(
    get,
    path = "/auth/realms/divoc",
    tag = "auth",
    responses((status = 200, description = "Realm name and token public key", body = Object))
)]
pub async fn realm(State(state): State<AppState>) -> Json<Value> {
    let issuer = state.authenticator().issuer();
    Json(json!({
        "realm": "divoc",
        "public_key": issuer.public_key_base64(),
    }))
}
