//! The `acme-token-mock` binary: startup output, loopback-only listening and shutdown.

mod common;

use std::process::Command;
use std::time::Duration;

use common::process::MockProcess;
use common::{scenario_yaml, FULL_TOKEN};

fn write_scenario(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, text).expect("scenario file is written");
    path
}

#[tokio::test]
async fn binary_prints_url_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(&dir, &scenario_yaml());
    let mock = MockProcess::spawn(&path, &[]);

    assert_eq!(mock.endpoints.len(), 1, "{:?}", mock.endpoints);
    let url = mock.url("cloudflare");
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(url.ends_with("/client/v4"), "{url}");

    let response = common::client()
        .get(format!("{url}/user/tokens/verify"))
        .bearer_auth(FULL_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[test]
fn binary_stops_when_stdin_closes() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(&dir, &scenario_yaml());
    let mut mock = MockProcess::spawn(&path, &[]);

    drop(mock.stdin.take());
    assert_eq!(mock.wait_for_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn binary_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(&dir, &scenario_yaml());
    let mut mock = MockProcess::spawn(&path, &["--ignore-stdin"]);

    let status = Command::new("kill")
        .arg("-TERM")
        .arg(mock.child.id().to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert_eq!(mock.wait_for_exit(Duration::from_secs(10)), Some(0));
}

#[test]
fn binary_rejects_non_loopback_listen() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(&dir, &scenario_yaml());
    let output = Command::new(env!("CARGO_BIN_EXE_acme-token-mock"))
        .arg("--scenario")
        .arg(&path)
        .args(["--listen", "0.0.0.0:0"])
        .output()
        .expect("the mock binary runs");

    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty(), "nothing is printed on stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}

#[test]
fn binary_reports_invalid_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(
        &dir,
        "cloudflare:\n  zones: [{name: example.com, account: nobody}]\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_acme-token-mock"))
        .arg("--scenario")
        .arg(&path)
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown account"), "{stderr}");
    assert!(stderr.contains("scenario.yaml"), "{stderr}");
}

#[test]
fn binary_listens_on_requested_port() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_scenario(&dir, &scenario_yaml());
    // Find a free port, release it, and ask the mock for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mock = MockProcess::spawn(&path, &["--listen", &format!("127.0.0.1:{port}")]);

    assert_eq!(
        mock.url("cloudflare"),
        format!("http://127.0.0.1:{port}/client/v4")
    );
}
