//! `vaccred`: issue and verify DIVOC-compatible vaccination certificates.

mod canonicalize_cmd;
mod clients_cmd;
mod database;
mod files;
mod import_cmd;
mod keys_cmd;
mod notifications_cmd;
mod render_cmd;
mod serve_cmd;
mod sign_cmd;
mod verify_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Issue, distribute and verify DIVOC-compatible vaccination certificates.
#[derive(Debug, Parser)]
#[command(name = "vaccred", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Manage signing keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Sign DIVOC certify requests into credentials with QR codes.
    Sign(sign_cmd::SignArgs),
    /// Verify a certificate: a QR image, ZIP, B64: text or credential JSON.
    Verify(verify_cmd::VerifyArgs),
    /// Print the canonical N-Quads that a credential's signature covers.
    Canonicalize(canonicalize_cmd::CanonicalizeArgs),
    /// Run the HTTP service (certify, retrieval, revocation check) until SIGTERM or SIGINT.
    Serve(serve_cmd::ServeArgs),
    /// Manage the API clients that may request bearer tokens.
    Clients {
        #[command(subcommand)]
        command: clients_cmd::ClientsCommand,
    },
    /// Store a DIVOC bulk certification CSV file in the database of `vaccred serve`.
    Import(import_cmd::ImportArgs),
    /// List SMS and e-mail notifications and queue failed ones again.
    Notifications {
        #[command(subcommand)]
        command: notifications_cmd::NotificationsCommand,
    },
    /// Render a signed credential as a one-page PDF certificate with its QR code.
    Render(render_cmd::RenderArgs),
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Generate a key pair: PREFIX.pem (private, mode 0600) and PREFIX.pub.pem.
    Generate {
        /// Key algorithm.
        #[arg(long = "type", value_enum, default_value_t = KeyKind::Ed25519)]
        key_type: KeyKind,
        /// Output path prefix.
        #[arg(long)]
        out: PathBuf,
        /// Key id used as the proofs' verificationMethod [default: DID#fingerprint].
        #[arg(long)]
        id: Option<String>,
        /// Issuer DID that prefixes the default key id.
        #[arg(long, default_value = "did:jm:moh")]
        did: String,
        /// Replace existing key files.
        #[arg(long)]
        force: bool,
    },
}

/// Signing key algorithms.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum KeyKind {
    /// Ed25519 (Ed25519Signature2018 proofs).
    Ed25519,
    /// RSA 2048 (RsaSignature2018 proofs, PS256).
    Rsa,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keys {
            command:
                KeysCommand::Generate {
                    key_type,
                    out,
                    id,
                    did,
                    force,
                },
        } => keys_cmd::generate(key_type, &out, id, &did, force).map(|()| ExitCode::SUCCESS),
        Command::Sign(args) => sign_cmd::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Verify(args) => verify_cmd::run(&args),
        Command::Canonicalize(args) => canonicalize_cmd::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => serve_cmd::run(&args).map(|()| ExitCode::SUCCESS),
        Command::Clients { command } => clients_cmd::run(&command).map(|()| ExitCode::SUCCESS),
        Command::Import(args) => import_cmd::run(&args),
        Command::Notifications { command } => {
            notifications_cmd::run(&command).map(|()| ExitCode::SUCCESS)
        }
        Command::Render(args) => render_cmd::run(&args).map(|()| ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(verify_cmd::EXIT_COULD_NOT_VERIFY)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
