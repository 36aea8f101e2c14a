//! The HTTP routes, their middleware and the OpenAPI document built from them.
//!
//! Every route is registered through `utoipa_axum::routes!`, which records the handler's
//! `#[utoipa::path]` description, so each route is in the OpenAPI document by
//! construction.

pub mod bulk;
mod certificate_pdf;
pub mod certificates;
pub mod certify;
pub mod keys;
pub mod revocation;
pub mod revocation_list;
pub mod revoke;
pub mod system;
pub mod update;
mod validation;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::{IntoResponse, Response};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ComponentsBuilder, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::endpoint;
use crate::error::{ApiError, add_envelope, method_not_allowed, route_not_found};
use crate::state::AppState;
use crate::telemetry::{observe_request, tag_route};

/// Name of the bearer token security scheme in the OpenAPI document.
pub const BEARER_SCHEME: &str = "bearer";

/// Builds the routes, without state or middleware, and the OpenAPI document.
pub fn api_routes() -> (Router<AppState>, OpenApi) {
    let (router, mut openapi) = OpenApiRouter::<AppState>::new()
        .routes(routes!(system::healthz))
        .routes(routes!(system::readyz))
        .routes(routes!(system::metrics))
        .routes(routes!(system::openapi))
        .routes(routes!(endpoint::token))
        .routes(routes!(endpoint::certs))
        .routes(routes!(endpoint::realm))
        .routes(routes!(certify::certify_v1))
        .routes(routes!(certify::certify_v3))
        .routes(routes!(certify::acknowledgement))
        .routes(routes!(bulk::bulk_certify))
        .routes(routes!(bulk::certify_uploads))
        .routes(routes!(bulk::certify_upload_errors))
        .routes(routes!(certificates::certificate_record))
        .routes(routes!(certificates::certificate_qr_code))
        .routes(routes!(
            certificates::certificate_pdf,
            certificates::certificate_pdf_head
        ))
        .routes(routes!(certificates::certificate_pdf_by_id))
        .routes(routes!(certificates::cert_api_pdf_by_id))
        .routes(routes!(certificates::cert_api_pdf))
        .routes(routes!(revocation::certificate_revoked))
        .routes(routes!(update::update_v1))
        .routes(routes!(update::update_v3))
        .routes(routes!(revoke::revoke_certificates))
        .routes(routes!(revocation_list::revocation_list))
        .routes(routes!(keys::jwks))
        .routes(routes!(keys::did_document))
        .split_for_parts();
    describe(&mut openapi);
    (router, openapi)
}

fn describe(openapi: &mut OpenApi) {
    openapi.info.title = "vaccred".to_owned();
    openapi.info.version = env!("CARGO_PKG_VERSION").to_owned();
    openapi.info.description = Some(
        "Issuance, retrieval and revocation checks of DIVOC-compatible vaccination \
         certificates. Paths and bodies follow DIVOC 1.24 where DIVOC has the operation."
            .to_owned(),
    );
    let bearer = Http::builder()
        .scheme(HttpAuthScheme::Bearer)
        .bearer_format("JWT")
        .build();
    let components = openapi
        .components
        .take()
        .unwrap_or_else(|| ComponentsBuilder::new().build());
    let mut components = components;
    components.add_security_scheme(BEARER_SCHEME, SecurityScheme::Http(bearer));
    openapi.components = Some(components);
}

/// Adds the middleware and the state to the routes.
pub fn into_app(router: Router<AppState>, state: AppState) -> Router {
    let max_request_bytes = state.config().max_request_bytes;
    router
        .route_layer(middleware::from_fn(tag_route))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(max_request_bytes))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(middleware::from_fn(add_envelope))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            observe_request,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    ApiError::internal(anyhow::anyhow!("a request handler panicked")).into_response()
}
