//! Fonts bundled in the binary, and fonts added from a configured directory.
//!
//! The bundled set covers Latin (with accents), Greek, Cyrillic, Devanagari, Arabic,
//! Hebrew, Thai, Tamil, Bengali, Gujarati, Gurmukhi, Kannada, Malayalam, Odia and Telugu.
//! It also covers the Chinese characters of GB 2312 and Big5 (simplified and traditional)
//! and Korean: all Hangul syllables and the hanja of KS X 1001.
//! `fonts/README.md` lists the files and the character sets of the CJK subsets. Templates
//! name the families in their font fallback list.

use std::path::Path;

use typst::foundations::Bytes;
use typst::text::Font;

use crate::RenderError;

/// The bundled font files, with their file names for error messages.
const BUNDLED: &[(&str, &[u8])] = &[
    (
        "NotoSans-Regular.ttf",
        include_bytes!("../fonts/NotoSans-Regular.ttf"),
    ),
    (
        "NotoSans-Bold.ttf",
        include_bytes!("../fonts/NotoSans-Bold.ttf"),
    ),
    (
        "NotoSansDevanagari-Regular.ttf",
        include_bytes!("../fonts/NotoSansDevanagari-Regular.ttf"),
    ),
    (
        "NotoSansDevanagari-Bold.ttf",
        include_bytes!("../fonts/NotoSansDevanagari-Bold.ttf"),
    ),
    (
        "NotoSansArabic-Regular.ttf",
        include_bytes!("../fonts/NotoSansArabic-Regular.ttf"),
    ),
    (
        "NotoSansArabic-Bold.ttf",
        include_bytes!("../fonts/NotoSansArabic-Bold.ttf"),
    ),
    (
        "NotoSansHebrew-Regular.ttf",
        include_bytes!("../fonts/NotoSansHebrew-Regular.ttf"),
    ),
    (
        "NotoSansHebrew-Bold.ttf",
        include_bytes!("../fonts/NotoSansHebrew-Bold.ttf"),
    ),
    (
        "NotoSansThai-Regular.ttf",
        include_bytes!("../fonts/NotoSansThai-Regular.ttf"),
    ),
    (
        "NotoSansThai-Bold.ttf",
        include_bytes!("../fonts/NotoSansThai-Bold.ttf"),
    ),
    (
        "NotoSansTamil-Regular.ttf",
        include_bytes!("../fonts/NotoSansTamil-Regular.ttf"),
    ),
    (
        "NotoSansTamil-Bold.ttf",
        include_bytes!("../fonts/NotoSansTamil-Bold.ttf"),
    ),
    (
        "NotoSansBengali-Regular.ttf",
        include_bytes!("../fonts/NotoSansBengali-Regular.ttf"),
    ),
    (
        "NotoSansBengali-Bold.ttf",
        include_bytes!("../fonts/NotoSansBengali-Bold.ttf"),
    ),
    (
        "NotoSansGujarati-Regular.ttf",
        include_bytes!("../fonts/NotoSansGujarati-Regular.ttf"),
    ),
    (
        "NotoSansGujarati-Bold.ttf",
        include_bytes!("../fonts/NotoSansGujarati-Bold.ttf"),
    ),
    (
        "NotoSansGurmukhi-Regular.ttf",
        include_bytes!("../fonts/NotoSansGurmukhi-Regular.ttf"),
    ),
    (
        "NotoSansGurmukhi-Bold.ttf",
        include_bytes!("../fonts/NotoSansGurmukhi-Bold.ttf"),
    ),
    (
        "NotoSansKannada-Regular.ttf",
        include_bytes!("../fonts/NotoSansKannada-Regular.ttf"),
    ),
    (
        "NotoSansKannada-Bold.ttf",
        include_bytes!("../fonts/NotoSansKannada-Bold.ttf"),
    ),
    (
        "NotoSansMalayalam-Regular.ttf",
        include_bytes!("../fonts/NotoSansMalayalam-Regular.ttf"),
    ),
    (
        "NotoSansMalayalam-Bold.ttf",
        include_bytes!("../fonts/NotoSansMalayalam-Bold.ttf"),
    ),
    (
        "NotoSansOriya-Regular.ttf",
        include_bytes!("../fonts/NotoSansOriya-Regular.ttf"),
    ),
    (
        "NotoSansOriya-Bold.ttf",
        include_bytes!("../fonts/NotoSansOriya-Bold.ttf"),
    ),
    (
        "NotoSansTelugu-Regular.ttf",
        include_bytes!("../fonts/NotoSansTelugu-Regular.ttf"),
    ),
    (
        "NotoSansTelugu-Bold.ttf",
        include_bytes!("../fonts/NotoSansTelugu-Bold.ttf"),
    ),
    (
        "NotoSansSC-Subset.otf",
        include_bytes!("../fonts/NotoSansSC-Subset.otf"),
    ),
    (
        "NotoSansKR-Subset.otf",
        include_bytes!("../fonts/NotoSansKR-Subset.otf"),
    ),
];

/// Maximum size of one font file read from the configured fonts directory, in bytes.
pub const MAX_FONT_FILE_SIZE: u64 = 64 * 1024 * 1024;

/// Parses the bundled fonts.
pub(crate) fn bundled() -> Vec<Font> {
    BUNDLED
        .iter()
        .flat_map(|(_, data)| Font::iter(Bytes::new(*data)))
        .collect()
}

/// Reads every `.ttf`, `.otf`, `.ttc` and `.otc` file of a directory (not recursive).
pub(crate) fn from_dir(dir: &Path) -> Result<Vec<Font>, RenderError> {
    let io_error = |path: &Path, error: std::io::Error| RenderError::Io {
        path: path.to_owned(),
        reason: error.to_string(),
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|error| io_error(dir, error))? {
        let path = entry.map_err(|error| io_error(dir, error))?.path();
        let extension = path
            .extension()
            .and_then(|extension| extension.to_str())
            .map(str::to_ascii_lowercase);
        if matches!(extension.as_deref(), Some("ttf" | "otf" | "ttc" | "otc")) {
            paths.push(path);
        }
    }
    // Sorted, so the font order and with it the output do not depend on the directory order.
    paths.sort();
    let mut fonts = Vec::new();
    for path in paths {
        let size = std::fs::metadata(&path)
            .map_err(|error| io_error(&path, error))?
            .len();
        if size > MAX_FONT_FILE_SIZE {
            return Err(RenderError::Io {
                path,
                reason: format!("font file is larger than {MAX_FONT_FILE_SIZE} bytes"),
            });
        }
        let data = std::fs::read(&path).map_err(|error| io_error(&path, error))?;
        let before = fonts.len();
        fonts.extend(Font::iter(Bytes::new(data)));
        if fonts.len() == before {
            return Err(RenderError::Io {
                path,
                reason: "not a font file that could be parsed".into(),
            });
        }
    }
    Ok(fonts)
}

/// Returns the characters of `text` that no bundled font has a glyph for, judged by each
/// font's character map (its `cmap` table). Whitespace and control characters are skipped.
pub fn missing_glyphs(text: &str) -> Vec<char> {
    let fonts = bundled();
    text.chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .filter(|c| {
            !fonts
                .iter()
                .any(|font| font.info().coverage.contains(u32::from(*c)))
        })
        .collect()
}
