//! Recognition of the forms in which a user may hand over a credential, and
//! extraction of the credential JSON from each.

use std::collections::HashSet;
use std::io::Cursor;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use rxing::common::{GlobalHistogramBinarizer, HybridBinarizer};
use rxing::qrcode::QRCodeReader;
use rxing::qrcode::cpp_port::QrReader;
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, ImmutableReader, Luma8Source, RXingResult,
    RXingResultMetadataType, RXingResultMetadataValue,
};

use super::QrError;
use super::symbol::utf8_to_latin1;
use super::zip::{MAX_CERTIFICATE_SIZE, read_zip};

/// Maximum size of any input to [`decode_credential`], in bytes.
pub const MAX_INPUT_SIZE: usize = 20 * 1024 * 1024;

/// Maximum width and height of an image that [`read_qr_image`] decodes, in pixels.
///
/// A phone photo of a QR code is at most about 4000 pixels on its longer side. The
/// limit bounds memory (an RGBA16 image of this size takes 128 MB) and the time the
/// QR detector spends on one image.
pub const MAX_IMAGE_SIDE: u32 = 4000;

/// Bytes that the image decoder may allocate: the largest image at 8 bytes per pixel.
const MAX_IMAGE_ALLOC: u64 = MAX_IMAGE_SIDE as u64 * MAX_IMAGE_SIDE as u64 * 8;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const PNG_MAGIC: &[u8] = b"\x89PNG\r\n\x1a\n";
const JPEG_MAGIC: &[u8] = b"\xFF\xD8\xFF";
/// Prefix of base64 text in WHO's ddcc-validator convention.
const BASE64_PREFIX: &[u8] = b"B64:";

/// How the credential was packed inside the input or QR symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Packing {
    /// A ZIP archive's bytes, unchanged (DIVOC's Go services, or a `.zip` file).
    Zip,
    /// A ZIP archive whose bytes were taken as Latin-1 characters and encoded as
    /// UTF-8, as DIVOC's certificate_api writes QR codes.
    DivocLatin1Utf8Zip,
    /// Base64 text of a ZIP archive, with or without the `B64:` prefix.
    Base64Zip,
    /// Credential JSON without a container.
    Json,
}

/// The outer form of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Carrier {
    /// The input bytes were the packed credential itself.
    Bytes,
    /// A PNG image of a QR code.
    PngImage,
    /// A JPEG image of a QR code.
    JpegImage,
}

/// A credential extracted by [`decode_credential`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DecodedCredential {
    /// The credential JSON as stored, not parsed or checked.
    pub json: Vec<u8>,
    /// How the credential was packed.
    pub packing: Packing,
    /// Whether it came from an image or directly from the input bytes.
    pub carrier: Carrier,
    /// The ZIP archive that held the JSON, for every packing except [`Packing::Json`].
    pub zip: Option<Vec<u8>>,
}

/// Extracts credential JSON from any supported input.
///
/// Accepted inputs, recognized by their content:
/// - a PNG or JPEG image of a QR code, whose content is one of the forms below;
/// - ZIP bytes (`PK\x03\x04`), raw or in DIVOC's Latin-1-as-UTF-8 form;
/// - `B64:` followed by base64 of a ZIP, or plain base64 of a ZIP;
/// - credential JSON (the first non-whitespace byte is `{`).
///
/// # Errors
///
/// Returns [`QrError::InputTooLarge`] above [`MAX_INPUT_SIZE`],
/// [`QrError::UnsupportedFormat`] for other inputs, and the errors of
/// [`read_qr_image`] and [`decode_payload`].
pub fn decode_credential(input: &[u8]) -> Result<DecodedCredential, QrError> {
    if input.len() > MAX_INPUT_SIZE {
        return Err(QrError::InputTooLarge {
            len: input.len(),
            max: MAX_INPUT_SIZE,
        });
    }
    let carrier = if input.starts_with(PNG_MAGIC) {
        Carrier::PngImage
    } else if input.starts_with(JPEG_MAGIC) {
        Carrier::JpegImage
    } else {
        return decode_payload(input);
    };
    let content = read_qr_image(input)?;
    let mut decoded = decode_payload(&content)?;
    decoded.carrier = carrier;
    Ok(decoded)
}

/// Extracts credential JSON from the content of a QR code or from pasted text or bytes.
///
/// This accepts the forms that [`decode_credential`] does, except images.
///
/// # Errors
///
/// - [`QrError::UnsupportedFormat`] if the bytes match none of the forms.
/// - [`QrError::InvalidZip`], [`QrError::EntryNotFound`] or
///   [`QrError::CredentialTooLarge`] from [`super::read_zip`].
/// - [`QrError::CredentialTooLarge`] for plain JSON above
///   [`MAX_CERTIFICATE_SIZE`](super::MAX_CERTIFICATE_SIZE).
pub fn decode_payload(payload: &[u8]) -> Result<DecodedCredential, QrError> {
    if payload.starts_with(ZIP_MAGIC) {
        return decode_zip_bytes(payload);
    }

    let text = payload.trim_ascii();
    if text.starts_with(b"{") {
        if text.len() > MAX_CERTIFICATE_SIZE {
            return Err(QrError::CredentialTooLarge {
                max: MAX_CERTIFICATE_SIZE,
            });
        }
        return Ok(DecodedCredential {
            json: text.to_vec(),
            packing: Packing::Json,
            carrier: Carrier::Bytes,
            zip: None,
        });
    }

    if let Some(encoded) = text.strip_prefix(BASE64_PREFIX) {
        let zip = decode_base64(encoded).ok_or(QrError::InvalidBase64)?;
        return unzip(zip, Packing::Base64Zip);
    }
    if let Some(zip) = decode_base64(text).filter(|zip| zip.starts_with(ZIP_MAGIC)) {
        return unzip(zip, Packing::Base64Zip);
    }
    Err(QrError::UnsupportedFormat)
}

/// Reads the byte content of the first QR code found in a PNG or JPEG image.
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

/// Reads the byte content of the first QR code in an 8-bit grayscale frame, such as
/// a camera frame, stored row by row without padding.
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

    // TryHarder stays off: rxing's try-harder search is slow on large images and has
    // looped without end on some photos. The passes below use different binarizers
    // and detectors instead, and each runs only if the previous one found nothing.
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(false),
        CharacterSet: Some("ISO-8859-1".to_owned()),
        ..DecodeHints::default()
    };
    let source = || {
        Luma8Source::new_with_slice(luma, width, height).map_err(|err| QrError::InvalidImage {
            reason: err.to_string(),
        })
    };

    let mut hybrid = BinaryBitmap::new(HybridBinarizer::new(source()?));
    if let Ok(result) = QrReader.immutable_decode_with_hints(&mut hybrid, &hints) {
        return Ok(result.getRawBytes().to_vec());
    }
    let mut global = BinaryBitmap::new(GlobalHistogramBinarizer::new(source()?));
    if let Ok(result) = QrReader.immutable_decode_with_hints(&mut global, &hints) {
        return Ok(result.getRawBytes().to_vec());
    }
    if let Ok(result) = QRCodeReader.immutable_decode_with_hints(&mut hybrid, &hints) {
        return Ok(classic_reader_content(&result));
    }
    Err(QrError::QrNotFound)
}

/// Recovers the symbol's byte content from a result of rxing's `QRCodeReader`.
///
/// Unlike the `cpp_port` reader, whose raw bytes are the decoded content, this
/// reader returns the codewords as raw bytes and the content as byte segments plus
/// text. With the ISO-8859-1 hint, text built only from byte segments without ECI
/// is their Latin-1 decoding, so the segments are the whole content. Otherwise the
/// symbol mixes modes, and the text is the best available source.
fn classic_reader_content(result: &RXingResult) -> Vec<u8> {
    let text = result.getText();
    let segments = match result
        .getRXingResultMetadata()
        .get(&RXingResultMetadataType::BYTE_SEGMENTS)
    {
        Some(RXingResultMetadataValue::ByteSegments(segments)) => segments.concat(),
        _ => Vec::new(),
    };
    let segments_as_latin1: String = segments.iter().copied().map(char::from).collect();
    if !segments.is_empty() && segments_as_latin1 == text {
        return segments;
    }
    text.chars()
        .map(|character| u8::try_from(u32::from(character)).ok())
        .collect::<Option<Vec<u8>>>()
        .unwrap_or_else(|| text.as_bytes().to_vec())
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

/// Unpacks ZIP bytes that are either raw or in DIVOC's Latin-1-as-UTF-8 form.
///
/// Both forms start with `PK\x03\x04`. Input that is valid UTF-8, has a character
/// from U+0080 to U+00FF, and has none above U+00FF is read as the UTF-8 form
/// first, then as raw bytes if that fails. A deflated archive almost never passes
/// as UTF-8 by chance, and the CRC-32 check rejects a wrong reading.
fn decode_zip_bytes(payload: &[u8]) -> Result<DecodedCredential, QrError> {
    let narrowed = utf8_to_latin1(payload).filter(|narrowed| narrowed.len() != payload.len());
    let Some(narrowed) = narrowed else {
        return unzip(payload.to_vec(), Packing::Zip);
    };
    match unzip(narrowed, Packing::DivocLatin1Utf8Zip) {
        Ok(decoded) => Ok(decoded),
        Err(utf8_form_error) => unzip(payload.to_vec(), Packing::Zip).map_err(|_| utf8_form_error),
    }
}

fn unzip(zip: Vec<u8>, packing: Packing) -> Result<DecodedCredential, QrError> {
    let json = read_zip(&zip)?;
    Ok(DecodedCredential {
        json,
        packing,
        carrier: Carrier::Bytes,
        zip: Some(zip),
    })
}

/// Decodes standard or URL-safe base64, ignoring ASCII whitespace and accepting
/// missing padding.
fn decode_base64(text: &[u8]) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text
        .iter()
        .copied()
        .filter(|byte| !byte.is_ascii_whitespace())
        .collect();
    if compact.is_empty() {
        return None;
    }
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    let standard = GeneralPurpose::new(&alphabet::STANDARD, config);
    let url_safe = GeneralPurpose::new(&alphabet::URL_SAFE, config);
    standard
        .decode(&compact)
        .or_else(|_| url_safe.decode(&compact))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::qr::{QrEncoding, QrSymbol, write_zip};
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

    #[test]
    fn raw_zip_input() {
        let zip = zip_of(RSA_JSON);
        let decoded = decode_credential(&zip).expect("decodes");
        assert_eq!(decoded.json, RSA_JSON);
        assert_eq!(decoded.packing, Packing::Zip);
        assert_eq!(decoded.carrier, Carrier::Bytes);
    }

    #[test]
    fn utf8_inflated_zip_input() {
        let zip = zip_of(ED25519_JSON);
        let inflated = crate::qr::latin1_to_utf8(&zip);
        let decoded = decode_credential(&inflated).expect("decodes");
        assert_eq!(decoded.json, ED25519_JSON);
        assert_eq!(decoded.packing, Packing::DivocLatin1Utf8Zip);
        assert_eq!(decoded.zip, Some(zip));
    }

    #[test]
    fn base64_inputs() {
        let zip = zip_of(ED25519_JSON);
        let encoded = base64_of(&zip);
        let url_safe = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&zip);
        let wrapped: String = encoded
            .as_bytes()
            .chunks(76)
            .map(|line| format!("{}\n", String::from_utf8_lossy(line)))
            .collect();
        let inputs = [
            format!("B64:{encoded}"),
            format!("  B64:{encoded}\n"),
            encoded.clone(),
            url_safe,
            wrapped,
        ];
        for input in inputs {
            let decoded = decode_credential(input.as_bytes()).expect("decodes");
            assert_eq!(decoded.json, ED25519_JSON, "{input:.20}");
            assert_eq!(decoded.packing, Packing::Base64Zip);
        }
    }

    #[test]
    fn base64_errors() {
        assert!(matches!(
            decode_credential(b"B64:"),
            Err(QrError::InvalidBase64)
        ));
        assert!(matches!(
            decode_credential(b"B64:!!!"),
            Err(QrError::InvalidBase64)
        ));
        let not_zip = format!("B64:{}", base64_of(b"hello world"));
        assert!(matches!(
            decode_credential(not_zip.as_bytes()),
            Err(QrError::InvalidZip { .. })
        ));
        // Plain base64 counts only when it decodes to a ZIP.
        let plain = base64_of(b"hello world");
        assert!(matches!(
            decode_credential(plain.as_bytes()),
            Err(QrError::UnsupportedFormat)
        ));
    }

    #[test]
    fn json_input() {
        let mut input = b"\n  ".to_vec();
        input.extend_from_slice(ED25519_JSON);
        input.extend_from_slice(b"\r\n");
        let decoded = decode_credential(&input).expect("decodes");
        assert_eq!(decoded.json, ED25519_JSON);
        assert_eq!(decoded.packing, Packing::Json);
        assert_eq!(decoded.zip, None);
    }

    #[test]
    fn oversized_json_is_rejected() {
        let mut input = b"{\"a\":\"".to_vec();
        input.resize(MAX_CERTIFICATE_SIZE + 1, b'x');
        assert!(matches!(
            decode_credential(&input),
            Err(QrError::CredentialTooLarge { .. })
        ));
    }

    #[test]
    fn oversized_input_is_rejected() {
        let input = vec![b' '; MAX_INPUT_SIZE + 1];
        assert!(matches!(
            decode_credential(&input),
            Err(QrError::InputTooLarge { .. })
        ));
    }

    #[test]
    fn unsupported_inputs() {
        for input in [
            &b""[..],
            b"   ",
            b"hello",
            b"\x00\x01\x02",
            b"GIF89a",
            b"[1,2]",
        ] {
            assert!(
                matches!(decode_credential(input), Err(QrError::UnsupportedFormat)),
                "{input:?}"
            );
        }
    }

    #[test]
    fn garbage_after_magic_is_an_error() {
        let inputs: [&[u8]; 5] = [
            b"PK\x03\x04",
            b"PK\x03\x04garbage",
            b"\x89PNG\r\n\x1a\n",
            b"\x89PNG\r\n\x1a\ngarbage",
            b"\xFF\xD8\xFF\xE0garbage",
        ];
        for input in inputs {
            assert!(decode_credential(input).is_err(), "{input:?}");
        }
    }

    #[test]
    fn every_truncated_payload_is_an_error() {
        let zip = zip_of(ED25519_JSON);
        let inflated = crate::qr::latin1_to_utf8(&zip);
        // Without padding, because dropping only the padding leaves valid base64.
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode(&zip);
        let encoded = format!("B64:{unpadded}");
        for input in [&zip, &inflated, encoded.as_bytes()] {
            for len in 0..input.len() {
                assert!(
                    decode_payload(&input[..len]).is_err(),
                    "prefix of {len} bytes"
                );
            }
        }
    }
}
