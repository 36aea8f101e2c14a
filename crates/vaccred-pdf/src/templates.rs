//! Template files: the bundled defaults and a configured directory that overrides them.
//!
//! A template is a Typst file named `{kind}.{language}.typ`, for example
//! `vaccination.en.typ`. Every file of the configured directory (not recursive) is read
//! once when the renderer is built, so templates can import each other and load images
//! that sit beside them. Changes take effect when the renderer is built again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::RenderError;
use crate::certificate::CertificateKind;

/// The bundled templates, by file name.
const BUNDLED: &[(&str, &str)] = &[
    (
        "vaccination.en.typ",
        include_str!("../templates/vaccination.en.typ"),
    ),
    ("test.en.typ", include_str!("../templates/test.en.typ")),
    ("common.typ", include_str!("../templates/common.typ")),
];

/// Maximum size of one file in the templates directory, in bytes.
pub const MAX_TEMPLATE_FILE_SIZE: u64 = 16 * 1024 * 1024;

/// The language used when no template exists for the requested one.
pub const FALLBACK_LANGUAGE: &str = "en";

/// Origin of a template file (bundled or the configured directory), for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Origin {
    Bundled,
    Directory(PathBuf),
}

/// One file that templates may read: a Typst source or an asset such as an image.
#[derive(Debug, Clone)]
pub(crate) struct TemplateFile {
    pub(crate) bytes: Vec<u8>,
    pub(crate) origin: Origin,
}

/// The template files by name: bundled ones, overridden by the configured directory.
#[derive(Debug, Clone)]
pub(crate) struct TemplateSet {
    pub(crate) files: BTreeMap<String, TemplateFile>,
}

impl TemplateSet {
    /// Reads the bundled templates and, when given, every file of `dir`.
    pub(crate) fn load(dir: Option<&Path>) -> Result<Self, RenderError> {
        let mut files: BTreeMap<String, TemplateFile> = BUNDLED
            .iter()
            .map(|(name, text)| {
                let file = TemplateFile {
                    bytes: text.as_bytes().to_vec(),
                    origin: Origin::Bundled,
                };
                ((*name).to_owned(), file)
            })
            .collect();
        if let Some(dir) = dir {
            read_dir_into(dir, &mut files)?;
        }
        Ok(Self { files })
    }

    /// Returns the name of the template for a kind and language: `{kind}.{language}.typ`
    /// when it exists, else the one of the tag's primary language (`es` for `es-419`),
    /// else the [`FALLBACK_LANGUAGE`] one.
    pub(crate) fn main_for(
        &self,
        kind: CertificateKind,
        language: &str,
    ) -> Result<String, RenderError> {
        let requested = format!("{}.{language}.typ", kind.as_str());
        if self.files.contains_key(&requested) {
            return Ok(requested);
        }
        if let Some((primary, _)) = language.split_once('-') {
            let base = format!("{}.{primary}.typ", kind.as_str());
            if self.files.contains_key(&base) {
                return Ok(base);
            }
        }
        let fallback = format!("{}.{FALLBACK_LANGUAGE}.typ", kind.as_str());
        if self.files.contains_key(&fallback) {
            return Ok(fallback);
        }
        Err(RenderError::TemplateNotFound { name: requested })
    }
}

fn read_dir_into(
    dir: &Path,
    files: &mut BTreeMap<String, TemplateFile>,
) -> Result<(), RenderError> {
    let io_error = |path: &Path, error: std::io::Error| RenderError::Io {
        path: path.to_owned(),
        reason: error.to_string(),
    };
    for entry in std::fs::read_dir(dir).map_err(|error| io_error(dir, error))? {
        let entry = entry.map_err(|error| io_error(dir, error))?;
        let path = entry.path();
        let metadata = entry.metadata().map_err(|error| io_error(&path, error))?;
        if !metadata.is_file() {
            continue;
        }
        let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
            continue;
        };
        if metadata.len() > MAX_TEMPLATE_FILE_SIZE {
            return Err(RenderError::Io {
                path,
                reason: format!("file is larger than {MAX_TEMPLATE_FILE_SIZE} bytes"),
            });
        }
        let bytes = std::fs::read(&path).map_err(|error| io_error(&path, error))?;
        let name = name.to_owned();
        files.insert(
            name,
            TemplateFile {
                bytes,
                origin: Origin::Directory(path),
            },
        );
    }
    Ok(())
}
