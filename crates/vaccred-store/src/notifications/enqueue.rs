//! Inserting outbox messages: certificate messages inside the certificate's own
//! transaction, and one-time codes.

use serde_json::{Value, json};
use vaccred_core::phone;

use super::{
    CERTIFICATE_PRIORITY, Channel, NewOtp, NotificationEvent, NotificationId, NotificationPolicy,
    OTP_PRIORITY,
};
use crate::backend::{Store, Tx, on_backend};
use crate::certificates::Contacts;
use crate::error::{Result, StoreError};
use crate::types::duration_millis;

const INSERT: &str = "
    INSERT INTO notifications (event, channel, recipient, certificate_id, language,
        variables_json, priority, status, attempts, max_attempts, available_at, expires_at,
        created_at, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $10, $9, $9)
    RETURNING id";

const SELECT_REVOKED: &str = "
    SELECT name, credential_json, dose FROM certificates WHERE certificate_id = $1";

const SELECT_CONTACTS: &str = "
    SELECT kind, value FROM certificate_contacts WHERE certificate_id = $1 ORDER BY ordinal";

/// One row to insert.
struct Row<'a> {
    event: NotificationEvent,
    channel: Channel,
    recipient: &'a str,
    certificate_id: Option<&'a str>,
    language: &'a str,
    variables: String,
    priority: i64,
    max_attempts: u32,
    expires_at: Option<i64>,
}

/// The certificate facts a message may show. Only the first name is personal data.
pub(crate) struct CertificateFacts<'a> {
    pub(crate) certificate_id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) credential_json: &'a str,
    pub(crate) dose: f64,
}

/// Enqueues one message per mobile number and e-mail address of a certificate, for the
/// channels `policy` enables. Returns how many were enqueued.
pub(crate) async fn enqueue_for_certificate(
    tx: &mut Tx,
    policy: &NotificationPolicy,
    event: NotificationEvent,
    facts: &CertificateFacts<'_>,
    contacts: &Contacts,
    now: i64,
) -> Result<usize> {
    let variables = certificate_variables(facts).to_string();
    let mut recipients: Vec<(Channel, String)> = Vec::new();
    let mut invalid = 0_usize;
    if policy.sms {
        for mobile in &contacts.mobiles {
            let normalized = policy
                .region
                .as_ref()
                .and_then(|region| phone::normalize(mobile, region).ok());
            match normalized {
                Some(number) => recipients.push((Channel::Sms, number.as_str().to_owned())),
                None => invalid += 1,
            }
        }
    }
    if policy.email {
        for email in &contacts.emails {
            recipients.push((Channel::Email, email.clone()));
        }
    }
    if invalid > 0 {
        tracing::warn!(
            certificate.id = facts.certificate_id,
            skipped = invalid,
            "mobile numbers that are not valid E.164 numbers were not notified"
        );
    }
    recipients.sort();
    recipients.dedup();
    for (channel, recipient) in &recipients {
        let row = Row {
            event,
            channel: *channel,
            recipient,
            certificate_id: Some(facts.certificate_id),
            language: &policy.language,
            variables: variables.clone(),
            priority: CERTIFICATE_PRIORITY,
            max_attempts: policy.max_attempts,
            expires_at: None,
        };
        insert(tx, &row, now).await?;
    }
    Ok(recipients.len())
}

/// Enqueues a "revoked" message for each certificate in `certificate_ids`.
pub(crate) async fn enqueue_for_revocations(
    tx: &mut Tx,
    policy: &NotificationPolicy,
    certificate_ids: &[&str],
    now: i64,
) -> Result<usize> {
    let mut enqueued = 0;
    for &certificate_id in certificate_ids {
        let stored: Option<(String, String, f64)> = on_backend!(Tx, &mut *tx, |tx| {
            sqlx::query_as(SELECT_REVOKED)
                .bind(certificate_id)
                .fetch_optional(&mut **tx)
                .await?
        });
        let Some((name, credential_json, dose)) = stored else {
            continue;
        };
        let rows: Vec<(String, String)> = on_backend!(Tx, &mut *tx, |tx| {
            sqlx::query_as(SELECT_CONTACTS)
                .bind(certificate_id)
                .fetch_all(&mut **tx)
                .await?
        });
        let uris = rows.into_iter().map(|(kind, value)| match kind.as_str() {
            "mobile" => format!("tel:{value}"),
            _ => format!("mailto:{value}"),
        });
        let contacts = Contacts::from_uris(uris);
        let facts = CertificateFacts {
            certificate_id,
            name: &name,
            credential_json: &credential_json,
            dose,
        };
        let event = NotificationEvent::CertificateRevoked;
        enqueued += enqueue_for_certificate(tx, policy, event, &facts, &contacts, now).await?;
    }
    Ok(enqueued)
}

impl Store {
    /// Enqueues a one-time code with priority over every certificate message. It expires
    /// `otp.valid_for` from now; an expired code is marked expired and never sent.
    ///
    /// # Errors
    ///
    /// [`StoreError::InvalidNotification`] for an empty recipient or code, a zero
    /// validity or zero attempts; [`StoreError::Database`] when the database fails.
    pub async fn enqueue_otp(&self, otp: &NewOtp) -> Result<NotificationId> {
        let problem = if otp.recipient.trim().is_empty() {
            Some("the recipient is empty")
        } else if otp.code.is_empty() {
            Some("the code is empty")
        } else if otp.valid_for.is_zero() {
            Some("the validity is zero")
        } else if otp.max_attempts == 0 {
            Some("the maximum attempt count is zero")
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(StoreError::InvalidNotification(problem));
        }
        let now = self.now_millis();
        let row = Row {
            event: NotificationEvent::Otp,
            channel: otp.channel,
            recipient: &otp.recipient,
            certificate_id: None,
            language: &otp.language,
            variables: json!({ "code": otp.code }).to_string(),
            priority: OTP_PRIORITY,
            max_attempts: otp.max_attempts,
            expires_at: Some(now.saturating_add(duration_millis(otp.valid_for))),
        };
        let mut tx = self.begin_write().await?;
        let id = insert(&mut tx, &row, now).await?;
        tx.commit().await?;
        tracing::debug!(notification.id = %id, channel = %otp.channel, "one-time code enqueued");
        Ok(id)
    }
}

async fn insert(tx: &mut Tx, row: &Row<'_>, now: i64) -> Result<NotificationId> {
    let id: i64 = on_backend!(Tx, tx, |tx| {
        sqlx::query_scalar(INSERT)
            .bind(row.event.as_str())
            .bind(row.channel.as_str())
            .bind(row.recipient)
            .bind(row.certificate_id)
            .bind(row.language)
            .bind(&row.variables)
            .bind(row.priority)
            .bind(i64::from(row.max_attempts))
            .bind(now)
            .bind(row.expires_at)
            .fetch_one(&mut **tx)
            .await?
    });
    Ok(NotificationId::new(id))
}

/// Builds the template variables of a certificate message: the first word of the name,
/// the vaccine of `evidence[0]`, the dose and the certificate id.
fn certificate_variables(facts: &CertificateFacts<'_>) -> Value {
    let first_name = facts.name.split_whitespace().next().unwrap_or("");
    let vaccine = serde_json::from_str::<Value>(facts.credential_json)
        .ok()
        .and_then(|credential| {
            credential["evidence"][0]["vaccine"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let dose = if facts.dose.fract() == 0.0 && facts.dose < 1e9 {
        json!(facts.dose as i64)
    } else {
        json!(facts.dose)
    };
    json!({
        "first_name": first_name,
        "vaccine": vaccine,
        "dose": dose,
        "certificate_id": facts.certificate_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_hold_first_name_only() {
        let facts = CertificateFacts {
            certificate_id: "123",
            name: "Ann Marie Smith",
            credential_json: r#"{"evidence":[{"vaccine":"COVISHIELD"}]}"#,
            dose: 2.0,
        };
        let variables = certificate_variables(&facts);
        assert_eq!(variables["first_name"], "Ann");
        assert_eq!(variables["vaccine"], "COVISHIELD");
        assert_eq!(variables["dose"], 2);
        assert_eq!(variables["certificate_id"], "123");
        assert!(!variables.to_string().contains("Smith"));
    }
}
