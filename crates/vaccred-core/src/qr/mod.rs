//! QR payloads in DIVOC's format: a ZIP archive with one entry, `certificate.json`,
//! placed in a QR code at error-correction level M.
//!
//! Issuing: [`write_zip`] builds the archive, [`QrSymbol::encode`] makes the symbol in
//! either [`QrEncoding`], and [`QrSymbol::to_png`] or [`QrSymbol::to_svg`] renders it.
//!
//! Verifying: [`decode_credential`] takes whatever bytes a user supplies (an image of
//! the QR code, the ZIP, base64 text or the JSON itself) and returns the credential
//! JSON with the [`Packing`] it found. Every failure is a [`QrError`], never a panic.

mod decode;
mod mask;
mod scan;
mod symbol;
mod zip;

pub use decode::{
    Carrier, DecodedCredential, MAX_INPUT_SIZE, Packing, decode_credential, decode_payload,
};
pub use scan::{MAX_IMAGE_SIDE, read_qr_image, read_qr_luma};
pub use symbol::{
    MAX_PNG_SCALE, MAX_SYMBOL_BYTES, QUIET_ZONE_MODULES, QrEncoding, QrSymbol, latin1_to_utf8,
    utf8_to_latin1,
};
pub use zip::{CERTIFICATE_ENTRY, MAX_CERTIFICATE_SIZE, read_zip, write_zip};

/// Errors from building, rendering or reading QR payloads.
///
/// A verifier can report every variant as "could not verify" with the reason
/// in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QrError {
    /// The input matches none of the supported forms.
    #[error(
        "unsupported input: expected a PNG or JPEG image of a QR code, ZIP bytes, \
         B64: text or credential JSON"
    )]
    UnsupportedFormat,
    /// The input is larger than [`MAX_INPUT_SIZE`].
    #[error("input is {len} bytes, more than the maximum of {max}")]
    InputTooLarge {
        /// Size of the input, in bytes.
        len: usize,
        /// Maximum accepted size, in bytes.
        max: usize,
    },
    /// The image could not be decoded.
    #[error("invalid image: {reason}")]
    InvalidImage {
        /// Message from the image decoder.
        reason: String,
    },
    /// The image is wider or taller than [`MAX_IMAGE_SIDE`] pixels.
    #[error("image is {width}x{height} pixels, more than the maximum of {max} on a side")]
    ImageTooLarge {
        /// Image width, in pixels.
        width: u32,
        /// Image height, in pixels.
        height: u32,
        /// Maximum accepted width and height, in pixels.
        max: u32,
    },
    /// The image contains no QR code that could be read.
    #[error("no readable QR code found in the image")]
    QrNotFound,
    /// Text after the `B64:` prefix is not valid base64.
    #[error("invalid base64 after the B64: prefix")]
    InvalidBase64,
    /// The ZIP archive is malformed, truncated, fails its CRC-32 check or uses a
    /// feature outside plain single-disk ZIP (ZIP64, encryption, other compression).
    #[error("invalid ZIP archive: {reason}")]
    InvalidZip {
        /// Description of the fault in the archive.
        reason: String,
    },
    /// The ZIP archive has no entry named `certificate.json`.
    #[error("ZIP archive has no certificate.json entry")]
    EntryNotFound,
    /// The credential JSON, inflated or plain, exceeds [`MAX_CERTIFICATE_SIZE`].
    #[error("credential is larger than the maximum of {max} bytes")]
    CredentialTooLarge {
        /// Maximum accepted size, in bytes.
        max: usize,
    },
    /// The payload does not fit in a version 40 QR symbol at level M.
    #[error("QR payload is {len} bytes, more than the maximum of {max} at level M")]
    PayloadTooLarge {
        /// Size of the bytes to encode, in bytes.
        len: usize,
        /// Capacity of the largest symbol, in bytes.
        max: usize,
    },
    /// The PNG module size is 0 or above [`MAX_PNG_SCALE`].
    #[error("PNG scale {scale} is invalid: use 1 to {max} pixels per module")]
    InvalidScale {
        /// Requested pixels per module.
        scale: u32,
        /// Maximum pixels per module.
        max: u32,
    },
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {reason}")]
    PngEncoding {
        /// Message from the PNG encoder.
        reason: String,
    },
}
