//! `check --candidate`: the candidate runs the issuer's solver in place of
//! the in-cluster credential, both are compared, and the exit code follows
//! the candidate.

mod common;

use acme_token_tests::{reasons, run_cli_async, Run};
use common::{cluster_issuer, secret, Fixture, TOKEN, ZONES};
use serde_json::Value;

/// A second valid-looking token: the candidate.
const NEW_TOKEN: &str = "NewT0kenABCDEFGHIJKLMNOPQRSTUVWXYZabcdef2";
/// A token the candidate tests must never see in any output.
const CANARY: &str = "CANARYcanary0123456789CANARYcanary012345";

fn token(value: &str, extra: &str) -> String {
    format!(
        "    - value: \"{value}\"\n      owner: user\n      status: active\n      permissions: [\"Zone:Read\", \"DNS:Edit\"]\n      zones: all\n{extra}"
    )
}

fn scenario(tokens: &str) -> String {
    format!("cloudflare:{ZONES}  tokens:\n{tokens}")
}

fn manifests(in_cluster: &str) -> String {
    cluster_issuer(
        "cf",
        "apiTokenSecretRef:\n  name: cf\n  key: api-token",
        "www.example.com",
    ) + &secret("cert-manager", "cf", "api-token", in_cluster)
        + "---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: cf-sync\n  namespace: cert-manager\nspec:\n  secretStoreRef: {kind: ClusterSecretStore, name: vault}\n  target: {name: cf}\n  data:\n    - secretKey: api-token\n      remoteRef: {key: dns/cloudflare}\n"
}

async fn check_with_candidate(fixture: &Fixture, candidate: &str, extra: &[&str]) -> Run {
    let mut args: Vec<String> = [
        "check",
        "-f",
        fixture.manifests().to_str().unwrap(),
        "-o",
        "json",
        "--timeout",
        "2s",
        "--endpoint",
        &format!("cloudflare={}", fixture.cloudflare_url()),
        "--candidate",
        candidate,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    run_cli_async(args, vec![("CF_NEXT".into(), NEW_TOKEN.into())]).await
}

fn entry<'a>(report: &'a Value, role: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["role"] == role)
        .unwrap_or_else(|| panic!("no {role} entry:\n{report:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn revoked_in_cluster_is_stale() {
    let tokens = token(TOKEN, "      revoked: true\n") + &token(NEW_TOKEN, "");
    let fixture = Fixture::new(&scenario(&tokens), &manifests(TOKEN)).await;
    let before = fixture.mock.cloudflare().unwrap().all_records();
    let run = check_with_candidate(&fixture, "env:CF_NEXT", &["--cluster-issuer", "cf"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();

    let in_cluster = entry(&report, "in-cluster");
    assert_eq!(in_cluster["verdict"], "FAIL");
    assert_eq!(in_cluster["credentialState"], "stale");
    assert_eq!(in_cluster["findings"][0]["reason"], "StaleCredential", "{in_cluster:#}");
    assert!(reasons(in_cluster).iter().any(|r| r.starts_with("AuthInvalid")), "{in_cluster:#}");
    let remedy = in_cluster["findings"][0]["remedy"].as_str().unwrap();
    assert!(
        remedy.contains("kubectl annotate externalsecret cf-sync -n cert-manager force-sync=$(date +%s) --overwrite"),
        "{remedy}"
    );

    let candidate = entry(&report, "candidate");
    assert_eq!(candidate["verdict"], "OK", "{candidate:#}");
    assert_eq!(candidate["context"]["candidate"], "env:CF_NEXT");

    let rotation = &report["rotation"][0];
    assert_eq!(rotation["outcome"], "stale");
    assert_eq!(rotation["differs"], true);
    assert_eq!(rotation["inCluster"]["verdict"], "FAIL");
    assert_eq!(rotation["candidate"]["verdict"], "OK");
    assert!(rotation["candidate"]["identity"]["tokenId"].is_string(), "{rotation:#}");
    assert_ne!(
        rotation["inCluster"]["credentials"][0]["fingerprint"],
        rotation["candidate"]["credentials"][0]["fingerprint"]
    );
    assert_eq!(before, fixture.mock.cloudflare().unwrap().all_records());
}

#[tokio::test(flavor = "multi_thread")]
async fn both_passing_is_rotation_pending() {
    let tokens = token(TOKEN, "") + &token(NEW_TOKEN, "");
    let fixture = Fixture::new(&scenario(&tokens), &manifests(TOKEN)).await;
    let run = check_with_candidate(&fixture, "apiTokenSecretRef=env:CF_NEXT", &["--cluster-issuer", "cf"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    assert_eq!(report["rotation"][0]["outcome"], "rotationPending", "{report:#}");
    assert_ne!(
        report["rotation"][0]["inCluster"]["identity"]["tokenId"],
        report["rotation"][0]["candidate"]["identity"]["tokenId"]
    );
    let candidate = entry(&report, "candidate");
    assert!(
        reasons(candidate).contains(&"Notice@credential/info".to_string()),
        "{candidate:#}"
    );
    assert_eq!(entry(&report, "in-cluster")["verdict"], "OK");
}

#[tokio::test(flavor = "multi_thread")]
async fn same_value_is_already_in_place() {
    let fixture = Fixture::new(&scenario(&token(TOKEN, "")), &manifests(TOKEN)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("candidate");
    std::fs::write(&file, TOKEN).unwrap();
    let run = check_with_candidate(&fixture, &format!("file:{}", file.display()), &["--cluster-issuer", "cf"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert_eq!(run.json()["rotation"][0]["outcome"], "alreadyInPlace");
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_candidate_blocks_with_exit_one() {
    // The in-cluster token works; the candidate lacks DNS:Edit.
    let tokens = token(TOKEN, "") + &token(NEW_TOKEN, "").replace("[\"Zone:Read\", \"DNS:Edit\"]", "[\"Zone:Read\"]");
    let fixture = Fixture::new(&scenario(&tokens), &manifests(TOKEN)).await;
    let run = check_with_candidate(&fixture, "env:CF_NEXT", &["--cluster-issuer", "cf"]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    assert_eq!(report["rotation"][0]["outcome"], "blocked", "{report:#}");
    assert_eq!(entry(&report, "in-cluster")["verdict"], "OK");
    assert_eq!(entry(&report, "candidate")["verdict"], "FAIL");
    let message = report["rotation"][0]["message"].as_str().unwrap();
    assert!(message.starts_with("do not roll out the candidate"), "{message}");
    assert!(!reasons(entry(&report, "in-cluster")).iter().any(|r| r.starts_with("StaleCredential")));
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_selects_solvers_in_files() {
    let tokens = token(TOKEN, "      revoked: true\n") + &token(NEW_TOKEN, "");
    let other = cluster_issuer(
        "other",
        "apiTokenSecretRef:\n  name: other\n  key: api-token",
        "api.example.com",
    ) + &secret("cert-manager", "other", "api-token", TOKEN);
    let fixture = Fixture::new(&scenario(&tokens), &format!("{}---\n{other}", manifests(TOKEN))).await;
    let run = check_with_candidate(&fixture, "env:CF_NEXT", &["--secret", "cert-manager/cf"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let issuers: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["issuer"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(issuers, vec!["cf", "cf"], "{report:#}");

    let none = check_with_candidate(&fixture, "env:CF_NEXT", &["--secret", "cert-manager/absent"]).await;
    assert_eq!(none.code, 2, "{}", none.all_output());
    assert!(none.stderr.contains("no solver in the input reads Secret cert-manager/absent"), "{}", none.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn table_shows_both_roles() {
    let tokens = token(TOKEN, "      revoked: true\n") + &token(NEW_TOKEN, "");
    let fixture = Fixture::new(&scenario(&tokens), &manifests(TOKEN)).await;
    let run = check_with_candidate(&fixture, "env:CF_NEXT", &["--cluster-issuer", "cf", "-o", "table"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let lines: Vec<&str> = run.stdout.lines().collect();
    let role_of = |line: &&&str| line.split_whitespace().nth(2).map(str::to_string);
    let in_cluster = lines
        .iter()
        .find(|l| role_of(l).as_deref() == Some("in-cluster"))
        .expect("in-cluster line");
    assert!(in_cluster.contains("FAIL") && in_cluster.contains("StaleCredential"), "{}", run.stdout);
    let candidate = lines
        .iter()
        .find(|l| role_of(l).as_deref() == Some("candidate"))
        .expect("candidate line");
    assert!(candidate.trim_start().starts_with("OK"), "{}", run.stdout);
    assert!(run.stdout.contains("rotation:\n"), "{}", run.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_candidate_field_fails_config() {
    let tokens = token(TOKEN, "") + &token(NEW_TOKEN, "");
    let fixture = Fixture::new(&scenario(&tokens), &manifests(TOKEN)).await;
    let run = check_with_candidate(&fixture, "secretAccessKeySecretRef=env:CF_NEXT", &["--cluster-issuer", "cf"]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let candidate = entry(&report, "candidate");
    let message = candidate["findings"][0]["message"].as_str().unwrap();
    assert!(message.contains("it reads: apiTokenSecretRef"), "{message}");
    // No request may use the in-cluster value in the candidate's place.
    assert_eq!(candidate["requests"], 0, "{candidate:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn candidate_usage_errors_exit_two() {
    let fixture = Fixture::new(&scenario(&token(TOKEN, "")), &manifests(TOKEN)).await;
    let cases: [(&[&str], &str); 3] = [
        (&[], "--candidate needs the solvers"),
        (&["--cluster-issuer", "cf", "--offline"], "drop --offline"),
        (&["--cluster-issuer", "cf", "--secret", "nonamespace"], "expected NAMESPACE/NAME"),
    ];
    for (extra, expected) in cases {
        let run = check_with_candidate(&fixture, "env:CF_NEXT", extra).await;
        assert_eq!(run.code, 2, "{extra:?}: {}", run.all_output());
        assert!(run.stderr.contains(expected), "{extra:?}: {}", run.stderr);
    }
    let missing = check_with_candidate(&fixture, "env:ACME_TOKEN_TEST_SURELY_UNSET", &["--cluster-issuer", "cf"]).await;
    assert_eq!(missing.code, 2, "{}", missing.all_output());
    assert!(missing.stderr.contains("ACME_TOKEN_TEST_SURELY_UNSET"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn candidate_value_never_printed() {
    let tokens = token(TOKEN, "      revoked: true\n") + &token(CANARY, "");
    let fixture = Fixture::new(&scenario(&tokens), &manifests(TOKEN)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("candidate");
    std::fs::write(&file, format!("{CANARY}\n")).unwrap();
    for format in ["table", "wide", "json", "yaml"] {
        for source in [format!("file:{}", file.display()), "env:CF_CANARY".to_string()] {
            let mut args: Vec<String> = [
                "check", "-f", fixture.manifests().to_str().unwrap(), "--endpoint",
                &format!("cloudflare={}", fixture.cloudflare_url()), "--cluster-issuer", "cf",
                "--candidate", &source, "-o", format, "-vvv",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect();
            args.push("--timeout".into());
            args.push("2s".into());
            let run = run_cli_async(args, vec![("CF_CANARY".into(), CANARY.into())]).await;
            assert_ne!(run.code, 2, "{source} -o {format}: {}", run.all_output());
            let output = run.all_output();
            assert!(!output.contains(CANARY), "{source} -o {format}: the candidate leaked:\n{output}");
            assert!(!output.contains(&CANARY[4..24]), "{source} -o {format}: part of the candidate leaked");
        }
    }
}
