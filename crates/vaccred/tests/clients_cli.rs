//! `vaccred clients add`, `list`, `rotate` and `disable` on the SQLite database of
//! `vaccred serve`.

mod support;

use std::process::Output;

use tempfile::TempDir;
use vaccred_server::auth::secret::verify_secret;
use vaccred_store::Store;

/// Runs `vaccred clients ARGS` on the database in `dir`.
fn vaccred(dir: &TempDir, args: &[&str]) -> Output {
    support::vaccred_command(dir.path())
        .arg("clients")
        .args(args)
        .output()
        .expect("run vaccred clients")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Returns the `client_secret:` line's value.
fn secret_of(text: &str) -> String {
    text.lines()
        .find_map(|line| line.strip_prefix("client_secret: "))
        .expect("a client_secret line")
        .to_owned()
}

async fn stored_hash(dir: &TempDir, client_id: &str) -> (String, bool) {
    let path = dir.path().join("vaccred.db");
    let store = Store::open(path.to_str().unwrap()).await.unwrap();
    let client = store.api_client(client_id).await.unwrap().unwrap();
    store.close().await;
    (client.secret_hash.as_str().to_owned(), client.is_disabled())
}

#[tokio::test]
async fn rotate_and_disable_a_client() {
    let dir = tempfile::tempdir().unwrap();
    let first = secret_of(&stdout(&vaccred(
        &dir,
        &["add", "commcare", "--role", "facility-staff"],
    )));

    let listed = stdout(&vaccred(&dir, &["list"]));
    let row = listed
        .lines()
        .find(|line| line.starts_with("commcare\t"))
        .expect("the client is listed");
    assert!(row.contains("facility-staff"), "{row}");
    assert!(row.ends_with("\t-"), "{row}");
    assert!(!listed.contains(&first), "list shows a secret");

    let second = secret_of(&stdout(&vaccred(&dir, &["rotate", "commcare"])));
    assert_ne!(first, second);
    let (hash, disabled) = stored_hash(&dir, "commcare").await;
    assert!(verify_secret(&second, &hash));
    assert!(!verify_secret(&first, &hash));
    assert!(!disabled);

    stdout(&vaccred(&dir, &["disable", "commcare"]));
    let (_, disabled) = stored_hash(&dir, "commcare").await;
    assert!(disabled);
    let listed = stdout(&vaccred(&dir, &["list"]));
    let row = listed
        .lines()
        .find(|line| line.starts_with("commcare\t"))
        .expect("the client is still listed");
    assert!(!row.ends_with("\t-"), "no disable time: {row}");

    let rejected = vaccred(&dir, &["rotate", "commcare"]);
    assert!(!rejected.status.success());
    let error = String::from_utf8_lossy(&rejected.stderr);
    assert!(error.contains("is disabled"), "{error}");

    let missing = vaccred(&dir, &["rotate", "nobody"]);
    assert!(!missing.status.success());
    let error = String::from_utf8_lossy(&missing.stderr);
    assert!(error.contains("\"nobody\" not found"), "{error}");
}
