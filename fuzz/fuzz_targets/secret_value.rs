//! The generic checks every secret value goes through (whitespace, encoding,
//! placeholders, double base64), on arbitrary bytes.
#![no_main]

use acme_token_core::sanity::{
    check_secret_value, looks_double_encoded, placeholder_marker, ValueOrigin,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for trimmed_by_cert_manager in [false, true] {
        let origin = ValueOrigin {
            field: "apiTokenSecretRef".to_string(),
            location: "Secret cert-manager/fuzz key api-token".to_string(),
            trimmed_by_cert_manager,
        };
        let _ = check_secret_value(data, &origin);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = placeholder_marker(text);
        let _ = looks_double_encoded(text);
    }
});
