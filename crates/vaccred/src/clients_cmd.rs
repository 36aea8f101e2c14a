//! `vaccred clients`: manage the API clients that may request tokens.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use secrecy::ExposeSecret as _;
use vaccred_server::auth::Role;
use vaccred_server::auth::clients::{register_client, rotate_client_secret};
use vaccred_server::config::load_from_process;
use vaccred_store::Store;

use crate::database::with_store;

/// Subcommands of `vaccred clients`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ClientsCommand {
    /// Register an API client and print its secret once.
    Add(AddArgs),
    /// List the API clients: id, roles, creation time and whether disabled (no secrets).
    List(ConfigArgs),
    /// Give an API client a new secret and print it once; the old one stops getting
    /// tokens. Tokens already issued stay valid until they expire.
    Rotate(ClientArgs),
    /// Disable an API client: it gets no more tokens. Tokens already issued stay valid
    /// until they expire.
    Disable(ClientArgs),
}

/// The configuration option shared by the subcommands.
#[derive(Debug, clap::Args)]
pub(crate) struct ConfigArgs {
    /// TOML configuration file naming the database [default: $VACCRED_CONFIG, else
    /// built-in defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Arguments of `vaccred clients rotate` and `disable`.
#[derive(Debug, clap::Args)]
pub(crate) struct ClientArgs {
    /// Client id.
    client_id: String,
    #[command(flatten)]
    config: ConfigArgs,
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
        ClientsCommand::List(args) => list(args),
        ClientsCommand::Rotate(args) => rotate(args),
        ClientsCommand::Disable(args) => disable(args),
    }
}

/// Loads the configuration at `path` (or the default) and runs `action` on its database.
fn on_database<T>(
    path: Option<&std::path::Path>,
    action: impl AsyncFnOnce(&Store) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    with_store(&load_from_process(path)?, action)
}

fn list(args: &ConfigArgs) -> anyhow::Result<()> {
    let clients = on_database(args.config.as_deref(), async |store| {
        Ok(store.api_clients().await?)
    })?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "CLIENT ID\tROLES\tCREATED\tDISABLED")?;
    for client in clients {
        let time = |at: time::OffsetDateTime| {
            at.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        writeln!(
            stdout,
            "{}\t{}\t{}\t{}",
            client.client_id,
            client.roles.join(","),
            time(client.created_at),
            client.disabled_at.map_or_else(|| "-".to_owned(), time),
        )?;
    }
    Ok(())
}

fn rotate(args: &ClientArgs) -> anyhow::Result<()> {
    let secret = on_database(args.config.config.as_deref(), async |store| {
        Ok(rotate_client_secret(store, &args.client_id).await?)
    })?;
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "client_id: {}", args.client_id)?;
    writeln!(stdout, "client_secret: {}", secret.expose_secret())?;
    drop(stdout);
    eprintln!(
        "The secret is shown only now. The old secret gets no more tokens; tokens it got \
         stay valid until they expire."
    );
    Ok(())
}

fn disable(args: &ClientArgs) -> anyhow::Result<()> {
    on_database(args.config.config.as_deref(), async |store| {
        Ok(store.disable_api_client(&args.client_id).await?)
    })?;
    eprintln!(
        "API client {} disabled: it gets no more tokens; tokens it got stay valid until \
         they expire.",
        args.client_id
    );
    Ok(())
}

fn add(args: &AddArgs) -> anyhow::Result<()> {
    let config = load_from_process(args.config.as_deref())?;
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let registered = with_store(&config, async |store| {
        Ok(register_client(store, &args.name, &args.roles).await?)
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
