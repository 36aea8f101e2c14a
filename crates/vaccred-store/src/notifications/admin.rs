//! Listing, resending and counting outbox messages, for operators and metrics.

use time::OffsetDateTime;

use super::{Channel, NotificationEvent, NotificationId, NotificationStatus, time_column};
use crate::backend::{Store, on_backend};
use crate::error::{Result, StoreError};

/// Selection for [`Store::notifications`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotificationFilter {
    /// Only messages in this state; all when `None`.
    pub status: Option<NotificationStatus>,
    /// Maximum number of messages, newest first.
    pub limit: u32,
}

/// An outbox message without its recipient or variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationSummary {
    /// The message id.
    pub id: NotificationId,
    /// The event the message is about.
    pub event: NotificationEvent,
    /// SMS or e-mail.
    pub channel: Channel,
    /// The certificate it is about, for certificate events.
    pub certificate_id: Option<String>,
    /// Its state.
    pub status: NotificationStatus,
    /// Attempts made so far, counting a claim in progress.
    pub attempts: u32,
    /// Attempts allowed.
    pub max_attempts: u32,
    /// The error of the last failed attempt.
    pub last_error: Option<String>,
    /// When it was enqueued.
    pub created_at: OffsetDateTime,
    /// When it last changed.
    pub updated_at: OffsetDateTime,
}

/// One recorded delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationAttempt {
    /// Attempt number, starting at 1.
    pub attempt: u32,
    /// SMS or e-mail.
    pub channel: Channel,
    /// When sending started.
    pub started_at: OffsetDateTime,
    /// When the outcome was stored.
    pub finished_at: OffsetDateTime,
    /// `delivered`, `retry` or `failed`.
    pub outcome: String,
    /// The gateway's response status: an HTTP status or an SMTP reply code.
    pub gateway_status: Option<String>,
    /// The reason the attempt failed.
    pub error: Option<String>,
}

/// Counts for metrics and health pages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NotificationStats {
    /// Messages waiting for delivery.
    pub pending: u64,
    /// Messages delivered.
    pub delivered: u64,
    /// Messages that failed for good.
    pub failed: u64,
    /// One-time codes dropped after their expiry.
    pub expired: u64,
    /// When the oldest pending message was enqueued.
    pub oldest_pending: Option<OffsetDateTime>,
}

/// Result of [`Store::resend_notification`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub enum ResendOutcome {
    /// The message is pending again with a fresh allowance of attempts.
    Queued,
    /// The message is still pending, so nothing changed.
    AlreadyPending,
    /// The message is a one-time code, whose code is erased once settled.
    OneTimeCode,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    event: String,
    channel: String,
    certificate_id: Option<String>,
    status: String,
    attempts: i64,
    max_attempts: i64,
    last_error: Option<String>,
    created_at: i64,
    updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct AttemptRow {
    attempt: i64,
    channel: String,
    started_at: i64,
    finished_at: i64,
    outcome: String,
    gateway_status: Option<String>,
    error: Option<String>,
}

const SUMMARY_COLUMNS: &str = "id, event, channel, certificate_id, status, attempts, \
    max_attempts, last_error, created_at, updated_at";

const SELECT_ATTEMPTS: &str = "
    SELECT attempt, channel, started_at, finished_at, outcome, gateway_status, error
    FROM notification_attempts WHERE notification_id = $1 ORDER BY attempt";

const SELECT_STATE: &str = "SELECT event, status FROM notifications WHERE id = $1";

/// Makes a settled message pending again. Attempt numbers continue, so the allowance is
/// the attempts made so far plus `$1`.
const RESEND: &str = "
    UPDATE notifications
    SET status = 'pending', max_attempts = attempts + $1, available_at = $2,
        delivered_at = NULL, updated_at = $2
    WHERE id = $3 AND status <> 'pending' AND event <> 'otp'";

const COUNT_BY_STATUS: &str = "
    SELECT status, COUNT(*) FROM notifications GROUP BY status";

const OLDEST_PENDING: &str = "
    SELECT MIN(created_at) FROM notifications WHERE status = 'pending'";

impl Store {
    /// Lists outbox messages, newest first.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn notifications(
        &self,
        filter: NotificationFilter,
    ) -> Result<Vec<NotificationSummary>> {
        let limit = i64::from(filter.limit);
        let rows: Vec<SummaryRow> = match filter.status {
            Some(status) => {
                let sql = format!(
                    "SELECT {SUMMARY_COLUMNS} FROM notifications WHERE status = $1 \
                     ORDER BY id DESC LIMIT $2"
                );
                on_backend!(Pool, &self.pool, |pool| {
                    sqlx::query_as(&sql)
                        .bind(status.as_str())
                        .bind(limit)
                        .fetch_all(pool)
                        .await?
                })
            }
            None => {
                let sql = format!(
                    "SELECT {SUMMARY_COLUMNS} FROM notifications ORDER BY id DESC LIMIT $1"
                );
                on_backend!(Pool, &self.pool, |pool| {
                    sqlx::query_as(&sql).bind(limit).fetch_all(pool).await?
                })
            }
        };
        rows.into_iter().map(summary).collect()
    }

    /// Returns the recorded attempts of a message, in order.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn notification_attempts(
        &self,
        id: NotificationId,
    ) -> Result<Vec<NotificationAttempt>> {
        let rows: Vec<AttemptRow> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(SELECT_ATTEMPTS)
                .bind(id.get())
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(NotificationAttempt {
                    attempt: u32::try_from(row.attempt).unwrap_or(u32::MAX),
                    channel: Channel::from_column(&row.channel)?,
                    started_at: time_column("notification_attempts.started_at", row.started_at)?,
                    finished_at: time_column("notification_attempts.finished_at", row.finished_at)?,
                    outcome: row.outcome,
                    gateway_status: row.gateway_status,
                    error: row.error,
                })
            })
            .collect()
    }

    /// Makes a delivered or failed certificate message pending again, claimable at once,
    /// with `max_attempts` more attempts.
    ///
    /// # Errors
    ///
    /// [`StoreError::NotificationNotFound`] when no message has this id;
    /// [`StoreError::Database`] when the database fails.
    pub async fn resend_notification(
        &self,
        id: NotificationId,
        max_attempts: u32,
    ) -> Result<ResendOutcome> {
        let now = self.now_millis();
        let mut tx = self.begin_write().await?;
        let state: Option<(String, String)> = on_backend!(Tx, &mut tx, |tx| {
            sqlx::query_as(SELECT_STATE)
                .bind(id.get())
                .fetch_optional(&mut **tx)
                .await?
        });
        let Some((event, status)) = state else {
            return Err(StoreError::NotificationNotFound(id.get()));
        };
        if event == NotificationEvent::Otp.as_str() {
            return Ok(ResendOutcome::OneTimeCode);
        }
        if status == NotificationStatus::Pending.as_str() {
            return Ok(ResendOutcome::AlreadyPending);
        }
        on_backend!(Tx, &mut tx, |tx| {
            sqlx::query(RESEND)
                .bind(i64::from(max_attempts.max(1)))
                .bind(now)
                .bind(id.get())
                .execute(&mut **tx)
                .await?;
        });
        tx.commit().await?;
        tracing::info!(notification.id = %id, "notification queued for resending");
        Ok(ResendOutcome::Queued)
    }

    /// Counts messages by state and finds the oldest pending one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn notification_stats(&self) -> Result<NotificationStats> {
        let (counts, oldest): (Vec<(String, i64)>, Option<i64>) =
            on_backend!(Pool, &self.pool, |pool| {
                let counts = sqlx::query_as(COUNT_BY_STATUS).fetch_all(pool).await?;
                let oldest = sqlx::query_scalar(OLDEST_PENDING).fetch_one(pool).await?;
                (counts, oldest)
            });
        let mut stats = NotificationStats::default();
        for (status, count) in counts {
            let count = u64::try_from(count).unwrap_or(0);
            match NotificationStatus::from_column(&status)? {
                NotificationStatus::Pending => stats.pending = count,
                NotificationStatus::Delivered => stats.delivered = count,
                NotificationStatus::Failed => stats.failed = count,
                NotificationStatus::Expired => stats.expired = count,
            }
        }
        stats.oldest_pending = oldest
            .map(|millis| time_column("notifications.created_at", millis))
            .transpose()?;
        Ok(stats)
    }
}

fn summary(row: SummaryRow) -> Result<NotificationSummary> {
    Ok(NotificationSummary {
        id: NotificationId::new(row.id),
        event: NotificationEvent::from_column(&row.event)?,
        channel: Channel::from_column(&row.channel)?,
        certificate_id: row.certificate_id,
        status: NotificationStatus::from_column(&row.status)?,
        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        max_attempts: u32::try_from(row.max_attempts).unwrap_or(u32::MAX),
        last_error: row.last_error,
        created_at: time_column("notifications.created_at", row.created_at)?,
        updated_at: time_column("notifications.updated_at", row.updated_at)?,
    })
}
