//! The check runner: drives the stages of every (solver, domain) pair in
//! order, runs checks concurrently, and keeps each provider account within
//! its request budget.

use crate::budget::{BudgetSettings, Budgets};
use crate::finding::{Finding, Stage};
use crate::probe::ProbeValue;
use crate::provider::{ProbeContext, Provider, StageReport, ZoneOutcome};
use crate::report::{CheckEntry, CredentialSummary, IssuerRef, Verdict};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// One solver to check, with everything the config stage found.
pub struct CheckJob {
    pub issuer: IssuerRef,
    pub solver_index: usize,
    pub provider_id: String,
    /// Domains to probe; empty means credential and zone read only.
    pub domains: Vec<String>,
    /// Config stage, already run by the caller.
    pub config: StageReport,
    /// The built provider; `None` when the config stage made the check
    /// impossible.
    pub provider: Option<Arc<dyn Provider>>,
    /// Set when the solver cannot be checked at all (unsupported provider,
    /// encrypted Secret); the verdict is then `SKIP`.
    pub skip: Option<Finding>,
    pub budget: BudgetSettings,
    pub credentials: Vec<CredentialSummary>,
    pub context: BTreeMap<String, String>,
}

/// Settings of one run.
#[derive(Clone)]
pub struct RunSettings {
    /// Checks running at the same time, across all accounts.
    pub concurrency: usize,
    /// Config stage only; no network.
    pub offline: bool,
    pub no_write: bool,
    pub expiry_warning: Duration,
    /// Cancelled on Ctrl-C or SIGTERM; running probes still clean up.
    pub cancel: CancellationToken,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            offline: false,
            no_write: false,
            expiry_warning: Duration::from_secs(30 * 24 * 3600),
            cancel: CancellationToken::new(),
        }
    }
}

/// Challenge record name for a domain: `_acme-challenge.` plus the domain
/// without a leading `*.` and without a trailing dot.
pub fn challenge_fqdn(domain: &str) -> String {
    let domain = domain.trim_end_matches('.');
    let domain = domain.strip_prefix("*.").unwrap_or(domain);
    format!("_acme-challenge.{}", domain.to_ascii_lowercase())
}

/// Runs every job and returns one finished entry per (job, domain), in job
/// order.
pub async fn run_checks(jobs: Vec<CheckJob>, settings: &RunSettings) -> Vec<CheckEntry> {
    let budgets = Arc::new(Budgets::default());
    let concurrency = settings.concurrency.max(1);
    let mut results: Vec<(usize, Vec<CheckEntry>)> = futures::stream::iter(jobs.into_iter().enumerate())
        .map(|(index, job)| {
            let budgets = budgets.clone();
            let settings = settings.clone();
            async move { (index, run_job(job, &settings, &budgets).await) }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    results.sort_by_key(|(index, _)| *index);
    results.into_iter().flat_map(|(_, entries)| entries).collect()
}

fn new_entry(job: &CheckJob, domain: Option<&String>) -> CheckEntry {
    CheckEntry {
        issuer: job.issuer.clone(),
        solver_index: job.solver_index,
        provider: job.provider_id.clone(),
        role: None,
        domain: domain.cloned(),
        fqdn: domain.map(|d| challenge_fqdn(d)),
        verdict: Verdict::Ok,
        credential_state: String::new(),
        credentials: job.credentials.clone(),
        context: job.context.clone(),
        stages: vec![job.config.clone()],
        findings: Vec::new(),
        requests: 0,
        duration_ms: 0,
    }
}

fn skip_rest(entry: &mut CheckEntry, from: Stage, note: &str) {
    for stage in Stage::ALL.into_iter().filter(|s| *s >= from) {
        if entry.stages.iter().all(|s| s.stage != stage) {
            entry.stages.push(StageReport::skipped(stage, note));
        }
    }
}

async fn run_job(job: CheckJob, settings: &RunSettings, budgets: &Budgets) -> Vec<CheckEntry> {
    let domains: Vec<Option<&String>> = if job.domains.is_empty() {
        vec![None]
    } else {
        job.domains.iter().map(Some).collect()
    };

    let blocked_note = if job.skip.is_some() {
        Some("the solver cannot be checked")
    } else if settings.offline {
        Some("offline: only the config stage runs")
    } else if job.config.failed() && job.provider.is_none() {
        Some("the config stage failed")
    } else if job.provider.is_none() {
        Some("no credential could be built")
    } else if settings.cancel.is_cancelled() {
        Some("the run was interrupted before this check started")
    } else {
        None
    };
    if let Some(note) = blocked_note {
        return domains
            .into_iter()
            .map(|domain| {
                let mut entry = new_entry(&job, domain);
                if let Some(skip) = &job.skip {
                    entry.verdict = Verdict::Skip;
                    entry.stages[0].findings.push(skip.clone());
                }
                skip_rest(&mut entry, Stage::Credential, note);
                entry.finish();
                entry
            })
            .collect();
    }

    let provider = job.provider.clone().expect("checked above");
    let budget = budgets.for_account(&provider.account_key(), job.budget);
    let mut base = ProbeContext::new(settings.cancel.clone(), budget);
    base.no_write = settings.no_write;
    base.expiry_warning = settings.expiry_warning;

    // The credential check and the first zone lookup do not depend on each
    // other, so they overlap: the check costs one round trip less.
    let started = Instant::now();
    let credential_cx = base.fork();
    let first_zone_cx = base.fork();
    let first_fqdn = domains[0].map(|d| challenge_fqdn(d));
    let (mut credential, first_zone) = tokio::join!(
        timed(provider.verify_credential(&credential_cx)),
        provider.find_zone(&first_zone_cx, first_fqdn.as_deref()),
    );
    credential.duration_ms = started.elapsed().as_millis() as u64;
    let credential_requests = credential_cx.request_count();

    let mut entries = Vec::new();
    let mut first_zone = Some((first_zone, first_zone_cx, started.elapsed()));
    for (position, domain) in domains.into_iter().enumerate() {
        let entry_started = Instant::now();
        let mut entry = new_entry(&job, domain);
        entry.stages.push(credential.clone());
        if position == 0 {
            entry.requests += credential_requests;
        }
        let fqdn = domain.map(|d| challenge_fqdn(d));

        let (zone, zone_cx) = match first_zone.take() {
            Some((mut zone, cx, elapsed)) => {
                zone.report.duration_ms = elapsed.as_millis() as u64;
                (zone, cx)
            }
            None => {
                let cx = base.fork();
                let zone_started = Instant::now();
                let mut zone = provider.find_zone(&cx, fqdn.as_deref()).await;
                zone.report.duration_ms = zone_started.elapsed().as_millis() as u64;
                (zone, cx)
            }
        };
        entry.requests += zone_cx.request_count();

        if credential.failed() {
            skip_rest(&mut entry, Stage::Zone, "the credential stage failed");
        } else {
            let ZoneOutcome { report, zone } = zone;
            entry.stages.push(report);
            match (zone, fqdn.as_deref()) {
                (Some(zone), Some(fqdn)) => {
                    let probe_cx = base.fork();
                    let probe = ProbeValue::generate();
                    let write_started = Instant::now();
                    let mut outcome = provider.probe_write(&probe_cx, &zone, fqdn, &probe.value).await;
                    outcome.write.duration_ms = write_started.elapsed().as_millis() as u64;
                    entry.requests += probe_cx.request_count();
                    entry.stages.push(outcome.write);
                    entry.stages.push(outcome.cleanup);
                }
                (None, Some(_)) => skip_rest(&mut entry, Stage::Write, "the zone stage failed"),
                (_, None) => skip_rest(
                    &mut entry,
                    Stage::Write,
                    "no domain to probe: pass --domain or add Certificates that use this issuer",
                ),
            }
        }
        entry.duration_ms = if position == 0 {
            started.elapsed().as_millis() as u64
        } else {
            entry_started.elapsed().as_millis() as u64
        };
        entry.finish();
        entries.push(entry);
    }
    entries
}

async fn timed<F: std::future::Future<Output = StageReport>>(future: F) -> StageReport {
    future.await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fqdn_strips_wildcard_and_dot() {
        assert_eq!(challenge_fqdn("*.Example.com."), "_acme-challenge.example.com");
        assert_eq!(challenge_fqdn("www.example.com"), "_acme-challenge.www.example.com");
    }
}
