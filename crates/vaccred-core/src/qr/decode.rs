//! Recognition of the forms in which a user may hand over a credential, and
//! extraction of the credential JSON from each.

use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::QrError;
use super::scan::{JPEG_MAGIC, PNG_MAGIC, read_qr_image};
use super::symbol::utf8_to_latin1;
use super::zip::{MAX_CERTIFICATE_SIZE, read_zip};

/// Maximum size of any input to [`decode_credential`], in bytes.
pub const MAX_INPUT_SIZE: usize = 20 * 1024 * 1024;

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// Prefix of base64 text in WHO's ddcc-validator convention.
const BASE64_PREFIX: &[u8] = b"B64:";

/// Container format of the credential inside the input or QR symbol.
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
    /// Container format found.
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
    use crate::qr::write_zip;
    use time::macros::datetime;

    const ED25519_JSON: &[u8] = include_bytes!("../../tests/fixtures/qr/credential-ed25519.json");
    const RSA_JSON: &[u8] = include_bytes!("../../tests/fixtures/qr/credential-rsa.json");

    fn zip_of(json: &[u8]) -> Vec<u8> {
        write_zip(json, datetime!(2021-08-24 09:13:04)).expect("writes")
    }

    fn base64_of(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
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
