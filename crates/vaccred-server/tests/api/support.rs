//! `TestApp`: a real server on a loopback port with its own database, and helpers to
//! call it.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use argon2::password_hash::PasswordHasher as _;
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use tempfile::TempDir;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use vaccred_server::Server;
use vaccred_server::auth::Role;
use vaccred_server::auth::clients::register_client;
use vaccred_server::config::Config;
use vaccred_server::state::AppState;
use vaccred_store::{NewApiClient, SecretHash};

/// Variable naming the PostgreSQL server for the PostgreSQL runs of the tests.
const POSTGRES_URL_VAR: &str = "VACCRED_TEST_POSTGRES_URL";

/// Database backend of a test run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each listed test function once per backend, as `sqlite::NAME` and
/// `postgres::NAME`.
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use backend_tests;

/// A running server and an HTTP client for it.
pub struct TestApp {
    pub base_url: String,
    pub http: reqwest::Client,
    pub state: AppState,
    pub data_dir: PathBuf,
    config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<std::io::Result<()>>>,
    postgres_schema: Option<(String, String)>,
    _dir: TempDir,
}

/// Settings every test server uses: a loopback port chosen by the system, fast polling
/// and a short shutdown deadline.
pub fn test_config(dir: &TempDir) -> Config {
    let mut config = Config {
        listen: "127.0.0.1:0".parse().expect("loopback address"),
        data_dir: dir.path().join("data"),
        shutdown_timeout_seconds: 5,
        ..Config::default()
    };
    config.worker.poll_interval_ms = 50;
    config.worker.concurrency = std::num::NonZeroUsize::new(2);
    config
}

impl TestApp {
    pub async fn start(backend: Backend) -> Self {
        Self::start_with(backend, |_| {}).await
    }

    pub async fn start_with(backend: Backend, customize: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut config = test_config(&dir);
        let postgres_schema = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => {
                let (admin_url, schema, url) = fresh_postgres_schema().await;
                config.database_url = Some(SecretString::from(url));
                Some((admin_url, schema))
            }
        };
        customize(&mut config);
        let running = Running::start(config.clone()).await;
        Self {
            base_url: running.base_url,
            http: reqwest::Client::new(),
            state: running.state,
            data_dir: config.data_dir.clone(),
            config,
            shutdown: Some(running.shutdown),
            server: Some(running.handle),
            postgres_schema,
            _dir: dir,
        }
    }

    /// Stops the server and starts a new one on the same database and data directory,
    /// with `between` run while no server is running.
    pub async fn restart<F: Future<Output = ()>>(&mut self, between: impl FnOnce(Config) -> F) {
        self.shutdown_server()
            .await
            .expect("server stopped cleanly");
        between(self.config.clone()).await;
        let running = Running::start(self.config.clone()).await;
        self.base_url = running.base_url;
        self.state = running.state;
        self.shutdown = Some(running.shutdown);
        self.server = Some(running.handle);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Registers a client with these roles and returns its id and secret.
    ///
    /// The secret is hashed at the lowest Argon2id cost, which the server verifies with
    /// the cost written in the hash, because the default cost takes about a second in an
    /// unoptimised build. `register_client` itself is tested in `auth`.
    pub async fn client(&self, roles: &[Role]) -> (String, String) {
        let id = format!("client-{}", unique_suffix());
        let secret = format!("secret-{}", unique_suffix());
        let params = Params::new(Params::MIN_M_COST, 1, 1, None).expect("Argon2 parameters");
        let hash = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(secret.as_bytes())
            .expect("hash")
            .to_string();
        let client = NewApiClient {
            client_id: id.clone(),
            name: id.clone(),
            secret_hash: SecretHash::new(hash).expect("PHC string"),
            roles: roles.iter().map(|role| role.as_str().to_owned()).collect(),
        };
        self.state
            .store()
            .add_api_client(&client)
            .await
            .expect("client registered");
        (id, secret)
    }

    /// Registers a client through the server's own registration, at the default cost.
    pub async fn registered_client(&self, roles: &[Role]) -> (String, String) {
        let id = format!("client-{}", unique_suffix());
        let registered = register_client(self.state.store(), &id, roles)
            .await
            .expect("client registered");
        (id, registered.secret.expose_secret().to_owned())
    }

    /// Registers a client with these roles and returns a bearer token for it.
    pub async fn token(&self, roles: &[Role]) -> String {
        let (id, secret) = self.client(roles).await;
        let response = self
            .http
            .post(self.url(TOKEN_PATH))
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
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

    /// Sends a certify body and returns the status and JSON body.
    pub async fn certify(&self, token: &str, version: u8, body: &Value) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&format!("/divoc/api/v{version}/certify")))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("certify request");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// Polls an acknowledgement until no item is queued, for at most 20 seconds.
    pub async fn wait_settled(&self, token: &str, acknowledgement_id: &str) -> Value {
        let path = format!("/divoc/api/v1/acknowledgements/{acknowledgement_id}");
        for _ in 0..400 {
            let response = self
                .http
                .get(self.url(&path))
                .bearer_auth(token)
                .send()
                .await
                .expect("acknowledgement request");
            assert_eq!(response.status(), 200, "acknowledgement status");
            let body: Value = response.json().await.expect("acknowledgement JSON");
            let items = body["items"].as_array().expect("items");
            if items.iter().all(|item| item["status"] != "queued") {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("acknowledgement {acknowledgement_id} still has queued items after 20 s");
    }

    /// Stops the server as a shutdown signal would and returns what `run` returned.
    pub async fn stop(mut self) -> std::io::Result<()> {
        let result = self.shutdown_server().await;
        self.drop_schema().await;
        result
    }

    async fn shutdown_server(&mut self) -> std::io::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.server.take() {
            Some(handle) => handle.await.expect("server task"),
            None => Ok(()),
        }
    }

    async fn drop_schema(&mut self) {
        if let Some((admin_url, schema)) = self.postgres_schema.take() {
            let pool = sqlx::PgPool::connect(&admin_url).await.expect("PostgreSQL");
            let statement = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
            sqlx::query(&statement)
                .execute(&pool)
                .await
                .expect("drop schema");
            pool.close().await;
        }
    }
}

/// A server task and the means to stop it.
struct Running {
    base_url: String,
    state: AppState,
    shutdown: oneshot::Sender<()>,
    handle: JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(config: Config) -> Self {
        let server = Server::start(config).await.expect("server starts");
        let address = server.local_addr().expect("bound address");
        let state = server.state().clone();
        let (shutdown, signal) = oneshot::channel::<()>();
        let handle = tokio::spawn(server.run(async move {
            let _ = signal.await;
        }));
        Self {
            base_url: format!("http://{address}"),
            state,
            shutdown,
            handle,
        }
    }
}

pub const TOKEN_PATH: &str = "/auth/realms/divoc/protocol/openid-connect/token";

/// Creates an empty schema and returns the admin URL, the schema name and a URL whose
/// connections use that schema.
async fn fresh_postgres_schema() -> (String, String, String) {
    let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
        panic!(
            "{POSTGRES_URL_VAR} is not set: set it to a PostgreSQL URL such as \
             postgres://postgres@127.0.0.1:5432/test to run the PostgreSQL tests"
        )
    });
    let schema = format!("vaccred_server_test_{}", unique_suffix());
    let pool = sqlx::PgPool::connect(&admin_url)
        .await
        .unwrap_or_else(|error| panic!("cannot connect to {POSTGRES_URL_VAR}: {error}"));
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");
    (admin_url, schema, url)
}

/// Returns a suffix unique within the test process and across runs.
pub fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    format!("{}_{nanos}_{count}", std::process::id())
}

/// Returns a valid certification request with a fresh pre-enrollment code and this
/// mobile number.
pub fn certify_request(mobile: &str) -> Value {
    json!({
        "preEnrollmentCode": format!("PEC-{}", unique_suffix()),
        "programId": "C19",
        "recipient": {
            "name": "Test Recipient",
            "dob": "1990-04-02",
            "gender": "Female",
            "nationality": "Jamaican",
            "identity": "did:jm:moh:identity:123456",
            "contact": [format!("tel:{mobile}")],
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
