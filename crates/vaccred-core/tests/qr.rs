//! End-to-end checks of QR payloads on realistic credentials, through the public API.

use std::time::{Duration, Instant};

use time::PrimitiveDateTime;
use time::macros::datetime;
use vaccred_core::qr::{
    MAX_IMAGE_SIDE, Packing, QrEncoding, QrSymbol, decode_credential, latin1_to_utf8,
    read_qr_image, read_qr_luma, write_zip,
};

const ED25519_JSON: &[u8] = include_bytes!("fixtures/qr/credential-ed25519.json");
const RSA_JSON: &[u8] = include_bytes!("fixtures/qr/credential-rsa.json");
const ISSUED: PrimitiveDateTime = datetime!(2021-08-24 09:13:04);

/// QR versions of the fixture credentials, recorded so that a change in ZIP or
/// symbol encoding that grows the QR code shows up as a test failure.
#[test]
fn fixture_versions_are_stable() {
    let cases = [
        (ED25519_JSON, QrEncoding::Raw, 25),
        (ED25519_JSON, QrEncoding::DivocLatin1Utf8, 31),
        (RSA_JSON, QrEncoding::Raw, 29),
        (RSA_JSON, QrEncoding::DivocLatin1Utf8, 35),
    ];
    for (json, encoding, expected) in cases {
        let zip = write_zip(json, ISSUED).expect("writes");
        let symbol = QrSymbol::encode(&zip, encoding).expect("fits");
        eprintln!(
            "json {} B, zip {} B, {encoding:?}: {} B in the symbol, version {}",
            json.len(),
            zip.len(),
            match encoding {
                QrEncoding::Raw => zip.len(),
                QrEncoding::DivocLatin1Utf8 => latin1_to_utf8(&zip).len(),
            },
            symbol.version()
        );
        assert_eq!(
            symbol.version(),
            expected,
            "{} B JSON, {encoding:?}",
            json.len()
        );
    }
}

/// Decodes the committed images and payloads, so a change in the renderer or the
/// reader that breaks files already handed out fails here.
#[test]
fn committed_fixtures_decode() {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qr");
    let cases = [
        ("credential-ed25519.zip", ED25519_JSON, Packing::Zip),
        (
            "credential-ed25519-divoc.bin",
            ED25519_JSON,
            Packing::DivocLatin1Utf8Zip,
        ),
        (
            "credential-ed25519-b64.txt",
            ED25519_JSON,
            Packing::Base64Zip,
        ),
        ("credential-ed25519-raw.png", ED25519_JSON, Packing::Zip),
        (
            "credential-ed25519-divoc.png",
            ED25519_JSON,
            Packing::DivocLatin1Utf8Zip,
        ),
        (
            "credential-ed25519-divoc.jpg",
            ED25519_JSON,
            Packing::DivocLatin1Utf8Zip,
        ),
        ("credential-rsa.zip", RSA_JSON, Packing::Zip),
        (
            "credential-rsa-divoc.bin",
            RSA_JSON,
            Packing::DivocLatin1Utf8Zip,
        ),
        ("credential-rsa-b64.txt", RSA_JSON, Packing::Base64Zip),
        ("credential-rsa-raw.png", RSA_JSON, Packing::Zip),
        (
            "credential-rsa-divoc.png",
            RSA_JSON,
            Packing::DivocLatin1Utf8Zip,
        ),
        ("credential-rsa.json", RSA_JSON, Packing::Json),
    ];
    for (name, json, packing) in cases {
        let input = std::fs::read(directory.join(name)).expect("fixture exists");
        let decoded = decode_credential(&input).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(decoded.json, json, "{name}");
        assert_eq!(decoded.packing, packing, "{name}");
    }
}

#[test]
fn svg_and_png_agree_on_size() {
    let zip = write_zip(RSA_JSON, ISSUED).expect("writes");
    let symbol = QrSymbol::encode(&zip, QrEncoding::Raw).expect("fits");
    let side = symbol.width() + 8;
    assert!(
        symbol
            .to_svg()
            .contains(&format!("viewBox=\"0 0 {side} {side}\""))
    );
    let png = symbol.to_png(2).expect("renders");
    assert_eq!(
        &png[16..20],
        &u32::try_from(side * 2).expect("small").to_be_bytes()
    );
}

#[test]
fn decode_reports_divoc_packing() {
    let zip = write_zip(RSA_JSON, ISSUED).expect("writes");
    let png = QrSymbol::encode(&zip, QrEncoding::DivocLatin1Utf8)
        .and_then(|symbol| symbol.to_png(3))
        .expect("renders");
    let decoded = decode_credential(&png).expect("decodes");
    assert_eq!(decoded.packing, Packing::DivocLatin1Utf8Zip);
    assert_eq!(decoded.json, RSA_JSON);
}

fn median_of<T>(runs: usize, mut operation: impl FnMut() -> T) -> Duration {
    let mut samples: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(operation());
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[runs / 2]
}

/// Prints the median time of each step. Run with
/// `cargo test --release -p vaccred-core --test qr -- --ignored --nocapture`.
#[test]
#[ignore = "timing report, run by hand in release mode"]
fn qr_timings() {
    for (name, json) in [("ed25519", ED25519_JSON), ("rsa", RSA_JSON)] {
        for encoding in [QrEncoding::Raw, QrEncoding::DivocLatin1Utf8] {
            let zip = write_zip(json, ISSUED).expect("writes");
            let symbol = QrSymbol::encode(&zip, encoding).expect("fits");
            let png = symbol.to_png(4).expect("renders");
            let zip_time = median_of(51, || write_zip(json, ISSUED));
            let encode_time = median_of(51, || QrSymbol::encode(&zip, encoding));
            let png_time = median_of(51, || symbol.to_png(4));
            let svg_time = median_of(51, || symbol.to_svg());
            let image_time = median_of(21, || read_qr_image(&png));
            let decode_time = median_of(21, || decode_credential(&png));
            println!(
                "{name} {encoding:?} v{}: zip {zip_time:?}, encode {encode_time:?}, \
                 png x4 {png_time:?} ({} B), svg {svg_time:?}, read_qr_image {image_time:?}, \
                 decode_credential {decode_time:?}",
                symbol.version(),
                png.len()
            );
        }
    }
}

/// Builds a square frame tiled with 7x7-module finder patterns, `module` pixels per
/// module and one module apart: the worst case found for the QR detector.
fn finder_pattern_grid(side: u32, module: u32) -> Vec<u8> {
    let cell = 8 * module;
    (0..side * side)
        .map(|index| {
            let x = (index % side) % cell / module;
            let y = (index / side) % cell / module;
            if x >= 7 || y >= 7 {
                return 255;
            }
            let ring = x.min(y).min(6 - x).min(6 - y);
            if ring == 1 { 255 } else { 0 }
        })
        .collect()
}

/// Prints how long the detector takes on the largest accepted frame in the worst
/// cases known. Run with
/// `cargo test --release -p vaccred-core --test qr -- --ignored --nocapture`.
#[test]
#[ignore = "timing report, run by hand in release mode"]
fn detector_worst_case_timings() {
    let side = MAX_IMAGE_SIDE;
    for module in [1, 2, 3, 5] {
        let frame = finder_pattern_grid(side, module);
        let start = Instant::now();
        let result = read_qr_luma(&frame, side, side);
        println!(
            "{side}x{side} finder pattern grid, {module} px per module: {:?} in {:?}",
            result.err(),
            start.elapsed()
        );
    }
}
