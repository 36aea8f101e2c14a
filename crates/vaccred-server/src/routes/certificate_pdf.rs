//! Certificate PDFs for the retrieval routes: rendering off the async runtime, the
//! earlier doses from the store, and the response headers.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use time::PrimitiveDateTime;
use vaccred_pdf::Certificate;
use vaccred_store::{CertificateStatus, StoredCertificate};

use super::certify::store_error;
use crate::error::ApiError;
use crate::state::AppState;

/// Renders a stored certificate as PDF, with the beneficiary's other active certificates
/// as the earlier-dose table. The QR code carries the same ZIP as the certificateQRCode
/// route returns, because both use the time the certificate was stored.
pub(crate) async fn render_pdf(
    state: &AppState,
    certificate: &StoredCertificate,
) -> Result<Vec<u8>, ApiError> {
    let others: Vec<String> = state
        .store()
        .certificates_for_code(&certificate.pre_enrollment_code)
        .await
        .map_err(store_error)?
        .into_iter()
        .filter(|other| other.status == CertificateStatus::Active)
        .filter(|other| other.certificate_id != certificate.certificate_id)
        // Doses of another vaccination programme on the same code are not earlier doses.
        .filter(|other| other.program_id == certificate.program_id)
        .map(|other| other.credential_json.expose().clone())
        .collect();
    let json = certificate.credential_json.expose().clone();
    let issued = certificate.issued_at;
    let modified = PrimitiveDateTime::new(issued.date(), issued.time());
    let renderer = state.renderer().clone();
    let language = state.config().pdf.language.clone();
    let id = certificate.certificate_id.clone();
    let slot = Arc::clone(state.render_slots())
        .acquire_owned()
        .await
        .map_err(ApiError::internal)?;
    let started = std::time::Instant::now();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    // Rendering takes milliseconds of CPU, so it runs on the render threads.
    state.render_pool().spawn(move || {
        let _slot = slot;
        let result = Certificate::from_signed(&json, &others).and_then(|certificate| {
            let certificate = certificate.with_zip_modified(modified);
            let missing = renderer.missing_glyphs(&certificate).len();
            renderer
                .render(&certificate, &language)
                .map(|pdf| (pdf, missing))
        });
        // The receiver is gone only when the request was dropped meanwhile.
        let _ = sender.send(result);
    });
    let (pdf, missing) = receiver
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    if missing > 0 {
        // The characters themselves are part of a name, so only their number is logged.
        tracing::warn!(
            certificate.id = %id,
            characters = missing,
            "the PDF shows characters that no loaded font has as empty boxes: add a font \
             that covers them to pdf.fonts_dir"
        );
    }
    tracing::debug!(
        certificate.id = %id,
        duration_ms = started.elapsed().as_millis() as u64,
        pdf.bytes = pdf.len(),
        "rendered certificate PDF"
    );
    Ok(pdf)
}

/// Builds a PDF response with a `Content-Disposition` file name from the certificate id.
pub(crate) fn pdf_response(certificate: &StoredCertificate, body: Body) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/pdf"),
    );
    let name = file_name(certificate.certificate_id.as_str());
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // The PDF carries personal data, so shared caches and browser caches keep no copy.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// Returns `certificate-ID.pdf`, with characters other than ASCII letters, digits, `-`,
/// `_` and `.` in the id replaced by `_`.
fn file_name(certificate_id: &str) -> String {
    let id: String = certificate_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("certificate-{id}.pdf")
}

/// Tests whether the request's `Accept` header prefers `application/pdf`: listed with a
/// non-zero quality at least as high as that of `application/json` (or of a wildcard
/// that covers JSON). Without `application/pdf` in the header the response is JSON.
pub(crate) fn wants_pdf(headers: &HeaderMap) -> bool {
    let mut pdf: Option<f32> = None;
    let mut json: Option<f32> = None;
    let ranges = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','));
    for range in ranges {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or("").to_ascii_lowercase();
        let quality = parts
            .find_map(|parameter| parameter.replace(' ', "").strip_prefix("q=")?.parse().ok())
            .unwrap_or(1.0_f32);
        let slot = match media.as_str() {
            "application/pdf" => &mut pdf,
            "application/json" | "application/*" | "*/*" => &mut json,
            _ => continue,
        };
        *slot = Some(slot.map_or(quality, |known| known.max(quality)));
    }
    match pdf {
        Some(pdf) if pdf > 0.0 => json.is_none_or(|json| pdf >= json),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn wants_pdf_weighs_accept_qualities() {
        assert!(wants_pdf(&accept("application/pdf")));
        assert!(!wants_pdf(&accept(
            "application/json, application/pdf;q=0.5"
        )));
        assert!(!wants_pdf(&accept("application/json")));
        assert!(!wants_pdf(&accept("application/pdf;q=0")));
        assert!(!wants_pdf(&accept(
            "application/json;q=1, application/pdf;q=0.1"
        )));
        assert!(wants_pdf(&accept("application/pdf, */*;q=0.8")));
        assert!(wants_pdf(&accept("application/pdf, application/json")));
        assert!(!wants_pdf(&HeaderMap::new()));
    }

    #[test]
    fn file_name_replaces_unsafe_characters() {
        assert_eq!(file_name("123456789"), "certificate-123456789.pdf");
        assert_eq!(file_name("a\"b/c"), "certificate-a_b_c.pdf");
    }
}
