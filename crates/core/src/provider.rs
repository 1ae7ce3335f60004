//! The contract every DNS provider crate implements.
//!
//! A provider crate exports one [`ProviderFactory`]. The factory reads the
//! provider's stanza of a cert-manager solver (for example the value under
//! `dns01.cloudflare`), names the Secret fields it needs, and builds a
//! [`Provider`] from the resolved secret values. The provider then replays
//! cert-manager's calls stage by stage. The runner drives the stages, so every
//! provider reports in the same shape.

use crate::budget::{AccountBudget, BudgetError, BudgetSettings};
use crate::finding::{Evidence, Finding, Reason, Severity, Stage};
use crate::http::HttpSettings;
use crate::secret::SecretValue;
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Static description of a provider: the cert-manager fields it reads, its
/// secret keys, the permissions it needs and the endpoints it calls. The
/// `providers` command and `docs/providers/` are generated from it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Short identifier used on the command line (`check cloudflare`) and in
    /// `--endpoint cloudflare=URL`.
    pub id: &'static str,
    /// Human name, such as `Cloudflare`.
    pub name: &'static str,
    /// Key of the provider stanza under `dns01`, such as `cloudflare`.
    pub solver_key: &'static str,
    /// cert-manager fields with a one-line description each.
    pub fields: &'static [(&'static str, &'static str)],
    /// Credential modes, such as `API token` and `global API key + email`.
    pub credential_modes: &'static [&'static str],
    /// Permissions the solver needs, in the provider's own words.
    pub permissions: &'static [&'static str],
    /// Endpoints called, as `METHOD path`.
    pub endpoints: &'static [&'static str],
    /// Default base URL; tests replace it with `--endpoint`.
    pub default_endpoint: &'static str,
    /// Endpoints besides the main API that `--endpoint NAME=URL` may
    /// replace, such as `sts` for Route53, each with the environment
    /// variable the provider's own SDK reads for it (`AWS_ENDPOINT_URL_STS`).
    /// An entry named like the provider id gives the main API's variable.
    pub endpoint_overrides: &'static [(&'static str, &'static str)],
    /// Published rate limit, in the provider's words.
    pub published_rate_limit: &'static str,
    /// Default per-account budget, well under the published limit.
    pub default_budget: BudgetSettings,
}

/// One Secret reference a solver needs, resolved by the cert-manager crate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretFieldSpec {
    /// cert-manager field that holds the reference, such as `apiTokenSecretRef`.
    pub field: String,
    /// Secret name.
    pub name: String,
    /// Key inside the Secret.
    pub key: String,
    /// True when cert-manager trims whitespace from this value before use.
    /// Whitespace is then a warning, otherwise an error.
    pub trimmed_by_cert_manager: bool,
}

/// Secret fields, settings and findings a factory reads from a stanza before it builds a provider.
#[derive(Debug, Clone, Default)]
pub struct SolverPlan {
    /// Secret fields to resolve, in the order cert-manager reads them.
    pub secrets: Vec<SecretFieldSpec>,
    /// Findings about the stanza itself (missing fields, both refs set,
    /// placeholders in plain fields). An error here stops the check.
    pub findings: Vec<Finding>,
    /// Plain (non-secret) settings the provider reads from the stanza, kept
    /// for the report, such as `email`.
    pub settings: BTreeMap<String, String>,
    /// Set when the stanza cannot be used at all; the build is skipped.
    pub unusable: bool,
}

/// Settings handed to a factory when it builds a provider.
#[derive(Debug, Clone, Default)]
pub struct ProviderSettings {
    pub http: HttpSettings,
    /// Base URL replacing the provider's default, for tests and the demo.
    pub endpoint: Option<String>,
    /// Provider-specific options from the command line, such as
    /// `account-id` for Cloudflare.
    pub options: BTreeMap<String, String>,
}

/// Result of building a provider from a plan and resolved secrets.
pub struct BuildOutcome {
    pub provider: Option<Arc<dyn Provider>>,
    /// Provider-specific config findings (a credential in the wrong field, a
    /// value cert-manager's constructor rejects).
    pub findings: Vec<Finding>,
}

/// A zone as the provider identified it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneRef {
    pub id: String,
    pub name: String,
}

/// Outcome of a stage as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StageStatus {
    Passed,
    Warning,
    Failed,
    /// The stage did not run, and `StageReport::note` gives the reason.
    Skipped,
}

/// Result of one stage: status, findings and facts.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StageReport {
    pub stage: Stage,
    pub status: StageStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Facts worth showing, such as the token id, its expiry or the zone id.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub facts: BTreeMap<String, String>,
    #[serde(skip)]
    pub findings: Vec<Finding>,
    /// True when the result was inferred without a write (`--no-write`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub inferred: bool,
    pub duration_ms: u64,
}

impl StageReport {
    /// Creates a passed stage with no findings.
    pub fn passed(stage: Stage) -> Self {
        Self {
            stage,
            status: StageStatus::Passed,
            note: None,
            facts: BTreeMap::new(),
            findings: Vec::new(),
            inferred: false,
            duration_ms: 0,
        }
    }

    /// Creates a skipped stage with the reason it did not run.
    pub fn skipped(stage: Stage, note: impl Into<String>) -> Self {
        Self {
            status: StageStatus::Skipped,
            note: Some(note.into()),
            ..Self::passed(stage)
        }
    }

    /// Adds a finding and lowers the status to match its severity.
    pub fn push(&mut self, finding: Finding) {
        match finding.severity {
            Severity::Error => self.status = StageStatus::Failed,
            Severity::Warning if self.status == StageStatus::Passed => {
                self.status = StageStatus::Warning
            }
            _ => {}
        }
        self.findings.push(finding);
    }

    /// Records a fact.
    pub fn fact(&mut self, key: &str, value: impl Into<String>) {
        self.facts.insert(key.to_string(), value.into());
    }

    /// Returns true when the stage has an error finding.
    pub fn failed(&self) -> bool {
        self.status == StageStatus::Failed
    }
}

/// Fact a provider sets on the write stage once the probe record was created,
/// so a later permission error is not mistaken for a read-only credential.
pub const FACT_PROBE_CREATED: &str = "probeRecordCreated";

/// Outcome of the zone stage.
#[derive(Debug, Clone)]
pub struct ZoneOutcome {
    pub report: StageReport,
    pub zone: Option<ZoneRef>,
}

/// Outcome of the write probe: the write stage (create, read back, delete)
/// and the cleanup stage (confirm nothing is left).
#[derive(Debug, Clone)]
pub struct ProbeOutcome {
    pub write: StageReport,
    pub cleanup: StageReport,
}

/// Per-check context handed to every provider call.
///
/// Providers call [`ProbeContext::before_request`] before each request, which
/// takes a token from the account's budget, counts the request, and stops
/// early when the run was cancelled or the account was rate limited.
#[derive(Clone)]
pub struct ProbeContext {
    pub cancel: CancellationToken,
    pub budget: Arc<AccountBudget>,
    requests: Arc<AtomicU32>,
    /// Skip creation and infer write permission without side effects.
    pub no_write: bool,
    /// Warn when a credential expires within this window.
    pub expiry_warning: Duration,
    /// Time to wait for cleanup requests after cancellation.
    pub cleanup_grace: Duration,
}

/// Reason a provider call was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestBlocked {
    #[error("the run was cancelled")]
    Cancelled,
    #[error(transparent)]
    Budget(#[from] BudgetError),
}

impl ProbeContext {
    /// Creates a context for one check.
    pub fn new(cancel: CancellationToken, budget: Arc<AccountBudget>) -> Self {
        Self {
            cancel,
            budget,
            requests: Arc::new(AtomicU32::new(0)),
            no_write: false,
            expiry_warning: Duration::from_secs(30 * 24 * 3600),
            cleanup_grace: Duration::from_secs(10),
        }
    }

    /// Waits for the account's budget and counts the request. Returns an
    /// error when the run is cancelled or the account hit a rate limit.
    pub async fn before_request(&self) -> Result<(), RequestBlocked> {
        if self.cancel.is_cancelled() {
            return Err(RequestBlocked::Cancelled);
        }
        tokio::select! {
            result = self.budget.acquire() => result?,
            _ = self.cancel.cancelled() => return Err(RequestBlocked::Cancelled),
        }
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Same as [`Self::before_request`] but ignores cancellation: used for the
    /// delete of a probe record, which must run even after Ctrl-C.
    pub async fn before_cleanup_request(&self) -> Result<(), RequestBlocked> {
        self.budget.acquire_for_cleanup().await?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Number of provider requests sent so far in this check.
    pub fn request_count(&self) -> u32 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Returns a context sharing cancellation and budget but counting
    /// requests separately.
    pub fn fork(&self) -> Self {
        Self {
            requests: Arc::new(AtomicU32::new(0)),
            ..self.clone()
        }
    }
}

/// A provider with a built credential, ready to replay cert-manager's calls.
///
/// Implementations must keep the probe contract: never change a record they
/// did not create, always delete what they created (also after errors,
/// timeouts and cancellation), and send every request through
/// [`ProbeContext::before_request`].
#[async_trait]
pub trait Provider: Send + Sync {
    /// Returns the descriptor of this provider.
    fn descriptor(&self) -> &'static Descriptor;

    /// Key grouping credentials that share one provider rate limit, such as
    /// `cloudflare:sha256:1a2b3c4d`. It must not contain the secret.
    fn account_key(&self) -> String;

    /// Fingerprint and length of each credential value in use, for the report.
    fn credential_summary(&self) -> Vec<(String, String)>;

    /// Credential stage: is the credential live, when does it expire, from
    /// where can it be used.
    async fn verify_credential(&self, cx: &ProbeContext) -> StageReport;

    /// Zone stage: find the zone for `fqdn` (`_acme-challenge.<domain>`, no
    /// trailing dot) exactly as cert-manager's solver does. With `None`, check
    /// only that the credential can read zones at all.
    async fn find_zone(&self, cx: &ProbeContext, fqdn: Option<&str>) -> ZoneOutcome;

    /// Write and cleanup stages: create the TXT record `fqdn` with `value`,
    /// read it back, delete it and confirm it is gone. With
    /// `cx.no_write`, infer write permission without creating anything.
    async fn probe_write(&self, cx: &ProbeContext, zone: &ZoneRef, fqdn: &str, value: &str)
        -> ProbeOutcome;

    /// Lists the probe records in `zone` that a killed run left behind: TXT
    /// records at `_acme-challenge.` names whose value parses with
    /// [`ProbeValue::parse`](crate::probe::ProbeValue::parse). Records
    /// without the marker are never returned. The default implementation
    /// returns a `ProviderUnsupported` finding.
    async fn list_probe_records(
        &self,
        cx: &ProbeContext,
        zone: &ZoneRef,
    ) -> Result<Vec<ProbeRecord>, Finding> {
        let _ = (cx, zone);
        Err(cleanup_unsupported(self.descriptor()))
    }

    /// Deletes one record returned by [`Self::list_probe_records`], and
    /// nothing else. On providers that keep several values in one record set,
    /// only the probe value is removed. The default implementation returns a
    /// `ProviderUnsupported` finding.
    async fn delete_probe_record(
        &self,
        cx: &ProbeContext,
        zone: &ZoneRef,
        record: &ProbeRecord,
    ) -> Result<(), Finding> {
        let _ = (cx, zone, record);
        Err(cleanup_unsupported(self.descriptor()))
    }
}

/// A probe record found in a zone by `cleanup`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeRecord {
    /// Provider id of the record, or of its record set; empty when the
    /// provider addresses records by name and value only.
    pub id: String,
    /// Record name without the trailing dot, such as `_acme-challenge.example.com`.
    pub name: String,
    /// The probe value; it is not a secret.
    pub value: String,
    /// Creation time decoded from the value.
    pub created_at: chrono::DateTime<chrono::Utc>,
}

fn cleanup_unsupported(descriptor: &Descriptor) -> Finding {
    Finding::warning(
        Reason::ProviderUnsupported,
        Stage::Cleanup,
        format!(
            "{}: this version cannot list or delete leftover probe records for this provider",
            descriptor.id
        ),
    )
    .with_remedy("delete TXT records whose value starts with acme-token-probe- by hand in the provider's console")
}

/// Builds providers of one kind from cert-manager solver stanzas.
pub trait ProviderFactory: Send + Sync {
    /// Returns the descriptor of the providers this factory builds.
    fn descriptor(&self) -> &'static Descriptor;

    /// Reads the provider stanza (the JSON value under `dns01.<solver_key>`)
    /// and lists the Secret fields to resolve.
    fn plan(&self, stanza: &serde_json::Value) -> SolverPlan;

    /// Builds the provider from the plan and the resolved secret values,
    /// keyed by cert-manager field name. A field missing from `secrets` could
    /// not be resolved, and the config stage already reported why.
    fn build(
        &self,
        plan: &SolverPlan,
        secrets: &BTreeMap<String, SecretValue>,
        settings: &ProviderSettings,
    ) -> BuildOutcome;

    /// Returns the solver stanza a bare credential check uses (`check
    /// <provider> --credential SRC`), built from command-line options such
    /// as `email`. Its Secret references name the keys the command line
    /// fills in. `None` means the provider has no bare credential check.
    fn bare_stanza(&self, options: &BTreeMap<String, String>) -> Option<serde_json::Value> {
        let _ = options;
        None
    }
}

/// Maps a blocked request to the finding the stage reports.
pub fn blocked_finding(stage: Stage, blocked: &RequestBlocked, provider: &str) -> Finding {
    match blocked {
        RequestBlocked::Cancelled => Finding::warning(
            Reason::Notice,
            stage,
            format!("{provider}: the check was interrupted before this stage finished"),
        ),
        RequestBlocked::Budget(BudgetError::RateLimited { retry_after }) => Finding::error(
            Reason::RateLimited,
            stage,
            format!(
                "{provider}: the account answered with a rate limit earlier in this run, so no further requests were sent"
            ),
        )
        .with_remedy(match retry_after {
            Some(secs) => format!("wait {secs} s before checking this account again, or lower --concurrency"),
            None => "wait a few minutes before checking this account again, or lower --concurrency".to_string(),
        })
        .with_evidence(Evidence {
            http_status: Some(429),
            ..Evidence::default()
        }),
    }
}
