//! The probe contract, end to end through the binary against the mock:
//! whatever fails, times out or interrupts the probe, no probe record is
//! left behind (except after SIGKILL, where the record carries the marker
//! for `cleanup`), and every other record stays exactly as it was.

mod common;

use acme_token_tests::{check_for, cli_command, finding, reasons};
use common::{cluster_issuer, secret, Fixture, TOKEN, ZONES};
use std::process::Stdio;
use std::time::{Duration, Instant};

const MARKER: &str = "acme-token-probe-";

fn manifests() -> String {
    cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", TOKEN)
}

fn scenario(faults: &str) -> String {
    format!(
        "cloudflare:{ZONES}  tokens:\n    - value: \"{TOKEN}\"\n      owner: user\n      status: active\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n  faults:\n{faults}"
    )
}

/// Runs a check with `faults` injected and returns the fixture, the JSON
/// report and the exit code, after asserting that the zone ends exactly as
/// it started.
async fn run_with_faults(faults: &str, extra: &[&str]) -> (Fixture, serde_json::Value, i32) {
    let fixture = Fixture::new(&scenario(faults), &manifests()).await;
    let before = fixture.mock.cloudflare().unwrap().all_records();
    let run = fixture.check(extra).await;
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let after = fixture.mock.cloudflare().unwrap().all_records();
    assert_eq!(before, after, "records changed; report:\n{}", run.all_output());
    let report = run.json();
    (fixture, report, run.code)
}

fn creates(fixture: &Fixture) -> usize {
    fixture
        .mock
        .cloudflare()
        .unwrap()
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn healthy_probe_leaves_nothing() {
    let (fixture, report, code) = run_with_faults("    []\n", &[]).await;
    assert_eq!(code, 0, "{report:#}");
    let check = check_for(&report, "www.example.com");
    assert_eq!(check["verdict"], "OK", "{check:#}");
    assert_eq!(creates(&fixture), 1);
    let deletes = fixture
        .mock
        .cloudflare()
        .unwrap()
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .count();
    assert_eq!(deletes, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn create_error_creates_nothing() {
    let (_fixture, report, code) =
        run_with_faults("    - step: create\n      action: {status: 500}\n", &[]).await;
    assert_eq!(code, 1);
    let check = check_for(&report, "www.example.com");
    assert_eq!(finding(check, "ProviderUnavailable")["stage"], "write");
}

#[tokio::test(flavor = "multi_thread")]
async fn create_applied_despite_error_is_deleted() {
    let (_fixture, report, code) =
        run_with_faults("    - step: create\n      action: {apply_then_status: 502}\n", &[]).await;
    assert_eq!(code, 1, "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn create_reset_creates_nothing() {
    let (_fixture, report, code) = run_with_faults("    - step: create\n      action: reset\n", &[]).await;
    assert_eq!(code, 1, "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn create_malformed_body_is_cleaned() {
    let (_fixture, report, code) = run_with_faults("    - step: create\n      action: malformed\n", &[]).await;
    assert_eq!(code, 1, "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn create_timeout_applied_later_is_deleted() {
    // The mock applies the create at once but sends the response after the
    // client timeout.
    let (_fixture, report, code) =
        run_with_faults("    - step: create\n      action: {delay: 2500}\n", &["--timeout", "1s"]).await;
    assert_eq!(code, 1, "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_back_error_still_deletes() {
    let (fixture, report, _code) =
        run_with_faults("    - step: list_records\n      nth: 2\n      action: {status: 500}\n", &[]).await;
    assert_eq!(creates(&fixture), 1, "{report:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_error_then_success() {
    let (_fixture, report, code) =
        run_with_faults("    - step: delete\n      action: {status: 500}\n", &[]).await;
    let check = check_for(&report, "www.example.com");
    assert_ne!(code, 2, "{report:#}");
    let cleanup = check["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "cleanup")
        .unwrap();
    assert_eq!(cleanup["status"], "passed", "{check:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_timeout_is_retried() {
    let (_fixture, report, _code) =
        run_with_faults("    - step: delete\n      action: {delay: 2500}\n", &["--timeout", "1s"]).await;
    let check = check_for(&report, "www.example.com");
    assert!(
        !reasons(check).iter().any(|r| r.starts_with("ProbeLeftover")),
        "{check:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_always_failing_reports_leftover() {
    let fixture = Fixture::new(
        &scenario("    - step: delete\n      times: 0\n      action: {status: 500}\n"),
        &manifests(),
    )
    .await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let leftover = finding(check, "ProbeLeftover");
    assert_eq!(leftover["stage"], "cleanup");
    let records = fixture.mock.cloudflare().unwrap().records("example.com");
    let probes: Vec<_> = records.iter().filter(|r| r.content.starts_with(MARKER)).collect();
    assert_eq!(probes.len(), 1, "{records:?}");
    assert!(leftover["message"].as_str().unwrap().contains(&probes[0].id), "{leftover:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limit_stops_the_account() {
    let (fixture, report, code) = run_with_faults(
        "    - step: create\n      action: {rate_limit: {retry_after: 60}}\n",
        &["--domain", "www.example.com", "--domain", "api.example.com"],
    )
    .await;
    assert_eq!(code, 1, "{report:#}");
    let first = check_for(&report, "www.example.com");
    assert!(reasons(first).iter().any(|r| r.starts_with("RateLimited")), "{first:#}");
    // No request after the 429 except what cleanup needs.
    let requests = fixture.mock.cloudflare().unwrap().requests();
    let limited = requests.iter().position(|r| r.status == Some(429)).expect("a 429 was sent");
    let after: Vec<_> = requests[limited + 1..].iter().filter(|r| r.method == "POST").collect();
    assert!(after.is_empty(), "probes continued after the rate limit: {after:?}");
}

/// Starts the CLI as a child process with the read-back stalled, waits until
/// the probe record exists, and sends `signal`.
async fn interrupt_during_probe(signal: &str) -> (Fixture, std::process::Output) {
    let fixture = Fixture::new(
        &scenario("    - step: list_records\n      nth: 2\n      action: {delay: 20000}\n"),
        &manifests(),
    )
    .await;
    let mut command = cli_command();
    command
        .args([
            "check",
            "-f",
            fixture.manifests().to_str().unwrap(),
            "-o",
            "json",
            "--timeout",
            "30s",
            "--endpoint",
            &format!("cloudflare={}", fixture.cloudflare_url()),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("start CLI");
    let pid = child.id();

    let started = Instant::now();
    loop {
        let probes = fixture
            .mock
            .cloudflare()
            .unwrap()
            .records("example.com")
            .iter()
            .filter(|r| r.content.starts_with(MARKER))
            .count();
        if probes == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "the probe record never appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let sent = std::process::Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -s {signal} {pid} failed");
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    (fixture, output)
}

const SIGINT: &str = "INT";
const SIGKILL: &str = "KILL";
const SIGTERM: &str = "TERM";

#[tokio::test(flavor = "multi_thread")]
async fn sigint_during_probe_cleans_up() {
    let (fixture, output) = interrupt_during_probe(SIGINT).await;
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let probes: Vec<_> = fixture
        .mock
        .cloudflare()
        .unwrap()
        .all_records()
        .into_iter()
        .filter(|r| r.content.starts_with(MARKER))
        .collect();
    assert!(probes.is_empty(), "{probes:?}");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("report printed");
    assert!(report["errors"][0].as_str().unwrap().contains("interrupted"));
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_probe_cleans_up() {
    let (fixture, output) = interrupt_during_probe(SIGTERM).await;
    assert_eq!(output.status.code(), Some(2), "{}", String::from_utf8_lossy(&output.stderr));
    let probes = fixture
        .mock
        .cloudflare()
        .unwrap()
        .all_records()
        .into_iter()
        .filter(|r| r.content.starts_with(MARKER))
        .count();
    assert_eq!(probes, 0);
    // The in-flight challenge record is untouched.
    let in_flight = fixture
        .mock
        .cloudflare()
        .unwrap()
        .records("example.com")
        .into_iter()
        .filter(|r| r.content.starts_with("in-flight-challenge"))
        .count();
    assert_eq!(in_flight, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigkill_leaves_marked_record() {
    let (fixture, _output) = interrupt_during_probe(SIGKILL).await;
    let probes: Vec<_> = fixture
        .mock
        .cloudflare()
        .unwrap()
        .all_records()
        .into_iter()
        .filter(|r| r.content.starts_with(MARKER))
        .collect();
    assert_eq!(probes.len(), 1, "{probes:?}");
    assert_eq!(probes[0].content.len(), 43);
    assert_eq!(probes[0].name, "_acme-challenge.www.example.com");
}
