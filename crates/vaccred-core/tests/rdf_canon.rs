//! Runs the W3C RDF Dataset Canonicalization (RDFC-1.0) test suite against `rdf::canonicalize`.

use std::collections::BTreeMap;
use std::path::Path;

use vaccred_core::rdf::{CanonOptions, HashAlgorithm, Serialization, canonicalize, parse_nquads};

fn fixture(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rdf-canon")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn options(entry: &serde_json::Value) -> CanonOptions {
    let hash = match entry["hashAlgorithm"].as_str() {
        Some("SHA384") => HashAlgorithm::Sha384,
        _ => HashAlgorithm::Sha256,
    };
    CanonOptions {
        serialization: Serialization::Rdfc10,
        hash,
        ..CanonOptions::default()
    }
}

#[test]
fn w3c_rdfc10_suite() {
    let manifest: serde_json::Value = serde_json::from_str(&fixture("manifest.jsonld")).unwrap();
    let entries = manifest["entries"].as_array().unwrap();
    let mut failures = Vec::new();
    for entry in entries {
        let id = entry["id"].as_str().unwrap();
        let kind = entry["type"].as_str().unwrap();
        let input = parse_nquads(&fixture(entry["action"].as_str().unwrap())).unwrap();
        let result = canonicalize(&input, &options(entry));
        let passed = match kind {
            "rdfc:RDFC10EvalTest" => result
                .as_ref()
                .is_ok_and(|c| c.nquads == fixture(entry["result"].as_str().unwrap())),
            "rdfc:RDFC10MapTest" => {
                let expected: BTreeMap<String, String> =
                    serde_json::from_str(&fixture(entry["result"].as_str().unwrap())).unwrap();
                result
                    .as_ref()
                    .is_ok_and(|c| c.issued.iter().cloned().collect::<BTreeMap<_, _>>() == expected)
            }
            "rdfc:RDFC10NegativeEvalTest" => result.is_err(),
            other => panic!("unknown test type {other}"),
        };
        if !passed {
            failures.push(format!("{id} ({kind}): {result:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} failed:\n{}",
        failures.len(),
        entries.len(),
        failures.join("\n")
    );
}
