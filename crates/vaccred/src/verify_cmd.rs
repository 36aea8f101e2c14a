//! `vaccred verify`: offline verification with exit codes for scripts.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;
use vaccred_core::jsonld::Processor;
use vaccred_core::keys::{KeyId, TrustStore, TrustedKey, parse_public_keys};
use vaccred_core::verify::{Outcome, Summary, VerifyOptions, verify_input};

use crate::files::read;

/// Exit status of a valid certificate.
pub(crate) const EXIT_VALID: u8 = 0;
/// Exit status of a verified but invalid certificate.
pub(crate) const EXIT_INVALID: u8 = 1;
/// Exit status when the certificate could not be verified, or the command failed.
pub(crate) const EXIT_COULD_NOT_VERIFY: u8 = 2;

/// Arguments of `vaccred verify`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Exit status: 0 valid, 1 invalid, 2 could not verify.")]
pub(crate) struct VerifyArgs {
    /// The certificate: QR image (PNG or JPEG), ZIP, B64: text or credential JSON.
    file: PathBuf,
    /// Trusted public key file: PEM, base58 Ed25519, JSON key, JWK set or DID document.
    /// Prefix with ID= (e.g. did:india=key.pem) to trust it only for that verificationMethod.
    /// Repeat the option for several key files.
    #[arg(long = "trust", required = true)]
    trust: Vec<String>,
    /// Try every trusted key whatever the proof's verificationMethod.
    #[arg(long)]
    any_key: bool,
    /// Also treat evidence effectiveUntil dates as expiry.
    #[arg(long)]
    enforce_effective_until: bool,
    /// Print the outcome as one JSON object.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let trust = load_trust(&args.trust)?;
    let input = read(&args.file, vaccred_core::qr::MAX_INPUT_SIZE as u64)?;
    let options = VerifyOptions {
        any_key: args.any_key,
        enforce_effective_until: args.enforce_effective_until,
        ..VerifyOptions::default()
    };
    let outcome = verify_input(&Processor::default(), &trust, &input, &options, None);
    let code = match &outcome {
        Outcome::Valid { .. } => EXIT_VALID,
        Outcome::Invalid { .. } => EXIT_INVALID,
        _ => EXIT_COULD_NOT_VERIFY,
    };
    // A closed standard output (for example `| head -1`) must not turn the verdict into a
    // crash, so write errors are ignored and the exit status still carries the outcome.
    let mut out = std::io::stdout().lock();
    let _ = if args.json {
        writeln!(out, "{}", outcome_json(&outcome))
    } else {
        print_outcome(&mut out, &outcome)
    };
    Ok(ExitCode::from(code))
}

fn load_trust(specs: &[String]) -> anyhow::Result<TrustStore> {
    let mut store = TrustStore::new();
    for spec in specs {
        let (id, path) = match spec.split_once('=') {
            Some((id, path)) => (
                Some(KeyId::new(id).with_context(|| format!("--trust {spec}"))?),
                path,
            ),
            None => (None, spec.as_str()),
        };
        let path = PathBuf::from(path);
        let keys = parse_public_keys(&read(&path, 1024 * 1024)?)
            .with_context(|| format!("{}: not a usable public key file", path.display()))?;
        for key in keys {
            store.add(TrustedKey {
                id: id.clone().or(key.id),
                key: key.key,
            });
        }
    }
    Ok(store)
}

fn status(outcome: &Outcome) -> (&'static str, String) {
    match outcome {
        Outcome::Valid {
            key_id, proof_type, ..
        } => {
            let key = key_id
                .as_ref()
                .map_or("a trusted key".to_owned(), KeyId::to_string);
            (
                "valid",
                format!("authentic, signed by {key} ({proof_type})"),
            )
        }
        Outcome::Invalid { reason, .. } => ("invalid", reason.to_string()),
        Outcome::CouldNotVerify { reason, .. } => ("could-not-verify", reason.to_string()),
        _ => ("could-not-verify", "unknown outcome".to_owned()),
    }
}

/// Holder fields the signature does not cover, for a valid outcome.
fn unsigned(outcome: &Outcome) -> &[String] {
    match outcome {
        Outcome::Valid { unsigned, .. } => unsigned,
        _ => &[],
    }
}

fn outcome_json(outcome: &Outcome) -> serde_json::Value {
    let (status, message) = status(outcome);
    json!({
        "status": status,
        "message": message,
        "unsignedFields": unsigned(outcome),
        "certificate": outcome.credential().map(Summary::of),
    })
}

/// Escapes control and bidirectional formatting characters, so text from a credential
/// cannot move the cursor, clear lines or reorder what a terminal shows.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let bidi = matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
        if c.is_control() || bidi {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn print_outcome(out: &mut impl Write, outcome: &Outcome) -> std::io::Result<()> {
    let (status, message) = status(outcome);
    writeln!(out, "{}: {}", status.to_uppercase(), printable(&message))?;
    let Some(credential) = outcome.credential() else {
        return Ok(());
    };
    let unsigned = unsigned(outcome);
    if !unsigned.is_empty() {
        writeln!(
            out,
            "WARNING: the issuer's signature does not cover {}; check them against an identity \
             document.",
            unsigned.join(", ")
        )?;
    }
    if !outcome.is_valid() {
        writeln!(out, "Contents as written, not verified:")?;
    }
    let summary = Summary::of(credential);
    let rows = [
        ("Name", &summary.name),
        ("Age", &summary.age),
        ("Date of birth", &summary.dob),
        ("Gender", &summary.gender),
        ("Certificate ID", &summary.certificate_id),
        ("Vaccine", &summary.vaccine),
        ("Vaccine type", &summary.prophylaxis),
        ("Dose", &summary.dose),
        ("Total doses", &summary.total_doses),
        ("Date of issue", &summary.effective_start),
        ("Valid until", &summary.effective_until),
        ("Facility", &summary.facility),
        ("Issuer", &summary.issuer),
    ];
    let holder = ["Name", "Age", "Date of birth", "Gender"];
    let field_names = ["name", "age", "dob", "gender"];
    for (label, value) in rows {
        if value.is_empty() {
            continue;
        }
        let position = holder.iter().position(|h| *h == label);
        let not_signed = position.is_some_and(|i| unsigned.iter().any(|u| u == field_names[i]));
        let note = if not_signed { "  (not signed)" } else { "" };
        writeln!(out, "{label:>15}: {}{note}", printable(value))?;
    }
    Ok(())
}
