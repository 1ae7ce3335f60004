//! Errors of loading manifests.
//!
//! Every error names the file and, where the input was read, the line. No
//! message contains a value from the input: a wrong type is described by its
//! kind ("a string"), and a template by its marker (`{{`), because the line
//! could hold a credential.

/// Error of loading manifests. Each variant means exit code 2.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The path could not be opened or read.
    #[error("{file}: failed to read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },

    /// The file is larger than [`crate::MAX_FILE_BYTES`].
    #[error(
        "{file}: file is larger than the limit of {limit} bytes ({size}); pass only the manifests to check"
    )]
    TooLarge {
        file: String,
        /// Size in bytes, or the number read before the limit was hit.
        size: u64,
        limit: u64,
    },

    /// The file is not UTF-8 text: NUL bytes, invalid UTF-8 or UTF-16.
    #[error("{file}:{line}: not a text manifest: {detail}")]
    Binary {
        file: String,
        line: usize,
        detail: String,
    },

    /// The YAML or JSON syntax is invalid.
    #[error("{file}:{line}:{column}: invalid {format}: {message}{}", template_hint(*template))]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        /// `YAML` or `JSON`.
        format: &'static str,
        message: String,
        /// Template marker found on the failing line or in its document,
        /// such as `{{`.
        template: Option<&'static str>,
    },

    /// YAML aliases expand to more nodes than the limit allows.
    #[error(
        "{file}:{line}: YAML aliases expand to more than {limit} nodes (an alias bomb such as \"billion laughs\"); the file is rejected"
    )]
    AliasBomb {
        file: String,
        line: usize,
        limit: usize,
    },

    /// A field the tool reads has the wrong type.
    #[error(
        "{file}:{line}: {object}: {path} must be {expected}, found {found}{}",
        template_hint(*template)
    )]
    FieldType {
        file: String,
        line: usize,
        /// `ClusterIssuer letsencrypt`, `Secret cert-manager/cf`.
        object: String,
        /// Path of the field inside the object, such as `spec.acme.solvers`.
        path: String,
        expected: &'static str,
        found: &'static str,
        template: Option<&'static str>,
    },
}

fn template_hint(marker: Option<&'static str>) -> String {
    match marker {
        Some(marker) => format!(
            "; the input holds the unrendered template marker `{marker}`: render it first (helm template, kustomize build, envsubst) and check the output"
        ),
        None => String::new(),
    }
}

impl LoadError {
    /// Name of the file the error is about (`<stdin>` for standard input).
    pub fn file(&self) -> &str {
        match self {
            LoadError::Io { file, .. }
            | LoadError::TooLarge { file, .. }
            | LoadError::Binary { file, .. }
            | LoadError::Syntax { file, .. }
            | LoadError::AliasBomb { file, .. }
            | LoadError::FieldType { file, .. } => file,
        }
    }

    /// Line (1-based) the error is about, when the file was read.
    pub fn line(&self) -> Option<usize> {
        match self {
            LoadError::Binary { line, .. }
            | LoadError::Syntax { line, .. }
            | LoadError::AliasBomb { line, .. }
            | LoadError::FieldType { line, .. } => Some(*line),
            LoadError::Io { .. } | LoadError::TooLarge { .. } => None,
        }
    }
}
