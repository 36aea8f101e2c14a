//! Renders certificates to PDF and checks them the way a person would: rasterised with
//! `pdftoppm`, the QR code scanned back and verified, the text extracted with
//! `pdftotext`. Needs Debian's poppler-utils.

mod support;

use serde_json::{Value, json};
use vaccred_core::jsonld::Processor;
use vaccred_core::qr::{QrEncoding, QrSymbol, decode_payload};
use vaccred_core::verify::{VerifyOptions, verify_credential};
use vaccred_pdf::fonts::missing_glyphs;
use vaccred_pdf::{Certificate, CertificateKind, RenderError, Renderer, RendererConfig};

use support::{
    TestSigner, default_renderer, fixture, fixture_path, pdf_fonts, pdf_info, pdf_text, rasterize,
    render, scan_qr,
};

fn unsigned(name: &str) -> Value {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// Scans the QR code out of the rendered page and returns the credential it carries.
fn scan_credential(pdf: &[u8]) -> Value {
    let payload = scan_qr(pdf).unwrap();
    let decoded = decode_payload(&payload).unwrap();
    serde_json::from_slice(&decoded.json).unwrap()
}

fn verifies(signer: &TestSigner, credential: Value) -> bool {
    let options = VerifyOptions {
        now: None,
        ..VerifyOptions::default()
    };
    let object = credential.as_object().unwrap().clone();
    verify_credential(&Processor::default(), &signer.trust, object, &options, None).is_valid()
}

#[test]
fn qr_code_scans_and_verifies() {
    let signer = TestSigner::new();
    let signed = signer.sign(&unsigned("jamaica-v3-dose2.json"));
    let pdf = render(&default_renderer(), &signed, &[]);

    let scanned = scan_credential(&pdf);
    let original: Value = serde_json::from_str(&signed).unwrap();
    assert_eq!(scanned, original);
    assert!(verifies(&signer, scanned));
}

#[test]
fn divoc_issued_credential_renders() {
    for name in ["divoc-cowin-ed25519.json", "divoc-dev-ed25519.json"] {
        let json = fixture(name);
        let pdf = render(&default_renderer(), &json, &[]);
        let payload = scan_qr(&pdf).unwrap_or_else(|error| panic!("{name}: {error}"));
        let scanned: Value =
            serde_json::from_slice(&decode_payload(&payload).unwrap().json).unwrap();
        assert_eq!(
            scanned,
            serde_json::from_str::<Value>(&json).unwrap(),
            "{name}"
        );
        let text = pdf_text(&pdf);
        let credential: Value = serde_json::from_str(&json).unwrap();
        let name_field = credential["credentialSubject"]["name"].as_str().unwrap();
        assert!(text.contains(name_field), "{name}: {text}");
    }
}

/// Measures the dark area of the QR code: the bounding box of dark pixels in the right
/// column of the page's upper half, in millimetres.
fn qr_width_mm(pdf: &[u8]) -> f64 {
    let raster = rasterize(pdf, 100);
    let (width, height) = (raster.width as usize, raster.height as usize);
    let (mut left, mut right) = (width, 0);
    for y in height / 8..height / 2 {
        for x in width * 3 / 5..width {
            if raster.pixels[y * width + x] < 128 {
                left = left.min(x);
                right = right.max(x);
            }
        }
    }
    assert!(right > left, "no dark pixels where the QR code should be");
    (right - left + 1) as f64 * 25.4 / f64::from(raster.dpi)
}

#[test]
fn qr_code_is_at_least_40_mm() {
    let pdf = render(&default_renderer(), &fixture("jamaica-v3-dose2.json"), &[]);
    let width = qr_width_mm(&pdf);
    assert!(width >= 40.0, "QR code is {width:.1} mm wide");
}

#[test]
fn text_has_every_field() {
    let pdf = render(
        &default_renderer(),
        &fixture("jamaica-v3-dose2.json"),
        &[fixture("jamaica-v3-dose1.json")],
    );
    let text = pdf_text(&pdf);
    let expected = [
        "COVID-19 Vaccination Certificate",
        "Final",
        "Shanice Brown",
        "1990-01-01",
        "Female",
        "JM-PEC-000123",
        "Pfizer-BioNTech COVID-19 Vaccine",
        "COVID-19 vaccine, mRNA based",
        "XM8NQ0",
        "Pfizer-BioNTech",
        "FE3591",
        // The vaccination's own date, not shifted into another day by its -05:00 offset.
        "2021-06-12",
        "2 of 2",
        "National Arena Vaccination Site",
        "Nurse Dionne Campbell",
        "JAM",
        // The earlier dose's row: date, vaccine and batch.
        "2021-05-22",
        "EW0182",
        "700000002",
        "https://moh.gov.jm/",
        "2021-06-13",
        "Ministry of Health and Wellness, Jamaica",
        "Verify at https://moh.gov.jm/verify",
    ];
    for field in expected {
        assert!(text.contains(field), "{field:?} missing from:\n{text}");
    }
    assert!(!text.contains("2021-06-13T"), "{text}");
}

#[test]
fn dose_status_follows_dose_and_total() {
    let renderer = default_renderer();
    let cases = [(1, 2, "Provisional"), (2, 2, "Final"), (3, 2, "Booster")];
    for (dose, total, label) in cases {
        let mut credential = unsigned("jamaica-v3-dose2.json");
        credential["evidence"][0]["dose"] = json!(dose);
        credential["evidence"][0]["totalDoses"] = json!(total);
        let pdf = render(&renderer, &credential.to_string(), &[]);
        let text = pdf_text(&pdf);
        assert!(text.contains(label), "dose {dose} of {total}: {text}");
        assert!(text.contains(&format!("{dose} of {total}")), "{text}");
    }
}

/// Names in each bundled script, with the PostScript name of the font that should print
/// them.
const NAMES: &[(&str, &str, &str)] = &[
    ("Devanagari", "अनन्या शर्मा", "NotoSansDevanagari-Regular"),
    ("Arabic", "فاطمة الزهراء", "NotoSansArabic-Regular"),
    ("Hebrew", "נועה כהן", "NotoSansHebrew-Regular"),
    ("Thai", "สมชาย ใจดี", "NotoSansThai-Regular"),
    ("Tamil", "முருகன்", "NotoSansTamil-Regular"),
    ("Bengali", "রহিম উদ্দিন", "NotoSansBengali-Regular"),
    ("Gujarati", "અમિત પટેલ", "NotoSansGujarati-Regular"),
    ("Gurmukhi", "ਹਰਪ੍ਰੀਤ ਸਿੰਘ", "NotoSansGurmukhi-Regular"),
    ("Kannada", "ರಾಘವೇಂದ್ರ", "NotoSansKannada-Regular"),
    ("Malayalam", "അനിൽ കുമാർ", "NotoSansMalayalam-Regular"),
    ("Odia", "ସୁବ୍ରତ ଦାସ", "NotoSansOriya-Regular"),
    ("Telugu", "వెంకటేశ్వర్లు", "NotoSansTelugu-Regular"),
    ("simplified Chinese", "王小明", "NotoSansCJKsc-Regular"),
    ("traditional Chinese", "陳大文", "NotoSansCJKsc-Regular"),
    ("traditional Chinese", "張國榮", "NotoSansCJKsc-Regular"),
    ("traditional Chinese", "劉德華", "NotoSansCJKsc-Regular"),
    ("traditional Chinese", "黃志明", "NotoSansCJKsc-Regular"),
    ("Korean", "김민준", "NotoSansCJKkr-Regular"),
    ("Cyrillic", "Анна Иванова", "NotoSans-Regular"),
    ("accented Latin", "José Ñúñez Dvořák", "NotoSans-Regular"),
];

#[test]
fn bundled_fonts_cover_names() {
    for (script, name, _) in NAMES {
        assert_eq!(missing_glyphs(name), Vec::<char>::new(), "{script}: {name}");
    }
}

#[test]
fn names_in_each_script_round_trip() {
    let signer = TestSigner::new();
    let renderer = default_renderer();
    for (script, name, font) in NAMES {
        let mut credential = unsigned("jamaica-v3-dose2.json");
        credential["credentialSubject"]["name"] = json!(name);
        let signed = signer.sign(&credential);
        let certificate = Certificate::from_signed(&signed, &[] as &[String]).unwrap();
        assert_eq!(
            renderer.missing_glyphs(&certificate),
            Vec::<char>::new(),
            "{script}: {name}"
        );

        let pdf = renderer.render(&certificate, "en").unwrap();
        let text = pdf_text(&pdf);
        // pdftotext puts spaces between some clusters of Indic scripts (Odia, for one), so
        // the characters are compared without white space.
        let squeeze = |text: &str| text.split_whitespace().collect::<String>();
        let found = text
            .lines()
            .any(|line| squeeze(line).contains(&squeeze(name)));
        assert!(found, "{script} name {name:?} not in text:\n{text}");
        let fonts = pdf_fonts(&pdf);
        assert!(
            fonts.contains(&format!("+{font}")),
            "{script}: {font} not embedded:\n{fonts}"
        );
        assert!(verifies(&signer, scan_credential(&pdf)), "{script}");
    }
}

#[test]
fn long_values_stay_on_one_page() {
    let mut credential = unsigned("jamaica-v3-dose2.json");
    let long_name = "Alexandra Maria-Josephine Montgomery-Fitzwilliam ".repeat(6);
    credential["credentialSubject"]["name"] = json!(long_name.trim());
    credential["evidence"][0]["facility"]["name"] = json!("X".repeat(200));
    credential["evidence"][0]["batch"] = json!("B".repeat(120));
    let others: Vec<String> = (0..30)
        .map(|i| {
            let mut other = unsigned("jamaica-v3-dose1.json");
            other["evidence"][0]["certificateId"] = json!(format!("6000000{i:02}"));
            other["evidence"][0]["batch"] = json!(format!("OLD{i:02}"));
            other.to_string()
        })
        .collect();
    let pdf = render(&default_renderer(), &credential.to_string(), &others);
    let info = pdf_info(&pdf);
    assert!(info.contains("Pages:           1"), "{info}");
    let text = pdf_text(&pdf);
    assert!(text.contains("Montgomery-Fitzwilliam"), "{text}");
    assert!(text.contains("older doses are not listed"), "{text}");
    // Nothing may be drawn outside the page: the rasterised margins stay white.
    let raster = rasterize(&pdf, 50);
    let width = raster.width as usize;
    for y in 0..raster.height as usize {
        let row = &raster.pixels[y * width..(y + 1) * width];
        assert!(
            row[..4].iter().all(|p| *p > 200),
            "left margin dark at row {y}"
        );
        assert!(
            row[width - 4..].iter().all(|p| *p > 200),
            "right margin dark at row {y}"
        );
    }
}

#[test]
fn huge_values_are_cut_to_one_page() {
    let renderer = Renderer::new(&RendererConfig {
        issuer_name: "Ministry of Health and Wellness, Jamaica".into(),
        footer: "Verify this certificate by scanning its QR code. ".repeat(35),
        ..RendererConfig::default()
    })
    .unwrap();
    let mut credential = unsigned("jamaica-v3-dose2.json");
    credential["credentialSubject"]["name"] = json!("Abc ".repeat(3000).trim());
    credential["evidence"][0]["facility"]["name"] = json!("Health Centre ".repeat(300).trim());
    // U+FDFD is one character several em wide, so a short run of it is already too wide.
    credential["evidence"][0]["batch"] = json!("\u{FDFD}".repeat(400));
    let pdf = render(&renderer, &credential.to_string(), &[]);

    let info = pdf_info(&pdf);
    assert!(info.contains("Pages:           1"), "{info}");
    let text = pdf_text(&pdf);
    assert!(text.contains("Abc Abc"), "{text}");
    assert!(text.contains("Health Centre"), "{text}");
    assert_eq!(
        scan_credential(&pdf),
        credential,
        "the QR code has every value whole"
    );
}

#[test]
fn rendering_is_deterministic() {
    let json = fixture("jamaica-v3-dose2.json");
    let first = render(&default_renderer(), &json, &[]);
    let second = render(&default_renderer(), &json, &[]);
    assert!(first == second, "two renders differ");
}

#[test]
fn pdf_is_tagged_with_title_and_language() {
    let pdf = render(&default_renderer(), &fixture("jamaica-v3-dose2.json"), &[]);
    let info = pdf_info(&pdf);
    assert!(info.contains("Tagged:          yes"), "{info}");
    assert!(
        info.contains("Title:           COVID-19 Vaccination Certificate"),
        "{info}"
    );
    assert!(
        info.contains("CreationDate:") && info.contains("2021"),
        "{info}"
    );
    let raw = String::from_utf8_lossy(&pdf);
    assert!(
        raw.contains("/Lang (en)") || raw.contains("/Lang(en)"),
        "no /Lang entry"
    );
}

#[test]
fn template_directory_overrides_default() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vaccination.en.typ"),
        "#let data = json(\"/certificate.json\")\n#set document(title: \"Custom\")\nCUSTOM #data.name\n",
    )
    .unwrap();
    let renderer = Renderer::new(&RendererConfig {
        templates_dir: Some(dir.path().to_owned()),
        ..RendererConfig::default()
    })
    .unwrap();
    let pdf = render(&renderer, &fixture("jamaica-v3-dose2.json"), &[]);
    assert!(pdf_text(&pdf).contains("CUSTOM Shanice Brown"));
}

#[test]
fn language_falls_back_to_english() {
    let renderer = default_renderer();
    let certificate =
        Certificate::from_signed::<&str>(&fixture("jamaica-v3-dose2.json"), &[]).unwrap();
    let pdf = renderer.render(&certificate, "es").unwrap();
    assert!(pdf_text(&pdf).contains("COVID-19 Vaccination Certificate"));
    let error = renderer.render(&certificate, "../etc").unwrap_err();
    assert!(
        matches!(error, RenderError::InvalidLanguage { .. }),
        "{error}"
    );
}

fn render_with_template(template: &str) -> RenderError {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("vaccination.en.typ"), template).unwrap();
    let renderer = Renderer::new(&RendererConfig {
        templates_dir: Some(dir.path().to_owned()),
        ..RendererConfig::default()
    })
    .unwrap();
    let certificate =
        Certificate::from_signed::<&str>(&fixture("jamaica-v3-dose2.json"), &[]).unwrap();
    renderer.render(&certificate, "en").unwrap_err()
}

#[test]
fn template_error_names_file_and_line() {
    let error = render_with_template("= Title\n\n#let x = (1 +\n");
    let RenderError::Template { file, line, .. } = &error else {
        panic!("expected a template error, got {error}");
    };
    assert!(file.ends_with("vaccination.en.typ"), "{error}");
    assert_eq!(*line, 3, "{error}");
}

#[test]
fn template_cannot_read_other_files() {
    let manifest = fixture_path("jamaica-v3-dose1.json");
    for path in [
        "/etc/passwd",
        "../../etc/passwd",
        manifest.to_str().unwrap(),
    ] {
        let error = render_with_template(&format!("#read(\"{path}\")\n"));
        assert!(
            matches!(error, RenderError::Template { .. }),
            "{path}: {error}"
        );
    }
}

#[test]
fn template_past_one_page_is_rejected() {
    let error = render_with_template("Page 1\n#pagebreak()\nPage 2\n");
    assert!(
        matches!(error, RenderError::NotOnePage { pages: 2, .. }),
        "{error}"
    );
}

#[test]
fn invalid_credential_names_field() {
    let error = Certificate::from_signed::<&str>("{\"evidence\": []}", &[]).unwrap_err();
    assert!(error.to_string().contains("evidence[0]"), "{error}");
    let error = Certificate::from_signed::<&str>(
        "{\"evidence\": [{}], \"issuanceDate\": \"yesterday\"}",
        &[],
    )
    .unwrap_err();
    assert!(error.to_string().contains("issuanceDate"), "{error}");
}

#[test]
fn bundled_templates_pass_the_check() {
    let renderer = default_renderer();
    renderer.check("en").unwrap();
    let error = renderer.check("not a tag").unwrap_err();
    assert!(
        matches!(error, RenderError::InvalidLanguage { .. }),
        "{error}"
    );
}

#[test]
fn test_certificate_has_every_field() {
    let renderer = default_renderer();
    let pdf = renderer
        .render(&Certificate::sample(CertificateKind::Test), "en")
        .unwrap();
    let text = pdf_text(&pdf);
    for field in [
        "COVID-19 Test Certificate",
        "Sample Beneficiary",
        "Sample antigen test",
        "Antigen",
        "Negative",
        "2021-05-01",
        "Sample Health Centre",
        "000000003",
    ] {
        assert!(text.contains(field), "{field:?} not in text:\n{text}");
    }
}

#[test]
fn earlier_doses_skip_tests_and_undated_records() {
    let renderer = default_renderer();
    let current = fixture("jamaica-v3-dose2.json");
    let mut undated = unsigned("jamaica-v3-dose1.json");
    undated["evidence"][0]["date"] = json!("");
    undated["evidence"][0]["batch"] = json!("UNDATED-BATCH");
    let mut test = unsigned("jamaica-v3-dose1.json");
    test["type"] = json!(["VerifiableCredential", "ProofOfTestCertificateCredential"]);
    test["evidence"][0]["batch"] = json!("TEST-BATCH");
    let others = [
        fixture("jamaica-v3-dose1.json"),
        undated.to_string(),
        test.to_string(),
    ];
    let text = pdf_text(&render(&renderer, &current, &others));
    assert!(text.contains("EW0182"), "{text}");
    assert!(!text.contains("UNDATED-BATCH"), "{text}");
    assert!(!text.contains("TEST-BATCH"), "{text}");
}

#[test]
fn broken_earlier_credential_is_named() {
    let current = fixture("jamaica-v3-dose2.json");
    let error =
        Certificate::from_signed(&current, &["{}".to_owned(), "not json".to_owned()]).unwrap_err();
    assert!(
        error.to_string().contains("earlier credential 1"),
        "{error}"
    );
}

#[test]
fn both_logos_are_printed() {
    let dir = tempfile::tempdir().unwrap();
    let png = |text: &[u8], name: &str| {
        let symbol = QrSymbol::encode(text, QrEncoding::DivocLatin1Utf8).unwrap();
        let path = dir.path().join(name);
        std::fs::write(&path, symbol.to_png(2).unwrap()).unwrap();
        path
    };
    let renderer = Renderer::new(&RendererConfig {
        logo: Some(png(b"ministry", "ministry.png")),
        second_logo: Some(png(b"coat of arms", "arms.png")),
        issuer_name: "Ministry of Health and Wellness, Jamaica".into(),
        ..RendererConfig::default()
    })
    .unwrap();
    let pdf = render(&renderer, &fixture("jamaica-v3-dose2.json"), &[]);
    let path = dir.path().join("certificate.pdf");
    std::fs::write(&path, &pdf).unwrap();
    let listing = std::process::Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages (Debian poppler-utils) is needed");
    let listing = String::from_utf8(listing.stdout).unwrap();
    // Two header lines, then one line per image: the two logos and the QR code.
    assert_eq!(listing.lines().count(), 5, "{listing}");
    assert!(pdf_text(&pdf).contains("Ministry of Health and Wellness, Jamaica"));

    let Err(error) = Renderer::new(&RendererConfig {
        second_logo: Some(dir.path().join("missing.png")),
        ..RendererConfig::default()
    }) else {
        panic!("a missing logo was accepted");
    };
    assert!(error.to_string().contains("missing.png"), "{error}");

    let text = dir.path().join("logo.png");
    std::fs::write(&text, "not an image").unwrap();
    let Err(error) = Renderer::new(&RendererConfig {
        logo: Some(text),
        ..RendererConfig::default()
    }) else {
        panic!("a text file named .png was accepted as a logo");
    };
    let message = error.to_string();
    assert!(message.contains("logo.png"), "{message}");
    assert!(message.contains("not a PNG image"), "{message}");
}

#[test]
fn missing_glyphs_are_reported() {
    let renderer = default_renderer();
    let mut credential = unsigned("jamaica-v3-dose2.json");
    // Ethiopic, which no bundled font covers.
    credential["credentialSubject"]["name"] = json!("አበበ Brown");
    let certificate = Certificate::from_signed(&credential.to_string(), &[] as &[String]).unwrap();
    assert_eq!(renderer.missing_glyphs(&certificate), ['አ', 'በ']);
    let covered =
        Certificate::from_signed(&fixture("jamaica-v3-dose2.json"), &[] as &[String]).unwrap();
    assert!(renderer.missing_glyphs(&covered).is_empty());
}
