//! Manifest and Secret parsing: any bytes given as a manifest file must load
//! or fail with a `LoadError`, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(inventory) = acme_token_certmanager::load_bytes(data, "fuzz.yaml") {
        for secret in &inventory.secrets {
            let _ = format!("{secret:?}");
        }
    }
});
