//! Test fixture: a mock provider started in the test process plus a
//! directory of manifests, and a way to run `check` against both.

#![allow(dead_code)]

use acme_token_mock::{MockServer, Scenario};
use acme_token_tests::{run_cli_async, Run};
use std::path::PathBuf;

/// A started mock and the manifests a test checks against it.
pub struct Fixture {
    pub mock: MockServer,
    pub dir: tempfile::TempDir,
}

impl Fixture {
    /// Starts the mock from a scenario and writes the manifests.
    pub async fn new(scenario_yaml: &str, manifests: &str) -> Self {
        let scenario = Scenario::from_yaml(scenario_yaml).expect("test scenario parses");
        let mock = MockServer::start(scenario).await.expect("mock starts");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("manifests.yaml"), manifests).expect("write manifests");
        Self { mock, dir }
    }

    /// Path of the manifests file.
    pub fn manifests(&self) -> PathBuf {
        self.dir.path().join("manifests.yaml")
    }

    /// Cloudflare base URL of the mock.
    pub fn cloudflare_url(&self) -> String {
        self.mock.cloudflare_url().expect("scenario has a cloudflare section")
    }

    /// Runs `check -f manifests -o json --endpoint cloudflare=URL` plus `extra`.
    pub async fn check(&self, extra: &[&str]) -> Run {
        let mut args: Vec<String> = vec![
            "check".into(),
            "-f".into(),
            self.manifests().display().to_string(),
            "-o".into(),
            "json".into(),
            "--timeout".into(),
            "2s".into(),
            "--endpoint".into(),
            format!("cloudflare={}", self.cloudflare_url()),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        run_cli_async(args, Vec::new()).await
    }
}

/// Builds a ClusterIssuer with one Cloudflare solver whose stanza is `stanza`
/// (indented YAML lines under `cloudflare:`), plus a Certificate for `domain`.
pub fn cluster_issuer(name: &str, stanza: &str, domain: &str) -> String {
    let stanza: String = stanza
        .lines()
        .map(|line| format!("            {line}\n"))
        .collect();
    format!(
        r#"apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata:
  name: {name}
spec:
  acme:
    server: https://acme-staging-v02.api.letsencrypt.org/directory
    privateKeySecretRef:
      name: {name}-account
    solvers:
      - dns01:
          cloudflare:
{stanza}---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata:
  name: {name}-cert
  namespace: default
spec:
  secretName: {name}-tls
  dnsNames: ["{domain}"]
  issuerRef:
    kind: ClusterIssuer
    name: {name}
"#
    )
}

/// Builds a Secret with one key given as stringData.
pub fn secret(namespace: &str, name: &str, key: &str, value: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\ntype: Opaque\nstringData:\n  {key}: \"{value}\"\n"
    )
}

/// Builds a Secret with one key given as base64 data.
pub fn secret_data(namespace: &str, name: &str, key: &str, raw: &[u8]) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\ntype: Opaque\ndata:\n  {key}: {encoded}\n"
    )
}

/// The one Cloudflare zone setup most cases use: example.com with an
/// in-flight challenge record that the probe must never touch.
pub const ZONES: &str = r#"
  accounts:
    - id: 01a7362d577a6c3019a474fd6f485823
      name: Example Org
  zones:
    - name: example.com
      account: 01a7362d577a6c3019a474fd6f485823
      records:
        - type: TXT
          name: _acme-challenge.www.example.com
          content: in-flight-challenge-value-000000000000000000
          ttl: 120
        - type: A
          name: www.example.com
          content: 192.0.2.1
          ttl: 300
    - name: example.org
      account: 01a7362d577a6c3019a474fd6f485823
"#;

/// A valid-looking 40-character API token for tests.
pub const TOKEN: &str = "Tst0kenABCDEFGHIJKLMNOPQRSTUVWXYZabcdef1";
