//! The `cleanup` command: find probe records that a killed run left behind
//! in the zones of the solvers in scope, and delete them.
//!
//! A probe record is recognised only by its value: the probe marker, the
//! creation time in base36 seconds and random base64url, 43 characters in
//! all (see `acme_token_core::probe`). Each provider lists and deletes such
//! records itself and never touches any other record.

use crate::args::{parse_duration, ControllerArgs};
use crate::endpoints;
use crate::registry;
use crate::source::CredentialArg;
use acme_token_certmanager::{load_paths, plan_checks, PlanOptions, SecretOverride};
use acme_token_core::provider::ProbeRecord;
use acme_token_core::runner::challenge_fqdn;
use acme_token_core::{Budgets, Finding, HttpSettings, ProbeContext, ProviderSettings, Severity, ZoneRef};
use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Output format of `cleanup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CleanupFormat {
    Table,
    Json,
}

/// Flags of `cleanup`.
#[derive(Debug, Clone, Args)]
pub struct CleanupArgs {
    /// Manifest file or directory to read; `-` reads stdin. Repeatable.
    #[arg(short = 'f', long = "filename")]
    pub filenames: Vec<PathBuf>,

    /// Only the zones of this Issuer's solvers.
    #[arg(long)]
    pub issuer: Option<String>,

    /// Only the zones of this ClusterIssuer's solvers.
    #[arg(long = "cluster-issuer")]
    pub cluster_issuer: Option<String>,

    /// Only the zones of the solvers that read this Secret (NAMESPACE/NAME).
    #[arg(long = "secret")]
    pub secret: Option<String>,

    /// Domain whose zone to search (repeatable); replaces discovery from Certificates and selectors.
    #[arg(long = "domain")]
    pub domains: Vec<String>,

    /// Use this credential in place of the solvers' Secret values, e.g. after a rotation
    /// (env:VAR, file:PATH, stdin or keyring:NAME; FIELD=SRC names the cert-manager field).
    #[arg(long = "credential")]
    pub credentials: Vec<String>,

    /// Namespace for namespaced Issuers that do not set metadata.namespace.
    #[arg(short = 'n', long = "namespace", default_value = "default")]
    pub namespace: String,

    /// Namespace from which ClusterIssuer Secrets are read.
    #[arg(long = "cluster-resource-namespace", default_value = "cert-manager")]
    pub cluster_resource_namespace: String,

    /// Only records created at least this long ago (e.g. 10m, 2h); a check that is still running
    /// has records younger than a minute.
    #[arg(long = "older-than", value_parser = parse_duration)]
    pub older_than: Option<Duration>,

    /// List the records that would be deleted and delete nothing.
    #[arg(long = "dry-run")]
    pub dry_run: bool,

    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub output: CleanupFormat,

    /// Timeout of one provider request (e.g. 30s, 500ms).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,

    /// Extra PEM CA bundle for TLS interception proxies.
    #[arg(long = "ca-file")]
    pub ca_file: Option<PathBuf>,

    /// Replace a provider's API base URL, for tests (PROVIDER=URL, repeatable).
    #[arg(long = "endpoint")]
    pub endpoints: Vec<String>,

    #[command(flatten)]
    pub controller: ControllerArgs,
}

/// Action taken on one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CleanupAction {
    Deleted,
    WouldDelete,
    /// Younger than `--older-than`, so left alone.
    Kept,
    Failed,
}

impl CleanupAction {
    fn as_str(self) -> &'static str {
        match self {
            CleanupAction::Deleted => "deleted",
            CleanupAction::WouldDelete => "would delete (dry run)",
            CleanupAction::Kept => "kept (younger than --older-than)",
            CleanupAction::Failed => "FAILED",
        }
    }
}

/// One probe record found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordEntry {
    pub provider: String,
    pub zone: String,
    pub zone_id: String,
    #[serde(flatten)]
    pub record: ProbeRecord,
    pub age_seconds: i64,
    pub action: CleanupAction,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Finding>,
}

/// Counts of the report.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupSummary {
    pub zones: usize,
    pub found: usize,
    pub deleted: usize,
    pub would_delete: usize,
    pub kept: usize,
    pub failed: usize,
}

/// The `cleanup -o json` document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CleanupReport {
    pub api_version: &'static str,
    pub kind: &'static str,
    pub dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub older_than_seconds: Option<u64>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub endpoint_overrides: BTreeMap<String, String>,
    /// Zones searched, as `provider zone`.
    pub zones: Vec<String>,
    pub records: Vec<RecordEntry>,
    pub summary: CleanupSummary,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
    /// Problems that stopped part of the run; any entry means exit code 2.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
}

impl CleanupReport {
    /// 2 when a zone could not be searched, 1 when a record could not be
    /// deleted, 0 otherwise.
    pub fn exit_code(&self) -> u8 {
        if !self.errors.is_empty() {
            2
        } else if self.summary.failed > 0 {
            1
        } else {
            0
        }
    }
}

/// A zone to search, with the provider that can read it.
struct ZoneTarget {
    provider: Arc<dyn acme_token_core::Provider>,
    provider_id: String,
    budget: acme_token_core::BudgetSettings,
    zone: ZoneRef,
}

fn provider_settings(args: &CleanupArgs, overrides: &BTreeMap<String, String>) -> BTreeMap<String, ProviderSettings> {
    let http = HttpSettings {
        timeout: args.timeout,
        ca_file: args.ca_file.clone(),
        ..HttpSettings::default()
    };
    let controller = crate::check::controller_options(&args.controller);
    registry::factories()
        .iter()
        .map(|factory| {
            let id = factory.descriptor().id;
            let mut options = controller.clone();
            options.extend(endpoints::extra_endpoint_options(factory.as_ref(), overrides));
            let settings = ProviderSettings {
                http: http.clone(),
                endpoint: overrides.get(id).cloned(),
                options,
            };
            (id.to_string(), settings)
        })
        .collect()
}

/// Runs `cleanup` and returns the report; `Err` is a usage or input error.
pub async fn run(args: &CleanupArgs, cancel: CancellationToken) -> Result<CleanupReport, String> {
    if args.filenames.is_empty() {
        return Err(
            "nothing to search: pass the manifests of the issuers whose zones to clean with -f PATH (a file, a directory or - for stdin)".into(),
        );
    }
    let factories = registry::factories();
    let overrides = endpoints::collect_for(&args.endpoints, &factories)?;
    let mut overrides_in_use = Vec::new();
    for text in &args.credentials {
        let credential = CredentialArg::parse(text).map_err(|err| err.to_string())?;
        let raw = credential.read().map_err(|err| err.to_string())?;
        overrides_in_use.push(SecretOverride::new(credential.field.clone(), credential.describe(), raw));
    }
    let inventory = load_paths(&args.filenames).map_err(|err| err.to_string())?;
    let options = PlanOptions {
        overrides: overrides_in_use,
        cluster_resource_namespace: args.cluster_resource_namespace.clone(),
        default_namespace: args.namespace.clone(),
        domains: args.domains.clone(),
        issuer: args.issuer.clone(),
        cluster_issuer: args.cluster_issuer.clone(),
        provider_settings: provider_settings(args, &overrides),
        ..PlanOptions::default()
    };
    let planned = plan_checks(&inventory, &factories, &options);
    let mut report = CleanupReport {
        api_version: acme_token_core::report::REPORT_API_VERSION,
        kind: "CleanupReport",
        dry_run: args.dry_run,
        older_than_seconds: args.older_than.map(|d| d.as_secs()),
        endpoint_overrides: overrides,
        zones: Vec::new(),
        records: Vec::new(),
        summary: CleanupSummary::default(),
        notices: Vec::new(),
        errors: planned
            .notices
            .iter()
            .filter(|n| n.severity == Severity::Error)
            .map(|n| n.message.clone())
            .collect(),
    };
    let mut jobs = planned.jobs;
    if let Some(secret) = &args.secret {
        jobs = crate::candidate::select_by_secret(jobs, secret).map_err(|err| err.to_string())?;
    }

    let budgets = Budgets::default();
    let solvers = jobs.len();
    let targets = find_zones(jobs, &budgets, &cancel, &mut report).await;
    report.summary.zones = targets.len();
    if solvers > 0 && targets.is_empty() && !cancel.is_cancelled() {
        // Reporting "0 records found" here would claim a clean zone that was
        // never read.
        report.errors.push(
            "no zone was searched: every solver in scope was skipped (see the notices above)".into(),
        );
    }
    let now = Utc::now();
    for target in targets {
        report
            .zones
            .push(format!("{} {}", target.provider_id, target.zone.name));
        let account = target.provider.account_key();
        let cx = ProbeContext::new(cancel.clone(), budgets.for_account(&account, target.budget));
        let found = match target.provider.list_probe_records(&cx, &target.zone).await {
            Ok(found) => found,
            Err(finding) => {
                report.errors.push(format!(
                    "{} zone {}: cannot list probe records: {}: {}{}",
                    target.provider_id,
                    target.zone.name,
                    finding.reason,
                    finding.message,
                    remedy_suffix(&finding)
                ));
                continue;
            }
        };
        for record in found {
            let entry = handle_record(&target, &cx, record, args, now).await;
            report.records.push(entry);
        }
    }
    summarize(&mut report);
    if cancel.is_cancelled() {
        report
            .errors
            .push("interrupted by a signal: records not yet handled were left as they are".into());
    }
    Ok(report)
}

fn remedy_suffix(finding: &Finding) -> String {
    if finding.remedy.is_empty() {
        String::new()
    } else {
        format!(" (fix: {})", finding.remedy)
    }
}

async fn handle_record(
    target: &ZoneTarget,
    cx: &ProbeContext,
    record: ProbeRecord,
    args: &CleanupArgs,
    now: DateTime<Utc>,
) -> RecordEntry {
    let age = now.signed_duration_since(record.created_at);
    let old_enough = match args.older_than {
        Some(limit) => age.num_seconds() >= limit.as_secs() as i64,
        None => true,
    };
    let (action, error) = if !old_enough {
        (CleanupAction::Kept, None)
    } else if args.dry_run {
        (CleanupAction::WouldDelete, None)
    } else {
        match target.provider.delete_probe_record(cx, &target.zone, &record).await {
            Ok(()) => (CleanupAction::Deleted, None),
            Err(finding) => (CleanupAction::Failed, Some(finding)),
        }
    };
    RecordEntry {
        provider: target.provider_id.clone(),
        zone: target.zone.name.clone(),
        zone_id: target.zone.id.clone(),
        record,
        age_seconds: age.num_seconds(),
        action,
        error,
    }
}

/// Finds the zones of every job's domains, once per (account, zone).
async fn find_zones(
    jobs: Vec<acme_token_core::runner::CheckJob>,
    budgets: &Budgets,
    cancel: &CancellationToken,
    report: &mut CleanupReport,
) -> Vec<ZoneTarget> {
    let mut targets: Vec<ZoneTarget> = Vec::new();
    for job in jobs {
        let what = format!("{} solver {}", job.issuer.display(), job.solver_index);
        let Some(provider) = job.provider.clone() else {
            if let Some(skip) = &job.skip {
                report.notices.push(format!(
                    "{what} ({}): skipped: {} (pass --credential to clean its zones with a given credential)",
                    job.provider_id, skip.message
                ));
            } else if job.provider_id != acme_token_certmanager::NO_PROVIDER {
                report.notices.push(format!(
                    "{what} ({}): skipped, because no credential could be built from the input (`check` shows why)",
                    job.provider_id
                ));
            }
            continue;
        };
        if job.domains.is_empty() {
            report.notices.push(format!(
                "{what}: skipped, because it has no domain to find a zone for; pass --domain"
            ));
            continue;
        }
        let account = provider.account_key();
        let cx = ProbeContext::new(cancel.clone(), budgets.for_account(&account, job.budget));
        for domain in &job.domains {
            let fqdn = challenge_fqdn(domain);
            let outcome = provider.find_zone(&cx, Some(&fqdn)).await;
            let Some(zone) = outcome.zone else {
                let why = outcome
                    .report
                    .findings
                    .iter()
                    .find(|f| f.severity == Severity::Error)
                    .map(|f| f.message.clone())
                    .unwrap_or_else(|| "no zone found".to_string());
                report
                    .errors
                    .push(format!("{what}: cannot find the zone of {domain}: {why}"));
                continue;
            };
            let duplicate = targets
                .iter()
                .any(|t| t.zone.id == zone.id && t.provider.account_key() == account);
            if !duplicate {
                targets.push(ZoneTarget {
                    provider: provider.clone(),
                    provider_id: job.provider_id.clone(),
                    budget: job.budget,
                    zone,
                });
            }
        }
    }
    targets
}

fn summarize(report: &mut CleanupReport) {
    let summary = &mut report.summary;
    summary.found = report.records.len();
    for record in &report.records {
        match record.action {
            CleanupAction::Deleted => summary.deleted += 1,
            CleanupAction::WouldDelete => summary.would_delete += 1,
            CleanupAction::Kept => summary.kept += 1,
            CleanupAction::Failed => summary.failed += 1,
        }
    }
}

fn show_age(seconds: i64) -> String {
    let seconds = seconds.max(0);
    match seconds {
        0..=119 => format!("{seconds}s"),
        120..=7199 => format!("{}m", seconds / 60),
        7200..=172_799 => format!("{}h", seconds / 3600),
        _ => format!("{}d", seconds / 86_400),
    }
}

/// Renders the report.
pub fn render(report: &CleanupReport, format: CleanupFormat) -> String {
    if format == CleanupFormat::Json {
        let mut text = serde_json::to_string_pretty(report).expect("cleanup report serializes");
        text.push('\n');
        return text;
    }
    let mut out = String::new();
    for (provider, url) in &report.endpoint_overrides {
        let _ = writeln!(out, "note: {provider} endpoint override in use: {url} (not the real provider API)");
    }
    if report.dry_run {
        let _ = writeln!(out, "note: dry run: nothing is deleted");
    }
    for zone in &report.zones {
        let _ = writeln!(out, "searched {zone}");
    }
    if !report.records.is_empty() {
        out.push('\n');
        let name_width = report.records.iter().map(|r| r.record.name.len()).max().unwrap_or(4).max(4);
        let _ = writeln!(
            out,
            "{:<10} {:<name_width$}  {:<43}  {:>5}  ACTION",
            "PROVIDER", "NAME", "VALUE", "AGE"
        );
        for entry in &report.records {
            let _ = writeln!(
                out,
                "{:<10} {:<name_width$}  {:<43}  {:>5}  {}",
                entry.provider,
                entry.record.name,
                entry.record.value,
                show_age(entry.age_seconds),
                entry.action.as_str()
            );
            if let Some(error) = &entry.error {
                let _ = writeln!(out, "    {}: {}{}", error.reason, error.message, remedy_suffix(error));
            }
        }
    }
    if !report.notices.is_empty() {
        out.push('\n');
        for notice in &report.notices {
            let _ = writeln!(out, "note: {notice}");
        }
    }
    for error in &report.errors {
        let _ = writeln!(out, "error: {error}");
    }
    let s = &report.summary;
    let plural = |count: usize, word: &str| {
        if count == 1 {
            format!("{count} {word}")
        } else {
            format!("{count} {word}s")
        }
    };
    let _ = writeln!(
        out,
        "\n{} found in {}: {} deleted, {} would be deleted, {} kept, {} failed",
        plural(s.found, "probe record"),
        plural(s.zones, "zone"),
        s.deleted,
        s.would_delete,
        s.kept,
        s.failed
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_short() {
        assert_eq!(show_age(5), "5s");
        assert_eq!(show_age(600), "10m");
        assert_eq!(show_age(3 * 3600), "3h");
        assert_eq!(show_age(3 * 86_400), "3d");
    }
}
