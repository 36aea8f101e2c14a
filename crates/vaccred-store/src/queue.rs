//! The signing work queue: claiming items under a lease and settling them.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;
use vaccred_core::credential::{CertificateId, DoseNumber, Shape};

use crate::backend::{Pool, Store, on_backend};
use crate::error::{Result, StoreError};
use crate::types::{
    AcknowledgementId, ItemId, Personal, RequestKind, dose_from_column, duration_millis,
    from_millis, optional_certificate_id, shape_from_column,
};

/// A lease on one work item, returned by [`Store::claim`] and required to complete,
/// reject, release or retry the item. Each claim has a fresh random token, so a claim
/// that another worker has taken over no longer matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    item_id: ItemId,
    worker_id: String,
    token: String,
    expires_at: OffsetDateTime,
}

impl Claim {
    /// Returns the claimed item's id.
    pub fn item_id(&self) -> ItemId {
        self.item_id
    }

    /// Returns the id of the worker that owns the lease.
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// Returns when the lease expires and other workers may claim the item.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
}

/// A claimed work item with everything needed to sign it.
#[derive(Debug, Clone)]
pub struct ClaimedItem {
    /// The lease; pass it back to settle the item.
    pub claim: Claim,
    /// The request body the item came from.
    pub acknowledgement_id: AcknowledgementId,
    /// Position of the item in its body.
    pub index: usize,
    /// Certify or update.
    pub kind: RequestKind,
    /// Credential shape to build.
    pub shape: Shape,
    /// The normalised request JSON to sign.
    pub request_json: Personal<String>,
    /// `preEnrollmentCode`.
    pub pre_enrollment_code: String,
    /// `programId`, possibly empty.
    pub program_id: String,
    /// `vaccination.dose`.
    pub dose: DoseNumber,
    /// For update items, the certificate being replaced.
    pub replaces: Option<CertificateId>,
    /// Number of claims of this item including this one, not counting released claims.
    pub attempts: u32,
}

/// Result of settling a claim with [`Store::reject`], [`Store::release`] or
/// [`Store::retry_later`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum LeaseOutcome {
    /// The change was stored.
    Applied,
    /// The claim no longer owns the item, so nothing was changed. Another worker took it
    /// over after the lease expired, or the claim was already settled.
    LostLease,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    acknowledgement_id: String,
    item_index: i64,
    kind: String,
    shape: String,
    request_json: String,
    pre_enrollment_code: String,
    program_id: String,
    dose: f64,
    replaces_certificate_id: Option<String>,
    attempts: i64,
}

/// Backend-specific: the claim statement for PostgreSQL. `FOR UPDATE SKIP LOCKED` makes
/// concurrent claimers, in this or other processes, pass over rows another transaction
/// is claiming instead of waiting for them.
const CLAIM_POSTGRES: &str = "
    UPDATE work_items
    SET lease_owner = $1, lease_token = $2, lease_expires_at = $3,
        attempts = attempts + 1, updated_at = $4
    WHERE id IN (
        SELECT id FROM work_items
        WHERE status = 'queued' AND available_at <= $4
            AND (lease_expires_at IS NULL OR lease_expires_at <= $4)
        ORDER BY id
        LIMIT $5
        FOR UPDATE SKIP LOCKED)
    RETURNING id, acknowledgement_id, item_index, kind, shape, request_json,
        pre_enrollment_code, program_id, dose, replaces_certificate_id, attempts";

/// Backend-specific: the claim statement for SQLite, which has no row locks. It runs in
/// a `BEGIN IMMEDIATE` transaction, which owns the database's only write lock.
const CLAIM_SQLITE: &str = "
    UPDATE work_items
    SET lease_owner = $1, lease_token = $2, lease_expires_at = $3,
        attempts = attempts + 1, updated_at = $4
    WHERE id IN (
        SELECT id FROM work_items
        WHERE status = 'queued' AND available_at <= $4
            AND (lease_expires_at IS NULL OR lease_expires_at <= $4)
        ORDER BY id
        LIMIT $5)
    RETURNING id, acknowledgement_id, item_index, kind, shape, request_json,
        pre_enrollment_code, program_id, dose, replaces_certificate_id, attempts";

const REJECT: &str = "
    UPDATE work_items
    SET status = 'rejected', reason = $1, lease_owner = NULL, lease_token = NULL,
        lease_expires_at = NULL, updated_at = $2
    WHERE id = $3 AND status = 'queued' AND lease_token = $4";

const RELEASE: &str = "
    UPDATE work_items
    SET attempts = attempts - 1, lease_owner = NULL, lease_token = NULL,
        lease_expires_at = NULL, updated_at = $1
    WHERE id = $2 AND status = 'queued' AND lease_token = $3";

const RETRY_LATER: &str = "
    UPDATE work_items
    SET available_at = $1, last_error = $2, lease_owner = NULL, lease_token = NULL,
        lease_expires_at = NULL, updated_at = $3
    WHERE id = $4 AND status = 'queued' AND lease_token = $5";

impl Store {
    /// Leases up to `limit` queued items, oldest first, to `worker_id` for `lease`.
    ///
    /// An item is claimable when it is queued, its back-off time (see
    /// [`Store::retry_later`]) has passed and it has no lease or its lease has expired,
    /// so the items of a crashed worker are claimed again once their leases run out.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn claim(
        &self,
        worker_id: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedItem>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let now = self.now_millis();
        let expires = now.saturating_add(duration_millis(lease));
        let token = Uuid::new_v4().simple().to_string();
        let sql = match self.pool {
            Pool::Postgres(_) => CLAIM_POSTGRES,
            Pool::Sqlite(_) => CLAIM_SQLITE,
        };

        let mut tx = self.begin_write().await?;
        let mut rows: Vec<ClaimedRow> = on_backend!(Tx, &mut tx, |tx| {
            sqlx::query_as(sql)
                .bind(worker_id)
                .bind(&token)
                .bind(expires)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&mut **tx)
                .await?
        });
        tx.commit().await?;

        // RETURNING gives rows in no defined order.
        rows.sort_by_key(|row| row.id);
        let expires_at = from_millis("work_items.lease_expires_at", expires)?;
        tracing::debug!(
            worker.id = worker_id,
            claimed = rows.len(),
            "claimed work items"
        );
        rows.into_iter()
            .map(|row| claimed_item(row, worker_id, &token, expires_at))
            .collect()
    }

    /// Marks a claimed item as rejected for good with `reason`, which API clients see in
    /// the acknowledgement status. The item's idempotency key is freed, so a corrected
    /// request with the same key is accepted as new.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn reject(&self, claim: &Claim, reason: &str) -> Result<LeaseOutcome> {
        let now = self.now_millis();
        let changed = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query(REJECT)
                .bind(reason)
                .bind(now)
                .bind(claim.item_id.get())
                .bind(&claim.token)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(outcome(changed, claim, "reject"))
    }

    /// Gives a claimed item back unprocessed, for example on shutdown. The claim does not
    /// count as an attempt, and the item is claimable again at once.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn release(&self, claim: &Claim) -> Result<LeaseOutcome> {
        let now = self.now_millis();
        let changed = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query(RELEASE)
                .bind(now)
                .bind(claim.item_id.get())
                .bind(&claim.token)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(outcome(changed, claim, "release"))
    }

    /// Gives a claimed item back after a transient failure. It stays queued, becomes
    /// claimable again after `backoff`, and keeps `error` for operators. `error` must
    /// not contain personal data.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn retry_later(
        &self,
        claim: &Claim,
        error: &str,
        backoff: Duration,
    ) -> Result<LeaseOutcome> {
        let now = self.now_millis();
        let available = now.saturating_add(duration_millis(backoff));
        let changed = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query(RETRY_LATER)
                .bind(available)
                .bind(error)
                .bind(now)
                .bind(claim.item_id.get())
                .bind(&claim.token)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(outcome(changed, claim, "retry later"))
    }
}

impl Claim {
    pub(crate) fn token(&self) -> &str {
        &self.token
    }
}

fn outcome(changed: u64, claim: &Claim, action: &str) -> LeaseOutcome {
    if changed == 1 {
        return LeaseOutcome::Applied;
    }
    tracing::debug!(item.id = %claim.item_id, worker.id = %claim.worker_id, action, "lease lost");
    LeaseOutcome::LostLease
}

fn claimed_item(
    row: ClaimedRow,
    worker_id: &str,
    token: &str,
    expires_at: OffsetDateTime,
) -> Result<ClaimedItem> {
    let acknowledgement_id =
        row.acknowledgement_id
            .parse()
            .map_err(|_| StoreError::InvalidColumn {
                column: "work_items.acknowledgement_id",
                value: row.acknowledgement_id.clone(),
            })?;
    Ok(ClaimedItem {
        claim: Claim {
            item_id: ItemId::new(row.id),
            worker_id: worker_id.to_owned(),
            token: token.to_owned(),
            expires_at,
        },
        acknowledgement_id,
        index: usize::try_from(row.item_index).unwrap_or(usize::MAX),
        kind: RequestKind::from_column(&row.kind)?,
        shape: shape_from_column(&row.shape)?,
        request_json: Personal::new(row.request_json),
        pre_enrollment_code: row.pre_enrollment_code,
        program_id: row.program_id,
        dose: dose_from_column(row.dose)?,
        replaces: optional_certificate_id(row.replaces_certificate_id.as_deref())?,
        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
    })
}
