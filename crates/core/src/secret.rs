//! Secret values and their printable identity.
//!
//! A credential is held in a [`secrecy::SecretString`] from the moment it is
//! read until the request that uses it is built. Reports, logs and errors show
//! only [`SecretValue::fingerprint`] and [`SecretValue::len`].

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;

/// A credential value (API token, key, secret access key). Its `Debug` and
/// `Display` print the fingerprint, never the value.
#[derive(Clone)]
pub struct SecretValue {
    inner: SecretString,
    bytes_len: usize,
}

impl SecretValue {
    /// Wraps a value read from a Secret, a file, the environment or stdin.
    pub fn new(value: impl Into<String>) -> Self {
        let value: String = value.into();
        let bytes_len = value.len();
        Self {
            inner: SecretString::from(value),
            bytes_len,
        }
    }

    /// Builds a value from raw bytes. Bytes that are not UTF-8 are replaced,
    /// because the config stage reports them before any use.
    pub fn from_bytes(bytes: &[u8]) -> Self {
        Self::new(String::from_utf8_lossy(bytes).into_owned())
    }

    /// Exposes the value. Call this only where the value goes into a request
    /// header or body, never where it could reach output.
    pub fn expose(&self) -> &str {
        self.inner.expose_secret()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes_len
    }

    /// Returns true for an empty value.
    pub fn is_empty(&self) -> bool {
        self.bytes_len == 0
    }

    /// First 8 hex digits of the SHA-256 of the value, as `sha256:1a2b3c4d`.
    /// Two values with the same fingerprint are almost certainly equal, yet the
    /// prefix is too short to help guess the value.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.expose().as_bytes());
        format!("sha256:{}", &hex::encode(digest)[..8])
    }

    /// Returns a copy with leading and trailing whitespace removed.
    pub fn trimmed(&self) -> Self {
        Self::new(self.expose().trim().to_string())
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue({}, {} bytes)", self.fingerprint(), self.bytes_len)
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} bytes)", self.fingerprint(), self.bytes_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_value() {
        let value = SecretValue::new("canary-0123456789abcdef");
        let debug = format!("{value:?}");
        let display = format!("{value}");
        assert!(!debug.contains("canary"), "{debug}");
        assert!(!display.contains("canary"), "{display}");
        assert!(display.starts_with("sha256:"));
    }

    #[test]
    fn fingerprint_is_stable() {
        let a = SecretValue::new("abc");
        let b = SecretValue::new("abc");
        assert_eq!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint().len(), "sha256:".len() + 8);
    }
}
