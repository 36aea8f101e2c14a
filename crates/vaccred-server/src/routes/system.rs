//! Operational endpoints: liveness, readiness, metrics and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::state::AppState;

/// Body of the health endpoints.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthBody {
    /// `ok`, `ready` or `not ready`.
    status: &'static str,
    /// Result of each readiness check, absent for liveness.
    #[serde(skip_serializing_if = "Option::is_none")]
    checks: Option<ReadinessChecks>,
}

/// Results of the readiness checks.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReadinessChecks {
    /// `ok` when a query succeeded, else `unavailable`.
    database: &'static str,
    /// Id of the credential signing key in use.
    signing_key: String,
}

/// Reports that the process is up.
#[utoipa::path(
    get,
    path = "/healthz",
    tag = "system",
    responses((status = 200, description = "The process is up", body = HealthBody))
)]
pub async fn healthz() -> Json<HealthBody> {
    Json(HealthBody {
        status: "ok",
        checks: None,
    })
}

/// Reports whether the service can take requests: the database returns a query result and
/// a signing key is loaded.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "system",
    responses(
        (status = 200, description = "Ready", body = HealthBody),
        (status = 503, description = "Not ready", body = HealthBody),
    )
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    let database = match state.store().health().await {
        Ok(()) => "ok",
        Err(error) => {
            tracing::warn!(%error, "readiness check: database unavailable");
            "unavailable"
        }
    };
    let ready = database == "ok";
    let body = HealthBody {
        status: if ready { "ready" } else { "not ready" },
        checks: Some(ReadinessChecks {
            database,
            signing_key: state.signing_key().id().to_string(),
        }),
    };
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Returns the metrics in Prometheus text exposition format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    responses((
        status = 200,
        description = "Prometheus text exposition",
        body = String,
        content_type = "text/plain"
    ))
)]
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    match state.store().queue_depth().await {
        Ok(depth) => state.metrics().set_queue_depth(depth),
        // The gauge keeps its last value, so one failed count does not fail the scrape.
        Err(error) => tracing::warn!(%error, "cannot count the queued work items"),
    }
    match state.store().notification_stats().await {
        Ok(stats) => {
            let age = stats.oldest_pending.map_or(0.0, |oldest| {
                (time::OffsetDateTime::now_utc() - oldest)
                    .as_seconds_f64()
                    .max(0.0)
            });
            state.metrics().set_notification_queue(stats.pending, age);
        }
        Err(error) => tracing::warn!(%error, "cannot count the pending notifications"),
    }
    let text = state.metrics().encode().map_err(ApiError::internal)?;
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    Ok(response)
}

/// Returns this OpenAPI document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "system",
    responses((status = 200, description = "OpenAPI 3.1 document", body = Object))
)]
pub async fn openapi(State(state): State<AppState>) -> Response {
    let mut response = state.openapi_json().to_owned().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}
