//! `vaccred keys generate`.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use vaccred_core::keys::KeyId;
use vaccred_core::sign::{KeyType, SigningKey};

use crate::KeyKind;
use crate::files::{Output, with_suffix, write_all_atomic};

pub(crate) fn generate(
    kind: KeyKind,
    out: &Path,
    id: Option<String>,
    did: &str,
    force: bool,
) -> anyhow::Result<()> {
    let private_path = with_suffix(out, ".pem");
    let public_path = with_suffix(out, ".pub.pem");
    for path in [&private_path, &public_path] {
        if path.exists() && !force {
            bail!(
                "{}: the file exists; choose another --out or pass --force",
                path.display()
            );
        }
    }
    let id = id.map(KeyId::new).transpose().context("--id")?;
    let key_type = match kind {
        KeyKind::Ed25519 => KeyType::Ed25519,
        KeyKind::Rsa => KeyType::Rsa,
    };
    let key = SigningKey::generate(key_type, id, did).context("--did")?;
    let private = key.to_pkcs8_pem()?;
    let public = key.public_key().to_pem(Some(key.id()));
    write_all_atomic(&[
        Output {
            path: private_path,
            contents: private.as_bytes(),
            mode: 0o600,
        },
        Output {
            path: public_path,
            contents: public.as_bytes(),
            mode: 0o644,
        },
    ])?;
    let _ = writeln!(std::io::stdout().lock(), "{}", key.id());
    Ok(())
}
