//! The vaccred HTTP service: DIVOC 1.24's certification, certificate retrieval and
//! revocation-check APIs, with OAuth2 client credentials, background signing workers,
//! health checks, Prometheus metrics and an OpenAPI document.
//!
//! [`config::load_from_process`] reads the configuration, [`Server::start`] opens the
//! database and binds the listener, and [`Server::run`] serves until a shutdown future
//! such as [`shutdown_signal`] completes.
#![forbid(unsafe_code)]

pub mod auth;
pub mod config;
pub mod error;
pub mod keyfile;
pub mod metrics;
pub mod notify;
pub mod routes;
mod server;
pub mod state;
pub mod telemetry;
mod worker;

pub use server::{Server, StartError, shutdown_signal};
