//! Notifications end to end: a real server sends SMS to a fake gateway and e-mail to an
//! SMTP sink on 127.0.0.1, with retries, restarts and one-time codes.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::{Value, json};
use vaccred_server::auth::Role;
use vaccred_server::config::{Config, EmailConfig, SmsConfig, SmsPreset, SmtpTls};
use vaccred_store::{Channel, NotificationFilter, NotificationStatus};

use crate::fakes::{FakeGateway, GatewayMode, SmtpSink};
use crate::support::{Backend, TestApp, backend_tests, certify_request};

backend_tests!(
    certificate_sends_one_sms_and_email,
    failures_retried_with_backoff,
    failure_recorded_after_max_attempts,
    permanent_error_fails_at_once,
    no_duplicate_after_restart,
    timeout_is_retried,
    otp_overtakes_certificate_backlog,
    invalid_mobile_rejected_at_certify,
);

const WAIT: Duration = Duration::from_secs(20);

/// Points the server at the fake gateway (webhook preset) and the SMTP sink, with
/// one-second back-off.
fn configure(config: &mut Config, gateway: &FakeGateway, sink: Option<&SmtpSink>) {
    let notifications = &mut config.notifications;
    notifications.default_country = Some("JM".to_owned());
    notifications.portal_url = "https://portal.example/certificate".to_owned();
    notifications.backoff_base_seconds = 1;
    notifications.backoff_max_seconds = 2;
    notifications.poll_interval_ms = 50;
    notifications.send_timeout_seconds = 2;
    notifications.lease_seconds = 5;
    notifications.sms = Some(SmsConfig {
        preset: SmsPreset::Webhook,
        url: gateway.url.clone(),
        auth_token: Some(SecretString::from("gateway-token")),
        ..SmsConfig::default()
    });
    notifications.email = sink.map(|sink| EmailConfig {
        host: "127.0.0.1".to_owned(),
        port: Some(sink.port),
        tls: SmtpTls::None,
        username: Some("mailer".to_owned()),
        password: Some(SecretString::from("mail-password")),
        from: "Ministry of Health <noreply@moh.example>".to_owned(),
        ca_file: None,
    });
}

/// Certifies one recipient with a Jamaican mobile number and, optionally, an e-mail
/// address, and waits until the certificate is issued.
async fn certify_one(app: &TestApp, email: bool) -> String {
    let token = app.token(&[Role::FacilityStaff]).await;
    let mut request = certify_request("876-555-0123");
    if email {
        request["recipient"]["contact"]
            .as_array_mut()
            .unwrap()
            .push(json!("mailto:ann@example.org"));
    }
    request["recipient"]["name"] = json!("Ann Marie Brown");
    let (status, body) = app.certify(&token, 1, &json!([request])).await;
    assert_eq!(status, 200, "{body}");
    let acknowledgement = body["acknowledgementId"].as_str().unwrap().to_owned();
    let settled = app.wait_settled(&token, &acknowledgement).await;
    settled["items"][0]["certificateId"]
        .as_str()
        .expect("issued")
        .to_owned()
}

async fn failed_count(app: &TestApp) -> usize {
    let filter = NotificationFilter {
        status: Some(NotificationStatus::Failed),
        limit: 100,
    };
    app.state.store().notifications(filter).await.unwrap().len()
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let start = std::time::Instant::now();
    while !check().await {
        assert!(start.elapsed() < WAIT, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn certificate_sends_one_sms_and_email(backend: Backend) {
    let gateway = FakeGateway::start().await;
    let sink = SmtpSink::start().await;
    let app = TestApp::start_with(backend, |config| configure(config, &gateway, Some(&sink))).await;
    let certificate_id = certify_one(&app, true).await;

    let requests = gateway.wait_for(1, WAIT).await;
    let messages = sink.wait_for(1, WAIT).await;
    let body = &requests[0].body;
    assert_eq!(body["to"], "+18765550123");
    let text = body["message"].as_str().unwrap();
    assert!(
        text.starts_with("Hello Ann, your Covishield dose 1"),
        "{text}"
    );
    assert!(
        text.contains("https://portal.example/certificate"),
        "{text}"
    );
    assert!(
        !text.contains("Brown"),
        "the SMS carries more than the first name"
    );
    let reference = body["reference"].as_str().unwrap();
    assert!(reference.starts_with("vaccred-"), "{reference}");
    let authorization = requests[0].headers["authorization"].to_str().unwrap();
    assert_eq!(authorization, "Bearer gateway-token");

    let email = &messages[0];
    assert_eq!(email.recipients, ["<ann@example.org>"]);
    assert_eq!(email.from, "<noreply@moh.example>");
    assert_eq!(email.auth_user.as_deref(), Some("mailer"));
    assert!(
        email
            .data
            .contains("Subject: Your vaccination certificate is ready")
    );
    assert!(email.data.contains("multipart/alternative"));
    assert!(email.data.contains("text/plain"));
    assert!(email.data.contains("text/html"));
    assert!(email.data.contains(&certificate_id), "{}", email.data);
    // The e-mail is its own outbox message, so its stable id differs from the SMS's.
    let message_id = email
        .data
        .lines()
        .find(|line| line.to_ascii_lowercase().starts_with("message-id:"))
        .expect("a Message-ID header");
    assert!(message_id.contains("<vaccred-"), "{message_id}");
    assert!(message_id.ends_with("@moh.example>"), "{message_id}");

    // Nothing more arrives, and the outbox records both deliveries.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(gateway.requests().len(), 1);
    assert_eq!(sink.messages().len(), 1);
    let stats = app.state.store().notification_stats().await.unwrap();
    assert_eq!(stats.delivered, 2);
    assert_eq!(stats.pending, 0);

    let metrics = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("vaccred_notifications_sent_total{channel=\"sms\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vaccred_notifications_sent_total{channel=\"email\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("vaccred_notifications_pending 0"),
        "{metrics}"
    );
    app.stop().await.unwrap();
}

async fn failures_retried_with_backoff(backend: Backend) {
    let gateway = FakeGateway::start().await;
    gateway.script(&[GatewayMode::Fail(503), GatewayMode::Fail(429)]);
    let app = TestApp::start_with(backend, |config| configure(config, &gateway, None)).await;
    certify_one(&app, false).await;

    let requests = gateway.wait_for(3, WAIT).await;
    let statuses: Vec<Option<u16>> = requests.iter().map(|request| request.answered).collect();
    assert_eq!(statuses, [Some(503), Some(429), Some(200)]);
    let first_wait = requests[1].received - requests[0].received;
    let second_wait = requests[2].received - requests[1].received;
    assert!(first_wait >= Duration::from_millis(900), "{first_wait:?}");
    assert!(
        second_wait >= Duration::from_millis(1900),
        "{second_wait:?}"
    );

    let listed = app
        .state
        .store()
        .notifications(NotificationFilter {
            status: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    let id = listed[0].id;
    wait_until("the delivery is recorded", async || {
        let stats = app.state.store().notification_stats().await.unwrap();
        stats.delivered == 1
    })
    .await;
    let attempts = app.state.store().notification_attempts(id).await.unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "retry", "delivered"]);
    let gateway_statuses: Vec<Option<&str>> = attempts
        .iter()
        .map(|attempt| attempt.gateway_status.as_deref())
        .collect();
    assert_eq!(gateway_statuses, [Some("503"), Some("429"), Some("200")]);
    assert!(
        attempts
            .iter()
            .all(|attempt| attempt.channel == Channel::Sms)
    );
    assert_eq!(
        attempts[0].error.as_deref(),
        Some("the SMS gateway returned HTTP 503")
    );
    app.stop().await.unwrap();
}

async fn failure_recorded_after_max_attempts(backend: Backend) {
    let gateway = FakeGateway::start().await;
    gateway.set_mode(GatewayMode::Fail(500));
    let app = TestApp::start_with(backend, |config| {
        configure(config, &gateway, None);
        config.notifications.max_attempts = 3;
    })
    .await;
    certify_one(&app, false).await;

    wait_until("the message is marked failed", async || {
        failed_count(&app).await == 1
    })
    .await;
    let filter = NotificationFilter {
        status: Some(NotificationStatus::Failed),
        limit: 10,
    };
    let failed = app.state.store().notifications(filter).await.unwrap();
    assert_eq!(failed[0].attempts, 3);
    let attempts = app
        .state
        .store()
        .notification_attempts(failed[0].id)
        .await
        .unwrap();
    let outcomes: Vec<&str> = attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "retry", "failed"]);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        gateway.requests().len(),
        3,
        "a failed message was sent again"
    );
    app.stop().await.unwrap();
}

async fn permanent_error_fails_at_once(backend: Backend) {
    let gateway = FakeGateway::start().await;
    gateway.set_mode(GatewayMode::Fail(400));
    let app = TestApp::start_with(backend, |config| configure(config, &gateway, None)).await;
    certify_one(&app, false).await;
    wait_until("the message is marked failed", async || {
        failed_count(&app).await == 1
    })
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(gateway.requests().len(), 1);
    app.stop().await.unwrap();
}

async fn no_duplicate_after_restart(backend: Backend) {
    let gateway = FakeGateway::start().await;
    let mut app = TestApp::start_with(backend, |config| configure(config, &gateway, None)).await;
    certify_one(&app, false).await;
    gateway.wait_for(1, WAIT).await;
    wait_until("the delivery is recorded", async || {
        let stats = app.state.store().notification_stats().await.unwrap();
        stats.delivered == 1
    })
    .await;

    // A message whose first attempt failed is still pending across the restart.
    gateway.set_mode(GatewayMode::Fail(503));
    let token = app.token(&[Role::FacilityStaff]).await;
    let (status, body) = app
        .certify(&token, 1, &json!([certify_request("8765550124")]))
        .await;
    assert_eq!(status, 200, "{body}");
    gateway.wait_for(2, WAIT).await;
    gateway.set_mode(GatewayMode::Accept);
    app.restart(async |_| {}).await;

    let requests = gateway.wait_for(3, WAIT).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let requests_after = gateway.requests();
    assert_eq!(requests_after.len(), 3, "{requests:?}");
    let recipients: Vec<&Value> = requests_after.iter().map(|r| &r.body["to"]).collect();
    assert_eq!(
        recipients,
        [
            &json!("+18765550123"),
            &json!("+18765550124"),
            &json!("+18765550124")
        ]
    );
    let stats = app.state.store().notification_stats().await.unwrap();
    assert_eq!(stats.delivered, 2);
    app.stop().await.unwrap();
}

async fn timeout_is_retried(backend: Backend) {
    let gateway = FakeGateway::start().await;
    gateway.script(&[
        GatewayMode::Hang,
        GatewayMode::Slow(Duration::from_millis(300)),
    ]);
    let app = TestApp::start_with(backend, |config| configure(config, &gateway, None)).await;
    certify_one(&app, false).await;
    gateway.wait_for(2, WAIT).await;
    wait_until("the delivery is recorded", async || {
        let stats = app.state.store().notification_stats().await.unwrap();
        stats.delivered == 1
    })
    .await;
    let listed = app
        .state
        .store()
        .notifications(NotificationFilter {
            status: None,
            limit: 1,
        })
        .await
        .unwrap();
    let attempts = app
        .state
        .store()
        .notification_attempts(listed[0].id)
        .await
        .unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(
        attempts[0].error.as_deref(),
        Some("the SMS gateway timed out")
    );
    assert_eq!(attempts[0].gateway_status, None);
    app.stop().await.unwrap();
}

async fn otp_overtakes_certificate_backlog(backend: Backend) {
    let gateway = FakeGateway::start().await;
    gateway.set_mode(GatewayMode::Slow(Duration::from_millis(400)));
    let app = TestApp::start_with(backend, |config| {
        configure(config, &gateway, None);
        config.notifications.concurrency = 1;
        config.notifications.batch_size = 1;
    })
    .await;
    let token = app.token(&[Role::FacilityStaff]).await;
    let backlog: Vec<Value> = (0..10)
        .map(|index| certify_request(&format!("876555{:04}", 1000 + index)))
        .collect();
    let (status, body) = app.certify(&token, 1, &Value::Array(backlog)).await;
    assert_eq!(status, 200, "{body}");
    app.wait_settled(&token, body["acknowledgementId"].as_str().unwrap())
        .await;

    let notifier = app.state.notifier().expect("notifications configured");
    notifier
        .enqueue_otp(app.state.store(), Channel::Sms, "876 555 9999", "731904")
        .await
        .expect("one-time code enqueued");

    let requests = gateway.wait_for(11, WAIT).await;
    let position = requests
        .iter()
        .position(|request| request.body["to"] == "+18765559999")
        .expect("the one-time code was sent");
    let text = requests[position].body["message"].as_str().unwrap();
    assert!(text.contains("731904"), "{text}");
    let after = requests.len() - position - 1;
    assert!(
        after >= 3,
        "only {after} certificate messages were sent after the one-time code"
    );
    app.stop().await.unwrap();
}

async fn invalid_mobile_rejected_at_certify(backend: Backend) {
    let gateway = FakeGateway::start().await;
    let app = TestApp::start_with(backend, |config| configure(config, &gateway, None)).await;
    let token = app.token(&[Role::FacilityStaff]).await;
    let body = json!([certify_request("876-555-0123"), certify_request("555-0123")]);
    let (status, response) = app.certify(&token, 1, &body).await;
    assert_eq!(status, 422, "{response}");
    let errors = response["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{response}");
    assert_eq!(errors[0]["path"], "[1].recipient.contact[0]");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("area code"), "{message}");
    assert!(
        !message.contains("555-0123"),
        "the error repeats the number"
    );
    assert_eq!(app.state.store().queue_depth().await.unwrap(), 0);
    app.stop().await.unwrap();
}

/// E-mail over TLS to the SMTP sink, whose certificate a test CA signed. TLS does not
/// depend on the database, so these run on SQLite only.
mod tls {
    use super::*;
    use crate::fakes::{SinkCertificate, SinkTls};

    /// Starts a server whose e-mail goes to `sink` in `mode`, trusting `ca_file` when given,
    /// and giving up on a message after one attempt.
    async fn app_mailing(
        gateway: &FakeGateway,
        sink: &SmtpSink,
        mode: SmtpTls,
        ca_file: Option<&std::path::Path>,
    ) -> TestApp {
        TestApp::start_with(Backend::Sqlite, |config| {
            configure(config, gateway, Some(sink));
            config.notifications.max_attempts = 1;
            let email = config.notifications.email.as_mut().unwrap();
            email.tls = mode;
            email.ca_file = ca_file.map(std::path::Path::to_owned);
        })
        .await
    }

    fn write_ca(certificate: &SinkCertificate) -> tempfile::NamedTempFile {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), &certificate.ca_pem).unwrap();
        file
    }

    async fn delivered_over_tls(
        sink_mode: SinkTls,
        client_mode: SmtpTls,
        ca_file: &std::path::Path,
    ) {
        let gateway = FakeGateway::start().await;
        let sink = SmtpSink::start_with(sink_mode).await;
        let app = app_mailing(&gateway, &sink, client_mode, Some(ca_file)).await;
        let certificate_id = certify_one(&app, true).await;
        let messages = sink.wait_for(1, WAIT).await;
        assert!(messages[0].tls, "the message arrived in plaintext");
        assert_eq!(messages[0].auth_user.as_deref(), Some("mailer"));
        assert!(messages[0].data.contains(&certificate_id));
        app.stop().await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn starttls_with_private_ca() {
        let certificate = SinkCertificate::generate();
        let ca_file = write_ca(&certificate);
        let sink_mode = SinkTls::Starttls(certificate.acceptor.clone());
        delivered_over_tls(sink_mode, SmtpTls::Starttls, ca_file.path()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn implicit_tls_with_private_ca() {
        let certificate = SinkCertificate::generate();
        let ca_file = write_ca(&certificate);
        let sink_mode = SinkTls::Implicit(certificate.acceptor.clone());
        delivered_over_tls(sink_mode, SmtpTls::Implicit, ca_file.path()).await;
    }

    /// Waits until the only e-mail is marked failed and returns its recorded error.
    async fn failed_email_error(app: &TestApp) -> String {
        wait_until("the e-mail is marked failed", async || {
            failed_count(app).await == 1
        })
        .await;
        let filter = NotificationFilter {
            status: Some(NotificationStatus::Failed),
            limit: 10,
        };
        let failed = app.state.store().notifications(filter).await.unwrap();
        assert_eq!(failed[0].channel, Channel::Email);
        let attempts = app
            .state
            .store()
            .notification_attempts(failed[0].id)
            .await
            .unwrap();
        attempts[0].error.clone().expect("the attempt's error")
    }

    /// Neither the password nor the message goes out when the server offers no STARTTLS.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn starttls_required_but_not_offered() {
        let certificate = SinkCertificate::generate();
        let ca_file = write_ca(&certificate);
        let gateway = FakeGateway::start().await;
        let sink = SmtpSink::start_with(SinkTls::None).await;
        let app = app_mailing(&gateway, &sink, SmtpTls::Starttls, Some(ca_file.path())).await;
        certify_one(&app, true).await;
        let error = failed_email_error(&app).await;
        assert!(error.starts_with("SMTP failed"), "{error}");
        let commands = sink.commands();
        assert!(
            commands
                .iter()
                .all(|command| command.starts_with("EHLO") || command == "QUIT"),
            "{commands:?}"
        );
        assert!(sink.messages().is_empty());
        app.stop().await.unwrap();
    }

    /// Without `ca_file`, a certificate from a private CA is not trusted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn untrusted_certificate_refused() {
        let certificate = SinkCertificate::generate();
        let gateway = FakeGateway::start().await;
        let sink = SmtpSink::start_with(SinkTls::Implicit(certificate.acceptor.clone())).await;
        let app = app_mailing(&gateway, &sink, SmtpTls::Implicit, None).await;
        certify_one(&app, true).await;
        let error = failed_email_error(&app).await;
        assert!(error.contains("certificate"), "{error}");
        assert!(sink.commands().is_empty(), "{:?}", sink.commands());
        assert!(sink.messages().is_empty());
        app.stop().await.unwrap();
    }
}

/// The msg91 and Twilio presets, each against the fake gateway responding as that gateway
/// does. The presets do not depend on the database, so these run on SQLite only.
mod presets {
    use super::*;

    /// Certifies one recipient with `sms` as the gateway and returns the request the
    /// gateway received, once the outbox records the delivery.
    async fn send_through(gateway: &FakeGateway, sms: SmsConfig) -> crate::fakes::GatewayRequest {
        let app = TestApp::start_with(Backend::Sqlite, |config| {
            configure(config, gateway, None);
            config.notifications.sms = Some(sms);
        })
        .await;
        certify_one(&app, false).await;
        let requests = gateway.wait_for(1, WAIT).await;
        wait_until("the delivery is recorded", async || {
            let stats = app.state.store().notification_stats().await.unwrap();
            stats.delivered == 1
        })
        .await;
        app.stop().await.unwrap();
        assert_eq!(gateway.requests().len(), 1);
        requests[0].clone()
    }

    /// Decodes an `application/x-www-form-urlencoded` body.
    fn form_fields(form: &str) -> std::collections::HashMap<String, String> {
        let decode = |text: &str| {
            let bytes = text.replace('+', " ").into_bytes();
            let mut out = Vec::new();
            let mut index = 0;
            while index < bytes.len() {
                if bytes[index] == b'%' {
                    let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    index += 3;
                } else {
                    out.push(bytes[index]);
                    index += 1;
                }
            }
            String::from_utf8(out).unwrap()
        };
        form.split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (decode(name), decode(value)))
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn msg91_preset_sends_divoc_shape() {
        let gateway = FakeGateway::start().await;
        gateway.set_mode(GatewayMode::Reply(
            200,
            r#"{"type":"success","message":"3763646c3058313530393233"}"#,
        ));
        let request = send_through(
            &gateway,
            SmsConfig {
                preset: SmsPreset::Msg91,
                url: gateway.url.clone(),
                auth_token: Some(SecretString::from("msg91-key")),
                sender: Some("MOHJAM".to_owned()),
                ..SmsConfig::default()
            },
        )
        .await;
        assert_eq!(request.headers["authkey"], "msg91-key");
        let body = &request.body;
        assert_eq!(body["sender"], "MOHJAM");
        assert_eq!(body["country"], "1");
        assert_eq!(body["sms"][0]["to"], json!(["8765550123"]));
        let text = body["sms"][0]["message"].as_str().unwrap();
        assert!(text.starts_with("Hello Ann"), "{text}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn twilio_preset_posts_form_with_basic_auth() {
        use base64::Engine as _;

        let gateway = FakeGateway::start().await;
        gateway.set_mode(GatewayMode::Reply(201, r#"{"sid":"SM0123456789abcdef"}"#));
        let request = send_through(
            &gateway,
            SmsConfig {
                preset: SmsPreset::Twilio,
                url: gateway.url.clone(),
                username: Some("AC0123".to_owned()),
                auth_token: Some(SecretString::from("twilio-token")),
                sender: Some("+18765550000".to_owned()),
                ..SmsConfig::default()
            },
        )
        .await;
        let credentials = base64::engine::general_purpose::STANDARD.encode("AC0123:twilio-token");
        assert_eq!(
            request.headers["authorization"].to_str().unwrap(),
            format!("Basic {credentials}")
        );
        let content_type = request.headers["content-type"].to_str().unwrap();
        assert!(
            content_type.starts_with("application/x-www-form-urlencoded"),
            "{content_type}"
        );
        let form = request.body.as_str().expect("a form body, not JSON");
        let fields = form_fields(form);
        assert_eq!(fields["To"], "+18765550123");
        assert_eq!(fields["From"], "+18765550000");
        assert!(fields["Body"].starts_with("Hello Ann"), "{form}");
    }
}
