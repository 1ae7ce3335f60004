//! Reading manifests from files, directories and standard input.

use crate::decode::add_document;
use crate::error::LoadError;
use crate::resources::{Inventory, IssuerKind};
use crate::yaml::{parse_documents, Document, LineMap};
use acme_token_core::{Finding, Reason, Stage};
use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest file accepted, in bytes (16 MiB). Manifests are far smaller, and
/// the limit keeps a wrong path (a disk image, a log) out of memory. A larger
/// file is rejected by its size before any of it is read.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Name used for standard input in messages.
pub const STDIN_NAME: &str = "<stdin>";

/// File name endings read when a directory is walked.
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Reads every manifest in `paths` into one inventory.
///
/// A path `-` is standard input. A directory is walked recursively in
/// name order, reading files that end in `.yaml`, `.yml` or `.json` and
/// skipping entries whose name starts with a dot (`.git`, `.github`).
/// Symbolic links are followed, except into a directory already entered.
///
/// # Errors
///
/// Returns the first file that cannot be read or parsed; see [`LoadError`].
pub fn load_paths(paths: &[PathBuf]) -> Result<Inventory, LoadError> {
    let mut inventory = Inventory::default();
    for path in paths {
        if path.as_os_str() == "-" {
            let bytes = read_limited(std::io::stdin().lock(), STDIN_NAME)?;
            load_into(&mut inventory, &bytes, STDIN_NAME)?;
            continue;
        }
        let file = path.display().to_string();
        let metadata = std::fs::metadata(path).map_err(|source| LoadError::Io {
            file: file.clone(),
            source,
        })?;
        if metadata.is_dir() {
            let mut entered = HashSet::new();
            walk_directory(path, &mut entered, &mut inventory)?;
        } else {
            load_file(path, &mut inventory)?;
        }
    }
    inventory.finish();
    Ok(inventory)
}

/// Reads manifests from a string. `source` names it in messages.
///
/// # Errors
///
/// See [`LoadError`].
pub fn load_str(text: &str, source: &str) -> Result<Inventory, LoadError> {
    load_bytes(text.as_bytes(), source)
}

/// Reads manifests from raw bytes, rejecting binary input.
///
/// # Errors
///
/// See [`LoadError`].
pub fn load_bytes(bytes: &[u8], source: &str) -> Result<Inventory, LoadError> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            file: source.to_string(),
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    let mut inventory = Inventory::default();
    load_into(&mut inventory, bytes, source)?;
    inventory.finish();
    Ok(inventory)
}

fn walk_directory(
    directory: &Path,
    entered: &mut HashSet<PathBuf>,
    inventory: &mut Inventory,
) -> Result<(), LoadError> {
    let io_error = |source| LoadError::Io {
        file: directory.display().to_string(),
        source,
    };
    let canonical = std::fs::canonicalize(directory).map_err(io_error)?;
    if !entered.insert(canonical.clone()) {
        inventory.notices.push(Finding::info(
            Reason::Notice,
            Stage::Config,
            format!(
                "{}: skipped, because a symbolic link leads back to {}, which was already read",
                directory.display(),
                canonical.display()
            ),
        ));
        return Ok(());
    }

    let mut entries: Vec<PathBuf> = std::fs::read_dir(directory)
        .map_err(io_error)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<_, _>>()
        .map_err(io_error)?;
    entries.sort();

    for entry in entries {
        let hidden = entry
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.starts_with('.'));
        if hidden {
            continue;
        }
        // `metadata` follows symbolic links; a dangling link is reported.
        let metadata = std::fs::metadata(&entry).map_err(|source| LoadError::Io {
            file: entry.display().to_string(),
            source,
        })?;
        if metadata.is_dir() {
            walk_directory(&entry, entered, inventory)?;
        } else if has_manifest_extension(&entry) {
            load_file(&entry, inventory)?;
        }
    }
    Ok(())
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            MANIFEST_EXTENSIONS
                .iter()
                .any(|known| known.eq_ignore_ascii_case(extension))
        })
}

fn load_file(path: &Path, inventory: &mut Inventory) -> Result<(), LoadError> {
    let file = path.display().to_string();
    let io_error = |source| LoadError::Io {
        file: file.clone(),
        source,
    };
    let handle = std::fs::File::open(path).map_err(io_error)?;
    let size = handle.metadata().map_err(io_error)?.len();
    if size > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            file,
            size,
            limit: MAX_FILE_BYTES,
        });
    }
    let bytes = read_limited(handle, &file)?;
    load_into(inventory, &bytes, &file)
}

/// Reads at most [`MAX_FILE_BYTES`]. Longer input (a pipe, a growing file,
/// a device) is rejected once the limit is passed.
fn read_limited(reader: impl Read, file: &str) -> Result<Vec<u8>, LoadError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|source| LoadError::Io {
            file: file.to_string(),
            source,
        })?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(LoadError::TooLarge {
            file: file.to_string(),
            size: bytes.len() as u64,
            limit: MAX_FILE_BYTES,
        });
    }
    Ok(bytes)
}

fn load_into(inventory: &mut Inventory, bytes: &[u8], file: &str) -> Result<(), LoadError> {
    let text = decode_text(bytes, file)?;
    for document in parse_documents(text, file)? {
        add_document(inventory, &document, file)?;
    }
    Ok(())
}

/// Checks that `bytes` is UTF-8 text without NUL bytes and strips a
/// byte-order mark.
fn decode_text<'a>(bytes: &'a [u8], file: &str) -> Result<&'a str, LoadError> {
    let binary = |offset: usize, detail: String| LoadError::Binary {
        file: file.to_string(),
        line: line_at(bytes, offset),
        detail,
    };
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(binary(
            0,
            "the file is UTF-16 text; convert it to UTF-8 (iconv -f UTF-16 -t UTF-8)".to_string(),
        ));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Some(offset) = bytes.iter().position(|byte| *byte == 0) {
        return Err(binary(
            offset,
            "it contains a NUL byte, so it is binary data".to_string(),
        ));
    }
    std::str::from_utf8(bytes).map_err(|error| {
        binary(
            error.valid_up_to(),
            "it is not valid UTF-8; save it as UTF-8".to_string(),
        )
    })
}

fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|byte| **byte == b'\n')
        .count()
        + 1
}

impl Inventory {
    /// Reads objects fetched from an API server, such as the items of a
    /// list, with the same rules as manifests. `source` names their origin
    /// in messages (for example `cluster`); objects have no line, so
    /// [`SourceRef::line`](crate::SourceRef) is 0.
    ///
    /// # Errors
    ///
    /// Returns the first object with a field of the wrong type; see [`LoadError`].
    pub fn from_json_objects(
        source: &str,
        objects: impl IntoIterator<Item = serde_json::Value>,
    ) -> Result<Inventory, LoadError> {
        let mut inventory = Inventory::default();
        for value in objects {
            let document = Document {
                value,
                line: 0,
                lines: LineMap::default(),
            };
            add_document(&mut inventory, &document, source)?;
        }
        inventory.finish();
        Ok(inventory)
    }

    /// Adds everything from `other`, keeping input order.
    pub fn extend(&mut self, other: Inventory) {
        self.issuers.extend(other.issuers);
        self.certificates.extend(other.certificates);
        self.secrets.extend(other.secrets);
        self.external_secrets.extend(other.external_secrets);
        self.notices.extend(other.notices);
    }

    /// Fills in `namespace` for namespaced objects that have none, as
    /// `kubectl apply -n NAMESPACE` does, and adds an info notice for each
    /// Issuer that got it.
    pub fn with_default_namespace(mut self, namespace: &str) -> Self {
        for issuer in &mut self.issuers {
            if issuer.kind == IssuerKind::Issuer && issuer.namespace.is_none() {
                issuer.namespace = Some(namespace.to_string());
                issuer.namespace_defaulted = true;
                self.notices.push(Finding::info(
                    Reason::Notice,
                    Stage::Config,
                    format!(
                        "{}: Issuer {} has no metadata.namespace, so the default namespace {namespace} is assumed (set metadata.namespace, or pass -n)",
                        issuer.source, issuer.name
                    ),
                ));
            }
        }
        for certificate in &mut self.certificates {
            certificate
                .namespace
                .get_or_insert_with(|| namespace.to_string());
        }
        for secret in &mut self.secrets {
            secret
                .namespace
                .get_or_insert_with(|| namespace.to_string());
        }
        for external_secret in &mut self.external_secrets {
            external_secret
                .namespace
                .get_or_insert_with(|| namespace.to_string());
        }
        self
    }

    /// Adds notices that need the whole input: objects defined twice and
    /// ACME account keys shared by several issuers.
    pub(crate) fn finish(&mut self) {
        self.note_duplicates();
        self.note_shared_account_keys();
    }

    fn note_duplicates(&mut self) {
        let mut notices = Vec::new();
        dedupe(&mut self.issuers, &mut notices, |issuer| {
            (issuer.display_name(), issuer.source.to_string())
        });
        dedupe(&mut self.certificates, &mut notices, |certificate| {
            (
                format!(
                    "Certificate {}",
                    qualified(certificate.namespace.as_deref(), &certificate.name)
                ),
                certificate.source.to_string(),
            )
        });
        dedupe(&mut self.secrets, &mut notices, |secret| {
            (
                format!(
                    "Secret {}",
                    qualified(secret.namespace.as_deref(), &secret.name)
                ),
                secret.source.to_string(),
            )
        });
        dedupe(&mut self.external_secrets, &mut notices, |item| {
            (item.display_name(), item.source.to_string())
        });
        self.notices.extend(notices);
    }

    fn note_shared_account_keys(&mut self) {
        // ClusterIssuers read the key from the cluster resource namespace,
        // Issuers from their own, so the scope is part of the key.
        let mut by_key: BTreeMap<(Option<&str>, &str), Vec<&str>> = BTreeMap::new();
        for issuer in self
            .issuers
            .iter()
            .filter(|issuer| issuer.acme && !issuer.legacy)
        {
            let Some(secret) = issuer
                .private_key_secret
                .as_deref()
                .filter(|secret| !secret.is_empty())
            else {
                continue;
            };
            let scope = match issuer.kind {
                IssuerKind::ClusterIssuer => None,
                IssuerKind::Issuer => Some(issuer.namespace.as_deref().unwrap_or("")),
            };
            by_key
                .entry((scope, secret))
                .or_default()
                .push(&issuer.name);
        }
        let mut notices = Vec::new();
        for ((scope, secret), names) in by_key {
            if names.len() < 2 {
                continue;
            }
            let kind = if scope.is_some() {
                "Issuers"
            } else {
                "ClusterIssuers"
            };
            notices.push(
                Finding::warning(
                    Reason::Notice,
                    Stage::Config,
                    format!(
                        "{kind} {} share the ACME account key Secret {secret} (spec.acme.privateKeySecretRef), so they register and use one ACME account",
                        names.join(", ")
                    ),
                )
                .with_remedy("give each issuer its own privateKeySecretRef name"),
            );
        }
        self.notices.extend(notices);
    }
}

fn qualified(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_string(),
    }
}

/// Keeps the last of several items with the same identity, as a later
/// `kubectl apply` replaces an earlier one, and adds a warning per repeat.
fn dedupe<T>(
    items: &mut Vec<T>,
    notices: &mut Vec<Finding>,
    identity: impl Fn(&T) -> (String, String),
) {
    let mut last: BTreeMap<String, usize> = BTreeMap::new();
    for (index, item) in items.iter().enumerate() {
        last.insert(identity(item).0, index);
    }
    if last.len() == items.len() {
        return;
    }
    let mut index = 0;
    items.retain(|item| {
        let (name, source) = identity(item);
        let keep = last[&name] == index;
        if !keep {
            notices.push(Finding::warning(
                Reason::Notice,
                Stage::Config,
                format!("{source}: {name} is defined again later in the input; the later definition is used"),
            ));
        }
        index += 1;
        keep
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_over_limit_rejected() {
        let stream = std::io::repeat(b' ').take(MAX_FILE_BYTES + 10);
        let error = read_limited(stream, STDIN_NAME).unwrap_err();
        assert!(matches!(error, LoadError::TooLarge { .. }), "{error:?}");
        assert!(error.to_string().starts_with("<stdin>: "), "{error}");
    }

    #[test]
    fn stream_at_limit_read() {
        let stream = std::io::repeat(b' ').take(MAX_FILE_BYTES);
        let bytes = read_limited(stream, STDIN_NAME).unwrap();
        assert_eq!(bytes.len() as u64, MAX_FILE_BYTES);
    }
}
