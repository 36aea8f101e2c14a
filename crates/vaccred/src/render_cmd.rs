//! `vaccred render`: a certificate's PDF from its signed credential JSON.

use std::path::PathBuf;

use anyhow::Context as _;
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
    let max = MAX_CERTIFICATE_SIZE as u64;
    let credential = read_text(&args.file, max)?;
    let mut earlier = Vec::new();
    for path in &args.earlier {
        let text = read_text(path, max)?;
        serde_json::from_str::<serde_json::Value>(&text)
            .with_context(|| format!("{} is not JSON", path.display()))?;
        earlier.push(text);
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

fn read_text(path: &std::path::Path, max: u64) -> anyhow::Result<String> {
    let bytes = read(path, max)?;
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8 JSON", path.display()))
}
