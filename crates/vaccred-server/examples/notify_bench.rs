//! Notification delivery benchmark: queues certificate SMS messages, starts the server's
//! notification workers against a fake SMS gateway on 127.0.0.1, and prints one JSON line
//! with the time the backlog took to drain and the messages delivered per second.
//!
//! ```text
//! cargo run --release -p vaccred-server --example notify_bench -- \
//!     [--messages 10000] [--postgres] [--concurrency 8] [--batch-size 32] [--gateway-delay-ms 0]
//! ```
//!
//! SQLite runs in a temporary directory. `--postgres` uses a new schema of the database at
//! `VACCRED_TEST_POSTGRES_URL` and drops it afterwards. Rate limits are off, so the
//! numbers measure the outbox and the workers, not the configured limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use vaccred_core::credential::{CertificateId, DoseNumber, Shape};
use vaccred_core::keys::KeyId;
use vaccred_server::Server;
use vaccred_server::config::{Config, SmsConfig, SmsPreset};
use vaccred_store::{
    Contacts, NewCertificate, NewItem, NotificationPolicy, Personal, RequestKind, Store,
};

/// Certificates queued per request body and per completed batch.
const CHUNK: usize = 500;

struct Options {
    messages: usize,
    postgres: bool,
    concurrency: usize,
    batch_size: u32,
    gateway_delay: Duration,
}

fn parse_options() -> Result<Options, String> {
    let mut options = Options {
        messages: 10_000,
        postgres: false,
        concurrency: 8,
        batch_size: 32,
        gateway_delay: Duration::ZERO,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--messages" => options.messages = number(&value(&arg)?, &arg)?,
            "--concurrency" => options.concurrency = number(&value(&arg)?, &arg)?,
            "--batch-size" => options.batch_size = number(&value(&arg)?, &arg)?,
            "--gateway-delay-ms" => {
                options.gateway_delay = Duration::from_millis(number(&value(&arg)?, &arg)?);
            }
            "--postgres" => options.postgres = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(options)
}

fn number<T: std::str::FromStr>(text: &str, name: &str) -> Result<T, String> {
    text.parse()
        .map_err(|_| format!("{name} expects a whole number, not {text:?}"))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let options = parse_options()?;
    let received = Arc::new(AtomicU64::new(0));
    let gateway_url = start_gateway(Arc::clone(&received), options.gateway_delay).await?;
    let data_dir = tempfile::tempdir()?;
    let (database_url, schema) = database(&options, &data_dir).await?;

    let queue_started = Instant::now();
    queue_certificates(&database_url, options.messages).await?;
    let queue_seconds = queue_started.elapsed().as_secs_f64();

    let mut config = Config {
        listen: "127.0.0.1:0".parse()?,
        data_dir: data_dir.path().join("data"),
        database_url: Some(SecretString::from(database_url.clone())),
        log_filter: "warn".to_owned(),
        ..Config::default()
    };
    let notifications = &mut config.notifications;
    notifications.default_country = Some("JM".to_owned());
    notifications.portal_url = "https://portal.example/certificate".to_owned();
    notifications.concurrency = options.concurrency;
    notifications.batch_size = options.batch_size;
    notifications.poll_interval_ms = 20;
    notifications.rate_limit.global_per_second = 0;
    notifications.rate_limit.per_recipient_per_hour = 0;
    notifications.sms = Some(SmsConfig {
        preset: SmsPreset::Webhook,
        url: gateway_url,
        ..SmsConfig::default()
    });

    let drain_started = Instant::now();
    let server = Server::start(config).await?;
    let store = server.state().store().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    let target = u64::try_from(options.messages)?;
    loop {
        let stats = store.notification_stats().await?;
        if stats.pending == 0 && stats.delivered >= target {
            break;
        }
        if drain_started.elapsed() > Duration::from_secs(600) {
            return Err("the backlog did not drain within 10 minutes".into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drain_seconds = drain_started.elapsed().as_secs_f64();
    let _ = stop.send(());
    running.await??;

    if let Some((admin_url, schema)) = schema {
        drop_schema(&admin_url, &schema).await?;
    }
    let requests = received.load(Ordering::Relaxed);
    println!(
        "{}",
        json!({
            "backend": if options.postgres { "postgres" } else { "sqlite" },
            "messages": options.messages,
            "concurrency": options.concurrency,
            "batch_size": options.batch_size,
            "gateway_delay_ms": options.gateway_delay.as_millis(),
            "queue_seconds": round(queue_seconds),
            "drain_seconds": round(drain_seconds),
            "delivered_per_second": round(options.messages as f64 / drain_seconds),
            "gateway_requests": requests,
        })
    );
    Ok(())
}

fn round(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

/// Starts an HTTP server on 127.0.0.1 that counts requests and accepts each after `delay`.
async fn start_gateway(
    received: Arc<AtomicU64>,
    delay: Duration,
) -> Result<String, std::io::Error> {
    let app = axum::Router::new().route(
        "/send",
        axum::routing::post(move || {
            let received = Arc::clone(&received);
            async move {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                received.fetch_add(1, Ordering::Relaxed);
                axum::Json(json!({ "id": "accepted" }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(format!("http://{address}/send"))
}

/// Returns the database URL and, for PostgreSQL, the admin URL and schema to drop.
async fn database(
    options: &Options,
    data_dir: &tempfile::TempDir,
) -> Result<(String, Option<(String, String)>), Box<dyn std::error::Error>> {
    if !options.postgres {
        let path = data_dir.path().join("bench.db");
        return Ok((path.to_string_lossy().into_owned(), None));
    }
    let admin_url = std::env::var("VACCRED_TEST_POSTGRES_URL")
        .map_err(|_| "--postgres needs VACCRED_TEST_POSTGRES_URL")?;
    let schema = format!("vaccred_notify_bench_{}", std::process::id());
    let pool = sqlx::PgPool::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await?;
    pool.close().await;
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
    Ok((url, Some((admin_url, schema))))
}

async fn drop_schema(admin_url: &str, schema: &str) -> Result<(), sqlx::Error> {
    let pool = sqlx::PgPool::connect(admin_url).await?;
    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await?;
    pool.close().await;
    Ok(())
}

/// Stores `count` certificates, each with one Jamaican mobile number, through the store's
/// issuing path, which enqueues one SMS per certificate.
async fn queue_certificates(url: &str, count: usize) -> Result<(), Box<dyn std::error::Error>> {
    let policy = NotificationPolicy {
        sms: true,
        email: false,
        region: vaccred_core::phone::Region::from_iso_code("JM"),
        language: "en".to_owned(),
        max_attempts: 8,
    };
    let store = Store::open(url).await?.with_notifications(policy);
    let key_id = KeyId::new("did:jm:moh#bench")?;
    let dose = DoseNumber::new(1.0).ok_or("1 is not a valid dose")?;
    let mut queued = 0;
    while queued < count {
        let size = CHUNK.min(count - queued);
        let items: Vec<NewItem> = (queued..queued + size)
            .map(|index| item(index, dose))
            .collect();
        store.accept("bench", RequestKind::Certify, &items).await?;
        let claimed = store
            .claim("bench", u32::try_from(size)?, Duration::from_secs(600))
            .await?;
        let certificates: Vec<NewCertificate> = claimed
            .iter()
            .map(|item| certificate(item.claim.item_id().get(), &key_id))
            .collect::<Result<_, _>>()?;
        let batch: Vec<_> = claimed
            .iter()
            .map(|item| &item.claim)
            .zip(&certificates)
            .collect();
        store.complete_batch(&batch).await?;
        queued += size;
    }
    store.close().await;
    Ok(())
}

fn item(index: usize, dose: DoseNumber) -> NewItem {
    NewItem {
        shape: Shape::V3,
        request_json: Personal::new("{}".to_owned()),
        pre_enrollment_code: format!("BENCH-{index}"),
        program_id: "C19".to_owned(),
        dose,
        replaces: None,
    }
}

fn certificate(item_id: i64, key_id: &KeyId) -> Result<NewCertificate, Box<dyn std::error::Error>> {
    let id = CertificateId::parse(&(100_000_000 + item_id).to_string())?;
    Ok(NewCertificate {
        certificate_id: id,
        credential_json: Personal::new(r#"{"evidence":[{"vaccine":"Covishield"}]}"#.to_owned()),
        key_id: key_id.clone(),
        name: Personal::new("Bench Recipient".to_owned()),
        date_of_birth: None,
        contacts: Contacts::from_uris([format!("tel:876{:07}", 2_000_000 + item_id)]),
        meta: json!({}),
    })
}
