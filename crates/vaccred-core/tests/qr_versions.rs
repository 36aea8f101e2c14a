//! QR symbol versions of signed Appendix A credentials, against DIVOC's versions 30–35.
//!
//! DIVOC's certificate_api (JSZip 3.7.1, node-qrcode 1.4.4) needs version 33 for RSA/V2,
//! 35 for RSA/V3, 30 for Ed25519/V2 and 31 for Ed25519/V3 at level M. RSA-PSS signatures
//! are randomized, so an RSA credential's ZIP size, and its version, varies by one step.

use std::path::Path;

use serde_json::{Map, Value};
use time::macros::datetime;
use vaccred_core::jsonld::Processor;
use vaccred_core::keys::KeyId;
use vaccred_core::qr::{QrEncoding, QrSymbol, decode_credential, write_zip};
use vaccred_core::sign::{SigningKey, sign_credential};

fn fixture(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn unsigned(file: &str) -> Map<String, Value> {
    match serde_json::from_str(&fixture(file)).unwrap() {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn key(kind: &str) -> SigningKey {
    let id = Some(KeyId::new("did:india").unwrap());
    match kind {
        "rsa" => SigningKey::from_pem(&fixture("divoc/divoc-dev-rsa.priv.pem"), id, "did:india"),
        _ => {
            let pair: Value =
                serde_json::from_str(&fixture("divoc/divoc-dev-ed25519.json")).unwrap();
            let private = pair["privateKeyBase58"].as_str().unwrap();
            SigningKey::from_base58(private, id, "did:india")
        }
    }
    .unwrap()
}

#[test]
fn appendix_a_qr_versions() {
    let processor = Processor::default();
    let issued = datetime!(2021-05-01 10:05:00);
    // (key, shape file, highest version with DIVOC's Latin-1-as-UTF-8 bytes, highest with
    // raw bytes); Ed25519 signatures are deterministic, so those versions are exact.
    let cases = [
        ("ed25519", "appendix-a/v2-unsigned.json", 30, 24),
        ("ed25519", "appendix-a/v3-unsigned.json", 31, 25),
        ("rsa", "appendix-a/v2-unsigned.json", 34, 28),
        ("rsa", "appendix-a/v3-unsigned.json", 35, 29),
    ];
    let mut report = Vec::new();
    let mut versions = Vec::new();
    for (kind, file, divoc_version, raw_version) in cases {
        let signed =
            sign_credential(&processor, &key(kind), unsigned(file), issued.assume_utc()).unwrap();
        let json = serde_json::to_vec(&Value::Object(signed)).unwrap();
        let zip = write_zip(&json, issued).unwrap();
        let divoc = QrSymbol::encode(&zip, QrEncoding::DivocLatin1Utf8).unwrap();
        let raw = QrSymbol::encode(&zip, QrEncoding::Raw).unwrap();
        report.push(format!(
            "{kind} {file}: {} B JSON, {} B ZIP, version {} (DIVOC encoding), {} (raw)",
            json.len(),
            zip.len(),
            divoc.version(),
            raw.version()
        ));
        let png = divoc.to_png(2).unwrap();
        assert_eq!(
            decode_credential(&png).unwrap().json,
            json,
            "{kind} {file} PNG round trip"
        );
        versions.push((divoc.version(), divoc_version, raw.version(), raw_version));
    }
    println!("{}", report.join("\n"));
    for ((divoc, divoc_max, raw, raw_max), line) in versions.into_iter().zip(&report) {
        let exact = line.starts_with("ed25519");
        let lowest = |max: u8| if exact { max } else { max - 1 };
        assert!(
            (lowest(divoc_max)..=divoc_max).contains(&divoc),
            "DIVOC encoding: {line}"
        );
        assert!(
            (lowest(raw_max)..=raw_max).contains(&raw),
            "raw encoding: {line}"
        );
    }
}
