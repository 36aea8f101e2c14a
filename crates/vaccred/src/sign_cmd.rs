//! `vaccred sign`: certify requests to signed credentials, QR PNG and SVG.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use clap::ValueEnum;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vaccred_core::credential::{
    CertificateId, IssuerConfig, ParseOptions, RequestError, Shape, VaccineTable, build_credential,
    parse_requests_with,
};
use vaccred_core::jsonld::Processor;
use vaccred_core::keys::KeyId;
use vaccred_core::qr::{QrEncoding, QrSymbol, write_zip};
use vaccred_core::sign::{SigningKey, sign_credential};

use crate::files::{Output, read, with_suffix, write_all_atomic};

/// Largest certify request file read, in bytes.
const MAX_REQUEST_FILE: u64 = 64 * 1024 * 1024;
/// Largest key or settings file read, in bytes.
const MAX_SMALL_FILE: u64 = 1024 * 1024;

/// Arguments of `vaccred sign`.
#[derive(Debug, clap::Args)]
pub(crate) struct SignArgs {
    /// DIVOC certify request: one object or DIVOC's array of them.
    request: PathBuf,
    /// Signing key: PEM (PKCS#8 or PKCS#1) or DIVOC's base58 Ed25519 private key.
    #[arg(long)]
    key: PathBuf,
    /// Output prefix: writes PREFIX.json, PREFIX.png and PREFIX.svg (PREFIX-N.* for the Nth
    /// of several requests).
    #[arg(long)]
    out: PathBuf,
    /// Credential shape: v2 (certifyV2, vaccination context v1) or v3 (certifyV3, WHO DDCC).
    #[arg(long, value_enum, default_value_t = ShapeArg::V3)]
    shape: ShapeArg,
    /// verificationMethod of the proof [default: the key file's Key-Id line, else the DID].
    #[arg(long)]
    key_id: Option<String>,
    /// Issuer settings as TOML (issuer, did, certificate_base_url, …) [default: Jamaica].
    #[arg(long)]
    config: Option<PathBuf>,
    /// Vaccine table as TOML: `[[vaccines]]` rows with `vaccine_name` and `icd11_code`, and
    /// an `[icd11_terms]` table of prophylaxis texts [default: DIVOC's table].
    #[arg(long, value_name = "FILE")]
    vaccine_table: Option<PathBuf>,
    /// Certificate id, for a single request [default: 9 random digits].
    #[arg(long)]
    certificate_id: Option<String>,
    /// Issuance time, RFC 3339 [default: now].
    #[arg(long)]
    issued_at: Option<String>,
    /// Encoding of the ZIP bytes in the QR code: divoc (Latin-1 as UTF-8, as DIVOC's
    /// certificate_api) or raw.
    #[arg(long, value_enum, default_value_t = QrArg::Divoc)]
    qr_encoding: QrArg,
    /// Pixels per QR module in the PNG.
    #[arg(long, default_value_t = 4)]
    qr_scale: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ShapeArg {
    V2,
    V3,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum QrArg {
    Divoc,
    Raw,
}

pub(crate) fn run(args: &SignArgs) -> anyhow::Result<()> {
    let config = load_config(args.config.as_deref())?;
    let key = load_key(&args.key, args.key_id.as_deref(), &config.did)?;
    let issued_at = issuance_time(args.issued_at.as_deref())?;
    let shape = match args.shape {
        ShapeArg::V2 => Shape::V2,
        ShapeArg::V3 => Shape::V3,
    };
    let body = read(&args.request, MAX_REQUEST_FILE)?;
    let options = ParseOptions {
        shape,
        today: Some(issued_at.date()),
        mobile_region: None,
    };
    let requests = parse_requests_with(&body, &options)
        .map_err(|error| request_error(&args.request, &error))?;
    if requests.is_empty() {
        bail!(
            "{}: the request array is empty; nothing to sign",
            args.request.display()
        );
    }
    if args.certificate_id.is_some() && requests.len() > 1 {
        bail!(
            "--certificate-id needs a single request, and the file has {}",
            requests.len()
        );
    }
    let processor = Processor::new(config.context_loader());
    let vaccines = load_vaccine_table(args.vaccine_table.as_deref())?;
    for (index, request) in requests.iter().enumerate() {
        let certificate_id = match &args.certificate_id {
            Some(id) => CertificateId::parse(id).context("--certificate-id")?,
            None => CertificateId::random()?,
        };
        let credential = build_credential(
            request,
            &config,
            &vaccines,
            shape,
            &certificate_id,
            issued_at,
        )
        .with_context(|| format!("{}: request {index}", args.request.display()))?;
        let Value::Object(credential) = credential else {
            return Err(anyhow!("the built credential is not a JSON object"));
        };
        let signed = sign_credential(&processor, &key, credential, issued_at)
            .with_context(|| format!("{}: request {index}", args.request.display()))?;
        let prefix = if requests.len() == 1 {
            args.out.clone()
        } else {
            with_suffix(&args.out, &format!("-{}", index + 1))
        };
        let version = write_outputs(args, &prefix, &Value::Object(signed), issued_at)?;
        let line = format!(
            "{}.json: certificate {certificate_id}, QR version {version}",
            prefix.display()
        );
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
    Ok(())
}

fn write_outputs(
    args: &SignArgs,
    prefix: &Path,
    signed: &Value,
    issued_at: OffsetDateTime,
) -> anyhow::Result<u8> {
    let json = serde_json::to_vec(signed)?;
    let issued = time::PrimitiveDateTime::new(issued_at.date(), issued_at.time());
    let zip = write_zip(&json, issued)?;
    let encoding = match args.qr_encoding {
        QrArg::Divoc => QrEncoding::DivocLatin1Utf8,
        QrArg::Raw => QrEncoding::Raw,
    };
    let symbol = QrSymbol::encode(&zip, encoding)
        .context("the signed credential does not fit in a QR code; shorten the longest fields")?;
    let png = symbol.to_png(args.qr_scale).context("--qr-scale")?;
    let svg = symbol.to_svg();
    write_all_atomic(&[
        Output {
            path: with_suffix(prefix, ".json"),
            contents: &json,
            mode: 0o644,
        },
        Output {
            path: with_suffix(prefix, ".png"),
            contents: &png,
            mode: 0o644,
        },
        Output {
            path: with_suffix(prefix, ".svg"),
            contents: svg.as_bytes(),
            mode: 0o644,
        },
    ])?;
    Ok(symbol.version())
}

fn load_config(path: Option<&Path>) -> anyhow::Result<IssuerConfig> {
    let Some(path) = path else {
        return Ok(IssuerConfig::default());
    };
    let text = String::from_utf8(read(path, MAX_SMALL_FILE)?)
        .with_context(|| format!("{}: the file is not UTF-8 text", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid issuer settings", path.display()))
}

fn load_vaccine_table(path: Option<&Path>) -> anyhow::Result<VaccineTable> {
    let Some(path) = path else {
        return Ok(VaccineTable::default());
    };
    let text = String::from_utf8(read(path, MAX_SMALL_FILE)?)
        .with_context(|| format!("{}: the file is not UTF-8 text", path.display()))?;
    toml::from_str(&text).with_context(|| format!("{}: invalid vaccine table", path.display()))
}

fn load_key(path: &Path, key_id: Option<&str>, did: &str) -> anyhow::Result<SigningKey> {
    let id = key_id.map(KeyId::new).transpose().context("--key-id")?;
    let bytes = zeroize::Zeroizing::new(read(path, MAX_SMALL_FILE)?);
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: a key file must be PEM or base58 text", path.display()))?;
    let key = if text.contains("-----BEGIN") {
        SigningKey::from_pem(text, id, did)
    } else if text.trim_start().starts_with('{') {
        let value: Value = serde_json::from_str(text)
            .with_context(|| format!("{}: invalid JSON", path.display()))?;
        let private = value
            .get("privateKeyBase58")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                anyhow!(
                    "{}: the JSON key has no privateKeyBase58 member",
                    path.display()
                )
            })?;
        SigningKey::from_base58(private, id, did)
    } else {
        SigningKey::from_base58(text, id, did)
    };
    key.with_context(|| format!("{}: cannot use the signing key", path.display()))
}

fn issuance_time(text: Option<&str>) -> anyhow::Result<OffsetDateTime> {
    let time = match text {
        Some(text) => OffsetDateTime::parse(text, &Rfc3339).with_context(|| {
            format!("--issued-at {text:?}: expected RFC 3339, e.g. 2021-05-01T10:05:00Z")
        })?,
        None => OffsetDateTime::now_utc(),
    };
    let millis = time.millisecond();
    Ok(time
        .to_offset(time::UtcOffset::UTC)
        .replace_millisecond(millis)?)
}

fn request_error(path: &Path, error: &RequestError) -> anyhow::Error {
    let fields = error.field_errors();
    if fields.is_empty() {
        return anyhow!("{}: {error}", path.display());
    }
    let lines: Vec<String> = fields.iter().map(|field| format!("  {field}")).collect();
    anyhow!(
        "{}: invalid certify request:\n{}",
        path.display(),
        lines.join("\n")
    )
}
