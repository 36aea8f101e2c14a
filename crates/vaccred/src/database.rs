//! The database of `vaccred serve`, opened by the commands that work on it directly.

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use vaccred_server::config::Config;
use vaccred_store::Store;

/// Opens the database that `vaccred serve` with `config` uses, runs `action` on it and
/// closes it.
pub(crate) fn with_store<T>(
    config: &Config,
    action: impl AsyncFnOnce(&Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = Store::open(config.database_url().expose_secret())
            .await
            .context("cannot open the database")?;
        let result = action(&store).await;
        store.close().await;
        result
    })
}
