//! Tests of request parsing and credential building.

mod build;
mod datetime;
mod parse;
mod support;

use time::OffsetDateTime;
use time::macros::datetime;

use super::{CertificateId, CertificationRequest, IssuerConfig, parse_requests};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/requests");

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{FIXTURES}/{name}");
    std::fs::read(&path).unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

/// Parses a fixture that contains an array with one valid request.
fn fixture_request(name: &str) -> CertificationRequest {
    let mut requests = parse_requests(&fixture(name)).expect("fixture is valid");
    assert_eq!(requests.len(), 1, "{name} holds one request");
    requests.remove(0)
}

/// DIVOC's deployed settings (docker-compose of DIVOC 1.24).
fn divoc_config() -> IssuerConfig {
    IssuerConfig {
        issuer: "https://cowin.gov.in/".to_owned(),
        did: "did:india".to_owned(),
        certificate_base_url: "https://cowin.gov.in/vaccine/".to_owned(),
        info_base_url: "https://cowin.gov.in/?".to_owned(),
        feedback_base_url: "https://cowin.gov.in/?".to_owned(),
        default_recipient_country: "IND".to_owned(),
        default_facility_country: "IND".to_owned(),
        ..IssuerConfig::default()
    }
}

fn test_certificate_id() -> CertificateId {
    CertificateId::parse("123456789").expect("valid id")
}

const ISSUANCE_DATE: OffsetDateTime = datetime!(2021-05-01 10:05:00 UTC);
