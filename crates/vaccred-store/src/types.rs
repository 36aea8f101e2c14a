//! Identifiers, status values, personal-data wrappers and column conversions.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;
use uuid::Uuid;
use vaccred_core::credential::{CertificateId, DoseNumber, Shape};

use crate::error::{Result, StoreError};

/// Identifier of an accepted request body, returned to the client: a random (version 4)
/// UUID, written in lower-case hyphenated form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AcknowledgementId(Uuid);

impl AcknowledgementId {
    /// Generates a new random identifier.
    pub fn new_random() -> Self {
        AcknowledgementId(Uuid::new_v4())
    }
}

impl FromStr for AcknowledgementId {
    type Err = uuid::Error;

    fn from_str(text: &str) -> std::result::Result<Self, Self::Err> {
        Uuid::parse_str(text).map(AcknowledgementId)
    }
}

impl fmt::Display for AcknowledgementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Identifier of a work item (one item of a request body), assigned by the database in
/// increasing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId(i64);

impl ItemId {
    /// Wraps a database id.
    pub fn new(id: i64) -> Self {
        ItemId(id)
    }

    /// Returns the database id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Text wrapper for personal data (names, dates of birth, contacts, request and credential
/// JSON). Its `Debug` output is a placeholder, so the value never reaches a log through
/// `{:?}`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Personal<T>(T);

impl<T> Personal<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        Personal(value)
    }

    /// Returns the value.
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// Returns the value, consuming the wrapper.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Personal<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Personal(..)")
    }
}

/// Defines a public enum stored as text, with `as_str`, `Display` and a parser for
/// column values.
macro_rules! text_enum {
    (
        $(#[$meta:meta])*
        $name:ident, $column:literal {
            $($(#[$variant_meta:meta])* $variant:ident = $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Returns the text stored in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }

            pub(crate) fn from_column(text: &str) -> Result<Self> {
                match text {
                    $($text => Ok($name::$variant),)+
                    _ => Err(StoreError::InvalidColumn { column: $column, value: text.into() }),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// Kind of request body: DIVOC's certify (`POST /v1|v3/certify`) or update
    /// (`PUT /v1|v3/certificate`).
    RequestKind, "work_items.kind" {
        /// A new certificate.
        Certify = "certify",
        /// A corrected certificate that supersedes an earlier one of the same dose.
        Update = "update",
    }
}

text_enum! {
    /// State of a work item.
    ItemStatus, "work_items.status" {
        /// Waiting for a worker, or leased by one.
        Queued = "queued",
        /// Signed and stored as a certificate.
        Issued = "issued",
        /// Failed permanently. The item's `reason` gives the cause.
        Rejected = "rejected",
        /// Repeats the idempotency key of an earlier certify item and is never signed.
        Duplicate = "duplicate",
    }
}

text_enum! {
    /// State of a stored certificate.
    CertificateStatus, "certificates.status" {
        /// Valid and current.
        Active = "active",
        /// Replaced by an update; listed as revoked with reason `superseded`.
        Superseded = "superseded",
        /// Revoked through the revoke API.
        Revoked = "revoked",
    }
}

text_enum! {
    /// State of a signing key.
    KeyStatus, "signing_keys.status" {
        /// Used for new signatures and verification.
        Active = "active",
        /// Kept for verifying credentials signed earlier.
        Retired = "retired",
    }
}

/// Converts a time to integer milliseconds since the Unix epoch, the column format for
/// times on both backends. Sub-millisecond digits are dropped.
pub(crate) fn to_millis(time: OffsetDateTime) -> i64 {
    let millis = time.unix_timestamp_nanos().div_euclid(1_000_000);
    // Times of the year range OffsetDateTime supports fit in i64 milliseconds.
    i64::try_from(millis).unwrap_or(i64::MAX)
}

/// Converts a millisecond column value back to a UTC time.
pub(crate) fn from_millis(column: &'static str, millis: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000).map_err(|_| {
        StoreError::InvalidColumn {
            column,
            value: millis.to_string(),
        }
    })
}

/// Converts a `Duration` to milliseconds, saturating at `i64::MAX`.
pub(crate) fn duration_millis(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

pub(crate) fn shape_from_column(text: &str) -> Result<Shape> {
    match text {
        "certifyV2" => Ok(Shape::V2),
        "certifyV3" => Ok(Shape::V3),
        _ => Err(StoreError::InvalidColumn {
            column: "shape",
            value: text.into(),
        }),
    }
}

pub(crate) fn dose_from_column(value: f64) -> Result<DoseNumber> {
    DoseNumber::new(value).ok_or_else(|| StoreError::InvalidColumn {
        column: "dose",
        value: value.to_string(),
    })
}

pub(crate) fn certificate_id_from_column(text: &str) -> Result<CertificateId> {
    CertificateId::parse(text).map_err(|_| StoreError::InvalidColumn {
        column: "certificate_id",
        value: text.into(),
    })
}

pub(crate) fn optional_certificate_id(text: Option<&str>) -> Result<Option<CertificateId>> {
    text.map(certificate_id_from_column).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_round_trip_drops_sub_millisecond_digits() {
        let time = OffsetDateTime::from_unix_timestamp_nanos(1_700_000_000_123_456_789).unwrap();
        let millis = to_millis(time);
        assert_eq!(millis, 1_700_000_000_123);
        let back = from_millis("test", millis).unwrap();
        assert_eq!(back.unix_timestamp_nanos(), 1_700_000_000_123_000_000);
    }

    #[test]
    fn millis_before_epoch_round_down() {
        let time = OffsetDateTime::from_unix_timestamp_nanos(-1_500_000).unwrap();
        assert_eq!(to_millis(time), -2);
    }

    #[test]
    fn text_enum_rejects_unknown_values() {
        assert_eq!(
            ItemStatus::from_column("issued").unwrap(),
            ItemStatus::Issued
        );
        assert!(ItemStatus::from_column("done").is_err());
    }

    #[test]
    fn personal_debug_hides_value() {
        let name = Personal::new("Alice Example".to_owned());
        assert_eq!(format!("{name:?}"), "Personal(..)");
    }

    #[test]
    fn acknowledgement_id_round_trips() {
        let id = AcknowledgementId::new_random();
        let parsed: AcknowledgementId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
    }
}
