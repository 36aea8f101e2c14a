//! The notification outbox: enqueueing with certificates, leases, attempts, retries,
//! one-time codes and resending.

use std::collections::HashSet;
use std::time::Duration;

use vaccred_core::credential::CertificateId;
use vaccred_core::phone::Region;
use vaccred_store::{
    AttemptRecord, Channel, Completion, Contacts, DoseSelection, LeaseOutcome, NewCertificate,
    NewOtp, NotificationEvent, NotificationFilter, NotificationPolicy, NotificationStatus,
    RequestKind, ResendOutcome, Settlement, Store,
};

use crate::support::{LONG_LEASE, TestDb, certificate, certify_item, update_item};

fn policy() -> NotificationPolicy {
    NotificationPolicy {
        sms: true,
        email: true,
        region: Region::from_iso_code("JM"),
        language: "en".to_owned(),
        max_attempts: 3,
    }
}

fn notifying(db: &TestDb) -> Store {
    db.store.clone().with_notifications(policy())
}

/// Builds a certificate for "Ann Marie Brown" with a Jamaican mobile number written
/// nationally, an invalid one and an e-mail address.
fn contact_certificate(id: &CertificateId) -> NewCertificate {
    let mut certificate = certificate(id);
    certificate.name = vaccred_store::Personal::new("Ann Marie Brown".to_owned());
    certificate.credential_json =
        vaccred_store::Personal::new(r#"{"evidence":[{"vaccine":"Pfizer-BioNTech"}]}"#.to_owned());
    certificate.contacts =
        Contacts::from_uris(["tel:(876) 555-0123", "tel:555", "mailto:ann@example.org"]);
    certificate
}

async fn issue(db: &TestDb, store: &Store, code: &str, dose: f64) -> CertificateId {
    store
        .accept(
            "client-1",
            RequestKind::Certify,
            &[certify_item(code, "P1", dose)],
        )
        .await
        .expect("accept");
    complete_one(db, store).await
}

async fn complete_one(db: &TestDb, store: &Store) -> CertificateId {
    let claimed = db.claim_one(store, "signer").await;
    let id = db.certificate_id();
    let outcome = store
        .complete(&claimed.claim, &contact_certificate(&id))
        .await
        .expect("complete");
    assert!(matches!(outcome, Completion::Issued { .. }), "{outcome:?}");
    id
}

fn all() -> NotificationFilter {
    NotificationFilter {
        status: None,
        limit: 100,
    }
}

fn record(error: Option<&str>) -> AttemptRecord {
    AttemptRecord {
        started_at: None,
        gateway_status: Some("200".to_owned()),
        error: error.map(str::to_owned),
    }
}

pub async fn issue_enqueues_sms_and_email(db: &TestDb) {
    let store = notifying(db);
    let id = issue(db, &store, "N-1", 1.0).await;

    let listed = store.notifications(all()).await.unwrap();
    assert_eq!(listed.len(), 2, "one SMS for the valid number, one e-mail");
    let channels: HashSet<Channel> = listed.iter().map(|message| message.channel).collect();
    assert_eq!(channels, HashSet::from([Channel::Sms, Channel::Email]));
    for message in &listed {
        assert_eq!(message.event, NotificationEvent::CertificateIssued);
        assert_eq!(message.status, NotificationStatus::Pending);
        assert_eq!(message.certificate_id.as_deref(), Some(id.as_str()));
        assert_eq!(message.max_attempts, 3);
    }

    let claimed = store
        .claim_notifications("notifier", 10, LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 2);
    let sms = claimed
        .iter()
        .find(|message| message.channel == Channel::Sms)
        .unwrap();
    assert_eq!(sms.recipient.expose(), "+18765550123");
    assert_eq!(sms.attempt, 1);
    let variables = sms.variables.expose();
    assert_eq!(variables["first_name"], "Ann");
    assert_eq!(variables["vaccine"], "Pfizer-BioNTech");
    assert_eq!(variables["dose"], 1);
    assert_eq!(variables["certificate_id"], id.as_str());
    assert!(!variables.to_string().contains("Brown"));
}

pub async fn no_policy_enqueues_nothing(db: &TestDb) {
    db.issue("N-2", 1.0).await;
    assert_eq!(db.count("notifications").await, 0);
}

pub async fn update_and_revoke_enqueue_events(db: &TestDb) {
    let store = notifying(db);
    let first = issue(db, &store, "N-3", 1.0).await;
    store
        .accept(
            "client-1",
            RequestKind::Update,
            &[update_item("N-3", 1.0, &first)],
        )
        .await
        .unwrap();
    let second = complete_one(db, &store).await;
    store
        .revoke("N-3", &DoseSelection::All, "error")
        .await
        .unwrap();

    let listed = store.notifications(all()).await.unwrap();
    let events: Vec<(NotificationEvent, Option<String>)> = listed
        .iter()
        .filter(|message| message.channel == Channel::Sms)
        .map(|message| (message.event, message.certificate_id.clone()))
        .collect();
    assert_eq!(
        events,
        [
            (
                NotificationEvent::CertificateRevoked,
                Some(second.to_string())
            ),
            (
                NotificationEvent::CertificateUpdated,
                Some(second.to_string())
            ),
            (
                NotificationEvent::CertificateIssued,
                Some(first.to_string())
            ),
        ]
    );
}

pub async fn retry_waits_for_backoff(db: &TestDb) {
    let store = notifying(db);
    issue(db, &store, "N-4", 1.0).await;
    let claimed = store
        .claim_notifications("notifier", 10, LONG_LEASE)
        .await
        .unwrap();
    let settlements: Vec<_> = claimed
        .iter()
        .map(|message| {
            let backoff = Settlement::Retry {
                backoff: Duration::from_secs(30),
            };
            (&message.claim, backoff, record(Some("HTTP 503")))
        })
        .collect();
    let outcomes = store.settle_notifications(&settlements).await.unwrap();
    assert_eq!(outcomes, [LeaseOutcome::Applied, LeaseOutcome::Applied]);

    db.clock.advance(Duration::from_secs(29));
    let early = store
        .claim_notifications("notifier", 10, LONG_LEASE)
        .await
        .unwrap();
    assert!(early.is_empty(), "claimed before the back-off ended");

    db.clock.advance(Duration::from_secs(1));
    let again = store
        .claim_notifications("notifier", 10, LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|message| message.attempt == 2));

    let attempts = store
        .notification_attempts(again[0].claim.id())
        .await
        .unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(attempts[0].attempt, 1);
    assert_eq!(attempts[0].outcome, "retry");
    assert_eq!(attempts[0].gateway_status.as_deref(), Some("200"));
    assert_eq!(attempts[0].error.as_deref(), Some("HTTP 503"));
}

pub async fn delivered_is_never_claimed_again(db: &TestDb) {
    let store = notifying(db);
    issue(db, &store, "N-5", 1.0).await;
    let claimed = store
        .claim_notifications("notifier", 10, Duration::from_secs(10))
        .await
        .unwrap();
    let settlements: Vec<_> = claimed
        .iter()
        .map(|message| {
            let delivered = Settlement::Delivered {
                reference: Some("gw-1".to_owned()),
            };
            (&message.claim, delivered, record(None))
        })
        .collect();
    store.settle_notifications(&settlements).await.unwrap();

    // A restarted process on the same database finds nothing to send.
    let second = db.second_store().await;
    db.clock.advance(Duration::from_secs(3600));
    let after = second
        .claim_notifications("restarted", 10, LONG_LEASE)
        .await
        .unwrap();
    assert!(after.is_empty());
    let stats = second.notification_stats().await.unwrap();
    assert_eq!(stats.delivered, 2);
    assert_eq!(stats.pending, 0);
    assert_eq!(stats.oldest_pending, None);
    second.close().await;
}

pub async fn expired_notification_lease_taken_over(db: &TestDb) {
    let store = notifying(db);
    issue(db, &store, "N-6", 1.0).await;
    let crashed = store
        .claim_notifications("crashed", 10, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(crashed.len(), 2);
    let none = store
        .claim_notifications("other", 10, LONG_LEASE)
        .await
        .unwrap();
    assert!(none.is_empty(), "leased messages were claimed twice");

    db.clock.advance(Duration::from_secs(61));
    let reclaimed = store
        .claim_notifications("other", 10, LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(reclaimed.len(), 2);
    assert!(reclaimed.iter().all(|message| message.attempt == 2));

    let late = [(&crashed[0].claim, Settlement::Failed, record(Some("late")))];
    let outcomes = store.settle_notifications(&late).await.unwrap();
    assert_eq!(outcomes, [LeaseOutcome::LostLease]);
    let attempts = store
        .notification_attempts(crashed[0].claim.id())
        .await
        .unwrap();
    assert!(attempts.is_empty(), "a lost lease recorded an attempt");
}

pub async fn failed_message_can_be_resent(db: &TestDb) {
    let store = notifying(db);
    issue(db, &store, "N-7", 1.0).await;
    let claimed = store
        .claim_notifications("notifier", 1, LONG_LEASE)
        .await
        .unwrap();
    let id = claimed[0].claim.id();
    let failed = [(
        &claimed[0].claim,
        Settlement::Failed,
        record(Some("HTTP 400")),
    )];
    store.settle_notifications(&failed).await.unwrap();

    let filter = NotificationFilter {
        status: Some(NotificationStatus::Failed),
        limit: 10,
    };
    let listed = store.notifications(filter).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].last_error.as_deref(), Some("HTTP 400"));

    let outcome = store.resend_notification(id, 3).await.unwrap();
    assert_eq!(outcome, ResendOutcome::Queued);
    let again = store.resend_notification(id, 3).await.unwrap();
    assert_eq!(again, ResendOutcome::AlreadyPending);
    let claimed = store
        .claim_notifications("notifier", 10, LONG_LEASE)
        .await
        .unwrap();
    let resent = claimed
        .iter()
        .find(|message| message.claim.id() == id)
        .expect("the resent message is claimable");
    assert_eq!(resent.attempt, 2);
    assert_eq!(resent.max_attempts, 4);

    let missing = store
        .resend_notification(vaccred_store::NotificationId::new(999_999), 3)
        .await;
    assert!(missing.is_err());
}

fn otp(valid_for: Duration) -> NewOtp {
    NewOtp {
        channel: Channel::Sms,
        recipient: "+18765550199".to_owned(),
        language: "en".to_owned(),
        code: "482913".to_owned(),
        valid_for,
        max_attempts: 3,
    }
}

pub async fn otp_overtakes_backlog(db: &TestDb) {
    let store = notifying(db);
    for dose in 1..=3 {
        issue(db, &store, "N-8", f64::from(dose)).await;
    }
    let otp_id = store
        .enqueue_otp(&otp(Duration::from_secs(300)))
        .await
        .unwrap();
    let claimed = store
        .claim_notifications("notifier", 1, LONG_LEASE)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].claim.id(), otp_id);
    assert_eq!(claimed[0].event, NotificationEvent::Otp);
    assert_eq!(claimed[0].variables.expose()["code"], "482913");

    let delivered = Settlement::Delivered { reference: None };
    store
        .settle_notifications(&[(&claimed[0].claim, delivered, record(None))])
        .await
        .unwrap();
    let resend = store.resend_notification(otp_id, 3).await.unwrap();
    assert_eq!(resend, ResendOutcome::OneTimeCode);
}

pub async fn expired_otp_is_never_sent(db: &TestDb) {
    let store = notifying(db);
    store
        .enqueue_otp(&otp(Duration::from_secs(60)))
        .await
        .unwrap();
    db.clock.advance(Duration::from_secs(60));
    let claimed = store
        .claim_notifications("notifier", 10, LONG_LEASE)
        .await
        .unwrap();
    assert!(claimed.is_empty());
    let stats = store.notification_stats().await.unwrap();
    assert_eq!(stats.expired, 1);
    assert_eq!(stats.pending, 0);

    let invalid = NewOtp {
        code: String::new(),
        ..otp(Duration::from_secs(60))
    };
    assert!(store.enqueue_otp(&invalid).await.is_err());
}

pub async fn deferral_keeps_attempt_count(db: &TestDb) {
    let store = notifying(db);
    issue(db, &store, "N-9", 1.0).await;
    let claimed = store
        .claim_notifications("notifier", 1, LONG_LEASE)
        .await
        .unwrap();
    let deferred = Settlement::Deferred {
        delay: Duration::from_secs(10),
    };
    store
        .settle_notifications(&[(&claimed[0].claim, deferred, AttemptRecord::default())])
        .await
        .unwrap();
    db.clock.advance(Duration::from_secs(10));
    let again = store
        .claim_notifications("notifier", 10, LONG_LEASE)
        .await
        .unwrap();
    let same = again
        .iter()
        .find(|message| message.claim.id() == claimed[0].claim.id())
        .expect("claimable after the delay");
    assert_eq!(same.attempt, 1);
    assert_eq!(db.count("notification_attempts").await, 0);
}

pub async fn concurrent_claimers_split_messages(db: &TestDb) {
    let store = notifying(db);
    for dose in 1..=10 {
        issue(db, &store, "N-10", f64::from(dose)).await;
    }
    let second = db.second_store().await;
    let (a, b) = tokio::join!(
        store.claim_notifications("a", 15, LONG_LEASE),
        second.claim_notifications("b", 15, LONG_LEASE),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 20);
    let ids: HashSet<_> = a
        .iter()
        .chain(&b)
        .map(|message| message.claim.id())
        .collect();
    assert_eq!(ids.len(), 20, "a message was claimed by both");
    second.close().await;
}
