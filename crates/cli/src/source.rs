//! Credential sources on the command line: `env:VAR`, `file:PATH`, `stdin`,
//! `keyring:NAME`.
//!
//! The value is read into a [`SecretValue`] at once; errors name the source,
//! never the value.

use acme_token_core::SecretValue;
use std::io::Read;
use std::path::PathBuf;

/// Largest credential accepted from a file or stdin. Real credentials are a
/// few kilobytes at most (a Google service-account JSON key is about 2 KiB).
const MAX_CREDENTIAL_BYTES: u64 = 64 * 1024;

/// Where a credential comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    Env(String),
    File(PathBuf),
    Stdin,
    /// An entry stored with `keyring set NAME`.
    Keyring(String),
}

/// A `--credential` argument: an optional cert-manager field and a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialArg {
    pub field: Option<String>,
    pub source: CredentialSource,
}

/// Error reading a credential.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("invalid credential source '{0}': use env:VAR, file:PATH, stdin or keyring:NAME (optionally FIELD=SRC)")]
    Syntax(String),
    #[error("credential source '{0}' is not available in this version: use env:VAR, file:PATH, stdin or keyring:NAME")]
    Unsupported(String),
    #[error(transparent)]
    Keyring(#[from] crate::keyring::KeyringError),
    #[error("environment variable {0} is not set (credential source env:{0})")]
    EnvMissing(String),
    #[error("environment variable {0} is not valid UTF-8")]
    EnvNotUnicode(String),
    #[error("cannot read credential file '{path}': {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("credential from {0} is larger than {MAX_CREDENTIAL_BYTES} bytes; point the source at the credential itself")]
    TooLarge(String),
    #[error("cannot read the credential from stdin: {0}")]
    Stdin(std::io::Error),
}

impl CredentialArg {
    /// Parses `[FIELD=]SRC`.
    pub fn parse(text: &str) -> Result<Self, SourceError> {
        let (field, source) = match text.split_once('=') {
            Some((field, source)) if !field.contains(':') && !field.is_empty() => {
                (Some(field.to_string()), source)
            }
            _ => (None, text),
        };
        let source = if let Some(var) = source.strip_prefix("env:") {
            if var.is_empty() {
                return Err(SourceError::Syntax(text.to_string()));
            }
            CredentialSource::Env(var.to_string())
        } else if let Some(path) = source.strip_prefix("file:") {
            if path.is_empty() {
                return Err(SourceError::Syntax(text.to_string()));
            }
            CredentialSource::File(PathBuf::from(path))
        } else if source == "stdin" || source == "-" {
            CredentialSource::Stdin
        } else if let Some(name) = source.strip_prefix("keyring:") {
            crate::keyring::validate_name(name)?;
            CredentialSource::Keyring(name.to_string())
        } else if source.starts_with("secret:") {
            return Err(SourceError::Unsupported(source.to_string()));
        } else {
            return Err(SourceError::Syntax(text.to_string()));
        };
        Ok(Self { field, source })
    }

    /// Reads the value. The bytes are kept as they are (no trimming), so the
    /// config stage can report whitespace the way cert-manager would see it.
    pub fn read(&self) -> Result<Vec<u8>, SourceError> {
        match &self.source {
            CredentialSource::Env(var) => match std::env::var(var) {
                Ok(value) => Ok(value.into_bytes()),
                Err(std::env::VarError::NotPresent) => Err(SourceError::EnvMissing(var.clone())),
                Err(std::env::VarError::NotUnicode(_)) => Err(SourceError::EnvNotUnicode(var.clone())),
            },
            CredentialSource::File(path) => {
                let file = std::fs::File::open(path).map_err(|source| SourceError::File {
                    path: path.clone(),
                    source,
                })?;
                read_bounded(file, &format!("file {}", path.display())).map_err(|err| match err {
                    BoundedError::Io(source) => SourceError::File {
                        path: path.clone(),
                        source,
                    },
                    BoundedError::TooLarge(what) => SourceError::TooLarge(what),
                })
            }
            CredentialSource::Stdin => {
                read_bounded(std::io::stdin().lock(), "stdin").map_err(|err| match err {
                    BoundedError::Io(source) => SourceError::Stdin(source),
                    BoundedError::TooLarge(what) => SourceError::TooLarge(what),
                })
            }
            CredentialSource::Keyring(name) => Ok(crate::keyring::read_value(name)?),
        }
    }

    /// Reads the value and wraps it.
    pub fn read_secret(&self) -> Result<(Vec<u8>, SecretValue), SourceError> {
        let bytes = self.read()?;
        let value = SecretValue::from_bytes(&bytes);
        Ok((bytes, value))
    }

    /// Describes the source for reports, such as `env:CF_API_TOKEN`.
    pub fn describe(&self) -> String {
        match &self.source {
            CredentialSource::Env(var) => format!("env:{var}"),
            CredentialSource::File(path) => format!("file:{}", path.display()),
            CredentialSource::Stdin => "stdin".to_string(),
            CredentialSource::Keyring(name) => format!("keyring:{name}"),
        }
    }
}

pub(crate) enum BoundedError {
    Io(std::io::Error),
    TooLarge(String),
}

/// Reads at most [`MAX_CREDENTIAL_BYTES`] from `reader`.
pub(crate) fn read_bounded(reader: impl Read, what: &str) -> Result<Vec<u8>, BoundedError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_CREDENTIAL_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(BoundedError::Io)?;
    if bytes.len() as u64 > MAX_CREDENTIAL_BYTES {
        return Err(BoundedError::TooLarge(what.to_string()));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_sources() {
        assert_eq!(
            CredentialArg::parse("env:CF").unwrap().source,
            CredentialSource::Env("CF".into())
        );
        assert_eq!(CredentialArg::parse("stdin").unwrap().source, CredentialSource::Stdin);
        let arg = CredentialArg::parse("apiKeySecretRef=file:/tmp/k").unwrap();
        assert_eq!(arg.field.as_deref(), Some("apiKeySecretRef"));
        assert_eq!(arg.source, CredentialSource::File("/tmp/k".into()));
    }

    #[test]
    fn parse_keyring_source() {
        let arg = CredentialArg::parse("apiTokenSecretRef=keyring:cf-next").unwrap();
        assert_eq!(arg.field.as_deref(), Some("apiTokenSecretRef"));
        assert_eq!(arg.source, CredentialSource::Keyring("cf-next".into()));
        assert_eq!(arg.describe(), "keyring:cf-next");
        assert!(CredentialArg::parse("keyring:").is_err());
        assert!(CredentialArg::parse("keyring:a/b").is_err());
    }

    #[test]
    fn parse_rejects_bare_values() {
        // A literal token on the command line would land in shell history.
        assert!(CredentialArg::parse("abcdef0123").is_err());
        assert!(CredentialArg::parse("env:").is_err());
    }

    #[test]
    fn missing_env_is_named() {
        let err = CredentialArg::parse("env:ACME_TOKEN_TEST_SURELY_UNSET")
            .unwrap()
            .read()
            .unwrap_err();
        assert!(err.to_string().contains("ACME_TOKEN_TEST_SURELY_UNSET"));
    }
}
