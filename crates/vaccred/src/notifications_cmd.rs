//! `vaccred notifications`: list outbox messages and queue failed ones again.

use std::io::Write as _;
use std::path::PathBuf;

use time::format_description::well_known::Rfc3339;
use vaccred_server::config::load_from_process;
use vaccred_store::{
    NotificationFilter, NotificationId, NotificationStatus, NotificationSummary, ResendOutcome,
};

use crate::database::with_store;

/// Subcommands of `vaccred notifications`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum NotificationsCommand {
    /// List SMS and e-mail messages, newest first, without recipients or contents.
    List(ListArgs),
    /// Queue a delivered or failed certificate message for sending again.
    Resend(ResendArgs),
}

/// Arguments of `vaccred notifications list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only messages that failed for good.
    #[arg(long, conflicts_with = "pending")]
    failed: bool,
    /// Only messages waiting for delivery.
    #[arg(long)]
    pending: bool,
    /// Maximum number of messages to list.
    #[arg(long, default_value_t = 50)]
    limit: u32,
    /// TOML configuration file naming the database [default: $VACCRED_CONFIG, else
    /// built-in defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Arguments of `vaccred notifications resend`.
#[derive(Debug, clap::Args)]
pub(crate) struct ResendArgs {
    /// Id of the message, from `vaccred notifications list`.
    id: i64,
    /// TOML configuration file naming the database [default: $VACCRED_CONFIG, else
    /// built-in defaults].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

pub(crate) fn run(command: &NotificationsCommand) -> anyhow::Result<()> {
    match command {
        NotificationsCommand::List(args) => list(args),
        NotificationsCommand::Resend(args) => resend(args),
    }
}

fn list(args: &ListArgs) -> anyhow::Result<()> {
    let config = load_from_process(args.config.as_deref())?;
    let status = if args.failed {
        Some(NotificationStatus::Failed)
    } else if args.pending {
        Some(NotificationStatus::Pending)
    } else {
        None
    };
    let filter = NotificationFilter {
        status,
        limit: args.limit,
    };
    let messages = with_store(&config, async |store| {
        Ok(store.notifications(filter).await?)
    })?;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{:>8}  {:<20}  {:<5}  {:<9}  {:>8}  {:<12}  {:<20}  last error",
        "id", "event", "chan", "status", "attempts", "certificate", "updated"
    )?;
    for message in &messages {
        writeln!(stdout, "{}", row(message))?;
    }
    Ok(())
}

fn row(message: &NotificationSummary) -> String {
    let updated = message
        .updated_at
        .format(&Rfc3339)
        .unwrap_or_else(|_| message.updated_at.to_string());
    format!(
        "{:>8}  {:<20}  {:<5}  {:<9}  {:>8}  {:<12}  {:<20}  {}",
        message.id,
        message.event.as_str(),
        message.channel.as_str(),
        message.status.as_str(),
        format!("{}/{}", message.attempts, message.max_attempts),
        message.certificate_id.as_deref().unwrap_or("-"),
        updated,
        message.last_error.as_deref().unwrap_or("")
    )
}

fn resend(args: &ResendArgs) -> anyhow::Result<()> {
    let config = load_from_process(args.config.as_deref())?;
    let id = NotificationId::new(args.id);
    let max_attempts = config.notifications.max_attempts;
    let outcome = with_store(&config, async |store| {
        Ok(store.resend_notification(id, max_attempts).await?)
    })?;
    match outcome {
        ResendOutcome::Queued => {
            println!("notification {id} queued; a running server sends it within seconds");
            Ok(())
        }
        ResendOutcome::AlreadyPending => {
            println!("notification {id} is already waiting for delivery");
            Ok(())
        }
        ResendOutcome::OneTimeCode => anyhow::bail!(
            "notification {id} is a one-time code, whose code was erased once it was \
             settled: request a new code instead"
        ),
    }
}
