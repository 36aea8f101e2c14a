//! Feeds arbitrary grayscale frames to the QR detector, bypassing the PNG and JPEG
//! decoders so that mutations reach rxing directly.
//!
//! Input layout: width as a little-endian u16, then the pixels row by row. Bytes
//! after the last full row are ignored.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((header, pixels)) = data.split_first_chunk::<2>() else {
        return;
    };
    let width = u32::from(u16::from_le_bytes(*header)).max(1);
    let height = u32::try_from(pixels.len()).unwrap_or(u32::MAX) / width;
    let Some(len) = usize::try_from(width * height).ok() else {
        return;
    };
    if let Some(frame) = pixels.get(..len) {
        let _ = vaccred_core::qr::read_qr_luma(frame, width, height);
    }
});
