//! QR symbols for credential payloads, and their PNG and SVG renderings.
//!
//! Symbols use error-correction level M and one byte-mode segment without an ECI
//! designator, in the smallest version that fits the payload. The module matrix
//! comes from `qrcodegen`, which encodes arbitrary bytes as one byte-mode segment.
//! [`super::mask`] chooses the mask.

use std::fmt::Write as _;

use qrcodegen::{QrCode, QrCodeEcc, QrSegment};

use super::QrError;
use super::mask::Matrix;
#[cfg(test)]
use super::mask::function_modules;

/// Maximum payload of a version 40 symbol at level M in byte mode, in bytes
/// (ISO/IEC 18004:2015, table 7).
pub const MAX_SYMBOL_BYTES: usize = 2331;

/// Width of the light border around the symbol, in modules (ISO/IEC 18004:2015, 9.1).
pub const QUIET_ZONE_MODULES: usize = 4;

/// Maximum pixels per module that [`QrSymbol::to_png`] accepts, so the largest
/// symbol renders at most (177 + 8) × 32 = 5920 pixels wide.
pub const MAX_PNG_SCALE: u32 = 32;

/// Mapping of the ZIP bytes into the QR symbol's byte-mode segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QrEncoding {
    /// Each ZIP byte as a Latin-1 character, encoded as UTF-8, as DIVOC's
    /// certificate_api (Node.js) does. Bytes 0x80 to 0xFF take two bytes each.
    DivocLatin1Utf8,
    /// The ZIP bytes themselves, as DIVOC's Go services write them.
    Raw,
}

/// A QR code symbol: the module matrix and the version chosen for it.
#[derive(Clone, PartialEq, Eq)]
pub struct QrSymbol {
    version: u8,
    width: usize,
    /// Row-major, `true` for a dark module.
    modules: Vec<bool>,
}

impl std::fmt::Debug for QrSymbol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrSymbol")
            .field("version", &self.version)
            .field("width", &self.width)
            .finish_non_exhaustive()
    }
}

impl QrSymbol {
    /// Encodes a payload (normally a ZIP from [`super::write_zip`]) as a level M symbol.
    ///
    /// # Errors
    ///
    /// Returns [`QrError::PayloadTooLarge`] if the encoded bytes exceed
    /// [`MAX_SYMBOL_BYTES`].
    pub fn encode(payload: &[u8], encoding: QrEncoding) -> Result<Self, QrError> {
        let bytes = match encoding {
            QrEncoding::DivocLatin1Utf8 => latin1_to_utf8(payload),
            QrEncoding::Raw => payload.to_vec(),
        };
        Self::encode_bytes(&bytes)
    }

    fn encode_bytes(bytes: &[u8]) -> Result<Self, QrError> {
        let too_large = || QrError::PayloadTooLarge {
            len: bytes.len(),
            max: MAX_SYMBOL_BYTES,
        };
        if bytes.len() > MAX_SYMBOL_BYTES {
            return Err(too_large());
        }
        // Built with mask 0, which `Matrix` takes off again to score all eight masks.
        let segments = [QrSegment::make_bytes(bytes)];
        let qr = QrCode::encode_segments_advanced(
            &segments,
            QrCodeEcc::Medium,
            qrcodegen::Version::MIN,
            qrcodegen::Version::MAX,
            Some(qrcodegen::Mask::new(0)),
            false,
        )
        .map_err(|_| too_large())?;
        let version = qr.version().value();
        let width = usize::try_from(qr.size()).map_err(|_| too_large())?;
        // Coordinates are below 177, so they fit in an i32.
        let matrix = Matrix::unmasked(version, |x, y| qr.get_module(x as i32, y as i32));
        let (modules, _mask) = matrix.best_masked();
        Ok(Self {
            version,
            width,
            modules,
        })
    }

    /// Returns the QR version (1 to 40), which fixes the symbol's size.
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Returns the number of modules on each side, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Returns the modules row by row, `width × width` of them, `true` for dark.
    pub fn modules(&self) -> &[bool] {
        &self.modules
    }

    /// Returns whether the module at column `x`, row `y` is dark; outside the
    /// matrix it returns `false`, the quiet zone colour.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        if x >= self.width {
            return false;
        }
        y.checked_mul(self.width)
            .and_then(|row| row.checked_add(x))
            .and_then(|index| self.modules.get(index))
            .copied()
            .unwrap_or(false)
    }

    /// Renders the symbol as a 1-bit grayscale PNG with a 4-module quiet zone.
    ///
    /// `scale` is the side of one module in pixels, from 1 to [`MAX_PNG_SCALE`].
    ///
    /// # Errors
    ///
    /// Returns [`QrError::InvalidScale`] for a scale outside that range, and
    /// [`QrError::PngEncoding`] if the PNG encoder fails.
    pub fn to_png(&self, scale: u32) -> Result<Vec<u8>, QrError> {
        if !(1..=MAX_PNG_SCALE).contains(&scale) {
            return Err(QrError::InvalidScale {
                scale,
                max: MAX_PNG_SCALE,
            });
        }
        let scale = scale as usize;
        let side_modules = self.width + 2 * QUIET_ZONE_MODULES;
        let side_pixels = side_modules * scale;
        let side = u32::try_from(side_pixels).map_err(|_| QrError::InvalidScale {
            scale: scale as u32,
            max: MAX_PNG_SCALE,
        })?;

        // Pack each module row into bits (1 = white, most significant bit first),
        // then repeat the row `scale` times.
        let row_bytes = side_pixels.div_ceil(8);
        let mut pixels = Vec::with_capacity(row_bytes * side_pixels);
        for module_y in 0..side_modules {
            let mut row = vec![0u8; row_bytes];
            for pixel_x in 0..side_pixels {
                let module_x = pixel_x / scale;
                let dark = self.is_dark_with_quiet_zone(module_x, module_y);
                if !dark && let Some(byte) = row.get_mut(pixel_x / 8) {
                    *byte |= 0x80 >> (pixel_x % 8);
                }
            }
            for _ in 0..scale {
                pixels.extend_from_slice(&row);
            }
        }

        let png_error = |err: png::EncodingError| QrError::PngEncoding {
            reason: err.to_string(),
        };
        let mut out = Vec::new();
        let mut encoder = png::Encoder::new(&mut out, side, side);
        encoder.set_color(png::ColorType::Grayscale);
        encoder.set_depth(png::BitDepth::One);
        encoder.set_compression(png::Compression::High);
        let mut writer = encoder.write_header().map_err(png_error)?;
        writer.write_image_data(&pixels).map_err(png_error)?;
        writer.finish().map_err(png_error)?;
        Ok(out)
    }

    /// Renders the symbol as SVG: one `<path>` covering the dark modules, a white
    /// background and a 4-module quiet zone, in a viewBox of one unit per module.
    pub fn to_svg(&self) -> String {
        let side = self.width + 2 * QUIET_ZONE_MODULES;
        let mut svg = String::with_capacity(self.width * self.width * 3);
        // Writing to a String cannot fail, so the fmt::Result values are ignored.
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
             shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" \
             fill=\"#fff\"/><path fill=\"#000\" d=\""
        );
        for y in 0..self.width {
            let mut x = 0;
            while x < self.width {
                if !self.is_dark(x, y) {
                    x += 1;
                    continue;
                }
                let start = x;
                while x < self.width && self.is_dark(x, y) {
                    x += 1;
                }
                let run = x - start;
                let _ = write!(
                    svg,
                    "M{} {}h{run}v1h-{run}z",
                    start + QUIET_ZONE_MODULES,
                    y + QUIET_ZONE_MODULES
                );
            }
        }
        svg.push_str("\"/></svg>");
        svg
    }

    fn is_dark_with_quiet_zone(&self, x: usize, y: usize) -> bool {
        match (
            x.checked_sub(QUIET_ZONE_MODULES),
            y.checked_sub(QUIET_ZONE_MODULES),
        ) {
            (Some(x), Some(y)) => self.is_dark(x, y),
            _ => false,
        }
    }
}

/// Encodes each byte as the Latin-1 character of the same value in UTF-8, as
/// DIVOC's certificate_api does when it puts a ZIP into a QR code.
///
/// Bytes below 0x80 stay as they are, and each other byte becomes two bytes
/// (0xC2 or 0xC3, then a continuation byte).
pub fn latin1_to_utf8(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        if byte < 0x80 {
            out.push(byte);
        } else {
            out.push(0xC0 | (byte >> 6));
            out.push(0x80 | (byte & 0x3F));
        }
    }
    out
}

/// Reverses [`latin1_to_utf8`]: decodes UTF-8 and maps each character back to one byte.
///
/// Returns `None` unless `bytes` is valid UTF-8 with every character at most U+00FF.
pub fn utf8_to_latin1(bytes: &[u8]) -> Option<Vec<u8>> {
    std::str::from_utf8(bytes)
        .ok()?
        .chars()
        .map(|character| u8::try_from(u32::from(character)).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin1_utf8_round_trip_all_bytes() {
        let bytes: Vec<u8> = (0..=255).collect();
        let inflated = latin1_to_utf8(&bytes);
        assert_eq!(inflated.len(), 128 + 2 * 128);
        assert_eq!(
            String::from_utf8(inflated.clone())
                .expect("valid UTF-8")
                .chars()
                .count(),
            256
        );
        assert_eq!(utf8_to_latin1(&inflated), Some(bytes));
    }

    #[test]
    fn utf8_to_latin1_rejects_wide_characters() {
        assert_eq!(utf8_to_latin1("€".as_bytes()), None);
        assert_eq!(utf8_to_latin1(&[0xC3]), None);
    }

    #[test]
    fn encode_picks_smallest_version() {
        assert_eq!(
            QrSymbol::encode(&[0; 14], QrEncoding::Raw)
                .expect("fits")
                .version(),
            1
        );
        assert_eq!(
            QrSymbol::encode(&[0; 15], QrEncoding::Raw)
                .expect("fits")
                .version(),
            2
        );
        let largest = QrSymbol::encode(&[0; MAX_SYMBOL_BYTES], QrEncoding::Raw).expect("fits");
        assert_eq!(largest.version(), 40);
        assert_eq!(largest.width(), 177);
    }

    #[test]
    fn encode_rejects_oversized_payload() {
        let result = QrSymbol::encode(&[0; MAX_SYMBOL_BYTES + 1], QrEncoding::Raw);
        assert!(matches!(
            result,
            Err(QrError::PayloadTooLarge { len: 2332, .. })
        ));
        // 1200 bytes >= 0x80 inflate to 2400 bytes.
        let result = QrSymbol::encode(&[0xFF; 1200], QrEncoding::DivocLatin1Utf8);
        assert!(matches!(
            result,
            Err(QrError::PayloadTooLarge { len: 2400, .. })
        ));
    }

    /// Encodes `bytes` with fast_qr, an independent encoder, with `mask` forced.
    fn fast_qr_symbol(bytes: &[u8], mask: u8) -> fast_qr::QRCode {
        use fast_qr::datamasking::Mask;
        let masks = [
            Mask::Checkerboard,
            Mask::HorizontalLines,
            Mask::VerticalLines,
            Mask::DiagonalLines,
            Mask::LargeCheckerboard,
            Mask::Fields,
            Mask::Diamonds,
            Mask::Meadow,
        ];
        fast_qr::QRBuilder::new(bytes)
            .ecl(fast_qr::ECL::M)
            .mode(fast_qr::Mode::Byte)
            .mask(masks[usize::from(mask)])
            .build()
            .expect("fits")
    }

    fn payload(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + 3) as u8).collect()
    }

    #[test]
    fn function_modules_match_fast_qr_in_every_version() {
        let mut seen = [false; 41];
        for len in (1..=MAX_SYMBOL_BYTES).step_by(7) {
            let bytes = payload(len);
            let symbol = QrSymbol::encode(&bytes, QrEncoding::Raw).expect("fits");
            let version = usize::from(symbol.version());
            if std::mem::replace(&mut seen[version], true) {
                continue;
            }
            let reference = fast_qr_symbol(&bytes, 0);
            let width = reference.size;
            assert_eq!(width, symbol.width(), "version {version}");
            let expected: Vec<bool> = reference.data[..width * width]
                .iter()
                .map(|module| module.module_type() != fast_qr::ModuleType::Data)
                .collect();
            assert!(
                function_modules(symbol.version()) == expected,
                "version {version}"
            );
        }
        assert!(seen[1..].iter().all(|&seen| seen), "every version encoded");
    }

    #[test]
    fn masks_match_fast_qr_forced_masks() {
        // Version 1 (no version information), 7 (the first with it) and 40.
        for len in [10, 150, MAX_SYMBOL_BYTES] {
            let bytes = payload(len);
            let reference = fast_qr_symbol(&bytes, 0);
            let width = reference.size;
            let version = u8::try_from((width - 17) / 4).expect("version");
            let matrix = Matrix::unmasked(version, |x, y| reference.data[y * width + x].value());
            for mask in 0..8 {
                let expected: Vec<bool> = fast_qr_symbol(&bytes, mask).data[..width * width]
                    .iter()
                    .map(|module| module.value())
                    .collect();
                assert!(matrix.masked(mask) == expected, "{len} bytes, mask {mask}");
            }
            let (best, mask) = matrix.best_masked();
            assert_eq!(best, matrix.masked(mask));
            let symbol = QrSymbol::encode(&bytes, QrEncoding::Raw).expect("fits");
            assert!(symbol.modules == best, "{len} bytes");
        }
    }

    #[test]
    fn encoded_symbols_read_back() {
        for len in [1, 14, 300, 1200, MAX_SYMBOL_BYTES] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 31 + 5) as u8).collect();
            let symbol = QrSymbol::encode(&payload, QrEncoding::Raw).expect("fits");
            let png = symbol.to_png(2).expect("renders");
            let read = crate::qr::read_qr_image(&png).expect("the symbol reads back");
            assert_eq!(read, payload, "{len} bytes");
        }
    }

    #[test]
    fn finder_pattern_is_dark_in_corner() {
        let symbol = QrSymbol::encode(b"hello", QrEncoding::Raw).expect("fits");
        assert!(symbol.is_dark(0, 0));
        assert!(!symbol.is_dark(1, 1));
        assert!(symbol.is_dark(2, 2));
        assert!(!symbol.is_dark(symbol.width(), 0), "outside the matrix");
        assert!(!symbol.is_dark(0, usize::MAX), "outside the matrix");
    }

    #[test]
    fn png_has_expected_size() {
        let symbol = QrSymbol::encode(b"hello", QrEncoding::Raw).expect("fits");
        let png = symbol.to_png(3).expect("renders");
        let decoder = png::Decoder::new(std::io::Cursor::new(png));
        let reader = decoder.read_info().expect("valid PNG");
        let info = reader.info();
        assert_eq!(info.width, (21 + 8) * 3);
        assert_eq!(info.height, (21 + 8) * 3);
        assert_eq!(info.bit_depth, png::BitDepth::One);
        assert_eq!(info.color_type, png::ColorType::Grayscale);
    }

    #[test]
    fn png_rejects_bad_scale() {
        let symbol = QrSymbol::encode(b"hello", QrEncoding::Raw).expect("fits");
        assert!(matches!(
            symbol.to_png(0),
            Err(QrError::InvalidScale { .. })
        ));
        assert!(matches!(
            symbol.to_png(MAX_PNG_SCALE + 1),
            Err(QrError::InvalidScale { .. })
        ));
    }

    #[test]
    fn svg_has_one_path() {
        let symbol = QrSymbol::encode(b"hello", QrEncoding::Raw).expect("fits");
        let svg = symbol.to_svg();
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 29 29\""));
        assert_eq!(svg.matches("<path").count(), 1);
        // The top-left finder pattern's first row is a run of 7 dark modules.
        assert!(svg.contains("M4 4h7v1h-7z"));
        assert!(svg.ends_with("\"/></svg>"));
    }
}
