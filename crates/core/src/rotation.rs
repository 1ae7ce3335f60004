//! Comparing a candidate credential with the in-cluster one (`check
//! --candidate`).
//!
//! Both credentials run the same solver, the same domains and the same
//! stages. [`compare`] then sets the report's rotation outcome: a stale
//! in-cluster credential, a pending rotation, a candidate that is already in
//! place, or a candidate that must not be rolled out.

use crate::finding::{Finding, Reason, Severity, Stage};
use crate::provider::StageStatus;
use crate::report::{CheckEntry, CredentialRole, CredentialSummary, IssuerRef, Verdict};
use serde::Serialize;
use std::collections::BTreeMap;

/// Credential-stage facts that identify a credential without revealing it,
/// such as a Cloudflare token id or an AWS principal ARN. Providers that use
/// these names get them compared in the rotation report.
pub const IDENTITY_FACTS: &[&str] = &[
    "tokenId",
    "owner",
    "accountId",
    "principal",
    "arn",
    "userId",
    "account",
    "clientId",
    "keyName",
];

/// Conclusion of a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RotationOutcome {
    /// The in-cluster credential fails where the candidate passes.
    Stale,
    /// Both pass and they differ: rolling out the candidate is safe.
    RotationPending,
    /// Both pass and they are the same value: nothing to roll out.
    AlreadyInPlace,
    /// The candidate fails or could not be checked: do not roll it out.
    Blocked,
    /// The candidate passes, but the in-cluster credential could not be
    /// checked (an encrypted Secret, an unsupported provider).
    InClusterUnchecked,
}

impl RotationOutcome {
    /// Name as printed in the table.
    pub fn as_str(self) -> &'static str {
        match self {
            RotationOutcome::Stale => "stale",
            RotationOutcome::RotationPending => "rotation pending",
            RotationOutcome::AlreadyInPlace => "already in place",
            RotationOutcome::Blocked => "blocked",
            RotationOutcome::InClusterUnchecked => "in-cluster unchecked",
        }
    }
}

/// One credential's side of the comparison.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialSide {
    pub verdict: Verdict,
    pub credential_state: String,
    pub credentials: Vec<CredentialSummary>,
    /// Identity facts from the credential stage, see [`IDENTITY_FACTS`].
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<String, String>,
    /// Reason of the first error, when the side failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
}

/// The in-cluster and candidate results of one (issuer, solver, domain).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RotationComparison {
    pub issuer: IssuerRef,
    pub solver_index: usize,
    pub provider: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    pub outcome: RotationOutcome,
    /// True when the candidate and the in-cluster value differ.
    pub differs: bool,
    /// One line saying what the outcome means and what to do next.
    pub message: String,
    pub in_cluster: CredentialSide,
    pub candidate: CredentialSide,
}

fn side(entry: &CheckEntry) -> CredentialSide {
    let mut identity = BTreeMap::new();
    if let Some(stage) = entry.stages.iter().find(|s| s.stage == Stage::Credential) {
        for key in IDENTITY_FACTS {
            if let Some(value) = stage.facts.get(*key) {
                identity.insert((*key).to_string(), value.clone());
            }
        }
    }
    CredentialSide {
        verdict: entry.verdict,
        credential_state: entry.credential_state.clone(),
        credentials: entry.credentials.clone(),
        identity,
        first_error: entry
            .findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .map(|f| f.reason.as_str().to_string()),
    }
}

fn passes(verdict: Verdict) -> bool {
    matches!(verdict, Verdict::Ok | Verdict::Warn)
}

/// Describes a side for messages: fingerprints plus identity, such as
/// `sha256:1a2b3c4d (40 bytes), tokenId 0f3a…`.
fn describe(side: &CredentialSide) -> String {
    let mut parts: Vec<String> = side
        .credentials
        .iter()
        .map(|c| c.fingerprint.clone())
        .collect();
    if let Some(token_id) = side.identity.get("tokenId") {
        parts.push(format!("token id {token_id}"));
    }
    for key in ["principal", "arn"] {
        if let Some(value) = side.identity.get(key) {
            parts.push(format!("{key} {value}"));
        }
    }
    if parts.is_empty() {
        return "no value".to_string();
    }
    parts.join(", ")
}

/// Remedy for a stale in-cluster credential, naming the ExternalSecret that
/// writes the Secret when there is one.
fn stale_remedy(entry: &CheckEntry) -> String {
    let secret = entry
        .context
        .get("secrets")
        .map(|s| format!("Secret {s}"))
        .unwrap_or_else(|| "the Secret".to_string());
    match entry.context.get("externalSecret").and_then(|es| es.split_once('/')) {
        Some((namespace, name)) => format!(
            "write the candidate to the external store that ExternalSecret {namespace}/{name} reads, then force a sync: kubectl annotate externalsecret {name} -n {namespace} force-sync=$(date +%s) --overwrite"
        ),
        None => format!(
            "write the candidate to {secret} (or to the source of truth it is rendered from) and re-run this check"
        ),
    }
}

/// Adds `finding` to the entry's stage `stage` (or the config stage when
/// that stage did not run), then recomputes the verdict. With `first`, the
/// finding becomes the entry's headline.
fn add_finding(entry: &mut CheckEntry, stage: Stage, finding: Finding, first: bool) {
    let target = entry
        .stages
        .iter()
        .position(|s| s.stage == stage && s.status != StageStatus::Skipped)
        .or_else(|| entry.stages.iter().position(|s| s.stage == Stage::Config));
    let Some(index) = target else {
        return;
    };
    let finding = Finding {
        stage: entry.stages[index].stage,
        ..finding
    };
    entry.stages[index].push(finding.clone());
    entry.finish();
    if first {
        if let Some(position) = entry.findings.iter().position(|f| *f == finding) {
            let moved = entry.findings.remove(position);
            entry.findings.insert(0, moved);
        }
    }
}

/// Compares the two entries of one (issuer, solver, domain), adds the
/// finding the outcome calls for to the entry it concerns, and returns the
/// comparison for the report. Sets each entry's role.
pub fn compare(in_cluster: &mut CheckEntry, candidate: &mut CheckEntry) -> RotationComparison {
    in_cluster.role = Some(CredentialRole::InCluster);
    candidate.role = Some(CredentialRole::Candidate);
    let before_in_cluster = side(in_cluster);
    let before_candidate = side(candidate);
    let differs = before_in_cluster.credentials != before_candidate.credentials;
    let in_cluster_text = describe(&before_in_cluster);
    let candidate_text = describe(&before_candidate);

    let (outcome, message) = if !passes(candidate.verdict) {
        let why = match (&before_candidate.first_error, candidate.verdict) {
            (Some(reason), _) => format!("it fails with {reason}"),
            (None, Verdict::Skip) => "it could not be checked".to_string(),
            (None, _) => "it does not pass".to_string(),
        };
        let message = format!(
            "do not roll out the candidate ({candidate_text}): {why}; the in-cluster credential ({in_cluster_text}) is {}",
            in_cluster.verdict.as_str()
        );
        add_finding(
            candidate,
            Stage::Credential,
            Finding::info(Reason::Notice, Stage::Credential, message.clone()),
            false,
        );
        (RotationOutcome::Blocked, message)
    } else if in_cluster.verdict == Verdict::Fail {
        let why = before_in_cluster
            .first_error
            .clone()
            .unwrap_or_else(|| "an error".to_string());
        let message = format!(
            "the in-cluster credential ({in_cluster_text}) fails with {why} where the candidate ({candidate_text}) passes, so it is stale"
        );
        let finding = Finding::error(Reason::StaleCredential, Stage::Credential, message.clone())
            .with_remedy(stale_remedy(in_cluster));
        add_finding(in_cluster, Stage::Credential, finding, true);
        (RotationOutcome::Stale, message)
    } else if in_cluster.verdict == Verdict::Skip {
        let message = format!(
            "the candidate ({candidate_text}) passes; the in-cluster credential could not be checked, so they were not compared"
        );
        add_finding(
            candidate,
            Stage::Credential,
            Finding::info(Reason::Notice, Stage::Credential, message.clone()),
            false,
        );
        (RotationOutcome::InClusterUnchecked, message)
    } else if differs {
        let message = format!(
            "rotation pending: the candidate ({candidate_text}) and the in-cluster credential ({in_cluster_text}) both pass and differ; rolling out the candidate is safe for this solver"
        );
        add_finding(
            candidate,
            Stage::Credential,
            Finding::info(Reason::Notice, Stage::Credential, message.clone()),
            false,
        );
        (RotationOutcome::RotationPending, message)
    } else {
        let message = format!(
            "the candidate ({candidate_text}) is the value already in the cluster, and it passes"
        );
        add_finding(
            candidate,
            Stage::Credential,
            Finding::info(Reason::Notice, Stage::Credential, message.clone()),
            false,
        );
        (RotationOutcome::AlreadyInPlace, message)
    };

    RotationComparison {
        issuer: candidate.issuer.clone(),
        solver_index: candidate.solver_index,
        provider: candidate.provider.clone(),
        domain: candidate.domain.clone(),
        outcome,
        differs,
        message,
        in_cluster: side(in_cluster),
        candidate: side(candidate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provider::StageReport;

    fn entry(fingerprint: &str, token_id: &str, credential_error: Option<Reason>) -> CheckEntry {
        let mut credential = StageReport::passed(Stage::Credential);
        credential.fact("tokenId", token_id);
        if let Some(reason) = credential_error {
            credential.push(Finding::error(reason, Stage::Credential, "rejected"));
        }
        let mut entry = CheckEntry {
            issuer: IssuerRef {
                kind: "ClusterIssuer".into(),
                name: "cf".into(),
                namespace: None,
            },
            solver_index: 0,
            provider: "cloudflare".into(),
            role: None,
            domain: Some("example.com".into()),
            fqdn: Some("_acme-challenge.example.com".into()),
            verdict: Verdict::Ok,
            credential_state: String::new(),
            credentials: vec![CredentialSummary {
                field: "apiTokenSecretRef".into(),
                fingerprint: format!("{fingerprint} (40 bytes)"),
            }],
            context: BTreeMap::new(),
            stages: vec![StageReport::passed(Stage::Config), credential],
            findings: Vec::new(),
            requests: 0,
            duration_ms: 0,
        };
        entry.finish();
        entry
    }

    #[test]
    fn revoked_in_cluster_is_stale() {
        let mut in_cluster = entry("sha256:aaaaaaaa", "t1", Some(Reason::AuthInvalid));
        in_cluster
            .context
            .insert("externalSecret".into(), "cert-manager/cf-token".into());
        let mut candidate = entry("sha256:bbbbbbbb", "t2", None);
        let comparison = compare(&mut in_cluster, &mut candidate);
        assert_eq!(comparison.outcome, RotationOutcome::Stale);
        let headline = in_cluster.headline().unwrap();
        assert_eq!(headline.reason, Reason::StaleCredential);
        assert!(headline.remedy.contains("kubectl annotate externalsecret cf-token -n cert-manager force-sync="));
        assert_eq!(in_cluster.credential_state, "stale");
        assert_eq!(candidate.verdict, Verdict::Ok);
        assert_eq!(comparison.in_cluster.identity["tokenId"], "t1");
        assert_eq!(comparison.candidate.identity["tokenId"], "t2");
    }

    #[test]
    fn both_passing_and_different_is_pending() {
        let mut in_cluster = entry("sha256:aaaaaaaa", "t1", None);
        let mut candidate = entry("sha256:bbbbbbbb", "t2", None);
        let comparison = compare(&mut in_cluster, &mut candidate);
        assert_eq!(comparison.outcome, RotationOutcome::RotationPending);
        assert!(comparison.differs);
        assert_eq!(candidate.verdict, Verdict::Ok);
        assert_eq!(in_cluster.verdict, Verdict::Ok);
    }

    #[test]
    fn same_value_is_already_in_place() {
        let mut in_cluster = entry("sha256:aaaaaaaa", "t1", None);
        let mut candidate = entry("sha256:aaaaaaaa", "t1", None);
        let comparison = compare(&mut in_cluster, &mut candidate);
        assert_eq!(comparison.outcome, RotationOutcome::AlreadyInPlace);
        assert!(!comparison.differs);
    }

    #[test]
    fn failing_candidate_blocks_rotation() {
        let mut in_cluster = entry("sha256:aaaaaaaa", "t1", None);
        let mut candidate = entry("sha256:bbbbbbbb", "t2", Some(Reason::PermissionMissing));
        let comparison = compare(&mut in_cluster, &mut candidate);
        assert_eq!(comparison.outcome, RotationOutcome::Blocked);
        assert_eq!(candidate.verdict, Verdict::Fail);
        assert!(comparison.message.contains("PermissionMissing"), "{}", comparison.message);
        assert!(!in_cluster.findings.iter().any(|f| f.reason == Reason::StaleCredential));
    }

    #[test]
    fn exit_code_follows_candidate() {
        let mut in_cluster = entry("sha256:aaaaaaaa", "t1", Some(Reason::AuthInvalid));
        let mut candidate = entry("sha256:bbbbbbbb", "t2", None);
        compare(&mut in_cluster, &mut candidate);
        let report = crate::report::Report::new(Default::default(), vec![in_cluster, candidate]);
        assert_eq!(report.exit_code(Default::default()), 0);

        let mut in_cluster = entry("sha256:aaaaaaaa", "t1", None);
        let mut candidate = entry("sha256:bbbbbbbb", "t2", Some(Reason::AuthInvalid));
        compare(&mut in_cluster, &mut candidate);
        let report = crate::report::Report::new(Default::default(), vec![in_cluster, candidate]);
        assert_eq!(report.exit_code(Default::default()), 1);
    }
}
