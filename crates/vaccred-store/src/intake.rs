//! Accepting request bodies: acknowledgements, work items and the idempotency key.

use time::OffsetDateTime;
use vaccred_core::credential::{CertificateId, CertificationRequest, DoseNumber, Shape};

use crate::backend::{Store, Tx, on_backend};
use crate::error::{Result, StoreError};
use crate::group::Submitted;
use crate::types::{
    AcknowledgementId, ItemId, ItemStatus, Personal, RequestKind, from_millis,
    optional_certificate_id,
};

/// How often one item retries the insert when the live item that owns its idempotency
/// key is rejected between the conflict and the lookup of the original. Each retry needs a
/// concurrent transaction to finish, so a handful is plenty.
const MAX_KEY_RETRIES: usize = 8;

/// One item of a certify or update request body, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// Credential shape: `certifyV2` for DIVOC's `/v1` paths, `certifyV3` for `/v3`.
    pub shape: Shape,
    /// The normalised request JSON, exactly as it is to be signed.
    pub request_json: Personal<String>,
    /// `preEnrollmentCode`. Must not be empty; the database rejects an empty code.
    pub pre_enrollment_code: String,
    /// `programId`, or the empty string when the request has none.
    pub program_id: String,
    /// `vaccination.dose`.
    pub dose: DoseNumber,
    /// For update items, the certificate being replaced (DIVOC's
    /// `meta.previousCertificateId`); `None` for certify items.
    pub replaces: Option<CertificateId>,
}

impl NewItem {
    /// Builds the work item of a validated certification request: its normalised JSON and
    /// idempotency key, with `replaces` set for update items.
    ///
    /// # Errors
    ///
    /// The serialisation error of the request, which does not occur for requests that
    /// the core's parsers built.
    pub fn from_request(
        request: &CertificationRequest,
        shape: Shape,
        replaces: Option<CertificateId>,
    ) -> std::result::Result<Self, serde_json::Error> {
        Ok(NewItem {
            shape,
            request_json: Personal::new(serde_json::to_string(request)?),
            pre_enrollment_code: request.pre_enrollment_code.clone(),
            program_id: request.program_id.clone().unwrap_or_default(),
            dose: request.vaccination.dose,
            replaces,
        })
    }
}

/// The stored form of an accepted request body, returned by [`Store::accept`].
#[derive(Debug, Clone, PartialEq)]
pub struct Acknowledgement {
    /// Identifier to return to the client.
    pub id: AcknowledgementId,
    /// Whether the body was a certify or an update request.
    pub kind: RequestKind,
    /// When the body was stored.
    pub received_at: OffsetDateTime,
    /// The items, in body order.
    pub items: Vec<AcceptedItem>,
}

/// The initial state of one accepted item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedItem {
    /// Position in the request body.
    pub index: usize,
    /// The work item's id.
    pub item_id: ItemId,
    /// [`ItemStatus::Queued`], or [`ItemStatus::Duplicate`] when an earlier certify item
    /// has the same pre-enrollment code, program and dose.
    pub status: ItemStatus,
    /// For duplicates, the earlier item that owns the idempotency key.
    pub duplicate_of: Option<ItemId>,
    /// For duplicates whose original is already issued, the original's certificate.
    pub certificate_id: Option<CertificateId>,
}

/// An acknowledgement with the current state of each of its items, returned by
/// [`Store::acknowledgement`].
#[derive(Debug, Clone, PartialEq)]
pub struct AcknowledgementStatus {
    /// The acknowledgement's id.
    pub id: AcknowledgementId,
    /// The API client that sent the body.
    pub client_id: String,
    /// Whether the body was a certify or an update request.
    pub kind: RequestKind,
    /// When the body was stored.
    pub received_at: OffsetDateTime,
    /// The items, in body order.
    pub items: Vec<ItemState>,
}

/// The current state of one work item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemState {
    /// Position in the request body.
    pub index: usize,
    /// The work item's id.
    pub item_id: ItemId,
    /// Current status.
    pub status: ItemStatus,
    /// The issued certificate: the item's own, or for a duplicate its original's.
    pub certificate_id: Option<CertificateId>,
    /// Reason for the rejection.
    pub reason: Option<String>,
    /// For duplicates, the earlier item that owns the idempotency key.
    pub duplicate_of: Option<ItemId>,
    /// Number of claims so far, not counting claims given back with [`Store::release`].
    pub attempts: u32,
    /// The error of the last failed attempt, for operators. It may contain internal
    /// details, so it is not meant for API clients.
    pub last_error: Option<String>,
}

#[derive(sqlx::FromRow)]
struct AcknowledgementRow {
    client_id: String,
    kind: String,
    received_at: i64,
}

#[derive(sqlx::FromRow)]
struct ItemStateRow {
    id: i64,
    item_index: i64,
    status: String,
    certificate_id: Option<String>,
    reason: Option<String>,
    duplicate_of: Option<i64>,
    attempts: i64,
    last_error: Option<String>,
}

const INSERT_ACKNOWLEDGEMENT: &str = "
    INSERT INTO acknowledgements (id, client_id, kind, received_at, item_count)
    VALUES ($1, $2, $3, $4, $5)";

const INSERT_QUEUED: &str = "
    INSERT INTO work_items (acknowledgement_id, item_index, kind, shape, request_json,
        pre_enrollment_code, program_id, dose, replaces_certificate_id, status,
        available_at, created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'queued', $10, $10, $10)
    ON CONFLICT (pre_enrollment_code, program_id, dose)
        WHERE kind = 'certify' AND status IN ('queued', 'issued')
        DO NOTHING
    RETURNING id";

const INSERT_DUPLICATE: &str = "
    INSERT INTO work_items (acknowledgement_id, item_index, kind, shape, request_json,
        pre_enrollment_code, program_id, dose, status, duplicate_of,
        available_at, created_at, updated_at)
    VALUES ($1, $2, 'certify', $3, $4, $5, $6, $7, 'duplicate', $8, $9, $9, $9)
    RETURNING id";

const SELECT_KEY_HOLDER: &str = "
    SELECT id, certificate_id FROM work_items
    WHERE kind = 'certify' AND status IN ('queued', 'issued')
        AND pre_enrollment_code = $1 AND program_id = $2 AND dose = $3";

const SELECT_ACKNOWLEDGEMENT: &str = "
    SELECT client_id, kind, received_at FROM acknowledgements WHERE id = $1";

const SELECT_ITEM_STATES: &str = "
    SELECT w.id, w.item_index, w.status,
        COALESCE(w.certificate_id, o.certificate_id) AS certificate_id,
        w.reason, w.duplicate_of, w.attempts, w.last_error
    FROM work_items w LEFT JOIN work_items o ON o.id = w.duplicate_of
    WHERE w.acknowledgement_id = $1
    ORDER BY w.item_index";

/// Values shared by the item inserts of one request body.
#[derive(Debug, Clone)]
pub(crate) struct ItemContext {
    pub(crate) acknowledgement: String,
    pub(crate) kind: RequestKind,
    pub(crate) now: i64,
}

impl Store {
    /// Stores a request body: one acknowledgement and one work item per item, in one
    /// transaction, so either every item is committed or none is.
    ///
    /// A certify item whose (pre-enrollment code, program, dose) matches a queued or
    /// issued certify item, from this body or an earlier one, is stored as
    /// [`ItemStatus::Duplicate`] and never signed. A partial unique index on that key
    /// decides, so concurrent bodies with the same key yield exactly one queued item.
    /// Update items are never duplicates.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidItem`] when an update item lacks `replaces` or a certify item
    /// has one; [`StoreError::Database`] when a constraint rejects an item (such as an
    /// empty pre-enrollment code) or the database fails. Nothing is stored then.
    pub async fn accept(
        &self,
        client_id: &str,
        kind: RequestKind,
        items: &[NewItem],
    ) -> Result<Acknowledgement> {
        self.accept_with_limit(client_id, kind, items, None).await
    }

    /// Stores an update request body as [`Store::accept`] does, after checking in the same
    /// transaction that each item's dose stays within `update_limit` corrections. A dose
    /// may have `update_limit + 1` certificates that are not revoked: the original and its
    /// corrections. Queued update items of the dose count too, earlier items of this body
    /// included. Concurrent update bodies for one dose are
    /// checked one after the other, so together they cannot pass the limit.
    ///
    /// # Errors
    ///
    /// [`StoreError::UpdateLimitReached`] when an item would pass the limit, and the errors
    /// of [`Store::accept`]. Nothing is stored then.
    pub async fn accept_updates(
        &self,
        client_id: &str,
        items: &[NewItem],
        update_limit: u32,
    ) -> Result<Acknowledgement> {
        self.accept_with_limit(client_id, RequestKind::Update, items, Some(update_limit))
            .await
    }

    async fn accept_with_limit(
        &self,
        client_id: &str,
        kind: RequestKind,
        items: &[NewItem],
        update_limit: Option<u32>,
    ) -> Result<Acknowledgement> {
        check_items(kind, items)?;
        let id = AcknowledgementId::new_random();
        let now = self.now_millis();
        let context = ItemContext {
            acknowledgement: id.to_string(),
            kind,
            now,
        };
        let mut accepted = match &self.accept_groups {
            Some(groups) => match groups.submit(client_id, context, items, update_limit).await {
                Submitted::Done(result) => result?,
                Submitted::TaskGone(job) => {
                    let mut tx = self.begin_write().await?;
                    let accepted = job.store_in(&mut tx).await?;
                    tx.commit().await?;
                    accepted
                }
            },
            None => {
                let mut tx = self.begin_write().await?;
                let accepted = accept_in(&mut tx, client_id, &context, items, update_limit).await?;
                tx.commit().await?;
                accepted
            }
        };
        accepted.sort_by_key(|item| item.index);
        let duplicates = accepted
            .iter()
            .filter(|item| item.status == ItemStatus::Duplicate)
            .count();
        tracing::debug!(acknowledgement.id = %id, items = items.len(), duplicates, "request accepted");
        Ok(Acknowledgement {
            id,
            kind,
            received_at: from_millis("acknowledgements.received_at", now)?,
            items: accepted,
        })
    }

    /// Returns an acknowledgement with the current state of each item, or `None` when no
    /// acknowledgement has this id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Database`] when the database fails.
    pub async fn acknowledgement(
        &self,
        id: AcknowledgementId,
    ) -> Result<Option<AcknowledgementStatus>> {
        let key = id.to_string();
        let (row, items): (Option<AcknowledgementRow>, Vec<ItemStateRow>) =
            on_backend!(Pool, &self.pool, |pool| {
                let row = sqlx::query_as(SELECT_ACKNOWLEDGEMENT)
                    .bind(&key)
                    .fetch_optional(pool)
                    .await?;
                let items = sqlx::query_as(SELECT_ITEM_STATES)
                    .bind(&key)
                    .fetch_all(pool)
                    .await?;
                (row, items)
            });
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(AcknowledgementStatus {
            id,
            client_id: row.client_id,
            kind: RequestKind::from_column(&row.kind)?,
            received_at: from_millis("acknowledgements.received_at", row.received_at)?,
            items: items.into_iter().map(item_state).collect::<Result<_>>()?,
        }))
    }
}

pub(crate) fn check_items(kind: RequestKind, items: &[NewItem]) -> Result<()> {
    for (index, item) in items.iter().enumerate() {
        let problem = match (kind, &item.replaces) {
            (RequestKind::Update, None) => "an update item must name the certificate it replaces",
            (RequestKind::Certify, Some(_)) => "a certify item cannot replace a certificate",
            _ => continue,
        };
        return Err(StoreError::InvalidItem { index, problem });
    }
    Ok(())
}

/// Stores a request body in `tx`: its acknowledgement and one work item per item, in
/// the order of [`insertion_order`], checking `update_limit` first when given.
pub(crate) async fn accept_in(
    tx: &mut Tx,
    client_id: &str,
    context: &ItemContext,
    items: &[NewItem],
    update_limit: Option<u32>,
) -> Result<Vec<AcceptedItem>> {
    insert_acknowledgement(tx, context, client_id, items.len()).await?;
    let mut accepted = Vec::with_capacity(items.len());
    for index in insertion_order(items) {
        if let Some(limit) = update_limit {
            check_update_limit(tx, index, &items[index], limit).await?;
        }
        accepted.push(insert_item(tx, context, index, &items[index]).await?);
    }
    Ok(accepted)
}

/// Locks the dose's certificates that are not revoked and counts them with the dose's
/// queued update items.
///
/// Backend-specific: on PostgreSQL `FOR UPDATE` makes a concurrent update of the same
/// dose wait until this transaction ends. Its count runs as a later statement, so it
/// includes the queued items this transaction committed. SQLite runs one write transaction at a time, so the plain
/// count suffices.
const LOCK_DOSE_CERTIFICATES_POSTGRES: &str = "
    SELECT certificate_id FROM certificates
    WHERE pre_enrollment_code = $1 AND dose = $2 AND status <> 'revoked'
    FOR UPDATE";

const COUNT_DOSE_CERTIFICATES: &str = "
    SELECT COUNT(*) FROM certificates
    WHERE pre_enrollment_code = $1 AND dose = $2 AND status <> 'revoked'";

const COUNT_QUEUED_UPDATES: &str = "
    SELECT COUNT(*) FROM work_items
    WHERE pre_enrollment_code = $1 AND dose = $2 AND kind = 'update' AND status = 'queued'";

async fn check_update_limit(tx: &mut Tx, index: usize, item: &NewItem, limit: u32) -> Result<()> {
    let code = item.pre_enrollment_code.as_str();
    let dose = item.dose.get();
    let (certificates, queued): (i64, i64) = match tx {
        Tx::Postgres(tx) => {
            let locked = sqlx::query(LOCK_DOSE_CERTIFICATES_POSTGRES)
                .bind(code)
                .bind(dose)
                .fetch_all(&mut **tx)
                .await?;
            let (queued,): (i64,) = sqlx::query_as(COUNT_QUEUED_UPDATES)
                .bind(code)
                .bind(dose)
                .fetch_one(&mut **tx)
                .await?;
            (i64::try_from(locked.len()).unwrap_or(i64::MAX), queued)
        }
        Tx::Sqlite(tx) => {
            let (certificates,): (i64,) = sqlx::query_as(COUNT_DOSE_CERTIFICATES)
                .bind(code)
                .bind(dose)
                .fetch_one(&mut **tx)
                .await?;
            let (queued,): (i64,) = sqlx::query_as(COUNT_QUEUED_UPDATES)
                .bind(code)
                .bind(dose)
                .fetch_one(&mut **tx)
                .await?;
            (certificates, queued)
        }
    };
    if certificates.saturating_add(queued) > i64::from(limit) {
        return Err(StoreError::UpdateLimitReached { index, limit });
    }
    Ok(())
}

/// Returns item positions sorted by idempotency key, equal keys in body order. Concurrent
/// PostgreSQL transactions then wait on shared keys in the same order, so two bodies with
/// overlapping keys do not deadlock on them.
pub(crate) fn insertion_order(items: &[NewItem]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (&items[a], &items[b]);
        (&a.pre_enrollment_code, &a.program_id)
            .cmp(&(&b.pre_enrollment_code, &b.program_id))
            .then(a.dose.get().total_cmp(&b.dose.get()))
    });
    order
}

pub(crate) async fn insert_acknowledgement(
    tx: &mut Tx,
    context: &ItemContext,
    client_id: &str,
    item_count: usize,
) -> Result<()> {
    let count = i64::try_from(item_count).unwrap_or(i64::MAX);
    on_backend!(Tx, tx, |tx| {
        sqlx::query(INSERT_ACKNOWLEDGEMENT)
            .bind(&context.acknowledgement)
            .bind(client_id)
            .bind(context.kind.as_str())
            .bind(context.now)
            .bind(count)
            .execute(&mut **tx)
            .await?;
    });
    Ok(())
}

pub(crate) async fn insert_item(
    tx: &mut Tx,
    context: &ItemContext,
    index: usize,
    item: &NewItem,
) -> Result<AcceptedItem> {
    for _ in 0..MAX_KEY_RETRIES {
        if let Some(id) = insert_queued(tx, context, index, item).await? {
            return Ok(AcceptedItem {
                index,
                item_id: ItemId::new(id),
                status: ItemStatus::Queued,
                duplicate_of: None,
                certificate_id: None,
            });
        }
        // The insert hit the idempotency key, so a live certify item owns it. That item
        // may have been rejected since, which frees the key, and then the loop inserts
        // again.
        if let Some((original, certificate)) = find_key_holder(tx, item).await? {
            let id = insert_duplicate(tx, context, index, item, original).await?;
            return Ok(AcceptedItem {
                index,
                item_id: ItemId::new(id),
                status: ItemStatus::Duplicate,
                duplicate_of: Some(ItemId::new(original)),
                certificate_id: optional_certificate_id(certificate.as_deref())?,
            });
        }
    }
    Err(StoreError::KeyContention { index })
}

async fn insert_queued(
    tx: &mut Tx,
    context: &ItemContext,
    index: usize,
    item: &NewItem,
) -> Result<Option<i64>> {
    let replaces = item.replaces.as_ref().map(CertificateId::as_str);
    let id: Option<(i64,)> = on_backend!(Tx, tx, |tx| {
        sqlx::query_as(INSERT_QUEUED)
            .bind(&context.acknowledgement)
            .bind(index_column(index))
            .bind(context.kind.as_str())
            .bind(item.shape.certificate_type())
            .bind(item.request_json.expose())
            .bind(&item.pre_enrollment_code)
            .bind(&item.program_id)
            .bind(item.dose.get())
            .bind(replaces)
            .bind(context.now)
            .fetch_optional(&mut **tx)
            .await?
    });
    Ok(id.map(|(id,)| id))
}

async fn find_key_holder(tx: &mut Tx, item: &NewItem) -> Result<Option<(i64, Option<String>)>> {
    Ok(on_backend!(Tx, tx, |tx| {
        sqlx::query_as(SELECT_KEY_HOLDER)
            .bind(&item.pre_enrollment_code)
            .bind(&item.program_id)
            .bind(item.dose.get())
            .fetch_optional(&mut **tx)
            .await?
    }))
}

async fn insert_duplicate(
    tx: &mut Tx,
    context: &ItemContext,
    index: usize,
    item: &NewItem,
    original: i64,
) -> Result<i64> {
    let (id,): (i64,) = on_backend!(Tx, tx, |tx| {
        sqlx::query_as(INSERT_DUPLICATE)
            .bind(&context.acknowledgement)
            .bind(index_column(index))
            .bind(item.shape.certificate_type())
            .bind(item.request_json.expose())
            .bind(&item.pre_enrollment_code)
            .bind(&item.program_id)
            .bind(item.dose.get())
            .bind(original)
            .bind(context.now)
            .fetch_one(&mut **tx)
            .await?
    });
    Ok(id)
}

fn index_column(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

fn item_state(row: ItemStateRow) -> Result<ItemState> {
    Ok(ItemState {
        index: usize::try_from(row.item_index).map_err(|_| StoreError::InvalidColumn {
            column: "work_items.item_index",
            value: row.item_index.to_string(),
        })?,
        item_id: ItemId::new(row.id),
        status: ItemStatus::from_column(&row.status)?,
        certificate_id: optional_certificate_id(row.certificate_id.as_deref())?,
        reason: row.reason,
        duplicate_of: row.duplicate_of.map(ItemId::new),
        attempts: u32::try_from(row.attempts).unwrap_or(u32::MAX),
        last_error: row.last_error,
    })
}
