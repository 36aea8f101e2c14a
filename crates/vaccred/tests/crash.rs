//! Crash recovery on SQLite: `vaccred serve` is killed with SIGKILL while it signs, and a
//! new process on the same data directory issues every accepted item exactly once.
//!
//! `VACCRED_TEST_CRASH_ITEMS` sets the number of items (default 10,000, in bodies of 100).

mod support;

use std::time::{Duration, Instant};

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{Row as _, SqlitePool};
use support::{ServerProcess, ServerSettings, assert_issued_once, send_items};

const ITEMS_VAR: &str = "VACCRED_TEST_CRASH_ITEMS";
const DEFAULT_ITEMS: usize = 10_000;
const ITEMS_PER_BODY: usize = 100;

fn item_count() -> usize {
    match std::env::var(ITEMS_VAR) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{ITEMS_VAR} must be a whole number, not {text:?}")),
        Err(_) => DEFAULT_ITEMS,
    }
}

/// Counts in the SQLite file: certificates, distinct certificate ids, distinct
/// (pre-enrollment code, program, dose) keys and work items marked issued.
async fn database_counts(database: &std::path::Path) -> [i64; 4] {
    let options = SqliteConnectOptions::new()
        .filename(database)
        .read_only(true);
    let pool = SqlitePool::connect_with(options)
        .await
        .expect("SQLite file");
    let row = sqlx::query(
        "SELECT
            (SELECT COUNT(*) FROM certificates),
            (SELECT COUNT(DISTINCT certificate_id) FROM certificates),
            (SELECT COUNT(*) FROM (SELECT DISTINCT pre_enrollment_code, program_id, dose
                                   FROM certificates)),
            (SELECT COUNT(*) FROM work_items WHERE status = 'issued')",
    )
    .fetch_one(&pool)
    .await
    .expect("count query");
    pool.close().await;
    [row.get(0), row.get(1), row.get(2), row.get(3)]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_during_signing_issues_each_item_once() {
    let total = item_count();
    let dir = tempfile::tempdir().expect("temporary directory");
    let settings = ServerSettings::sqlite(&dir.path().join("data"));
    let database = settings.data_dir.join("vaccred.db");
    let client = settings.add_client("crash-test");

    let first = ServerProcess::start(&settings);
    let token = first.token(&client).await;
    let acknowledgement_ids = send_items(
        &[&first],
        std::slice::from_ref(&token),
        "CRASH",
        total,
        ITEMS_PER_BODY,
    )
    .await;

    // Kill once a tenth is issued, so the process dies with work leased and in hand.
    let deadline = Instant::now() + Duration::from_secs(120);
    while first.certificates_issued().await < (total as u64 / 10).max(1) {
        assert!(
            Instant::now() < deadline,
            "fewer than a tenth of {total} items issued after 120 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill();

    let [stored_at_kill, ..] = database_counts(&database).await;
    let stored_at_kill = usize::try_from(stored_at_kill).expect("count");
    assert!(stored_at_kill > 0, "no certificate stored before SIGKILL");
    assert!(
        stored_at_kill < total,
        "all {total} certificates stored before SIGKILL: raise {ITEMS_VAR}"
    );

    let restarted_at = Instant::now();
    let second = ServerProcess::start(&settings);
    let token = second.token(&client).await;
    let items = second
        .wait_all_settled(&token, &acknowledgement_ids, Duration::from_secs(300))
        .await;
    let issued_after_restart = second.certificates_issued().await;
    let recovery = restarted_at.elapsed();
    second.kill();
    eprintln!(
        "crash test: {total} items, {stored_at_kill} stored before SIGKILL, \
         {issued_after_restart} issued after the restart in {recovery:.1?}"
    );

    assert_issued_once(&items, total);
    // The counter also counts a certificate whose lease another worker took over before
    // it was stored, so it can exceed the remaining items but never fall short of them.
    assert!(
        usize::try_from(issued_after_restart).expect("count") >= total - stored_at_kill,
        "the restarted process issued {issued_after_restart} of the {} remaining items",
        total - stored_at_kill
    );
    let [certificates, certificate_ids, dose_keys, issued_items] = database_counts(&database).await;
    let expected = i64::try_from(total).expect("count");
    assert_eq!(certificates, expected, "certificate rows");
    assert_eq!(certificate_ids, expected, "distinct certificate ids");
    assert_eq!(
        dose_keys, expected,
        "distinct pre-enrollment code and dose keys"
    );
    assert_eq!(issued_items, expected, "work items marked issued");
}
