//! Logging setup and the per-request span, access log line and metrics.
//!
//! Each request gets one span named `request` with its request id, method and route
//! template. The raw path is never logged, because it can contain a pre-enrollment code.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument as _;
use tracing::field::Empty;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};
use crate::error::REQUEST_ID_HEADER;
use crate::state::AppState;

/// Route label of requests that matched no route.
const UNMATCHED_ROUTE: &str = "unmatched";

/// Error returned when logging cannot be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TelemetryError {
    /// `log_filter` is not a valid filter.
    #[error("invalid log_filter {filter:?}: {message}")]
    InvalidFilter {
        /// The configured filter.
        filter: String,
        /// The parser's message.
        message: String,
    },
    /// Another subscriber is already installed in this process.
    #[error("a logging subscriber is already installed")]
    AlreadyInstalled,
}

/// Installs the process-wide log subscriber: text or JSON lines on standard error,
/// filtered by `log_filter`.
///
/// # Errors
/// Returns [`TelemetryError`] for an invalid filter or when a subscriber already exists.
pub fn init_logging(config: &Config) -> Result<(), TelemetryError> {
    let filter =
        EnvFilter::try_new(&config.log_filter).map_err(|error| TelemetryError::InvalidFilter {
            filter: config.log_filter.clone(),
            message: error.to_string(),
        })?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let result = match config.log_format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
    result.map_err(|_| TelemetryError::AlreadyInstalled)
}

/// The route template a request matched, carried from the router to [`observe_request`].
#[derive(Debug, Clone)]
struct RouteTemplate(String);

/// Route-level middleware that records the matched route template in the request span
/// and passes it to [`observe_request`] on the response.
pub async fn tag_route(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    if let Some(route) = &route {
        tracing::Span::current().record("http.route", route.as_str());
    }
    let mut response = next.run(request).await;
    if let Some(route) = route {
        response.extensions_mut().insert(RouteTemplate(route));
    }
    response
}

/// Middleware that opens the request span, logs one line per response and records the
/// request metrics.
pub async fn observe_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let span = tracing::info_span!(
        "request",
        request.id = %request_id,
        http.method = %method,
        http.route = Empty,
        http.status = Empty,
        auth.subject = Empty,
    );
    let response = next.run(request).instrument(span.clone()).await;

    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or(UNMATCHED_ROUTE, |template| template.0.as_str());
    span.record("http.status", status);
    let duration_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    span.in_scope(|| tracing::info!(duration_ms, "request finished"));
    state
        .metrics()
        .observe_request(method.as_str(), route, status, elapsed.as_secs_f64());
    response
}
