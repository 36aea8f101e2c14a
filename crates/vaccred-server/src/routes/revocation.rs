//! DIVOC's online revocation check, which verifier apps call after checking a
//! credential's signature: 404 means "not revoked", and every other status is treated
//! as invalid by DIVOC's verifiers.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde_json::Value;
use vaccred_core::credential::{CertificateId, DoseNumber};

use crate::state::AppState;

/// The fields of a credential that identify its certificate.
#[derive(Debug)]
struct CredentialKey {
    certificate_id: String,
    pre_enrollment_code: Option<String>,
    dose: Option<DoseNumber>,
}

/// Reads `evidence[0].certificateId`, `evidence[0].dose` and `credentialSubject.refId`.
/// Returns `None` for a body DIVOC could not read either: not a JSON object, no
/// evidence, or no certificate id.
fn credential_key(body: &[u8]) -> Option<CredentialKey> {
    let credential: Value = serde_json::from_slice(body).ok()?;
    let evidence = credential
        .get("evidence")?
        .as_array()?
        .first()?
        .as_object()?;
    let certificate_id = evidence.get("certificateId")?.as_str()?.to_owned();
    let dose = evidence
        .get("dose")
        .and_then(Value::as_f64)
        .and_then(DoseNumber::new);
    let pre_enrollment_code = credential
        .get("credentialSubject")
        .and_then(|subject| subject.get("refId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some(CredentialKey {
        certificate_id,
        pre_enrollment_code,
        dose,
    })
}

/// Tells whether a signed credential has been revoked or superseded. The body is the
/// credential JSON; responses have empty bodies, as DIVOC's.
#[utoipa::path(
    post,
    path = "/divoc/api/v1/certificate/revoked",
    tag = "revocation",
    request_body(content = Object, description = "The signed credential JSON"),
    responses(
        (status = 200, description = "Revoked or superseded"),
        (status = 404, description = "Not revoked"),
        (status = 400, description = "Not a credential: no evidence or certificate id"),
        (status = 503, description = "The revocation status cannot be read now"),
    )
)]
pub async fn certificate_revoked(
    State(state): State<AppState>,
    body: Result<Bytes, BytesRejection>,
) -> StatusCode {
    let Ok(body) = body else {
        return StatusCode::BAD_REQUEST;
    };
    let Some(key) = credential_key(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    match is_revoked(&state, &key).await {
        Ok(true) => StatusCode::OK,
        Ok(false) => StatusCode::NOT_FOUND,
        Err(error) => {
            // Verifiers treat anything but 404 as invalid, so a failure here never
            // passes a revoked certificate.
            tracing::error!(%error, "cannot check the revocation list");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

/// Looks a certificate this server issued up by its id. Credentials with an id this
/// server does not hold, such as certificates imported from DIVOC, are looked up by
/// pre-enrollment code and dose.
async fn is_revoked(
    state: &AppState,
    key: &CredentialKey,
) -> Result<bool, vaccred_store::StoreError> {
    let store = state.store();
    if let Ok(id) = CertificateId::parse(&key.certificate_id)
        && store.certificate(&id).await?.is_some()
    {
        return store.is_revoked(&id).await;
    }
    match (&key.pre_enrollment_code, key.dose) {
        (Some(code), Some(dose)) => store.is_revoked_by_key(code, dose).await,
        _ => Ok(false),
    }
}
