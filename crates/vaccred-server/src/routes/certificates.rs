//! Certificate retrieval: DIVOC's registry record by certificate id, the QR code and PDF
//! of a pre-enrollment code's latest certificate (DIVOC's certificate_api paths), and the
//! PDF by certificate id that DIVOC's citizen portal downloads.

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use time::PrimitiveDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::IntoParams;
use vaccred_core::credential::CertificateId;
use vaccred_core::qr::{QrEncoding, QrSymbol, write_zip};
use vaccred_store::{CertificateStatus, StoredCertificate};

use super::certificate_pdf::{pdf_response, render_pdf, wants_pdf};
use super::certify::store_error;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Roles that may look certificates up by id (DIVOC: `facility-admin`).
const RECORD_ROLES: &[Role] = &[Role::FacilityAdmin, Role::Admin];
/// Roles that may fetch a pre-enrollment code's certificate. DIVOC's certificate_api
/// accepted any valid token; a recipient only gets certificates with their own mobile
/// number.
const RETRIEVAL_ROLES: &[Role] = &[
    Role::Api,
    Role::Admin,
    Role::FacilityAdmin,
    Role::FacilityStaff,
    Role::FacilityPrintStaff,
    Role::Recipient,
];
/// Pixels per QR module in the PNG.
const QR_SCALE: u32 = 4;

/// Returns DIVOC's registry record of a certificate, with the signed credential parsed.
#[utoipa::path(
    get,
    path = "/divoc/api/v1/certificates/{certificateId}",
    tag = "certificates",
    params(("certificateId" = String, Path, description = "evidence[0].certificateId")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The registry record, or the certificate PDF when the \
            request's Accept header lists application/pdf", content(
            (Object = "application/json"),
            (String = "application/pdf"),
        )),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-admin or admin missing"),
        (status = 404, description = "No certificate with this id"),
    )
)]
pub async fn certificate_record(
    State(state): State<AppState>,
    principal: Principal,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    principal.require_any(RECORD_ROLES)?;
    let not_found = || ApiError::not_found("no certificate with this id");
    let id = CertificateId::parse(&id).map_err(|_| not_found())?;
    let certificate = state
        .store()
        .certificate(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    if wants_pdf(&headers) {
        require_active(&certificate)?;
        let pdf = render_pdf(&state, &certificate).await?;
        return Ok(pdf_response(&certificate, pdf.into()));
    }
    Ok(Json(registry_record(&certificate)?).into_response())
}

/// Builds the record DIVOC's signer stored in its registry, plus `dose` and `status`.
fn registry_record(certificate: &StoredCertificate) -> Result<Value, ApiError> {
    let credential: Value =
        serde_json::from_str(certificate.credential_json.expose()).map_err(ApiError::internal)?;
    let contacts = &certificate.contacts;
    let contact: Vec<String> = contacts
        .mobiles
        .iter()
        .map(|mobile| format!("tel:{mobile}"))
        .chain(
            contacts
                .emails
                .iter()
                .map(|email| format!("mailto:{email}")),
        )
        .collect();
    let issued_at = certificate.issued_at.format(&Rfc3339).unwrap_or_default();
    Ok(json!({
        "name": certificate.name.expose(),
        "contact": contact,
        "mobile": contacts.mobiles.first().cloned().unwrap_or_default(),
        "preEnrollmentCode": certificate.pre_enrollment_code,
        "certificateId": certificate.certificate_id.as_str(),
        "certificate": credential,
        "programId": certificate.program_id,
        "meta": certificate.meta,
        "dose": certificate.dose.to_json(),
        "status": certificate.status.as_str(),
        "osCreatedAt": issued_at,
        "osUpdatedAt": issued_at,
    }))
}

/// Returns the QR code of a pre-enrollment code's latest certificate as a PNG: a ZIP
/// with `certificate.json`, placed as DIVOC's certificate_api places it.
#[utoipa::path(
    get,
    path = "/certificate/api/certificateQRCode/{preEnrollmentCode}",
    tag = "certificates",
    params(("preEnrollmentCode" = String, Path, description = "The recipient's pre-enrollment code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "PNG image", content_type = "image/png"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "No role that may read certificates"),
        (status = 404, description = "No certificate for this code that the caller may read"),
    )
)]
pub async fn certificate_qr_code(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    principal.require_any(RETRIEVAL_ROLES)?;
    let certificate = latest_readable(&state, &principal, &code).await?;
    let png = qr_png(&certificate)?;
    let mut response = png.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("image/png"));
    Ok(response)
}

/// Returns the latest active certificate of `code`, hiding certificates that a recipient
/// may not read as if they did not exist.
async fn latest_readable(
    state: &AppState,
    principal: &Principal,
    code: &str,
) -> Result<StoredCertificate, ApiError> {
    let not_found = || ApiError::not_found("no certificate for this pre-enrollment code");
    let certificate = state
        .store()
        .latest_certificate(code)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    if may_read(principal, &certificate) {
        Ok(certificate)
    } else {
        tracing::info!(
            certificate.id = %certificate.certificate_id,
            "recipient asked for a certificate with another mobile number"
        );
        Err(not_found())
    }
}

/// Tests whether the caller may read the certificate. Callers with a retrieval role other
/// than `recipient` may read all. A recipient may read a certificate whose mobile
/// numbers include the token's `preferred_username`.
fn may_read(principal: &Principal, certificate: &StoredCertificate) -> bool {
    let privileged = RETRIEVAL_ROLES
        .iter()
        .filter(|role| **role != Role::Recipient)
        .any(|role| principal.has_role(*role));
    if privileged {
        return true;
    }
    let Some(username) = principal.preferred_username.as_deref() else {
        return false;
    };
    certificate
        .contacts
        .mobiles
        .iter()
        .any(|mobile| mobile == username)
}

fn qr_png(certificate: &StoredCertificate) -> Result<Vec<u8>, ApiError> {
    let json = certificate.credential_json.expose().as_bytes();
    let issued = certificate.issued_at;
    let modified = PrimitiveDateTime::new(issued.date(), issued.time());
    let zip = write_zip(json, modified).map_err(ApiError::internal)?;
    let symbol = QrSymbol::encode(&zip, QrEncoding::DivocLatin1Utf8).map_err(ApiError::internal)?;
    symbol.to_png(QR_SCALE).map_err(ApiError::internal)
}

/// Returns the PDF of a pre-enrollment code's latest certificate: the one-page certificate
/// with its QR code and a table of the beneficiary's earlier doses.
#[utoipa::path(
    get,
    path = "/certificate/api/certificatePDF/{preEnrollmentCode}",
    tag = "certificates",
    params(("preEnrollmentCode" = String, Path, description = "The recipient's pre-enrollment code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The certificate PDF", content_type = "application/pdf"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "No role that may read certificates"),
        (status = 404, description = "No certificate for this code that the caller may read"),
    )
)]
pub async fn certificate_pdf(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    principal.require_any(RETRIEVAL_ROLES)?;
    let certificate = latest_readable(&state, &principal, &code).await?;
    let pdf = render_pdf(&state, &certificate).await?;
    Ok(pdf_response(&certificate, pdf.into()))
}

/// Checks that the PDF of a pre-enrollment code's latest certificate can be fetched, and
/// returns the GET response's headers with no body. It renders the PDF, so its
/// Content-Length is the GET response's.
#[utoipa::path(
    head,
    path = "/certificate/api/certificatePDF/{preEnrollmentCode}",
    tag = "certificates",
    params(("preEnrollmentCode" = String, Path, description = "The recipient's pre-enrollment code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A PDF is available", content_type = "application/pdf"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "No role that may read certificates"),
        (status = 404, description = "No certificate for this code that the caller may read"),
    )
)]
pub async fn certificate_pdf_head(
    State(state): State<AppState>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Response, ApiError> {
    principal.require_any(RETRIEVAL_ROLES)?;
    let certificate = latest_readable(&state, &principal, &code).await?;
    let pdf = render_pdf(&state, &certificate).await?;
    let mut response = pdf_response(&certificate, Body::empty());
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(pdf.len()));
    Ok(response)
}

/// Query of the PDF downloads by certificate id.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CertificateIdQuery {
    /// The certificate id, `evidence[0].certificateId` of the credential.
    certificate_id: String,
}

/// Returns the PDF of one certificate by its id: the download of DIVOC's citizen portal.
/// A recipient gets only certificates with their own mobile number; the other retrieval
/// roles get any. A revoked or replaced certificate is not served, so a citizen never
/// prints one that verifiers reject.
#[utoipa::path(
    get,
    path = "/certificate/api/certificatePDF",
    tag = "certificates",
    params(CertificateIdQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The certificate PDF", content_type = "application/pdf"),
        (status = 400, description = "The certificateId query parameter is missing"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "No role that may read certificates"),
        (status = 404, description = "No active certificate with this id that the caller may read"),
    )
)]
pub async fn certificate_pdf_by_id(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<CertificateIdQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    pdf_by_id(&state, &principal, query).await
}

/// Returns the PDF of one certificate by its id, as DIVOC's digilocker_support_api did
/// for the citizen portal. It is the same download as `/certificate/api/certificatePDF`.
#[utoipa::path(
    get,
    path = "/cert/api/certificatePDF",
    tag = "certificates",
    params(CertificateIdQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The certificate PDF", content_type = "application/pdf"),
        (status = 400, description = "The certificateId query parameter is missing"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "No role that may read certificates"),
        (status = 404, description = "No active certificate with this id that the caller may read"),
    )
)]
pub async fn cert_api_pdf_by_id(
    State(state): State<AppState>,
    principal: Principal,
    query: Result<Query<CertificateIdQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    pdf_by_id(&state, &principal, query).await
}

/// Returns the PDF of a pre-enrollment code's latest certificate, at the path of DIVOC's
/// digilocker_support_api. It is the same download as
/// `/certificate/api/certificatePDF/{preEnrollmentCode}`.
#[utoipa::path(
    get,
    path = "/cert/api/certificatePDF/{preEnrollmentCode}",
    tag = "certificates",
    params(("preEnrollmentCode" = String, Path, description = "The recipient's pre-enrollment code")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The certificate PDF", content_type = "application/pdf"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "No role that may read certificates"),
        (status = 404, description = "No certificate for this code that the caller may read"),
    )
)]
pub async fn cert_api_pdf(
    state: State<AppState>,
    principal: Principal,
    code: Path<String>,
) -> Result<Response, ApiError> {
    certificate_pdf(state, principal, code).await
}

async fn pdf_by_id(
    state: &AppState,
    principal: &Principal,
    query: Result<Query<CertificateIdQuery>, QueryRejection>,
) -> Result<Response, ApiError> {
    principal.require_any(RETRIEVAL_ROLES)?;
    let Ok(Query(CertificateIdQuery { certificate_id })) = query else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
            "certificateId is missing or given more than once: pass one certificate id, \
             such as ?certificateId=123456789",
        ));
    };
    let id = CertificateId::parse(&certificate_id).map_err(|error| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_QUERY",
            format!("certificateId: {error}, such as 123456789"),
        )
    })?;
    let not_found = || ApiError::not_found("no certificate with this id");
    let certificate = state
        .store()
        .certificate(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    if !may_read(principal, &certificate) {
        tracing::info!(
            certificate.id = %certificate.certificate_id,
            "recipient requested a certificate with another mobile number"
        );
        return Err(not_found());
    }
    require_active(&certificate)?;
    let pdf = render_pdf(state, &certificate).await?;
    Ok(pdf_response(&certificate, pdf.into()))
}

/// Rejects a PDF request for a revoked or replaced certificate, because verifiers
/// reject a printout of it.
fn require_active(certificate: &StoredCertificate) -> Result<(), ApiError> {
    if certificate.status == CertificateStatus::Active {
        return Ok(());
    }
    tracing::info!(
        certificate.id = %certificate.certificate_id,
        status = certificate.status.as_str(),
        "PDF requested for a certificate that is no longer active"
    );
    let message = match certificate.superseded_by {
        Some(_) => {
            "this certificate was replaced by a correction: download the current one by \
             pre-enrollment code"
        }
        None => "this certificate was revoked, so no PDF of it is served",
    };
    Err(ApiError::not_found(message))
}
