//! The command line as a user meets it: the demo, help and version, offline
//! mode, and bare credential checks.

mod common;

use acme_token_tests::{check_for, finding, run_cli, run_cli_async};
use common::{cluster_issuer, secret, Fixture, TOKEN, ZONES};

#[test]
fn demo_prints_five_credential_states() {
    let run = run_cli(&["demo", "-o", "json"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let by_issuer = |name: &str| -> Vec<serde_json::Value> {
        report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["issuer"]["name"] == name)
            .cloned()
            .collect()
    };
    let healthy = by_issuer("letsencrypt-healthy");
    assert_eq!(healthy.len(), 2);
    assert!(healthy.iter().all(|c| c["verdict"] == "OK"), "{healthy:#?}");
    assert_eq!(by_issuer("letsencrypt-read-only")[0]["credentialState"], "read-only");
    assert_eq!(by_issuer("letsencrypt-revoked")[0]["credentialState"], "stale");
    finding(&by_issuer("letsencrypt-newline")[0], "SecretWhitespace");
    let expiring = &by_issuer("letsencrypt-expiring")[0];
    assert_eq!(expiring["verdict"], "WARN");
    finding(expiring, "AuthExpiring");
    assert!(report["metadata"]["endpointOverrides"]["cloudflare"].as_str().unwrap().starts_with("http://127.0.0.1:"));
}

#[test]
fn demo_table_is_grouped_by_issuer() {
    let run = run_cli(&["demo"]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stdout.contains("endpoint override in use"), "{}", run.stdout);
    for issuer in ["letsencrypt-healthy", "letsencrypt-read-only", "letsencrypt-revoked", "letsencrypt-newline", "letsencrypt-expiring"] {
        assert_eq!(run.stdout.matches(issuer).count(), 1, "{issuer} heading:\n{}", run.stdout);
    }
    assert!(run.stdout.contains("fix: "), "{}", run.stdout);
}

#[test]
fn help_names_the_plugin() {
    let run = run_cli(&["--help"]);
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("kubectl acme-token"), "{}", run.stdout);
    let version = run_cli(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.contains(env!("CARGO_PKG_VERSION")));
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_contacts_nothing() {
    let manifests = cluster_issuer("cf", "apiTokenSecretRef:\n  name: cf\n  key: t", "www.example.com")
        + &secret("cert-manager", "cf", "t", TOKEN);
    let scenario = format!(
        "cloudflare:{ZONES}  tokens:\n    - value: \"{TOKEN}\"\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n"
    );
    let fixture = Fixture::new(&scenario, &manifests).await;
    let run = fixture.check(&["--offline"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    assert_eq!(report["metadata"]["mode"], "offline");
    let check = check_for(&report, "www.example.com");
    assert_eq!(check["verdict"], "OK");
    let skipped = check["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "skipped")
        .count();
    assert_eq!(skipped, 4, "{check:#}");
    assert!(fixture.mock.cloudflare().unwrap().requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bare_credential_check() {
    let scenario = format!(
        "cloudflare:{ZONES}  tokens:\n    - value: \"{TOKEN}\"\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n"
    );
    let fixture = Fixture::new(&scenario, "").await;
    let endpoint = format!("cloudflare={}", fixture.cloudflare_url());
    let args: Vec<String> = [
        "check", "cloudflare", "--credential", "env:CF_TOKEN", "--domain", "www.example.com", "--endpoint", &endpoint, "-o", "json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = run_cli_async(args.clone(), vec![("CF_TOKEN".into(), TOKEN.into())]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    assert_eq!(check["verdict"], "OK", "{check:#}");
    assert_eq!(check["issuer"]["kind"], "Credential");
    assert!(check["requests"].as_u64().unwrap() >= 7, "{check:#}");
    assert!(fixture.mock.cloudflare().unwrap().records("example.com").iter().all(|r| !r.content.starts_with("acme-token-probe-")));

    let missing = run_cli_async(args, Vec::new()).await;
    assert_eq!(missing.code, 2, "{}", missing.all_output());
    assert!(missing.stderr.contains("CF_TOKEN"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_write_infers_permission() {
    let manifests = cluster_issuer("cf", "apiTokenSecretRef:\n  name: cf\n  key: t", "www.example.com")
        + &secret("cert-manager", "cf", "t", TOKEN);
    let scenario = format!(
        "cloudflare:{ZONES}  tokens:\n    - value: \"{TOKEN}\"\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n"
    );
    let fixture = Fixture::new(&scenario, &manifests).await;
    let run = fixture.check(&["--no-write"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let write = check["stages"].as_array().unwrap().iter().find(|s| s["stage"] == "write").unwrap();
    assert_eq!(write["inferred"], true, "{check:#}");
    let posts = fixture.mock.cloudflare().unwrap().requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 0);
}
