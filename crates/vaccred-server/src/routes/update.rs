//! DIVOC's update (correction) API: a corrected request replaces the newest certificate
//! of its dose.
//!
//! Like certify, a body is validated whole and stored whole. Every item is checked for an
//! existing certificate and the update limit before any item is stored, so a 412 leaves
//! nothing behind. DIVOC 1.24 checked and published item by item, so its 412 could follow
//! items already sent for signing. The worker signs each stored item as a new certificate
//! with a new id, and the store marks the replaced one superseded and revoked.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use vaccred_core::credential::{CertificateId, CertificationRequest, Shape};
use vaccred_store::{NewItem, RequestKind};

use super::certify::{ItemBody, accept_items, parse_body, store_error};
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Roles that may submit update requests, as for certify.
const UPDATE_ROLES: &[Role] = &[Role::FacilityStaff, Role::Api];

/// Body of a successful update request. DIVOC sent an empty body, which clients ignore.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateResponse {
    /// Id to poll at `/divoc/api/v1/acknowledgements/{acknowledgementId}`.
    acknowledgement_id: String,
    /// One entry per request item, in body order.
    items: Vec<ItemBody>,
}

/// Replaces `certifyV2` certificates (vaccination context v1) with corrected ones.
#[utoipa::path(
    put,
    path = "/divoc/api/v1/certificate",
    tag = "certify",
    request_body(content = Vec<Object>, description = "DIVOC CertificationRequest array"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every item stored", body = UpdateResponse),
        (status = 400, description = "Unreadable body or DIVOC's age and dob rules (MISSING_FIELDS)"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-staff or api missing"),
        (status = 412, description = "An item has no certificate for its pre-enrollment code and dose, or its dose was updated update_limit times; nothing stored, empty body"),
        (status = 413, description = "Body larger than max_request_bytes"),
        (status = 422, description = "Schema rules broken; every failing field listed"),
    )
)]
pub async fn update_v1(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    update(&state, &principal, body, Shape::V2).await
}

/// Replaces certificates with corrected `certifyV3` ones (WHO DDCC aligned).
#[utoipa::path(
    put,
    path = "/divoc/api/v3/certificate",
    tag = "certify",
    request_body(content = Vec<Object>, description = "DIVOC CertificationRequestV2 array"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every item stored", body = UpdateResponse),
        (status = 400, description = "Unreadable body or DIVOC's age and dob rules (MISSING_FIELDS)"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-staff or api missing"),
        (status = 412, description = "An item has no certificate for its pre-enrollment code and dose, or its dose was updated update_limit times; nothing stored, empty body"),
        (status = 413, description = "Body larger than max_request_bytes"),
        (status = 422, description = "Schema rules broken; every failing field listed"),
    )
)]
pub async fn update_v3(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    update(&state, &principal, body, Shape::V3).await
}

async fn update(
    state: &AppState,
    principal: &Principal,
    body: Result<Bytes, BytesRejection>,
    shape: Shape,
) -> Result<Response, ApiError> {
    principal.require_any(UPDATE_ROLES)?;
    let region = state.config().notifications.mobile_region();
    let requests = parse_body(body, shape, RequestKind::Update, region)?;
    let mut items = Vec::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        let Some(replaces) = replaced_certificate(state, request).await? else {
            tracing::info!(
                item.index = index,
                update_limit = state.config().update_limit,
                "update request rejected: no certificate to replace or update limit reached"
            );
            return Ok(StatusCode::PRECONDITION_FAILED.into_response());
        };
        let item = NewItem::from_request(request, shape, Some(replaces));
        items.push(item.map_err(ApiError::internal)?);
    }
    let acknowledgement =
        accept_items(state, principal, RequestKind::Update, &items, shape).await?;
    let response = UpdateResponse {
        acknowledgement_id: acknowledgement.id.to_string(),
        items: acknowledgement.items.iter().map(ItemBody::from).collect(),
    };
    Ok(Json(response).into_response())
}

/// Returns the certificate an update item replaces: the newest one of its
/// pre-enrollment code and dose. Returns `None`, DIVOC's 412, when the dose has no
/// certificate or already has `update_limit + 1` of them (the original and
/// `update_limit` corrections), as DIVOC 1.24 counts. The store checks the limit again
/// when it accepts the body, counting queued updates too.
async fn replaced_certificate(
    state: &AppState,
    request: &CertificationRequest,
) -> Result<Option<CertificateId>, ApiError> {
    let eligibility = state
        .store()
        .certificates_for_update(&request.pre_enrollment_code, request.vaccination.dose)
        .await
        .map_err(store_error)?;
    let limit = u64::from(state.config().update_limit);
    if eligibility.count > limit {
        return Ok(None);
    }
    Ok(eligibility.latest)
}
