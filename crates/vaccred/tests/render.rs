//! `vaccred render`: the same PDF whatever time zone the process runs in, and clear
//! errors for bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/render")
        .join(name)
}

/// Runs `vaccred render` with `TZ` set to `zone`.
fn render(zone: &str, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vaccred"))
        .env("TZ", zone)
        .arg("render")
        .arg(fixture("jamaica-v3-dose2.json"))
        .arg("--earlier")
        .arg(fixture("jamaica-v3-dose1.json"))
        .arg("-o")
        .arg(out)
        .args(extra)
        .output()
        .expect("run vaccred")
}

fn pdf_text(path: &Path) -> String {
    let output = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils) is needed");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn output_is_the_same_in_every_time_zone() {
    let dir = TempDir::new().unwrap();
    let mut outputs = Vec::new();
    for zone in ["UTC", "America/Jamaica", "Asia/Kolkata"] {
        let path = dir.path().join(format!("{}.pdf", zone.replace('/', "-")));
        let output = render(zone, &path, &[]);
        assert!(
            output.status.success(),
            "{zone}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let text = pdf_text(&path);
        // The vaccination at 23:30 -05:00 and the date of birth keep their written dates.
        assert!(text.contains("2021-06-12"), "{zone}: {text}");
        assert!(text.contains("1990-01-01"), "{zone}: {text}");
        outputs.push((zone, std::fs::read(&path).unwrap()));
    }
    let (first_zone, first) = &outputs[0];
    for (zone, pdf) in &outputs[1..] {
        assert!(
            pdf == first,
            "PDF under TZ={zone} differs from TZ={first_zone}"
        );
    }
}

#[test]
fn template_error_is_reported_with_file_and_line() {
    let dir = TempDir::new().unwrap();
    let templates = dir.path().join("templates");
    std::fs::create_dir(&templates).unwrap();
    std::fs::write(
        templates.join("vaccination.en.typ"),
        "Hello\n#unknown-function()\n",
    )
    .unwrap();
    let out = dir.path().join("out.pdf");
    let templates_arg = templates.to_str().unwrap();
    let output = render("UTC", &out, &["--templates-dir", templates_arg]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("vaccination.en.typ line 2"), "{stderr}");
    assert!(!out.exists());
}

#[test]
fn registry_record_renders_as_its_credential() {
    let dir = tempfile::tempdir().unwrap();
    let credential: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("jamaica-v3-dose2.json")).unwrap())
            .unwrap();
    let record = dir.path().join("record.json");
    let body = serde_json::json!({"certificateId": "1", "certificate": credential});
    std::fs::write(&record, body.to_string()).unwrap();
    let out = dir.path().join("out.pdf");
    let output = Command::new(env!("CARGO_BIN_EXE_vaccred"))
        .arg("render")
        .arg(&record)
        .arg("-o")
        .arg(&out)
        .output()
        .expect("run vaccred");
    assert!(output.status.success(), "{output:?}");
    assert!(pdf_text(&out).contains("Vaccination"));
}

#[test]
fn output_over_an_input_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("credential.json");
    std::fs::copy(fixture("jamaica-v3-dose2.json"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_vaccred"))
        .arg("render")
        .arg(&input)
        .arg("-o")
        .arg(&input)
        .output()
        .expect("run vaccred");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("choose another file"), "{stderr}");
    assert_eq!(
        std::fs::read(&input).unwrap(),
        before,
        "the input is unchanged"
    );
}
