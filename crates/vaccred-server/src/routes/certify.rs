//! DIVOC's certify API and the acknowledgement status that replaces its Kafka
//! `certify_ack`.
//!
//! A body is validated whole and stored whole: either every item is committed to the
//! store before the 200 is sent, or none is. Signing happens later in the workers.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use vaccred_core::credential::{CertificationRequest, ParseOptions, Shape, parse_requests_with};
use vaccred_core::phone::Region;
use vaccred_store::{
    AcceptedItem, Acknowledgement, AcknowledgementId, ItemState, NewItem, RequestKind, StoreError,
};

use super::validation::request_error;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Roles that may submit certification requests.
const CERTIFY_ROLES: &[Role] = &[Role::FacilityStaff, Role::Api];
/// Roles that may read any client's acknowledgements.
const SUPERVISOR_ROLES: &[Role] = &[Role::Admin, Role::FacilityAdmin];

/// Body of a successful certify request. DIVOC sent an empty body, which clients ignore.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CertifyResponse {
    /// Id to poll at `/divoc/api/v1/acknowledgements/{acknowledgementId}`.
    acknowledgement_id: String,
    /// One entry per request item, in body order.
    items: Vec<ItemBody>,
}

/// Status of one request item.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemBody {
    /// Position in the request body.
    index: usize,
    /// The work item's id.
    item_id: i64,
    /// `queued`, `issued`, `rejected` or `duplicate`.
    status: String,
    /// The issued certificate; for a duplicate, its original's once issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_id: Option<String>,
    /// For a duplicate, the earlier item with the same pre-enrollment code, program and
    /// dose.
    #[serde(skip_serializing_if = "Option::is_none")]
    duplicate_of: Option<i64>,
    /// The reason a rejected item was not signed.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

impl From<&AcceptedItem> for ItemBody {
    fn from(item: &AcceptedItem) -> Self {
        Self {
            index: item.index,
            item_id: item.item_id.get(),
            status: item.status.as_str().to_owned(),
            certificate_id: item.certificate_id.as_ref().map(ToString::to_string),
            duplicate_of: item.duplicate_of.map(|id| id.get()),
            reason: None,
        }
    }
}

impl From<&ItemState> for ItemBody {
    fn from(item: &ItemState) -> Self {
        Self {
            index: item.index,
            item_id: item.item_id.get(),
            status: item.status.as_str().to_owned(),
            certificate_id: item.certificate_id.as_ref().map(ToString::to_string),
            duplicate_of: item.duplicate_of.map(|id| id.get()),
            reason: item.reason.clone(),
        }
    }
}

/// Status of an accepted request body and its items.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcknowledgementResponse {
    /// The acknowledgement id.
    acknowledgement_id: String,
    /// `certify` or `update`.
    kind: String,
    /// When the body was accepted, RFC 3339.
    received_at: String,
    /// One entry per request item, in body order.
    items: Vec<ItemBody>,
}

/// Accepts certification requests for `certifyV2` credentials (vaccination context v1).
#[utoipa::path(
    post,
    path = "/divoc/api/v1/certify",
    tag = "certify",
    request_body(content = Vec<Object>, description = "DIVOC CertificationRequest array"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every item stored", body = CertifyResponse),
        (status = 400, description = "Unreadable body or DIVOC's age and dob rules (MISSING_FIELDS)"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-staff or api missing"),
        (status = 413, description = "Body larger than max_request_bytes"),
        (status = 422, description = "Schema rules broken; every failing field listed"),
    )
)]
pub async fn certify_v1(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CertifyResponse>, ApiError> {
    certify(&state, &principal, body, Shape::V2).await
}

/// Accepts certification requests for `certifyV3` credentials (WHO DDCC aligned).
#[utoipa::path(
    post,
    path = "/divoc/api/v3/certify",
    tag = "certify",
    request_body(content = Vec<Object>, description = "DIVOC CertificationRequestV2 array"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Every item stored", body = CertifyResponse),
        (status = 400, description = "Unreadable body or DIVOC's age and dob rules (MISSING_FIELDS)"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-staff or api missing"),
        (status = 413, description = "Body larger than max_request_bytes"),
        (status = 422, description = "Schema rules broken; every failing field listed"),
    )
)]
pub async fn certify_v3(
    State(state): State<AppState>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CertifyResponse>, ApiError> {
    certify(&state, &principal, body, Shape::V3).await
}

async fn certify(
    state: &AppState,
    principal: &Principal,
    body: Result<Bytes, BytesRejection>,
    shape: Shape,
) -> Result<Json<CertifyResponse>, ApiError> {
    principal.require_any(CERTIFY_ROLES)?;
    let region = state.config().notifications.mobile_region();
    let requests = parse_body(body, shape, RequestKind::Certify, region)?;
    let mut items = Vec::with_capacity(requests.len());
    for request in &requests {
        items.push(NewItem::from_request(request, shape, None).map_err(ApiError::internal)?);
    }
    let acknowledgement =
        accept_items(state, principal, RequestKind::Certify, &items, shape).await?;
    let accepted = u64::try_from(items.len()).unwrap_or(u64::MAX);
    state.metrics().certify_items_accepted(accepted);
    Ok(Json(CertifyResponse {
        acknowledgement_id: acknowledgement.id.to_string(),
        items: acknowledgement.items.iter().map(ItemBody::from).collect(),
    }))
}

/// Reads and validates a certify or update body; invalid bodies become DIVOC's 400 or 422.
/// With a `mobile_region`, every `tel:` contact must be a valid mobile number there.
pub(super) fn parse_body(
    body: Result<Bytes, BytesRejection>,
    shape: Shape,
    kind: RequestKind,
    mobile_region: Option<Region>,
) -> Result<Vec<CertificationRequest>, ApiError> {
    let body = body.map_err(body_error)?;
    let options = ParseOptions {
        shape,
        today: Some(OffsetDateTime::now_utc().date()),
        mobile_region,
    };
    parse_requests_with(&body, &options).map_err(|error| {
        let response = request_error(&error);
        tracing::debug!(
            http.status = response.status().as_u16(),
            invalid_values = error.field_errors().len(),
            request.kind = kind.as_str(),
            "request rejected"
        );
        response
    })
}

/// Stores every item of one body in one transaction and wakes the signing workers.
pub(super) async fn accept_items(
    state: &AppState,
    principal: &Principal,
    kind: RequestKind,
    items: &[NewItem],
    shape: Shape,
) -> Result<Acknowledgement, ApiError> {
    let store = state.store();
    let accepted = match kind {
        RequestKind::Update => {
            let limit = state.config().update_limit;
            store.accept_updates(&principal.subject, items, limit).await
        }
        _ => store.accept(&principal.subject, kind, items).await,
    };
    let acknowledgement = accepted.map_err(store_error)?;
    state.work_notify().notify_waiters();
    tracing::info!(
        acknowledgement.id = %acknowledgement.id,
        items = items.len(),
        shape = shape.certificate_type(),
        request.kind = kind.as_str(),
        "request accepted"
    );
    Ok(acknowledgement)
}

/// Returns the status of each item of an accepted certify request.
#[utoipa::path(
    get,
    path = "/divoc/api/v1/acknowledgements/{acknowledgementId}",
    tag = "certify",
    params(("acknowledgementId" = String, Path, description = "Id from the certify response")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Status of every item", body = AcknowledgementResponse),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-staff, api, facility-admin or admin missing"),
        (status = 404, description = "No acknowledgement with this id for this caller"),
    )
)]
pub async fn acknowledgement(
    State(state): State<AppState>,
    principal: Principal,
    Path(id): Path<String>,
) -> Result<Json<AcknowledgementResponse>, ApiError> {
    let readers = [CERTIFY_ROLES, SUPERVISOR_ROLES].concat();
    principal.require_any(&readers)?;
    let not_found = || ApiError::not_found("no acknowledgement with this id");
    let id: AcknowledgementId = id.parse().map_err(|_| not_found())?;
    let status = state
        .store()
        .acknowledgement(id)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    let supervisor = SUPERVISOR_ROLES
        .iter()
        .any(|role| principal.has_role(*role));
    if status.client_id != principal.subject && !supervisor {
        return Err(not_found());
    }
    Ok(Json(AcknowledgementResponse {
        acknowledgement_id: status.id.to_string(),
        kind: status.kind.as_str().to_owned(),
        received_at: status.received_at.format(&Rfc3339).unwrap_or_default(),
        items: status.items.iter().map(ItemBody::from).collect(),
    }))
}

/// Maps a body that could not be read, usually one over the size limit.
pub(crate) fn body_error(rejection: BytesRejection) -> ApiError {
    let status = rejection.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "PAYLOAD_TOO_LARGE",
            "the request body is larger than the server accepts: send fewer items per request",
        );
    }
    ApiError::new(status, "INVALID_BODY", "the request body could not be read")
}

/// Maps a store failure: the database being down is temporary (503), anything else is an
/// internal error (500).
pub(crate) fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Database(_) => ApiError::unavailable(error),
        StoreError::UpdateLimitReached { index, limit } => {
            tracing::info!(
                item.index = index,
                "update request rejected: queued updates reach the update limit"
            );
            let message = format!(
                "item {index}: this dose already has {limit} corrections issued or queued; \
                 wait for the queued ones and correct the newest certificate instead"
            );
            ApiError::new(
                StatusCode::PRECONDITION_FAILED,
                "UPDATE_LIMIT_REACHED",
                message,
            )
        }
        other => ApiError::internal(other),
    }
}
