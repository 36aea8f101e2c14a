//! File input and output that never leaves a half-written file behind.

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// One file to write: its path, contents and Unix permissions (0o600 for private keys).
pub(crate) struct Output<'a> {
    pub(crate) path: PathBuf,
    pub(crate) contents: &'a [u8],
    pub(crate) mode: u32,
}

fn temporary_path(path: &Path) -> PathBuf {
    let folder = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    folder.join(format!(".{name}.{}.tmp", std::process::id()))
}

fn write_temporary(output: &Output<'_>, temporary: &Path) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, output.mode);
    let mut file = options.open(temporary)?;
    file.write_all(output.contents)?;
    file.sync_all()
}

/// Writes files together: each goes to a temporary file in its folder first, and only when
/// all are written are they renamed into place. A failed write leaves the old files as they
/// were.
pub(crate) fn write_all_atomic(outputs: &[Output<'_>]) -> anyhow::Result<()> {
    let temporaries: Vec<PathBuf> = outputs.iter().map(|o| temporary_path(&o.path)).collect();
    let cleanup = || {
        for temporary in &temporaries {
            let _ = fs::remove_file(temporary);
        }
    };
    for (output, temporary) in outputs.iter().zip(&temporaries) {
        if let Err(error) = write_temporary(output, temporary) {
            cleanup();
            let path = output.path.display();
            return Err(error).with_context(|| format!("{path}: cannot write the file"));
        }
    }
    for (output, temporary) in outputs.iter().zip(&temporaries) {
        if let Err(error) = fs::rename(temporary, &output.path) {
            cleanup();
            let path = output.path.display();
            return Err(error).with_context(|| format!("{path}: cannot write the file"));
        }
    }
    Ok(())
}

/// `PREFIX` + `suffix`, e.g. `out/cert` + `.json`.
pub(crate) fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Reads a whole file of at most `max` bytes, naming it in the error.
pub(crate) fn read(path: &Path, max: u64) -> anyhow::Result<Vec<u8>> {
    let context = || format!("{}: cannot read the file", path.display());
    let file = fs::File::open(path).with_context(context)?;
    let mut contents = Vec::new();
    file.take(max + 1)
        .read_to_end(&mut contents)
        .with_context(context)?;
    if contents.len() as u64 > max {
        anyhow::bail!(
            "{}: the file is larger than {max} bytes; check that it is the right file",
            path.display()
        );
    }
    Ok(contents)
}
