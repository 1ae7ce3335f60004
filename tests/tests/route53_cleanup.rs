//! `cleanup` on Route53 against the in-process mock. After a check killed
//! with SIGKILL, the one leftover probe record set is listed and deleted.
//! Every other record set stays byte-for-byte as it was: an in-flight
//! challenge (multivalue), a simple-routing TXT set whose value is
//! probe-shaped, and a multivalue set with a marker look-alike value.
//!
//! The zone holds more than 300 record sets, so listing it takes two
//! `ListResourceRecordSets` pages and the leftover is on the second.

use acme_token_mock::route53::{RecordSet, Step};
use acme_token_mock::{MockServer, Scenario};
use acme_token_tests::{cli_command, run_cli_async, Run};
use std::process::Stdio;
use std::time::{Duration, Instant};

const KEY_ID: &str = "AKIAIOSFODNN7EXAMPLE";
/// Secret access key of both users, and the canary no output may contain.
const CANARY: &str = "CANARYr53cleanup0123456789CANARYr53clean";
const NOLIST_KEY_ID: &str = "AKIANOLISTEXAMPLE001";
const IN_FLIGHT: &str = "\"in-flight-challenge-value-00000000000000000\"";
/// A well-formed probe value, but in a simple-routing set.
const PROBE_SHAPED: &str = "\"acme-token-probe-t00000-AAAAAAAAAAAAAAAAAAA\"";
/// Carries the marker but is not a probe value ('.' is not base64url).
const LOOKALIKE: &str = "\"acme-token-probe-looks.like-a-probe-value-x\"";
/// A records added so the zone needs two pages of 300.
const FILLER_RECORDS: usize = 320;

fn scenario() -> String {
    let mut records = format!(
        r#"        - {{name: www.example.com, type: A, ttl: 300, values: [192.0.2.1]}}
        - {{name: _acme-challenge.www.example.com, type: TXT, ttl: 120, values: ['{IN_FLIGHT}'], set_identifier: '{IN_FLIGHT}', multi_value: true}}
        - {{name: _acme-challenge.legacy.example.com, type: TXT, ttl: 300, values: ['{PROBE_SHAPED}']}}
        - {{name: _acme-challenge.api.example.com, type: TXT, ttl: 10, values: ['{LOOKALIKE}'], set_identifier: '{LOOKALIKE}', multi_value: true}}
"#
    );
    for index in 0..FILLER_RECORDS {
        records.push_str(&format!(
            "        - {{name: host-{index:03}.example.com, type: A, ttl: 300, values: [192.0.2.10]}}\n"
        ));
    }
    format!(
        r#"route53:
  zones:
    - name: example.com
      id: ZPUBLIC
      records:
{records}  users:
    - name: dns
      access_key_id: {KEY_ID}
      secret_access_key: {CANARY}
      policy:
        - actions: [route53:ListHostedZonesByName, route53:ChangeResourceRecordSets, route53:GetChange, route53:ListResourceRecordSets]
    - name: nolist
      access_key_id: {NOLIST_KEY_ID}
      secret_access_key: {CANARY}
      policy:
        - actions: [route53:ListHostedZonesByName, route53:ChangeResourceRecordSets, route53:GetChange]
  faults:
    - {{step: get_change, nth: 1, action: {{delay: 20000}}}}
"#
    )
}

fn manifests(key_id: &str) -> String {
    format!(
        r#"apiVersion: cert-manager.io/v1
kind: ClusterIssuer
metadata: {{name: r53}}
spec:
  acme:
    server: https://acme-staging-v02.api.letsencrypt.org/directory
    privateKeySecretRef: {{name: r53-account}}
    solvers:
      - dns01:
          route53:
            region: eu-west-1
            accessKeyIDSecretRef: {{name: aws, key: access-key-id}}
            secretAccessKeySecretRef: {{name: aws, key: secret-access-key}}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {{name: www, namespace: default}}
spec:
  secretName: www-tls
  dnsNames: [www.example.com]
  issuerRef: {{kind: ClusterIssuer, name: r53}}
---
apiVersion: v1
kind: Secret
metadata: {{name: aws, namespace: cert-manager}}
stringData:
  access-key-id: {key_id}
  secret-access-key: {CANARY}
"#
    )
}

struct Fixture {
    mock: MockServer,
    dir: tempfile::TempDir,
}

impl Fixture {
    async fn new(key_id: &str) -> Fixture {
        let scenario = Scenario::from_yaml(&scenario()).expect("scenario parses");
        let mock = MockServer::start(scenario).await.expect("mock starts");
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("manifests.yaml"), manifests(key_id))
            .expect("write manifests");
        Fixture { mock, dir }
    }

    /// Arguments every command needs to stay on the mock: endpoints, the
    /// mock's DNS server for the SOA walk, and the manifests.
    fn args(&self, command: &str, extra: &[&str]) -> Vec<String> {
        let url = self.mock.route53_url().unwrap();
        let dns = self.mock.route53().unwrap().dns_addr().unwrap();
        let mut args: Vec<String> = vec![
            command.into(),
            "-f".into(),
            self.dir.path().join("manifests.yaml").display().to_string(),
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

    async fn cleanup(&self, extra: &[&str]) -> Run {
        let mut all = vec!["--timeout", "5s"];
        all.extend_from_slice(extra);
        let run = run_cli_async(self.args("cleanup", &all), Vec::new()).await;
        assert_no_canary(&run);
        run
    }

    fn sets(&self) -> Vec<RecordSet> {
        self.mock.route53().unwrap().record_sets("ZPUBLIC")
    }

    fn probe_sets(&self) -> Vec<RecordSet> {
        self.sets()
            .into_iter()
            .filter(|set| {
                set.set_identifier
                    .as_deref()
                    .is_some_and(|id| id.starts_with("\"acme-token-probe-") && id != LOOKALIKE)
            })
            .collect()
    }

    fn count_steps(&self, step: Step) -> usize {
        self.mock
            .route53()
            .unwrap()
            .requests()
            .iter()
            .filter(|r| r.step == step)
            .count()
    }

    /// Starts a check, waits until its probe record set exists (GetChange
    /// is stalled for 20 s, so the check cannot delete it yet), and kills
    /// the check with SIGKILL.
    async fn kill_during_probe(&self) {
        let mut command = cli_command();
        command
            .args(self.args("check", &["--timeout", "30s"]))
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = command.spawn().expect("start CLI");
        let started = Instant::now();
        while self.probe_sets().len() != 1 {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "the probe record set never appeared"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        child.kill().expect("SIGKILL the check");
        tokio::task::spawn_blocking(move || child.wait().unwrap())
            .await
            .unwrap();
    }
}

fn assert_no_canary(run: &Run) {
    let output = run.all_output();
    assert!(!output.contains(CANARY), "the canary leaked:\n{output}");
    assert!(
        !output.contains(&CANARY[6..26]),
        "part of the canary leaked:\n{output}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn route53_cleanup_after_sigkill() {
    let fixture = Fixture::new(KEY_ID).await;
    let initial = fixture.sets();
    fixture.kill_during_probe().await;
    let leftover = fixture.probe_sets();
    assert_eq!(leftover.len(), 1, "{leftover:?}");
    let leftover = &leftover[0];
    assert_eq!(leftover.name, "_acme-challenge.www.example.com.");
    assert_eq!(leftover.ttl, 10);
    assert!(leftover.multi_value);
    assert_eq!(
        leftover.set_identifier.as_deref(),
        Some(leftover.values[0].as_str())
    );
    let after_kill = fixture.sets();
    assert_eq!(after_kill.len(), initial.len() + 1);

    let lists_before = fixture.count_steps(Step::ListResourceRecordSets);
    let dry = fixture.cleanup(&["--dry-run", "-o", "json", "-vvv"]).await;
    assert_eq!(dry.code, 0, "{}", dry.all_output());
    let report = dry.json();
    let records = report["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{report:#}");
    assert_eq!(records[0]["provider"], "route53");
    assert_eq!(records[0]["name"], "_acme-challenge.www.example.com");
    assert_eq!(records[0]["value"], leftover.values[0].trim_matches('"'));
    assert_eq!(records[0]["id"], leftover.values[0].as_str());
    assert_eq!(records[0]["zoneId"], "ZPUBLIC");
    assert_eq!(records[0]["action"], "would-delete");
    assert_eq!(report["summary"]["wouldDelete"], 1);
    assert_eq!(after_kill, fixture.sets(), "a dry run changed record sets");
    // More than 300 record sets: two pages.
    assert_eq!(
        fixture.count_steps(Step::ListResourceRecordSets) - lists_before,
        2
    );

    let young = fixture.cleanup(&["--older-than", "1h", "-o", "json"]).await;
    assert_eq!(young.code, 0, "{}", young.all_output());
    assert_eq!(young.json()["records"][0]["action"], "kept");
    assert_eq!(after_kill, fixture.sets());

    let changes_before = fixture.count_steps(Step::ChangeResourceRecordSets);
    let polls_before = fixture.count_steps(Step::GetChange);
    let real = fixture.cleanup(&["-o", "json"]).await;
    assert_eq!(real.code, 0, "{}", real.all_output());
    let report = real.json();
    assert_eq!(report["summary"]["deleted"], 1, "{report:#}");
    assert_eq!(report["records"][0]["action"], "deleted");
    // One DELETE, then GetChange until INSYNC.
    assert_eq!(
        fixture.count_steps(Step::ChangeResourceRecordSets) - changes_before,
        1
    );
    assert!(fixture.count_steps(Step::GetChange) > polls_before);

    // Back to the record sets the zone started with, byte for byte.
    assert_eq!(initial, fixture.sets());

    let again = fixture.cleanup(&["--dry-run", "-o", "table"]).await;
    assert_eq!(again.code, 0, "{}", again.all_output());
    assert!(
        again.stdout.contains("0 probe records found in 1 zone:"),
        "{}",
        again.stdout
    );
    assert!(
        again.stdout.contains("searched route53 example.com"),
        "{}",
        again.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn route53_cleanup_needs_list_permission() {
    let fixture = Fixture::new(NOLIST_KEY_ID).await;
    for format in ["json", "table"] {
        let run = fixture.cleanup(&["--dry-run", "-o", format, "-vvv"]).await;
        assert_eq!(run.code, 2, "{}", run.all_output());
        let output = run.all_output();
        assert!(output.contains("PermissionMissing"), "{output}");
        assert!(
            output
                .contains("route53:ListResourceRecordSets on arn:aws:route53:::hostedzone/ZPUBLIC"),
            "{output}"
        );
        assert!(output.contains("cert-manager never calls it"), "{output}");
    }
    assert_eq!(fixture.count_steps(Step::ChangeResourceRecordSets), 0);
}
