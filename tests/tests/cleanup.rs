//! `cleanup` after a check killed with SIGKILL: the one leftover probe
//! record is listed and deleted, and no other record is ever touched, not
//! even ones that look like probe records.

mod common;

use acme_token_tests::{cli_command, run_cli_async, Run};
use common::{cluster_issuer, secret, Fixture, TOKEN};
use std::process::Stdio;
use std::time::{Duration, Instant};

const MARKER: &str = "acme-token-probe-";
/// Carries the marker but is not a probe value ('.' is not base64url).
const LOOKALIKE: &str = "acme-token-probe-looks.like-a-probe-value-x";
/// A well-formed probe value at a name that is not a challenge name.
const PROBE_ELSEWHERE: &str = "acme-token-probe-t00000-AAAAAAAAAAAAAAAAAAA";

fn scenario() -> String {
    assert_eq!(LOOKALIKE.len(), 43);
    assert_eq!(PROBE_ELSEWHERE.len(), 43);
    format!(
        r#"cloudflare:
  accounts:
    - id: 01a7362d577a6c3019a474fd6f485823
      name: Example Org
  zones:
    - name: example.com
      account: 01a7362d577a6c3019a474fd6f485823
      records:
        - {{type: TXT, name: _acme-challenge.www.example.com, content: in-flight-challenge-value-000000000000000000, ttl: 120}}
        - {{type: TXT, name: _acme-challenge.api.example.com, content: "{LOOKALIKE}", ttl: 120}}
        - {{type: TXT, name: probe-note.example.com, content: "{PROBE_ELSEWHERE}", ttl: 120}}
        - {{type: A, name: www.example.com, content: 192.0.2.1, ttl: 300}}
  tokens:
    - value: "{TOKEN}"
      owner: user
      status: active
      permissions: ["Zone:Read", "DNS:Edit"]
      zones: all
  faults:
    - {{step: list_records, nth: 2, action: {{delay: 20000}}}}
"#
    )
}

fn manifests() -> String {
    cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", TOKEN)
}

fn probes(fixture: &Fixture) -> Vec<String> {
    fixture
        .mock
        .cloudflare()
        .unwrap()
        .all_records()
        .into_iter()
        .filter(|r| r.content.starts_with(MARKER) && r.content != LOOKALIKE && r.content != PROBE_ELSEWHERE)
        .map(|r| r.content)
        .collect()
}

/// Starts a check, waits until its probe record exists (the read-back is
/// stalled), and kills it with SIGKILL.
async fn kill_during_probe(fixture: &Fixture) {
    let mut command = cli_command();
    command
        .args([
            "check",
            "-f",
            fixture.manifests().to_str().unwrap(),
            "--timeout",
            "30s",
            "--endpoint",
            &format!("cloudflare={}", fixture.cloudflare_url()),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command.spawn().expect("start CLI");
    let started = Instant::now();
    while probes(fixture).len() != 1 {
        assert!(started.elapsed() < Duration::from_secs(20), "the probe record never appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().expect("SIGKILL the check");
    tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
}

async fn cleanup(fixture: &Fixture, extra: &[&str]) -> Run {
    let mut args: Vec<String> = [
        "cleanup",
        "-f",
        fixture.manifests().to_str().unwrap(),
        "-o",
        "json",
        "--timeout",
        "2s",
        "--endpoint",
        &format!("cloudflare={}", fixture.cloudflare_url()),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    run_cli_async(args, Vec::new()).await
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_after_sigkill() {
    let fixture = Fixture::new(&scenario(), &manifests()).await;
    let initial = fixture.mock.cloudflare().unwrap().all_records();
    kill_during_probe(&fixture).await;
    let leftover = probes(&fixture);
    assert_eq!(leftover.len(), 1, "{leftover:?}");
    let after_kill = fixture.mock.cloudflare().unwrap().all_records();

    let dry = cleanup(&fixture, &["--dry-run"]).await;
    assert_eq!(dry.code, 0, "{}", dry.all_output());
    let report = dry.json();
    let records = report["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{report:#}");
    assert_eq!(records[0]["value"], leftover[0].as_str());
    assert_eq!(records[0]["name"], "_acme-challenge.www.example.com");
    assert_eq!(records[0]["action"], "would-delete");
    assert_eq!(report["summary"]["wouldDelete"], 1);
    assert_eq!(
        after_kill,
        fixture.mock.cloudflare().unwrap().all_records(),
        "a dry run changed records"
    );

    let young = cleanup(&fixture, &["--older-than", "1h"]).await;
    assert_eq!(young.code, 0, "{}", young.all_output());
    assert_eq!(young.json()["records"][0]["action"], "kept");
    assert_eq!(probes(&fixture).len(), 1);

    let real = cleanup(&fixture, &[]).await;
    assert_eq!(real.code, 0, "{}", real.all_output());
    let report = real.json();
    assert_eq!(report["summary"]["deleted"], 1, "{report:#}");
    assert_eq!(report["records"][0]["action"], "deleted");

    // Back to the records the zone started with: the in-flight challenge,
    // the look-alike and the probe-shaped value elsewhere are untouched.
    assert_eq!(initial, fixture.mock.cloudflare().unwrap().all_records());
    let deletes: Vec<String> = fixture
        .mock
        .cloudflare()
        .unwrap()
        .requests()
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");

    let again = cleanup(&fixture, &["--dry-run", "-o", "table"]).await;
    assert_eq!(again.code, 0, "{}", again.all_output());
    assert!(again.stdout.contains("0 probe records found in 1 zone:"), "{}", again.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_needs_input_and_valid_flags() {
    let fixture = Fixture::new(&scenario(), &manifests()).await;
    let none = run_cli_async(vec!["cleanup".into()], Vec::new()).await;
    assert_eq!(none.code, 2, "{}", none.all_output());
    assert!(none.stderr.contains("-f PATH"), "{}", none.stderr);
    let bad_age = cleanup(&fixture, &["--older-than", "soon"]).await;
    assert_eq!(bad_age.code, 2, "{}", bad_age.all_output());
    let unknown_issuer = cleanup(&fixture, &["--cluster-issuer", "absent"]).await;
    assert_eq!(unknown_issuer.code, 2, "{}", unknown_issuer.all_output());
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_reports_unreadable_zone() {
    let revoked = scenario().replace("zones: all", "zones: all\n      revoked: true");
    let fixture = Fixture::new(&revoked, &manifests()).await;
    let run = cleanup(&fixture, &["--dry-run"]).await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    let report = run.json();
    let error = report["errors"][0].as_str().unwrap();
    assert!(error.contains("cannot find the zone of www.example.com"), "{error}");
}

#[test]
fn cleanup_without_secrets_searches_nothing_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("issuer.yaml");
    std::fs::write(
        &path,
        common::cluster_issuer("cf", "apiTokenSecretRef:\n  name: cf\n  key: api-token", "www.example.com"),
    )
    .unwrap();
    let run = acme_token_tests::run_cli(&["cleanup", "-f", path.to_str().unwrap(), "--dry-run"]);
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.all_output().contains("no zone was searched"), "{}", run.all_output());
    assert!(run.all_output().contains("--credential"), "{}", run.all_output());
}
