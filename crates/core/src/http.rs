//! HTTP client settings shared by every provider.

use std::path::PathBuf;
use std::time::Duration;

/// Settings for the HTTP clients providers build.
///
/// Proxies come from the standard `HTTPS_PROXY`, `HTTP_PROXY` and `NO_PROXY`
/// variables, which reqwest reads by default.
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Timeout of one request.
    pub timeout: Duration,
    /// Extra PEM CA bundle, for corporate TLS interception.
    pub ca_file: Option<PathBuf>,
    /// User-Agent header.
    pub user_agent: String,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            ca_file: None,
            user_agent: format!("acme-token/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// Error building an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum HttpSetupError {
    #[error("cannot read CA file '{path}': {source}")]
    ReadCa {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("CA file '{path}' holds no usable PEM certificate: {source}")]
    ParseCa {
        path: PathBuf,
        source: reqwest::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Build(reqwest::Error),
}

impl HttpSettings {
    /// Builds a reqwest client with these settings.
    pub fn client(&self) -> Result<reqwest::Client, HttpSetupError> {
        let mut builder = reqwest::Client::builder()
            .timeout(self.timeout)
            .connect_timeout(self.timeout)
            .user_agent(self.user_agent.clone());
        if let Some(path) = &self.ca_file {
            let pem = std::fs::read(path).map_err(|source| HttpSetupError::ReadCa {
                path: path.clone(),
                source,
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|source| {
                HttpSetupError::ParseCa {
                    path: path.clone(),
                    source,
                }
            })?;
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder.build().map_err(HttpSetupError::Build)
    }
}
