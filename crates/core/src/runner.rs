//! The check runner: drives the stages of every (solver, domain) pair in
//! order, runs checks concurrently, and keeps each provider account within
//! its request budget.
//!
//! Concurrency is limited per provider account, not across the run: every
//! account runs up to [`RunSettings::concurrency`] checks at once, and
//! accounts run in parallel. One account's budget therefore never holds back
//! the checks of another account.

use crate::budget::{BudgetSettings, Budgets};
use crate::finding::{Finding, Stage};
use crate::probe::ProbeValue;
use crate::provider::{ProbeContext, Provider, StageReport, ZoneOutcome};
use crate::report::{CheckEntry, CredentialSummary, IssuerRef, Verdict};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
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

/// Callback run after each job finishes, such as a progress display.
pub type JobDoneCallback = Arc<dyn Fn() + Send + Sync>;

/// Settings of one run.
#[derive(Clone)]
pub struct RunSettings {
    /// Checks running at the same time per provider account. Different
    /// accounts run in parallel.
    pub concurrency: usize,
    /// Config stage only; no network.
    pub offline: bool,
    pub no_write: bool,
    pub expiry_warning: Duration,
    /// Cancelled on Ctrl-C or SIGTERM; running probes still clean up.
    pub cancel: CancellationToken,
    /// Called once per finished job.
    pub on_job_done: Option<JobDoneCallback>,
}

impl Default for RunSettings {
    fn default() -> Self {
        Self {
            concurrency: 8,
            offline: false,
            no_write: false,
            expiry_warning: Duration::from_secs(30 * 24 * 3600),
            cancel: CancellationToken::new(),
            on_job_done: None,
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
///
/// Every job starts at once and waits for a slot of its provider account,
/// so at most `settings.concurrency` checks of one account run together.
/// Jobs without a provider (skipped, config failures) need no slot.
// NOTE: with many accounts the number of open connections grows with
// accounts x concurrency, because each running check uses up to two.
pub async fn run_checks(jobs: Vec<CheckJob>, settings: &RunSettings) -> Vec<CheckEntry> {
    let budgets = Budgets::default();
    let slots = AccountSlots::new(settings.concurrency);
    let runs = jobs.into_iter().map(|job| {
        let (budgets, slots) = (&budgets, &slots);
        async move {
            let account = job.provider.as_ref().map(|provider| provider.account_key());
            let _slot = match account {
                Some(account) => Some(slots.acquire(&account).await),
                None => None,
            };
            let entries = run_job(job, settings, budgets).await;
            if let Some(on_job_done) = &settings.on_job_done {
                on_job_done();
            }
            entries
        }
    });
    futures::future::join_all(runs).await.into_iter().flatten().collect()
}

/// Concurrency slots per provider account, created on first use.
struct AccountSlots {
    per_account: usize,
    accounts: Mutex<HashMap<String, Arc<Semaphore>>>,
}

impl AccountSlots {
    fn new(per_account: usize) -> Self {
        Self {
            per_account: per_account.max(1),
            accounts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a free slot of `account`; the slot is freed on drop.
    async fn acquire(&self, account: &str) -> tokio::sync::OwnedSemaphorePermit {
        let semaphore = self
            .accounts
            .lock()
            .expect("account slots lock poisoned")
            .entry(account.to_string())
            .or_insert_with(|| Arc::new(Semaphore::new(self.per_account)))
            .clone();
        semaphore.acquire_owned().await.expect("account semaphores are never closed")
    }
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
    use crate::provider::{Descriptor, ProbeOutcome, ZoneRef};
    use std::sync::atomic::{AtomicUsize, Ordering};

    static DESCRIPTOR: Descriptor = Descriptor {
        id: "fake",
        name: "Fake",
        solver_key: "fake",
        fields: &[],
        credential_modes: &[],
        permissions: &[],
        endpoints: &[],
        default_endpoint: "http://127.0.0.1:9",
        published_rate_limit: "none",
        default_budget: BudgetSettings { per_second: 1e9, burst: 1_000_000 },
    };

    /// Running and peak check counts of one fake account.
    #[derive(Default)]
    struct Gauge {
        running: AtomicUsize,
        peak: AtomicUsize,
    }

    /// A provider whose credential stage takes 50 ms and counts how many
    /// checks of its account run at once.
    struct FakeProvider {
        account: String,
        gauge: Arc<Gauge>,
    }

    #[async_trait::async_trait]
    impl Provider for FakeProvider {
        fn descriptor(&self) -> &'static Descriptor {
            &DESCRIPTOR
        }
        fn account_key(&self) -> String {
            self.account.clone()
        }
        fn credential_summary(&self) -> Vec<(String, String)> {
            Vec::new()
        }
        async fn verify_credential(&self, _cx: &ProbeContext) -> StageReport {
            let running = self.gauge.running.fetch_add(1, Ordering::SeqCst) + 1;
            self.gauge.peak.fetch_max(running, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(50)).await;
            self.gauge.running.fetch_sub(1, Ordering::SeqCst);
            StageReport::passed(Stage::Credential)
        }
        async fn find_zone(&self, _cx: &ProbeContext, _fqdn: Option<&str>) -> ZoneOutcome {
            ZoneOutcome {
                report: StageReport::passed(Stage::Zone),
                zone: None,
            }
        }
        async fn probe_write(&self, _cx: &ProbeContext, _zone: &ZoneRef, _fqdn: &str, _value: &str) -> ProbeOutcome {
            unreachable!("no zone is ever found")
        }
    }

    fn fake_job(name: String, provider: Arc<dyn Provider>) -> CheckJob {
        CheckJob {
            issuer: IssuerRef {
                kind: "ClusterIssuer".to_string(),
                name,
                namespace: None,
            },
            solver_index: 0,
            provider_id: "fake".to_string(),
            domains: Vec::new(),
            config: StageReport::passed(Stage::Config),
            provider: Some(provider),
            skip: None,
            budget: DESCRIPTOR.default_budget,
            credentials: Vec::new(),
            context: BTreeMap::new(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn concurrency_is_limited_per_account() {
        let gauges: Vec<Arc<Gauge>> = (0..3).map(|_| Arc::new(Gauge::default())).collect();
        let mut jobs = Vec::new();
        for (account, gauge) in gauges.iter().enumerate() {
            for check in 0..6 {
                let provider = Arc::new(FakeProvider {
                    account: format!("fake:{account}"),
                    gauge: gauge.clone(),
                });
                jobs.push(fake_job(format!("issuer-{account}-{check}"), provider));
            }
        }
        let done = Arc::new(AtomicUsize::new(0));
        let counter = done.clone();
        let settings = RunSettings {
            concurrency: 2,
            on_job_done: Some(Arc::new(move || {
                counter.fetch_add(1, Ordering::SeqCst);
            })),
            ..RunSettings::default()
        };

        let started = tokio::time::Instant::now();
        let entries = run_checks(jobs, &settings).await;
        let elapsed = started.elapsed();

        for gauge in &gauges {
            assert_eq!(gauge.peak.load(Ordering::SeqCst), 2, "per-account peak");
        }
        // 6 checks of 50 ms, 2 at a time, with the 3 accounts in parallel.
        assert!(elapsed >= Duration::from_millis(150), "{elapsed:?}");
        assert!(elapsed < Duration::from_millis(200), "{elapsed:?}");
        assert_eq!(done.load(Ordering::SeqCst), 18);
        let names: Vec<&str> = entries.iter().map(|e| e.issuer.name.as_str()).collect();
        assert_eq!(names.len(), 18);
        assert_eq!(names[0], "issuer-0-0");
        assert_eq!(names[6], "issuer-1-0");
        assert_eq!(names[17], "issuer-2-5");
    }

    #[test]
    fn fqdn_strips_wildcard_and_dot() {
        assert_eq!(challenge_fqdn("*.Example.com."), "_acme-challenge.example.com");
        assert_eq!(challenge_fqdn("www.example.com"), "_acme-challenge.www.example.com");
    }
}
