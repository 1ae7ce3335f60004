//! Cloudflare response decoding: any body, with any status, decodes into a
//! result or an `ApiFailure`, never a panic. The first two bytes pick the
//! HTTP status.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (status, body) = match data {
        [high, low, body @ ..] => (100 + u16::from_be_bytes([*high, *low]) % 500, body),
        _ => (200, data),
    };
    acme_token_cloudflare::fuzz_decode(status, body);
});
