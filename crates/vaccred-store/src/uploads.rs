//! Bulk certification uploads: CSV files whose valid rows become certify items and whose
//! invalid rows are kept as error rows for the uploader.

use time::OffsetDateTime;

use crate::backend::{Store, Tx, on_backend};
use crate::error::{Result, StoreError};
use crate::intake::{
    Acknowledgement, ItemContext, NewItem, check_items, insert_acknowledgement, insert_item,
    insertion_order,
};
use crate::types::{AcknowledgementId, Personal, RequestKind, from_millis};

/// One data row of an uploaded file, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewUploadRow {
    /// Line on which the row starts in the file, counting the header row as line 1.
    pub line: u64,
    /// The row's cells, in the order of the upload's columns.
    pub cells: Personal<Vec<String>>,
    /// The certify item the row became, or the problems that kept it from becoming one.
    pub content: UploadRowContent,
}

/// Outcome of a stored upload row.
#[derive(Debug, Clone)]
pub enum UploadRowContent {
    /// A valid row, accepted as a certify item.
    Item(NewItem),
    /// An invalid row and its problems, one message per problem.
    Errors(Vec<String>),
}

/// The result of [`Store::accept_upload`].
#[derive(Debug, Clone, PartialEq)]
pub struct UploadReceipt {
    /// The upload's id, assigned by the database in increasing order.
    pub upload_id: i64,
    /// The acknowledgement of the accepted rows, with their items in row order.
    pub acknowledgement: Acknowledgement,
}

/// Processing state of an upload, named as DIVOC's `Status` of `/v1/certify/uploads`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadStatus {
    /// Some accepted rows are still queued for signing.
    Processing,
    /// Nothing is queued, and some rows were invalid or rejected by the signer.
    Failed,
    /// Every row was issued or is a duplicate of an earlier certify item.
    Success,
}

impl UploadStatus {
    /// Returns DIVOC's name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadStatus::Processing => "Processing",
            UploadStatus::Failed => "Failed",
            UploadStatus::Success => "Success",
        }
    }
}

/// An upload with its current status, returned by [`Store::uploads`] and
/// [`Store::upload`].
#[derive(Debug, Clone, PartialEq)]
pub struct UploadSummary {
    /// The upload's id.
    pub id: i64,
    /// The client that uploaded the file.
    pub client_id: String,
    /// The file name sent with the upload.
    pub filename: String,
    /// Column names of the file's header row, in file order.
    pub columns: Vec<String>,
    /// The acknowledgement of the accepted rows.
    pub acknowledgement_id: AcknowledgementId,
    /// Number of data rows in the file.
    pub total_records: u64,
    /// When the upload was stored.
    pub created_at: OffsetDateTime,
    /// Status derived from the rows' current states.
    pub status: UploadStatus,
    /// Rows that were invalid or whose item the signer rejected.
    pub total_error_rows: u64,
}

/// A row of an upload that failed: invalid in the file, or rejected by the signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadErrorRow {
    /// Line on which the row starts in the file, counting the header row as line 1.
    pub line: u64,
    /// The row's cells, in the order of the upload's columns.
    pub cells: Personal<Vec<String>>,
    /// The problems, joined with `; `, or the signer's rejection reason.
    pub errors: String,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    client_id: String,
    filename: String,
    columns_json: String,
    acknowledgement_id: String,
    total_records: i64,
    created_at: i64,
    invalid_rows: i64,
    queued_rows: i64,
    rejected_rows: i64,
}

#[derive(sqlx::FromRow)]
struct ErrorRow {
    line_number: i64,
    cells_json: String,
    errors: String,
}

const INSERT_UPLOAD: &str = "
    INSERT INTO uploads (client_id, filename, columns_json, acknowledgement_id,
        total_records, created_at)
    VALUES ($1, $2, $3, $4, $5, $6)
    RETURNING id";

const INSERT_ROW: &str = "
    INSERT INTO upload_rows (upload_id, line_number, cells_json, item_id, errors)
    VALUES ($1, $2, $3, $4, $5)";

const SELECT_SUMMARIES: &str = "
    SELECT u.id, u.client_id, u.filename, u.columns_json, u.acknowledgement_id,
        u.total_records, u.created_at,
        (SELECT COUNT(*) FROM upload_rows r
            WHERE r.upload_id = u.id AND r.errors IS NOT NULL) AS invalid_rows,
        (SELECT COUNT(*) FROM upload_rows r JOIN work_items w ON w.id = r.item_id
            WHERE r.upload_id = u.id AND w.status = 'queued') AS queued_rows,
        (SELECT COUNT(*) FROM upload_rows r JOIN work_items w ON w.id = r.item_id
            WHERE r.upload_id = u.id AND w.status = 'rejected') AS rejected_rows
    FROM uploads u";

const SELECT_ERROR_ROWS: &str = "
    SELECT r.line_number, r.cells_json, COALESCE(r.errors, w.reason) AS errors
    FROM upload_rows r LEFT JOIN work_items w ON w.id = r.item_id
    WHERE r.upload_id = $1 AND (r.errors IS NOT NULL OR w.status = 'rejected')
    ORDER BY r.line_number";

impl Store {
    /// Stores an uploaded file in one transaction: the valid rows as one certify request
    /// body (with an acknowledgement, as [`Store::accept`] stores it), the upload, and
    /// every row with its item or its problems.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidItem`] when a row's item replaces a certificate, and
    /// [`StoreError::Database`] when a constraint rejects a row (such as a repeated line
    /// number) or the database fails. Nothing is stored then.
    pub async fn accept_upload(
        &self,
        client_id: &str,
        filename: &str,
        columns: &[String],
        rows: &[NewUploadRow],
    ) -> Result<UploadReceipt> {
        let items: Vec<NewItem> = rows
            .iter()
            .filter_map(|row| match &row.content {
                UploadRowContent::Item(item) => Some(item.clone()),
                UploadRowContent::Errors(_) => None,
            })
            .collect();
        check_items(RequestKind::Certify, &items)?;
        let id = AcknowledgementId::new_random();
        let context = ItemContext {
            acknowledgement: id.to_string(),
            kind: RequestKind::Certify,
            now: self.now_millis(),
        };
        let mut tx = self.begin_write().await?;
        insert_acknowledgement(&mut tx, &context, client_id, items.len()).await?;
        let mut accepted = Vec::with_capacity(items.len());
        for index in insertion_order(&items) {
            accepted.push(insert_item(&mut tx, &context, index, &items[index]).await?);
        }
        accepted.sort_by_key(|item| item.index);

        let columns_json = json_text(columns);
        let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
        let upload_id: i64 = on_backend!(Tx, &mut tx, |tx| {
            let (upload_id,): (i64,) = sqlx::query_as(INSERT_UPLOAD)
                .bind(client_id)
                .bind(filename)
                .bind(&columns_json)
                .bind(&context.acknowledgement)
                .bind(total)
                .bind(context.now)
                .fetch_one(&mut **tx)
                .await?;
            upload_id
        });
        let mut items_in_order = accepted.iter();
        for row in rows {
            let (item_id, errors) = match &row.content {
                UploadRowContent::Item(_) => {
                    let item = items_in_order.next().map(|item| item.item_id.get());
                    (item, None)
                }
                UploadRowContent::Errors(problems) => (None, Some(problems.join("; "))),
            };
            insert_row(&mut tx, upload_id, row, item_id, errors.as_deref()).await?;
        }
        tx.commit().await?;
        tracing::debug!(
            upload.id = upload_id,
            acknowledgement.id = %id,
            rows = rows.len(),
            items = items.len(),
            "upload accepted"
        );
        Ok(UploadReceipt {
            upload_id,
            acknowledgement: Acknowledgement {
                id,
                kind: RequestKind::Certify,
                received_at: from_millis("uploads.created_at", context.now)?,
                items: accepted,
            },
        })
    }

    /// Returns the uploads of `client_id`, newest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn uploads(&self, client_id: &str) -> Result<Vec<UploadSummary>> {
        let query = format!("{SELECT_SUMMARIES} WHERE u.client_id = $1 ORDER BY u.id DESC");
        let rows: Vec<SummaryRow> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(&query)
                .bind(client_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(summary).collect()
    }

    /// Returns one upload, or `None` when no upload has this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn upload(&self, upload_id: i64) -> Result<Option<UploadSummary>> {
        let query = format!("{SELECT_SUMMARIES} WHERE u.id = $1");
        let row: Option<SummaryRow> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(&query)
                .bind(upload_id)
                .fetch_optional(pool)
                .await?
        });
        row.map(summary).transpose()
    }

    /// Returns the rows of an upload that were invalid or whose item the signer rejected,
    /// in line order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn upload_errors(&self, upload_id: i64) -> Result<Vec<UploadErrorRow>> {
        let rows: Vec<ErrorRow> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(SELECT_ERROR_ROWS)
                .bind(upload_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(UploadErrorRow {
                    line: count_column("upload_rows.line_number", row.line_number)?,
                    cells: Personal::new(cells_from_json(&row.cells_json)?),
                    errors: row.errors,
                })
            })
            .collect()
    }
}

async fn insert_row(
    tx: &mut Tx,
    upload_id: i64,
    row: &NewUploadRow,
    item_id: Option<i64>,
    errors: Option<&str>,
) -> Result<()> {
    let line = i64::try_from(row.line).unwrap_or(i64::MAX);
    let cells = json_text(row.cells.expose());
    on_backend!(Tx, tx, |tx| {
        sqlx::query(INSERT_ROW)
            .bind(upload_id)
            .bind(line)
            .bind(&cells)
            .bind(item_id)
            .bind(errors)
            .execute(&mut **tx)
            .await?;
    });
    Ok(())
}

fn summary(row: SummaryRow) -> Result<UploadSummary> {
    let status = if row.queued_rows > 0 {
        UploadStatus::Processing
    } else if row.invalid_rows > 0 || row.rejected_rows > 0 {
        UploadStatus::Failed
    } else {
        UploadStatus::Success
    };
    let acknowledgement_id =
        row.acknowledgement_id
            .parse()
            .map_err(|_| StoreError::InvalidColumn {
                column: "uploads.acknowledgement_id",
                value: row.acknowledgement_id.clone(),
            })?;
    Ok(UploadSummary {
        id: row.id,
        client_id: row.client_id,
        filename: row.filename,
        columns: cells_from_json(&row.columns_json)?,
        acknowledgement_id,
        total_records: count_column("uploads.total_records", row.total_records)?,
        created_at: from_millis("uploads.created_at", row.created_at)?,
        status,
        total_error_rows: count_column("upload_rows.errors", row.invalid_rows + row.rejected_rows)?,
    })
}

fn json_text(values: &[String]) -> String {
    // Serialising a list of strings cannot fail.
    serde_json::to_string(values).unwrap_or_else(|_| "[]".to_owned())
}

fn cells_from_json(text: &str) -> Result<Vec<String>> {
    serde_json::from_str(text).map_err(|_| StoreError::InvalidColumn {
        column: "upload_rows.cells_json",
        value: String::from("(not a JSON array of strings)"),
    })
}

fn count_column(column: &'static str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| StoreError::InvalidColumn {
        column,
        value: value.to_string(),
    })
}
