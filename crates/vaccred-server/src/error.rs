//! The API's error type and its JSON envelope.
//!
//! Every error response of the API carries `{"code", "message", "requestId"}`, sometimes
//! with an `errors` list. Handlers return [`ApiError`], whose response carries the
//! envelope as a response extension. The [`add_envelope`] middleware writes the body,
//! because only the middleware can read the request id. Internal causes are logged once here and never
//! sent to the client, who gets the request id to quote instead.

use std::borrow::Cow;

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

/// Header that carries the request id, set by the request id layer.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// An error response of the API. The fields are boxed, so `Result<T, ApiError>` stays
/// one pointer wide on the error side.
#[derive(Debug)]
pub struct ApiError(Box<ErrorFields>);

#[derive(Debug)]
struct ErrorFields {
    status: StatusCode,
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    errors: Option<Value>,
    header: Option<(HeaderName, HeaderValue)>,
    cause: Option<anyhow::Error>,
}

impl ApiError {
    /// Creates an error with this status, code and client-facing message.
    pub fn new(
        status: StatusCode,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self(Box::new(ErrorFields {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            errors: None,
            header: None,
            cause: None,
        }))
    }

    /// Creates a 401 for a missing, malformed, expired or untrusted bearer token.
    pub fn unauthorized(message: impl Into<Cow<'static, str>>) -> Self {
        let challenge = HeaderValue::from_static("Bearer realm=\"divoc\"");
        Self::new(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", message)
            .with_header(header::WWW_AUTHENTICATE, challenge)
    }

    /// Creates a 403 for a valid token without any of the roles an operation needs.
    pub fn forbidden(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "FORBIDDEN", message)
    }

    /// Creates a 404 for a resource that does not exist.
    pub fn not_found(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NOT_FOUND", message)
    }

    /// Creates a 500 for a failure the client cannot fix. The cause is logged, not sent.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        let message = "internal error: quote the request id to the operator";
        let mut error = Self::new(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", message);
        error.0.cause = Some(cause.into());
        error
    }

    /// Creates a 503 for a dependency, such as the database, that is down. The cause is
    /// logged, not sent.
    pub fn unavailable(cause: impl Into<anyhow::Error>) -> Self {
        let message = "service temporarily unavailable: retry later";
        let mut error = Self::new(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", message);
        error.0.cause = Some(cause.into());
        error
    }

    /// Adds a list of detailed errors, such as every invalid request field.
    pub fn with_errors(mut self, errors: Value) -> Self {
        self.0.errors = Some(errors);
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.0.header = Some((name, value));
        self
    }

    /// Returns the HTTP status.
    pub fn status(&self) -> StatusCode {
        self.0.status
    }

    /// Returns the error code sent as `code`.
    pub fn code(&self) -> &str {
        &self.0.code
    }
}

/// The envelope's fields, carried from the handler to [`add_envelope`].
#[derive(Debug, Clone)]
struct Envelope {
    code: Cow<'static, str>,
    message: Cow<'static, str>,
    errors: Option<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvelopeBody<'a> {
    code: &'a str,
    message: &'a str,
    request_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<&'a Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = *self.0;
        if let Some(cause) = &error.cause {
            tracing::error!(
                http.status = error.status.as_u16(),
                error.code = %error.code,
                error = format!("{cause:#}"),
                "request failed"
            );
        }
        let mut response = error.status.into_response();
        if let Some((name, value)) = error.header {
            response.headers_mut().insert(name, value);
        }
        response.extensions_mut().insert(Envelope {
            code: error.code,
            message: error.message,
            errors: error.errors,
        });
        response
    }
}

/// Middleware that writes the JSON envelope of error responses, with the request id.
pub async fn add_envelope(request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let response = next.run(request).await;
    let Some(envelope) = response.extensions().get::<Envelope>().cloned() else {
        return response;
    };
    let body = EnvelopeBody {
        code: &envelope.code,
        message: &envelope.message,
        request_id: &request_id,
        errors: envelope.errors.as_ref(),
    };
    let (mut parts, _) = response.into_parts();
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

/// Fallback for paths that match no route.
pub async fn route_not_found() -> ApiError {
    ApiError::not_found("no such endpoint: check the method and path")
}

/// Fallback for known paths called with an unsupported method.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "METHOD_NOT_ALLOWED",
        "this endpoint does not support the request method",
    )
}
