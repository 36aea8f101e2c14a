//! Integration tests: each test starts a real server on a loopback port with its own
//! database and calls it over HTTP. Every test runs on SQLite and on PostgreSQL; the
//! PostgreSQL runs need `VACCRED_TEST_POSTGRES_URL` and fail without it.

mod auth;
mod certify;
mod oidc;
mod retrieval;
mod support;
mod system;
