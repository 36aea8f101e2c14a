//! Notification workers: deliver the outbox's SMS and e-mail messages with retries and
//! exponential back-off, and record every attempt.
//!
//! Workers lease batches of pending messages as the signing workers lease work items, so
//! several server processes can share one PostgreSQL database. Each message of a batch is
//! rendered and sent concurrently, then the whole batch is settled in one transaction.
//!
//! A message is marked delivered right after the gateway or SMTP server accepts it. If
//! the process dies between that acceptance and the commit, the lease runs out and the
//! message is sent again: that window cannot be closed from this side. Every attempt
//! therefore carries the same reference (`vaccred-<id>`): the webhook preset sends it as
//! `reference`, and e-mails use it as their `Message-ID`.

mod email;
mod rate;
mod segments;
mod sms;
mod templates;

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vaccred_core::phone::{self, Region};
use vaccred_store::{
    AttemptRecord, Channel, ClaimedNotification, LeaseOutcome, NewOtp, NotificationId,
    NotificationPolicy, Settlement, Store, StoreError,
};

use crate::config::NotificationsConfig;
use crate::state::AppState;
pub(crate) use email::Mailer;
pub(crate) use sms::SmsGateway;
use sms::SmsMessage;
pub(crate) use templates::Templates;

/// Transactions tried to record a batch's attempts before its messages are left to expire.
const SETTLE_TRIES: u32 = 6;
/// Wait before the second try to record a batch; it doubles with each try.
const SETTLE_RETRY_WAIT: Duration = Duration::from_millis(100);

/// Result of one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SendOutcome {
    /// Accepted by the gateway or SMTP server.
    Delivered {
        reference: Option<String>,
        status: Option<String>,
    },
    /// Worth another attempt.
    Transient {
        status: Option<String>,
        error: String,
    },
    /// Another attempt would fail the same way.
    Permanent {
        status: Option<String>,
        error: String,
    },
}

/// Error of building the notification service from its configuration.
#[derive(Debug, thiserror::Error)]
#[error("invalid notification settings: {0}")]
pub struct NotifyConfigError(String);

/// Everything needed to deliver messages: channels, templates and limits.
#[derive(Debug)]
pub struct Notifier {
    config: NotificationsConfig,
    region: Option<Region>,
    templates: Templates,
    sms: Option<SmsGateway>,
    mailer: Option<Mailer>,
    limiter: rate::RateLimiter,
}

impl Notifier {
    /// Builds the channels configured in `config` and checks the templates. Returns
    /// `None` when neither SMS nor e-mail is configured.
    ///
    /// # Errors
    /// [`NotifyConfigError`] naming the setting or template at fault.
    pub fn from_config(config: &NotificationsConfig) -> Result<Option<Self>, NotifyConfigError> {
        if config.sms.is_none() && config.email.is_none() {
            return Ok(None);
        }
        let region = config
            .default_country
            .as_deref()
            .and_then(Region::from_iso_code);
        let timeout = Duration::from_secs(config.send_timeout_seconds);
        let templates =
            Templates::load(config).map_err(|error| NotifyConfigError(error.to_string()))?;
        let calling_code = region.map_or("", |region| region.calling_code());
        let sms = config
            .sms
            .as_ref()
            .map(|sms| SmsGateway::new(sms, calling_code, timeout))
            .transpose()
            .map_err(NotifyConfigError)?;
        let mailer = config
            .email
            .as_ref()
            .map(|email| Mailer::new(email, timeout))
            .transpose()
            .map_err(NotifyConfigError)?;
        let limiter = rate::RateLimiter::new(
            config.rate_limit.global_per_second,
            config.rate_limit.per_recipient_per_hour,
        );
        Ok(Some(Self {
            config: config.clone(),
            region,
            templates,
            sms,
            mailer,
            limiter,
        }))
    }

    /// Returns the store policy that enqueues messages for the configured channels.
    pub fn policy(&self) -> NotificationPolicy {
        NotificationPolicy {
            sms: self.sms.is_some(),
            email: self.mailer.is_some(),
            region: self.region,
            language: self.config.language.clone(),
            max_attempts: self.config.max_attempts,
        }
    }

    /// Returns whether SMS messages are sent.
    pub fn sms_enabled(&self) -> bool {
        self.sms.is_some()
    }

    /// Returns whether e-mails are sent.
    pub fn email_enabled(&self) -> bool {
        self.mailer.is_some()
    }

    /// Enqueues a one-time code for the citizen portal. A mobile number is normalised to
    /// E.164 first. The code expires after `notifications.otp_valid_seconds`.
    ///
    /// # Errors
    /// [`OtpError::InvalidRecipient`] for a mobile number that is not valid,
    /// [`OtpError::ChannelDisabled`] when the channel is not configured,
    /// [`OtpError::Store`] when the database fails.
    pub async fn enqueue_otp(
        &self,
        store: &Store,
        channel: Channel,
        recipient: &str,
        code: &str,
    ) -> Result<NotificationId, OtpError> {
        let recipient = match channel {
            Channel::Sms if let (Some(_), Some(region)) = (&self.sms, &self.region) => {
                phone::normalize(recipient, region)
                    .map_err(OtpError::InvalidRecipient)?
                    .as_str()
                    .to_owned()
            }
            Channel::Email if self.mailer.is_some() => recipient.to_owned(),
            _ => return Err(OtpError::ChannelDisabled(channel)),
        };
        let otp = NewOtp {
            channel,
            recipient,
            language: self.config.language.clone(),
            code: code.to_owned(),
            valid_for: Duration::from_secs(self.config.otp_valid_seconds),
            max_attempts: self.config.max_attempts,
        };
        Ok(store.enqueue_otp(&otp).await?)
    }

    /// Returns the wait before attempt `attempt + 1` after attempt `attempt` failed:
    /// `backoff_base_seconds × 2^(attempt-1)`, at most `backoff_max_seconds`.
    fn backoff(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(30);
        let seconds = self
            .config
            .backoff_base_seconds
            .saturating_mul(1_u64 << exponent)
            .min(self.config.backoff_max_seconds.max(1));
        Duration::from_secs(seconds)
    }

    /// Renders and sends one leased message and decides how to settle it.
    async fn deliver(&self, message: &ClaimedNotification) -> (Settlement, AttemptRecord) {
        let mut record = AttemptRecord {
            started_at: Some(OffsetDateTime::now_utc()),
            ..AttemptRecord::default()
        };
        if message.attempt > message.max_attempts {
            record.error = Some("the attempt limit was reached before this claim".to_owned());
            return (Settlement::Failed, record);
        }
        if let Err(delay) = self.limiter.admit_recipient(message.recipient.expose()) {
            return (Settlement::Deferred { delay }, record);
        }
        self.limiter.acquire_global().await;
        let outcome = self.send(message).await;
        let settlement = match outcome {
            SendOutcome::Delivered { reference, status } => {
                record.gateway_status = status;
                Settlement::Delivered { reference }
            }
            SendOutcome::Transient { status, error } => {
                record.gateway_status = status;
                record.error = Some(error);
                if message.attempt >= message.max_attempts {
                    Settlement::Failed
                } else {
                    Settlement::Retry {
                        backoff: self.backoff(message.attempt),
                    }
                }
            }
            SendOutcome::Permanent { status, error } => {
                record.gateway_status = status;
                record.error = Some(error);
                Settlement::Failed
            }
        };
        (settlement, record)
    }

    async fn send(&self, message: &ClaimedNotification) -> SendOutcome {
        let reference = format!("vaccred-{}", message.claim.id());
        let variables = message.variables.expose();
        match message.channel {
            Channel::Sms => {
                let Some(gateway) = &self.sms else {
                    return disabled(Channel::Sms);
                };
                let text =
                    match self
                        .templates
                        .render_sms(message.event, &message.language, variables)
                    {
                        Ok(text) => text,
                        Err(error) => return template_failure(&error),
                    };
                let sms = SmsMessage {
                    to: message.recipient.expose(),
                    text: &text,
                    reference: &reference,
                };
                gateway.send(&sms).await
            }
            Channel::Email => {
                let Some(mailer) = &self.mailer else {
                    return disabled(Channel::Email);
                };
                let content =
                    match self
                        .templates
                        .render_email(message.event, &message.language, variables)
                    {
                        Ok(content) => content,
                        Err(error) => return template_failure(&error),
                    };
                mailer
                    .send(message.recipient.expose(), &content, &reference)
                    .await
            }
            _ => disabled(message.channel),
        }
    }
}

fn disabled(channel: Channel) -> SendOutcome {
    SendOutcome::Transient {
        status: None,
        error: format!("the {channel} channel is not configured in this process"),
    }
}

fn template_failure(error: &templates::TemplateError) -> SendOutcome {
    SendOutcome::Permanent {
        status: None,
        error: error.to_string(),
    }
}

/// Error of [`Notifier::enqueue_otp`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtpError {
    /// The mobile number is not valid.
    #[error("invalid mobile number: {0}")]
    InvalidRecipient(phone::PhoneError),
    /// The channel is not configured.
    #[error("the {0} channel is not configured: set notifications.sms or notifications.email")]
    ChannelDisabled(Channel),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The running notification workers.
#[derive(Debug)]
pub(crate) struct NotifierPool {
    tasks: JoinSet<()>,
}

impl NotifierPool {
    /// Starts `notifications.concurrency` workers that run until `stop` is cancelled.
    pub(crate) fn spawn(
        notifier: Arc<Notifier>,
        state: &AppState,
        instance: &str,
        stop: CancellationToken,
    ) -> Self {
        let count = notifier.config.concurrency;
        let mut tasks = JoinSet::new();
        for index in 0..count {
            let worker = NotifyWorker {
                id: format!("{instance}-notify-{index}"),
                notifier: Arc::clone(&notifier),
                state: state.clone(),
                stop: stop.clone(),
            };
            tasks.spawn(worker.run());
        }
        tracing::info!(workers = count, "notification workers started");
        Self { tasks }
    }

    /// Waits for the workers to settle their current batch, until `deadline`. Messages
    /// of workers aborted then are claimed again after their lease expires.
    pub(crate) async fn stop(self, deadline: tokio::time::Instant) {
        crate::worker::join_until(self.tasks, deadline, "notification").await;
    }
}

struct NotifyWorker {
    id: String,
    notifier: Arc<Notifier>,
    state: AppState,
    stop: CancellationToken,
}

impl NotifyWorker {
    async fn run(self) {
        let config = &self.notifier.config;
        let lease = Duration::from_secs(config.lease_seconds);
        let poll = Duration::from_millis(config.poll_interval_ms);
        while !self.stop.is_cancelled() {
            let claimed = self
                .state
                .store()
                .claim_notifications(&self.id, config.batch_size, lease)
                .await;
            let claimed = match claimed {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(worker.id = %self.id, %error, "cannot claim notifications");
                    self.pause(poll).await;
                    continue;
                }
            };
            if claimed.is_empty() {
                self.pause(poll).await;
                continue;
            }
            self.process_batch(claimed).await;
        }
    }

    async fn pause(&self, duration: Duration) {
        tokio::select! {
            () = self.stop.cancelled() => {}
            () = tokio::time::sleep(duration) => {}
        }
    }

    /// Sends a batch concurrently and settles it in one transaction.
    async fn process_batch(&self, claimed: Vec<ClaimedNotification>) {
        let mut sends = JoinSet::new();
        for (index, message) in claimed.iter().cloned().enumerate() {
            let notifier = Arc::clone(&self.notifier);
            sends.spawn(async move { (index, notifier.deliver(&message).await) });
        }
        let mut results: Vec<Option<(Settlement, AttemptRecord)>> = vec![None; claimed.len()];
        while let Some(joined) = sends.join_next().await {
            match joined {
                Ok((index, result)) => results[index] = Some(result),
                Err(error) => {
                    tracing::error!(worker.id = %self.id, %error, "notification task failed");
                }
            }
        }
        let settlements: Vec<_> = claimed
            .iter()
            .zip(results)
            .filter_map(|(message, result)| {
                result.map(|(settlement, record)| (&message.claim, settlement, record))
            })
            .collect();
        match self.settle(&settlements).await {
            Ok(outcomes) => {
                for ((claim, settlement, record), outcome) in settlements.iter().zip(outcomes) {
                    let message = claimed.iter().find(|message| &message.claim == *claim);
                    if let Some(message) = message {
                        self.observe(message, settlement, record, outcome);
                    }
                }
            }
            Err(error) => {
                // The leases expire and the messages are sent again; the gateway may see
                // them twice.
                tracing::error!(
                    worker.id = %self.id,
                    messages = settlements.len(),
                    %error,
                    "cannot record notification attempts"
                );
            }
        }
    }

    /// Settles a batch, retrying a failed transaction a few times, because a message
    /// whose delivery is not recorded is sent again once its lease expires.
    async fn settle(
        &self,
        settlements: &[(&vaccred_store::NotificationClaim, Settlement, AttemptRecord)],
    ) -> Result<Vec<LeaseOutcome>, StoreError> {
        let mut wait = SETTLE_RETRY_WAIT;
        let mut tries = 1;
        loop {
            match self.state.store().settle_notifications(settlements).await {
                Ok(outcomes) => return Ok(outcomes),
                Err(error) if tries < SETTLE_TRIES => {
                    tracing::warn!(
                        worker.id = %self.id,
                        messages = settlements.len(),
                        %error,
                        "cannot record notification attempts; trying again"
                    );
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    tries += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    fn observe(
        &self,
        message: &ClaimedNotification,
        settlement: &Settlement,
        record: &AttemptRecord,
        outcome: LeaseOutcome,
    ) {
        let channel = message.channel.as_str();
        let id = message.claim.id();
        if outcome == LeaseOutcome::LostLease {
            tracing::warn!(notification.id = %id, "notification lease lost before settling");
            return;
        }
        match settlement {
            Settlement::Delivered { .. } => {
                self.state.metrics().notification_sent(channel);
                let age = OffsetDateTime::now_utc() - message.created_at;
                self.state
                    .metrics()
                    .observe_notification_delay(channel, age.as_seconds_f64().max(0.0));
                tracing::debug!(notification.id = %id, channel, attempt = message.attempt, "notification delivered");
            }
            Settlement::Retry { backoff } => {
                self.state.metrics().notification_retried(channel);
                tracing::info!(
                    notification.id = %id,
                    channel,
                    attempt = message.attempt,
                    backoff_seconds = backoff.as_secs(),
                    error = record.error.as_deref().unwrap_or(""),
                    "notification attempt failed; retrying later"
                );
            }
            Settlement::Failed => {
                self.state.metrics().notification_failed(channel);
                tracing::warn!(
                    notification.id = %id,
                    channel,
                    attempt = message.attempt,
                    error = record.error.as_deref().unwrap_or(""),
                    "notification failed for good"
                );
            }
            Settlement::Deferred { delay } => {
                self.state.metrics().notification_deferred(channel);
                tracing::debug!(notification.id = %id, channel, delay_seconds = delay.as_secs(), "notification deferred by the rate limit");
            }
        }
    }
}

/// Logs which channels are active and how many messages wait, once at start.
pub(crate) async fn log_start(notifier: Option<&Notifier>, store: &Store) {
    let pending = match store.notification_stats().await {
        Ok(stats) => stats.pending,
        Err(error) => {
            tracing::warn!(%error, "cannot count pending notifications");
            0
        }
    };
    match notifier {
        Some(notifier) => tracing::info!(
            sms = notifier.sms_enabled(),
            email = notifier.email_enabled(),
            pending,
            "notifications enabled"
        ),
        None => tracing::info!(
            pending,
            "notifications disabled: neither notifications.sms nor notifications.email is set"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // lettre's connection pool starts a task on the current Tokio runtime.
    #[tokio::test]
    async fn backoff_doubles_up_to_maximum() {
        let config = NotificationsConfig {
            backoff_base_seconds: 10,
            backoff_max_seconds: 100,
            email: Some(crate::config::EmailConfig {
                host: "127.0.0.1".to_owned(),
                tls: crate::config::SmtpTls::None,
                from: "a@b.example".to_owned(),
                ..crate::config::EmailConfig::default()
            }),
            ..NotificationsConfig::default()
        };
        let notifier = Notifier::from_config(&config)
            .expect("valid")
            .expect("e-mail configured");
        let waits: Vec<u64> = (1..=6)
            .map(|attempt| notifier.backoff(attempt).as_secs())
            .collect();
        assert_eq!(waits, [10, 20, 40, 80, 100, 100]);
    }
}
