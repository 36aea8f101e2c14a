//! Two `vaccred serve` processes sharing one PostgreSQL schema: requests go to both, one
//! process is killed with SIGKILL while it signs, and the other issues the rest once the
//! dead process's leases expire. Needs `VACCRED_TEST_POSTGRES_URL`.

mod support;

use std::time::{Duration, Instant};

use sqlx::{PgPool, Row as _};
use support::{ServerProcess, ServerSettings, assert_issued_once, send_items};

const POSTGRES_URL_VAR: &str = "VACCRED_TEST_POSTGRES_URL";
const ITEMS: usize = 1_000;
const ITEMS_PER_BODY: usize = 100;
const LEASE_SECONDS: u64 = 3;

/// A PostgreSQL schema that exists for one test and is dropped at its end.
struct Schema {
    admin_url: String,
    name: String,
}

impl Schema {
    async fn create() -> Self {
        let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VAR} is not set: set it to a PostgreSQL URL such as \
                 postgres://postgres@127.0.0.1:5432/test to run the scale-out test"
            )
        });
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock after 1970")
            .as_nanos();
        let name = format!("vaccred_scale_out_{}_{nanos}", std::process::id());
        let pool = PgPool::connect(&admin_url)
            .await
            .unwrap_or_else(|error| panic!("cannot connect to {POSTGRES_URL_VAR}: {error}"));
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&pool)
            .await
            .expect("create schema");
        pool.close().await;
        Self { admin_url, name }
    }

    /// Returns a URL whose connections use this schema.
    fn url(&self) -> String {
        let separator = if self.admin_url.contains('?') {
            '&'
        } else {
            '?'
        };
        format!(
            "{}{separator}options=-c%20search_path%3D{}",
            self.admin_url, self.name
        )
    }

    /// Returns the queued work items whose lease a worker of process `pid` holds.
    async fn items_leased_by(&self, pid: u32) -> i64 {
        let pool = PgPool::connect(&self.url()).await.expect("PostgreSQL");
        let count = sqlx::query_scalar(
            "SELECT COUNT(*) FROM work_items WHERE status = 'queued' AND lease_owner LIKE $1",
        )
        .bind(format!("{pid}-%"))
        .fetch_one(&pool)
        .await
        .expect("lease query");
        pool.close().await;
        count
    }

    /// Returns the certificate rows, distinct certificate ids and distinct
    /// (pre-enrollment code, program, dose) keys.
    async fn certificate_counts(&self) -> [i64; 3] {
        let pool = PgPool::connect(&self.url()).await.expect("PostgreSQL");
        let row = sqlx::query(
            "SELECT
                (SELECT COUNT(*) FROM certificates),
                (SELECT COUNT(DISTINCT certificate_id) FROM certificates),
                (SELECT COUNT(*) FROM (SELECT DISTINCT pre_enrollment_code, program_id, dose
                                       FROM certificates) AS dose_keys)",
        )
        .fetch_one(&pool)
        .await
        .expect("count query");
        pool.close().await;
        [row.get(0), row.get(1), row.get(2)]
    }

    async fn drop_schema(self) {
        let pool = PgPool::connect(&self.admin_url).await.expect("PostgreSQL");
        sqlx::query(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name))
            .execute(&pool)
            .await
            .expect("drop schema");
        pool.close().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survivor_finishes_killed_process_work() {
    let schema = Schema::create().await;
    let dir = tempfile::tempdir().expect("temporary directory");
    // Both processes share the data directory, so they sign with the same generated keys
    // and accept each other's tokens. The first start generates the keys.
    let settings = ServerSettings {
        data_dir: dir.path().join("data"),
        database_url: Some(schema.url()),
        lease_seconds: LEASE_SECONDS,
        worker_concurrency: 1,
    };
    let client = settings.add_client("scale-out-test");
    let doomed = ServerProcess::start(&settings);
    let survivor = ServerProcess::start(&settings);
    let tokens = [doomed.token(&client).await, survivor.token(&client).await];

    let acknowledgement_ids = send_items(
        &[&doomed, &survivor],
        &tokens,
        "SCALE",
        ITEMS,
        ITEMS_PER_BODY,
    )
    .await;

    // Kill one process once both have issued, while work is left.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let doomed_issued = doomed.certificates_issued().await;
        let survivor_issued = survivor.certificates_issued().await;
        if doomed_issued >= 20 && survivor_issued >= 20 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "both processes did not issue 20 certificates within 120 s \
             ({doomed_issued} and {survivor_issued})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let doomed_pid = doomed.pid();
    doomed.kill();
    let killed_at = Instant::now();
    let orphaned = schema.items_leased_by(doomed_pid).await;
    let [stored_at_kill, ..] = schema.certificate_counts().await;
    assert!(
        usize::try_from(stored_at_kill).expect("count") < ITEMS,
        "all {ITEMS} certificates stored before SIGKILL"
    );

    let items = survivor
        .wait_all_settled(&tokens[1], &acknowledgement_ids, Duration::from_secs(300))
        .await;
    let finished_after = killed_at.elapsed();
    survivor.kill();

    assert_issued_once(&items, ITEMS);
    let [certificates, certificate_ids, dose_keys] = schema.certificate_counts().await;
    let expected = i64::try_from(ITEMS).expect("count");
    assert_eq!(certificates, expected, "certificate rows");
    assert_eq!(certificate_ids, expected, "distinct certificate ids");
    assert_eq!(
        dose_keys, expected,
        "distinct pre-enrollment code and dose keys"
    );
    assert_eq!(
        schema.items_leased_by(doomed_pid).await,
        0,
        "items still leased by the killed process"
    );
    eprintln!(
        "{orphaned} items were leased by the killed process; \
         the survivor finished {finished_after:?} after the kill"
    );
    schema.drop_schema().await;
}
