//! The report: one entry per (issuer, solver, domain), with its stages,
//! findings, timings and request count, and the exit code it implies.

use crate::finding::{Finding, Severity, Stage};
use crate::provider::{StageReport, StageStatus};
use serde::Serialize;
use std::collections::BTreeMap;

/// API version of the JSON and YAML report.
pub const REPORT_API_VERSION: &str = "acme-token/v1";

/// Verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Verdict {
    Ok,
    Skip,
    Warn,
    Fail,
}

impl Verdict {
    /// Upper-case name as printed in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "OK",
            Verdict::Warn => "WARN",
            Verdict::Fail => "FAIL",
            Verdict::Skip => "SKIP",
        }
    }
}

/// Issuer a check belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuerRef {
    /// `Issuer` or `ClusterIssuer`; `Credential` for a bare credential check.
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl IssuerRef {
    /// `ClusterIssuer/name` or `Issuer/namespace/name`.
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{}/{}", self.kind, ns, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

/// Fingerprint and length of one credential value used by a check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSummary {
    /// cert-manager field or credential role, such as `apiTokenSecretRef`.
    pub field: String,
    /// `sha256:1a2b3c4d (40 bytes)`.
    pub fingerprint: String,
}

/// Which credential a check used when a candidate is compared with the
/// in-cluster credential (`check --candidate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CredentialRole {
    /// The value the cluster (or the manifests) holds now.
    InCluster,
    /// The value given with `--candidate`, in place of the in-cluster one.
    Candidate,
}

impl CredentialRole {
    /// Name as printed in the table and the JSON report.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialRole::InCluster => "in-cluster",
            CredentialRole::Candidate => "candidate",
        }
    }
}

/// One (issuer, solver, domain) check.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckEntry {
    pub issuer: IssuerRef,
    pub solver_index: usize,
    pub provider: String,
    /// Set only with `--candidate`: which credential this entry checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<CredentialRole>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Challenge record name, without the trailing dot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    pub verdict: Verdict,
    /// Short label of the credential state: `live`, `stale`, `read-only`,
    /// `expiring`, `misconfigured` or `unknown`.
    pub credential_state: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub credentials: Vec<CredentialSummary>,
    /// Extra context: where the Secret lives, which ExternalSecret syncs it.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub context: BTreeMap<String, String>,
    pub stages: Vec<StageReport>,
    pub findings: Vec<Finding>,
    /// Provider requests this check sent.
    pub requests: u32,
    pub duration_ms: u64,
}

impl CheckEntry {
    /// Returns the finding the table shows: the first error, else the first warning,
    /// else the first info.
    pub fn headline(&self) -> Option<&Finding> {
        // A record left in the user's zone matters more than why it was left.
        if let Some(leftover) = self
            .findings
            .iter()
            .find(|f| f.reason == crate::finding::Reason::ProbeLeftover && f.severity == Severity::Error)
        {
            return Some(leftover);
        }
        [Severity::Error, Severity::Warning, Severity::Info]
            .iter()
            .find_map(|severity| self.findings.iter().find(|f| f.severity == *severity))
    }

    /// Computes the verdict and credential state from the stages.
    pub fn finish(&mut self) {
        let mut findings: Vec<Finding> = Vec::new();
        for stage in &self.stages {
            findings.extend(stage.findings.iter().cloned());
        }
        findings.sort_by_key(|f| f.stage);
        self.findings = findings;
        if self.verdict != Verdict::Skip {
            self.verdict = if self.findings.iter().any(|f| f.severity == Severity::Error) {
                Verdict::Fail
            } else if self.findings.iter().any(|f| f.severity == Severity::Warning) {
                Verdict::Warn
            } else {
                Verdict::Ok
            };
        }
        self.credential_state = self.compute_credential_state().to_string();
    }

    fn stage(&self, stage: Stage) -> Option<&StageReport> {
        self.stages.iter().find(|s| s.stage == stage)
    }

    fn compute_credential_state(&self) -> &'static str {
        use crate::finding::Reason::*;
        let has = |reason| {
            self.findings
                .iter()
                .any(|f| f.reason == reason && f.severity == Severity::Error)
        };
        if has(AuthInvalid) || has(AuthExpired) || has(StaleCredential) {
            return "stale";
        }
        if self
            .findings
            .iter()
            .any(|f| f.stage == Stage::Config && f.severity == Severity::Error)
        {
            return "misconfigured";
        }
        if self
            .findings
            .iter()
            .any(|f| f.stage == Stage::Write && f.reason == PermissionMissing && f.severity == Severity::Error)
        {
            // A credential that created the probe record can write; what it
            // lacks is a later step (such as Route53's GetChange).
            let created = self
                .stage(Stage::Write)
                .is_some_and(|s| s.facts.contains_key(crate::provider::FACT_PROBE_CREATED));
            return if created { "permission-missing" } else { "read-only" };
        }
        if self.findings.iter().any(|f| f.reason == AuthExpiring) {
            return "expiring";
        }
        let credential = self.stage(Stage::Credential);
        let unreachable = credential.is_some_and(|stage| {
            stage.findings.iter().filter(|f| f.severity == Severity::Error).all(|f| {
                matches!(f.reason, ProviderUnavailable | RateLimited)
            })
        });
        match credential.map(|s| s.status) {
            Some(StageStatus::Passed | StageStatus::Warning) => "live",
            // The provider never judged the credential: it was unreachable
            // or rate limited.
            Some(StageStatus::Failed) if unreachable => "unknown",
            Some(StageStatus::Failed) => "invalid",
            _ => "unknown",
        }
    }
}

/// Counts of verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub checks: usize,
    pub ok: usize,
    pub warn: usize,
    pub fail: usize,
    pub skip: usize,
}

/// Facts about the run itself.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportMetadata {
    pub generated_at: String,
    pub tool_version: String,
    /// `online` or `offline`.
    pub mode: String,
    /// Provider endpoints replaced with `--endpoint` or the environment.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_overrides: BTreeMap<String, String>,
    pub cluster_resource_namespace: String,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub api_version: String,
    pub kind: String,
    pub metadata: ReportMetadata,
    pub summary: Summary,
    pub checks: Vec<CheckEntry>,
    /// Findings about the input that belong to no single check (files
    /// skipped, shared account keys, unused Secrets).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Finding>,
    /// With `--candidate`: the in-cluster and candidate results side by side,
    /// one per (issuer, solver, domain).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rotation: Vec<crate::rotation::RotationComparison>,
    /// Problems that stopped part of the run; any entry means exit code 2.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

/// Verdicts besides `FAIL` that fail the run (`--fail-on warning,skip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailOn {
    pub warning: bool,
    pub skip: bool,
}

impl Report {
    /// Creates a report from finished entries.
    pub fn new(metadata: ReportMetadata, checks: Vec<CheckEntry>) -> Self {
        let mut report = Self {
            api_version: REPORT_API_VERSION.to_string(),
            kind: "Report".to_string(),
            metadata,
            summary: Summary::default(),
            checks,
            notices: Vec::new(),
            rotation: Vec::new(),
            errors: Vec::new(),
        };
        report.summarize();
        report
    }

    /// Recounts the summary.
    pub fn summarize(&mut self) {
        let mut summary = Summary {
            checks: self.checks.len(),
            ..Summary::default()
        };
        for check in &self.checks {
            match check.verdict {
                Verdict::Ok => summary.ok += 1,
                Verdict::Warn => summary.warn += 1,
                Verdict::Fail => summary.fail += 1,
                Verdict::Skip => summary.skip += 1,
            }
        }
        self.summary = summary;
    }

    /// Exit code: 2 when the run could not complete, 1 when a check failed
    /// (or warned or skipped, as `fail_on` sets), 0 otherwise. When the
    /// report compares a candidate, in-cluster entries do not count: the
    /// exit code follows the candidate, so a rotation pipeline can gate on it.
    pub fn exit_code(&self, fail_on: FailOn) -> i32 {
        if !self.errors.is_empty() {
            return 2;
        }
        let has_candidate = self
            .checks
            .iter()
            .any(|c| c.role == Some(CredentialRole::Candidate));
        let counted = self
            .checks
            .iter()
            .filter(|c| !(has_candidate && c.role == Some(CredentialRole::InCluster)));
        let failed = counted.into_iter().any(|c| match c.verdict {
            Verdict::Fail => true,
            Verdict::Warn => fail_on.warning,
            Verdict::Skip => fail_on.skip,
            Verdict::Ok => false,
        });
        i32::from(failed)
    }
}
