//! Interoperability with DIVOC's own JavaScript signer and verifier
//! (certificate-signer-library 2.0.5, driven through `interop/divoc/divoc.js`).
//!
//! These tests need Node.js 18.3 or later and npm on PATH, and they fail without them.
//! The first test to run copies `interop/divoc` to a folder under Cargo's target/tmp and
//! runs `npm ci` there, and every test in this binary shares that install. Later runs reuse
//! it until a file in `interop/divoc` changes.

mod support;

use std::fs;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;
use vaccred_core::qr::{Packing, decode_credential};

const VACCRED: &str = env!("CARGO_BIN_EXE_vaccred");

/// verificationMethod of DIVOC's development credentials, and `divoc.js`'s default `--did`.
const DIVOC_DID: &str = "did:india";

/// Fixed issuance time for `vaccred sign`, with milliseconds as DIVOC's issuanceDate has.
const ISSUED_AT: &str = "2021-05-01T10:05:00.250Z";

/// Oldest Node.js release that `divoc.js` runs on, from `interop/divoc/README.md`.
const MIN_NODE_VERSION: (u32, u32) = (18, 3);

const INSTALL_HINT: &str = "The DIVOC interop tests run DIVOC's JavaScript signer and verifier: \
     install Node.js 20 and npm, and put `node` and `npm` on PATH.";

const RSA_PROOF: &str = "RsaSignature2018";
const ED25519_PROOF: &str = "Ed25519Signature2018";

// ---------------------------------------------------------------------------
// Running commands

fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for argument in command.get_args() {
        text.push(' ');
        text.push_str(&argument.to_string_lossy());
    }
    match command.get_current_dir() {
        Some(folder) => format!("{text} (in {})", folder.display()),
        None => text,
    }
}

fn failure_report(command: &Command, output: &Output) -> String {
    format!(
        "command: {}\nexit status: {}\nstdout:\n{}\nstderr:\n{}",
        describe(command),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    )
}

/// Runs `command` and panics unless it exits with status `expected`.
fn run_expecting(command: &mut Command, expected: i32, check: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|error| panic!("{check}: cannot start `{}`: {error}", describe(command)));
    assert!(
        output.status.code() == Some(expected),
        "{check}: expected exit status {expected}\n{}",
        failure_report(command, &output),
    );
    output
}

// ---------------------------------------------------------------------------
// Paths and JSON files

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(relative: &str) -> PathBuf {
    repo_root()
        .join("crates/vaccred-core/tests/fixtures")
        .join(relative)
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn read_json(path: &Path) -> Value {
    let text =
        fs::read(path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
    serde_json::from_slice(&text)
        .unwrap_or_else(|error| panic!("{} is not valid JSON: {error}", path.display()))
}

fn write_json(path: &Path, value: &Value) {
    let text = serde_json::to_vec(value).expect("a JSON value serializes");
    fs::write(path, text)
        .unwrap_or_else(|error| panic!("cannot write {}: {error}", path.display()));
}

fn string_at<'a>(value: &'a Value, pointer: &str, file: &Path) -> &'a str {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("{}: no string at {pointer}", file.display()))
}

/// Writes a copy of the credential at `source` with the string at `pointer` replaced.
fn write_altered(source: &Path, target: &Path, pointer: &str, replacement: &str) {
    let mut credential = read_json(source);
    let field = credential
        .pointer_mut(pointer)
        .unwrap_or_else(|| panic!("{}: no field at {pointer}", source.display()));
    assert_ne!(
        field.as_str(),
        Some(replacement),
        "{}: {pointer} already has the altered value",
        source.display()
    );
    *field = Value::String(replacement.to_owned());
    write_json(target, &credential);
}

fn new_workspace() -> TempDir {
    tempfile::Builder::new()
        .prefix("vaccred-interop-")
        .tempdir()
        .expect("cannot create a temporary folder")
}

// ---------------------------------------------------------------------------
// The DIVOC harness (Node.js)

/// A DIVOC public key as `divoc.js verify` takes it.
#[derive(Clone, Copy)]
enum DivocPublicKey<'a> {
    /// An RSA or Ed25519 SPKI PEM file (`--pem`).
    Pem(&'a Path),
    /// A raw Ed25519 public key in base58 (`--b58`).
    Base58(&'a str),
}

/// A DIVOC key pair as `divoc.js sign` takes it.
#[derive(Clone, Copy)]
enum DivocKeyPair<'a> {
    /// PKCS#8 private and SPKI public PEM files.
    Pem { private: &'a Path, public: &'a Path },
    /// Base58 keys in crypto-ld 3.x format. The private key is the 32-byte seed followed by
    /// the public key.
    Base58 { private: &'a str, public: &'a str },
}

/// A copy of `interop/divoc` with its npm packages installed.
struct DivocHarness {
    folder: PathBuf,
}

static HARNESS: OnceLock<Result<DivocHarness, String>> = OnceLock::new();

/// Returns the shared harness, installing it on the first call. Panics when Node.js or npm
/// is missing or the install fails.
fn divoc() -> &'static DivocHarness {
    match HARNESS.get_or_init(install_harness) {
        Ok(harness) => harness,
        Err(message) => panic!("{message}"),
    }
}

fn tool_version(program: &str) -> Result<String, String> {
    let mut command = Command::new(program);
    command.arg("--version");
    let output = command.output().map_err(|error| {
        format!(
            "cannot run `{}`: {error}. {INSTALL_HINT}",
            describe(&command)
        )
    })?;
    if !output.status.success() {
        return Err(format!(
            "{INSTALL_HINT}\n{}",
            failure_report(&command, &output)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Parses the major and minor number of a `node --version` output such as `v20.20.2`.
fn parse_node_version(text: &str) -> Option<(u32, u32)> {
    let mut parts = text.strip_prefix('v')?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

fn install_harness() -> Result<DivocHarness, String> {
    let node_version = tool_version("node")?;
    let parsed = parse_node_version(&node_version)
        .ok_or_else(|| format!("cannot parse the output of `node --version`: {node_version:?}"))?;
    if parsed < MIN_NODE_VERSION {
        let (major, minor) = MIN_NODE_VERSION;
        return Err(format!(
            "node {node_version} is too old: divoc.js needs Node.js {major}.{minor} or later. {INSTALL_HINT}"
        ));
    }
    tool_version("npm")?;

    let source = repo_root().join("interop/divoc");
    let sources = harness_sources(&source)?;
    let folder = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("divoc-harness-{:016x}", fingerprint(&sources)));
    if folder.join("node_modules").is_dir() {
        return Ok(DivocHarness { folder });
    }
    install_into(&sources, &folder)?;
    Ok(DivocHarness { folder })
}

/// Installs the harness in a fresh temporary folder and renames it to `folder`. The rename
/// is atomic, so a folder at that path always contains a complete install, and a test process
/// that loses the race to another one uses the other's install.
fn install_into(sources: &[(PathBuf, Vec<u8>)], folder: &Path) -> Result<(), String> {
    let staging = tempfile::Builder::new()
        .prefix(".divoc-harness-install-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .map_err(|error| format!("cannot create a folder for the DIVOC harness: {error}"))?;
    for (path, contents) in sources {
        let name = path.file_name().expect("a listed file has a name");
        let target = staging.path().join(name);
        fs::write(&target, contents)
            .map_err(|error| format!("cannot write {}: {error}", target.display()))?;
    }

    // --ignore-scripts skips sodium-native's native build, the only install script.
    // crypto-ld 3.9 uses Node's built-in Ed25519 and RSA instead (interop/divoc/README.md).
    let mut command = Command::new("npm");
    command
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(staging.path());
    let output = command.output().map_err(|error| {
        format!(
            "cannot run `{}`: {error}. {INSTALL_HINT}",
            describe(&command)
        )
    })?;
    if !output.status.success() {
        return Err(format!(
            "installing DIVOC's npm packages failed\n{}",
            failure_report(&command, &output)
        ));
    }

    let installed = staging.keep();
    if let Err(error) = fs::rename(&installed, folder) {
        let _ = fs::remove_dir_all(&installed);
        if !folder.join("node_modules").is_dir() {
            return Err(format!(
                "cannot move the DIVOC harness from {} to {}: {error}",
                installed.display(),
                folder.display()
            ));
        }
    }
    Ok(())
}

/// Reads the harness's own files (not folders such as a local node_modules), sorted by name.
fn harness_sources(source: &Path) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let entries = fs::read_dir(source)
        .map_err(|error| format!("cannot list {}: {error}", source.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| format!("cannot list {}: {error}", source.display()))?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let contents =
            fs::read(&path).map_err(|error| format!("cannot read {}: {error}", path.display()))?;
        files.push((path, contents));
    }
    files.sort();
    Ok(files)
}

/// Hashes the harness files' names and contents, so that a change to any of them, such as
/// a new package-lock.json, leads to a fresh install. DefaultHasher's algorithm may change
/// between Rust releases, which also only causes a fresh install.
fn fingerprint(sources: &[(PathBuf, Vec<u8>)]) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    for (path, contents) in sources {
        path.file_name().hash(&mut hasher);
        contents.hash(&mut hasher);
    }
    hasher.finish()
}

impl DivocHarness {
    fn command(&self, subcommand: &str) -> Command {
        let mut command = Command::new("node");
        command.arg(self.folder.join("divoc.js")).arg(subcommand);
        command
    }

    /// Runs DIVOC's verifier on `credential` (JSON, ZIP or B64: text) and checks its exit
    /// status: 0 when it accepts the credential, 1 when it rejects it.
    fn verify(
        &self,
        credential: &Path,
        key: DivocPublicKey,
        did: &str,
        expected: i32,
        check: &str,
    ) {
        let mut command = self.command("verify");
        command.arg("--in").arg(credential).args(["--did", did]);
        match key {
            DivocPublicKey::Pem(path) => command.arg("--pem").arg(path),
            DivocPublicKey::Base58(text) => command.args(["--b58", text]),
        };
        let output = run_expecting(&mut command, expected, check);
        let result: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
            panic!(
                "{check}: divoc.js printed invalid JSON ({error})\n{}",
                failure_report(&command, &output)
            )
        });
        assert_eq!(
            result["verified"],
            Value::Bool(expected == 0),
            "{check}: unexpected verifier result\n{}",
            failure_report(&command, &output),
        );
    }

    /// Checks that vaccred's canonical N-Quads of `credential` equal jsonld.js 2.0.2's, the
    /// general JSON-LD implementation DIVOC signs with.
    fn compare_nquads(&self, credential: &Path, check: &str) {
        let mut node = self.command("nquads");
        node.arg("--in").arg(credential);
        let expected = run_expecting(&mut node, 0, &format!("{check}: jsonld.js N-Quads"));
        let mut ours = Command::new(VACCRED);
        ours.arg("canonicalize").arg(credential);
        let actual = run_expecting(&mut ours, 0, &format!("{check}: vaccred canonicalize"));
        assert_eq!(
            String::from_utf8_lossy(&actual.stdout),
            String::from_utf8_lossy(&expected.stdout),
            "{check}: canonical N-Quads differ from jsonld.js"
        );
    }

    /// Signs `unsigned` with DIVOC's signer, writing the signed credential to `signed`.
    fn sign(&self, unsigned: &Path, signed: &Path, key: DivocKeyPair, did: &str, check: &str) {
        let mut command = self.command("sign");
        command
            .arg("--in")
            .arg(unsigned)
            .arg("--out")
            .arg(signed)
            .args(["--did", did]);
        match key {
            DivocKeyPair::Pem { private, public } => command
                .arg("--pem-priv")
                .arg(private)
                .arg("--pem-pub")
                .arg(public),
            DivocKeyPair::Base58 { private, public } => {
                command.args(["--b58-priv", private, "--b58-pub", public])
            }
        };
        run_expecting(&mut command, 0, check);
    }
}

// ---------------------------------------------------------------------------
// vaccred

struct GeneratedKey {
    private: PathBuf,
    public: PathBuf,
    id: String,
}

/// Runs `vaccred keys generate` and returns the key files and the printed key id.
fn generate_key(folder: &Path, key_type: &str) -> GeneratedKey {
    let prefix = folder.join(format!("generated-{key_type}"));
    let mut command = Command::new(VACCRED);
    command
        .args(["keys", "generate", "--type", key_type, "--out"])
        .arg(&prefix);
    let output = run_expecting(&mut command, 0, "generate a key");
    let id = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    assert!(
        !id.is_empty(),
        "vaccred keys generate printed no key id\n{}",
        failure_report(&command, &output)
    );
    GeneratedKey {
        private: with_suffix(&prefix, ".pem"),
        public: with_suffix(&prefix, ".pub.pem"),
        id,
    }
}

/// Runs `vaccred verify FILE --trust SPEC... --json [--any-key]` and checks the exit status
/// and the printed status (valid, invalid or could-not-verify).
fn vaccred_verify(file: &Path, trust: &[String], any_key: bool, expected: i32, check: &str) {
    let mut command = Command::new(VACCRED);
    command.arg("verify").arg(file).arg("--json");
    for spec in trust {
        command.arg("--trust").arg(spec);
    }
    if any_key {
        command.arg("--any-key");
    }
    let output = run_expecting(&mut command, expected, check);
    let result: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "{check}: vaccred verify --json printed invalid JSON ({error})\n{}",
            failure_report(&command, &output)
        )
    });
    let expected_status = match expected {
        0 => "valid",
        1 => "invalid",
        _ => "could-not-verify",
    };
    assert_eq!(
        result["status"],
        expected_status,
        "{check}: unexpected status\n{}",
        failure_report(&command, &output),
    );
}

fn trust_spec(id: &str, key_file: &Path) -> String {
    format!("{id}={}", key_file.display())
}

// ---------------------------------------------------------------------------
// Direction 1: DIVOC's verifier accepts what vaccred signs

/// A signing key for `vaccred sign` and the matching key for each verifier.
struct IssuerKey<'a> {
    label: &'a str,
    /// `--key` of vaccred sign.
    signing_key: &'a Path,
    /// `--key-id` of vaccred sign, or None to use the key file's default.
    key_id: Option<&'a str>,
    /// The verificationMethod that the proof must carry.
    verification_method: &'a str,
    proof_type: &'a str,
    divoc_key: DivocPublicKey<'a>,
    /// Public key file for `vaccred verify --trust`.
    trusted_key: &'a Path,
}

const SHAPES: [&str; 2] = ["v2", "v3"];

fn vaccination_context(shape: &str) -> &'static str {
    match shape {
        "v2" => "https://cowin.gov.in/credentials/vaccination/v1",
        _ => "https://cowin.gov.in/credentials/vaccination/v2",
    }
}

/// Signs DIVOC's end-to-end certify request with vaccred in `shape`, then checks that
/// DIVOC's verifier accepts the credential JSON and the ZIP read back from the QR PNG,
/// that it rejects an altered copy, and that `vaccred verify` accepts the PNG.
fn check_divoc_accepts(folder: &Path, key: &IssuerKey, shape: &str, qr_encoding: &str) {
    let check = format!(
        "{} key, {shape} shape, {qr_encoding} QR encoding",
        key.label
    );
    let prefix = folder.join(format!("{}-{shape}-{qr_encoding}", key.label));

    let mut sign = Command::new(VACCRED);
    sign.arg("sign")
        .arg(fixture("requests/divoc-e2e-certify.json"))
        .arg("--key")
        .arg(key.signing_key)
        .arg("--out")
        .arg(&prefix)
        .args([
            "--shape",
            shape,
            "--issued-at",
            ISSUED_AT,
            "--certificate-id",
            "123456789",
        ])
        .args(["--qr-encoding", qr_encoding]);
    if let Some(id) = key.key_id {
        sign.args(["--key-id", id]);
    }
    run_expecting(&mut sign, 0, &format!("{check}: vaccred sign"));

    let json_path = with_suffix(&prefix, ".json");
    let credential = read_json(&json_path);
    assert_eq!(
        string_at(&credential, "/proof/verificationMethod", &json_path),
        key.verification_method,
        "{check}: verificationMethod",
    );
    assert_eq!(
        string_at(&credential, "/proof/type", &json_path),
        key.proof_type,
        "{check}: proof type"
    );
    assert_eq!(
        string_at(&credential, "/@context/1", &json_path),
        vaccination_context(shape),
        "{check}: vaccination context",
    );

    let harness = divoc();
    harness.verify(
        &json_path,
        key.divoc_key,
        key.verification_method,
        0,
        &format!("{check}: DIVOC verifies the JSON"),
    );
    harness.compare_nquads(&json_path, &check);

    // The QR code must carry a ZIP that DIVOC's verifier reads (with JSZip) and accepts.
    let png_path = with_suffix(&prefix, ".png");
    let png = fs::read(&png_path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", png_path.display()));
    let decoded = decode_credential(&png)
        .unwrap_or_else(|error| panic!("{check}: cannot read the QR PNG: {error}"));
    let expected_packing = match qr_encoding {
        "raw" => Packing::Zip,
        _ => Packing::DivocLatin1Utf8Zip,
    };
    assert_eq!(decoded.packing, expected_packing, "{check}: QR packing");
    let json_file = fs::read(&json_path).expect("the signed JSON was read above");
    assert_eq!(
        decoded.json.as_slice(),
        json_file.trim_ascii_end(),
        "{check}: the QR's certificate.json differs from {}",
        json_path.display(),
    );
    let zip_path = with_suffix(&prefix, ".zip");
    fs::write(
        &zip_path,
        decoded
            .zip
            .as_deref()
            .expect("a QR ZIP packing keeps the ZIP"),
    )
    .unwrap_or_else(|error| panic!("cannot write {}: {error}", zip_path.display()));
    harness.verify(
        &zip_path,
        key.divoc_key,
        key.verification_method,
        0,
        &format!("{check}: DIVOC verifies the QR's ZIP"),
    );

    // DIVOC's verifier must be able to fail here, or the checks above prove nothing.
    let altered_path = with_suffix(&prefix, "-altered.json");
    write_altered(
        &json_path,
        &altered_path,
        "/credentialSubject/name",
        "Bhaya Mitre",
    );
    harness.verify(
        &altered_path,
        key.divoc_key,
        key.verification_method,
        1,
        &format!("{check}: DIVOC rejects an altered name"),
    );

    let trust = [trust_spec(key.verification_method, key.trusted_key)];
    vaccred_verify(
        &png_path,
        &trust,
        false,
        0,
        &format!("{check}: vaccred verifies the QR PNG"),
    );
}

#[test]
fn divoc_verifies_vaccred_rsa_keys() {
    let folder = new_workspace();
    let generated = generate_key(folder.path(), "rsa");
    let keys = [
        IssuerKey {
            label: "generated-rsa",
            signing_key: &generated.private,
            key_id: None,
            verification_method: &generated.id,
            proof_type: RSA_PROOF,
            divoc_key: DivocPublicKey::Pem(&generated.public),
            trusted_key: &generated.public,
        },
        IssuerKey {
            label: "generated-rsa-did-india",
            signing_key: &generated.private,
            key_id: Some(DIVOC_DID),
            verification_method: DIVOC_DID,
            proof_type: RSA_PROOF,
            divoc_key: DivocPublicKey::Pem(&generated.public),
            trusted_key: &generated.public,
        },
    ];
    for key in &keys {
        for shape in SHAPES {
            check_divoc_accepts(folder.path(), key, shape, "divoc");
        }
    }
    check_divoc_accepts(folder.path(), &keys[0], "v3", "raw");

    // DIVOC's verifier takes the verificationMethod from its configuration, so a credential
    // whose proof names another key id must fail there.
    let signed = folder.path().join("generated-rsa-v2-divoc.json");
    divoc().verify(
        &signed,
        DivocPublicKey::Pem(&generated.public),
        DIVOC_DID,
        1,
        "DIVOC rejects a different key id",
    );
}

#[test]
fn divoc_verifies_vaccred_ed25519_keys() {
    let folder = new_workspace();
    let generated = generate_key(folder.path(), "ed25519");
    let keys = [
        IssuerKey {
            label: "generated-ed25519",
            signing_key: &generated.private,
            key_id: None,
            verification_method: &generated.id,
            proof_type: ED25519_PROOF,
            divoc_key: DivocPublicKey::Pem(&generated.public),
            trusted_key: &generated.public,
        },
        IssuerKey {
            label: "generated-ed25519-did-india",
            signing_key: &generated.private,
            key_id: Some(DIVOC_DID),
            verification_method: DIVOC_DID,
            proof_type: ED25519_PROOF,
            divoc_key: DivocPublicKey::Pem(&generated.public),
            trusted_key: &generated.public,
        },
    ];
    for key in &keys {
        for shape in SHAPES {
            check_divoc_accepts(folder.path(), key, shape, "divoc");
        }
    }
    check_divoc_accepts(folder.path(), &keys[0], "v2", "raw");

    let signed = folder.path().join("generated-ed25519-v2-divoc.json");
    divoc().verify(
        &signed,
        DivocPublicKey::Pem(&generated.public),
        DIVOC_DID,
        1,
        "DIVOC rejects a different key id",
    );
}

#[test]
fn divoc_verifies_vaccred_with_dev_rsa_key() {
    let folder = new_workspace();
    let private = fixture("divoc/divoc-dev-rsa.priv.pem");
    let public = fixture("divoc/divoc-dev-rsa.pub.pem");
    let key = IssuerKey {
        label: "divoc-dev-rsa",
        signing_key: &private,
        key_id: Some(DIVOC_DID),
        verification_method: DIVOC_DID,
        proof_type: RSA_PROOF,
        divoc_key: DivocPublicKey::Pem(&public),
        trusted_key: &public,
    };
    for shape in SHAPES {
        check_divoc_accepts(folder.path(), &key, shape, "divoc");
    }
}

#[test]
fn divoc_verifies_vaccred_with_dev_ed25519_key() {
    let folder = new_workspace();
    let key_file = fixture("divoc/divoc-dev-ed25519.json");
    let key_json = read_json(&key_file);
    let public_base58 = string_at(&key_json, "/publicKeyBase58", &key_file);
    let public_key = fixture("divoc/divoc-dev-ed25519.pub.b58");
    let key = IssuerKey {
        label: "divoc-dev-ed25519",
        signing_key: &key_file,
        key_id: Some(DIVOC_DID),
        verification_method: DIVOC_DID,
        proof_type: ED25519_PROOF,
        divoc_key: DivocPublicKey::Base58(public_base58),
        trusted_key: &public_key,
    };
    for shape in SHAPES {
        check_divoc_accepts(folder.path(), &key, shape, "divoc");
    }
}

// ---------------------------------------------------------------------------
// Direction 2: vaccred verifies what DIVOC's signer signs

/// Signs the unsigned v2 and v3 credentials in `fixtures/appendix-a` with DIVOC's signer,
/// under `did:india` and under a DID with a fragment, and checks vaccred's verdicts on
/// them, on altered copies and with wrong keys. `wrong_key` has the same key type as
/// `key_pair` but is not its public key.
fn check_vaccred_accepts(
    folder: &Path,
    label: &str,
    key_pair: DivocKeyPair,
    trusted_key: &Path,
    wrong_key: &GeneratedKey,
) {
    let harness = divoc();
    let fragment_did = "did:jm:moh#divoc-interop";
    let cases = [("v2", DIVOC_DID), ("v3", DIVOC_DID), ("v3", fragment_did)];
    for (shape, did) in cases {
        let check = format!("{label} key, {shape} credential, DID {did}");
        let unsigned = fixture(&format!("appendix-a/{shape}-unsigned.json"));
        let file_did = if did == DIVOC_DID {
            "did-india"
        } else {
            "did-fragment"
        };
        let signed = folder.join(format!("{label}-{shape}-{file_did}.json"));
        harness.sign(
            &unsigned,
            &signed,
            key_pair,
            did,
            &format!("{check}: DIVOC signs"),
        );
        let credential = read_json(&signed);
        assert_eq!(
            string_at(&credential, "/proof/verificationMethod", &signed),
            did,
            "{check}: verificationMethod"
        );
        harness.compare_nquads(&signed, &check);

        let trusted = [trust_spec(did, trusted_key)];
        vaccred_verify(
            &signed,
            &trusted,
            false,
            0,
            &format!("{check}: vaccred verifies"),
        );

        let altered_name = with_suffix(&signed, ".altered-name.json");
        write_altered(
            &signed,
            &altered_name,
            "/credentialSubject/name",
            "Bhaya Mitre",
        );
        vaccred_verify(
            &altered_name,
            &trusted,
            false,
            1,
            &format!("{check}: altered credentialSubject.name"),
        );

        let altered_batch = with_suffix(&signed, ".altered-batch.json");
        write_altered(&signed, &altered_batch, "/evidence/0/batch", "4121Z99");
        vaccred_verify(
            &altered_batch,
            &trusted,
            false,
            1,
            &format!("{check}: altered evidence batch"),
        );

        // The proof options (type, created, verificationMethod, proofPurpose) are signed too.
        let altered_created = with_suffix(&signed, ".altered-created.json");
        write_altered(
            &signed,
            &altered_created,
            "/proof/created",
            "2020-01-01T00:00:00Z",
        );
        vaccred_verify(
            &altered_created,
            &trusted,
            false,
            1,
            &format!("{check}: altered proof.created"),
        );

        let other_id = [trust_spec("did:example:other", trusted_key)];
        vaccred_verify(
            &signed,
            &other_id,
            false,
            2,
            &format!("{check}: right key under another key id"),
        );

        // A generated public key file names its own key id in its Key-Id line.
        let own_id = [wrong_key.public.display().to_string()];
        vaccred_verify(
            &signed,
            &own_id,
            false,
            2,
            &format!("{check}: key with a different Key-Id line"),
        );

        vaccred_verify(
            &signed,
            &own_id,
            true,
            1,
            &format!("{check}: --any-key with a wrong key of the same type"),
        );

        let wrong_under_did = [trust_spec(did, &wrong_key.public)];
        vaccred_verify(
            &signed,
            &wrong_under_did,
            false,
            1,
            &format!("{check}: wrong key under the proof's key id"),
        );
    }
}

#[test]
fn vaccred_verifies_divoc_rsa_signatures() {
    let folder = new_workspace();
    let private = fixture("divoc/divoc-dev-rsa.priv.pem");
    let public = fixture("divoc/divoc-dev-rsa.pub.pem");
    let wrong_key = generate_key(folder.path(), "rsa");
    let key_pair = DivocKeyPair::Pem {
        private: &private,
        public: &public,
    };
    check_vaccred_accepts(
        folder.path(),
        "divoc-dev-rsa",
        key_pair,
        &public,
        &wrong_key,
    );
}

#[test]
fn vaccred_verifies_divoc_ed25519_signatures() {
    let folder = new_workspace();
    let key_file = fixture("divoc/divoc-dev-ed25519.json");
    let key_json = read_json(&key_file);
    let key_pair = DivocKeyPair::Base58 {
        private: string_at(&key_json, "/privateKeyBase58", &key_file),
        public: string_at(&key_json, "/publicKeyBase58", &key_file),
    };
    let wrong_key = generate_key(folder.path(), "ed25519");
    let public_key = fixture("divoc/divoc-dev-ed25519.pub.b58");
    check_vaccred_accepts(
        folder.path(),
        "divoc-dev-ed25519",
        key_pair,
        &public_key,
        &wrong_key,
    );
}

/// vaccred also verifies credentials that DIVOC signed with a PEM Ed25519 key pair, which
/// is how a key from `vaccred keys generate` would be loaded into DIVOC's signer.
#[test]
fn vaccred_verifies_divoc_signature_with_generated_key() {
    let folder = new_workspace();
    let generated = generate_key(folder.path(), "ed25519");
    let signed = folder.path().join("generated-ed25519-signed-by-divoc.json");
    let key_pair = DivocKeyPair::Pem {
        private: &generated.private,
        public: &generated.public,
    };
    divoc().sign(
        &fixture("appendix-a/v3-unsigned.json"),
        &signed,
        key_pair,
        &generated.id,
        "DIVOC signs with a generated key",
    );
    vaccred_verify(
        &signed,
        &[generated.public.display().to_string()],
        false,
        0,
        "vaccred verifies with the key's Key-Id line",
    );
}

// ---------------------------------------------------------------------------
// DIVOC-signed fixtures

#[test]
fn divoc_fixture_credentials_verify() {
    let harness = divoc();
    let rsa_key = fixture("divoc/divoc-dev-rsa.pub.pem");
    let ed25519_pair = fixture("divoc/divoc-dev-ed25519.json");
    let ed25519_json = read_json(&ed25519_pair);
    let ed25519_base58 = string_at(&ed25519_json, "/publicKeyBase58", &ed25519_pair);
    let ed25519_key = fixture("divoc/divoc-dev-ed25519.pub.b58");
    let cases = [
        (
            "divoc-dev-rsa-divocdev-v1.json",
            &rsa_key,
            DivocPublicKey::Pem(&rsa_key),
            0,
        ),
        (
            "divoc-dev-rsa-cowin-v1-commented.json",
            &rsa_key,
            DivocPublicKey::Pem(&rsa_key),
            0,
        ),
        (
            "divoc-dev-ed25519-divocdev-v1.json",
            &ed25519_key,
            DivocPublicKey::Base58(ed25519_base58),
            0,
        ),
        (
            "divoc-dev-rsa-divocdev-v1-tampered-subject-id.json",
            &rsa_key,
            DivocPublicKey::Pem(&rsa_key),
            1,
        ),
    ];
    for (name, trusted_key, divoc_key, expected) in cases {
        let credential = fixture(&format!("divoc/{name}"));
        let trust = [trust_spec(DIVOC_DID, trusted_key)];
        vaccred_verify(
            &credential,
            &trust,
            false,
            expected,
            &format!("vaccred verify {name}"),
        );
        // Both verifiers must agree, so the fixture's expected verdict is DIVOC's own.
        harness.verify(
            &credential,
            divoc_key,
            DIVOC_DID,
            expected,
            &format!("DIVOC verify {name}"),
        );
    }
}

// ---------------------------------------------------------------------------
// The server's output

/// DIVOC's e2e certify request goes through `vaccred serve` over HTTP; DIVOC's verifier
/// accepts the ZIP inside the QR code the server returns, and its N-Quads match jsonld.js.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn divoc_verifies_server_issued_qr() {
    let credential = check_server_issued_qr("requests/divoc-e2e-certify.json").await;
    assert_eq!(
        credential["credentialSubject"]["id"],
        "did:in.gov.uidai.aadhaar:2342343334"
    );
}

/// A Jamaica-shaped `/v3/certify` request (subject with name, gender, date of birth and
/// pre-enrollment code only) is issued with the compact subject, and DIVOC's verifier
/// accepts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn divoc_verifies_server_issued_jamaica_qr() {
    let credential = check_server_issued_qr("requests/jamaica-v3-certify.json").await;
    let subject = credential["credentialSubject"]
        .as_object()
        .expect("credentialSubject object");
    let keys: Vec<&str> = subject.keys().map(String::as_str).collect();
    assert_eq!(keys, ["type", "id", "refId", "name", "gender", "dob"]);
    assert_eq!(subject["id"], "did:jm:moh:JM-2021-0004417");
    assert_eq!(subject["dob"], "1987-03-14");
    assert_eq!(credential["issuer"], "https://www.moh.gov.jm");
    assert_eq!(credential["proof"]["type"], "Ed25519Signature2018");
    assert_eq!(
        credential["evidence"][0]["facility"]["address"]["addressCountry"],
        "JAM"
    );
}

/// Sends the certify request in the fixture `request` to a fresh `vaccred serve`, waits
/// until it is issued, has DIVOC's verifier check the ZIP inside the returned QR code and
/// compares the N-Quads with jsonld.js. Returns the decoded credential.
async fn check_server_issued_qr(request: &str) -> Value {
    let folder = new_workspace();
    let settings = support::ServerSettings::sqlite(&folder.path().join("data"));
    let client = settings.add_client("interop");
    let server = support::ServerProcess::start(&settings);
    let token = server.token(&client).await;
    let http = reqwest::Client::new();

    let request_path = fixture(request);
    let body = fs::read(&request_path).expect("certify fixture");
    let response = http
        .post(server.url("/divoc/api/v3/certify"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("certify request");
    assert_eq!(response.status(), 200, "certify status");
    let acknowledgement: Value = response.json().await.expect("acknowledgement JSON");
    let id = acknowledgement["acknowledgementId"]
        .as_str()
        .expect("acknowledgementId");
    let items = server
        .wait_all_settled(&token, &[id.to_owned()], Duration::from_secs(60))
        .await;
    assert_eq!(items[0]["status"], "issued", "{items:?}");

    let code = read_json(&request_path)[0]["preEnrollmentCode"]
        .as_str()
        .expect("preEnrollmentCode")
        .to_owned();
    let qr_url = server.url(&format!("/certificate/api/certificateQRCode/{code}"));
    let response = http
        .get(qr_url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("QR request");
    assert_eq!(response.status(), 200, "QR status");
    let png = response.bytes().await.expect("QR body");
    let decoded = decode_credential(&png).expect("server QR code decodes");
    let zip_path = folder.path().join("server.zip");
    fs::write(&zip_path, decoded.zip.as_deref().expect("QR holds a ZIP")).expect("write ZIP");
    let json_path = folder.path().join("server.json");
    fs::write(&json_path, &decoded.json).expect("write JSON");
    let credential: Value = serde_json::from_slice(&decoded.json).expect("credential JSON");
    let method = credential["proof"]["verificationMethod"]
        .as_str()
        .expect("verificationMethod");

    let public_key = settings.data_dir.join("signing-key.pub.pem");
    let harness = divoc();
    let check = "server-issued certificate";
    harness.verify(
        &zip_path,
        DivocPublicKey::Pem(&public_key),
        method,
        0,
        check,
    );
    harness.compare_nquads(&json_path, check);
    credential
}
