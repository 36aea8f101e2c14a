//! Revocation: DIVOC 2.0's revoke rules, the revocation list and its serial numbers.

use time::OffsetDateTime;
use vaccred_core::credential::{CertificateId, DoseNumber};

use crate::backend::{Store, Tx, on_backend};
use crate::error::{Result, RevokeError};
use crate::notifications::enqueue_for_revocations;
use crate::types::{
    certificate_id_from_column, dose_from_column, from_millis, optional_certificate_id,
};

/// Reason code of revocations written when an update supersedes a certificate.
pub(crate) const SUPERSEDED: &str = "superseded";

/// Longest accepted revocation reason, in characters.
const MAX_REASON_CHARS: usize = 64;

/// Selection of the doses [`Store::revoke`] revokes: DIVOC's `allDoses=true` or
/// `doses=1,2,…`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoseSelection {
    /// Every active certificate of the pre-enrollment code.
    All,
    /// These doses. Sorted, they must be consecutive and include the highest dose that
    /// has an active certificate.
    Doses(Vec<u32>),
}

/// One entry of the revocation list.
#[derive(Debug, Clone, PartialEq)]
pub struct RevocationEntry {
    /// Position in the list. Serials start at 1, increase by 1 per entry, and become
    /// visible to readers in increasing order.
    pub serial: i64,
    /// The revoked certificate.
    pub certificate_id: CertificateId,
    /// Its pre-enrollment code.
    pub pre_enrollment_code: String,
    /// Its dose.
    pub dose: DoseNumber,
    /// Reason code: `superseded` for updates, otherwise the code given to
    /// [`Store::revoke`].
    pub reason: String,
    /// For superseded certificates, the replacement.
    pub replaced_by: Option<CertificateId>,
    /// When the entry was recorded.
    pub revoked_at: OffsetDateTime,
}

/// Revocation list entries after a given serial, returned by [`Store::revocation_list`].
#[derive(Debug, Clone, PartialEq)]
pub struct RevocationList {
    /// Entries in serial order.
    pub entries: Vec<RevocationEntry>,
    /// The highest serial assigned so far (0 when the list is empty). Pass it as
    /// `since_serial` next time to fetch only newer entries.
    pub max_serial: i64,
}

/// A revocation to record in the current transaction.
pub(crate) struct NewRevocation<'a> {
    pub(crate) certificate_id: String,
    pub(crate) pre_enrollment_code: String,
    pub(crate) dose: f64,
    pub(crate) reason: &'a str,
    pub(crate) replaced_by: Option<&'a str>,
}

#[derive(sqlx::FromRow)]
struct RevocationRow {
    serial: i64,
    certificate_id: String,
    pre_enrollment_code: String,
    dose: f64,
    reason: String,
    replaced_by: Option<String>,
    revoked_at: i64,
}

/// Takes `$1` serials. The row lock on the counter is held until commit, so a second
/// transaction gets its serials only after the first has committed (or rolled back and
/// returned its serials). Readers therefore never see serial N+1 without serial N.
const TAKE_SERIALS: &str = "
    UPDATE counters SET value = value + $1 WHERE name = 'revocation_serial' RETURNING value";

const SELECT_MAX_SERIAL: &str = "SELECT value FROM counters WHERE name = 'revocation_serial'";

const INSERT_REVOCATION: &str = "
    INSERT INTO revocations (serial, certificate_id, pre_enrollment_code, dose, reason,
        replaced_by, revoked_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7)";

const SELECT_ACTIVE: &str = "
    SELECT certificate_id, dose FROM certificates
    WHERE pre_enrollment_code = $1 AND status = 'active'
    ORDER BY dose, issued_at, id";

const MARK_REVOKED: &str = "
    UPDATE certificates SET status = 'revoked' WHERE certificate_id = $1 AND status = 'active'";

const REVOCATION_COLUMNS: &str =
    "serial, certificate_id, pre_enrollment_code, dose, reason, replaced_by, revoked_at";

const COUNT_BY_KEY: &str = "
    SELECT COUNT(*) FROM revocations
    WHERE pre_enrollment_code = $1 AND dose = $2 AND reason <> 'superseded'";

impl Store {
    /// Revokes the active certificates of a pre-enrollment code for the selected doses,
    /// following DIVOC 2.0's `DELETE /v1/certificates/{preEnrollmentCode}`: the doses
    /// must be consecutive and include the highest dose with an active certificate.
    /// Returns the new revocation list entries. Revoked certificates stay stored with
    /// status revoked. With a notification policy, the same transaction enqueues a
    /// "revoked" message to each revoked certificate's contacts.
    ///
    /// # Errors
    ///
    /// [`RevokeError::NoDoses`], [`RevokeError::NotContiguous`] and
    /// [`RevokeError::HighestDoseMissing`] (DIVOC's 400), [`RevokeError::NotFound`]
    /// (404), [`RevokeError::InvalidReason`] for an empty, over-long or reserved
    /// (`superseded`) reason, [`RevokeError::Store`] when the database fails.
    pub async fn revoke(
        &self,
        code: &str,
        doses: &DoseSelection,
        reason: &str,
    ) -> Result<Vec<RevocationEntry>, RevokeError> {
        check_reason(reason)?;
        let requested = requested_doses(doses)?;
        let now = self.now_millis();
        let mut tx = self.begin_write().await?;

        let active: Vec<(String, f64)> = on_backend!(Tx, &mut tx, |tx| {
            sqlx::query_as(SELECT_ACTIVE)
                .bind(code)
                .fetch_all(&mut **tx)
                .await?
        });
        let targets = select_targets(&active, requested.as_deref())?;
        let revoked = mark_revoked(&mut tx, code, &targets, reason).await?;
        if revoked.is_empty() {
            return Err(RevokeError::NotFound);
        }
        let serials = record_revocations(&mut tx, &revoked, now).await?;
        if let Some(policy) = self.notifications.as_deref() {
            let ids: Vec<&str> = revoked
                .iter()
                .map(|entry| entry.certificate_id.as_str())
                .collect();
            enqueue_for_revocations(&mut tx, policy, &ids, now).await?;
        }
        tx.commit().await?;
        tracing::info!(revoked = revoked.len(), reason, "certificates revoked");

        let revoked_at = from_millis("revocations.revoked_at", now)?;
        serials
            .into_iter()
            .zip(revoked)
            .map(|(serial, entry)| revocation_entry(serial, entry, revoked_at))
            .collect::<Result<_>>()
            .map_err(RevokeError::from)
    }

    /// Returns the revocation list entry of a certificate, if it is revoked or superseded.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`](crate::StoreError::Database) when the database fails.
    pub async fn revocation(&self, id: &CertificateId) -> Result<Option<RevocationEntry>> {
        let sql = format!("SELECT {REVOCATION_COLUMNS} FROM revocations WHERE certificate_id = $1");
        let row: Option<RevocationRow> = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(&sql)
                .bind(id.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(entry_from_row).transpose()
    }

    /// Returns whether a certificate is on the revocation list, revoked or superseded.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`](crate::StoreError::Database) when the database fails.
    pub async fn is_revoked(&self, id: &CertificateId) -> Result<bool> {
        Ok(self.revocation(id).await?.is_some())
    }

    /// Returns whether [`Store::revoke`] has revoked a certificate of this
    /// pre-enrollment code and dose, for credentials whose id this store does not hold.
    /// Supersession by an update does not count, because the replacement has the same
    /// code and dose and is valid.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`](crate::StoreError::Database) when the database fails.
    pub async fn is_revoked_by_key(&self, code: &str, dose: DoseNumber) -> Result<bool> {
        let (count,): (i64,) = on_backend!(Pool, &self.pool, |pool| {
            sqlx::query_as(COUNT_BY_KEY)
                .bind(code)
                .bind(dose.get())
                .fetch_one(pool)
                .await?
        });
        Ok(count > 0)
    }

    /// Returns the revocation list entries with serials above `since_serial` (all entries
    /// when `None`) and the highest serial assigned so far.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`](crate::StoreError::Database) when the database fails.
    pub async fn revocation_list(&self, since_serial: Option<i64>) -> Result<RevocationList> {
        let since = since_serial.unwrap_or(0);
        let sql = format!(
            "SELECT {REVOCATION_COLUMNS} FROM revocations \
             WHERE serial > $1 AND serial <= $2 ORDER BY serial"
        );
        let (max_serial, rows): (i64, Vec<RevocationRow>) = on_backend!(Pool, &self.pool, |pool| {
            // The maximum is read first. Every serial up to it is already committed,
            // so the entries read next have no gaps.
            let (max,): (i64,) = sqlx::query_as(SELECT_MAX_SERIAL).fetch_one(pool).await?;
            let rows = sqlx::query_as(&sql)
                .bind(since)
                .bind(max)
                .fetch_all(pool)
                .await?;
            (max, rows)
        });
        Ok(RevocationList {
            entries: rows
                .into_iter()
                .map(entry_from_row)
                .collect::<Result<_>>()?,
            max_serial,
        })
    }
}

/// Adds entries to the revocation list in `tx` and returns their serials, in order.
pub(crate) async fn record_revocations(
    tx: &mut Tx,
    entries: &[NewRevocation<'_>],
    now: i64,
) -> Result<Vec<i64>> {
    let count = i64::try_from(entries.len()).unwrap_or(i64::MAX);
    let (last,): (i64,) = on_backend!(Tx, &mut *tx, |tx| {
        sqlx::query_as(TAKE_SERIALS)
            .bind(count)
            .fetch_one(&mut **tx)
            .await?
    });
    let serials: Vec<i64> = (last - count + 1..=last).collect();
    for (serial, entry) in serials.iter().zip(entries) {
        on_backend!(Tx, &mut *tx, |tx| {
            sqlx::query(INSERT_REVOCATION)
                .bind(serial)
                .bind(&entry.certificate_id)
                .bind(&entry.pre_enrollment_code)
                .bind(entry.dose)
                .bind(entry.reason)
                .bind(entry.replaced_by)
                .bind(now)
                .execute(&mut **tx)
                .await?;
        });
    }
    Ok(serials)
}

fn check_reason(reason: &str) -> Result<(), RevokeError> {
    let length = reason.chars().count();
    if length == 0 || length > MAX_REASON_CHARS || reason == SUPERSEDED {
        return Err(RevokeError::InvalidReason(reason.to_owned()));
    }
    Ok(())
}

/// Returns the sorted, deduplicated doses, or `None` for all doses.
fn requested_doses(selection: &DoseSelection) -> Result<Option<Vec<u32>>, RevokeError> {
    let DoseSelection::Doses(doses) = selection else {
        return Ok(None);
    };
    let mut doses = doses.clone();
    doses.sort_unstable();
    doses.dedup();
    if doses.is_empty() {
        return Err(RevokeError::NoDoses);
    }
    if doses.windows(2).any(|pair| pair[1] != pair[0] + 1) {
        return Err(RevokeError::NotContiguous { doses });
    }
    Ok(Some(doses))
}

/// Picks the active certificates to revoke, applying DIVOC's 404 and highest-dose rules.
fn select_targets<'a>(
    active: &'a [(String, f64)],
    requested: Option<&[u32]>,
) -> Result<Vec<&'a (String, f64)>, RevokeError> {
    let highest = active
        .iter()
        .map(|(_, dose)| *dose)
        .max_by(f64::total_cmp)
        .ok_or(RevokeError::NotFound)?;
    let Some(requested) = requested else {
        return Ok(active.iter().collect());
    };
    let includes = |dose: f64| requested.iter().any(|&listed| f64::from(listed) == dose);
    if !includes(highest) {
        return Err(RevokeError::HighestDoseMissing {
            doses: requested.to_vec(),
            highest,
        });
    }
    Ok(active.iter().filter(|(_, dose)| includes(*dose)).collect())
}

/// Marks `targets` revoked and returns the revocations to record. A certificate that a
/// concurrent transaction revoked or superseded first is skipped.
async fn mark_revoked<'a>(
    tx: &mut Tx,
    code: &str,
    targets: &[&(String, f64)],
    reason: &'a str,
) -> Result<Vec<NewRevocation<'a>>> {
    let mut revoked = Vec::new();
    for (certificate_id, dose) in targets.iter().copied() {
        let changed = on_backend!(Tx, &mut *tx, |tx| {
            sqlx::query(MARK_REVOKED)
                .bind(certificate_id)
                .execute(&mut **tx)
                .await?
                .rows_affected()
        });
        if changed == 1 {
            revoked.push(NewRevocation {
                certificate_id: certificate_id.clone(),
                pre_enrollment_code: code.to_owned(),
                dose: *dose,
                reason,
                replaced_by: None,
            });
        }
    }
    Ok(revoked)
}

fn revocation_entry(
    serial: i64,
    entry: NewRevocation<'_>,
    revoked_at: OffsetDateTime,
) -> Result<RevocationEntry> {
    Ok(RevocationEntry {
        serial,
        certificate_id: certificate_id_from_column(&entry.certificate_id)?,
        pre_enrollment_code: entry.pre_enrollment_code,
        dose: dose_from_column(entry.dose)?,
        reason: entry.reason.to_owned(),
        replaced_by: optional_certificate_id(entry.replaced_by)?,
        revoked_at,
    })
}

fn entry_from_row(row: RevocationRow) -> Result<RevocationEntry> {
    Ok(RevocationEntry {
        serial: row.serial,
        certificate_id: certificate_id_from_column(&row.certificate_id)?,
        pre_enrollment_code: row.pre_enrollment_code,
        dose: dose_from_column(row.dose)?,
        reason: row.reason,
        replaced_by: optional_certificate_id(row.replaced_by.as_deref())?,
        revoked_at: from_millis("revocations.revoked_at", row.revoked_at)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requested_doses_sorts_and_checks_contiguity() {
        let doses = requested_doses(&DoseSelection::Doses(vec![3, 2, 2])).unwrap();
        assert_eq!(doses, Some(vec![2, 3]));
        let gap = requested_doses(&DoseSelection::Doses(vec![1, 3]));
        assert!(matches!(gap, Err(RevokeError::NotContiguous { .. })));
        let empty = requested_doses(&DoseSelection::Doses(Vec::new()));
        assert!(matches!(empty, Err(RevokeError::NoDoses)));
        assert_eq!(requested_doses(&DoseSelection::All).unwrap(), None);
    }

    #[test]
    fn reason_must_be_short_and_not_reserved() {
        assert!(check_reason("withdrawn").is_ok());
        assert!(check_reason("").is_err());
        assert!(check_reason(SUPERSEDED).is_err());
        assert!(check_reason(&"x".repeat(65)).is_err());
    }
}
