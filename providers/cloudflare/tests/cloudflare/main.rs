//! Tests of the Cloudflare provider against a stand-in API on 127.0.0.1.
//!
//! Each module covers one area: the stanza and Secret value (`config`), the
//! credential stage, the zone walk, the write probe, secrets in output, and
//! the descriptor.

mod check;
mod config;
mod credential;
mod descriptor;
mod fake;
mod secrets;
mod write;
mod zone;

use acme_token_cloudflare::CloudflareFactory;
use acme_token_core::budget::AccountBudget;
use acme_token_core::report::{CredentialSummary, IssuerRef};
use acme_token_core::runner::CheckJob;
use acme_token_core::{
    Finding, HttpSettings, ProbeContext, Provider, ProviderFactory, ProviderSettings, Reason,
    SecretValue, Stage, StageReport,
};
use fake::{FakeCloudflare, State};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer};

/// An unprefixed 40-character API token.
pub const TOKEN: &str = "Yq8nNw2vB7xK_cM4pR1sT6uV9wX0yZ3aB5cD7eF9";
/// A 37-character lowercase hex global API key.
pub const GLOBAL_KEY: &str = "0123456789abcdef0123456789abcdef01234";
pub const EMAIL: &str = "ops@example.com";
pub const ZONE_ID: &str = "023e105f4ecef8ad9ca31a8372d0c353";
pub const OTHER_ZONE_ID: &str = "9a7806061c88ada191ed06f989cc3dac";
pub const ACCOUNT_ID: &str = "01a7362d577a6c3019a474fd6f485823";
/// Per-request timeout of the tests, so timeouts cost little.
pub const TIMEOUT: Duration = Duration::from_millis(300);

/// A running stand-in API and its state.
pub struct Harness {
    pub server: MockServer,
    pub fake: FakeCloudflare,
}

impl Harness {
    pub async fn start(state: State) -> Self {
        let server = MockServer::start().await;
        let fake = FakeCloudflare::new(state);
        Mock::given(any()).respond_with(fake.clone()).mount(&server).await;
        Self { server, fake }
    }

    pub fn settings(&self) -> ProviderSettings {
        ProviderSettings {
            http: HttpSettings {
                timeout: TIMEOUT,
                ..HttpSettings::default()
            },
            endpoint: Some(self.server.uri()),
            options: BTreeMap::new(),
        }
    }

    /// Builds a provider for `stanza` with `value` in its only Secret field.
    pub fn provider(&self, stanza: serde_json::Value, value: &str) -> Arc<dyn Provider> {
        self.provider_with(stanza, value, self.settings())
    }

    pub fn provider_with(
        &self,
        stanza: serde_json::Value,
        value: &str,
        settings: ProviderSettings,
    ) -> Arc<dyn Provider> {
        let factory = CloudflareFactory;
        let plan = factory.plan(&stanza);
        let field = plan.secrets[0].field.clone();
        let secrets = BTreeMap::from([(field, SecretValue::new(value))]);
        factory
            .build(&plan, &secrets, &settings)
            .provider
            .expect("the provider builds")
    }

    /// Returns every request received so far, as `METHOD /path?query`.
    pub async fn requests(&self) -> Vec<String> {
        self.server
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .map(|request| match request.url.query() {
                Some(query) => format!("{} {}?{}", request.method, request.url.path(), query),
                None => format!("{} {}", request.method, request.url.path()),
            })
            .collect()
    }
}

pub fn token_stanza() -> serde_json::Value {
    serde_json::json!({"apiTokenSecretRef": {"name": "cf", "key": "api-token"}})
}

pub fn key_stanza() -> serde_json::Value {
    serde_json::json!({"email": EMAIL, "apiKeySecretRef": {"name": "cf", "key": "api-key"}})
}

/// Creates a context with an unlimited budget and a fresh cancellation token.
pub fn context() -> ProbeContext {
    ProbeContext::new(CancellationToken::new(), Arc::new(AccountBudget::unlimited()))
}

/// Returns the findings of a stage with `reason`.
pub fn with_reason(report: &StageReport, reason: Reason) -> Vec<&Finding> {
    report.findings.iter().filter(|f| f.reason == reason).collect()
}

/// Lists a stage's findings as text, for assertion messages.
pub fn reasons(report: &StageReport) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| format!("{} {:?}: {}", f.reason, f.severity, f.message))
        .collect()
}

/// Creates a runner job for one provider and one domain, with a passed
/// config stage.
pub fn check_job(provider: Arc<dyn Provider>, domain: &str) -> CheckJob {
    CheckJob {
        issuer: IssuerRef {
            kind: "ClusterIssuer".into(),
            name: "letsencrypt".into(),
            namespace: None,
        },
        solver_index: 0,
        provider_id: "cloudflare".into(),
        domains: vec![domain.to_string()],
        config: StageReport::passed(Stage::Config),
        credentials: provider
            .credential_summary()
            .into_iter()
            .map(|(field, fingerprint)| CredentialSummary { field, fingerprint })
            .collect(),
        provider: Some(provider),
        skip: None,
        budget: acme_token_cloudflare::DESCRIPTOR.default_budget,
        context: BTreeMap::new(),
    }
}
