//! AWS SDK clients for Route53 and STS, and the failure type every call
//! returns.
//!
//! The HTTPS client is rustls with ring, built here instead of the SDK's
//! default (aws-lc-rs, a C build). SDK retries are disabled: the replay
//! retries throttling itself, so every attempt takes a token from the
//! account's request budget. Endpoints are AWS's defaults unless an override
//! is given (`--endpoint route53=URL`, `--endpoint sts=URL`,
//! `AWS_ENDPOINT_URL_ROUTE_53`, `AWS_ENDPOINT_URL_STS`), which exist for
//! tests.

use acme_token_core::{HttpSettings, SecretValue};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_sdk_route53::config::{BehaviorVersion, Region};
use aws_sdk_route53::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_types::retry::RetryConfig;
use aws_smithy_types::timeout::TimeoutConfig;
use std::fmt;

/// Endpoint overrides; `None` keeps AWS's default endpoint.
#[derive(Debug, Clone, Default)]
pub(crate) struct Endpoints {
    pub route53: Option<String>,
    pub sts: Option<String>,
}

/// Strips the `/hostedzone/` or `/change/` prefix Route53 puts on ids, as
/// the SDKs do for input ids.
pub(crate) fn bare_id(id: &str) -> &str {
    let id = id.trim().trim_start_matches('/');
    id.strip_prefix("hostedzone/")
        .or_else(|| id.strip_prefix("change/"))
        .unwrap_or(id)
}

/// Clients built with the credentials the replay ended up with.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub route53: aws_sdk_route53::Client,
    pub sts: aws_sdk_sts::Client,
    /// ARN of the role session, when a role was assumed.
    pub assumed_arn: Option<String>,
    /// Expiry of temporary credentials, when known.
    pub expires: Option<String>,
}

/// Builds the HTTPS client shared by every AWS client of one provider.
pub(crate) fn http_client(settings: &HttpSettings) -> Result<SharedHttpClient, String> {
    let mut builder = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring));
    if let Some(path) = &settings.ca_file {
        let pem = std::fs::read(path)
            .map_err(|err| format!("cannot read CA file '{}': {err}", path.display()))?;
        let trust = TrustStore::default().with_pem_certificate(pem);
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .map_err(|err| {
                format!(
                    "CA file '{}' holds no usable PEM certificate: {err}",
                    path.display()
                )
            })?;
        builder = builder.tls_context(context);
    }
    Ok(builder.build_https())
}

fn timeouts(settings: &HttpSettings) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(settings.timeout)
        .operation_attempt_timeout(settings.timeout)
        .build()
}

/// Static credentials; the provider name shows in SDK debug output only.
pub(crate) fn static_credentials(
    access_key_id: &SecretValue,
    secret: &SecretValue,
    session_token: Option<String>,
) -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        access_key_id.expose(),
        secret.expose(),
        session_token,
        None,
        "acme-token",
    ))
}

/// Builds a Route53 client.
pub(crate) fn route53_client(
    http: &SharedHttpClient,
    settings: &HttpSettings,
    region: &str,
    endpoint: Option<&str>,
    credentials: SharedCredentialsProvider,
) -> aws_sdk_route53::Client {
    let mut builder = aws_sdk_route53::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(region.to_string()))
        .http_client(http.clone())
        .credentials_provider(credentials)
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts(settings))
        .app_name(aws_sdk_route53::config::AppName::new("acme-token").expect("valid app name"));
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_route53::Client::from_conf(builder.build())
}

/// Builds an STS client; `credentials` is `None` for the unsigned
/// AssumeRoleWithWebIdentity.
pub(crate) fn sts_client(
    http: &SharedHttpClient,
    settings: &HttpSettings,
    region: &str,
    endpoint: Option<&str>,
    credentials: Option<SharedCredentialsProvider>,
) -> aws_sdk_sts::Client {
    let mut builder = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .region(aws_sdk_sts::config::Region::new(region.to_string()))
        .http_client(http.clone())
        .retry_config(RetryConfig::disabled())
        .timeout_config(timeouts(settings));
    if let Some(credentials) = credentials {
        builder = builder.credentials_provider(credentials);
    }
    if let Some(url) = endpoint {
        builder = builder.endpoint_url(url);
    }
    aws_sdk_sts::Client::from_conf(builder.build())
}

/// Loads the AWS default credential chain (environment, shared files, web
/// identity from the environment, container and instance metadata), as
/// cert-manager does for ambient credentials.
pub(crate) async fn ambient_credentials(
    http: &SharedHttpClient,
    region: &str,
    sts_endpoint: Option<&str>,
) -> Option<SharedCredentialsProvider> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http.clone())
        .region(aws_config::Region::new(region.to_string()));
    // The web-identity provider of the default chain calls STS; the override
    // keeps it on the test endpoint.
    if let Some(url) = sts_endpoint {
        loader = loader.endpoint_url(url);
    }
    loader.load().await.credentials_provider()
}

/// Kind of failure of one call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// The service returned an error status.
    Service,
    /// No response before the timeout.
    Timeout,
    /// The connection failed or was reset.
    Transport,
    /// The response could not be parsed.
    Malformed,
    /// The request could not be built or signed (no credentials, a header
    /// value the HTTP stack rejects, no region).
    Construction,
    /// The run was cancelled while the request was in flight.
    Interrupted,
}

/// A failed AWS call, with secrets already absent: the SDK's error texts
/// name operations, codes and URLs, never credential values.
#[derive(Debug, Clone)]
pub(crate) struct ApiFailure {
    /// `METHOD path` of the call, for evidence.
    pub request: String,
    pub kind: FailureKind,
    pub status: Option<u16>,
    pub code: Option<String>,
    pub message: String,
}

impl ApiFailure {
    /// Builds a failure from an SDK error.
    pub(crate) fn from_sdk<E, R>(request: impl Into<String>, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + HasStatus,
    {
        let request = request.into();
        let code = err.code().map(str::to_string);
        let text = err.message().map(str::to_string);
        let (kind, status) = match &err {
            // The SDK reports a success status whose body it cannot parse
            // as a service error without a code.
            SdkError::ServiceError(context) if context.raw().status_code() < 300 => {
                let status = context.raw().status_code();
                let message = format!(
                    "HTTP {status} with a body that could not be parsed: {}",
                    error_chain(context.err())
                );
                return Self {
                    request,
                    kind: FailureKind::Malformed,
                    status: Some(status),
                    code: None,
                    message,
                };
            }
            SdkError::ServiceError(context) => {
                (FailureKind::Service, Some(context.raw().status_code()))
            }
            SdkError::TimeoutError(_) => (FailureKind::Timeout, None),
            SdkError::DispatchFailure(failure) if failure.is_timeout() => {
                (FailureKind::Timeout, None)
            }
            SdkError::DispatchFailure(_) => (FailureKind::Transport, None),
            SdkError::ResponseError(context) => {
                (FailureKind::Malformed, Some(context.raw().status_code()))
            }
            SdkError::ConstructionFailure(_) => (FailureKind::Construction, None),
            _ => (FailureKind::Transport, None),
        };
        let message = text.unwrap_or_else(|| {
            format!(
                "{}",
                aws_smithy_types::error::display::DisplayErrorContext(&err)
            )
        });
        Self {
            request,
            kind,
            status,
            code,
            message,
        }
    }

    /// A request abandoned because the run was cancelled.
    pub(crate) fn interrupted(request: impl Into<String>) -> Self {
        Self {
            request: request.into(),
            kind: FailureKind::Interrupted,
            status: None,
            code: None,
            message: "interrupted before the response arrived".to_string(),
        }
    }

    /// Route53 and STS throttle with HTTP 400 `Throttling` (not 429).
    pub(crate) fn is_throttling(&self) -> bool {
        matches!(
            self.code.as_deref(),
            Some(
                "Throttling"
                    | "ThrottlingException"
                    | "RequestLimitExceeded"
                    | "TooManyRequestsException"
            )
        ) || self.status == Some(429)
    }

    pub(crate) fn is_code(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// True when the request may have been applied although no success
    /// answer arrived.
    pub(crate) fn may_have_taken_effect(&self) -> bool {
        match self.kind {
            FailureKind::Timeout
            | FailureKind::Transport
            | FailureKind::Malformed
            | FailureKind::Interrupted => true,
            FailureKind::Service => self.status.is_some_and(|s| s >= 500),
            FailureKind::Construction => false,
        }
    }

    /// True when retrying could help: throttling, a server error or a lost
    /// connection.
    pub(crate) fn is_retryable(&self) -> bool {
        self.is_throttling()
            || self.is_code("PriorRequestNotComplete")
            || matches!(self.kind, FailureKind::Transport | FailureKind::Timeout)
            || (self.kind == FailureKind::Service && self.status.is_some_and(|s| s >= 500))
    }
}

/// Joins the messages of an error and its sources, without the Debug dump
/// that `DisplayErrorContext` appends.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(next) = source {
        parts.push(next.to_string());
        source = next.source();
    }
    parts.join(": ")
}

/// HTTP status of a raw response, for [`ApiFailure::from_sdk`].
pub(crate) trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_smithy_runtime_api::http::Response {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_lose_prefix() {
        assert_eq!(bare_id("/hostedzone/Z1"), "Z1");
        assert_eq!(bare_id("hostedzone/Z1"), "Z1");
        assert_eq!(bare_id("/change/C2"), "C2");
        assert_eq!(bare_id("Z3"), "Z3");
    }
}
