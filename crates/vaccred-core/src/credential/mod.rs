//! Certification requests and the unsigned vaccination credentials built from them.
//!
//! The request format and the credential layout are those of DIVOC 1.24 (`/v1/certify`
//! and `/v3/certify` bodies, and the W3C verifiable credential its certificate signer
//! emits), so existing DIVOC clients and verifiers keep working:
//!
//! 1. `parse_requests` reads a request body and reports every invalid value with its
//!    JSON path.
//! 2. `build_credential` turns one request into the credential JSON, ready for signing.

mod build;
mod config;
mod csv;
mod datetime;
mod error;
mod fields;
mod id;
mod iri;
mod parse;
mod request;
mod vaccines;

#[cfg(test)]
mod tests;

pub use build::build_credential;
pub use config::{IdentityRejectionPattern, IssuerConfig, PatternError, Shape};
pub use csv::{
    CSV_COLUMNS, CsvError, CsvFile, CsvRow, PROGRAM_ID_COLUMN, parse_csv, parse_csv_with_progress,
};
pub use error::{BuildError, Expected, FieldError, Problem, RequestError};
pub use id::{CertificateId, CertificateIdError};
pub use parse::{ParseOptions, parse_requests, parse_requests_with};
pub use request::{
    Address, CertificationRequest, DoseNumber, Facility, Recipient, Vaccination, Vaccinator,
};
pub use vaccines::{VaccineCode, VaccineMapping, VaccineTable};
