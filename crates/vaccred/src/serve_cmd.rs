//! `vaccred serve`: run the HTTP service until SIGTERM or SIGINT.

use std::path::PathBuf;

use anyhow::Context as _;
use vaccred_server::config::load_from_process;
use vaccred_server::telemetry::init_logging;
use vaccred_server::{Server, shutdown_signal};

/// Arguments of `vaccred serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// TOML configuration file [default: $VACCRED_CONFIG, else built-in defaults;
    /// VACCRED_* environment variables override either].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<()> {
    let config = load_from_process(args.config.as_deref())?;
    init_logging(&config)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let server = Server::start(config).await?;
        server.run(shutdown_signal()).await?;
        Ok(())
    })
}
