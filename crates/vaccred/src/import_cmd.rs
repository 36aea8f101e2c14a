//! `vaccred import`: store a DIVOC bulk certification CSV file directly in the database.
//!
//! The file is written to the database that `vaccred serve` uses, not posted to a running
//! server: no server, client credentials or upload size limit is needed, and the result is
//! the same as a `/divoc/api/v1/bulkCertify` upload. The upload, its valid rows as certify
//! items and its invalid rows are stored in one transaction. The signing workers of any
//! server on that database pick the items up at their next poll.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use vaccred_core::credential::parse_csv_with_progress;
use vaccred_server::config::load_from_process;
use vaccred_server::routes::bulk::{csv_parse_options, upload_rows};
use vaccred_store::ItemStatus;

use crate::database::with_store;

/// Exit status when the file was stored but some rows were invalid.
const EXIT_ROWS_FAILED: u8 = 1;

/// Arguments of `vaccred import`.
#[derive(Debug, clap::Args)]
pub(crate) struct ImportArgs {
    /// CSV file with DIVOC's 28 template columns in any order and an optional
    /// `programId` column.
    file: PathBuf,
    /// Client id recorded as the uploader. The upload appears in that client's
    /// `/divoc/api/v1/certify/uploads` listing.
    #[arg(long, default_value = "vaccred-import")]
    owner: String,
    /// TOML configuration file naming the database, as for `vaccred serve` [default:
    /// $VACCRED_CONFIG, else built-in defaults; VACCRED_* environment variables override
    /// either].
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Do not show the progress bar.
    #[arg(long)]
    quiet: bool,
}

pub(crate) fn run(args: &ImportArgs) -> anyhow::Result<ExitCode> {
    let config = load_from_process(args.config.as_deref())?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;

    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(bytes.len() as u64)
    };
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {percent:>3}% {msg}")
            .context("invalid progress bar template")?,
    );
    let mut rows_read = 0_u64;
    let region = config.notifications.mobile_region();
    let parsed = parse_csv_with_progress(&bytes, &csv_parse_options(region), |position| {
        rows_read += 1;
        bar.set_position(position);
        if rows_read.is_multiple_of(256) {
            bar.set_message(format!("{rows_read} rows checked"));
        }
    });
    let file = match parsed {
        Ok(file) => file,
        Err(error) => {
            bar.abandon();
            anyhow::bail!("{} was not imported: {error}", args.file.display());
        }
    };
    bar.set_position(bytes.len() as u64);
    bar.set_message(format!("{} rows checked, storing", file.rows.len()));
    let rows = upload_rows(&file).context("cannot serialise a request")?;

    let filename = args
        .file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    std::fs::create_dir_all(&config.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            config.data_dir.display()
        )
    })?;
    let receipt = with_store(&config, async |store| {
        store
            .accept_upload(&args.owner, &filename, &file.columns, &rows)
            .await
            .context("cannot store the upload")
    });
    let receipt = match receipt {
        Ok(receipt) => receipt,
        Err(error) => {
            bar.abandon();
            return Err(error);
        }
    };
    bar.finish_with_message(format!("{} rows stored", file.rows.len()));

    let mut stdout = std::io::stdout().lock();
    let mut failed = 0_usize;
    for row in &file.rows {
        if let Err(problems) = &row.outcome {
            failed += 1;
            writeln!(stdout, "line {}: {}", row.line, problems.join("; "))?;
        }
    }
    let items = &receipt.acknowledgement.items;
    let duplicates = items
        .iter()
        .filter(|item| item.status == ItemStatus::Duplicate)
        .count();
    writeln!(
        stdout,
        "upload {}: {} rows, {} accepted ({duplicates} duplicates of earlier items), \
         {failed} invalid, acknowledgement {}",
        receipt.upload_id,
        file.rows.len(),
        items.len(),
        receipt.acknowledgement.id
    )?;
    if failed > 0 {
        return Ok(ExitCode::from(EXIT_ROWS_FAILED));
    }
    Ok(ExitCode::SUCCESS)
}
