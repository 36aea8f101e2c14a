//! Stored certificates and their lookups.

use std::collections::HashMap;
use std::fmt;

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, OffsetDateTime};
use vaccred_core::credential::{CertificateId, DoseNumber, Shape};
use vaccred_core::keys::KeyId;

use crate::backend::{Store, Tx, on_backend};
use crate::error::{Result, StoreError};
use crate::types::{
    CertificateStatus, ItemId, Personal, certificate_id_from_column, dose_from_column, from_millis,
    optional_certificate_id, shape_from_column,
};

const DATE_FORMAT: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// Mobile numbers and e-mail addresses of a certificate's recipient. `Debug` shows only
/// how many there are.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Contacts {
    /// Mobile numbers: the text after `tel:`.
    pub mobiles: Vec<String>,
    /// E-mail addresses: the text after `mailto:`.
    pub emails: Vec<String>,
}

impl Contacts {
    /// Reads DIVOC `recipient.contact` entries. `tel:` and `mailto:` entries are kept
    /// without their prefix, in order; other entries are ignored.
    pub fn from_uris<I, S>(uris: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut contacts = Contacts::default();
        for uri in uris {
            let uri = uri.as_ref();
            if let Some(mobile) = uri.strip_prefix("tel:") {
                contacts.mobiles.push(mobile.to_owned());
            } else if let Some(email) = uri.strip_prefix("mailto:") {
                contacts.emails.push(email.to_owned());
            }
        }
        contacts
    }
}

impl fmt::Debug for Contacts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Contacts")
            .field("mobiles", &self.mobiles.len())
            .field("emails", &self.emails.len())
            .finish()
    }
}

/// A signed certificate to store with [`Store::complete`]. The pre-enrollment code,
/// program, dose and shape come from the claimed work item.
#[derive(Debug, Clone)]
pub struct NewCertificate {
    /// The id in `evidence[0].certificateId`.
    pub certificate_id: CertificateId,
    /// The signed credential JSON, stored and returned byte for byte.
    pub credential_json: Personal<String>,
    /// The proof's `verificationMethod`.
    pub key_id: KeyId,
    /// `recipient.name`.
    pub name: Personal<String>,
    /// `recipient.dob`, when given.
    pub date_of_birth: Option<Personal<Date>>,
    /// From `recipient.contact`.
    pub contacts: Contacts,
    /// The registry record's `meta` object.
    pub meta: serde_json::Value,
}

/// A stored certificate.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCertificate {
    /// The id in `evidence[0].certificateId`.
    pub certificate_id: CertificateId,
    /// `preEnrollmentCode` (`credentialSubject.refId`).
    pub pre_enrollment_code: String,
    /// `programId`, possibly empty.
    pub program_id: String,
    /// `evidence[0].dose`.
    pub dose: DoseNumber,
    /// The credential shape.
    pub shape: Shape,
    /// The signed credential JSON, byte for byte as issued.
    pub credential_json: Personal<String>,
    /// The signing key's id.
    pub key_id: KeyId,
    /// The recipient's name.
    pub name: Personal<String>,
    /// The recipient's date of birth, when given.
    pub date_of_birth: Option<Personal<Date>>,
    /// The recipient's mobile numbers and e-mail addresses.
    pub contacts: Contacts,
    /// The registry record's `meta` object.
    pub meta: serde_json::Value,
    /// When the certificate was stored.
    pub issued_at: OffsetDateTime,
    /// Active, superseded or revoked.
    pub status: CertificateStatus,
    /// For superseded certificates, the certificate that replaced it.
    pub superseded_by: Option<CertificateId>,
    /// The work item it was signed for.
    pub item_id: Option<ItemId>,
}

/// Certificates an update of one dose may replace, returned by
/// [`Store::certificates_for_update`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateEligibility {
    /// Number of certificates of the dose that are not revoked, superseded ones
    /// included. DIVOC returns 412 when this is 0 or has reached its update limit.
    pub count: u64,
    /// The newest of those certificates, which an update replaces.
    pub latest: Option<CertificateId>,
}

#[derive(sqlx::FromRow)]
struct CertificateRow {
    certificate_id: String,
    item_id: Option<i64>,
    pre_enrollment_code: String,
    program_id: String,
    dose: f64,
    shape: String,
    credential_json: String,
    key_id: String,
    name: String,
    date_of_birth: Option<String>,
    meta_json: String,
    issued_at: i64,
    status: String,
    superseded_by: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ContactRow {
    certificate_id: String,
    kind: String,
    value: String,
}

/// The certificate fields the claimed work item supplies.
pub(crate) struct ItemFields {
    pub(crate) item_id: i64,
    pub(crate) pre_enrollment_code: String,
    pub(crate) program_id: String,
    pub(crate) dose: f64,
    pub(crate) shape: String,
}

const INSERT_CERTIFICATE: &str = "
    INSERT INTO certificates (certificate_id, item_id, pre_enrollment_code, program_id, dose,
        shape, credential_json, key_id, name, date_of_birth, meta_json, issued_at, status)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'active')
    ON CONFLICT (certificate_id) DO NOTHING
    RETURNING id";

const INSERT_CONTACT: &str = "
    INSERT INTO certificate_contacts (certificate_id, ordinal, kind, value)
    VALUES ($1, $2, $3, $4)";

const CERTIFICATE_COLUMNS: &str = "t.certificate_id, t.item_id, t.pre_enrollment_code, \
    t.program_id, t.dose, t.shape, t.credential_json, t.key_id, t.name, t.date_of_birth, \
    t.meta_json, t.issued_at, t.status, t.superseded_by";

const SELECT_FOR_UPDATE: &str = "
    SELECT certificate_id FROM certificates
    WHERE pre_enrollment_code = $1 AND dose = $2 AND status <> 'revoked'
    ORDER BY issued_at, id";

/// Condition of a certificate lookup. Each filter binds one text parameter, `$1`.
#[derive(Clone, Copy)]
enum Filter {
    Id,
    PreEnrollmentCode,
    Mobile,
}

impl Filter {
    fn condition(self) -> &'static str {
        match self {
            Filter::Id => "t.certificate_id = $1",
            Filter::PreEnrollmentCode => "t.pre_enrollment_code = $1",
            Filter::Mobile => {
                "t.certificate_id IN (SELECT certificate_id FROM certificate_contacts \
                 WHERE kind = 'mobile' AND value = $1)"
            }
        }
    }
}

impl Store {
    /// Returns the certificate with this id, in any status.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn certificate(&self, id: &CertificateId) -> Result<Option<StoredCertificate>> {
        let mut found = self.certificates_where(Filter::Id, id.as_str()).await?;
        Ok(found.pop())
    }

    /// Returns every certificate of a pre-enrollment code, in any status, ordered by
    /// dose and then by issue time.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn certificates_for_code(&self, code: &str) -> Result<Vec<StoredCertificate>> {
        self.certificates_where(Filter::PreEnrollmentCode, code)
            .await
    }

    /// Returns the current certificate of a pre-enrollment code: among active
    /// certificates, the highest dose, and of that dose the most recently issued (DIVOC's
    /// selection since `1.24.0-generic-sec-update`).
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn latest_certificate(&self, code: &str) -> Result<Option<StoredCertificate>> {
        let certificates = self.certificates_for_code(code).await?;
        // The list is sorted by dose, issue time and insertion order, so the last active
        // certificate is the latest.
        Ok(certificates
            .into_iter()
            .rev()
            .find(|certificate| certificate.status == CertificateStatus::Active))
    }

    /// Returns the certificates, in any status, whose recipient has this mobile number
    /// (the text after `tel:`), ordered by dose and then by issue time.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn certificates_for_mobile(&self, mobile: &str) -> Result<Vec<StoredCertificate>> {
        self.certificates_where(Filter::Mobile, mobile).await
    }

    /// Counts the certificates an update of `dose` could replace and returns the newest.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn certificates_for_update(
        &self,
        code: &str,
        dose: DoseNumber,
    ) -> Result<UpdateEligibility> {
        let ids: Vec<(String,)> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(SELECT_FOR_UPDATE)
                .bind(code)
                .bind(dose.get())
                .fetch_all(pool)
                .await?
        });
        let latest = ids.last().map(|(id,)| id.as_str());
        Ok(UpdateEligibility {
            count: u64::try_from(ids.len()).unwrap_or(u64::MAX),
            latest: optional_certificate_id(latest)?,
        })
    }

    async fn certificates_where(
        &self,
        filter: Filter,
        value: &str,
    ) -> Result<Vec<StoredCertificate>> {
        let condition = filter.condition();
        let certificates_sql = format!(
            "SELECT {CERTIFICATE_COLUMNS} FROM certificates t WHERE {condition} \
             ORDER BY t.dose, t.issued_at, t.id"
        );
        let contacts_sql = format!(
            "SELECT c.certificate_id, c.kind, c.value FROM certificate_contacts c \
             JOIN certificates t ON t.certificate_id = c.certificate_id \
             WHERE {condition} ORDER BY c.certificate_id, c.ordinal"
        );
        let (rows, contact_rows): (Vec<CertificateRow>, Vec<ContactRow>) =
            on_backend!(Pool, &self.pool, |pool| {
                let rows = sqlx::query_as(&certificates_sql)
                    .bind(value)
                    .fetch_all(pool)
                    .await?;
                let contacts = sqlx::query_as(&contacts_sql)
                    .bind(value)
                    .fetch_all(pool)
                    .await?;
                (rows, contacts)
            });
        let mut contacts = group_contacts(contact_rows);
        rows.into_iter()
            .map(|row| {
                let found = contacts.remove(&row.certificate_id).unwrap_or_default();
                stored_certificate(row, found)
            })
            .collect()
    }
}

/// Inserts a certificate and its contacts in `tx`. Returns `false`, inserting nothing,
/// when the certificate id is taken.
pub(crate) async fn insert_certificate(
    tx: &mut Tx,
    item: &ItemFields,
    certificate: &NewCertificate,
    now: i64,
) -> Result<bool> {
    let date_of_birth = match &certificate.date_of_birth {
        Some(date) => Some(format_date(*date.expose())?),
        None => None,
    };
    let meta = certificate.meta.to_string();
    let inserted: Option<(i64,)> = on_backend!(Tx, &mut *tx, |tx| {
        sqlx::query_as(INSERT_CERTIFICATE)
            .bind(certificate.certificate_id.as_str())
            .bind(item.item_id)
            .bind(&item.pre_enrollment_code)
            .bind(&item.program_id)
            .bind(item.dose)
            .bind(&item.shape)
            .bind(certificate.credential_json.expose())
            .bind(certificate.key_id.as_str())
            .bind(certificate.name.expose())
            .bind(date_of_birth)
            .bind(&meta)
            .bind(now)
            .fetch_optional(&mut **tx)
            .await?
    });
    if inserted.is_none() {
        return Ok(false);
    }
    insert_contacts(tx, &certificate.certificate_id, &certificate.contacts).await?;
    Ok(true)
}

async fn insert_contacts(tx: &mut Tx, id: &CertificateId, contacts: &Contacts) -> Result<()> {
    let mobiles = contacts.mobiles.iter().map(|value| ("mobile", value));
    let emails = contacts.emails.iter().map(|value| ("email", value));
    for (ordinal, (kind, value)) in (0_i64..).zip(mobiles.chain(emails)) {
        on_backend!(Tx, &mut *tx, |tx| {
            sqlx::query(INSERT_CONTACT)
                .bind(id.as_str())
                .bind(ordinal)
                .bind(kind)
                .bind(value)
                .execute(&mut **tx)
                .await?;
        });
    }
    Ok(())
}

fn format_date(date: Date) -> Result<String> {
    date.format(DATE_FORMAT)
        .map_err(|_| StoreError::InvalidColumn {
            column: "certificates.date_of_birth",
            value: String::from("(not shown: personal data)"),
        })
}

fn group_contacts(rows: Vec<ContactRow>) -> HashMap<String, Contacts> {
    let mut grouped: HashMap<String, Contacts> = HashMap::new();
    for row in rows {
        let contacts = grouped.entry(row.certificate_id).or_default();
        match row.kind.as_str() {
            "mobile" => contacts.mobiles.push(row.value),
            _ => contacts.emails.push(row.value),
        }
    }
    grouped
}

fn stored_certificate(row: CertificateRow, contacts: Contacts) -> Result<StoredCertificate> {
    let invalid = |column: &'static str, value: &str| StoreError::InvalidColumn {
        column,
        value: value.to_owned(),
    };
    let key_id =
        KeyId::new(row.key_id.as_str()).map_err(|_| invalid("certificates.key_id", &row.key_id))?;
    let meta = serde_json::from_str(&row.meta_json)
        .map_err(|_| invalid("certificates.meta_json", "(not valid JSON)"))?;
    let date_of_birth = match row.date_of_birth {
        Some(text) => Some(Personal::new(Date::parse(&text, DATE_FORMAT).map_err(
            |_| invalid("certificates.date_of_birth", "(not shown: personal data)"),
        )?)),
        None => None,
    };
    Ok(StoredCertificate {
        certificate_id: certificate_id_from_column(&row.certificate_id)?,
        pre_enrollment_code: row.pre_enrollment_code,
        program_id: row.program_id,
        dose: dose_from_column(row.dose)?,
        shape: shape_from_column(&row.shape)?,
        credential_json: Personal::new(row.credential_json),
        key_id,
        name: Personal::new(row.name),
        date_of_birth,
        contacts,
        meta,
        issued_at: from_millis("certificates.issued_at", row.issued_at)?,
        status: CertificateStatus::from_column(&row.status)?,
        superseded_by: optional_certificate_id(row.superseded_by.as_deref())?,
        item_id: row.item_id.map(ItemId::new),
    })
}
