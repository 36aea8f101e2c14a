//! `vaccred clients`: manage the API clients that may request tokens.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use vaccred_server::auth::Role;
use vaccred_server::auth::clients::register_client;
use vaccred_server::config::load_from_process;
use vaccred_store::Store;

/// Subcommands of `vaccred clients`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ClientsCommand {
    /// Register an API client and print its secret once.
    Add(AddArgs),
}

/// Arguments of `vaccred clients add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// Client id, also its name: 1 to 64 ASCII letters, digits, '.', '_' or '-'.
    name: String,
    /// Role granted to the client; repeat for several (facility-staff, facility-admin,
    /// facility-print-staff, api, admin, recipient, controller, monitoring,
    /// system-admin).
    #[arg(long = "role", required = true, value_parser = parse_role)]
    roles: Vec<Role>,
    /// TOML configuration file naming the database [default: $VACCRED_CONFIG, else
    /// built-in defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn parse_role(text: &str) -> Result<Role, String> {
    text.parse()
        .map_err(|error: vaccred_server::auth::UnknownRole| error.to_string())
}

pub(crate) fn run(command: &ClientsCommand) -> anyhow::Result<()> {
    match command {
        ClientsCommand::Add(args) => add(args),
    }
}

fn add(args: &AddArgs) -> anyhow::Result<()> {
    let config = load_from_process(args.config.as_deref())?;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let registered = runtime.block_on(async {
        let store = Store::open(config.database_url().expose_secret())
            .await
            .context("cannot open the database")?;
        let result = register_client(&store, &args.name, &args.roles).await;
        store.close().await;
        anyhow::Ok(result?)
    })?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "client_id: {}", registered.client.client_id)?;
    writeln!(
        stdout,
        "client_secret: {}",
        registered.secret.expose_secret()
    )?;
    writeln!(stdout, "roles: {}", registered.client.roles.join(", "))?;
    drop(stdout);
    eprintln!("The secret is shown only now. Store it in the client's secret manager.");
    Ok(())
}
