//! A canary credential passed through every input path must never appear in
//! anything the program writes: stdout, stderr, every output format, and the
//! most verbose log level, on success and on error paths.

mod common;

use acme_token_tests::{run_cli_async, Run};
use common::{cluster_issuer, secret, secret_data, Fixture, ZONES};

/// 40 characters, shaped like a Cloudflare API token.
const CANARY: &str = "CANARYcanary0123456789CANARYcanary012345";

fn scenario(extra: &str) -> String {
    format!(
        "cloudflare:{ZONES}  tokens:\n    - value: \"{CANARY}\"\n      owner: user\n      status: active\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n{extra}"
    )
}

fn assert_no_canary(run: &Run, path: &str) {
    let output = run.all_output();
    assert!(!output.contains(CANARY), "{path}: the canary leaked:\n{output}");
    // Also no long fragment of it (a truncated or split value).
    assert!(!output.contains(&CANARY[4..24]), "{path}: part of the canary leaked:\n{output}");
}

async fn check_all_formats(fixture: &Fixture, path: &str, extra: &[&str]) {
    for format in ["table", "wide", "json", "yaml"] {
        let mut args = vec!["-o", format, "-vvv"];
        args.extend_from_slice(extra);
        let run = fixture.check(&args).await;
        assert_ne!(run.code, 2, "{path} -o {format}: {}", run.all_output());
        assert_no_canary(&run, &format!("{path} -o {format}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_in_string_data() {
    let manifests = cluster_issuer("cf", "apiTokenSecretRef:\n  name: cf\n  key: t", "www.example.com")
        + &secret("cert-manager", "cf", "t", CANARY);
    let fixture = Fixture::new(&scenario(""), &manifests).await;
    check_all_formats(&fixture, "stringData", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_with_newline_in_data() {
    let mut raw = CANARY.as_bytes().to_vec();
    raw.extend_from_slice(b"\r\n");
    let manifests = cluster_issuer("cf", "apiTokenSecretRef:\n  name: cf\n  key: t", "www.example.com")
        + &secret_data("cert-manager", "cf", "t", &raw);
    let fixture = Fixture::new(&scenario(""), &manifests).await;
    check_all_formats(&fixture, "data with newline", &[]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_on_error_paths() {
    // Revoked token, wrong field, a wrong key name next to the value, and a
    // provider answering garbage: each error path must stay clean.
    let cases = [
        ("revoked", scenario("").replace("status: active", "status: active\n      revoked: true"), "apiTokenSecretRef", "t"),
        ("wrong field", scenario(""), "apiKeySecretRef", "t"),
        ("wrong key", scenario(""), "apiTokenSecretRef", "other"),
        ("malformed", scenario("  faults:\n    - step: any\n      times: 0\n      action: malformed\n"), "apiTokenSecretRef", "t"),
    ];
    for (path, scenario, field, key) in cases {
        let stanza = format!("email: ops@example.com\n{field}:\n  name: cf\n  key: {key}");
        let manifests = cluster_issuer("cf", &stanza, "www.example.com") + &secret("cert-manager", "cf", "t", CANARY);
        let fixture = Fixture::new(&scenario, &manifests).await;
        check_all_formats(&fixture, path, &[]).await;
        check_all_formats(&fixture, &format!("{path} offline"), &["--offline"]).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_through_env_file_and_stdin() {
    let fixture = Fixture::new(&scenario(""), "").await;
    let endpoint = format!("cloudflare={}", fixture.cloudflare_url());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{CANARY}\n")).unwrap();

    let base = |source: &str| -> Vec<String> {
        [
            "check", "cloudflare", "--credential", source, "--domain", "www.example.com", "--endpoint", &endpoint,
            "--timeout", "2s", "-vvv", "-o", "wide",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let env_run = run_cli_async(base("env:CF_CANARY"), vec![("CF_CANARY".into(), CANARY.into())]).await;
    assert_eq!(env_run.code, 0, "{}", env_run.all_output());
    assert_no_canary(&env_run, "env");

    let file_run = run_cli_async(base(&format!("file:{}", file.display())), Vec::new()).await;
    assert_eq!(file_run.code, 1, "a trailing newline must fail: {}", file_run.all_output());
    assert_no_canary(&file_run, "file");

    let args = base("stdin");
    let stdin_run = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        acme_token_tests::run_cli_with(&args, &[], Some(CANARY.as_bytes()))
    })
    .await
    .unwrap();
    assert_eq!(stdin_run.code, 0, "{}", stdin_run.all_output());
    assert_no_canary(&stdin_run, "stdin");
}
