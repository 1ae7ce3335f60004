//! `check` against the mock Kubernetes API server and the mock Cloudflare
//! API, and the real kubectl against the same mock.
//!
//! Every run gets a generated kubeconfig pointing at the mock on 127.0.0.1,
//! a temporary HOME, and no in-cluster variables, so nothing can reach a
//! real cluster.

use acme_token_mock::kubernetes::KubeRequest;
use acme_token_mock::{MockServer, Scenario};
use acme_token_tests::{binary, check_for, finding, isolate_from_clusters, require_peer, Run};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const HEALTHY_TOKEN: &str = "HealthyT0kenABCDEFGHIJKLMNOPQRSTUVWXYZab";
const READ_ONLY_TOKEN: &str = "ReadOnlyT0kenABCDEFGHIJKLMNOPQRSTUVWXYZa";

fn scenario_text() -> String {
    std::fs::read_to_string(acme_token_tests::fixtures().join("cluster/scenario.yaml"))
        .expect("read the cluster scenario")
}

/// The mock cluster and mock Cloudflare, a kubeconfig with one context per
/// scenario token, and a directory with the plugin binaries for PATH.
struct Cluster {
    mock: MockServer,
    dir: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> Cluster {
        Cluster::from_scenario(&scenario_text()).await
    }

    async fn from_scenario(text: &str) -> Cluster {
        let scenario = Scenario::from_yaml(text).expect("scenario parses");
        let mock = MockServer::start(scenario).await.expect("mock starts");
        let dir = tempfile::tempdir().expect("temp dir");
        let server = mock.kubernetes_url().expect("kubernetes section");
        std::fs::write(dir.path().join("kubeconfig"), kubeconfig(&server)).expect("write kubeconfig");
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).expect("bin dir");
        for name in ["kubectl-acme_token", "kubectl_complete-acme_token"] {
            std::os::unix::fs::symlink(binary(name), bin.join(name)).expect("link plugin binary");
        }
        Cluster { mock, dir }
    }

    fn kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubeconfig")
    }

    fn cloudflare_endpoint(&self) -> String {
        format!("cloudflare={}", self.mock.cloudflare_url().expect("cloudflare section"))
    }

    fn requests(&self) -> Vec<KubeRequest> {
        self.mock.kubernetes().expect("kubernetes section").requests()
    }

    /// Sets the environment every command gets: the generated kubeconfig,
    /// a temporary HOME, and PATH with the plugin first.
    fn environment(&self, command: &mut Command) {
        isolate_from_clusters(command);
        command.env("KUBECONFIG", self.kubeconfig());
        command.env("HOME", self.dir.path());
        command.env("NO_PROXY", "127.0.0.1,localhost,::1");
        for key in ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"] {
            command.env_remove(key);
        }
        let path = std::env::var("PATH").unwrap_or_default();
        command.env("PATH", format!("{}:{path}", self.dir.path().join("bin").display()));
    }

    /// Runs the plugin binary with `args` on a blocking thread.
    async fn check(&self, args: &[&str]) -> Run {
        let mut command = Command::new(binary("kubectl-acme_token"));
        self.environment(&mut command);
        command.arg("check").args(args).arg("--endpoint").arg(self.cloudflare_endpoint());
        command.args(["--timeout", "5s"]);
        run(command).await
    }

    /// Runs the real kubectl with `--kubeconfig` and `args`.
    async fn kubectl(&self, args: &[&str]) -> Run {
        let mut command = Command::new(kubectl_path().expect("kubectl checked first"));
        self.environment(&mut command);
        command.arg("--kubeconfig").arg(self.kubeconfig()).args(args);
        run(command).await
    }

    /// Runs `kubectl acme-token ARGS`. kubectl finds a plugin only when
    /// its name comes first, so the kubeconfig is passed in KUBECONFIG.
    async fn kubectl_plugin(&self, args: &[&str]) -> Run {
        let mut command = Command::new(kubectl_path().expect("kubectl checked first"));
        self.environment(&mut command);
        command.arg("acme-token").args(args);
        run(command).await
    }
}

async fn run(mut command: Command) -> Run {
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    tokio::task::spawn_blocking(move || {
        let output = command.output().expect("start the command");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    })
    .await
    .expect("command thread")
}

fn kubeconfig(server: &str) -> String {
    let mut text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: admin\nclusters:\n- name: mock\n  cluster:\n    server: {server}\n- name: closed\n  cluster:\n    server: http://127.0.0.1:1\nusers:\n"
    );
    let users = [
        ("admin", "admin-token"),
        ("checker", "checker-token"),
        ("no-secrets", "no-secrets-token"),
        ("expired", "expired-token"),
    ];
    for (user, token) in users {
        text.push_str(&format!("- name: {user}\n  user:\n    token: {token}\n"));
    }
    text.push_str("contexts:\n");
    for (user, _) in users {
        text.push_str(&format!(
            "- name: {user}\n  context:\n    cluster: mock\n    user: {user}\n    namespace: cert-manager\n"
        ));
    }
    text.push_str("- name: closed\n  context:\n    cluster: closed\n    user: admin\n");
    text
}

fn kubectl_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join("kubectl"))
        .find(|candidate| candidate.is_file())
}

fn kubectl_available() -> bool {
    require_peer(kubectl_path().is_some(), "kubectl")
}

fn assert_no_secret_values(run: &Run) {
    let output = run.all_output();
    for value in [HEALTHY_TOKEN, READ_ONLY_TOKEN, "do-not-read-0000"] {
        assert!(!output.contains(value), "a Secret value leaked into the output:\n{output}");
    }
}

fn secret_reads(requests: &[KubeRequest]) -> Vec<String> {
    requests
        .iter()
        .filter(|request| request.path.contains("/secrets"))
        .map(|request| request.path.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_get_shows_objects() {
    if !kubectl_available() {
        return;
    }
    let cluster = Cluster::start().await;
    let run = cluster
        .kubectl(&["get", "issuers,clusterissuers,certificates,secrets", "-A"])
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    for name in [
        "issuer.cert-manager.io/team-a",
        "clusterissuer.cert-manager.io/letsencrypt-prod",
        "certificate.cert-manager.io/www",
        "certificate.cert-manager.io/app",
        "secret/cloudflare-api-token",
        "secret/cloudflare-readonly",
    ] {
        assert!(run.stdout.contains(name), "{name} missing:\n{}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_reads_secret_and_resources() {
    if !kubectl_available() {
        return;
    }
    let cluster = Cluster::start().await;
    let secret = cluster
        .kubectl(&["get", "secret", "-n", "team-a", "cloudflare-readonly", "-o", "jsonpath={.data.api-token}"])
        .await;
    assert_eq!(secret.code, 0, "{}", secret.all_output());
    assert_eq!(secret.stdout, "UmVhZE9ubHlUMGtlbkFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaYQ==");

    let resources = cluster.kubectl(&["api-resources"]).await;
    assert_eq!(resources.code, 0, "{}", resources.all_output());
    assert!(resources.stdout.contains("externalsecrets"), "{}", resources.stdout);
    assert!(resources.stdout.contains("cert,certs"), "{}", resources.stdout);

    let selected = cluster
        .kubectl(&["get", "namespaces", "-l", "kubernetes.io/metadata.name=team-a", "-o", "name"])
        .await;
    assert_eq!(selected.stdout.trim(), "namespace/team-a", "{}", selected.all_output());

    let missing = cluster.kubectl(&["get", "secret", "-n", "team-a", "nope"]).await;
    assert_eq!(missing.code, 1, "{}", missing.all_output());
    assert!(missing.stderr.contains("secrets \"nope\" not found"), "{}", missing.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_plugin_list_finds_plugin() {
    if !kubectl_available() {
        return;
    }
    let cluster = Cluster::start().await;
    let run = cluster.kubectl(&["plugin", "list"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.contains("kubectl-acme_token"), "{}", run.all_output());
}

#[tokio::test(flavor = "multi_thread")]
async fn kubectl_runs_plugin_check() {
    if !kubectl_available() {
        return;
    }
    let cluster = Cluster::start().await;
    let endpoint = cluster.cloudflare_endpoint();
    let run = cluster
        .kubectl_plugin(&["check", "-A", "--endpoint", &endpoint])
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    assert!(run.stdout.contains("OK    www.example.com"), "{}", run.stdout);
    assert!(run.stdout.contains("FAIL  app.example.org"), "{}", run.stdout);
    assert!(run.stdout.contains("(Ready=True (SecretSynced: secret synced))"), "{}", run.stdout);
    assert_no_secret_values(&run);
}

/// Adds a Route53 account whose key lacks `route53:GetChange` and a
/// ClusterIssuer with a Certificate that uses it to the cluster scenario.
fn scenario_with_route53() -> String {
    const EXTRA: &str = r#"
route53:
  zones:
    - name: example.net
  users:
    - name: cert-manager
      access_key_id: AKIAIOSFODNN7EXAMPLE
      secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
      policy:
        - actions: [route53:ListHostedZonesByName, route53:ChangeResourceRecordSets]
objects:
  - apiVersion: cert-manager.io/v1
    kind: ClusterIssuer
    metadata: {name: letsencrypt-route53}
    spec:
      acme:
        server: https://acme-v02.api.letsencrypt.org/directory
        privateKeySecretRef: {name: letsencrypt-route53-account}
        solvers:
          - dns01:
              route53:
                region: eu-west-1
                accessKeyIDSecretRef: {name: route53-credentials, key: access-key-id}
                secretAccessKeySecretRef: {name: route53-credentials, key: secret-access-key}
  - apiVersion: cert-manager.io/v1
    kind: Certificate
    metadata: {name: shop, namespace: shop}
    spec:
      secretName: shop-tls
      dnsNames: [shop.example.net]
      issuerRef: {kind: ClusterIssuer, name: letsencrypt-route53}
  - apiVersion: v1
    kind: Secret
    metadata: {name: route53-credentials, namespace: cert-manager}
    type: Opaque
    stringData:
      access-key-id: AKIAIOSFODNN7EXAMPLE
      secret-access-key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
"#;
    let mut scenario: serde_yaml_ng::Value = serde_yaml_ng::from_str(&scenario_text()).unwrap();
    let extra: serde_yaml_ng::Value = serde_yaml_ng::from_str(EXTRA).unwrap();
    scenario["route53"] = extra["route53"].clone();
    let objects = scenario["kubernetes"]["objects"]
        .as_sequence_mut()
        .expect("objects list");
    objects.extend(extra["objects"].as_sequence().unwrap().iter().cloned());
    serde_yaml_ng::to_string(&scenario).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_all_namespaces_three_providers_verdicts() {
    let cluster = Cluster::from_scenario(&scenario_with_route53()).await;
    let route53 = cluster.mock.route53_url().expect("route53 section");
    let dns = cluster.mock.route53().unwrap().dns_addr().expect("dns server").to_string();
    let run = cluster
        .check(&[
            "-A",
            "-o",
            "json",
            "--endpoint",
            &format!("route53={route53}"),
            "--endpoint",
            &format!("sts={route53}"),
            "--dns01-recursive-nameservers",
            &dns,
        ])
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    assert_eq!(report["checks"].as_array().map(Vec::len), Some(3), "{report:#}");

    assert_eq!(check_for(&report, "www.example.com")["verdict"], "OK");
    let read_only = check_for(&report, "app.example.org");
    assert_eq!(read_only["credentialState"], "read-only", "{read_only:#}");
    let route53_check = check_for(&report, "shop.example.net");
    assert_eq!(route53_check["verdict"], "FAIL", "{route53_check:#}");
    // The key created the record; it lacks GetChange, so it is not read-only.
    assert_eq!(route53_check["credentialState"], "permission-missing", "{route53_check:#}");
    let missing = finding(route53_check, "PermissionMissing");
    assert_eq!(missing["stage"], "write");
    assert!(missing["message"].as_str().unwrap().contains("route53:GetChange"), "{missing:#}");
    assert_no_secret_values(&run);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_all_namespaces_reports_each_issuer() {
    let cluster = Cluster::start().await;
    let run = cluster.check(&["-A", "-o", "json", "-vvv"]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    assert_eq!(report["checks"].as_array().map(Vec::len), Some(2), "{report:#}");

    let healthy = check_for(&report, "www.example.com");
    assert_eq!(healthy["verdict"], "OK", "{healthy:#}");
    assert_eq!(healthy["issuer"]["kind"], "ClusterIssuer");
    assert_eq!(healthy["context"]["externalSecret"], "cert-manager/cloudflare-api-token");
    assert_eq!(healthy["context"]["externalSecretReady"], "True (SecretSynced: secret synced)");

    let read_only = check_for(&report, "app.example.org");
    assert_eq!(read_only["verdict"], "FAIL", "{read_only:#}");
    assert_eq!(read_only["issuer"]["namespace"], "team-a");
    finding(read_only, "PermissionMissing");
    assert_no_secret_values(&run);
}

#[tokio::test(flavor = "multi_thread")]
async fn check_reads_only_referenced_secrets() {
    let cluster = Cluster::start().await;
    let run = cluster.check(&["-A", "--context", "checker", "-o", "json"]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let reads = secret_reads(&cluster.requests());
    assert_eq!(
        reads,
        vec![
            "/api/v1/namespaces/cert-manager/secrets/cloudflare-api-token".to_string(),
            "/api/v1/namespaces/team-a/secrets/cloudflare-readonly".to_string(),
        ],
        "the checker must get each referenced Secret by name and list none"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_flag_selects_its_solvers() {
    let cluster = Cluster::start().await;
    let run = cluster
        .check(&["--context", "checker", "--secret", "cert-manager/cloudflare-api-token", "-o", "json"])
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 1, "{report:#}");
    assert_eq!(checks[0]["domain"], "www.example.com");
    assert_eq!(
        secret_reads(&cluster.requests()),
        vec!["/api/v1/namespaces/cert-manager/secrets/cloudflare-api-token".to_string()]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_flag_unreferenced_exits_2() {
    let cluster = Cluster::start().await;
    let run = cluster.check(&["--secret", "default/unrelated"]).await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("no DNS-01 solver in scope references Secret default/unrelated"), "{}", run.stderr);
    assert!(secret_reads(&cluster.requests()).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn certificate_flag_selects_its_solver() {
    let cluster = Cluster::start().await;
    let run = cluster.check(&["--certificate", "team-a/app", "-o", "json"]).await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 1, "{report:#}");
    assert_eq!(checks[0]["domain"], "app.example.org");
}

#[tokio::test(flavor = "multi_thread")]
async fn rbac_denied_names_rule() {
    let cluster = Cluster::start().await;
    let run = cluster.check(&["-A", "--context", "no-secrets"]).await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    let stderr = &run.stderr;
    assert!(stderr.contains("not allowed to get secrets cloudflare-api-token in namespace cert-manager"), "{stderr}");
    assert!(stderr.contains("403 Forbidden"), "{stderr}");
    assert!(stderr.contains(r#"apiGroups: [""], resources: ["secrets"], verbs: ["get"]"#), "{stderr}");
    assert!(stderr.contains("system:serviceaccount:cert-manager:no-secrets"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_crds_exit_2() {
    let text = scenario_text().replace("kubernetes:\n", "kubernetes:\n  crd_groups: []\n");
    let cluster = Cluster::from_scenario(&text).await;
    let run = cluster.check(&["-A"]).await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("does not serve cert-manager.io/v1"), "{}", run.stderr);
    assert!(run.stderr.contains("CRDs are not installed"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_token_exits_2() {
    let cluster = Cluster::start().await;
    let run = cluster.check(&["-A", "--context", "expired"]).await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("401 Unauthorized"), "{}", run.stderr);
    assert!(run.stderr.contains("kubeconfig context expired"), "{}", run.stderr);
    assert!(!run.all_output().contains("expired-token"), "{}", run.all_output());
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_server_exits_2() {
    let cluster = Cluster::start().await;
    let run = cluster.check(&["-A", "--context", "closed"]).await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("cannot reach the Kubernetes API server at http://127.0.0.1:1"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_context_exits_2() {
    let cluster = Cluster::start().await;
    let run = cluster.check(&["-A", "--context", "nope"]).await;
    assert_eq!(run.code, 2, "{}", run.all_output());
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
    assert!(run.stderr.contains("--context"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn failed_sync_warns_on_solver() {
    let text = scenario_text().replace(
        "            status: \"True\"\n            reason: SecretSynced\n            message: secret synced\n",
        "            status: \"False\"\n            reason: SecretSyncedError\n            message: could not get secret data from provider\n",
    );
    assert_ne!(text, scenario_text(), "the fixture's Ready condition moved");
    let cluster = Cluster::from_scenario(&text).await;
    let run = cluster.check(&["--secret", "cert-manager/cloudflare-api-token", "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    assert_eq!(check["verdict"], "WARN", "{check:#}");
    let warning = finding(check, "ExternalSecretNotReady");
    assert_eq!(warning["severity"], "warning");
    let message = warning["message"].as_str().unwrap_or_default();
    assert!(message.contains("ExternalSecret cert-manager/cloudflare-api-token"), "{message}");
    assert!(message.contains("SecretSyncedError"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn files_with_secrets_from_cluster() {
    let cluster = Cluster::start().await;
    let manifest = cluster.dir.path().join("issuer.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: from-file\nspec:\n  acme:\n    solvers:\n      - dns01:\n          cloudflare:\n            apiTokenSecretRef:\n              name: cloudflare-api-token\n              key: api-token\n",
    )
    .expect("write manifest");
    let manifest = manifest.display().to_string();
    let run = cluster
        .check(&["-f", &manifest, "--secrets-from-cluster", "--domain", "www.example.com", "-o", "json"])
        .await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    assert_eq!(check_for(&report, "www.example.com")["verdict"], "OK", "{report:#}");
    let requests = cluster.requests();
    assert!(
        requests.iter().all(|request| !request.path.contains("cert-manager.io")),
        "issuers come from the file, so none is listed: {requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn files_alone_contact_no_cluster() {
    let cluster = Cluster::start().await;
    let manifest = cluster.dir.path().join("issuer.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: from-file\nspec:\n  acme:\n    solvers:\n      - dns01:\n          cloudflare:\n            apiTokenSecretRef:\n              name: cloudflare-api-token\n              key: api-token\n",
    )
    .expect("write manifest");
    let manifest = manifest.display().to_string();
    let run = cluster.check(&["-f", &manifest, "-o", "json"]).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(cluster.requests().is_empty(), "{:?}", cluster.requests());
}

fn completion_shim(dir: &Path, words: &[&str]) -> Run {
    let mut command = Command::new(dir.join("bin/kubectl_complete-acme_token"));
    isolate_from_clusters(&mut command);
    command.args(words);
    let output = command.output().expect("run the completion shim");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn completion_shim_follows_cobra_protocol() {
    let cluster = Cluster::start().await;
    let run = completion_shim(cluster.dir.path(), &["check", "--sec"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines.iter().any(|line| line.starts_with("--secret\t")), "{}", run.stdout);
    assert_eq!(lines.last(), Some(&":4"), "{}", run.stdout);

    let files = completion_shim(cluster.dir.path(), &["check", "-f", ""]);
    assert_eq!(files.stdout.trim(), ":0", "{}", files.stdout);
}

#[test]
fn completion_scripts_print() {
    for shell in ["bash", "zsh", "fish"] {
        let run = acme_token_tests::run_cli(&["completion", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.all_output());
        assert!(run.stdout.contains("kubectl-acme_token"), "{shell}: {}", run.stdout);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_issuer_finds_certificates_everywhere() {
    // Without -A the context namespace is `default`, yet the ClusterIssuer's
    // Certificate lives in `shop`: it must still be found and probed.
    let cluster = Cluster::from_scenario(&scenario_with_route53()).await;
    let route53 = cluster.mock.route53_url().expect("route53 section");
    let dns = cluster.mock.route53().unwrap().dns_addr().expect("dns server").to_string();
    let run = cluster
        .check(&[
            "--cluster-issuer",
            "letsencrypt-route53",
            "-o",
            "json",
            "--endpoint",
            &format!("route53={route53}"),
            "--endpoint",
            &format!("sts={route53}"),
            "--dns01-recursive-nameservers",
            &dns,
        ])
        .await;
    assert_eq!(run.code, 1, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "shop.example.net");
    assert_eq!(check["verdict"], "FAIL", "{check:#}");
}
