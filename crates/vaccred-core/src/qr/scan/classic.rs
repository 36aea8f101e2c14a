//! Last detection pass with rxing's older `QRCodeReader`, on native targets only.

use std::collections::HashSet;

use rxing::common::HybridBinarizer;
use rxing::qrcode::QRCodeReader;
use rxing::{
    BarcodeFormat, BinaryBitmap, DecodeHints, ImmutableReader as _, Luma8Source, RXingResult,
    RXingResultMetadataType, RXingResultMetadataValue,
};

/// Maximum finder pattern candidates in the first pass for this pass to run.
const MAX_FINDER_PATTERNS: usize = 32;

/// Runs rxing's older `QRCodeReader` as the last pass, if the first pass saw at
/// most [`MAX_FINDER_PATTERNS`] finder pattern candidates.
///
/// This reader reads some symbols at 2 pixels per module or less that
/// [`super::find_symbol`] misses. Its finder search has no limit on candidates and
/// took 13 s on a 2000x2000 image tiled with finder patterns, hence the guard.
/// The pass is left out on wasm32 because it builds an `RXingResult`, whose
/// constructor reads the clock through chrono, which panics on wasm32-unknown-unknown.
///
/// NOTE: the two readers detect finder patterns differently, so an image that only
/// this reader sees as full of finder patterns could still make this pass slow.
/// None of the shapes tried so far (grids, tiled symbols, stars) does.
pub(super) fn read_if_few_finder_patterns(
    hybrid: HybridBinarizer<Luma8Source<'_>>,
    finder_patterns: usize,
) -> Option<Vec<u8>> {
    if finder_patterns > MAX_FINDER_PATTERNS {
        return None;
    }
    let hints = DecodeHints {
        PossibleFormats: Some(HashSet::from([BarcodeFormat::QR_CODE])),
        TryHarder: Some(false),
        CharacterSet: Some("ISO-8859-1".to_owned()),
        ..DecodeHints::default()
    };
    let mut bitmap = BinaryBitmap::new(hybrid);
    QRCodeReader
        .immutable_decode_with_hints(&mut bitmap, &hints)
        .ok()
        .map(|result| classic_reader_content(&result))
}

/// Recovers the symbol's byte content from a result of rxing's `QRCodeReader`.
///
/// That reader returns the codewords as raw bytes, and the content as byte segments
/// plus text. With the ISO-8859-1 hint, text built only from byte segments without
/// ECI is their Latin-1 decoding, so the segments are then the whole content.
/// Otherwise the symbol mixes modes, and the text is the only complete source.
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

#[cfg(test)]
mod tests {
    use super::*;

    fn result_with(text: &str, segments: Vec<Vec<u8>>) -> RXingResult {
        let mut result = RXingResult::new(text, Vec::new(), Vec::new(), BarcodeFormat::QR_CODE);
        result.putMetadata(
            RXingResultMetadataType::BYTE_SEGMENTS,
            RXingResultMetadataValue::ByteSegments(segments),
        );
        result
    }

    #[test]
    fn classic_content_prefers_byte_segments() {
        let result = result_with(
            "PK\u{3}\u{4}\u{e9}",
            vec![b"PK\x03".to_vec(), b"\x04\xE9".to_vec()],
        );
        assert_eq!(classic_reader_content(&result), b"PK\x03\x04\xE9");
    }

    #[test]
    fn classic_content_falls_back_to_text() {
        // "B64:" in alphanumeric mode is missing from the byte segments.
        let result = result_with("B64:UEsDBA==", vec![b"UEsDBA==".to_vec()]);
        assert_eq!(classic_reader_content(&result), b"B64:UEsDBA==");
        // Text with characters above U+00FF came from an ECI charset.
        let result = result_with("B64:\u{20AC}", vec![b"\xE2\x82\xAC".to_vec()]);
        assert_eq!(classic_reader_content(&result), "B64:\u{20AC}".as_bytes());
    }
}
