//! Failure cases people reported against cert-manager's Cloudflare solver,
//! each reduced to a small input, run end to end through the binary against
//! the mock. Each test asserts the reason, the stage and a remedy a user can
//! act on.

mod common;

use acme_token_tests::{check_for, finding, reasons};
use common::{cluster_issuer, secret, secret_data, Fixture, TOKEN, ZONES};

fn scenario(tokens: &str) -> String {
    format!("cloudflare:{ZONES}  tokens:\n{tokens}")
}

fn token_entry(value: &str, extra: &str) -> String {
    let mut entry = format!(
        "    - value: \"{value}\"\n      owner: user\n      status: active\n      zones: all\n"
    );
    for line in extra.lines().filter(|l| !l.trim().is_empty()) {
        entry.push_str(&format!("      {}\n", line.trim()));
    }
    if !extra.contains("permissions") {
        entry.push_str("      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n");
    }
    entry
}

#[tokio::test(flavor = "multi_thread")]
async fn token_in_api_key_field() {
    let manifests = cluster_issuer(
        "cf",
        "email: ops@example.com\napiKeySecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", TOKEN);
    let fixture = Fixture::new(&scenario(&token_entry(TOKEN, "")), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let mismatch = finding(check, "CredentialFieldMismatch");
    assert_eq!(mismatch["stage"], "config");
    let remedy = mismatch["remedy"].as_str().unwrap();
    assert!(remedy.contains("apiTokenSecretRef"), "{remedy}");
    assert!(remedy.contains("email"), "{remedy}");
}

#[tokio::test(flavor = "multi_thread")]
async fn global_key_in_token_field() {
    let key = "0123456789abcdef0123456789abcdef01234";
    assert_eq!(key.len(), 37);
    let manifests = cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api", key);
    let scenario = format!(
        "{}  global_keys:\n    - email: ops@example.com\n      key: \"{key}\"\n",
        scenario(&token_entry(TOKEN, ""))
    );
    let fixture = Fixture::new(&scenario, &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let mismatch = finding(check, "CredentialFieldMismatch");
    assert_eq!(mismatch["stage"], "config");
    let remedy = mismatch["remedy"].as_str().unwrap();
    assert!(remedy.contains("apiKeySecretRef"), "{remedy}");
}

#[tokio::test(flavor = "multi_thread")]
async fn trailing_newline_in_data() {
    let mut raw = TOKEN.as_bytes().to_vec();
    raw.push(b'\n');
    let manifests = cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret_data("cert-manager", "cf", "api-token", &raw);
    let fixture = Fixture::new(&scenario(&token_entry(TOKEN, "")), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let whitespace = finding(check, "SecretWhitespace");
    assert_eq!(whitespace["stage"], "config");
    assert_eq!(whitespace["severity"], "error");
    assert!(whitespace["message"].as_str().unwrap().contains("0x0a"));
    let remedy = whitespace["remedy"].as_str().unwrap();
    assert!(remedy.contains("stringData"), "{remedy}");
    assert!(remedy.contains("echo -n"), "{remedy}");
    // The trimmed token is live, and the credential stage reports that.
    let credential = check["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "credential")
        .unwrap();
    assert_eq!(credential["status"], "passed", "{check:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn zone_not_visible_lists_visible_zones() {
    let manifests = cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", TOKEN);
    let token = format!(
        "    - value: \"{TOKEN}\"\n      owner: user\n      status: active\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: [example.org]\n"
    );
    let fixture = Fixture::new(&scenario(&token), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let zone = finding(check, "ZoneNotVisible");
    assert_eq!(zone["stage"], "zone");
    assert!(zone["message"].as_str().unwrap().contains("example.org"), "{zone:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_token() {
    let manifests = cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", TOKEN);
    let fixture = Fixture::new(
        &scenario(&token_entry(TOKEN, "permissions: [\"Zone:Read\", \"DNS:Read\"]")),
        &manifests,
    )
    .await;
    let before = fixture.mock.cloudflare().unwrap().all_records();
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let missing = finding(check, "PermissionMissing");
    assert_eq!(missing["stage"], "write");
    let text = format!("{} {}", missing["message"], missing["remedy"]);
    assert!(text.contains("DNS"), "{text}");
    assert!(text.contains("Edit"), "{text}");
    assert_eq!(check["credentialState"], "read-only");
    assert_eq!(fixture.mock.cloudflare().unwrap().all_records(), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn ip_restricted_token() {
    let manifests = cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", TOKEN);
    let fixture = Fixture::new(
        &scenario(&token_entry(TOKEN, "allowed_ips: [\"203.0.113.0/24\"]")),
        &manifests,
    )
    .await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let restricted = finding(check, "IpRestricted");
    assert_eq!(restricted["stage"], "credential");
    let text = format!("{} {}", restricted["message"], restricted["remedy"]);
    assert!(text.contains("egress"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_token_is_stale() {
    let manifests = cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", TOKEN);
    let fixture = Fixture::new(&scenario(&token_entry(TOKEN, "revoked: true")), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let invalid = finding(check, "AuthInvalid");
    assert_eq!(invalid["stage"], "credential");
    assert_eq!(check["credentialState"], "stale");
}

#[tokio::test(flavor = "multi_thread")]
async fn token_expiring_in_five_days() {
    let expires = chrono_in_days(5);
    let manifests = cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", TOKEN);
    let fixture = Fixture::new(
        &scenario(&token_entry(TOKEN, &format!("expires_on: \"{expires}\""))),
        &manifests,
    )
    .await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let expiring = finding(check, "AuthExpiring");
    assert_eq!(expiring["severity"], "warning");
    assert!(expiring["message"].as_str().unwrap().contains(&expires[..10]), "{expiring:#}");
    assert_eq!(check["verdict"], "WARN");

    let strict = fixture.check(&["--fail-on", "warning"]).await;
    assert_eq!(strict.code, 1, "{}", strict.all_output());
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_in_wrong_namespace() {
    let manifests = cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cloudflare\n  key: api-token",
        "www.example.com",
    ) + &secret("default", "cloudflare", "api-token", TOKEN);
    let fixture = Fixture::new(&scenario(&token_entry(TOKEN, "")), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let wrong = finding(check, "SecretWrongNamespace");
    assert_eq!(wrong["stage"], "config");
    let text = format!("{} {}", wrong["message"], wrong["remedy"]);
    assert!(text.contains("default"), "{text}");
    assert!(text.contains("cert-manager"), "{text}");
    assert!(text.contains("--cluster-resource-namespace"), "{text}");
    // Nothing was sent to the provider for a solver whose Secret is missing.
    assert!(fixture.mock.cloudflare().unwrap().requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn placeholder_key_name() {
    let manifests = r#"apiVersion: cert-manager.io/v1
kind: Issuer
metadata:
  name: letsencrypt
  namespace: apps
spec:
  acme:
    server: https://acme-v02.api.letsencrypt.org/directory
    privateKeySecretRef:
      name: letsencrypt-account
    solvers:
      - dns01:
          cloudflare:
            apiTokenSecretRef:
              name: cloudflare
              key: "<API token>"
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: app
  namespace: apps
spec:
  secretName: app-tls
  dnsNames: ["app.example.com"]
  issuerRef:
    name: letsencrypt
"#
    .to_string()
        + &secret("apps", "cloudflare", "cloudflare-token", TOKEN);
    let fixture = Fixture::new(&scenario(&token_entry(TOKEN, "")), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "app.example.com");
    let missing = finding(check, "SecretKeyNotFound");
    assert_eq!(missing["stage"], "config");
    let text = format!("{} {}", missing["message"], missing["remedy"]);
    assert!(text.contains("cloudflare-token"), "{text}");
    assert!(text.contains("placeholder"), "{text}");
    assert!(!run.all_output().contains(TOKEN), "the token leaked: {:?}", reasons(check));
}

fn chrono_in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An account-owned token fails the user verify endpoint by design; it must
/// be verified through its account and never reported as invalid.
#[tokio::test(flavor = "multi_thread")]
async fn account_owned_token_is_live() {
    for value in [
        // Scannable format: the prefix names the owner.
        "cfat_AccountToken0000000000000000000000000001",
        // Older format: found through the user endpoint rejecting it.
        "AccountTokenNoPrefix00000000000000000001",
    ] {
        let manifests = cluster_issuer(
            "cf",
            "apiTokenSecretRef:\n  name: cf\n  key: api-token",
            "www.example.com",
        ) + &secret("cert-manager", "cf", "api-token", value);
        let token = format!(
            "    - value: \"{value}\"\n      owner: account\n      account: 01a7362d577a6c3019a474fd6f485823\n      status: active\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n"
        );
        let fixture = Fixture::new(&scenario(&token), &manifests).await;
        let run = fixture.check(&[]).await;
        assert_eq!(run.code, 0, "{value}: {}", run.all_output());
        let report = run.json();
        let check = check_for(&report, "www.example.com");
        assert_eq!(check["verdict"], "OK", "{value}: {check:#}");
        assert_eq!(check["credentialState"], "live", "{value}");
        let account_verifies = fixture
            .mock
            .cloudflare()
            .unwrap()
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/accounts/01a7362d577a6c3019a474fd6f485823/tokens/verify"))
            .count();
        assert_eq!(account_verifies, 1, "{value}");
    }
}
