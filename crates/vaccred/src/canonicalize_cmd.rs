//! `vaccred canonicalize`: print the canonical N-Quads a credential's signature covers.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::{Context as _, anyhow};
use vaccred_core::jsonld::Processor;
use vaccred_core::qr::{MAX_INPUT_SIZE, decode_credential};

use crate::files::read;

/// Arguments of `vaccred canonicalize`.
#[derive(Debug, clap::Args)]
pub(crate) struct CanonicalizeArgs {
    /// The credential: QR image, ZIP, B64: text or JSON. Its `proof` member is left out.
    file: PathBuf,
}

/// Prints the URDNA2015 N-Quads of the credential without its proof, as DIVOC's
/// jsonld-signatures 6 hashes them, to compare with another implementation.
pub(crate) fn run(args: &CanonicalizeArgs) -> anyhow::Result<()> {
    let input = read(&args.file, MAX_INPUT_SIZE as u64)?;
    let decoded = decode_credential(&input)
        .with_context(|| format!("{}: not a readable credential", args.file.display()))?;
    let credential: serde_json::Value = serde_json::from_slice(&decoded.json)
        .with_context(|| format!("{}: invalid credential JSON", args.file.display()))?;
    let object = credential.as_object().ok_or_else(|| {
        anyhow!(
            "{}: the credential is not a JSON object",
            args.file.display()
        )
    })?;
    let nquads = Processor::default()
        .canonize_object(object, Some("proof"))
        .with_context(|| format!("{}: cannot canonicalize", args.file.display()))?;
    let _ = std::io::stdout().lock().write_all(nquads.as_bytes());
    Ok(())
}
