//! `ServerProcess`: a `vaccred serve` child process on a loopback port, and helpers to
//! register a client, get a token, send certify bodies and read acknowledgements.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::collections::HashSet;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const VACCRED: &str = env!("CARGO_BIN_EXE_vaccred");
const TOKEN_PATH: &str = "/auth/realms/divoc/protocol/openid-connect/token";
/// Time allowed for a server process to bind its port and log the address.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Settings of one server process, passed as `VACCRED_*` variables.
#[derive(Debug, Clone)]
pub struct ServerSettings {
    pub data_dir: PathBuf,
    /// `postgres://…` URL; `None` means the SQLite file in `data_dir`.
    pub database_url: Option<String>,
    pub lease_seconds: u64,
    pub worker_concurrency: usize,
}

impl ServerSettings {
    pub fn sqlite(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_owned(),
            database_url: None,
            lease_seconds: 2,
            worker_concurrency: 2,
        }
    }

    /// Returns a `vaccred` command with these settings and no other `VACCRED_*` variable
    /// from the test's environment.
    fn command(&self) -> Command {
        let mut command = Command::new(VACCRED);
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("VACCRED_") {
                command.env_remove(name);
            }
        }
        command
            .env("VACCRED_DATA_DIR", &self.data_dir)
            .env("VACCRED_LISTEN", "127.0.0.1:0")
            .env("VACCRED_LOG_FORMAT", "json")
            .env("VACCRED_LOG_FILTER", "warn,vaccred_server::server=info")
            .env(
                "VACCRED_WORKER_LEASE_SECONDS",
                self.lease_seconds.to_string(),
            )
            .env(
                "VACCRED_WORKER_CONCURRENCY",
                self.worker_concurrency.to_string(),
            )
            .env("VACCRED_WORKER_POLL_INTERVAL_MS", "50")
            .env("VACCRED_SHUTDOWN_TIMEOUT_SECONDS", "5");
        if let Some(url) = &self.database_url {
            command.env("VACCRED_DATABASE_URL", url);
        }
        command
    }

    /// Registers a facility-staff client with `vaccred clients add` and returns its id
    /// and secret.
    pub fn add_client(&self, name: &str) -> (String, String) {
        let output = self
            .command()
            .args(["clients", "add", name, "--role", "facility-staff"])
            .output()
            .expect("vaccred clients add runs");
        assert!(
            output.status.success(),
            "vaccred clients add failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8(output.stdout).expect("UTF-8 output");
        let secret = stdout
            .lines()
            .find_map(|line| line.strip_prefix("client_secret: "))
            .expect("client_secret line in the output of vaccred clients add");
        (name.to_owned(), secret.to_owned())
    }
}

/// A running `vaccred serve` process. Dropping it kills the process.
pub struct ServerProcess {
    pub base_url: String,
    pub http: reqwest::Client,
    child: Child,
}

impl ServerProcess {
    /// Starts `vaccred serve` and waits until it logs its bound address.
    pub fn start(settings: &ServerSettings) -> Self {
        let mut child = settings
            .command()
            .arg("serve")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("vaccred serve starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (address_sender, address_receiver) = mpsc::channel();
        // The thread keeps reading after the address line, so the child never blocks on a
        // full pipe. Other lines, which the log filter limits to warnings and errors, are
        // copied to the test's output.
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(address) = listen_address(&line) {
                    let _ = address_sender.send(address);
                } else {
                    eprintln!("vaccred serve: {line}");
                }
            }
        });
        let address = match address_receiver.recv_timeout(START_TIMEOUT) {
            Ok(address) => address,
            Err(error) => {
                let _ = child.kill();
                panic!("vaccred serve did not log its listen address: {error}");
            }
        };
        Self {
            base_url: format!("http://{address}"),
            http: reqwest::Client::new(),
            child,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Returns the operating system's process id, which starts the ids of its workers.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Kills the process with SIGKILL and waits for it to exit.
    pub fn kill(mut self) {
        self.child.kill().expect("SIGKILL sent");
        self.child.wait().expect("killed process reaped");
    }

    /// Requests a bearer token for the client.
    pub async fn token(&self, client: &(String, String)) -> String {
        let response = self
            .http
            .post(self.url(TOKEN_PATH))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", client.0.as_str()),
                ("client_secret", client.1.as_str()),
            ])
            .send()
            .await
            .expect("token request");
        assert_eq!(response.status(), 200, "token endpoint status");
        let body: Value = response.json().await.expect("token JSON");
        body["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned()
    }

    /// Returns the `items` of an acknowledgement.
    pub async fn acknowledgement_items(&self, token: &str, id: &str) -> Vec<Value> {
        let response = self
            .http
            .get(self.url(&format!("/divoc/api/v1/acknowledgements/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .expect("acknowledgement request");
        assert_eq!(response.status(), 200, "acknowledgement {id} status");
        let body: Value = response.json().await.expect("acknowledgement JSON");
        body["items"].as_array().expect("items").clone()
    }

    /// Returns the process's `vaccred_certificates_issued_total` counter.
    pub async fn certificates_issued(&self) -> u64 {
        let text = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics request")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .find_map(|line| line.strip_prefix("vaccred_certificates_issued_total "))
            .and_then(|value| value.trim().parse::<f64>().ok())
            .map(|value| value as u64)
            .expect("vaccred_certificates_issued_total in /metrics")
    }

    /// Polls the acknowledgements until every item is out of the queue, and returns
    /// their items. Panics after `timeout`.
    pub async fn wait_all_settled(
        &self,
        token: &str,
        acknowledgement_ids: &[String],
        timeout: Duration,
    ) -> Vec<Value> {
        let deadline = Instant::now() + timeout;
        let mut settled = Vec::new();
        for id in acknowledgement_ids {
            loop {
                let items = self.acknowledgement_items(token, id).await;
                if items.iter().all(|item| item["status"] != "queued") {
                    settled.extend(items);
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "acknowledgement {id} still has queued items after {timeout:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
        settled
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns the address of the "vaccred server started" JSON log line.
fn listen_address(line: &str) -> Option<String> {
    let event: Value = serde_json::from_str(line).ok()?;
    let fields = event.get("fields").unwrap_or(&event);
    if fields["message"] != "vaccred server started" {
        return None;
    }
    fields["listen"].as_str().map(str::to_owned)
}

/// Returns `count` certification requests with pre-enrollment codes `{prefix}-{index}`
/// for `index` in `start..start + count`.
pub fn certify_body(prefix: &str, start: usize, count: usize) -> Value {
    let items: Vec<Value> = (start..start + count)
        .map(|index| certify_request(&format!("{prefix}-{index}")))
        .collect();
    Value::Array(items)
}

/// Returns a valid certifyV3 request with made-up recipient data.
pub fn certify_request(pre_enrollment_code: &str) -> Value {
    json!({
        "preEnrollmentCode": pre_enrollment_code,
        "programId": "C19",
        "recipient": {
            "name": "Test Recipient",
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

/// Checks that every item is issued and that no certificate id appears twice, and returns
/// the certificate ids.
pub fn assert_issued_once(items: &[Value], expected: usize) -> HashSet<String> {
    assert_eq!(items.len(), expected, "acknowledged item count");
    let not_issued: Vec<&Value> = items
        .iter()
        .filter(|item| item["status"] != "issued")
        .collect();
    assert!(
        not_issued.is_empty(),
        "{} items not issued, first: {}",
        not_issued.len(),
        not_issued[0]
    );
    let ids: HashSet<String> = items
        .iter()
        .map(|item| {
            item["certificateId"]
                .as_str()
                .expect("certificateId")
                .to_owned()
        })
        .collect();
    assert_eq!(
        ids.len(),
        expected,
        "distinct certificate ids in acknowledgements"
    );
    ids
}

/// Sends `total` items in bodies of `per_body`, spread over `servers` in turn with up to
/// four bodies in flight, and returns the acknowledgement ids.
pub async fn send_items(
    servers: &[&ServerProcess],
    tokens: &[String],
    prefix: &str,
    total: usize,
    per_body: usize,
) -> Vec<String> {
    let starts: Vec<usize> = (0..total).step_by(per_body).collect();
    let mut ids = Vec::new();
    for chunk in starts.chunks(4) {
        let mut tasks = Vec::new();
        for start in chunk {
            let server_index = (start / per_body) % servers.len();
            let body = certify_body(prefix, *start, per_body.min(total - start));
            let http = servers[server_index].http.clone();
            let url = servers[server_index].url("/divoc/api/v3/certify");
            let token = tokens[server_index].clone();
            tasks.push(tokio::spawn(post_certify(http, url, token, body)));
        }
        for task in tasks {
            ids.push(task.await.expect("certify task"));
        }
    }
    ids
}

/// Sends a certify body and returns its acknowledgement id.
async fn post_certify(http: reqwest::Client, url: String, token: String, body: Value) -> String {
    let response = http
        .post(url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("certify request");
    let status = response.status();
    let body: Value = response.json().await.unwrap_or(Value::Null);
    assert_eq!(status, 200, "certify status, body {body}");
    body["acknowledgementId"]
        .as_str()
        .expect("acknowledgementId")
        .to_owned()
}

/// Returns a `vaccred` command with no `VACCRED_` settings inherited from the caller and
/// `VACCRED_DATA_DIR` set to `data_dir`.
pub fn vaccred_command(data_dir: &Path) -> Command {
    let mut command = Command::new(VACCRED);
    for (name, _) in std::env::vars() {
        if name.starts_with("VACCRED_") {
            command.env_remove(name);
        }
    }
    command.env("VACCRED_DATA_DIR", data_dir);
    command
}
