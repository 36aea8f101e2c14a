//! Load generator for a running `vaccred serve`: sends certify requests over HTTP for a
//! fixed time, waits until the server has issued every accepted item, and prints one JSON
//! line with the certify latency percentiles and the end-to-end issuance rate.
//!
//! ```text
//! loadgen --url http://127.0.0.1:8080 --client-id ID --client-secret SECRET \
//!         --items-per-request 100 (--concurrency 4 | --rate 500) --seconds 20
//! ```
//!
//! `--concurrency N` keeps N requests in flight (closed loop). `--rate R` starts R requests
//! per second whatever the response times (open loop), with latency measured from each
//! request's scheduled start, so a slow server cannot hide queueing delay. Issued counts
//! come from the server's `vaccred_certificates_issued_total` metric, so the server must
//! have no other load. Used by `scripts/load-bench.sh`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::{Mutex, Semaphore};

const TOKEN_PATH: &str = "/auth/realms/divoc/protocol/openid-connect/token";
/// Maximum requests in flight in open-loop mode; requests beyond it count as errors.
const MAX_IN_FLIGHT: usize = 4_096;
/// Failed requests whose message is printed; the JSON result counts all of them.
const PRINTED_ERRORS: u64 = 5;
/// Interval between two reads of the issued counter.
const METRICS_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Debug)]
struct Options {
    url: String,
    client_id: String,
    client_secret: String,
    items_per_request: usize,
    concurrency: Option<usize>,
    rate: Option<u64>,
    seconds: u64,
    drain_timeout_seconds: u64,
}

fn parse_options() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut options = Options {
        url: String::new(),
        client_id: String::new(),
        client_secret: String::new(),
        items_per_request: 1,
        concurrency: None,
        rate: None,
        seconds: 20,
        drain_timeout_seconds: 300,
    };
    while let Some(name) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| format!("option {name} is missing its value"))?;
        let number = || {
            value
                .parse::<u64>()
                .map_err(|_| format!("option {name} expects a whole number, not {value:?}"))
        };
        match name.as_str() {
            "--url" => options.url = value.trim_end_matches('/').to_owned(),
            "--client-id" => options.client_id = value.clone(),
            "--client-secret" => options.client_secret = value.clone(),
            "--items-per-request" => options.items_per_request = to_usize(number()?)?,
            "--concurrency" => options.concurrency = Some(to_usize(number()?)?),
            "--rate" => options.rate = Some(number()?),
            "--seconds" => options.seconds = number()?,
            "--drain-timeout-seconds" => options.drain_timeout_seconds = number()?,
            _ => return Err(format!("unknown option {name}")),
        }
    }
    if options.url.is_empty() || options.client_id.is_empty() || options.client_secret.is_empty() {
        return Err("--url, --client-id and --client-secret are required".to_owned());
    }
    if options.concurrency.is_some() == options.rate.is_some() {
        return Err("set exactly one of --concurrency and --rate".to_owned());
    }
    if options.items_per_request == 0 || options.concurrency == Some(0) || options.rate == Some(0) {
        return Err("--items-per-request, --concurrency and --rate must be at least 1".to_owned());
    }
    Ok(options)
}

fn to_usize(number: u64) -> Result<usize, String> {
    usize::try_from(number).map_err(|_| format!("{number} is too large"))
}

/// Shared state of one run: the HTTP client, the token and the results so far.
struct Run {
    http: reqwest::Client,
    certify_url: String,
    token: String,
    items_per_request: usize,
    code_prefix: String,
    next_code: AtomicU64,
    latencies: Mutex<Vec<Duration>>,
    items_accepted: AtomicU64,
    errors: AtomicU64,
}

impl Run {
    /// Sends one certify body and records its latency from `scheduled`.
    async fn send(&self, scheduled: Instant) {
        let first = self
            .next_code
            .fetch_add(self.items_per_request as u64, Ordering::Relaxed);
        let items: Vec<Value> = (0..self.items_per_request as u64)
            .map(|offset| certify_request(&format!("{}-{}", self.code_prefix, first + offset)))
            .collect();
        let result = self
            .http
            .post(&self.certify_url)
            .bearer_auth(&self.token)
            .json(&items)
            .send()
            .await;
        let failure = match result {
            Ok(response) if response.status() == 200 => match response.bytes().await {
                Ok(_) => None,
                Err(error) => Some(format!("certify response body cannot be read: {error}")),
            },
            Ok(response) => Some(format!("certify returned status {}", response.status())),
            Err(error) => Some(format!("certify request failed: {error}")),
        };
        let latency = scheduled.elapsed();
        match failure {
            None => {
                self.items_accepted
                    .fetch_add(self.items_per_request as u64, Ordering::Relaxed);
                self.latencies.lock().await.push(latency);
            }
            Some(message) => self.record_error(&message),
        }
    }

    /// Counts a failed request and prints the first few messages only.
    fn record_error(&self, message: &str) {
        let earlier = self.errors.fetch_add(1, Ordering::Relaxed);
        if earlier < PRINTED_ERRORS {
            eprintln!("loadgen: {message}");
        }
    }
}

/// Returns a valid certifyV3 request with made-up recipient data.
fn certify_request(pre_enrollment_code: &str) -> Value {
    json!({
        "preEnrollmentCode": pre_enrollment_code,
        "programId": "C19",
        "recipient": {
            "name": "Load Test Recipient",
            "dob": "1990-04-02",
            "gender": "Female",
            "nationality": "Jamaican",
            "identity": "did:jm:moh:identity:123456",
            "contact": ["tel:8761112222"],
            "address": {
                "addressLine1": "1 King Street",
                "district": "Kingston",
                "state": "Kingston",
                "pincode": "JMAKN01"
            }
        },
        "vaccination": {
            "name": "Covishield",
            "batch": "MB3428BX",
            "manufacturer": "Serum Institute",
            "date": "2021-05-01T10:00:00Z",
            "effectiveStart": "2021-05-01",
            "effectiveUntil": "2022-05-01",
            "dose": 1,
            "totalDoses": 2
        },
        "vaccinator": { "name": "Test Vaccinator" },
        "facility": {
            "name": "Test Health Centre",
            "address": {
                "addressLine1": "2 Queen Street",
                "district": "Kingston",
                "state": "Kingston",
                "pincode": "JMAKN02"
            }
        }
    })
}

async fn fetch_token(http: &reqwest::Client, options: &Options) -> Result<String, String> {
    let response = http
        .post(format!("{}{TOKEN_PATH}", options.url))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", options.client_id.as_str()),
            ("client_secret", options.client_secret.as_str()),
        ])
        .send()
        .await
        .map_err(|error| format!("token request failed: {error}"))?;
    if response.status() != 200 {
        return Err(format!("token endpoint returned {}", response.status()));
    }
    let body: Value = response
        .json()
        .await
        .map_err(|error| format!("invalid token response: {error}"))?;
    body["access_token"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "token response has no access_token".to_owned())
}

/// Reads `vaccred_certificates_issued_total` from the server's metrics.
async fn issued_counter(http: &reqwest::Client, url: &str) -> Result<u64, String> {
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .map_err(|error| format!("metrics request failed: {error}"))?
        .text()
        .await
        .map_err(|error| format!("metrics body cannot be read: {error}"))?;
    text.lines()
        .find_map(|line| line.strip_prefix("vaccred_certificates_issued_total "))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .map(|value| value as u64)
        .ok_or_else(|| "metrics have no vaccred_certificates_issued_total".to_owned())
}

/// Sends requests until `deadline`, keeping `concurrency` in flight.
async fn closed_loop(run: &Arc<Run>, concurrency: usize, deadline: Instant) {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let run = Arc::clone(run);
        tasks.spawn(async move {
            while Instant::now() < deadline {
                run.send(Instant::now()).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}

/// Starts `rate` requests per second until `deadline`, then waits for those in flight.
async fn open_loop(run: &Arc<Run>, rate: u64, deadline: Instant) {
    let in_flight = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for index in 0u32.. {
        let scheduled = start + period * index;
        if scheduled >= deadline {
            break;
        }
        tokio::time::sleep_until(scheduled.into()).await;
        let Ok(permit) = Arc::clone(&in_flight).try_acquire_owned() else {
            run.record_error(&format!(
                "{MAX_IN_FLIGHT} requests in flight; request not sent"
            ));
            continue;
        };
        let run = Arc::clone(run);
        tasks.spawn(async move {
            run.send(scheduled).await;
            drop(permit);
        });
    }
    while tasks.join_next().await.is_some() {}
}

fn percentile_ms(sorted: &[Duration], fraction: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64) * fraction).ceil() as usize;
    let index = rank.clamp(1, sorted.len()) - 1;
    sorted[index].as_secs_f64() * 1000.0
}

async fn measure(options: Options) -> Result<Value, String> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(MAX_IN_FLIGHT)
        .build()
        .map_err(|error| format!("cannot build the HTTP client: {error}"))?;
    let token = fetch_token(&http, &options).await?;
    let issued_before = issued_counter(&http, &options.url).await?;
    let run_id = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis())
        .unwrap_or_default();
    let run = Arc::new(Run {
        http: http.clone(),
        certify_url: format!("{}/divoc/api/v3/certify", options.url),
        token,
        items_per_request: options.items_per_request,
        code_prefix: format!("LOAD-{run_id}"),
        next_code: AtomicU64::new(0),
        latencies: Mutex::new(Vec::new()),
        items_accepted: AtomicU64::new(0),
        errors: AtomicU64::new(0),
    });

    let start = Instant::now();
    let deadline = start + Duration::from_secs(options.seconds);
    match (options.concurrency, options.rate) {
        (Some(concurrency), _) => closed_loop(&run, concurrency, deadline).await,
        (None, Some(rate)) => open_loop(&run, rate, deadline).await,
        (None, None) => unreachable!("parse_options requires one mode"),
    }
    let send_seconds = start.elapsed().as_secs_f64();
    let issued_while_sending = issued_counter(&http, &options.url).await? - issued_before;

    let accepted = run.items_accepted.load(Ordering::Relaxed);
    let drain_deadline = Instant::now() + Duration::from_secs(options.drain_timeout_seconds);
    let mut issued = issued_while_sending;
    while issued < accepted && Instant::now() < drain_deadline {
        tokio::time::sleep(METRICS_INTERVAL).await;
        issued = issued_counter(&http, &options.url).await? - issued_before;
    }
    let total_seconds = start.elapsed().as_secs_f64();

    let mut latencies = run.latencies.lock().await.clone();
    latencies.sort_unstable();
    Ok(json!({
        "mode": if options.rate.is_some() { "open" } else { "closed" },
        "items_per_request": options.items_per_request,
        "concurrency": options.concurrency,
        "rate": options.rate,
        "requests": latencies.len(),
        "errors": run.errors.load(Ordering::Relaxed),
        "items_accepted": accepted,
        "send_seconds": round(send_seconds),
        "requests_per_second": round(latencies.len() as f64 / send_seconds),
        "accepted_items_per_second": round(accepted as f64 / send_seconds),
        "issued_while_sending_per_second": round(issued_while_sending as f64 / send_seconds),
        "items_issued": issued,
        "issued_items_per_second": round(issued as f64 / total_seconds),
        "seconds_until_all_issued": round(total_seconds),
        "certify_p50_ms": round(percentile_ms(&latencies, 0.50)),
        "certify_p99_ms": round(percentile_ms(&latencies, 0.99)),
        "certify_max_ms": round(percentile_ms(&latencies, 1.0)),
    }))
}

fn round(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}

fn main() -> std::process::ExitCode {
    let options = match parse_options() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("loadgen: {message}");
            return std::process::ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(measure(options)) {
        Ok(result) => {
            println!("{result}");
            std::process::ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("loadgen: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
