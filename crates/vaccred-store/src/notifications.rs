//! The notification outbox: SMS and e-mail messages about certificates, and one-time
//! codes, kept until they are delivered, fail for good or expire.
//!
//! Certificate messages are inserted in the transaction that stores, updates or revokes
//! the certificate, when the store has a [`NotificationPolicy`]. Workers lease pending
//! messages with [`Store::claim_notifications`] as signing workers lease work items, and
//! settle each lease with [`Store::settle_notifications`], which records the attempt.

mod admin;
mod claim;
mod enqueue;

use std::fmt;
use std::time::Duration;

use time::OffsetDateTime;
use vaccred_core::phone::Region;

pub use admin::{
    NotificationAttempt, NotificationFilter, NotificationStats, NotificationSummary, ResendOutcome,
};
pub use claim::{AttemptRecord, ClaimedNotification, NotificationClaim, Settlement};
pub(crate) use enqueue::{CertificateFacts, enqueue_for_certificate, enqueue_for_revocations};

use crate::backend::Store;
use crate::error::StoreError;

/// Priority of certificate messages.
pub const CERTIFICATE_PRIORITY: i64 = 0;
/// Priority of one-time codes, which are delivered before any certificate message.
pub const OTP_PRIORITY: i64 = 100;

/// Identifier of an outbox message, assigned by the database in increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NotificationId(i64);

impl NotificationId {
    /// Wraps a database id.
    pub fn new(id: i64) -> Self {
        NotificationId(id)
    }

    /// Returns the database id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for NotificationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Event a message is about. Each event has its own templates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotificationEvent {
    /// A certify request produced a certificate.
    CertificateIssued,
    /// An update request produced a certificate that supersedes an earlier one.
    CertificateUpdated,
    /// A certificate was revoked.
    CertificateRevoked,
    /// A one-time code for the citizen portal.
    Otp,
}

impl NotificationEvent {
    /// Every event, in a fixed order.
    pub const ALL: [NotificationEvent; 4] = [
        NotificationEvent::CertificateIssued,
        NotificationEvent::CertificateUpdated,
        NotificationEvent::CertificateRevoked,
        NotificationEvent::Otp,
    ];

    /// Returns the column value, which is also the template file stem.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationEvent::CertificateIssued => "certificate_issued",
            NotificationEvent::CertificateUpdated => "certificate_updated",
            NotificationEvent::CertificateRevoked => "certificate_revoked",
            NotificationEvent::Otp => "otp",
        }
    }

    pub(crate) fn from_column(value: &str) -> Result<Self, StoreError> {
        NotificationEvent::ALL
            .into_iter()
            .find(|event| event.as_str() == value)
            .ok_or_else(|| StoreError::InvalidColumn {
                column: "notifications.event",
                value: value.to_owned(),
            })
    }
}

impl fmt::Display for NotificationEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Delivery channel of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Channel {
    /// Through the configured SMS gateway, to an E.164 mobile number.
    Sms,
    /// Over SMTP, to an e-mail address.
    Email,
}

impl Channel {
    /// Returns the column value.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Sms => "sms",
            Channel::Email => "email",
        }
    }

    pub(crate) fn from_column(value: &str) -> Result<Self, StoreError> {
        match value {
            "sms" => Ok(Channel::Sms),
            "email" => Ok(Channel::Email),
            _ => Err(StoreError::InvalidColumn {
                column: "notifications.channel",
                value: value.to_owned(),
            }),
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// State of an outbox message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NotificationStatus {
    /// Waiting for delivery or for its next attempt.
    Pending,
    /// The gateway or SMTP server accepted it.
    Delivered,
    /// It failed permanently or used up its attempts.
    Failed,
    /// A one-time code whose expiry passed before delivery; it is never sent.
    Expired,
}

impl NotificationStatus {
    /// Returns the column value.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Pending => "pending",
            NotificationStatus::Delivered => "delivered",
            NotificationStatus::Failed => "failed",
            NotificationStatus::Expired => "expired",
        }
    }

    pub(crate) fn from_column(value: &str) -> Result<Self, StoreError> {
        match value {
            "pending" => Ok(NotificationStatus::Pending),
            "delivered" => Ok(NotificationStatus::Delivered),
            "failed" => Ok(NotificationStatus::Failed),
            "expired" => Ok(NotificationStatus::Expired),
            _ => Err(StoreError::InvalidColumn {
                column: "notifications.status",
                value: value.to_owned(),
            }),
        }
    }
}

impl fmt::Display for NotificationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Policy for the certificate messages the store enqueues, set with
/// [`Store::with_notifications`](crate::Store::with_notifications).
#[derive(Debug, Clone)]
pub struct NotificationPolicy {
    /// Enqueue SMS messages to the certificate's mobile numbers.
    pub sms: bool,
    /// Enqueue e-mails to the certificate's e-mail addresses.
    pub email: bool,
    /// Region for mobile numbers written without a country code. Mobile numbers that do
    /// not normalise to E.164, and all mobile numbers when this is `None`, are skipped
    /// and counted in a warning.
    pub region: Option<Region>,
    /// Language of the templates, such as `en`.
    pub language: String,
    /// Attempts before a message is marked failed.
    pub max_attempts: u32,
}

impl Store {
    /// Returns this store with `policy` applied: from now on, storing, updating or
    /// revoking a certificate through the returned store (and its clones) also enqueues
    /// messages to the certificate's contacts in the same transaction.
    #[must_use]
    pub fn with_notifications(mut self, policy: NotificationPolicy) -> Store {
        self.notifications = Some(std::sync::Arc::new(policy));
        self
    }

    /// Returns the notification policy, if one is set.
    pub fn notification_policy(&self) -> Option<&NotificationPolicy> {
        self.notifications.as_deref()
    }
}

/// A one-time code to send, enqueued with [`Store::enqueue_otp`](crate::Store::enqueue_otp).
#[derive(Clone)]
pub struct NewOtp {
    /// SMS or e-mail.
    pub channel: Channel,
    /// E.164 mobile number or e-mail address.
    pub recipient: String,
    /// Template language.
    pub language: String,
    /// The code. It is stored until the message is settled, then erased.
    pub code: String,
    /// How long the code is valid; an undelivered message is dropped after this.
    pub valid_for: Duration,
    /// Attempts before the message is marked failed.
    pub max_attempts: u32,
}

/// Prints neither the recipient nor the code.
impl fmt::Debug for NewOtp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewOtp")
            .field("channel", &self.channel)
            .field("valid_for", &self.valid_for)
            .finish_non_exhaustive()
    }
}

/// Converts a column time, keeping the column name for the error.
fn time_column(column: &'static str, millis: i64) -> Result<OffsetDateTime, StoreError> {
    crate::types::from_millis(column, millis)
}
