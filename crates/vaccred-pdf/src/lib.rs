//! Certificate PDFs: a one-page A4 tagged PDF with the QR code, rendered in process from
//! a Typst template.
//!
//! A [`Renderer`] parses the fonts and templates once and then renders any number of
//! [`Certificate`]s, from several threads at once if wanted. Templates are Typst files
//! (see [`templates`](crate::templates)). They read the certificate fields from
//! `/certificate.json`, the QR code from `/qr.pdf` (or `/qr.raw`) and the configured issuer name, footer
//! and logo from `/settings.json`. Typst markup runs sandboxed: the renderer's world
//! serves only those files, the template files and the fonts, so a template cannot read
//! other files, reach the network or run programs.

#![forbid(unsafe_code)]

mod certificate;
pub mod fonts;
mod qr;
pub mod templates;
mod world;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use typst::diag::{Severity, SourceDiagnostic, Warned};
use typst::foundations::{Bytes, Datetime, Smart};
use typst::{World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, Timestamp};
use vaccred_core::qr::{QrEncoding, QrError, QrSymbol, write_zip};

pub use certificate::{Certificate, CertificateKind, MAX_EARLIER_DOSES};
pub use world::{DATA_PATH, QR_PATH, QR_PDF_PATH, SETTINGS_PATH};

use templates::TemplateSet;
use world::{QrFiles, RenderWorld, Shared, file_id};

/// Maximum size of the logo file, in bytes.
pub const MAX_LOGO_SIZE: u64 = 4 * 1024 * 1024;

/// Renders after which Typst's memoisation cache is aged once. Entries unused for
/// [`CACHE_MAX_AGE`] agings are dropped, so memory stays bounded while the layout of the
/// unchanged parts of a template is reused.
const EVICT_EVERY: usize = 32;
const CACHE_MAX_AGE: usize = 4;

/// Errors from building a renderer or rendering a certificate.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The credential JSON lacks a field the renderer needs.
    #[error("invalid credential: {reason}")]
    InvalidCredential {
        /// The fault, naming the field.
        reason: String,
    },
    /// The language is not a language tag such as `en` or `es-419`.
    #[error("invalid language {language:?}: expected a tag such as en, es or pt-BR")]
    InvalidLanguage {
        /// The language given.
        language: String,
    },
    /// No template exists for the certificate kind, in the language or in English.
    #[error("no template {name}; add it to the templates directory")]
    TemplateNotFound {
        /// The template file name looked for.
        name: String,
    },
    /// The template failed to compile.
    #[error("template error in {file} line {line}: {message}")]
    Template {
        /// The template file, as a path in the templates directory or `bundled:NAME`.
        file: String,
        /// The 1-based line, or 0 when the error has no position.
        line: usize,
        /// Typst's message, with its hints.
        message: String,
    },
    /// The template laid the certificate out on more than one page.
    #[error(
        "template {template} produced {pages} pages; a certificate must fit on one page, \
         so make the template shrink or cut content that does not fit"
    )]
    NotOnePage {
        /// The template file name.
        template: String,
        /// Number of pages produced.
        pages: usize,
    },
    /// A configured file or directory could not be read.
    #[error("cannot read {path}: {reason}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        reason: String,
    },
    /// The QR code could not be built from the credential.
    #[error("QR code: {0}")]
    Qr(#[from] QrError),
    /// Typst's PDF export failed.
    #[error("PDF export failed: {message}")]
    Export {
        /// Typst's message.
        message: String,
    },
}

/// Time spent in each step of one render.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderProfile {
    /// Template lookup, the data JSON and the QR code (ZIP, symbol, SVG).
    pub prepare: Duration,
    /// Typst evaluation and layout.
    pub compile: Duration,
    /// PDF export, with font subsetting, and aging of the layout cache.
    pub export: Duration,
}

/// Settings of a [`Renderer`]: where to find templates and fonts, and the texts that
/// templates print around the certificate.
#[derive(Debug, Clone, Default)]
pub struct RendererConfig {
    /// Directory whose files override and add to the bundled templates.
    pub templates_dir: Option<PathBuf>,
    /// Directory of extra font files, added after the bundled fonts.
    pub fonts_dir: Option<PathBuf>,
    /// Issuer name printed on the certificate.
    pub issuer_name: String,
    /// Logo image (PNG, JPEG or SVG) printed at the start of the header.
    pub logo: Option<PathBuf>,
    /// Second logo image printed at the end of the header, such as a coat of arms.
    pub second_logo: Option<PathBuf>,
    /// Footer text.
    pub footer: String,
}

/// Renders certificates with fonts and templates loaded once.
pub struct Renderer {
    shared: Shared,
    templates: TemplateSet,
    renders: AtomicUsize,
    /// Whether the issuer name or the footer has characters wider than 1.2 em.
    settings_wide: bool,
}

impl std::fmt::Debug for Renderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Renderer")
            .field(
                "templates",
                &self.templates.files.keys().collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Renderer {
    /// Loads the bundled fonts and templates, then the configured directories and logo.
    ///
    /// # Errors
    ///
    /// Returns [`RenderError::Io`] naming the file when a configured directory, font or
    /// logo cannot be read.
    pub fn new(config: &RendererConfig) -> Result<Self, RenderError> {
        let mut fonts = fonts::bundled();
        if let Some(dir) = &config.fonts_dir {
            fonts.extend(fonts::from_dir(dir)?);
        }
        let templates = TemplateSet::load(config.templates_dir.as_deref())?;
        let mut extra_files = Vec::new();
        let mut add_logo = |path: &Option<PathBuf>, stem: &str| -> Result<_, RenderError> {
            let Some(path) = path else {
                return Ok(None);
            };
            let (virtual_path, bytes) = read_logo(path, stem)?;
            extra_files.push((virtual_path.clone(), bytes));
            Ok(Some(virtual_path))
        };
        let logo_path = add_logo(&config.logo, "logo")?;
        let second_logo_path = add_logo(&config.second_logo, "second-logo")?;
        let settings = json!({
            "issuerName": config.issuer_name,
            "footer": config.footer,
            "logo": logo_path,
            "secondLogo": second_logo_path,
        });
        extra_files.push((SETTINGS_PATH.to_owned(), settings.to_string().into_bytes()));
        let shared = Shared::new(fonts, &templates, extra_files);
        Ok(Self {
            shared,
            templates,
            renders: AtomicUsize::new(0),
            settings_wide: has_wide_forms(&config.issuer_name) || has_wide_forms(&config.footer),
        })
    }

    /// Returns the characters of the certificate's fields that no loaded font (bundled or
    /// from the fonts directory) has a glyph for, each once, in order. They print as
    /// missing-glyph boxes; a font that covers them belongs in the fonts directory.
    pub fn missing_glyphs(&self, certificate: &Certificate) -> Vec<char> {
        let mut missing = Vec::new();
        for c in certificate.text_fields().flat_map(str::chars) {
            if !c.is_whitespace()
                && !c.is_control()
                && !missing.contains(&c)
                && !self.shared.covers(c)
            {
                missing.push(c);
            }
        }
        missing
    }

    /// Returns the file name of the template used for `kind` in `language`, after falling
    /// back to the primary language and then English.
    ///
    /// # Errors
    ///
    /// [`RenderError::TemplateNotFound`] when not even the English template exists.
    pub fn template_for(
        &self,
        kind: CertificateKind,
        language: &str,
    ) -> Result<String, RenderError> {
        self.templates.main_for(kind, language)
    }

    /// Checks the settings before the first certificate is rendered: `language` must be a
    /// language tag, and the template of each certificate kind in that language must
    /// render a built-in sample certificate on one page.
    ///
    /// # Errors
    ///
    /// The errors of [`Renderer::render`], such as a template error with its file and line.
    pub fn check(&self, language: &str) -> Result<(), RenderError> {
        validate_language(language)?;
        for kind in [CertificateKind::Vaccination, CertificateKind::Test] {
            self.render(&Certificate::sample(kind), language)?;
        }
        Ok(())
    }

    /// Renders a certificate as a one-page PDF with the template for its kind and
    /// `language` (falling back to English).
    ///
    /// The output depends only on the certificate, the language and the renderer's
    /// configuration: the PDF's creation date is the credential's issuance date and its
    /// identifier derives from the certificate id.
    ///
    /// # Errors
    ///
    /// Returns [`RenderError::Template`] with the file and line when the template fails,
    /// and [`RenderError::NotOnePage`] when the result does not fit on one page. The other
    /// variants cover an invalid language, a missing template and a credential too large
    /// for a QR code.
    pub fn render(
        &self,
        certificate: &Certificate,
        language: &str,
    ) -> Result<Vec<u8>, RenderError> {
        self.render_profiled(certificate, language)
            .map(|(pdf, _)| pdf)
    }

    /// Renders like [`Renderer::render`] and also returns how long each step took.
    ///
    /// # Errors
    ///
    /// The same as [`Renderer::render`].
    pub fn render_profiled(
        &self,
        certificate: &Certificate,
        language: &str,
    ) -> Result<(Vec<u8>, RenderProfile), RenderError> {
        let started = Instant::now();
        validate_language(language)?;
        let template = self.templates.main_for(certificate.kind(), language)?;
        let json = certificate.credential_json.as_bytes();
        let zip = write_zip(json, certificate.zip_modified)?;
        let symbol = QrSymbol::encode(&zip, QrEncoding::DivocLatin1Utf8)?;
        let invalid = |error: serde_json::Error| RenderError::InvalidCredential {
            reason: error.to_string(),
        };
        let mut data = serde_json::to_value(&certificate.data).map_err(invalid)?;
        data["qrSide"] = json!(qr::side(&symbol));
        data["wideForms"] =
            json!(self.settings_wide || has_wide_forms(&certificate.credential_json));
        let data = serde_json::to_vec(&data).map_err(invalid)?;
        let issued = certificate.issued;
        let today = Datetime::Date(issued);
        let world = RenderWorld {
            shared: &self.shared,
            main: file_id(&format!("/{template}")),
            data: Bytes::new(data),
            qr: QrFiles::new(symbol),
            today,
        };
        let prepared = Instant::now();
        let document = self.compile(&world, &template)?;
        let compiled = Instant::now();
        let options = PdfOptions {
            ident: Smart::Custom(format!(
                "vaccred-certificate-{}",
                certificate.certificate_id()
            )),
            creator: Smart::Custom(Some("vaccred".to_owned())),
            timestamp: Some(Timestamp::new_utc(today)),
            ..PdfOptions::default()
        };
        let pdf =
            typst_pdf::pdf(&document, &options).map_err(|diagnostics| RenderError::Export {
                message: join_messages(&diagnostics),
            })?;
        self.age_cache();
        let profile = RenderProfile {
            prepare: prepared - started,
            compile: compiled - prepared,
            export: compiled.elapsed(),
        };
        Ok((pdf, profile))
    }

    fn compile(
        &self,
        world: &RenderWorld<'_>,
        template: &str,
    ) -> Result<PagedDocument, RenderError> {
        let Warned { output, .. } = typst::compile::<PagedDocument>(world);
        let document = output.map_err(|diagnostics| self.template_error(world, &diagnostics))?;
        let pages = document.pages().len();
        if pages != 1 {
            return Err(RenderError::NotOnePage {
                template: template.to_owned(),
                pages,
            });
        }
        Ok(document)
    }

    fn template_error(
        &self,
        world: &RenderWorld<'_>,
        diagnostics: &[SourceDiagnostic],
    ) -> RenderError {
        let Some(first) = diagnostics
            .iter()
            .find(|diagnostic| diagnostic.severity == Severity::Error)
            .or(diagnostics.first())
        else {
            return RenderError::Template {
                file: "(unknown)".into(),
                line: 0,
                message: "compilation failed without a message".into(),
            };
        };
        let id = first.span.id();
        let file = id
            .map(|id| self.describe_file(id.vpath().get_without_slash()))
            .unwrap_or_else(|| "(no file)".into());
        let line = id
            .zip(world.range(first.span))
            .and_then(|(id, range)| world.source(id).ok()?.lines().byte_to_line(range.start))
            .map_or(0, |line| line + 1);
        let mut message = first.message.to_string();
        for hint in &first.hints {
            message.push_str("; hint: ");
            message.push_str(&hint.v);
        }
        RenderError::Template {
            file,
            line,
            message,
        }
    }

    fn describe_file(&self, name: &str) -> String {
        match self.templates.files.get(name).map(|file| &file.origin) {
            Some(templates::Origin::Directory(path)) => path.display().to_string(),
            Some(templates::Origin::Bundled) => format!("bundled:{name}"),
            None => name.to_owned(),
        }
    }

    fn age_cache(&self) {
        let count = self.renders.fetch_add(1, Ordering::Relaxed) + 1;
        if count.is_multiple_of(EVICT_EVERY) {
            typst::comemo::evict(CACHE_MAX_AGE);
        }
    }
}

/// Tests whether `text` has Arabic presentation forms, which can be wider than 1.2 em
/// (the ligature U+FDFD, for one). Templates measure every value when one is present,
/// instead of judging short values by their length.
fn has_wide_forms(text: &str) -> bool {
    text.chars()
        .any(|c| matches!(c, '\u{FB50}'..='\u{FDFF}' | '\u{FE70}'..='\u{FEFF}'))
}

/// Reads a logo file; returns the path templates see it at (`/{stem}.{extension}`) and
/// its bytes.
fn read_logo(path: &Path, stem: &str) -> Result<(String, Vec<u8>), RenderError> {
    let io_error = |reason: String| RenderError::Io {
        path: path.to_owned(),
        reason,
    };
    let extension = path
        .extension()
        .and_then(|extension| extension.to_str())
        .map(str::to_ascii_lowercase)
        .filter(|extension| matches!(extension.as_str(), "png" | "jpg" | "jpeg" | "svg"))
        .ok_or_else(|| io_error("the logo must be a .png, .jpg, .jpeg or .svg file".into()))?;
    let size = std::fs::metadata(path)
        .map_err(|error| io_error(error.to_string()))?
        .len();
    if size > MAX_LOGO_SIZE {
        return Err(io_error(format!(
            "the logo is larger than {MAX_LOGO_SIZE} bytes"
        )));
    }
    let bytes = std::fs::read(path).map_err(|error| io_error(error.to_string()))?;
    // A file whose content does not match its extension would otherwise fail inside the
    // template, with an error that names the template line instead of the logo.
    let head = &bytes[..bytes.len().min(1024)];
    let matches = match extension.as_str() {
        "png" => bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "svg" => String::from_utf8_lossy(head).contains("<svg"),
        _ => bytes.starts_with(&[0xFF, 0xD8, 0xFF]),
    };
    if !matches {
        return Err(io_error(format!(
            "the file is not a {} image: export the logo as PNG, JPEG or SVG and name it \
             with the matching extension",
            extension.to_ascii_uppercase()
        )));
    }
    Ok((format!("/{stem}.{extension}"), bytes))
}

/// Accepts BCP 47-like tags: 2 or 3 ASCII letters, then optional `-` subtags of 1 to 8
/// letters or digits.
///
/// # Errors
///
/// [`RenderError::InvalidLanguage`] for anything else.
pub fn validate_language(language: &str) -> Result<(), RenderError> {
    let mut parts = language.split('-');
    let primary = parts.next().unwrap_or("");
    let primary_ok =
        (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic());
    let rest_ok = parts.all(|part| {
        (1..=8).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    if primary_ok && rest_ok {
        Ok(())
    } else {
        Err(RenderError::InvalidLanguage {
            language: language.to_owned(),
        })
    }
}

fn join_messages(diagnostics: &[SourceDiagnostic]) -> String {
    diagnostics
        .iter()
        .map(|diagnostic| diagnostic.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::has_wide_forms;

    #[test]
    fn wide_forms_are_presentation_forms() {
        assert!(has_wide_forms("Abd \u{FDFD}"));
        assert!(has_wide_forms("\u{FE8D}"));
        assert!(!has_wide_forms("فاطمة الزهراء"));
        assert!(!has_wide_forms("Shanice Brown 王小明"));
    }
}
