//! Reading QR codes from images and grayscale frames with rxing, with bounds on the
//! image size and on the detector's work so that no input can stall a verifier.

use std::io::Cursor;

use rxing::common::{
    BitMatrix, DetectorRXingResult as _, GlobalHistogramBinarizer, HybridBinarizer,
};
use rxing::qrcode::cpp_port::decoder::Decode;
use rxing::qrcode::cpp_port::detector::{
    DetectPureQR, FindFinderPatterns, GenerateFinderPatternSets, SampleQR,
};
use rxing::{Binarizer as _, Luma8Source};

use super::QrError;

#[cfg(not(target_arch = "wasm32"))]
mod classic;

/// Maximum width and height of an image that [`read_qr_image`] decodes, in pixels.
///
/// A phone photo of a QR code is at most about 4000 pixels on its longer side. The
/// limit bounds memory (an RGBA16 image of this size takes 128 MB) and the time the
/// QR detector spends on one image.
pub const MAX_IMAGE_SIDE: u32 = 4000;

/// Bytes that the image decoder may allocate: the largest image at 8 bytes per pixel.
const MAX_IMAGE_ALLOC: u64 = MAX_IMAGE_SIDE as u64 * MAX_IMAGE_SIDE as u64 * 8;

/// Finder pattern candidates kept per binarized image, largest first. A symbol has
/// three, and a cluttered photo rarely yields more than a few dozen.
const MAX_FINDER_PATTERNS: usize = 128;

/// Sets of three finder patterns sampled and decoded per binarized image, most
/// plausible first, as rxing ranks them.
const MAX_FINDER_PATTERN_SETS: usize = 64;

pub(super) const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
pub(super) const JPEG_MAGIC: &[u8] = b"\xFF\xD8\xFF";

/// Reads the byte content of a QR code in a PNG or JPEG image, the most plausible
/// one if there are several.
///
/// The content is returned exactly as the symbol stores it: byte-mode segments
/// byte for byte, without guessing a character set.
///
/// # Errors
///
/// - [`QrError::UnsupportedFormat`] if the bytes are neither PNG nor JPEG.
/// - [`QrError::InvalidImage`] if the image cannot be decoded.
/// - [`QrError::ImageTooLarge`] if a side exceeds [`MAX_IMAGE_SIDE`].
/// - [`QrError::QrNotFound`] if no readable QR code is in the image.
pub fn read_qr_image(image: &[u8]) -> Result<Vec<u8>, QrError> {
    let format = if image.starts_with(PNG_MAGIC) {
        image::ImageFormat::Png
    } else if image.starts_with(JPEG_MAGIC) {
        image::ImageFormat::Jpeg
    } else {
        return Err(QrError::UnsupportedFormat);
    };
    let (luma, width, height) = load_luma(image, format)?;
    read_qr_luma(&luma, width, height)
}

/// Reads the byte content of a QR code in an 8-bit grayscale frame, such as a
/// camera frame, stored row by row without padding.
///
/// # Errors
///
/// - [`QrError::ImageTooLarge`] if a side exceeds [`MAX_IMAGE_SIDE`].
/// - [`QrError::InvalidImage`] if `luma` does not hold `width * height` bytes.
/// - [`QrError::QrNotFound`] if no readable QR code is in the frame.
pub fn read_qr_luma(luma: &[u8], width: u32, height: u32) -> Result<Vec<u8>, QrError> {
    check_image_size(width, height)?;
    let expected_len = (width as usize).checked_mul(height as usize);
    if expected_len != Some(luma.len()) || luma.is_empty() {
        return Err(QrError::InvalidImage {
            reason: format!(
                "{} bytes of luma data do not match {width}x{height} pixels",
                luma.len()
            ),
        });
    }

    let source =
        Luma8Source::new_with_slice(luma, width, height).map_err(|err| QrError::InvalidImage {
            reason: err.to_string(),
        })?;

    // Each pass runs only if the ones before found no symbol. The hybrid binarizer
    // uses local thresholds, which suit photos, and the global histogram one suits
    // evenly lit scans.
    let hybrid = HybridBinarizer::new(source.clone());
    let mut finder_patterns = usize::MAX;
    if let Ok(matrix) = hybrid.get_black_matrix() {
        match find_symbol(matrix) {
            Ok(content) => return Ok(content),
            Err(found) => finder_patterns = found,
        }
    }
    let global = GlobalHistogramBinarizer::new(source);
    if let Some(content) = global
        .get_black_matrix()
        .ok()
        .and_then(|matrix| find_symbol(matrix).ok())
    {
        return Ok(content);
    }

    #[cfg(not(target_arch = "wasm32"))]
    if let Some(content) = classic::read_if_few_finder_patterns(hybrid, finder_patterns) {
        return Ok(content);
    }
    #[cfg(target_arch = "wasm32")]
    let _ = (hybrid, finder_patterns);

    Err(QrError::QrNotFound)
}

/// Finds and decodes a QR symbol in a binarized image with a bounded amount of work.
///
/// This follows rxing's `cpp_port::QrReader` without try-harder, but caps the
/// finder pattern candidates and the sets of three that get sampled and decoded.
/// Without the caps, an image tiled with finder patterns makes the reader sample
/// about 100 sets per pattern: a 4000x4000 PNG of them took 166 s in rxing 0.9.3
/// (release build, 2-core x86-64).
///
/// Returns the symbol's content, or the number of finder pattern candidates seen
/// if no symbol decodes.
fn find_symbol(matrix: &BitMatrix) -> Result<Vec<u8>, usize> {
    let mut patterns = FindFinderPatterns(matrix, false, 0);
    let found = patterns.len();
    // Larger patterns are less likely to be noise, and GenerateFinderPatternSets
    // ranks them the same way.
    patterns.sort_by_key(|pattern| std::cmp::Reverse(pattern.size));
    patterns.truncate(MAX_FINDER_PATTERNS);

    let sets = GenerateFinderPatternSets(&mut patterns);
    let sampled = sets
        .iter()
        .take(MAX_FINDER_PATTERN_SETS)
        .filter_map(|set| SampleQR(matrix, set).ok());
    let pure = std::iter::once_with(|| DetectPureQR(matrix).ok()).flatten();
    sampled
        .chain(pure)
        .find_map(|detected| {
            Decode(detected.getBits())
                .ok()
                .filter(|decoded| decoded.isValid())
                .map(|decoded| decoded.content().bytes().to_vec())
        })
        .ok_or(found)
}

fn check_image_size(width: u32, height: u32) -> Result<(), QrError> {
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(QrError::ImageTooLarge {
            width,
            height,
            max: MAX_IMAGE_SIDE,
        });
    }
    Ok(())
}

/// Decodes an image to 8-bit luma, compositing any transparency over white.
fn load_luma(image: &[u8], format: image::ImageFormat) -> Result<(Vec<u8>, u32, u32), QrError> {
    let invalid = |err: image::ImageError| QrError::InvalidImage {
        reason: err.to_string(),
    };
    let (width, height) = image::ImageReader::with_format(Cursor::new(image), format)
        .into_dimensions()
        .map_err(invalid)?;
    check_image_size(width, height)?;

    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_ALLOC);
    let mut reader = image::ImageReader::with_format(Cursor::new(image), format);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|err| match err {
        image::ImageError::Limits(_) => QrError::ImageTooLarge {
            width,
            height,
            max: MAX_IMAGE_SIDE,
        },
        other => invalid(other),
    })?;

    let (width, height) = (decoded.width(), decoded.height());
    let luma = if decoded.color().has_alpha() {
        decoded
            .to_luma_alpha8()
            .pixels()
            .map(|pixel| {
                let [luma, alpha] = pixel.0;
                let background = 255 - u16::from(alpha);
                let blended = (u16::from(luma) * u16::from(alpha) + 255 * background) / 255;
                u8::try_from(blended).unwrap_or(u8::MAX)
            })
            .collect()
    } else {
        decoded.into_luma8().into_raw()
    };
    Ok((luma, width, height))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::{Carrier, Packing, QrEncoding, QrSymbol, decode_credential, write_zip};
    use base64::Engine as _;
    use time::macros::datetime;

    const ED25519_JSON: &[u8] = include_bytes!("../../tests/fixtures/qr/credential-ed25519.json");
    const RSA_JSON: &[u8] = include_bytes!("../../tests/fixtures/qr/credential-rsa.json");

    fn zip_of(json: &[u8]) -> Vec<u8> {
        write_zip(json, datetime!(2021-08-24 09:13:04)).expect("writes")
    }

    fn base64_of(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    /// Regenerates the binary fixtures in tests/fixtures/qr from the JSON fixtures.
    /// They seed the fuzzer and pin the decoding of known images. Run with
    /// `cargo test -p vaccred-core --lib write_fixture_files -- --ignored`.
    #[test]
    #[ignore = "rewrites committed fixture files"]
    fn write_fixture_files() {
        let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/qr");
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(directory.join(name), bytes).expect("fixture directory is writable");
        };
        for (name, json) in [("ed25519", ED25519_JSON), ("rsa", RSA_JSON)] {
            let zip = zip_of(json);
            write(&format!("credential-{name}.zip"), &zip);
            write(
                &format!("credential-{name}-divoc.bin"),
                &crate::qr::latin1_to_utf8(&zip),
            );
            write(
                &format!("credential-{name}-b64.txt"),
                format!("B64:{}", base64_of(&zip)).as_bytes(),
            );
            for (suffix, encoding) in [
                ("raw", QrEncoding::Raw),
                ("divoc", QrEncoding::DivocLatin1Utf8),
            ] {
                let png = QrSymbol::encode(&zip, encoding)
                    .and_then(|symbol| symbol.to_png(2))
                    .expect("renders");
                write(&format!("credential-{name}-{suffix}.png"), &png);
            }
        }

        // A JPEG of the DIVOC-form symbol, and a grayscale frame for the read_qr_luma
        // fuzz target: width as a little-endian u16, then the pixels.
        let zip = zip_of(ED25519_JSON);
        let symbol = QrSymbol::encode(&zip, QrEncoding::DivocLatin1Utf8).expect("fits");
        let gray = image::load_from_memory(&symbol.to_png(2).expect("renders"))
            .expect("PNG decodes")
            .to_luma8();
        let mut jpeg = Vec::new();
        gray.write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
            .expect("JPEG encodes");
        write("credential-ed25519-divoc.jpg", &jpeg);

        let gray = image::load_from_memory(&symbol.to_png(1).expect("renders"))
            .expect("PNG decodes")
            .to_luma8();
        let width = u16::try_from(gray.width()).expect("fits in u16");
        let mut frame = width.to_le_bytes().to_vec();
        frame.extend_from_slice(gray.as_raw());
        write("credential-ed25519-divoc.luma", &frame);
    }

    #[test]
    fn png_round_trip_both_encodings() {
        for json in [ED25519_JSON, RSA_JSON] {
            let zip = zip_of(json);
            for encoding in [QrEncoding::DivocLatin1Utf8, QrEncoding::Raw] {
                let symbol = QrSymbol::encode(&zip, encoding).expect("fits");
                let png = symbol.to_png(4).expect("renders");

                let content = read_qr_image(&png).expect("QR code is found");
                let expected_content = match encoding {
                    QrEncoding::DivocLatin1Utf8 => crate::qr::latin1_to_utf8(&zip),
                    QrEncoding::Raw => zip.clone(),
                };
                assert_eq!(content, expected_content, "{encoding:?}");

                let decoded = decode_credential(&png).expect("credential decodes");
                assert_eq!(decoded.zip.as_deref(), Some(zip.as_slice()), "{encoding:?}");
                assert_eq!(decoded.json, json);
                assert_eq!(decoded.carrier, Carrier::PngImage);
                let expected_packing = match encoding {
                    QrEncoding::DivocLatin1Utf8 => Packing::DivocLatin1Utf8Zip,
                    QrEncoding::Raw => Packing::Zip,
                };
                assert_eq!(decoded.packing, expected_packing);
            }
        }
    }

    #[test]
    fn png_with_one_pixel_modules_decodes() {
        let zip = zip_of(ED25519_JSON);
        let png = QrSymbol::encode(&zip, QrEncoding::Raw)
            .and_then(|symbol| symbol.to_png(1))
            .expect("renders");
        assert_eq!(read_qr_image(&png).expect("QR code is found"), zip);
    }

    #[test]
    fn jpeg_round_trip() {
        let zip = zip_of(ED25519_JSON);
        let png = QrSymbol::encode(&zip, QrEncoding::Raw)
            .and_then(|symbol| symbol.to_png(4))
            .expect("renders");
        let image = image::load_from_memory(&png).expect("PNG decodes");
        let mut jpeg = Vec::new();
        image
            .to_luma8()
            .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
            .expect("JPEG encodes");
        let decoded = decode_credential(&jpeg).expect("credential decodes");
        assert_eq!(decoded.json, ED25519_JSON);
        assert_eq!(decoded.carrier, Carrier::JpegImage);
    }

    #[test]
    fn transparent_png_decodes_over_white() {
        let zip = zip_of(ED25519_JSON);
        let png = QrSymbol::encode(&zip, QrEncoding::Raw)
            .and_then(|symbol| symbol.to_png(3))
            .expect("renders");
        let gray = image::load_from_memory(&png)
            .expect("PNG decodes")
            .to_luma8();
        // Dark modules opaque black, light modules fully transparent black.
        let rgba = image::RgbaImage::from_fn(gray.width(), gray.height(), |x, y| {
            let alpha = 255 - gray.get_pixel(x, y).0[0];
            image::Rgba([0, 0, 0, alpha])
        });
        let mut transparent = Vec::new();
        rgba.write_to(&mut Cursor::new(&mut transparent), image::ImageFormat::Png)
            .expect("PNG encodes");
        assert_eq!(read_qr_image(&transparent).expect("QR code is found"), zip);
    }

    #[test]
    fn finder_pattern_grid_is_rejected() {
        // 1000x1000 pixels of 7x7-module finder patterns, 2 pixels per module, one
        // module apart. Uncapped, rxing 0.9.3 spends seconds on this.
        let side = 1000;
        let luma: Vec<u8> = (0..side * side)
            .map(|index| {
                let (x, y) = ((index % side) % 16 / 2, (index / side) % 16 / 2);
                if x >= 7 || y >= 7 {
                    return 255;
                }
                let ring = x.min(y).min(6 - x).min(6 - y);
                if ring == 1 { 255 } else { 0 }
            })
            .collect();
        let side = u32::try_from(side).expect("small");
        assert!(matches!(
            read_qr_luma(&luma, side, side),
            Err(QrError::QrNotFound)
        ));
    }

    #[test]
    fn blank_image_has_no_qr() {
        let blank = image::GrayImage::from_pixel(200, 200, image::Luma([255]));
        let mut png = Vec::new();
        blank
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("PNG encodes");
        assert!(matches!(decode_credential(&png), Err(QrError::QrNotFound)));
    }

    #[test]
    fn oversized_image_is_rejected_before_decoding() {
        let wide = image::GrayImage::from_pixel(MAX_IMAGE_SIDE + 1, 1, image::Luma([255]));
        let mut png = Vec::new();
        wide.write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("PNG encodes");
        assert!(matches!(
            decode_credential(&png),
            Err(QrError::ImageTooLarge {
                width: 4001,
                height: 1,
                ..
            })
        ));
    }

    #[test]
    fn luma_length_mismatch_is_rejected() {
        assert!(matches!(
            read_qr_luma(&[0; 10], 4, 4),
            Err(QrError::InvalidImage { .. })
        ));
        assert!(matches!(
            read_qr_luma(&[], 0, 0),
            Err(QrError::InvalidImage { .. })
        ));
        assert!(matches!(
            read_qr_luma(&[], u32::MAX, u32::MAX),
            Err(QrError::ImageTooLarge { .. })
        ));
    }

    #[test]
    fn truncated_png_is_an_error() {
        let zip = zip_of(ED25519_JSON);
        let png = QrSymbol::encode(&zip, QrEncoding::Raw)
            .and_then(|symbol| symbol.to_png(2))
            .expect("renders");
        // The last 12 bytes are the IEND chunk, which decoders do not need.
        for len in [8, 20, 33, png.len() / 2, png.len() - 13] {
            assert!(
                decode_credential(&png[..len]).is_err(),
                "prefix of {len} bytes"
            );
        }
    }
}
