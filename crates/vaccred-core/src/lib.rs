//! DIVOC-compatible vaccination credentials: the data model, JSON-LD canonicalization
//! (URDNA2015), Linked Data proofs, QR payloads and offline verification.
//!
//! This crate has no async runtime, database or web framework, and builds for
//! `wasm32-unknown-unknown`. Signing is available on native targets only; verification
//! runs everywhere.
#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod credential;
pub mod jsonld;
pub mod keys;
pub mod phone;
pub mod proof;
pub mod qr;
pub mod rdf;
pub mod revocation;
#[cfg(not(target_arch = "wasm32"))]
pub mod sign;
pub mod verify;
