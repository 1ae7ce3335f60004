//! Fidelity check: boto3 (botocore parses every response against AWS's
//! own service models) performs the Route53 and STS calls of the replay
//! against the mock binary.
//!
//! Skips with a notice when python3 or boto3 is missing, unless
//! ACME_TOKEN_REQUIRE_PEERS=1 (set in CI), where a missing peer fails.

mod common;

use std::process::Command;

use common::process::MockProcess;

const KEY_ID: &str = "AKIABOTO3CHECK000001";
const SECRET: &str = "boto3-check-secret-0000000000000000000000";
const DENIED_KEY_ID: &str = "AKIABOTO3DENIED00001";
const DENIED_SECRET: &str = "boto3-denied-secret-000000000000000000000";

fn scenario() -> String {
    format!(
        r#"route53:
  insync_after_ms: 300
  zones:
    - name: example.com
    - {{name: example.com, private: true}}
  users:
    - name: dns
      access_key_id: {KEY_ID}
      secret_access_key: {SECRET}
      policy:
        - actions: ["route53:*", "sts:AssumeRole"]
    - name: denied
      access_key_id: {DENIED_KEY_ID}
      secret_access_key: {DENIED_SECRET}
      policy:
        - actions: [route53:GetChange]
  roles:
    - name: dns-role
      trust: [dns]
      policy:
        - actions: ["route53:*"]
"#
    )
}

fn peers_required() -> bool {
    std::env::var("ACME_TOKEN_REQUIRE_PEERS").is_ok_and(|value| value == "1")
}

fn boto3_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import boto3"])
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn boto3_round_trip() {
    if !boto3_installed() {
        assert!(!peers_required(), "ACME_TOKEN_REQUIRE_PEERS=1 but python package boto3 is not installed (pip install -r tests/requirements.txt)");
        println!("skipped: python package boto3 not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, scenario()).unwrap();
    let mock = MockProcess::spawn(&path, &[]);
    let url = mock.url("route53");

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/route53_boto3_check.py");
    let mut command = Command::new("python3");
    command
        .arg(script)
        .args([url.as_str(), KEY_ID, SECRET, DENIED_KEY_ID, DENIED_SECRET]);
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") || name.to_ascii_lowercase().ends_with("_proxy") {
            command.env_remove(name);
        }
    }
    command.env("AWS_EC2_METADATA_DISABLED", "true");
    command.env("AWS_CONFIG_FILE", "/nonexistent");
    command.env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    let output = command.output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "boto3 check failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("boto3 check passed"), "{stdout}");
}
