//! Helpers shared by the PDF tests: fixtures, signing and poppler's command-line tools.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};
use vaccred_core::jsonld::Processor;
use vaccred_core::keys::TrustStore;
use vaccred_core::sign::{KeyType, SigningKey, sign_credential};
use vaccred_pdf::{Certificate, Renderer, RendererConfig};

pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).unwrap()
}

pub fn default_renderer() -> Renderer {
    Renderer::new(&RendererConfig {
        issuer_name: "Ministry of Health and Wellness, Jamaica".into(),
        footer: "Verify at https://moh.gov.jm/verify".into(),
        ..RendererConfig::default()
    })
    .unwrap()
}

pub fn render(renderer: &Renderer, json: &str, others: &[String]) -> Vec<u8> {
    let certificate = Certificate::from_signed(json, others).unwrap();
    renderer.render(&certificate, "en").unwrap()
}

/// A signing key and a trust store that trusts it.
pub struct TestSigner {
    key: SigningKey,
    pub trust: TrustStore,
}

impl TestSigner {
    pub fn new() -> Self {
        let key = SigningKey::generate(KeyType::Ed25519, None, "did:jm:moh").unwrap();
        let mut trust = TrustStore::new();
        let pem = key.public_key().to_pem(Some(key.id()));
        trust.add_file_contents(pem.as_bytes()).unwrap();
        Self { key, trust }
    }

    /// Signs an unsigned credential and returns its JSON text.
    pub fn sign(&self, credential: &Value) -> String {
        let object: Map<String, Value> = credential.as_object().unwrap().clone();
        let created = time::macros::datetime!(2021-06-13 04:30:00 UTC);
        let signed = sign_credential(&Processor::default(), &self.key, object, created).unwrap();
        serde_json::to_string(&signed).unwrap()
    }
}

fn write_temporary(pdf: &[u8]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, pdf).unwrap();
    (dir, path)
}

/// Runs a poppler tool on the PDF and returns its standard output. `pdftotext` needs `-`
/// as its output file for that; `pdftoppm` writes there when given no output root.
fn poppler(tool: &str, pdf: &[u8], args: &[&str], stdout_arg: Option<&str>) -> Vec<u8> {
    let (_dir, path) = write_temporary(pdf);
    let output = Command::new(tool)
        .args(args)
        .arg(&path)
        .args(stdout_arg)
        .output()
        .unwrap_or_else(|error| panic!("{tool} (Debian poppler-utils) is needed: {error}"));
    assert!(
        output.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Extracts the PDF's text with `pdftotext`.
pub fn pdf_text(pdf: &[u8]) -> String {
    String::from_utf8(poppler("pdftotext", pdf, &["-enc", "UTF-8"], Some("-"))).unwrap()
}

/// Returns `pdffonts`' table of the fonts embedded in the PDF. Each row starts with the
/// subset's PostScript name, such as `ABCDEF+NotoSans-Regular`.
pub fn pdf_fonts(pdf: &[u8]) -> String {
    String::from_utf8(poppler("pdffonts", pdf, &[], None)).unwrap()
}

/// Returns `pdfinfo`'s report on the PDF.
pub fn pdf_info(pdf: &[u8]) -> String {
    let (_dir, path) = write_temporary(pdf);
    let output = Command::new("pdfinfo").arg(&path).output().unwrap();
    assert!(output.status.success(), "pdfinfo failed");
    String::from_utf8(output.stdout).unwrap()
}

/// A grayscale raster of a page, one byte per pixel.
pub struct Raster {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
    pub dpi: u32,
}

/// Scans the QR code of page 1, rasterised at 400 dpi, and returns its payload. At that
/// resolution an A4 page is 3308 x 4678 pixels, and the core's reader takes at most 4000
/// a side. The raster is therefore cut to its top 4000 rows (254 of 297 mm), which hold
/// the QR code in the bundled templates.
pub fn scan_qr(pdf: &[u8]) -> Result<Vec<u8>, vaccred_core::qr::QrError> {
    let raster = rasterize(pdf, 400);
    let rows = raster.height.min(4000);
    let pixels = &raster.pixels[..(raster.width * rows) as usize];
    vaccred_core::qr::read_qr_luma(pixels, raster.width, rows)
}

/// Rasterises page 1 with `pdftoppm` as a binary PGM and parses it.
pub fn rasterize(pdf: &[u8], dpi: u32) -> Raster {
    let dpi_text = dpi.to_string();
    let args = ["-gray", "-r", &dpi_text, "-f", "1", "-l", "1"];
    let pgm = poppler("pdftoppm", pdf, &args, None);
    parse_pgm(&pgm, dpi)
}

fn parse_pgm(bytes: &[u8], dpi: u32) -> Raster {
    // Header: "P5", width, height and maximum value, each followed by whitespace.
    let mut fields = Vec::new();
    let mut position = 0;
    while fields.len() < 4 {
        while bytes[position].is_ascii_whitespace() {
            position += 1;
        }
        let start = position;
        while !bytes[position].is_ascii_whitespace() {
            position += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..position]).into_owned());
    }
    assert_eq!(fields[0], "P5");
    assert_eq!(fields[3], "255");
    let width: u32 = fields[1].parse().unwrap();
    let height: u32 = fields[2].parse().unwrap();
    let pixels = bytes[position + 1..].to_vec();
    assert_eq!(pixels.len(), (width * height) as usize);
    Raster {
        width,
        height,
        pixels,
        dpi,
    }
}
