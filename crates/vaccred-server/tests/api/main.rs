//! Integration tests: each test starts a real server on a loopback port with its own
//! database and calls it over HTTP. Every test runs on SQLite and on PostgreSQL; the
//! PostgreSQL runs need `VACCRED_TEST_POSTGRES_URL` and fail without it.

mod auth;
mod bulk;
mod certify;
mod fakes;
mod issuing;
mod keys;
mod notifications;
mod oidc;
mod queue;
mod retrieval;
mod revocation_list;
mod revoke;
mod support;
mod system;
mod update;
