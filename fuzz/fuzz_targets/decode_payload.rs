//! Feeds arbitrary bytes to `decode_payload`, the non-image part of
//! `decode_credential`. Without image decoding it runs thousands of inputs per
//! second, so mutations reach the ZIP, base64 and UTF-8 paths far more often.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vaccred_core::qr::decode_payload(data);
});
