//! Deterministic identifiers, so a scenario gets the same zone, token and record ids on every run.

use sha2::{Digest, Sha256};

/// Returns a 32-character lowercase hex id derived from `kind` and `seed`.
pub(crate) fn hex_id(kind: &str, seed: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"acme-token-mock/");
    hasher.update(kind.as_bytes());
    hasher.update(b"/");
    hasher.update(seed.as_bytes());
    let digest = hasher.finalize();
    hex::encode(&digest[..16])
}

/// Reports whether `text` is exactly `len` lowercase hexadecimal characters.
pub(crate) fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_id_is_stable_and_32_hex() {
        let first = hex_id("zone", "example.com");
        assert_eq!(first, hex_id("zone", "example.com"));
        assert!(is_lower_hex(&first, 32));
        assert_ne!(first, hex_id("token", "example.com"));
    }
}
