//! Feeds arbitrary bytes to `decode_credential`. libFuzzer reports a panic, a run
//! longer than `-timeout` or memory use above `-rss_limit_mb` as a crash.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = vaccred_core::qr::decode_credential(data);
});
