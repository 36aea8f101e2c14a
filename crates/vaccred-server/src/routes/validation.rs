//! Certify request validation errors as HTTP responses, in DIVOC's status codes.
//!
//! DIVOC 1.24 checks a body in three stages and stops at the first failing one: Go's
//! JSON decoding (400), go-swagger's schema validation (422, `<path> in body …`), and
//! the certify handler's age and date-of-birth rules (400, code `MISSING_FIELDS`). The
//! status here is that of the earliest stage with a failure, as DIVOC's would be, but the
//! body lists every invalid value of every item, where DIVOC named only the first.

use axum::http::StatusCode;
use serde_json::{Value, json};
use vaccred_core::credential::{FieldError, Problem, RequestError};

use crate::error::ApiError;

/// The stage of DIVOC's checks that reports a problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Decoding,
    Schema,
    Handler,
}

fn stage(problem: &Problem) -> Stage {
    match problem {
        Problem::MissingAgeAndDob | Problem::InvalidAgeOrDob { .. } => Stage::Handler,
        _ if problem.divoc_status() == 422 => Stage::Schema,
        _ => Stage::Decoding,
    }
}

/// Builds the error response for a body that failed to parse or validate.
pub(crate) fn request_error(error: &RequestError) -> ApiError {
    let fields = error.field_errors();
    let Some(first_stage) = fields.iter().map(|field| stage(&field.problem)).min() else {
        return ApiError::new(StatusCode::BAD_REQUEST, "INVALID_JSON", error.to_string());
    };
    let errors = Value::Array(fields.iter().map(field_json).collect());
    let in_stage: Vec<&FieldError> = fields
        .iter()
        .filter(|field| stage(&field.problem) == first_stage)
        .collect();
    let response = match first_stage {
        Stage::Decoding => ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_VALUE",
            joined_messages(&in_stage),
        ),
        Stage::Schema => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "INVALID_FIELDS",
            joined_messages(&in_stage),
        ),
        // DIVOC's handler messages are sent verbatim, because clients may match them.
        Stage::Handler => ApiError::new(
            StatusCode::BAD_REQUEST,
            "MISSING_FIELDS",
            in_stage
                .first()
                .map(|field| field.problem.message())
                .unwrap_or_default(),
        ),
    };
    response.with_errors(errors)
}

fn joined_messages(fields: &[&FieldError]) -> String {
    let messages: Vec<String> = fields.iter().map(|field| in_body_message(field)).collect();
    messages.join("; ")
}

/// Phrases a problem as go-openapi does, such as `recipient.name in body is required`.
fn in_body_message(field: &FieldError) -> String {
    let path = display_path(&field.path);
    match &field.problem {
        Problem::Missing { .. } => format!("{path} in body is required"),
        Problem::TooShort { min_length } => {
            format!("{path} in body should be at least {min_length} chars long")
        }
        Problem::BelowMinimum { minimum } => {
            format!("{path} in body should be greater than or equal to {minimum}")
        }
        problem => format!("{path} in body: {}", problem.message()),
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "body" } else { path }
}

fn field_json(field: &FieldError) -> Value {
    json!({
        "path": display_path(&field.path),
        "message": in_body_message(field),
        "hint": field.problem.hint(),
    })
}
