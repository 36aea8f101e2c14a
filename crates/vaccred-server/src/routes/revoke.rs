//! DIVOC 2.0's revoke API, `DELETE /divoc/api/v1/certificates/{preEnrollmentCode}`.
//! DIVOC 1.24 has no revoke endpoint, so the rules follow DIVOC 2.0.0. Unlike DIVOC,
//! the revocation is recorded before the response and the certificates stay stored with
//! status revoked.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use vaccred_store::{DoseSelection, RevokeError};

use super::certify::store_error;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Roles that may revoke certificates.
const REVOKE_ROLES: &[Role] = &[Role::FacilityStaff, Role::Api, Role::Admin];

/// Reason code recorded when the request names none.
const DEFAULT_REASON: &str = "revoked";

/// Query parameters of the revoke API.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct RevokeQuery {
    /// Doses to revoke, comma-separated, such as `1,2`. Sorted, they must be consecutive
    /// and include the highest dose that has an active certificate.
    doses: Option<String>,
    /// `true` revokes every dose and overrides `doses`. Any other value is ignored.
    all_doses: Option<String>,
    /// Reason code for the revocation list, 1 to 64 characters other than `superseded`,
    /// which updates use. Default `revoked`.
    reason: Option<String>,
}

/// Revokes the active certificates of a pre-enrollment code for the selected doses and
/// returns the revoked certificate ids.
#[utoipa::path(
    delete,
    // The template shares its parameter name with the certificate lookup at the same
    // path, because the router cannot hold two parameter names at one position.
    path = "/divoc/api/v1/certificates/{certificateId}",
    tag = "revocation",
    params(
        ("certificateId" = String, Path, description = "The pre-enrollment code whose certificates are revoked"),
        RevokeQuery,
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Ids of the revoked certificates", body = Vec<String>),
        (status = 400, description = "No doses, doses not consecutive, highest certified dose missing, or an invalid reason"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-staff, api or admin missing"),
        (status = 404, description = "No active certificate for the pre-enrollment code and doses"),
    )
)]
pub async fn revoke_certificates(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
    query: Result<Query<RevokeQuery>, QueryRejection>,
) -> Result<Json<Vec<String>>, ApiError> {
    principal.require_any(REVOKE_ROLES)?;
    let Query(query) = query.map_err(|_| {
        bad_request(
            "INVALID_QUERY",
            "the query string cannot be read".to_owned(),
        )
    })?;
    let selection = dose_selection(&query)?;
    let reason = query.reason.as_deref().unwrap_or(DEFAULT_REASON);
    let entries = state
        .store()
        .revoke(&code, &selection, reason)
        .await
        .map_err(revoke_error)?;
    tracing::info!(
        revoked = entries.len(),
        reason,
        client.id = %principal.subject,
        "certificates revoked through the API"
    );
    let ids = entries
        .iter()
        .map(|entry| entry.certificate_id.to_string())
        .collect();
    Ok(Json(ids))
}

/// Reads DIVOC's `allDoses` and `doses` parameters. A missing or empty dose list is
/// passed on as an empty selection, which the store rejects as DIVOC's 400.
fn dose_selection(query: &RevokeQuery) -> Result<DoseSelection, ApiError> {
    let all = query
        .all_doses
        .as_deref()
        .is_some_and(|value| value.eq_ignore_ascii_case("true"));
    if all {
        return Ok(DoseSelection::All);
    }
    let mut doses = Vec::new();
    let listed = query.doses.as_deref().unwrap_or_default();
    for part in listed
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let dose = part.parse::<u32>().map_err(|_| {
            bad_request(
                "INVALID_DOSES",
                format!("invalid dose {part:?} in doses: list whole numbers such as doses=1,2"),
            )
        })?;
        doses.push(dose);
    }
    Ok(DoseSelection::Doses(doses))
}

fn revoke_error(error: RevokeError) -> ApiError {
    match error {
        RevokeError::NotFound => ApiError::not_found(error.to_string()),
        RevokeError::NoDoses
        | RevokeError::NotContiguous { .. }
        | RevokeError::HighestDoseMissing { .. } => bad_request("INVALID_DOSES", error.to_string()),
        RevokeError::InvalidReason(_) => bad_request(
            "INVALID_REASON",
            "invalid reason: use 1 to 64 characters other than the reserved \"superseded\""
                .to_owned(),
        ),
        RevokeError::Store(error) => store_error(error),
        other => ApiError::internal(other),
    }
}

fn bad_request(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}
