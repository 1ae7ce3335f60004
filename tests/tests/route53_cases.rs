//! Route53 end to end: the binary against the in-process Route53/STS mock
//! and its authoritative DNS. The reported failure cases come first: access
//! denied on the zone lookup or on GetChange, a trimmed newline, a temporary
//! key, a pinned private zone and a role equal to the ambient one. Then
//! each credential mode, and the probe contract under faults and signals.

use acme_token_mock::faults::FaultAction;
use acme_token_mock::route53::{Fault, RecordSet, Step};
use acme_token_mock::{MockServer, Scenario};
use acme_token_tests::{check_for, cli_command, finding, reasons, run_cli_async, Run};
use std::process::Stdio;

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const ALL_ACTIONS: &str = "[route53:ListHostedZonesByName, route53:ChangeResourceRecordSets, route53:GetChange, route53:ListResourceRecordSets, route53:GetHostedZone]";

/// Scenario with public example.com (an A record and an in-flight challenge),
/// a private example.com, and user `dns` with `actions`.
fn scenario(actions: &str, extra: &str) -> String {
    format!(
        r#"route53:
  zones:
    - name: example.com
      id: ZPUBLIC
      records:
        - {{name: www.example.com, type: A, ttl: 300, values: [192.0.2.1]}}
        - {{name: _acme-challenge.www.example.com, type: TXT, ttl: 120, values: ['"in-flight"'], set_identifier: '"in-flight"', multi_value: true}}
        - {{name: _acme-challenge.legacy.example.com, type: TXT, ttl: 300, values: ['"simple"']}}
        - {{name: legacy.example.com, type: A, ttl: 300, values: [192.0.2.2]}}
    - {{name: example.com, id: ZPRIVATE, private: true}}
  users:
    - name: dns
      access_key_id: {KEY_ID}
      secret_access_key: {SECRET}
      policy:
        - actions: {actions}
{extra}"#
    )
}

fn issuer(stanza: &str, domain: &str) -> String {
    let stanza: String = stanza
        .lines()
        .map(|line| format!("            {line}\n"))
        .collect();
    format!(
        r#"apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: r53
spec:
  acme:
    server: https://acme-staging-v02.api.letsencrypt.org/directory
    privateKeySecretRef:
      name: r53-account
    solvers:
      - dns01:
          route53:
{stanza}---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: www
  namespace: default
spec:
  secretName: www-tls
  dnsNames: ["{domain}"]
  issuerRef:
    kind: ClusterIssuer
    name: r53
"#
    )
}

fn secret(key_id: &str, secret: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: aws\n  namespace: cert-manager\ntype: Opaque\nstringData:\n  access-key-id: \"{key_id}\"\n  secret-access-key: \"{secret}\"\n"
    )
}

const STATIC_KEYS: &str = "region: eu-west-1\naccessKeyIDSecretRef: {name: aws, key: access-key-id}\nsecretAccessKeySecretRef: {name: aws, key: secret-access-key}";

struct Fixture {
    mock: MockServer,
    dir: tempfile::TempDir,
}

impl Fixture {
    async fn new(scenario: &str, manifests: &str) -> Fixture {
        let scenario = Scenario::from_yaml(scenario).expect("scenario parses");
        let mock = MockServer::start(scenario).await.expect("mock starts");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("manifests.yaml"), manifests).expect("write manifests");
        Fixture { mock, dir }
    }

    fn args(&self, extra: &[&str]) -> Vec<String> {
        let url = self.mock.route53_url().expect("route53 section");
        let dns = self
            .mock
            .route53()
            .and_then(|m| m.dns_addr())
            .expect("dns started");
        let mut args: Vec<String> = vec![
            "check".into(),
            "-f".into(),
            self.dir.path().join("manifests.yaml").display().to_string(),
            "-o".into(),
            "json".into(),
            "--timeout".into(),
            "3s".into(),
            "--endpoint".into(),
            format!("route53={url}"),
            "--endpoint".into(),
            format!("sts={url}"),
            "--dns01-recursive-nameservers".into(),
            dns.to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        args
    }

    async fn check(&self, extra: &[&str]) -> Run {
        run_cli_async(self.args(extra), Vec::new()).await
    }

    async fn check_with_env(&self, extra: &[&str], env: &[(&str, &str)]) -> Run {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        run_cli_async(self.args(extra), env).await
    }

    fn public_sets(&self) -> Vec<RecordSet> {
        self.mock.route53().unwrap().record_sets("ZPUBLIC")
    }

    fn steps(&self) -> Vec<Step> {
        self.mock
            .route53()
            .unwrap()
            .requests()
            .iter()
            .map(|r| r.step)
            .collect()
    }
}

fn initial_sets() -> Vec<RecordSet> {
    let scenario = Scenario::from_yaml(&scenario(ALL_ACTIONS, "")).unwrap();
    let zone = &scenario.route53.unwrap().zones[0];
    zone.records
        .iter()
        .map(|r| RecordSet {
            name: format!("{}.", r.name),
            record_type: r.record_type.clone(),
            ttl: r.ttl,
            values: r.values.clone(),
            set_identifier: r.set_identifier.clone(),
            multi_value: r.multi_value,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn static_keys_pass_and_leave_zone_unchanged() {
    let manifests = issuer(STATIC_KEYS, "www.example.com") + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let stages = check["stages"].as_array().unwrap();
    let zone = stages.iter().find(|s| s["stage"] == "zone").unwrap();
    assert_eq!(zone["facts"]["zoneId"], "ZPUBLIC");
    assert_eq!(zone["facts"]["soaZone"], "example.com.");
    assert!(zone["facts"]["nameservers"]
        .as_str()
        .unwrap()
        .starts_with("127.0.0.1:"));
    let write = stages.iter().find(|s| s["stage"] == "write").unwrap();
    assert_eq!(write["facts"]["ttl"], "10");
    assert!(write["facts"]["changeStatus"]
        .as_str()
        .unwrap()
        .starts_with("INSYNC"));
    let credential = stages.iter().find(|s| s["stage"] == "credential").unwrap();
    assert_eq!(
        credential["facts"]["principalArn"],
        "arn:aws:iam::123456789012:user/dns"
    );
    assert_eq!(fixture.public_sets(), initial_sets());

    let steps = fixture.steps();
    let changes = steps
        .iter()
        .filter(|s| **s == Step::ChangeResourceRecordSets)
        .count();
    assert_eq!(changes, 2, "UPSERT and DELETE: {steps:?}");
    assert_eq!(steps.len(), 8, "{steps:?}");
    assert_eq!(check["requests"], 8);
}

#[tokio::test(flavor = "multi_thread")]
async fn zone_lookup_denied() {
    let manifests = issuer(STATIC_KEYS, "www.example.com") + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(
        &scenario("[route53:ChangeResourceRecordSets, route53:GetChange]", ""),
        &manifests,
    )
    .await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let missing = finding(check, "PermissionMissing");
    assert_eq!(missing["stage"], "zone");
    assert!(
        missing["message"]
            .as_str()
            .unwrap()
            .contains("route53:ListHostedZonesByName"),
        "{missing}"
    );
    assert!(
        missing["remedy"].as_str().unwrap().contains("hostedZoneID"),
        "{missing}"
    );
    assert_eq!(missing["evidence"]["providerCode"], "AccessDenied");
    assert_eq!(missing["evidence"]["httpStatus"], 403);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_change_denied_still_deletes() {
    let manifests = issuer(STATIC_KEYS, "www.example.com") + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(
        &scenario(
            "[route53:ListHostedZonesByName, route53:ChangeResourceRecordSets]",
            "",
        ),
        &manifests,
    )
    .await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let missing: Vec<&serde_json::Value> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["reason"] == "PermissionMissing")
        .collect();
    assert_eq!(
        missing.len(),
        1,
        "ListResourceRecordSets must not be a PermissionMissing: {missing:?}"
    );
    assert_eq!(missing[0]["stage"], "write");
    let message = missing[0]["message"].as_str().unwrap();
    assert!(message.contains("route53:GetChange"), "{message}");
    assert!(message.contains("arn:aws:route53:::change/*"), "{message}");
    assert!(
        !reasons(check)
            .iter()
            .any(|r| r.starts_with("ProbeLeftover")),
        "{:?}",
        reasons(check)
    );
    assert_eq!(fixture.public_sets(), initial_sets());
}

#[tokio::test(flavor = "multi_thread")]
async fn trimmed_newline_is_warning() {
    let manifests =
        issuer(STATIC_KEYS, "www.example.com") + &secret(KEY_ID, &format!("{SECRET}\\n"));
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let whitespace = finding(check, "SecretWhitespace");
    assert_eq!(whitespace["severity"], "warning");
    assert_eq!(whitespace["stage"], "config");
}

#[tokio::test(flavor = "multi_thread")]
async fn untrimmed_secret_fails_signature() {
    // The mock checks signatures, so a wrong secret is SignatureDoesNotMatch.
    let manifests = issuer(STATIC_KEYS, "www.example.com")
        + &secret(KEY_ID, "not-the-secret-access-key-0000000000000");
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let invalid = finding(check, "AuthInvalid");
    assert_eq!(invalid["evidence"]["providerCode"], "SignatureDoesNotMatch");
}

#[tokio::test(flavor = "multi_thread")]
async fn temporary_key_without_session() {
    let manifests =
        issuer(STATIC_KEYS, "www.example.com") + &secret("ASIAIOSFODNN7EXAMPLE", SECRET);
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let temporary = finding(check, "TemporaryCredentialsWithoutSession");
    assert_eq!(temporary["stage"], "config");
    let remedy = temporary["remedy"].as_str().unwrap();
    assert!(remedy.contains("role"), "{remedy}");
    assert!(remedy.contains("IRSA"), "{remedy}");
    let invalid = finding(check, "AuthInvalid");
    assert_eq!(invalid["evidence"]["providerCode"], "InvalidClientTokenId");
}

#[tokio::test(flavor = "multi_thread")]
async fn pinned_private_zone() {
    let stanza = format!("{STATIC_KEYS}\nhostedZoneID: ZPRIVATE");
    let manifests = issuer(&stanza, "www.example.com") + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let private = finding(check, "ZonePrivate");
    assert_eq!(private["stage"], "zone");
    assert!(
        private["remedy"].as_str().unwrap().contains("public"),
        "{private}"
    );
    let steps = fixture.steps();
    assert!(
        !steps.contains(&Step::ListHostedZonesByName),
        "a pinned zone skips the lookup: {steps:?}"
    );
    assert!(
        !steps.contains(&Step::ChangeResourceRecordSets),
        "nothing is written to a private zone: {steps:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn role_equal_to_ambient_role() {
    let extra = "  roles:\n    - name: dns-role\n      trust: [dns]\n      policy:\n        - actions: [route53:*]\n  sessions:\n    - {role: dns-role, access_key_id: ASIAPODSESSION000001, secret_access_key: pod-secret-0000000000000000000000000000, session_token: pod-token}\n";
    let stanza = "region: eu-west-1\nrole: arn:aws:iam::123456789012:role/dns-role";
    let manifests = issuer(stanza, "www.example.com");
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, extra), &manifests).await;
    let run = fixture
        .check_with_env(
            &[],
            &[
                ("AWS_ACCESS_KEY_ID", "ASIAPODSESSION000001"),
                (
                    "AWS_SECRET_ACCESS_KEY",
                    "pod-secret-0000000000000000000000000000",
                ),
                ("AWS_SESSION_TOKEN", "pod-token"),
                ("AWS_CONFIG_FILE", "/nonexistent"),
                ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
            ],
        )
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let denied = finding(check, "AssumeRoleDenied");
    assert_eq!(denied["stage"], "credential");
    assert!(
        denied["message"]
            .as_str()
            .unwrap()
            .contains("can be removed"),
        "{denied}"
    );
    assert!(
        denied["remedy"].as_str().unwrap().contains("remove role"),
        "{denied}"
    );
    assert!(
        reasons(check).iter().any(|r| r == "Notice@config/warning"),
        "ambient warning: {:?}",
        reasons(check)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn role_assumed_from_static_keys() {
    let extra = "  roles:\n    - name: dns-role\n      trust: [dns]\n      policy:\n        - actions: [\"route53:*\"]\n";
    let stanza = format!("{STATIC_KEYS}\nrole: arn:aws:iam::123456789012:role/dns-role");
    let manifests = issuer(&stanza, "www.example.com") + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(&scenario("[sts:AssumeRole]", extra), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let credential = check["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "credential")
        .unwrap();
    assert_eq!(
        credential["facts"]["principalArn"],
        "arn:aws:sts::123456789012:assumed-role/dns-role/cert-manager"
    );
    assert_eq!(fixture.public_sets(), initial_sets());
}

#[tokio::test(flavor = "multi_thread")]
async fn web_identity_with_token_file() {
    let extra = "  roles:\n    - name: dns-role\n      web_identity: true\n      web_identity_tokens: [eyJhbGciOiJSUzI1NiJ9.test-token]\n      policy:\n        - actions: [\"route53:*\"]\n";
    let stanza = "region: eu-west-1\nrole: arn:aws:iam::123456789012:role/dns-role\nauth:\n  kubernetes:\n    serviceAccountRef:\n      name: cert-manager-route53";
    let manifests = issuer(stanza, "www.example.com");
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, extra), &manifests).await;
    let token = fixture.dir.path().join("token");
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.test-token\n").unwrap();
    let token = token.display().to_string();
    let run = fixture.check(&["--web-identity-token-file", &token]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let steps = fixture.steps();
    assert_eq!(steps[0], Step::AssumeRoleWithWebIdentity, "{steps:?}");

    let without = fixture.check(&[]).await;
    let report = without.json();
    let check = check_for(&report, "www.example.com");
    let notice = finding(check, "Notice");
    assert!(
        notice["remedy"]
            .as_str()
            .unwrap()
            .contains("kubectl create token"),
        "{notice}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn issuer_ambient_needs_flag() {
    let manifests = issuer("region: eu-west-1", "www.example.com")
        .replace(
            "kind: ClusterIssuer\nmetadata:\n  name: r53",
            "kind: Issuer\nmetadata:\n  name: r53\n  namespace: default",
        )
        .replace(
            "kind: ClusterIssuer\n    name: r53",
            "kind: Issuer\n    name: r53",
        );
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let invalid = finding(check, "InvalidConfig");
    assert!(
        invalid["message"]
            .as_str()
            .unwrap()
            .contains("empty credentials"),
        "{invalid}"
    );
    assert!(fixture.steps().is_empty(), "no request without credentials");
}

#[tokio::test(flavor = "multi_thread")]
async fn simple_routing_record_conflicts() {
    let manifests = issuer(STATIC_KEYS, "legacy.example.com") + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "legacy.example.com");
    let conflict = finding(check, "RecordConflict");
    assert_eq!(conflict["stage"], "write");
    assert!(
        conflict["message"]
            .as_str()
            .unwrap()
            .contains("simple-routing"),
        "{conflict}"
    );
    assert_eq!(fixture.public_sets(), initial_sets());
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_region_is_reported() {
    let manifests = issuer(
        &STATIC_KEYS.replace("region: eu-west-1\n", ""),
        "www.example.com",
    ) + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    assert_eq!(finding(check, "RegionMissing")["severity"], "error");
}

async fn run_with_fault(fault: &str) -> (Fixture, Run) {
    let manifests = issuer(STATIC_KEYS, "www.example.com") + &secret(KEY_ID, SECRET);
    let extra = format!("  faults:\n{fault}");
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, &extra), &manifests).await;
    let run = fixture.check(&[]).await;
    (fixture, run)
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_throttling_is_retried() {
    let (fixture, run) =
        run_with_fault("    - {step: list_hosted_zones_by_name, action: rate_limit}\n").await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(fixture.public_sets(), initial_sets());
}

#[tokio::test(flavor = "multi_thread")]
async fn persistent_throttling_is_rate_limited() {
    let (fixture, run) =
        run_with_fault("    - {step: get_change, times: 0, action: rate_limit}\n").await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let limited = finding(check, "RateLimited");
    assert_eq!(limited["evidence"]["providerCode"], "Throttling");
    assert_eq!(
        fixture.public_sets(),
        initial_sets(),
        "the DELETE still ran"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn upsert_error_after_apply_is_cleaned() {
    let (fixture, run) = run_with_fault(
        "    - {step: change_resource_record_sets, times: 3, action: {apply_then_status: 500}}\n",
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert_eq!(fixture.public_sets(), initial_sets());
}

#[tokio::test(flavor = "multi_thread")]
async fn upsert_reset_is_cleaned() {
    let (fixture, run) =
        run_with_fault("    - {step: change_resource_record_sets, action: reset}\n").await;
    assert_eq!(
        fixture.public_sets(),
        initial_sets(),
        "{}",
        run.all_output()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_denied_reports_leftover() {
    let manifests = issuer(STATIC_KEYS, "www.example.com") + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
    fixture.mock.route53().unwrap().add_fault(
        Fault::new(Step::ChangeResourceRecordSets, FaultAction::status(403))
            .nth(2)
            .times(0),
    );
    let run = fixture.check(&[]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    let leftover = finding(check, "ProbeLeftover");
    assert!(
        leftover["remedy"].as_str().unwrap().contains("cleanup"),
        "{leftover}"
    );
}

async fn interrupt_during_wait(signal: &str) {
    let manifests = issuer(STATIC_KEYS, "www.example.com") + &secret(KEY_ID, SECRET);
    let fixture = Fixture::new(
        &scenario(ALL_ACTIONS, "  insync_after_ms: 60000\n"),
        &manifests,
    )
    .await;
    let mut command = cli_command();
    command
        .args(fixture.args(&[]))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let child = command.spawn().expect("start the CLI");
    let pid = child.id();
    let route53 = fixture.mock.route53().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !route53.requests().iter().any(|r| r.step == Step::GetChange) {
        assert!(std::time::Instant::now() < deadline, "no GetChange seen");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let sent = std::process::Command::new("kill")
        .args(["-s", signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(fixture.public_sets(), initial_sets());
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_during_wait_cleans_up() {
    interrupt_during_wait("INT").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_wait_cleans_up() {
    interrupt_during_wait("TERM").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn canary_never_printed() {
    let key_canary = "AKIACANARYKEYID00042";
    let secret_canary = "canary-secret-access-key-0123456789abcdefg";
    let extra = format!("    - name: canary\n      access_key_id: {key_canary}\n      secret_access_key: {secret_canary}\n      policy:\n        - actions: [\"route53:*\"]\n");
    let scenario_text = scenario(ALL_ACTIONS, &extra);
    for (key, secret_value, case) in [
        (key_canary, secret_canary, "valid"),
        (
            key_canary,
            "wrong-canary-secret-0000000000000000000000",
            "bad secret",
        ),
        ("AKIAUNKNOWNCANARY001", secret_canary, "unknown key"),
    ] {
        let manifests =
            issuer(STATIC_KEYS, "www.example.com") + &secret(key, &format!("{secret_value}\\n"));
        let fixture = Fixture::new(&scenario_text, &manifests).await;
        for format in ["json", "wide", "yaml"] {
            let run = fixture.check(&["-o", format, "-vvv"]).await;
            let output = run.all_output();
            for canary in ["CANARY", "canary-secret", "wrong-canary"] {
                assert!(
                    !output.contains(canary),
                    "{case}/{format}: {canary} leaked:\n{output}"
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_stanzas_are_config_errors() {
    for (stanza, expected) in [
        ("region: eu-west-1\nsecretAccessKeySecretRef: {name: aws, key: secret-access-key}", "only one of access and secret key"),
        ("region: eu-west-1\naccessKeyID: AKIAIOSFODNN7EXAMPLE", "only one of access and secret key"),
        ("region: eu-west-1\nrole: dns-role", "not an IAM role ARN"),
        ("region: eu-west-1\naccessKeyID: AKIAIOSFODNN7EXAMPLE\naccessKeyIDSecretRef: {name: aws, key: access-key-id}", "cannot both be specified"),
        ("region: eu-west-1\nauth: {kubernetes: {serviceAccountRef: {name: sa}}}", "role must be set"),
    ] {
        let manifests = issuer(stanza, "www.example.com") + &secret(KEY_ID, SECRET);
        let fixture = Fixture::new(&scenario(ALL_ACTIONS, ""), &manifests).await;
        let run = fixture.check(&[]).await;
        assert_eq!(run.code, 1, "{stanza}: {}", run.all_output());
        assert!(run.stdout.contains(expected), "{stanza}: expected {expected:?} in\n{}", run.stdout);
        assert!(!run.all_output().contains("panicked"), "{}", run.all_output());
    }
    let bad_flag = run_cli_async(
        vec![
            "check".into(),
            "-f".into(),
            "/nonexistent".into(),
            "--endpoint".into(),
            "sts=not a url".into(),
        ],
        Vec::new(),
    )
    .await;
    assert_eq!(bad_flag.code, 2, "{}", bad_flag.all_output());
}
