//! Background signing workers: claim queued work items, build and sign their credentials,
//! and store the certificates.
//!
//! Each worker claims a batch under a lease. The store marks an item issued only while
//! the claim still holds it, so every item is issued at most once even when a lease runs
//! out and another worker or process takes the item over. On shutdown a worker finishes
//! the item in hand and releases the rest of its batch; items of a process that died are
//! claimed again when their leases expire.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use time::{OffsetDateTime, PrimitiveDateTime};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;
use vaccred_core::credential::{BuildError, CertificateId, CertificationRequest, build_credential};
use vaccred_core::jsonld::Processor;
use vaccred_core::qr::{MAX_SYMBOL_BYTES, latin1_to_utf8, write_zip};
use vaccred_core::sign::{SignError, sign_credential};
use vaccred_store::{
    ClaimedItem, Completion, Contacts, NewCertificate, Personal, RequestKind, StoreError,
};

use crate::state::AppState;

/// Attempts after which an item that keeps failing for transient reasons is rejected.
const MAX_ATTEMPTS: u32 = 10;
/// New certificate ids tried when a generated id is already taken. With 900 million ids
/// a second collision in a row means the id space is nearly full.
const MAX_ID_COLLISIONS: usize = 5;
/// Back-off after the first transient failure; it doubles with each attempt.
const BASE_BACKOFF: Duration = Duration::from_secs(2);
/// Maximum back-off between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// The running workers.
#[derive(Debug)]
pub(crate) struct WorkerPool {
    tasks: JoinSet<()>,
}

impl WorkerPool {
    /// Starts `worker.concurrency` workers that run until `stop` is cancelled.
    pub(crate) fn spawn(state: AppState, stop: CancellationToken) -> Self {
        let count = state.config().worker.effective_concurrency().get();
        let instance = instance_id();
        let mut tasks = JoinSet::new();
        for index in 0..count {
            let worker = Worker {
                id: format!("{instance}-{index}"),
                state: state.clone(),
                stop: stop.clone(),
                processor: Arc::new(Processor::new(state.config().issuer.context_loader())),
            };
            tasks.spawn(worker.run());
        }
        tracing::info!(workers = count, "signing workers started");
        Self { tasks }
    }

    /// Waits for the workers to finish their current item, until `deadline`. Workers
    /// still running then are aborted; their leased items are claimed again after the
    /// lease expires.
    pub(crate) async fn stop(self, deadline: tokio::time::Instant) {
        join_until(self.tasks, deadline, "signing").await;
    }
}

/// Waits for every task of a worker pool to end, until `deadline`, then aborts those still
/// running and logs how many of the `kind` workers were aborted.
pub(crate) async fn join_until(mut tasks: JoinSet<()>, deadline: tokio::time::Instant, kind: &str) {
    let all_done = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout_at(deadline, all_done).await.is_err() {
        tracing::warn!(
            workers = tasks.len(),
            kind,
            "workers still busy at the shutdown deadline were aborted"
        );
        tasks.abort_all();
    }
}

/// Returns a process-unique prefix for worker ids, so the leases of two processes sharing
/// one database can be distinguished.
pub(crate) fn instance_id() -> String {
    use aws_lc_rs::rand::{SecureRandom as _, SystemRandom};
    let mut bytes = [0u8; 4];
    let _ = SystemRandom::new().fill(&mut bytes);
    let suffix: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{suffix}", std::process::id())
}

struct Worker {
    id: String,
    state: AppState,
    stop: CancellationToken,
    processor: Arc<Processor>,
}

/// Result of processing one item.
enum ItemOutcome {
    Issued(CertificateId),
    /// Another worker took the item over, and that worker counts the certificate.
    LostLease,
    Rejected(String),
    Retry(String),
}

impl Worker {
    async fn run(self) {
        let config = &self.state.config().worker;
        let batch_size = u32::try_from(config.batch_size.get()).unwrap_or(u32::MAX);
        let lease = Duration::from_secs(config.lease_seconds);
        let poll = Duration::from_millis(config.poll_interval_ms);
        while !self.stop.is_cancelled() {
            let claimed = match self.state.store().claim(&self.id, batch_size, lease).await {
                Ok(claimed) => claimed,
                Err(error) => {
                    tracing::warn!(worker.id = %self.id, %error, "cannot claim work items");
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
        tracing::debug!(worker.id = %self.id, "signing worker stopped");
    }

    /// Sleeps for `duration`, or less when new work arrives or the worker must stop.
    async fn pause(&self, duration: Duration) {
        tokio::select! {
            () = tokio::time::sleep(duration) => {}
            () = self.state.work_notify().notified() => {}
            () = self.stop.cancelled() => {}
        }
    }

    /// Signs every claimed item, then stores the signed ones in one transaction. If that
    /// transaction fails (a certificate id collision or a database error), the items are
    /// completed one by one instead.
    async fn process_batch(&self, claimed: Vec<ClaimedItem>) {
        let span = tracing::info_span!("sign_batch", worker.id = %self.id, items = claimed.len());
        let signed = self.sign_batch(claimed).instrument(span.clone()).await;
        if signed.is_empty() {
            return;
        }
        let pairs: Vec<_> = signed
            .iter()
            .map(|(item, certificate)| (&item.claim, certificate))
            .collect();
        match self
            .state
            .store()
            .complete_batch(&pairs)
            .instrument(span.clone())
            .await
        {
            Ok(completions) => {
                for ((_, certificate), completion) in signed.iter().zip(completions) {
                    self.record_completion(&certificate.certificate_id, &completion);
                }
            }
            Err(error) => {
                tracing::debug!(parent: &span, %error, "batch not stored; completing items one by one");
                for (item, _) in signed {
                    self.process_item(item).await;
                }
            }
        }
    }

    /// Builds and signs each item; items that cannot be signed are settled on the way.
    async fn sign_batch(&self, claimed: Vec<ClaimedItem>) -> Vec<(ClaimedItem, NewCertificate)> {
        let mut signed = Vec::with_capacity(claimed.len());
        for item in claimed {
            if self.stop.is_cancelled() {
                self.release(&item).await;
                continue;
            }
            let request: CertificationRequest =
                match serde_json::from_str(item.request_json.expose()) {
                    Ok(request) => request,
                    Err(_) => {
                        let reason = "the stored request cannot be read".to_owned();
                        self.settle(&item, ItemOutcome::Rejected(reason)).await;
                        continue;
                    }
                };
            match self.sign(&request, &item).await {
                Ok(certificate) => signed.push((item, certificate)),
                Err(outcome) => self.settle(&item, outcome).await,
            }
        }
        signed
    }

    fn record_completion(&self, certificate_id: &CertificateId, completion: &Completion) {
        match completion {
            Completion::Issued { .. } => {
                self.state.metrics().certificate_issued();
                tracing::debug!(certificate.id = %certificate_id, "certificate issued");
            }
            _ => tracing::info!("lease lost before completion; another worker owns the item"),
        }
    }

    async fn process_item(&self, item: ClaimedItem) {
        let span = tracing::info_span!(
            "sign",
            worker.id = %self.id,
            item.id = %item.claim.item_id(),
            acknowledgement.id = %item.acknowledgement_id,
        );
        self.process(item).instrument(span).await;
    }

    async fn release(&self, item: &ClaimedItem) {
        if let Err(error) = self.state.store().release(&item.claim).await {
            tracing::warn!(item.id = %item.claim.item_id(), %error, "cannot release a work item");
        }
    }

    async fn process(&self, item: ClaimedItem) {
        let outcome = self.issue(&item).await;
        self.settle(&item, outcome).await;
    }

    /// Records an item's outcome: counts an issued one, or rejects the item or schedules a
    /// retry in the store.
    async fn settle(&self, item: &ClaimedItem, outcome: ItemOutcome) {
        let store = self.state.store();
        let metrics = self.state.metrics();
        let result = match outcome {
            ItemOutcome::Issued(certificate_id) => {
                metrics.certificate_issued();
                tracing::debug!(certificate.id = %certificate_id, "certificate issued");
                return;
            }
            ItemOutcome::LostLease => {
                tracing::info!("lease lost before completion; another worker owns the item");
                return;
            }
            ItemOutcome::Rejected(reason) => {
                metrics.signing_failed();
                tracing::warn!(attempts = item.attempts, "work item rejected");
                store.reject(&item.claim, &reason).await
            }
            ItemOutcome::Retry(error) if item.attempts >= MAX_ATTEMPTS => {
                metrics.signing_failed();
                tracing::error!(
                    attempts = item.attempts,
                    %error,
                    "work item failed too often; rejected"
                );
                let reason = "signing failed repeatedly: the operator has been alerted";
                store.reject(&item.claim, reason).await
            }
            ItemOutcome::Retry(error) => {
                let backoff = backoff(item.attempts);
                tracing::warn!(
                    attempts = item.attempts,
                    backoff_seconds = backoff.as_secs(),
                    %error,
                    "work item failed; retrying later"
                );
                store.retry_later(&item.claim, &error, backoff).await
            }
        };
        if let Err(error) = result {
            tracing::warn!(
                %error,
                "cannot settle a work item; it is retried when its lease expires"
            );
        }
    }

    /// Builds, signs and stores the item's certificate, with a new id after a collision.
    async fn issue(&self, item: &ClaimedItem) -> ItemOutcome {
        let request: CertificationRequest = match serde_json::from_str(item.request_json.expose()) {
            Ok(request) => request,
            Err(_) => return ItemOutcome::Rejected("the stored request cannot be read".to_owned()),
        };
        for _ in 0..MAX_ID_COLLISIONS {
            let certificate = match self.sign(&request, item).await {
                Ok(certificate) => certificate,
                Err(outcome) => return outcome,
            };
            let certificate_id = certificate.certificate_id.clone();
            match self.state.store().complete(&item.claim, &certificate).await {
                Ok(Completion::Issued { .. }) => return ItemOutcome::Issued(certificate_id),
                Ok(Completion::LostLease) => return ItemOutcome::LostLease,
                Err(StoreError::CertificateIdInUse(_)) => {
                    tracing::debug!(
                        certificate.id = %certificate_id,
                        "certificate id taken; drawing another"
                    );
                }
                Err(error) => return ItemOutcome::Retry(error.to_string()),
            }
        }
        ItemOutcome::Retry("every generated certificate id was already in use".to_owned())
    }

    /// Builds and signs the credential on a blocking thread, because canonicalization and
    /// RSA signing take milliseconds of CPU.
    async fn sign(
        &self,
        request: &CertificationRequest,
        item: &ClaimedItem,
    ) -> Result<NewCertificate, ItemOutcome> {
        let certificate_id =
            CertificateId::random().map_err(|error| ItemOutcome::Retry(error.to_string()))?;
        let issued_at = issuance_time();
        let credential = build_credential(
            request,
            &self.state.config().issuer,
            self.state.vaccines(),
            item.shape,
            &certificate_id,
            issued_at,
        )
        .map_err(|error| ItemOutcome::Rejected(build_error_reason(&error)))?;
        let Value::Object(credential) = credential else {
            return Err(ItemOutcome::Rejected(
                "the built credential is not an object".to_owned(),
            ));
        };
        let processor = Arc::clone(&self.processor);
        let key = Arc::clone(self.state.signing_key());
        let credential_json = tokio::task::spawn_blocking(move || {
            let signed = sign_credential(&processor, &key, credential, issued_at)
                .map_err(|error| sign_error_outcome(&error))?;
            let json = serde_json::to_string(&Value::Object(signed))
                .map_err(|error| ItemOutcome::Retry(error.to_string()))?;
            check_fits_qr_code(&json, issued_at)?;
            Ok(json)
        })
        .await
        .map_err(|error| ItemOutcome::Retry(format!("signing task failed: {error}")))??;
        Ok(NewCertificate {
            certificate_id,
            credential_json: Personal::new(credential_json),
            key_id: self.state.signing_key().id().clone(),
            name: Personal::new(request.recipient.name.clone()),
            date_of_birth: request.recipient.dob.map(Personal::new),
            contacts: Contacts::from_uris(&request.recipient.contact),
            meta: record_meta(request, item),
        })
    }
}

/// Rejects a signed credential that the certificateQRCode and certificatePDF routes could
/// not put into a QR code, so no certificate is issued that cannot be delivered. Those
/// routes build the ZIP with the time the store records, which differs from `issued_at`.
/// The ZIP contains that time and date twice, 8 bytes, and each byte of 0x80 or more takes
/// two bytes in the QR code, so the check allows for all 8 growing.
/// Bytes of DOS time and date in a one-entry ZIP: local header and central directory.
const ZIP_TIME_BYTES: usize = 8;

fn check_fits_qr_code(json: &str, issued_at: OffsetDateTime) -> Result<(), ItemOutcome> {
    let modified = PrimitiveDateTime::new(issued_at.date(), issued_at.time());
    let too_large = |size: String| {
        ItemOutcome::Rejected(format!(
            "the signed certificate is too large for a QR code ({size}): shorten the longest \
             fields, such as recipient.name, the addresses or the facility name"
        ))
    };
    let zip = write_zip(json.as_bytes(), modified)
        .map_err(|_| too_large(format!("{} bytes of JSON", json.len())))?;
    let qr_bytes = latin1_to_utf8(&zip).len() + ZIP_TIME_BYTES;
    if qr_bytes > MAX_SYMBOL_BYTES {
        return Err(too_large(format!(
            "up to {qr_bytes} bytes, more than the {MAX_SYMBOL_BYTES} of a level M QR code"
        )));
    }
    Ok(())
}

/// Returns the current time with millisecond precision, as DIVOC's signer writes `issuanceDate`.
fn issuance_time() -> OffsetDateTime {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(u32::from(now.millisecond()) * 1_000_000)
        .unwrap_or(now)
}

/// Builds the registry record's `meta`: the request's own, plus DIVOC's `certificateType`
/// and, for updates, `previousCertificateId`.
fn record_meta(request: &CertificationRequest, item: &ClaimedItem) -> Value {
    let mut meta = request.meta.clone().unwrap_or_default();
    let certificate_type = item.shape.certificate_type();
    meta.insert("certificateType".to_owned(), Value::from(certificate_type));
    if item.kind == RequestKind::Update
        && let Some(previous) = &item.replaces
    {
        meta.insert(
            "previousCertificateId".to_owned(),
            Value::from(previous.as_str()),
        );
    }
    Value::Object(meta)
}

/// Describes which rule the request broke, for the client. The text quotes none of the
/// recipient's data, because the reason is stored and shown in acknowledgement statuses.
fn build_error_reason(error: &BuildError) -> String {
    match error {
        BuildError::NotAbsoluteIri { field, .. } => format!(
            "{field} would not be an absolute IRI in the credential: correct the request or the issuer settings"
        ),
        BuildError::DobAfterIssuance { .. } => {
            "recipient.dob is after the issuance date: correct recipient.dob or send recipient.age"
                .to_owned()
        }
        _ => "the credential cannot be built from this request".to_owned(),
    }
}

fn sign_error_outcome(error: &SignError) -> ItemOutcome {
    match error {
        SignError::Crypto => ItemOutcome::Retry(error.to_string()),
        _ => ItemOutcome::Rejected(
            "the credential cannot be canonicalized for signing: check the issuer's context settings"
                .to_owned(),
        ),
    }
}

fn backoff(attempts: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempts.saturating_sub(1));
    BASE_BACKOFF.saturating_mul(factor).min(MAX_BACKOFF)
}
