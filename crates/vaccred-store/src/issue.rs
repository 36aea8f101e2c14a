//! Completing a claimed item: storing its certificate exactly once.

use vaccred_core::credential::CertificateId;

use crate::backend::{Store, Tx, on_backend};
use crate::certificates::{ItemFields, NewCertificate, insert_certificate};
use crate::error::{Result, StoreError};
use crate::notifications::{
    CertificateFacts, NotificationEvent, NotificationPolicy, enqueue_for_certificate,
};
use crate::queue::Claim;
use crate::revocation::{NewRevocation, SUPERSEDED, record_revocations};

/// Upper bound on the supersession chain [`Store::complete`] follows for an update. DIVOC
/// allows 100 updates per dose by default (`CERTIFICATE_UPDATE_LIMIT`), so a longer chain
/// means corrupt data.
const MAX_CHAIN: usize = 1000;

/// Result of [`Store::complete`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Completion {
    /// The certificate was stored and the item marked issued.
    Issued {
        /// For update items, the certificate that the new one superseded. `None` when
        /// the replaced certificate had been revoked in the meantime.
        superseded: Option<CertificateId>,
    },
    /// The claim no longer owns the item, so nothing was stored. Another worker took
    /// the item over after the lease expired, or the claim was already settled.
    LostLease,
}

#[derive(sqlx::FromRow)]
struct IssuedRow {
    pre_enrollment_code: String,
    program_id: String,
    dose: f64,
    shape: String,
    replaces_certificate_id: Option<String>,
}

/// Marks the item issued if `lease_token` still owns it. This row update is the guard
/// that makes issuing exactly-once: the first transaction to change the row wins, and
/// on PostgreSQL a concurrent one blocks on the row lock, then finds `status = 'issued'`
/// (or a new token) and matches nothing.
const MARK_ISSUED: &str = "
    UPDATE work_items
    SET status = 'issued', certificate_id = $1, lease_owner = NULL, lease_token = NULL,
        lease_expires_at = NULL, updated_at = $2
    WHERE id = $3 AND status = 'queued' AND lease_token = $4
    RETURNING pre_enrollment_code, program_id, dose, shape, replaces_certificate_id";

const SUPERSEDE: &str = "
    UPDATE certificates SET status = 'superseded', superseded_by = $1
    WHERE certificate_id = $2 AND status = 'active'
    RETURNING pre_enrollment_code, dose";

const SELECT_SUCCESSOR: &str = "
    SELECT status, superseded_by FROM certificates WHERE certificate_id = $1";

impl Store {
    /// Stores the certificate signed for a claimed item and marks the item issued, in one
    /// transaction, but only while `claim` still owns the item's lease. A lease that has
    /// expired still counts until another worker claims the item.
    ///
    /// With a notification policy, the same transaction enqueues the "issued" or "updated"
    /// messages to the certificate's contacts.
    ///
    /// For update items the same transaction marks the replaced certificate superseded by
    /// the new one and adds it to the revocation list with reason `superseded`. When a
    /// concurrent update has already superseded it, the newest certificate in that chain
    /// is superseded instead, so at most one certificate per update chain stays active.
    ///
    /// # Errors
    ///
    /// [`StoreError::CertificateIdInUse`] when another certificate has the id (sign
    /// again with a new id; the lease is kept); [`StoreError::Database`] when the
    /// database fails. Nothing is stored in either case.
    pub async fn complete(
        &self,
        claim: &Claim,
        certificate: &NewCertificate,
    ) -> Result<Completion> {
        let mut completions = self.complete_batch(&[(claim, certificate)]).await?;
        Ok(completions.pop().unwrap_or(Completion::LostLease))
    }

    /// Stores the certificates of several claimed items in one transaction, with the same
    /// per-item rules as [`Store::complete`]: each item is issued only while its claim owns
    /// it, and the completions come back in the input order. One commit for a batch saves
    /// a disk flush per certificate, which bounds throughput on SQLite.
    ///
    /// # Errors
    ///
    /// As [`Store::complete`]; on any error nothing of the batch is stored, so the caller
    /// can complete the items one by one.
    pub async fn complete_batch(
        &self,
        items: &[(&Claim, &NewCertificate)],
    ) -> Result<Vec<Completion>> {
        let now = self.now_millis();
        let mut tx = self.begin_write().await?;
        let mut completions = Vec::with_capacity(items.len());
        for &(claim, certificate) in items {
            let policy = self.notifications.as_deref();
            completions.push(complete_in(&mut tx, claim, certificate, policy, now).await?);
        }
        tx.commit().await?;
        Ok(completions)
    }
}

/// Issues one item inside a write transaction (see [`Store::complete`]).
async fn complete_in(
    tx: &mut Tx,
    claim: &Claim,
    certificate: &NewCertificate,
    policy: Option<&NotificationPolicy>,
    now: i64,
) -> Result<Completion> {
    let Some(row) = mark_issued(tx, claim, &certificate.certificate_id, now).await? else {
        tracing::debug!(item.id = %claim.item_id(), worker.id = claim.worker_id(), "lease lost before completion");
        return Ok(Completion::LostLease);
    };
    let item = ItemFields {
        item_id: claim.item_id().get(),
        pre_enrollment_code: row.pre_enrollment_code,
        program_id: row.program_id,
        dose: row.dose,
        shape: row.shape,
    };
    if !insert_certificate(tx, &item, certificate, now).await? {
        return Err(StoreError::CertificateIdInUse(
            certificate.certificate_id.clone(),
        ));
    }
    if let Some(policy) = policy {
        let event = match row.replaces_certificate_id {
            Some(_) => NotificationEvent::CertificateUpdated,
            None => NotificationEvent::CertificateIssued,
        };
        let facts = CertificateFacts {
            certificate_id: certificate.certificate_id.as_str(),
            name: certificate.name.expose(),
            credential_json: certificate.credential_json.expose(),
            dose: item.dose,
        };
        enqueue_for_certificate(tx, policy, event, &facts, &certificate.contacts, now).await?;
    }
    let superseded = match row.replaces_certificate_id {
        Some(replaced) => supersede(tx, &replaced, &certificate.certificate_id, now).await?,
        None => None,
    };
    tracing::debug!(
        item.id = %claim.item_id(),
        certificate.id = %certificate.certificate_id,
        "certificate stored"
    );
    Ok(Completion::Issued { superseded })
}

async fn mark_issued(
    tx: &mut Tx,
    claim: &Claim,
    certificate_id: &CertificateId,
    now: i64,
) -> Result<Option<IssuedRow>> {
    Ok(on_backend!(Tx, tx, |tx| {
        sqlx::query_as(MARK_ISSUED)
            .bind(certificate_id.as_str())
            .bind(now)
            .bind(claim.item_id().get())
            .bind(claim.token())
            .fetch_optional(&mut **tx)
            .await?
    }))
}

/// Supersedes `replaced`, or the newest certificate of its supersession chain, with
/// `replacement`, and records the revocation. Returns the superseded certificate, or
/// `None` when the chain ends in a revoked certificate.
async fn supersede(
    tx: &mut Tx,
    replaced: &str,
    replacement: &CertificateId,
    now: i64,
) -> Result<Option<CertificateId>> {
    let mut current = replaced.to_owned();
    for _ in 0..MAX_CHAIN {
        let changed: Option<(String, f64)> = on_backend!(Tx, &mut *tx, |tx| {
            sqlx::query_as(SUPERSEDE)
                .bind(replacement.as_str())
                .bind(&current)
                .fetch_optional(&mut **tx)
                .await?
        });
        if let Some((pre_enrollment_code, dose)) = changed {
            let revocation = NewRevocation {
                certificate_id: current.clone(),
                pre_enrollment_code,
                dose,
                reason: SUPERSEDED,
                replaced_by: Some(replacement.as_str()),
            };
            record_revocations(tx, &[revocation], now).await?;
            return crate::types::optional_certificate_id(Some(&current));
        }
        match successor(tx, &current).await? {
            Some(next) => current = next,
            None => return Ok(None),
        }
    }
    Err(StoreError::InvalidColumn {
        column: "certificates.superseded_by",
        value: format!("a chain of more than {MAX_CHAIN} certificates from {replaced}"),
    })
}

/// Returns the certificate that superseded `id`, or `None` when `id` is revoked or
/// missing.
async fn successor(tx: &mut Tx, id: &str) -> Result<Option<String>> {
    let row: Option<(String, Option<String>)> = on_backend!(Tx, tx, |tx| {
        sqlx::query_as(SELECT_SUCCESSOR)
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
    });
    Ok(match row {
        Some((status, next)) if status == "superseded" => next,
        _ => None,
    })
}
