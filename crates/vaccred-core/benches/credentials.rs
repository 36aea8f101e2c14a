//! Sign and verify throughput of one credential on one core, for Ed25519 and RSA-2048.
//!
//! Run with `cargo bench -p vaccred-core --bench credentials`; `scripts/bench.sh` runs this
//! and the same work in DIVOC's Node signer and prints the ratio.

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Map, Value};
use time::macros::datetime;
use vaccred_core::jsonld::Processor;
use vaccred_core::keys::{KeyId, TrustStore};
use vaccred_core::rdf::{CanonOptions, canonicalize};
use vaccred_core::sign::{SigningKey, sign_credential};
use vaccred_core::verify::{VerifyOptions, verify_credential};

fn fixture(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(relative);
    std::fs::read_to_string(path).expect("fixture")
}

fn credential() -> Map<String, Value> {
    match serde_json::from_str(&fixture("appendix-a/v3-unsigned.json")) {
        Ok(Value::Object(map)) => map,
        _ => panic!("the V3 fixture is not an object"),
    }
}

fn keys() -> Vec<(&'static str, SigningKey)> {
    let id = KeyId::new("did:india").expect("key id");
    let ed25519 = SigningKey::from_base58(
        "41WN3qJL5Agwg8MERbEmMLKnkNstv5iSD8oJ8sRnDyBUegeGKgjqgKm9qZTmhcLQSWCdTkSN3Cd1tPqMn1rjM3BJ",
        Some(id.clone()),
        "did:india",
    )
    .expect("ed25519 key");
    let rsa = SigningKey::from_pem(
        &fixture("divoc/divoc-dev-rsa.priv.pem"),
        Some(id),
        "did:india",
    )
    .expect("rsa key");
    vec![("ed25519", ed25519), ("rsa2048", rsa)]
}

fn bench(c: &mut Criterion) {
    let processor = Processor::default();
    let created = datetime!(2021-05-01 10:05:00 UTC);
    let document = Value::Object(credential());
    c.bench_function("canonicalize_v3", |b| {
        b.iter(|| processor.canonize(black_box(&document)).expect("canonize"))
    });
    c.bench_function("to_rdf_v3", |b| {
        b.iter(|| processor.to_rdf(black_box(&document)).expect("to_rdf"))
    });
    let quads = processor.to_rdf(&document).expect("to_rdf");
    c.bench_function("urdna2015_v3", |b| {
        b.iter(|| canonicalize(black_box(&quads), &CanonOptions::default()).expect("canon"))
    });
    for (name, key) in keys() {
        let unsigned = credential();
        c.bench_function(&format!("sign_{name}"), |b| {
            b.iter(|| sign_credential(&processor, &key, unsigned.clone(), created).expect("sign"))
        });
        let signed = sign_credential(&processor, &key, credential(), created).expect("sign");
        let mut trust = TrustStore::new();
        let pem = key.public_key().to_pem(Some(key.id()));
        trust.add_file_contents(pem.as_bytes()).expect("trust");
        let options = VerifyOptions {
            now: None,
            ..VerifyOptions::default()
        };
        c.bench_function(&format!("verify_{name}"), |b| {
            b.iter(|| {
                let outcome = verify_credential(&processor, &trust, signed.clone(), &options, None);
                assert!(outcome.is_valid());
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
