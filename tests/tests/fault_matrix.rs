//! The fault matrix: every step of each provider's probe under every fault
//! the mock can inject, and under SIGINT, SIGTERM and SIGKILL while that
//! step's request is in flight.
//!
//! After each case the test checks that no probe record is left (after
//! SIGKILL, exactly one once the create was applied and not yet deleted),
//! that every other record is unchanged, that the canary credential appears
//! nowhere in the output (run at `-vvv`), and that the exit code is the one
//! the README documents: 0 passed, 1 failed, 2 interrupted.
//!
//! With `FAULT_MATRIX_TABLE=PATH` the test also writes the results as a
//! Markdown table to PATH; `tests/write_fault_matrix.sh` puts that table into
//! docs/reliability.md. A new provider adds one [`ProviderRows`] entry.

mod common;

use acme_token_mock::MockServer;
use acme_token_tests::{cli_command, reasons, run_cli_async, Run};
use common::{cluster_issuer, secret, Fixture, ZONES};
use std::fmt::Write as _;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// 40 characters, shaped like a Cloudflare API token; must never be printed.
const CANARY: &str = "CANARYcanary0123456789CANARYcanary012345";
const MARKER: &str = "acme-token-probe-";
/// Client timeout of every case. The delay fault sends its response after [`DELAY_MS`].
const TIMEOUT: &str = "1s";
const DELAY_MS: u32 = 1500;
/// Delay that keeps a step's request in flight while a signal is sent.
const STALL_MS: u32 = 20_000;
/// Cases running at once. Each is one CLI process and one in-process mock.
/// More would load the two cores enough to push healthy requests towards
/// the 1 s client timeout.
const PARALLEL_CASES: usize = 8;

/// One step of a provider's probe and the mock's fault selector for it (the
/// YAML keys of a fault entry besides `action`).
struct StepRow {
    label: &'static str,
    selector: &'static str,
    /// True when a SIGKILL while this step is in flight leaves the probe
    /// record: the create was applied and the delete not yet.
    record_exists_during: bool,
}

/// The matrix rows of one provider.
struct ProviderRows {
    name: &'static str,
    steps: &'static [StepRow],
    /// Faults and signals each step is run under.
    injections: fn() -> Vec<Injection>,
    /// Exit code of a run with the fault labelled `fault` at step `step`.
    expected_fault_exit: fn(step: &str, fault: &str) -> i32,
    /// Scenario YAML with `faults` (indented fault entries) injected.
    scenario: fn(faults: &str) -> String,
    manifests: fn() -> String,
    /// Arguments that point `check` at the mock: `--endpoint` flags and,
    /// for Route53, the mock's DNS server for the SOA walk.
    mock_args: fn(&MockServer) -> Vec<String>,
    /// Every record of the provider, rendered in full.
    records: fn(&MockServer) -> Vec<(String, String)>,
    /// True once a request with an injected fault reached the mock. With the
    /// stall fault its response is then still [`STALL_MS`] away.
    fault_arrived: fn(&MockServer) -> bool,
}

const CLOUDFLARE_STEPS: &[StepRow] = &[
    StepRow {
        label: "credential verify",
        selector: "step: verify",
        record_exists_during: false,
    },
    StepRow {
        label: "zone lookup",
        selector: "step: zones",
        record_exists_during: false,
    },
    StepRow {
        label: "existing-record list",
        selector: "step: list_records",
        record_exists_during: false,
    },
    StepRow {
        label: "create",
        selector: "step: create",
        record_exists_during: true,
    },
    StepRow {
        label: "read-back list",
        selector: "step: list_records\n      nth: 2",
        record_exists_during: true,
    },
    StepRow {
        label: "delete",
        selector: "step: delete",
        record_exists_during: false,
    },
    StepRow {
        label: "confirming list",
        selector: "step: list_records\n      nth: 3",
        record_exists_during: false,
    },
];

fn cloudflare_scenario(faults: &str) -> String {
    format!(
        "cloudflare:{ZONES}  tokens:\n    - value: \"{CANARY}\"\n      owner: user\n      status: active\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n  faults:\n{faults}"
    )
}

fn cloudflare_manifests() -> String {
    cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", CANARY)
}

fn cloudflare_records(mock: &MockServer) -> Vec<(String, String)> {
    mock.cloudflare()
        .expect("scenario has a cloudflare section")
        .all_records()
        .into_iter()
        .map(|record| (record.content.clone(), format!("{record:?}")))
        .collect()
}

fn cloudflare_fault_arrived(mock: &MockServer) -> bool {
    mock.cloudflare()
        .expect("scenario has a cloudflare section")
        .requests()
        .iter()
        .any(|request| request.fault.is_some())
}

/// Route53 steps with static keys and no pinned zone. The SOA walk is DNS,
/// not an API request, so it has no row.
const ROUTE53_STEPS: &[StepRow] = &[
    StepRow {
        label: "GetCallerIdentity",
        selector: "step: sts",
        record_exists_during: false,
    },
    StepRow {
        label: "ListHostedZonesByName",
        selector: "step: list_hosted_zones_by_name",
        record_exists_during: false,
    },
    StepRow {
        label: "UPSERT",
        selector: "step: change_resource_record_sets",
        record_exists_during: true,
    },
    StepRow {
        label: "GetChange",
        selector: "step: get_change",
        record_exists_during: true,
    },
    StepRow {
        label: "ListResourceRecordSets read-back",
        selector: "step: list_resource_record_sets",
        record_exists_during: true,
    },
    StepRow {
        label: "DELETE",
        selector: "step: change_resource_record_sets\n      nth: 2",
        record_exists_during: false,
    },
];

const ROUTE53_KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";

fn route53_scenario(faults: &str) -> String {
    format!(
        r#"route53:
  zones:
    - name: example.com
      id: ZPUBLIC
      records:
        - {{name: www.example.com, type: A, ttl: 300, values: [192.0.2.1]}}
        - {{name: _acme-challenge.www.example.com, type: TXT, ttl: 120, values: ['"in-flight"'], set_identifier: '"in-flight"', multi_value: true}}
        - {{name: _acme-challenge.legacy.example.com, type: TXT, ttl: 300, values: ['"simple"']}}
  users:
    - name: dns
      access_key_id: {ROUTE53_KEY_ID}
      secret_access_key: {CANARY}
      policy:
        - actions: [route53:ListHostedZonesByName, route53:ChangeResourceRecordSets, route53:GetChange, route53:ListResourceRecordSets]
  faults:
{faults}"#
    )
}

fn route53_manifests() -> String {
    format!(
        r#"apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {{name: r53}}
spec:
  acme:
    server: https://acme-staging-v02.api.letsencrypt.org/directory
    privateKeySecretRef: {{name: r53-account}}
    solvers:
      - dns01:
          route53:
            region: eu-west-1
            accessKeyIDSecretRef: {{name: aws, key: access-key-id}}
            secretAccessKeySecretRef: {{name: aws, key: secret-access-key}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {{name: www, namespace: default}}
spec:
  secretName: www-tls
  dnsNames: [www.example.com]
  issuerRef: {{kind: ClusterIssuer, name: r53}}
---
apiVersion: v1
kind: Secret
metadata: {{name: aws, namespace: cert-manager}}
stringData:
  access-key-id: {ROUTE53_KEY_ID}
  secret-access-key: "{CANARY}"
"#
    )
}

fn route53_mock_args(mock: &MockServer) -> Vec<String> {
    let route53 = mock.route53().expect("scenario has a route53 section");
    let url = route53.url();
    vec![
        "--endpoint".to_string(),
        format!("route53={url}"),
        "--endpoint".to_string(),
        format!("sts={url}"),
        "--dns01-recursive-nameservers".to_string(),
        route53.dns_addr().expect("mock DNS started").to_string(),
    ]
}

/// Route53 record sets; the first field is the first value without the
/// quotes Route53 keeps around TXT data, so probe values match [`MARKER`].
fn route53_records(mock: &MockServer) -> Vec<(String, String)> {
    mock.route53()
        .expect("scenario has a route53 section")
        .record_sets("ZPUBLIC")
        .into_iter()
        .map(|set| {
            let value = set.values.first().map(|v| v.trim_matches('"').to_string());
            (value.unwrap_or_default(), format!("{set:?}"))
        })
        .collect()
}

fn route53_fault_arrived(mock: &MockServer) -> bool {
    mock.route53()
        .expect("scenario has a route53 section")
        .requests()
        .iter()
        .any(|request| request.fault.is_some())
}

/// Expected exit code of a Route53 fault. The replay retries 5xx,
/// throttling, timeouts and resets (three attempts with backoff), and one
/// injected fault hits one attempt, so those runs pass (0): a retried
/// UPSERT is idempotent, and a retried DELETE whose first attempt was
/// applied finds the set gone. A 200 with a body that is not XML is not
/// retried: it fails the credential, zone and write steps (1), while a
/// failed read-back is only a notice (0). The DELETE is retried after it
/// too, because a DELETE is safe to repeat (0).
fn route53_fault_exit(step: &str, fault: &str) -> i32 {
    match (step, fault) {
        ("ListResourceRecordSets read-back" | "DELETE", "malformed body") => 0,
        (_, "malformed body") => 1,
        _ => 0,
    }
}

fn route53_injections() -> Vec<Injection> {
    vec![
        Injection::Fault {
            label: "HTTP 500",
            action: "{status: 500}",
        },
        Injection::Fault {
            label: "throttling",
            action: "rate_limit",
        },
        Injection::Fault {
            label: "delay past the timeout",
            action: "DELAY",
        },
        Injection::Fault {
            label: "connection reset",
            action: "reset",
        },
        Injection::Fault {
            label: "malformed body",
            action: "malformed",
        },
        Injection::Signal("INT"),
        Injection::Signal("TERM"),
        Injection::Signal("KILL"),
    ]
}

const PROVIDERS: &[ProviderRows] = &[
    ProviderRows {
        name: "Cloudflare",
        steps: CLOUDFLARE_STEPS,
        injections: cloudflare_injections,
        expected_fault_exit: cloudflare_fault_exit,
        scenario: cloudflare_scenario,
        manifests: cloudflare_manifests,
        mock_args: |mock| {
            vec![
                "--endpoint".to_string(),
                format!(
                    "cloudflare={}",
                    mock.cloudflare_url().expect("cloudflare section")
                ),
            ]
        },
        records: cloudflare_records,
        fault_arrived: cloudflare_fault_arrived,
    },
    ProviderRows {
        name: "Route53",
        steps: ROUTE53_STEPS,
        injections: route53_injections,
        expected_fault_exit: route53_fault_exit,
        scenario: route53_scenario,
        manifests: route53_manifests,
        mock_args: route53_mock_args,
        records: route53_records,
        fault_arrived: route53_fault_arrived,
    },
];

/// What a case does to the step.
#[derive(Clone, Copy)]
enum Injection {
    /// A fault action of the mock, as YAML.
    Fault {
        label: &'static str,
        action: &'static str,
    },
    /// A signal sent to the CLI while the step's request is in flight.
    Signal(&'static str),
}

impl Injection {
    fn label(&self) -> String {
        match self {
            Injection::Fault { label, .. } => label.to_string(),
            Injection::Signal(signal) => format!("SIG{signal}"),
        }
    }
}

fn cloudflare_injections() -> Vec<Injection> {
    vec![
        Injection::Fault {
            label: "HTTP 500",
            action: "{status: 500}",
        },
        Injection::Fault {
            label: "429 with Retry-After",
            action: "{rate_limit: {retry_after: 30}}",
        },
        Injection::Fault {
            label: "429 without Retry-After",
            action: "rate_limit",
        },
        Injection::Fault {
            label: "delay past the timeout",
            action: "DELAY",
        },
        Injection::Fault {
            label: "connection reset",
            action: "reset",
        },
        Injection::Fault {
            label: "malformed body",
            action: "malformed",
        },
        Injection::Signal("INT"),
        Injection::Signal("TERM"),
        Injection::Signal("KILL"),
    ]
}

/// Result of one case, as the table shows it.
struct Outcome {
    provider: &'static str,
    step: &'static str,
    injection: String,
    exit: i32,
    verdict: String,
    reasons: Vec<String>,
    probes_left: usize,
    /// Problems found, each naming the broken promise.
    violations: Vec<String>,
    seconds: f64,
}

/// Expected exit code: SIGINT and SIGTERM interrupt the run (2), and a
/// SIGKILL leaves no exit code.
fn expected_exit(provider: &ProviderRows, step: &StepRow, injection: &Injection) -> Option<i32> {
    match injection {
        Injection::Signal("KILL") => None,
        Injection::Signal(_) => Some(2),
        Injection::Fault { label, .. } => Some((provider.expected_fault_exit)(step.label, label)),
    }
}

/// Expected exit code of a Cloudflare fault at `step`. A fault at any step
/// up to the read-back fails the check (1). The delete of the probe record
/// is retried, and a timed-out delete was applied, so the retry finds the
/// record gone and the check passes (0). The confirming list is a
/// verification read: when it fails, the check passes with a warning that
/// nothing left behind could not be confirmed (0).
fn cloudflare_fault_exit(step: &str, _fault: &str) -> i32 {
    match step {
        "delete" | "confirming list" => 0,
        _ => 1,
    }
}

async fn run_case(
    provider: &'static ProviderRows,
    step: &'static StepRow,
    injection: Injection,
) -> Outcome {
    let action = match injection {
        Injection::Fault {
            action: "DELAY", ..
        } => format!("{{delay: {DELAY_MS}}}"),
        Injection::Fault { action, .. } => action.to_string(),
        Injection::Signal(_) => format!("{{delay: {STALL_MS}}}"),
    };
    let faults = format!("    - {}\n      action: {action}\n", step.selector);
    let fixture = Fixture::new(&(provider.scenario)(&faults), &(provider.manifests)()).await;
    let before: Vec<String> = (provider.records)(&fixture.mock)
        .into_iter()
        .map(|(_, full)| full)
        .collect();

    let started = Instant::now();
    let run = match injection {
        Injection::Fault { .. } => {
            let mut args: Vec<String> = [
                "check",
                "-f",
                fixture.manifests().to_str().unwrap(),
                "-o",
                "json",
                "-vvv",
                "--timeout",
                TIMEOUT,
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.extend((provider.mock_args)(&fixture.mock));
            run_cli_async(args, Vec::new()).await
        }
        Injection::Signal(signal) => signal_during_step(&fixture, provider, signal).await,
    };
    let seconds = started.elapsed().as_secs_f64();

    let expected_probes = match injection {
        Injection::Signal("KILL") if step.record_exists_during => 1,
        _ => 0,
    };
    let mut records = (provider.records)(&fixture.mock);
    if matches!(injection, Injection::Signal("KILL")) {
        // The mock applies a request it already accepted even after the
        // client died, a few milliseconds later; wait for that to settle.
        let deadline = Instant::now() + std::time::Duration::from_secs(2);
        let probe_count = |records: &[(String, String)]| records.iter().filter(|(c, _)| c.starts_with(MARKER)).count();
        while probe_count(&records) != expected_probes && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            records = (provider.records)(&fixture.mock);
        }
    }
    let probes: Vec<&String> = records
        .iter()
        .filter(|(content, _)| content.starts_with(MARKER))
        .map(|(content, _)| content)
        .collect();
    let after: Vec<String> = records
        .iter()
        .filter(|(content, _)| !content.starts_with(MARKER))
        .map(|(_, full)| full.clone())
        .collect();

    let mut violations = Vec::new();
    if probes.len() != expected_probes {
        violations.push(format!(
            "{} probe records left, expected {expected_probes}",
            probes.len()
        ));
    }
    if let Some(probe) = probes.first() {
        if probe.len() != 43 {
            violations.push(format!(
                "leftover probe value is {} characters, expected 43",
                probe.len()
            ));
        }
    }
    if before != after {
        violations.push(format!(
            "other records changed:\nbefore {before:#?}\nafter {after:#?}"
        ));
    }
    let output = run.all_output();
    if output.contains(CANARY) || output.contains(&CANARY[4..24]) {
        violations.push("the canary credential appears in the output".to_string());
    }
    if output.contains("panicked") {
        violations.push("the CLI panicked".to_string());
    }
    if let Some(exit) = expected_exit(provider, step, &injection) {
        if run.code != exit {
            violations.push(format!("exit {}, expected {exit}", run.code));
        }
    }

    let report: Option<serde_json::Value> = serde_json::from_str(&run.stdout).ok();
    let check = report.as_ref().and_then(|r| r["checks"].get(0).cloned());
    if expected_exit(provider, step, &injection).is_some() && check.is_none() {
        violations.push("no report on stdout".to_string());
    }
    if !violations.is_empty() {
        violations.push(format!("output:\n{output}"));
    }
    Outcome {
        provider: provider.name,
        step: step.label,
        injection: injection.label(),
        exit: run.code,
        verdict: check
            .as_ref()
            .and_then(|c| c["verdict"].as_str().map(str::to_string))
            .unwrap_or_else(|| "-".to_string()),
        reasons: check.as_ref().map(reasons).unwrap_or_default(),
        probes_left: probes.len(),
        violations,
        seconds,
    }
}

/// Starts the CLI with the step's request stalled, waits until that request
/// reached the mock, and sends `signal`.
async fn signal_during_step(fixture: &Fixture, provider: &ProviderRows, signal: &str) -> Run {
    let mut command = cli_command();
    command
        .args([
            "check",
            "-f",
            fixture.manifests().to_str().unwrap(),
            "-o",
            "json",
            "-vvv",
        ])
        .args(["--timeout", "30s"])
        .args((provider.mock_args)(&fixture.mock))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("start the CLI");
    let pid = child.id().to_string();

    let started = Instant::now();
    while !(provider.fault_arrived)(&fixture.mock) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the stalled request never reached the mock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let sent = std::process::Command::new("kill")
        .args(["-s", signal, &pid])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -s {signal} {pid} failed");
    let output =
        tokio::task::spawn_blocking(move || child.wait_with_output().expect("wait for the CLI"))
            .await
            .expect("wait thread");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn markdown_table(outcomes: &[Outcome]) -> String {
    let mut table = String::from(
        "| provider | step | injected | exit | verdict | findings | probe records left | other records | canary | time |\n|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for outcome in outcomes {
        let findings = if outcome.reasons.is_empty() {
            "-".to_string()
        } else {
            outcome.reasons.join(", ")
        };
        let result = |ok: bool| if ok { "unchanged" } else { "CHANGED" };
        let canary_ok = !outcome.violations.iter().any(|v| v.contains("canary"));
        let others_ok = !outcome
            .violations
            .iter()
            .any(|v| v.starts_with("other records"));
        let _ = writeln!(
            table,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} s |",
            outcome.provider,
            outcome.step,
            outcome.injection,
            if outcome.exit < 0 {
                "killed".to_string()
            } else {
                outcome.exit.to_string()
            },
            outcome.verdict,
            findings,
            outcome.probes_left,
            result(others_ok),
            if canary_ok { "absent" } else { "LEAKED" },
            outcome.seconds,
        );
    }
    table
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fault_matrix() {
    let started = Instant::now();
    let slots = Arc::new(Semaphore::new(PARALLEL_CASES));
    let mut cases = Vec::new();
    for provider in PROVIDERS {
        for step in provider.steps {
            for injection in (provider.injections)() {
                let slots = slots.clone();
                cases.push(tokio::spawn(async move {
                    let _slot = slots.acquire_owned().await.expect("semaphore open");
                    run_case(provider, step, injection).await
                }));
            }
        }
    }
    let mut outcomes = Vec::new();
    for case in cases {
        outcomes.push(case.await.expect("case task"));
    }

    let table = markdown_table(&outcomes);
    if let Some(path) = std::env::var_os("FAULT_MATRIX_TABLE") {
        std::fs::write(&path, &table).expect("write FAULT_MATRIX_TABLE");
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| !o.violations.is_empty())
        .map(|o| {
            format!(
                "{} / {} / {}: {}",
                o.provider,
                o.step,
                o.injection,
                o.violations.join("; ")
            )
        })
        .collect();
    let slowest = outcomes.iter().map(|o| o.seconds).fold(0.0, f64::max);
    eprintln!(
        "{} cases in {:.1} s (slowest {slowest:.1} s), {} failed\n{table}",
        outcomes.len(),
        started.elapsed().as_secs_f64(),
        failed.len()
    );
    assert!(
        failed.is_empty(),
        "{} of {} cases failed:\n{}",
        failed.len(),
        outcomes.len(),
        failed.join("\n\n")
    );
}
