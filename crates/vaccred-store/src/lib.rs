//! The database layer of the vaccred issuance service.
//!
//! A [`Store`] keeps the certify and update requests that API clients send, the work
//! queue from which signing workers take items, the signed certificates, the revocation
//! list, the API clients and the public halves of the signing keys.
//!
//! # Backends
//!
//! The same schema and behaviour run on two backends, chosen by the URL given to
//! [`Store::open`]:
//!
//! - **SQLite** (a file path or `sqlite://…`): one host. The file is created and
//!   migrated on open and runs in WAL mode with `synchronous=FULL`, foreign keys on and a
//!   busy timeout. Write transactions start with `BEGIN IMMEDIATE`.
//! - **PostgreSQL** (`postgres://…`): any number of service processes share one
//!   database. Workers claim items with `FOR UPDATE SKIP LOCKED`.
//!
//! Migrations for each backend are embedded and applied on open; `migrations/sqlite` and
//! `migrations/postgres` hold the same versions. Times are stored as integer
//! milliseconds since the Unix epoch (UTC) on both.
//!
//! # Request flow
//!
//! 1. [`Store::accept`] stores a request body in one transaction and returns an
//!    [`AcknowledgementId`] for the client. A certify item that repeats the
//!    (pre-enrollment code, program, dose) of a queued or issued certify item is stored
//!    as a duplicate of it and never signed.
//! 2. Workers lease items with [`Store::claim`], sign them, and settle each claim with
//!    [`Store::complete`], [`Store::reject`], [`Store::retry_later`] or
//!    [`Store::release`]. Items of a crashed worker become claimable when their lease
//!    expires.
//! 3. [`Store::acknowledgement`] reports each item's state to the client.
//!
//! # Exactly once
//!
//! An item yields at most one certificate. [`Store::complete`] stores the certificate
//! and marks the item issued in one transaction, and only if the claim's lease token
//! still owns the queued item. Two workers can sign the same item when the first one's
//! lease expires and a second one claims it. Then only the owner of the current token
//! can complete, and the other receives [`Completion::LostLease`] with nothing stored.
//! A unique index on `certificates.item_id` backs this up.
//!
//! # Notifications
//!
//! With a [`NotificationPolicy`] (see [`Store::with_notifications`]), storing, updating
//! or revoking a certificate also enqueues SMS and e-mail messages to its contacts in the
//! same transaction. Workers lease them with [`Store::claim_notifications`] and record
//! each attempt with [`Store::settle_notifications`].
//!
//! # Time
//!
//! Every timestamp and lease check uses the store's [`Clock`], which tests replace with
//! a [`ManualClock`].
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod backend;
mod certificates;
mod clients;
mod clock;
mod depth;
mod error;
mod group;
mod intake;
mod issue;
mod keys;
mod notifications;
mod queue;
mod revocation;
mod types;
mod uploads;

pub use backend::{Backend, Store, StoreOptions};
pub use certificates::{Contacts, NewCertificate, StoredCertificate, UpdateEligibility};
pub use clients::{ApiClient, NewApiClient, SecretHash};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use error::{Result, RevokeError, StoreError};
pub use intake::{AcceptedItem, Acknowledgement, AcknowledgementStatus, ItemState, NewItem};
pub use issue::Completion;
pub use keys::{NewSigningKey, SigningKeyRecord};
pub use notifications::{
    AttemptRecord, CERTIFICATE_PRIORITY, Channel, ClaimedNotification, NewOtp, NotificationAttempt,
    NotificationClaim, NotificationEvent, NotificationFilter, NotificationId, NotificationPolicy,
    NotificationStats, NotificationStatus, NotificationSummary, OTP_PRIORITY, ResendOutcome,
    Settlement,
};
pub use queue::{Claim, ClaimedItem, LeaseOutcome};
pub use revocation::{DoseSelection, RevocationEntry, RevocationList};
pub use types::{
    AcknowledgementId, CertificateStatus, ItemId, ItemStatus, KeyStatus, Personal, RequestKind,
};
pub use uploads::{
    NewUploadRow, UploadErrorRow, UploadReceipt, UploadRowContent, UploadStatus, UploadSummary,
};
