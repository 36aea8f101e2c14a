//! DIVOC's bulk certification API: CSV uploads, their listing and their error rows.
//!
//! Each CSV row becomes one certify item (`certifyV2`, as DIVOC's CSV rows). The valid
//! rows of a file are stored in one transaction, with the upload and the invalid rows,
//! before the 200 is sent. Unlike DIVOC, which issued rows it could not parse with zero
//! values, invalid rows are never signed and are listed with their line numbers.

use axum::Json;
use axum::extract::multipart::{Multipart, MultipartError, MultipartRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use vaccred_core::credential::{CsvError, CsvFile, ParseOptions, Shape, parse_csv};
use vaccred_core::phone::Region;
use vaccred_store::{NewItem, NewUploadRow, Personal, UploadRowContent, UploadSummary};

use super::certify::store_error;
use crate::auth::{Principal, Role};
use crate::error::ApiError;
use crate::state::AppState;

/// Roles that may upload CSV files and read uploads, as in DIVOC.
const BULK_ROLES: &[Role] = &[Role::FacilityAdmin];

/// Name of the multipart field that carries the CSV file.
const FILE_FIELD: &str = "file";

/// Body of a successful upload. DIVOC sent an empty body, which clients ignore.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BulkCertifyResponse {
    /// Id of the upload, for `/divoc/api/v1/certify/uploads/{uploadId}/errors`.
    upload_id: i64,
    /// Id to poll at `/divoc/api/v1/acknowledgements/{acknowledgementId}` for the
    /// accepted rows, whose items are in row order.
    acknowledgement_id: String,
    /// Number of data rows in the file.
    total_rows: usize,
    /// Number of rows accepted as certify items.
    accepted: usize,
    /// The invalid rows, in line order.
    errors: Vec<RowErrors>,
}

/// The problems of one invalid row.
#[derive(Debug, Serialize, ToSchema)]
pub struct RowErrors {
    /// Line on which the row starts, counting the header row as line 1.
    line: u64,
    /// One message per problem, each naming its column.
    errors: Vec<String>,
}

/// Converts the rows of a parsed CSV file into upload rows: certify items for valid rows,
/// problems for invalid ones.
///
/// # Errors
///
/// Returns the serialisation error of a request, which does not occur for requests that
/// `parse_csv` built.
pub fn upload_rows(file: &CsvFile) -> Result<Vec<NewUploadRow>, serde_json::Error> {
    let mut rows = Vec::with_capacity(file.rows.len());
    for row in &file.rows {
        let content = match &row.outcome {
            Ok(request) => UploadRowContent::Item(NewItem::from_request(request, Shape::V2, None)?),
            Err(problems) => UploadRowContent::Errors(problems.clone()),
        };
        rows.push(NewUploadRow {
            line: row.line,
            cells: Personal::new(row.cells.clone()),
            content,
        });
    }
    Ok(rows)
}

/// Returns the request rules of CSV rows: DIVOC's `/v1/certify` rules, with ages
/// computed from dates of birth at today's date, and `tel:` contacts checked against
/// `mobile_region` when it is set.
pub fn csv_parse_options(mobile_region: Option<Region>) -> ParseOptions {
    ParseOptions {
        shape: Shape::V2,
        today: Some(OffsetDateTime::now_utc().date()),
        mobile_region,
    }
}

/// Accepts a CSV file of certification requests, one per row.
#[utoipa::path(
    post,
    path = "/divoc/api/v1/bulkCertify",
    tag = "certify",
    request_body(
        content = Object,
        content_type = "multipart/form-data",
        description = "Field `file`: a CSV file with DIVOC's 28 template columns in any \
                       order and an optional `programId` column"
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Valid rows stored, invalid rows listed", body = BulkCertifyResponse),
        (status = 400, description = "No `file` field (INVALID_BODY) or template columns missing (INVALID_TEMPLATE)"),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-admin missing"),
        (status = 413, description = "Body larger than max_request_bytes"),
    )
)]
pub async fn bulk_certify(
    State(state): State<AppState>,
    principal: Principal,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Json<BulkCertifyResponse>, ApiError> {
    principal.require_any(BULK_ROLES)?;
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::new(
            rejection.status(),
            "INVALID_BODY",
            "the request body is not multipart/form-data: send the CSV file in field `file`",
        )
    })?;
    let (filename, bytes) = read_file_field(&mut multipart).await?;
    let region = state.config().notifications.mobile_region();
    // DIVOC's code and its `Missing Headers : a,b` message, which clients may match.
    let file = parse_csv(&bytes, &csv_parse_options(region)).map_err(|error: CsvError| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "INVALID_TEMPLATE",
            error.to_string(),
        )
    })?;
    let rows = upload_rows(&file).map_err(ApiError::internal)?;
    let receipt = state
        .store()
        .accept_upload(&principal.subject, &filename, &file.columns, &rows)
        .await
        .map_err(store_error)?;

    let accepted = receipt.acknowledgement.items.len();
    if accepted > 0 {
        state.work_notify().notify_waiters();
        state
            .metrics()
            .certify_items_accepted(u64::try_from(accepted).unwrap_or(u64::MAX));
    }
    let errors: Vec<RowErrors> = file
        .rows
        .iter()
        .filter_map(|row| {
            let problems = row.outcome.as_ref().err()?;
            Some(RowErrors {
                line: row.line,
                errors: problems.clone(),
            })
        })
        .collect();
    tracing::info!(
        upload.id = receipt.upload_id,
        acknowledgement.id = %receipt.acknowledgement.id,
        rows = file.rows.len(),
        accepted,
        invalid_rows = errors.len(),
        "bulk certify upload accepted"
    );
    Ok(Json(BulkCertifyResponse {
        upload_id: receipt.upload_id,
        acknowledgement_id: receipt.acknowledgement.id.to_string(),
        total_rows: file.rows.len(),
        accepted,
        errors,
    }))
}

/// Reads the `file` field of a multipart body. Other fields are ignored.
async fn read_file_field(multipart: &mut Multipart) -> Result<(String, Vec<u8>), ApiError> {
    while let Some(field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some(FILE_FIELD) {
            continue;
        }
        let filename = field.file_name().unwrap_or_default().to_owned();
        let bytes = field.bytes().await.map_err(multipart_error)?;
        return Ok((filename, bytes.to_vec()));
    }
    Err(ApiError::new(
        StatusCode::BAD_REQUEST,
        "INVALID_BODY",
        "the multipart body has no `file` field: send the CSV file in field `file`",
    ))
}

fn multipart_error(error: MultipartError) -> ApiError {
    let status = error.status();
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        return ApiError::new(
            status,
            "PAYLOAD_TOO_LARGE",
            "the CSV file is larger than the server accepts: split it into smaller files",
        );
    }
    ApiError::new(
        status,
        "INVALID_BODY",
        "the multipart body could not be read: send the CSV file in field `file`",
    )
}

/// One upload in DIVOC's layout, whose keys are the Go field names of its
/// `CertifyUploads` record.
#[derive(Debug, Serialize, ToSchema)]
pub struct UploadBody {
    /// The upload id.
    #[serde(rename = "ID")]
    id: i64,
    /// When the file was uploaded, RFC 3339.
    #[serde(rename = "CreatedAt")]
    created_at: String,
    /// Same as `CreatedAt`, because uploads are never changed.
    #[serde(rename = "UpdatedAt")]
    updated_at: String,
    /// Always `null`, because uploads are never deleted.
    #[serde(rename = "DeletedAt")]
    deleted_at: Option<String>,
    /// File name sent with the upload.
    #[serde(rename = "Filename")]
    filename: String,
    /// Number of data rows in the file.
    #[serde(rename = "TotalRecords")]
    total_records: u64,
    /// The uploading client.
    #[serde(rename = "UserID")]
    user_id: String,
    /// `Processing` while rows are queued, then `Failed` when any row was invalid or
    /// rejected, else `Success`.
    #[serde(rename = "Status")]
    status: String,
    /// Rows that were invalid or rejected by the signer.
    #[serde(rename = "TotalErrorRows")]
    total_error_rows: u64,
}

impl From<&UploadSummary> for UploadBody {
    fn from(upload: &UploadSummary) -> Self {
        let created_at = upload.created_at.format(&Rfc3339).unwrap_or_default();
        Self {
            id: upload.id,
            updated_at: created_at.clone(),
            created_at,
            deleted_at: None,
            filename: upload.filename.clone(),
            total_records: upload.total_records,
            user_id: upload.client_id.clone(),
            status: upload.status.as_str().to_owned(),
            total_error_rows: upload.total_error_rows,
        }
    }
}

/// Lists the caller's uploads, newest first.
#[utoipa::path(
    get,
    path = "/divoc/api/v1/certify/uploads",
    tag = "certify",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The caller's uploads", body = Vec<UploadBody>),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-admin missing"),
    )
)]
pub async fn certify_uploads(
    State(state): State<AppState>,
    principal: Principal,
) -> Result<Json<Vec<UploadBody>>, ApiError> {
    principal.require_any(BULK_ROLES)?;
    let uploads = state
        .store()
        .uploads(&principal.subject)
        .await
        .map_err(store_error)?;
    Ok(Json(uploads.iter().map(UploadBody::from).collect()))
}

/// Error rows of an upload, in DIVOC's layout.
///
/// NOTE: DIVOC's error rows also carry the Go record fields `ID`, `CreatedAt`,
/// `UpdatedAt`, `DeletedAt` and `CertifyUploadID`, which are not sent here. `line` is
/// an addition.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadErrorsResponse {
    /// The file's header columns, then `errors`.
    columns: Vec<String>,
    /// One object per failed row: each column's cell, `errors`, `status` (`Failed`) and
    /// `line`, the row's line in the file.
    error_rows: Vec<Map<String, Value>>,
}

/// Returns the rows of an upload that were invalid or rejected by the signer.
#[utoipa::path(
    get,
    path = "/divoc/api/v1/certify/uploads/{uploadId}/errors",
    tag = "certify",
    params(("uploadId" = i64, Path, description = "Id from the upload response or listing")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The failed rows", body = UploadErrorsResponse),
        (status = 401, description = "Missing or invalid bearer token"),
        (status = 403, description = "Role facility-admin missing, or another client's upload"),
        (status = 404, description = "No upload with this id"),
    )
)]
pub async fn certify_upload_errors(
    State(state): State<AppState>,
    principal: Principal,
    Path(upload_id): Path<String>,
) -> Result<Json<UploadErrorsResponse>, ApiError> {
    principal.require_any(BULK_ROLES)?;
    let not_found = || ApiError::not_found("no upload with this id");
    let upload_id: i64 = upload_id.parse().map_err(|_| not_found())?;
    let upload = state
        .store()
        .upload(upload_id)
        .await
        .map_err(store_error)?
        .ok_or_else(not_found)?;
    if upload.client_id != principal.subject {
        return Err(ApiError::forbidden(
            "this upload belongs to another client: only the uploader may read its errors",
        ));
    }
    let rows = state
        .store()
        .upload_errors(upload_id)
        .await
        .map_err(store_error)?;
    let error_rows = rows
        .into_iter()
        .map(|row| {
            let mut object = Map::new();
            let cells = row.cells.into_inner();
            for (column, cell) in upload.columns.iter().zip(cells) {
                object.insert(column.clone(), Value::String(cell));
            }
            object.insert("errors".to_owned(), Value::String(row.errors));
            object.insert("status".to_owned(), Value::from("Failed"));
            object.insert("line".to_owned(), Value::from(row.line));
            object
        })
        .collect();
    let mut columns = upload.columns;
    columns.push("errors".to_owned());
    Ok(Json(UploadErrorsResponse {
        columns,
        error_rows,
    }))
}
