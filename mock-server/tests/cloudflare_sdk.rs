//! Fidelity check: the official Cloudflare Python SDK against the mock binary.
//!
//! Skips with a notice when python3 or the `cloudflare` package is missing,
//! unless ACME_TOKEN_REQUIRE_PEERS=1 (set in CI), where a missing peer fails.

mod common;

use std::process::Command;

use common::process::MockProcess;
use common::{GLOBAL_EMAIL, GLOBAL_KEY};

const TOKEN: &str = "cf-sdk-check-000000000000000000000000000000";

/// Zone example.com with six TXT records at the challenge name, so listing five
/// per page takes the SDK through a full page, a partial page and an empty page.
fn scenario() -> String {
    let mut records = String::new();
    for index in 1..=6 {
        records.push_str(&format!(
            "        - {{type: TXT, name: _acme-challenge.example.com, content: \"seeded-{index}\", ttl: 120}}\n"
        ));
    }
    format!(
        "cloudflare:\n  zones:\n    - name: example.com\n      records:\n{records}    - name: example.org\n  tokens:\n    - {{value: \"{TOKEN}\", permissions: [\"Zone:Read\", \"DNS:Edit\"]}}\n  global_keys:\n    - {{email: \"{GLOBAL_EMAIL}\", key: \"{GLOBAL_KEY}\"}}\n"
    )
}

fn peers_required() -> bool {
    std::env::var("ACME_TOKEN_REQUIRE_PEERS").is_ok_and(|value| value == "1")
}

/// Reports whether `python3 -c "import cloudflare"` succeeds.
fn sdk_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import cloudflare"])
        .output()
        .is_ok_and(|output| output.status.success())
}

#[test]
fn cloudflare_python_sdk_round_trip() {
    if !sdk_installed() {
        assert!(!peers_required(), "ACME_TOKEN_REQUIRE_PEERS=1 but python package cloudflare is not installed (pip install cloudflare)");
        println!("skipped: python package cloudflare not installed");
        return;
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("scenario.yaml");
    std::fs::write(&path, scenario()).unwrap();
    let mock = MockProcess::spawn(&path, &[]);
    let url = mock.url("cloudflare");

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/cloudflare_sdk_check.py");
    let mut command = Command::new("python3");
    command
        .arg(script)
        .args([url.as_str(), TOKEN, GLOBAL_EMAIL, GLOBAL_KEY]);
    // The SDK must reach the mock directly and pick up no real credentials.
    for name in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "CLOUDFLARE_API_TOKEN",
        "CLOUDFLARE_API_KEY",
        "CLOUDFLARE_EMAIL",
        "CLOUDFLARE_API_USER_SERVICE_KEY",
        "CLOUDFLARE_BASE_URL",
    ] {
        command.env_remove(name);
    }
    let output = command.output().expect("python3 runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");

    assert!(
        output.status.success(),
        "SDK check failed with {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status.code()
    );
    assert!(stdout.contains("all checks passed"), "{stdout}");
}
