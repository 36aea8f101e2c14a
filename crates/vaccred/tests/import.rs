//! `vaccred import`: a CSV file stored offline in the database of `vaccred serve`, on
//! SQLite and on PostgreSQL (`VACCRED_TEST_POSTGRES_URL`).

use std::process::{Command, Output};

use tempfile::TempDir;
use vaccred_store::{Store, UploadStatus};

const HEADER: &str = "preEnrollmentCode,recipientName,recipientMobileNumber,recipientDOB,recipientAge,recipientGender,recipientNationality,recipientIdentity,recipientAddressLine1,recipientAddressLine2,recipientDistrict,recipientState,recipientPincode,vaccinationBatch,vaccinationDate,vaccinationDose,vaccinationTotalDoses,vaccinationEffectiveStart,vaccinationEffectiveEnd,vaccinationManufacturer,vaccinationName,vaccinatorName,facilityName,facilityAddressLine1,facilityAddressLine2,facilityDistrict,facilityState,facilityPincode";

fn row(code: &str, date: &str) -> String {
    format!(
        "{code},Test Recipient,8765550100,1990-04-02,,Female,Jamaican,did:jm:moh:identity:1,1 King Street,,Kingston,Kingston,JMAKN01,MB1,{date},1,2,2021-05-01,2022-05-01,Serum Institute,Covishield,Test Vaccinator,Test Health Centre,2 Queen Street,,Kingston,Kingston,JMAKN02"
    )
}

/// Runs `vaccred import` with `env` and no other `VACCRED_` settings from the caller.
fn import(dir: &TempDir, csv: &str, env: &[(&str, &str)]) -> Output {
    let path = dir.path().join("batch.csv");
    std::fs::write(&path, csv).expect("write the CSV file");
    let mut command = Command::new(env!("CARGO_BIN_EXE_vaccred"));
    for (name, _) in std::env::vars() {
        if name.starts_with("VACCRED_") {
            command.env_remove(name);
        }
    }
    command
        .arg("import")
        .arg(&path)
        .args(["--owner", "facility-admin-1", "--quiet"])
        .envs(env.iter().copied())
        .output()
        .expect("run vaccred import")
}

async fn check_import(dir: &TempDir, env: &[(&str, &str)], database_url: &str) {
    let csv = format!(
        "{HEADER}\r\n{}\r\n{}\r\n{}\r\n",
        row("IMP-1", "2021-05-01T10:00:00Z"),
        row("IMP-2", "yesterday"),
        row("IMP-3", "2021-05-01T10:00:00+05:30")
    );
    let output = import(dir, &csv, env);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "line 3: vaccinationDate is not an RFC 3339 date-time such as 2021-05-01T10:00:00.000Z"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("3 rows, 2 accepted (0 duplicates of earlier items), 1 invalid"),
        "{stdout}"
    );
    assert!(!stdout.contains("Test Recipient"), "{stdout}");

    let store = Store::open(database_url).await.expect("open the store");
    let uploads = store.uploads("facility-admin-1").await.expect("uploads");
    assert_eq!(uploads.len(), 1);
    assert_eq!(uploads[0].filename, "batch.csv");
    assert_eq!(uploads[0].total_records, 3);
    assert_eq!(uploads[0].total_error_rows, 1);
    assert_eq!(uploads[0].status, UploadStatus::Processing);
    let errors = store.upload_errors(uploads[0].id).await.expect("errors");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 3);
    store.close().await;

    let clean = format!("{HEADER}\n{}\n", row("IMP-4", "2021-05-01T10:00:00Z"));
    let output = import(dir, &clean, env);
    assert_eq!(output.status.code(), Some(0));

    let output = import(dir, "preEnrollmentCode,recipientName\n", env);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr.contains("Missing Headers : recipientMobileNumber,"),
        "{stderr}"
    );
}

#[tokio::test]
async fn import_into_sqlite() {
    let dir = TempDir::new().expect("temporary directory");
    let data_dir = dir.path().join("data");
    let data_dir = data_dir.to_str().expect("UTF-8 path");
    let database = format!("{data_dir}/vaccred.db");
    check_import(&dir, &[("VACCRED_DATA_DIR", data_dir)], &database).await;
}

#[tokio::test]
async fn import_into_postgres() {
    let admin_url = std::env::var("VACCRED_TEST_POSTGRES_URL").expect(
        "VACCRED_TEST_POSTGRES_URL is not set: set it to a PostgreSQL URL such as \
         postgres://postgres@127.0.0.1:5432/test",
    );
    let schema = format!(
        "vaccred_import_test_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.subsec_nanos())
            .unwrap_or_default()
    );
    let pool = sqlx::PgPool::connect(&admin_url).await.expect("PostgreSQL");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("create schema");
    let separator = if admin_url.contains('?') { '&' } else { '?' };
    let url = format!("{admin_url}{separator}options=-c%20search_path%3D{schema}");

    let dir = TempDir::new().expect("temporary directory");
    let data_dir = dir.path().join("data");
    let data_dir = data_dir.to_str().expect("UTF-8 path");
    let env = [
        ("VACCRED_DATA_DIR", data_dir),
        ("VACCRED_DATABASE_URL", url.as_str()),
    ];
    check_import(&dir, &env, &url).await;

    sqlx::query(&format!("DROP SCHEMA {schema} CASCADE"))
        .execute(&pool)
        .await
        .expect("drop schema");
    pool.close().await;
}
