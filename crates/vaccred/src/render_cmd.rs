//! `vaccred render`: a certificate's PDF from its signed credential JSON.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde_json::Value;
use vaccred_core::qr::MAX_CERTIFICATE_SIZE;
use vaccred_pdf::{Certificate, Renderer, RendererConfig};

use crate::files::{Output, read, write_all_atomic};

/// Arguments of `vaccred render`.
#[derive(Debug, clap::Args)]
pub(crate) struct RenderArgs {
    /// The signed credential JSON to render.
    file: PathBuf,
    /// Output PDF path.
    #[arg(short, long)]
    out: PathBuf,
    /// Another signed credential of the same beneficiary; those dated before FILE fill the
    /// earlier-dose table. Repeat the option for several.
    #[arg(long = "earlier")]
    earlier: Vec<PathBuf>,
    /// Template language; falls back to English when no template has it.
    #[arg(long, default_value = "en")]
    lang: String,
    /// Directory whose template files override the bundled ones ({kind}.{lang}.typ).
    #[arg(long)]
    templates_dir: Option<PathBuf>,
    /// Directory of extra font files (.ttf, .otf, .ttc).
    #[arg(long)]
    fonts_dir: Option<PathBuf>,
    /// Issuer name printed in the header [default: the credential's issuer].
    #[arg(long, default_value = "")]
    issuer_name: String,
    /// Logo image (.png, .jpg or .svg) printed at the start of the header.
    #[arg(long)]
    logo: Option<PathBuf>,
    /// Second logo image printed at the end of the header, such as a coat of arms.
    #[arg(long)]
    second_logo: Option<PathBuf>,
    /// Footer text.
    #[arg(long, default_value = "")]
    footer: String,
}

pub(crate) fn run(args: &RenderArgs) -> anyhow::Result<()> {
    for input in std::iter::once(&args.file).chain(&args.earlier) {
        if same_file(input, &args.out) {
            anyhow::bail!(
                "{} is an input and the output: choose another file for -o",
                args.out.display()
            );
        }
    }
    let max = MAX_CERTIFICATE_SIZE as u64;
    let credential = credential_text(&args.file, max)?;
    let mut earlier = Vec::new();
    for path in &args.earlier {
        earlier.push(credential_text(path, max)?);
    }
    let certificate = Certificate::from_signed(&credential, &earlier)
        .with_context(|| format!("cannot render {}", args.file.display()))?;
    let config = RendererConfig {
        templates_dir: args.templates_dir.clone(),
        fonts_dir: args.fonts_dir.clone(),
        issuer_name: args.issuer_name.clone(),
        logo: args.logo.clone(),
        second_logo: args.second_logo.clone(),
        footer: args.footer.clone(),
    };
    let renderer = Renderer::new(&config)?;
    let missing = renderer.missing_glyphs(&certificate);
    if !missing.is_empty() {
        let list: String = missing.iter().collect();
        eprintln!(
            "warning: no loaded font has {list:?}, which the PDF shows as empty boxes: \
             add a font that covers them with --fonts-dir"
        );
    }
    let pdf = renderer.render(&certificate, &args.lang)?;
    write_all_atomic(&[Output {
        path: args.out.clone(),
        contents: &pdf,
        mode: 0o644,
    }])
}

/// Reads a credential file. A DIVOC registry record, as `GET /divoc/api/v1/certificates/{id}`
/// returns it, is taken for the credential in its `certificate` member.
fn credential_text(path: &Path, max: u64) -> anyhow::Result<String> {
    let bytes = read(path, max)?;
    let text = String::from_utf8(bytes)
        .with_context(|| format!("{} is not UTF-8 JSON", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    if value.get("credentialSubject").is_some() {
        return Ok(text);
    }
    match value.get("certificate") {
        Some(Value::Object(_)) => Ok(value["certificate"].to_string()),
        Some(Value::String(inner)) => Ok(inner.clone()),
        _ => Ok(text),
    }
}

/// Tests whether two paths name the same existing file.
fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
