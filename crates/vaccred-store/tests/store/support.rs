//! Test databases and builders shared by the cases.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::SqlitePool;
use sqlx::{Connection, Executor, PgConnection};
use tempfile::TempDir;
use time::OffsetDateTime;
use time::macros::datetime;
use vaccred_core::credential::{CertificateId, DoseNumber, Shape};
use vaccred_core::keys::KeyId;
use vaccred_store::{
    ClaimedItem, Completion, Contacts, ManualClock, NewCertificate, NewItem, Personal, RequestKind,
    Store, StoreOptions,
};

/// Environment variable with the PostgreSQL URL for the PostgreSQL variants.
const POSTGRES_URL_VARIABLE: &str = "VACCRED_TEST_POSTGRES_URL";

/// Start of every test clock.
pub const START: OffsetDateTime = datetime!(2024-03-01 08:00:00 UTC);

/// Lease used by tests that do not let leases expire.
pub const LONG_LEASE: Duration = Duration::from_secs(600);

/// A fresh database for one test, with a store on it and the clock it uses.
pub struct TestDb {
    pub store: Store,
    pub clock: ManualClock,
    raw: Raw,
    next_certificate: AtomicU32,
    // Deleted when the test ends, taking the SQLite file with it.
    _directory: Option<TempDir>,
}

/// A pool on the test database for checks that the store's API does not offer.
enum Raw {
    Sqlite {
        pool: SqlitePool,
        path: String,
    },
    Postgres {
        pool: PgPool,
        url: String,
        schema: String,
    },
}

impl TestDb {
    /// Creates a SQLite file in a temporary directory and opens a store on it.
    pub async fn sqlite() -> TestDb {
        let directory = tempfile::tempdir().expect("create a temporary directory");
        let path = directory.path().join("store.db");
        let path = path.to_str().expect("temporary path is UTF-8").to_owned();
        let clock = ManualClock::new(START);
        let options = StoreOptions {
            clock: Arc::new(clock.clone()),
            ..StoreOptions::default()
        };
        let store = Store::open_with(&path, options)
            .await
            .expect("open a SQLite store");
        let raw = SqlitePool::connect(&format!("sqlite://{path}"))
            .await
            .expect("open a second SQLite pool");
        TestDb {
            store,
            clock,
            raw: Raw::Sqlite { pool: raw, path },
            next_certificate: AtomicU32::new(100_000_000),
            _directory: Some(directory),
        }
    }

    /// Creates a uniquely named schema in the database at `VACCRED_TEST_POSTGRES_URL`
    /// and opens a store whose connections use it as their `search_path`.
    pub async fn postgres() -> TestDb {
        let url = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VARIABLE} is not set: set it to a PostgreSQL URL such as \
                 postgres://postgres@127.0.0.1:5432/test to run the PostgreSQL tests"
            )
        });
        let schema = format!("vaccred_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&url)
            .await
            .expect("connect to the test PostgreSQL server");
        admin
            .execute(format!("CREATE SCHEMA {schema}").as_str())
            .await
            .expect("create the test schema");
        admin.close().await.expect("close the setup connection");
        let clock = ManualClock::new(START);
        let pool = postgres_pool(&url, &schema).await;
        let store = Store::from_postgres_pool(pool.clone(), Arc::new(clock.clone()))
            .await
            .expect("migrate the test schema");
        TestDb {
            store,
            clock,
            raw: Raw::Postgres { pool, url, schema },
            next_certificate: AtomicU32::new(100_000_000),
            _directory: None,
        }
    }

    /// Opens a second store on the same database with its own pool, as another service
    /// process would. It shares this database's clock.
    pub async fn second_store(&self) -> Store {
        let clock = Arc::new(self.clock.clone());
        match &self.raw {
            Raw::Sqlite { path, .. } => {
                let options = StoreOptions {
                    clock,
                    ..StoreOptions::default()
                };
                Store::open_with(path, options)
                    .await
                    .expect("open a second store")
            }
            Raw::Postgres { url, schema, .. } => {
                let pool = postgres_pool(url, schema).await;
                Store::from_postgres_pool(pool, clock)
                    .await
                    .expect("open a second store")
            }
        }
    }

    /// Returns the number of rows in `table`.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        let (count,): (i64,) = match &self.raw {
            Raw::Sqlite { pool, .. } => sqlx::query_as(&sql).fetch_one(pool).await,
            Raw::Postgres { pool, .. } => sqlx::query_as(&sql).fetch_one(pool).await,
        }
        .expect("count rows");
        count
    }

    /// Returns a new certificate id, unique within the test.
    pub fn certificate_id(&self) -> CertificateId {
        let number = self.next_certificate.fetch_add(1, Ordering::Relaxed);
        CertificateId::parse(&number.to_string()).expect("a valid certificate id")
    }

    /// Accepts one certify item, claims it and completes it. Returns the certificate id.
    pub async fn issue(&self, code: &str, dose: f64) -> CertificateId {
        let items = [certify_item(code, "P1", dose)];
        self.store
            .accept("client-1", RequestKind::Certify, &items)
            .await
            .expect("accept");
        self.claim_and_complete().await
    }

    /// Accepts an update of `replaced`, claims it and completes it. Returns the new id.
    pub async fn update(&self, code: &str, dose: f64, replaced: &CertificateId) -> CertificateId {
        let items = [update_item(code, dose, replaced)];
        self.store
            .accept("client-1", RequestKind::Update, &items)
            .await
            .expect("accept update");
        self.claim_and_complete().await
    }

    /// Claims the single claimable item and completes it with a new certificate.
    pub async fn claim_and_complete(&self) -> CertificateId {
        let claimed = self.claim_one(&self.store, "worker-1").await;
        let id = self.certificate_id();
        let outcome = self
            .store
            .complete(&claimed.claim, &certificate(&id))
            .await
            .expect("complete");
        assert!(matches!(outcome, Completion::Issued { .. }), "{outcome:?}");
        id
    }

    /// Claims exactly one item through `store`.
    pub async fn claim_one(&self, store: &Store, worker: &str) -> ClaimedItem {
        let mut claimed = store.claim(worker, 1, LONG_LEASE).await.expect("claim");
        assert_eq!(claimed.len(), 1, "expected one claimable item");
        claimed.remove(0)
    }

    /// Closes the pools. The PostgreSQL schema is dropped when the value is dropped.
    pub async fn close(&self) {
        self.store.close().await;
        match &self.raw {
            Raw::Sqlite { pool, .. } => pool.close().await,
            Raw::Postgres { pool, .. } => pool.close().await,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Raw::Postgres { url, schema, .. } = &self.raw else {
            return;
        };
        let (url, name) = (url.clone(), schema.clone());
        // Drop runs inside the test's runtime, which cannot block on a future, so the
        // schema is dropped from a thread with its own runtime. lock_timeout keeps a
        // connection left in a transaction by a failed test from blocking this forever.
        let result = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build a cleanup runtime");
            runtime.block_on(async move {
                let mut connection = PgConnection::connect(&url).await?;
                connection.execute("SET lock_timeout = '5s'").await?;
                let drop = format!("DROP SCHEMA {name} CASCADE");
                connection.execute(drop.as_str()).await.map(|_| ())
            })
        })
        .join();
        if !matches!(result, Ok(Ok(()))) {
            eprintln!("failed to drop test schema {schema}: {result:?}");
        }
    }
}

async fn postgres_pool(url: &str, schema: &str) -> PgPool {
    let options: PgConnectOptions = url.parse().expect("a valid PostgreSQL URL");
    let search_path = format!("SET search_path TO {schema}");
    PgPoolOptions::new()
        .max_connections(10)
        .after_connect(move |connection, _| {
            let search_path = search_path.clone();
            Box::pin(async move {
                connection.execute(search_path.as_str()).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
        .expect("connect to the test PostgreSQL server")
}

/// Builds a certify item with a small request body.
pub fn certify_item(code: &str, program: &str, dose: f64) -> NewItem {
    NewItem {
        shape: Shape::V3,
        request_json: Personal::new(format!(
            r#"{{"preEnrollmentCode":"{code}","programId":"{program}","vaccination":{{"dose":{dose}}}}}"#
        )),
        pre_enrollment_code: code.to_owned(),
        program_id: program.to_owned(),
        dose: DoseNumber::new(dose).expect("a valid dose"),
        replaces: None,
    }
}

/// Builds an update item that replaces `replaced`.
pub fn update_item(code: &str, dose: f64, replaced: &CertificateId) -> NewItem {
    NewItem {
        replaces: Some(replaced.clone()),
        ..certify_item(code, "P1", dose)
    }
}

/// Builds a signed certificate with contacts and a date of birth.
pub fn certificate(id: &CertificateId) -> NewCertificate {
    NewCertificate {
        certificate_id: id.clone(),
        credential_json: Personal::new(format!(
            "{{\"evidence\": [{{\"certificateId\": \"{id}\"}}],\n  \"name\": \"Zoë\"}}"
        )),
        key_id: KeyId::new("did:example:moh#key-1").expect("a valid key id"),
        name: Personal::new("Test Recipient".to_owned()),
        date_of_birth: Some(Personal::new(time::macros::date!(1990 - 05 - 17))),
        contacts: Contacts::from_uris(["tel:5550100", "mailto:recipient@example.org"]),
        meta: serde_json::json!({"certificateType": "certifyV3"}),
    }
}
