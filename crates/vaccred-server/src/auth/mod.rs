//! Authentication and roles.
//!
//! Callers send `Authorization: Bearer <JWT>`. Two kinds of token are accepted:
//!
//! - tokens this server issues to API clients at the OAuth2 `client_credentials` token
//!   endpoint, at Keycloak's path for DIVOC's realm (see [`endpoint`]);
//! - tokens of an external OpenID Connect provider, such as the ministry's Keycloak, when
//!   its issuer and JWKS are configured (see [`oidc`]).
//!
//! Both are RS256 JWTs with Keycloak's role claim: a role counts when it appears in
//! `resource_access.<any client>.roles`, as DIVOC checks it. A missing or invalid token
//! gets 401 and a missing role 403, where DIVOC 1.24 returned 401 or 500.

pub mod clients;
pub mod endpoint;
pub mod oidc;
pub mod secret;
pub mod token;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// A role that grants access to operations, named as in DIVOC's Keycloak realm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Role {
    /// Source systems and facility apps: certify and update.
    FacilityStaff,
    /// Facility administrators: bulk uploads and certificate look-up by id.
    FacilityAdmin,
    /// Facility staff who print certificates.
    FacilityPrintStaff,
    /// Integration clients: certificate retrieval by pre-enrollment code.
    Api,
    /// System administrators.
    Admin,
    /// Vaccinated people, who may read only their own certificates.
    Recipient,
    /// Programme controllers (portal screens).
    Controller,
    /// Monitoring dashboards (portal screens).
    Monitoring,
    /// Administrators of the admin portal.
    SystemAdmin,
}

impl Role {
    /// Every role, in the order of the command-line help.
    pub const ALL: [Role; 9] = [
        Role::FacilityStaff,
        Role::FacilityAdmin,
        Role::FacilityPrintStaff,
        Role::Api,
        Role::Admin,
        Role::Recipient,
        Role::Controller,
        Role::Monitoring,
        Role::SystemAdmin,
    ];

    /// Returns the role's name in tokens, such as `facility-staff`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::FacilityStaff => "facility-staff",
            Role::FacilityAdmin => "facility-admin",
            Role::FacilityPrintStaff => "facility-print-staff",
            Role::Api => "api",
            Role::Admin => "admin",
            Role::Recipient => "recipient",
            Role::Controller => "controller",
            Role::Monitoring => "monitoring",
            Role::SystemAdmin => "system-admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Error returned for a role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: use one of {names}", names = role_names())]
pub struct UnknownRole(pub String);

fn role_names() -> String {
    let names: Vec<&str> = Role::ALL.iter().map(|role| role.as_str()).collect();
    names.join(", ")
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| UnknownRole(name.to_owned()))
    }
}

/// Issuer of a caller's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenSource {
    /// This server's token endpoint.
    Local,
    /// The configured external OpenID Connect provider.
    External,
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The token's `sub` claim.
    pub subject: String,
    /// The client the token was issued to (`azp`), when present.
    pub client_id: Option<String>,
    /// The `preferred_username` claim: a recipient's mobile number in DIVOC's realm.
    pub preferred_username: Option<String>,
    /// Role names from `resource_access.<any client>.roles`, including unknown ones.
    pub roles: BTreeSet<String>,
    /// The token's issuer.
    pub source: TokenSource,
}

impl Principal {
    /// Tests whether the caller has `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(role.as_str())
    }

    /// Checks that the caller has at least one of `roles`.
    ///
    /// # Errors
    /// Returns a 403 [`ApiError`] that names the roles when the caller has none of them.
    pub fn require_any(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.iter().any(|role| self.has_role(*role)) {
            return Ok(());
        }
        let names: Vec<&str> = roles.iter().map(|role| role.as_str()).collect();
        tracing::debug!(
            auth.subject = %self.subject,
            required = names.join(","),
            "role missing"
        );
        Err(ApiError::forbidden(format!(
            "this operation needs one of the roles: {}",
            names.join(", ")
        )))
    }
}

/// Claims read from an access token, in Keycloak's layout.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AccessClaims {
    #[serde(default)]
    pub(crate) sub: Option<String>,
    #[serde(default)]
    pub(crate) azp: Option<String>,
    #[serde(default)]
    pub(crate) preferred_username: Option<String>,
    #[serde(default)]
    pub(crate) resource_access: BTreeMap<String, ClientRoles>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ClientRoles {
    #[serde(default)]
    pub(crate) roles: Vec<String>,
}

impl AccessClaims {
    pub(crate) fn into_principal(self, source: TokenSource) -> Principal {
        let roles = self
            .resource_access
            .into_values()
            .flat_map(|client| client.roles)
            .collect();
        let subject = self.sub.or_else(|| self.azp.clone()).unwrap_or_default();
        Principal {
            subject,
            client_id: self.azp,
            preferred_username: self.preferred_username,
            roles,
            source,
        }
    }
}

/// Reason a bearer token was rejected. The message is safe to send to the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer token: send Authorization: Bearer <access token>")]
    Missing,
    /// The token is not a well-formed JWT.
    #[error("malformed bearer token")]
    Malformed,
    /// The token's `exp` has passed.
    #[error("the bearer token has expired: request a new one")]
    Expired,
    /// No trusted key matches the token's issuer, key id or algorithm.
    #[error("the bearer token was not issued by a trusted issuer")]
    UntrustedIssuer,
    /// The signature or a checked claim (`iss`, `aud`, `nbf`) is invalid.
    #[error("invalid bearer token")]
    Invalid,
}

impl From<TokenError> for ApiError {
    fn from(error: TokenError) -> Self {
        ApiError::unauthorized(error.to_string())
    }
}

/// Reads the token from an `Authorization: Bearer` header value.
fn bearer_token(parts: &Parts) -> Result<&str, TokenError> {
    let value = parts
        .headers
        .get(AUTHORIZATION)
        .ok_or(TokenError::Missing)?
        .to_str()
        .map_err(|_| TokenError::Malformed)?;
    let (scheme, token) = value.split_once(' ').ok_or(TokenError::Missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(TokenError::Missing);
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(TokenError::Missing);
    }
    Ok(token)
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer_token(parts)?;
        let principal = state.authenticator().authenticate(token).await?;
        tracing::Span::current().record("auth.subject", principal.subject.as_str());
        Ok(principal)
    }
}

/// Checks bearer tokens against this server's key and the external provider's keys.
#[derive(Debug)]
pub struct Authenticator {
    local: token::TokenIssuer,
    external: Option<oidc::OidcVerifier>,
}

impl Authenticator {
    /// Combines the local token issuer and the optional external provider.
    pub fn new(local: token::TokenIssuer, external: Option<oidc::OidcVerifier>) -> Self {
        Self { local, external }
    }

    /// Returns the local token issuer.
    pub fn issuer(&self) -> &token::TokenIssuer {
        &self.local
    }

    /// Verifies a token and returns its caller.
    ///
    /// # Errors
    /// Returns [`TokenError`] when the token is malformed, expired, untrusted or invalid.
    pub async fn authenticate(&self, token: &str) -> Result<Principal, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
        if self.local.is_own_key(header.kid.as_deref()) {
            return self.local.verify(token);
        }
        match &self.external {
            Some(external) => external.verify(token, &header).await,
            None => Err(TokenError::UntrustedIssuer),
        }
    }
}

/// Maps the JWT library's validation error to a [`TokenError`].
pub(crate) fn classify(error: &jsonwebtoken::errors::Error) -> TokenError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::MissingRequiredClaim(_) => TokenError::Malformed,
        _ => TokenError::Invalid,
    }
}
