//! The main job on manifests other people committed to public repositories.
//! The tests read them from the shared folder beside the checkout and never
//! copy them into this repository. Where that folder is absent, the tests
//! skip with a notice.

mod common;

use acme_token_tests::{reasons, run_cli, shared_dir, Run};
use common::{secret, Fixture, TOKEN};
use std::path::PathBuf;

fn manifest(name: &str) -> Option<PathBuf> {
    let Some(shared) = shared_dir() else {
        eprintln!("skipped: the shared/real-manifests folder is not beside this checkout");
        return None;
    };
    let path = shared.join("real-manifests").join(name);
    assert!(path.is_file(), "{} is missing from shared/real-manifests", path.display());
    Some(path)
}

fn offline(files: &[&str], extra: &[&str]) -> Option<Run> {
    let mut args: Vec<String> = vec!["check".into(), "--offline".into(), "-o".into(), "json".into()];
    for file in files {
        args.push("-f".into());
        args.push(manifest(file)?.display().to_string());
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Some(run_cli(&args))
}

fn verdicts(run: &Run) -> Vec<String> {
    run.json()["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["verdict"].as_str().unwrap().to_string())
        .collect()
}

fn all_reasons(run: &Run) -> Vec<String> {
    let report = run.json();
    let mut all: Vec<String> = report["checks"].as_array().unwrap().iter().flat_map(reasons).collect();
    if let Some(notices) = report["notices"].as_array() {
        all.extend(notices.iter().map(|n| format!("{}@notice", n["reason"].as_str().unwrap_or(""))));
    }
    all
}

fn has_reason(run: &Run, reason: &str) -> bool {
    all_reasons(run).iter().any(|r| r.starts_with(&format!("{reason}@")))
}

#[test]
fn cloudflare_issuer_without_secret_is_skipped() {
    let Some(run) = offline(&["003-cloudflare-token-plus-email.yaml"], &[]) else { return };
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(verdicts(&run), vec!["SKIP"], "{}", run.stdout);
    assert!(!run.all_output().contains("http://") || !run.stdout.contains("endpointOverrides"));
}

#[test]
fn placeholder_token_secret_fails() {
    let Some(run) = offline(
        &["003-cloudflare-token-plus-email.yaml", "109-secret-cloudflare-token-placeholder.yaml"],
        &[],
    ) else {
        return;
    };
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert_eq!(verdicts(&run), vec!["FAIL"]);
    assert!(has_reason(&run, "PlaceholderUnexpanded"), "{:?}", all_reasons(&run));
}

#[test]
fn external_secret_link_is_reported() {
    let Some(run) = offline(
        &[
            "004-cloudflare-token-noemail-profile-selector.yaml",
            "091-externalsecret-cloudflare-1password-extract.yaml",
        ],
        &["-n", "cert-manager"],
    ) else {
        return;
    };
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = &report["checks"][0];
    assert_eq!(check["verdict"], "SKIP");
    assert_eq!(check["domain"], "example.com");
    assert_eq!(check["context"]["externalSecret"], "cert-manager/cloudflare-issuer", "{check:#}");
}

#[test]
fn multizone_selector_gives_one_check_per_zone() {
    let Some(run) = offline(
        &[
            "005-cloudflare-token-multizone-selector.yaml",
            "092-externalsecret-cloudflare-infisical.yaml",
        ],
        &["-n", "cert-manager"],
    ) else {
        return;
    };
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let mut domains: Vec<String> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| format!("{}:{}", c["issuer"]["name"].as_str().unwrap(), c["domain"].as_str().unwrap()))
        .collect();
    domains.sort();
    assert_eq!(
        domains,
        vec![
            "letsencrypt-production:example.com",
            "letsencrypt-production:example.net",
            "letsencrypt-production:example.org",
            "letsencrypt-staging:example.com",
            "letsencrypt-staging:example.net",
            "letsencrypt-staging:example.org",
        ]
    );
}

#[test]
fn unrendered_templates_fail() {
    for file in [
        "020-route53-role-serviceaccountref.yaml",
        "042-clouddns-sa-secretref-angle-placeholders.yaml",
        "050-azuredns-managedidentity-clientid.yaml",
        "074-webhook-gandi-multidoc-secret-issuer-cert.yaml",
    ] {
        let Some(run) = offline(&[file], &[]) else { return };
        assert_eq!(run.code, 1, "{file}: {}", run.all_output());
        assert!(has_reason(&run, "PlaceholderUnexpanded"), "{file}: {:?}", all_reasons(&run));
    }
}

#[test]
fn unsupported_providers_are_skipped() {
    for file in [
        "051-acmedns-incluster-http-host.yaml",
        "054-rfc2136-hmacmd5-dnsnames-selector.yaml",
    ] {
        let Some(run) = offline(&[file], &[]) else { return };
        assert_eq!(run.code, 0, "{file}: {}", run.all_output());
        assert!(verdicts(&run).iter().all(|v| v == "SKIP"), "{file}: {}", run.stdout);
        assert!(has_reason(&run, "ProviderUnsupported"), "{file}: {:?}", all_reasons(&run));
    }
}

#[test]
fn route53_empty_issuer_stanza_needs_ambient() {
    // An Issuer may not use ambient credentials under cert-manager's default
    // --issuer-ambient-credentials=false.
    let Some(run) = offline(&["026-route53-empty-stanza-ambient.yaml"], &[]) else { return };
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(has_reason(&run, "InvalidConfig"), "{:?}", all_reasons(&run));
    assert!(run.stdout.contains("empty credentials"), "{}", run.stdout);
}

#[test]
fn webhook_issuer_placeholder_email_is_flagged() {
    let Some(run) = offline(&["073-webhook-godaddy-issuer-dnsnames-placeholder-email.yaml"], &[]) else {
        return;
    };
    assert_ne!(run.code, 2, "{}", run.all_output());
    assert!(has_reason(&run, "ProviderUnsupported"), "{:?}", all_reasons(&run));
}

#[test]
fn list_without_dns01_has_no_checks() {
    let Some(run) = offline(&["120-list-kind-List-issuer-no-dns01.yaml"], &[]) else { return };
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(verdicts(&run).is_empty(), "{}", run.stdout);
}

#[test]
fn all_fifteen_together_never_error() {
    let Some(shared) = shared_dir() else {
        eprintln!("skipped: the shared/real-manifests folder is not beside this checkout");
        return;
    };
    let dir = shared.join("real-manifests");
    let run = run_cli(&["check", "--offline", "-o", "json", "-f", dir.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(!run.stderr.contains("panicked"));
    // Files that define the same issuer name override each other, as with
    // `kubectl apply`, so there are fewer checks than issuers in the files.
    assert!(run.json()["checks"].as_array().unwrap().len() >= 8);
}

/// Scenario for the real Cloudflare issuers: the zones their selectors name.
fn real_scenario(permissions: &str) -> String {
    format!(
        r#"cloudflare:
  accounts:
    - id: 5f1b7c0a3e9d4b2c8a6f0e1d2c3b4a59
      name: Home Ops
  zones:
    - name: example.com
      account: 5f1b7c0a3e9d4b2c8a6f0e1d2c3b4a59
    - name: example.org
      account: 5f1b7c0a3e9d4b2c8a6f0e1d2c3b4a59
    - name: example.net
      account: 5f1b7c0a3e9d4b2c8a6f0e1d2c3b4a59
  tokens:
    - value: "{TOKEN}"
      owner: user
      status: active
      permissions: {permissions}
      zones: all
"#
    )
}

async fn online(files: &[&str], secret_yaml: &str, permissions: &str, extra: &[&str]) -> Option<(Fixture, Run)> {
    let mut manifests = String::new();
    for file in files {
        let path = manifest(file)?;
        manifests.push_str(&std::fs::read_to_string(path).unwrap());
        manifests.push_str("\n---\n");
    }
    manifests.push_str(secret_yaml);
    let fixture = Fixture::new(&real_scenario(permissions), &manifests).await;
    let run = fixture.check(extra).await;
    Some((fixture, run))
}

#[tokio::test(flavor = "multi_thread")]
async fn real_token_plus_email_issuer_passes() {
    let secret = secret("cert-manager", "cloudflare-api-token-secret", "api-token", TOKEN);
    let Some((fixture, run)) = online(
        &["003-cloudflare-token-plus-email.yaml"],
        &secret,
        r#"["Zone:Read", "DNS:Edit"]"#,
        &["--domain", "www.example.com"],
    )
    .await
    else {
        return;
    };
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    assert_eq!(report["checks"][0]["verdict"], "OK", "{report:#}");
    assert!(fixture.mock.cloudflare().unwrap().all_records().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn real_selector_issuer_probes_zone_apex() {
    let secret = secret("cert-manager", "cloudflare-issuer-secret", "CLOUDFLARE_DNS_TOKEN", TOKEN);
    let Some((fixture, run)) = online(
        &["004-cloudflare-token-noemail-profile-selector.yaml", "091-externalsecret-cloudflare-1password-extract.yaml"],
        &secret,
        r#"["Zone:Read", "DNS:Edit"]"#,
        &["-n", "cert-manager"],
    )
    .await
    else {
        return;
    };
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = &report["checks"][0];
    assert_eq!(check["verdict"], "OK", "{check:#}");
    assert_eq!(check["fqdn"], "_acme-challenge.example.com");
    assert_eq!(check["context"]["externalSecret"], "cert-manager/cloudflare-issuer");
    let created = fixture
        .mock
        .cloudflare()
        .unwrap()
        .requests()
        .iter()
        .filter(|r| r.method == "POST")
        .count();
    assert_eq!(created, 1);
    assert!(fixture.mock.cloudflare().unwrap().all_records().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn real_multizone_read_only_token_fails_every_zone() {
    let secret = secret("cert-manager", "cloudflare-issuer-secret", "CLOUDFLARE_DNS_TOKEN", TOKEN);
    let Some((_fixture, run)) = online(
        &["005-cloudflare-token-multizone-selector.yaml"],
        &secret,
        r#"["Zone:Read", "DNS:Read"]"#,
        &[],
    )
    .await
    else {
        return;
    };
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 6);
    for check in checks {
        assert_eq!(check["verdict"], "FAIL", "{check:#}");
        assert_eq!(check["credentialState"], "read-only", "{check:#}");
    }
}
