//! The Typst `World` the renderer compiles in: it serves the template files, the
//! certificate data, the QR code, the settings and the fonts, all from memory.
//!
//! Templates cannot read anything else. There is no file system root, no package
//! download and no network, so a template can only lay out what it is given.
//! NOTE: a template can still call Typst's `plugin` on WebAssembly bytes it contains.
//! Typst runs plugins without any file, network or clock access, so they can only compute.

use std::collections::HashMap;
use std::sync::OnceLock;

use typst::diag::{FileError, FileResult};
use typst::foundations::{Bytes, Datetime};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};
use vaccred_core::qr::QrSymbol;

use crate::qr;
use crate::templates::TemplateSet;

/// Virtual path of the certificate data (JSON) that templates read.
pub const DATA_PATH: &str = "/certificate.json";
/// Virtual path of the QR code as a one-page PDF, one unit per module with a 4-module
/// quiet zone, holding a 1-bit image. Templates place it with `image` at any width.
pub const QR_PDF_PATH: &str = "/qr.pdf";
/// Virtual path of the QR code as 8-bit grey pixels, one per module with a 4-module quiet
/// zone, `qrSide` pixels a side (a field of `/certificate.json`). Templates that use it
/// scale it up without smoothing; the PDF writer then compresses it, which makes it
/// slower than [`QR_PDF_PATH`].
pub const QR_PATH: &str = "/qr.raw";
/// Virtual path of the renderer settings (JSON): issuer name, footer, logo path.
pub const SETTINGS_PATH: &str = "/settings.json";

/// State shared by all renders: the fonts and templates, parsed once, and the library.
pub(crate) struct Shared {
    library: LazyHash<Library>,
    book: LazyHash<FontBook>,
    fonts: Vec<Font>,
    sources: HashMap<FileId, Source>,
    files: HashMap<FileId, Bytes>,
    data_id: FileId,
    qr_id: FileId,
    qr_pdf_id: FileId,
}

impl Shared {
    /// Returns whether any loaded font has a glyph for `c`, judged by its character map.
    pub(crate) fn covers(&self, c: char) -> bool {
        self.fonts
            .iter()
            .any(|font| font.info().coverage.contains(u32::from(c)))
    }

    /// Builds the shared state. `extra_files` are served beside the templates, by path.
    pub(crate) fn new(
        fonts: Vec<Font>,
        templates: &TemplateSet,
        extra_files: Vec<(String, Vec<u8>)>,
    ) -> Self {
        let mut sources = HashMap::new();
        let mut files = HashMap::new();
        for (name, file) in &templates.files {
            let id = file_id(&format!("/{name}"));
            if name.ends_with(".typ")
                && let Ok(text) = std::str::from_utf8(&file.bytes)
            {
                sources.insert(id, Source::new(id, text.to_owned()));
            }
            files.insert(id, Bytes::new(file.bytes.clone()));
        }
        for (path, bytes) in extra_files {
            files.insert(file_id(&path), Bytes::new(bytes));
        }
        Self {
            library: LazyHash::new(Library::builder().build()),
            book: LazyHash::new(FontBook::from_fonts(&fonts)),
            fonts,
            sources,
            files,
            data_id: file_id(DATA_PATH),
            qr_id: file_id(QR_PATH),
            qr_pdf_id: file_id(QR_PDF_PATH),
        }
    }
}

/// Returns the interned id of a virtual path. Typst interns ids for the life of the
/// process, so only the fixed set of paths above and the template names get ids.
pub(crate) fn file_id(path: &str) -> FileId {
    let vpath = VirtualPath::new(path).unwrap_or_else(|_| {
        // Callers pass fixed strings and template file names, which form valid virtual
        // paths. A name that does not is mapped to a file no template can reach.
        VirtualPath::new("/invalid-name").expect("fixed path is valid")
    });
    RootedPath::new(VirtualRoot::Project, vpath).intern()
}

/// The world of one render: the shared state plus this certificate's data and QR code.
pub(crate) struct RenderWorld<'a> {
    pub(crate) shared: &'a Shared,
    pub(crate) main: FileId,
    pub(crate) data: Bytes,
    pub(crate) qr: QrFiles,
    pub(crate) today: Datetime,
}

/// This certificate's QR code in the two forms templates can read, each made the first
/// time a template reads it.
pub(crate) struct QrFiles {
    symbol: QrSymbol,
    luma: OnceLock<Bytes>,
    pdf: OnceLock<Bytes>,
}

impl QrFiles {
    pub(crate) fn new(symbol: QrSymbol) -> Self {
        Self {
            symbol,
            luma: OnceLock::new(),
            pdf: OnceLock::new(),
        }
    }

    /// Returns the file in `cell`, made by `make` the first time.
    fn get(cell: &OnceLock<Bytes>, make: impl FnOnce() -> Vec<u8>) -> Bytes {
        cell.get_or_init(|| Bytes::new(make())).clone()
    }
}

impl World for RenderWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &self.shared.library
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.shared.book
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        match self.shared.sources.get(&id) {
            Some(source) => Ok(source.clone()),
            None if self.shared.files.contains_key(&id) || self.is_generated(id) => {
                Err(FileError::NotSource)
            }
            None => Err(not_found(id)),
        }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.shared.data_id {
            return Ok(self.data.clone());
        }
        let qr = &self.qr;
        if id == self.shared.qr_id {
            return Ok(QrFiles::get(&qr.luma, || qr::luma(&qr.symbol)));
        }
        if id == self.shared.qr_pdf_id {
            return Ok(QrFiles::get(&qr.pdf, || qr::pdf(&qr.symbol)));
        }
        self.shared
            .files
            .get(&id)
            .cloned()
            .ok_or_else(|| not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.shared.fonts.get(index).cloned()
    }

    fn today(&self, _offset: Option<typst::foundations::Duration>) -> Option<Datetime> {
        // The issuance date, so output never depends on the clock or the time zone.
        Some(self.today)
    }
}

impl RenderWorld<'_> {
    fn is_generated(&self, id: FileId) -> bool {
        id == self.shared.data_id || id == self.shared.qr_id || id == self.shared.qr_pdf_id
    }
}

fn not_found(id: FileId) -> FileError {
    FileError::NotFound(id.vpath().get_with_slash().into())
}
