//! Leasing outbox messages to delivery workers and settling each lease with the attempt
//! it made.

use std::time::Duration;

use time::OffsetDateTime;
use uuid::Uuid;

use super::{Channel, NotificationEvent, NotificationId, time_column};
use crate::backend::{Pool, Store, Tx, on_backend};
use crate::error::Result;
use crate::queue::LeaseOutcome;
use crate::types::{Personal, duration_millis, to_millis};

/// A lease on one outbox message, required to settle it. Each claim has a fresh random
/// token, so a lease that another worker has taken over no longer matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationClaim {
    id: NotificationId,
    token: String,
    expires_at: OffsetDateTime,
}

impl NotificationClaim {
    /// Returns the claimed message's id.
    pub fn id(&self) -> NotificationId {
        self.id
    }

    /// Returns when the lease expires and other workers may claim the message.
    pub fn expires_at(&self) -> OffsetDateTime {
        self.expires_at
    }
}

/// A leased message with what is needed to render and send it.
#[derive(Debug, Clone)]
pub struct ClaimedNotification {
    /// The lease; pass it back to settle the message.
    pub claim: NotificationClaim,
    /// The event the message is about.
    pub event: NotificationEvent,
    /// SMS or e-mail.
    pub channel: Channel,
    /// E.164 mobile number or e-mail address.
    pub recipient: Personal<String>,
    /// The certificate the message is about, for certificate events.
    pub certificate_id: Option<String>,
    /// Template language.
    pub language: String,
    /// Template variables; a one-time code's contain the code.
    pub variables: Personal<serde_json::Value>,
    /// This attempt's number, starting at 1.
    pub attempt: u32,
    /// Attempts allowed before the message is marked failed.
    pub max_attempts: u32,
    /// When the message was enqueued.
    pub created_at: OffsetDateTime,
}

/// Outcome of one delivery attempt, for [`Store::settle_notifications`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    /// The gateway or SMTP server accepted the message.
    Delivered {
        /// The gateway's message id, when it returned one.
        reference: Option<String>,
    },
    /// A transient failure: the message stays pending and is claimable after `backoff`.
    Retry {
        /// Wait before the next attempt.
        backoff: Duration,
    },
    /// A permanent failure, or the last allowed attempt failed.
    Failed,
    /// Not attempted, for example because a rate limit was reached. The claim does not
    /// count as an attempt, no attempt is recorded, and the message is claimable after
    /// `delay`.
    Deferred {
        /// Wait before the message is claimable again.
        delay: Duration,
    },
}

/// Result of one attempt as recorded in `notification_attempts`. Neither field may contain
/// personal data or secrets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptRecord {
    /// When sending started.
    pub started_at: Option<OffsetDateTime>,
    /// The gateway's response status: an HTTP status or an SMTP reply code.
    pub gateway_status: Option<String>,
    /// The reason the attempt failed.
    pub error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    id: i64,
    event: String,
    channel: String,
    recipient: String,
    certificate_id: Option<String>,
    language: String,
    variables_json: String,
    attempts: i64,
    max_attempts: i64,
    created_at: i64,
}

/// Marks pending messages whose expiry has passed as expired and erases their variables
/// (one-time codes). A leased message stays with its worker until the lease ends.
const EXPIRE: &str = "
    UPDATE notifications SET status = 'expired', variables_json = '{}', updated_at = $1
    WHERE status = 'pending' AND expires_at <= $1
        AND (lease_expires_at IS NULL OR lease_expires_at <= $1)";

/// Backend-specific: the claim statement for PostgreSQL. `FOR UPDATE SKIP LOCKED` lets
/// claimers in several processes pass over rows another transaction is claiming.
const CLAIM_POSTGRES: &str = "
    UPDATE notifications
    SET lease_owner = $1, lease_token = $2, lease_expires_at = $3,
        attempts = attempts + 1, updated_at = $4
    WHERE id IN (
        SELECT id FROM notifications
        WHERE status = 'pending' AND available_at <= $4
            AND (lease_expires_at IS NULL OR lease_expires_at <= $4)
            AND (expires_at IS NULL OR expires_at > $4)
        ORDER BY priority DESC, id
        LIMIT $5
        FOR UPDATE SKIP LOCKED)
    RETURNING id, event, channel, recipient, certificate_id, language, variables_json,
        attempts, max_attempts, created_at";

/// Backend-specific: the claim statement for SQLite, run inside `BEGIN IMMEDIATE`, which
/// holds the database's only write lock.
const CLAIM_SQLITE: &str = "
    UPDATE notifications
    SET lease_owner = $1, lease_token = $2, lease_expires_at = $3,
        attempts = attempts + 1, updated_at = $4
    WHERE id IN (
        SELECT id FROM notifications
        WHERE status = 'pending' AND available_at <= $4
            AND (lease_expires_at IS NULL OR lease_expires_at <= $4)
            AND (expires_at IS NULL OR expires_at > $4)
        ORDER BY priority DESC, id
        LIMIT $5)
    RETURNING id, event, channel, recipient, certificate_id, language, variables_json,
        attempts, max_attempts, created_at";

const MARK_DELIVERED: &str = "
    UPDATE notifications
    SET status = 'delivered', delivered_at = $1, gateway_reference = $2, last_error = NULL,
        variables_json = CASE WHEN event = 'otp' THEN '{}' ELSE variables_json END,
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = $1
    WHERE id = $3 AND status = 'pending' AND lease_token = $4";

const MARK_RETRY: &str = "
    UPDATE notifications
    SET available_at = $1, last_error = $2, lease_owner = NULL, lease_token = NULL,
        lease_expires_at = NULL, updated_at = $3
    WHERE id = $4 AND status = 'pending' AND lease_token = $5";

const MARK_FAILED: &str = "
    UPDATE notifications
    SET status = 'failed', last_error = $1,
        variables_json = CASE WHEN event = 'otp' THEN '{}' ELSE variables_json END,
        lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL, updated_at = $2
    WHERE id = $3 AND status = 'pending' AND lease_token = $4";

const MARK_DEFERRED: &str = "
    UPDATE notifications
    SET available_at = $1, attempts = attempts - 1, lease_owner = NULL, lease_token = NULL,
        lease_expires_at = NULL, updated_at = $2
    WHERE id = $3 AND status = 'pending' AND lease_token = $4";

const INSERT_ATTEMPT: &str = "
    INSERT INTO notification_attempts (notification_id, attempt, channel, started_at,
        finished_at, outcome, gateway_status, error)
    SELECT id, attempts, channel, $1, $2, $3, $4, $5 FROM notifications WHERE id = $6
    ON CONFLICT (notification_id, attempt) DO NOTHING";

impl Store {
    /// Leases up to `limit` pending messages to `worker_id` for `lease`, highest
    /// priority first and oldest first within a priority. Each claim counts as an
    /// attempt. Pending messages whose expiry has passed are marked expired first.
    ///
    /// A message is claimable when its back-off time has passed and it has no lease or
    /// its lease has expired, so a crashed worker's messages are claimed again once their
    /// leases run out. Keep `lease` longer than a send can take, or a slow send may be
    /// repeated by another worker.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`](crate::StoreError::Database) when the database fails.
    pub async fn claim_notifications(
        &self,
        worker_id: &str,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClaimedNotification>> {
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
        let expired = on_backend!(Tx, &mut tx, |tx| {
            sqlx::query(EXPIRE)
                .bind(now)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        });
        let rows: Vec<ClaimedRow> = on_backend!(Tx, &mut tx, |tx| {
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
        if expired > 0 {
            tracing::info!(expired, "expired one-time codes dropped unsent");
        }

        let expires_at = time_column("notifications.lease_expires_at", expires)?;
        let mut claimed: Vec<ClaimedNotification> = rows
            .into_iter()
            .map(|row| claimed_notification(row, &token, expires_at))
            .collect::<Result<_>>()?;
        // RETURNING gives rows in no defined order.
        claimed.sort_by_key(|message| {
            (
                std::cmp::Reverse(message.event == NotificationEvent::Otp),
                message.claim.id,
            )
        });
        Ok(claimed)
    }

    /// Settles leased messages in one transaction and records each attempt, except for
    /// [`Settlement::Deferred`]. The outcomes come back in the input order.
    /// [`LeaseOutcome::LostLease`] means another worker owns the message now, and nothing
    /// was stored for it.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`](crate::StoreError::Database) when the database fails;
    /// nothing of the batch is stored then.
    pub async fn settle_notifications(
        &self,
        settlements: &[(&NotificationClaim, Settlement, AttemptRecord)],
    ) -> Result<Vec<LeaseOutcome>> {
        let now = self.now_millis();
        let mut tx = self.begin_write().await?;
        let mut outcomes = Vec::with_capacity(settlements.len());
        for (claim, settlement, record) in settlements {
            outcomes.push(settle_in(&mut tx, claim, settlement, record, now).await?);
        }
        tx.commit().await?;
        Ok(outcomes)
    }
}

async fn settle_in(
    tx: &mut Tx,
    claim: &NotificationClaim,
    settlement: &Settlement,
    record: &AttemptRecord,
    now: i64,
) -> Result<LeaseOutcome> {
    let id = claim.id.get();
    let token = claim.token.as_str();
    let error = record.error.as_deref();
    let (outcome, changed) = on_backend!(Tx, &mut *tx, |tx| match settlement {
        Settlement::Delivered { reference } => {
            let changed = sqlx::query(MARK_DELIVERED)
                .bind(now)
                .bind(reference.as_deref())
                .bind(id)
                .bind(token)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            ("delivered", changed)
        }
        Settlement::Retry { backoff } => {
            let changed = sqlx::query(MARK_RETRY)
                .bind(now.saturating_add(duration_millis(*backoff)))
                .bind(error)
                .bind(now)
                .bind(id)
                .bind(token)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            ("retry", changed)
        }
        Settlement::Failed => {
            let changed = sqlx::query(MARK_FAILED)
                .bind(error)
                .bind(now)
                .bind(id)
                .bind(token)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            ("failed", changed)
        }
        Settlement::Deferred { delay } => {
            let changed = sqlx::query(MARK_DEFERRED)
                .bind(now.saturating_add(duration_millis(*delay)))
                .bind(now)
                .bind(id)
                .bind(token)
                .execute(&mut **tx)
                .await?
                .rows_affected();
            ("deferred", changed)
        }
    });
    if changed != 1 {
        tracing::debug!(notification.id = id, outcome, "notification lease lost");
        return Ok(LeaseOutcome::LostLease);
    }
    if outcome != "deferred" {
        let started = record.started_at.map_or(now, to_millis);
        on_backend!(Tx, &mut *tx, |tx| {
            sqlx::query(INSERT_ATTEMPT)
                .bind(started)
                .bind(now)
                .bind(outcome)
                .bind(record.gateway_status.as_deref())
                .bind(error)
                .bind(id)
                .execute(&mut **tx)
                .await?;
        });
    }
    Ok(LeaseOutcome::Applied)
}

fn claimed_notification(
    row: ClaimedRow,
    token: &str,
    expires_at: OffsetDateTime,
) -> Result<ClaimedNotification> {
    let variables = serde_json::from_str(&row.variables_json).map_err(|_| {
        crate::StoreError::InvalidColumn {
            column: "notifications.variables_json",
            value: format!("the variables of notification {}", row.id),
        }
    })?;
    Ok(ClaimedNotification {
        claim: NotificationClaim {
            id: NotificationId::new(row.id),
            token: token.to_owned(),
            expires_at,
        },
        event: NotificationEvent::from_column(&row.event)?,
        channel: Channel::from_column(&row.channel)?,
        recipient: Personal::new(row.recipient),
        certificate_id: row.certificate_id,
        language: row.language,
        variables: Personal::new(variables),
        attempt: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        max_attempts: u32::try_from(row.max_attempts).unwrap_or(u32::MAX),
        created_at: time_column("notifications.created_at", row.created_at)?,
    })
}
