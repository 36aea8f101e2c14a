//! `vaccred notifications list` and `resend` on the SQLite database of `vaccred serve`.

mod support;

use std::process::Output;
use std::time::Duration;

use tempfile::TempDir;
use vaccred_store::{
    AttemptRecord, Channel, NewOtp, NotificationFilter, NotificationStatus, Settlement, Store,
};

/// Runs `vaccred notifications ARGS` on the database in `dir`.
fn vaccred(dir: &TempDir, args: &[&str]) -> Output {
    support::vaccred_command(dir.path())
        .arg("notifications")
        .args(args)
        .output()
        .expect("run vaccred notifications")
}

fn otp(code: &str) -> NewOtp {
    NewOtp {
        channel: Channel::Sms,
        recipient: "+18765550123".to_owned(),
        language: "en".to_owned(),
        code: code.to_owned(),
        valid_for: Duration::from_secs(600),
        max_attempts: 2,
    }
}

#[tokio::test]
async fn list_failed_and_resend() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("vaccred.db");
    let store = Store::open(path.to_str().unwrap()).await.expect("store");
    let failed_id = store.enqueue_otp(&otp("111111")).await.unwrap();
    let pending_id = store.enqueue_otp(&otp("222222")).await.unwrap();
    let claimed = store
        .claim_notifications("test", 1, Duration::from_secs(60))
        .await
        .unwrap();
    assert_eq!(claimed[0].claim.id(), failed_id);
    let record = AttemptRecord {
        error: Some("the SMS gateway returned HTTP 400".to_owned()),
        ..AttemptRecord::default()
    };
    store
        .settle_notifications(&[(&claimed[0].claim, Settlement::Failed, record)])
        .await
        .unwrap();
    store.close().await;

    let output = vaccred(&dir, &["list", "--failed"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[1].trim_start().starts_with(&failed_id.to_string()),
        "{stdout}"
    );
    assert!(lines[1].contains("failed"), "{stdout}");
    assert!(lines[1].contains("HTTP 400"), "{stdout}");
    assert!(
        !stdout.contains("18765550123"),
        "the list shows a recipient"
    );
    assert!(!stdout.contains("111111"), "the list shows a code");

    let all = vaccred(&dir, &["list"]);
    let all_stdout = String::from_utf8_lossy(&all.stdout);
    assert_eq!(all_stdout.lines().count(), 3, "{all_stdout}");
    assert!(all_stdout.contains(&pending_id.to_string()), "{all_stdout}");

    // A one-time code cannot be resent, because its code is erased once settled.
    let resend = vaccred(&dir, &["resend", &failed_id.to_string()]);
    let stderr = String::from_utf8_lossy(&resend.stderr);
    assert!(!resend.status.success());
    assert!(stderr.contains("one-time code"), "{stderr}");

    let missing = vaccred(&dir, &["resend", "999999"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(stderr.contains("notification 999999 not found"), "{stderr}");

    let store = Store::open(path.to_str().unwrap()).await.expect("store");
    let filter = NotificationFilter {
        status: Some(NotificationStatus::Failed),
        limit: 10,
    };
    assert_eq!(store.notifications(filter).await.unwrap().len(), 1);
    store.close().await;
}
