//! The signed revocation list, for verifiers that check revocation offline. DIVOC has no
//! such list, so this is an extension.
//!
//! The body is signed with the credential signing key as a detached JWS (RFC 7797,
//! `b64: false`) over the exact body bytes, sent in the `X-Vaccred-Signature` header.
//! `vaccred_core::revocation::verify_revocation_list` checks it with the keys published
//! at `/.well-known/jwks.json` or `/.well-known/did.json`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::{IntoParams, ToSchema};
use vaccred_core::proof::ProofType;
use vaccred_core::sign::SigningKey;
use vaccred_store::RevocationEntry;

use super::certify::store_error;
use crate::error::ApiError;
use crate::state::AppState;

/// Response header that carries the detached JWS over the body.
pub const SIGNATURE_HEADER: &str = "x-vaccred-signature";

/// Query parameters of the revocation list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevocationListQuery {
    /// Serial after which the returned entries start, such as the `serial` of the last
    /// list fetched. Absent means every entry.
    since: Option<i64>,
}

/// The revocation list.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevocationListBody {
    /// The issuer, as in the credentials' `issuer`.
    issuer: String,
    /// The highest serial assigned so far. Pass it as `since` next time.
    serial: i64,
    /// When this list was made, RFC 3339.
    this_update: String,
    /// When the next list is due at the latest, RFC 3339.
    next_update: String,
    /// Entries in serial order.
    entries: Vec<RevocationListEntry>,
    /// For a delta list, the `since` parameter it was made for.
    #[serde(skip_serializing_if = "Option::is_none")]
    since: Option<i64>,
}

/// One revoked or superseded certificate.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RevocationListEntry {
    /// The certificate's `evidence[0].certificateId`.
    certificate_id: String,
    /// When the revocation was recorded, RFC 3339.
    revoked_at: String,
    /// Reason code: `superseded` when an update replaced the certificate.
    reason: String,
}

/// Protected header of the detached JWS, in this member order.
#[derive(Serialize)]
struct JwsHeader<'a> {
    alg: &'static str,
    kid: &'a str,
    b64: bool,
    crit: [&'static str; 1],
}

/// Returns the revocation list, or with `since` the entries added after that serial,
/// signed by the credential signing key.
#[utoipa::path(
    get,
    path = "/divoc/api/v1/revocations",
    tag = "revocation",
    params(RevocationListQuery),
    responses(
        (status = 200, description = "The list; the X-Vaccred-Signature header has a detached JWS (b64: false) over the body bytes",
            body = RevocationListBody,
            headers(
                ("X-Vaccred-Signature" = String, description = "Detached JWS compact serialization, header {alg, kid, b64: false, crit: [b64]}"),
                ("ETag" = String, description = "The list's serial, as a weak tag"),
                ("Cache-Control" = String, description = "public, max-age = revocation_list_max_age_seconds"),
            )),
        (status = 304, description = "If-None-Match names the current serial"),
        (status = 400, description = "since is not a whole number of at least 0"),
        (status = 503, description = "The database is unavailable"),
    )
)]
pub async fn revocation_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<RevocationListQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    let since = match query {
        Ok(Query(RevocationListQuery { since })) if since.is_none_or(|since| since >= 0) => since,
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "INVALID_QUERY",
                "since must be a whole number of at least 0, such as the serial of the last list",
            ));
        }
    };
    let list = state
        .store()
        .revocation_list(since)
        .await
        .map_err(store_error)?;
    let etag = format!("W/\"{}\"", list.max_serial);
    let max_age = state.config().revocation_list_max_age_seconds;
    let cache_control = format!("public, max-age={max_age}");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|value| value.as_bytes() == etag.as_bytes())
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert_header(&mut response, header::ETAG, &etag)?;
        insert_header(&mut response, header::CACHE_CONTROL, &cache_control)?;
        return Ok(response);
    }

    let now = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .map_err(ApiError::internal)?;
    let next = now + Duration::from_secs(max_age);
    let body = RevocationListBody {
        issuer: state.config().issuer.issuer.clone(),
        serial: list.max_serial,
        this_update: rfc3339(now)?,
        next_update: rfc3339(next)?,
        entries: list
            .entries
            .iter()
            .map(list_entry)
            .collect::<Result<_, _>>()?,
        since,
    };
    let bytes = serde_json::to_vec(&body).map_err(ApiError::internal)?;
    let key = Arc::clone(state.signing_key());
    let (bytes, signature) = tokio::task::spawn_blocking(move || {
        let signature = detached_jws(&key, &bytes);
        (bytes, signature)
    })
    .await
    .map_err(ApiError::internal)?;
    let signature = signature?;

    let mut response = bytes.into_response();
    insert_header(&mut response, header::CONTENT_TYPE, "application/json")?;
    insert_header(&mut response, header::ETAG, &etag)?;
    insert_header(&mut response, header::CACHE_CONTROL, &cache_control)?;
    insert_header(
        &mut response,
        HeaderName::from_static(SIGNATURE_HEADER),
        &signature,
    )?;
    Ok(response)
}

fn list_entry(entry: &RevocationEntry) -> Result<RevocationListEntry, ApiError> {
    Ok(RevocationListEntry {
        certificate_id: entry.certificate_id.to_string(),
        revoked_at: rfc3339(entry.revoked_at)?,
        reason: entry.reason.clone(),
    })
}

fn rfc3339(time: OffsetDateTime) -> Result<String, ApiError> {
    time.format(&Rfc3339).map_err(ApiError::internal)
}

/// Signs `payload` as a detached JWS with `b64: false`: the signed bytes are
/// `base64url(header) + "."` followed by the payload itself, and the payload part of
/// the compact form stays empty.
fn detached_jws(key: &SigningKey, payload: &[u8]) -> Result<String, ApiError> {
    let alg = match key.proof_type() {
        ProofType::Ed25519Signature2018 => "EdDSA",
        _ => "PS256",
    };
    let header = JwsHeader {
        alg,
        kid: key.id().as_str(),
        b64: false,
        crit: ["b64"],
    };
    let header_json = serde_json::to_vec(&header).map_err(ApiError::internal)?;
    let header_part = URL_SAFE_NO_PAD.encode(header_json);
    let mut signing_input = Vec::with_capacity(header_part.len() + 1 + payload.len());
    signing_input.extend_from_slice(header_part.as_bytes());
    signing_input.push(b'.');
    signing_input.extend_from_slice(payload);
    let signature = key.sign_bytes(&signing_input).map_err(ApiError::internal)?;
    Ok(format!(
        "{header_part}..{}",
        URL_SAFE_NO_PAD.encode(signature)
    ))
}

fn insert_header(response: &mut Response, name: HeaderName, value: &str) -> Result<(), ApiError> {
    let value = HeaderValue::from_str(value).map_err(ApiError::internal)?;
    response.headers_mut().insert(name, value);
    Ok(())
}
