//! The Route53 replay against moto in server mode, an independent
//! implementation of Route53 and STS: zone lookup, UPSERT and DELETE of the
//! multivalue TXT record set, GetChange, GetCallerIdentity and AssumeRole,
//! and `cleanup` after a check killed with SIGKILL.
//!
//! moto serves no DNS, so the SOA walk asks the mock's authoritative DNS
//! server, which serves the same zone. Known differences from AWS, which
//! the assertions state instead of bending the product (moto 5.2):
//! - every change is INSYNC at once, so PENDING is never seen;
//! - IAM is not enforced unless enabled, so any key is accepted and
//!   GetCallerIdentity of an unknown key answers
//!   `arn:aws:sts::123456789012:user/moto`;
//! - AssumeRole accepts any role ARN and checks no trust policy;
//! - ListResourceRecordSets ignores StartRecordIdentifier and returns no
//!   NextRecordIdentifier.
//!
//! Skips with a notice when moto_server or boto3 is missing, unless
//! ACME_TOKEN_REQUIRE_PEERS=1.

use acme_token_mock::{MockServer, Scenario};
use acme_token_tests::{check_for, require_peer, run_cli_async};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A moto_server child process, killed on drop.
struct Moto {
    child: Child,
    url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn moto_available() -> bool {
    Command::new("moto_server")
        .arg("--help")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("python3")
            .args(["-c", "import boto3"])
            .output()
            .is_ok_and(|o| o.status.success())
}

fn start_moto() -> Moto {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto_server did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        child,
        url: format!("http://{addr}"),
    }
}

/// Creates the public zone example.com in moto with boto3 and returns its id.
fn create_zone(url: &str) -> String {
    let script = r#"
import sys, boto3
r53 = boto3.client("route53", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAMOTOSETUP0000001", aws_secret_access_key="moto-setup")
zone = r53.create_hosted_zone(Name="example.com", CallerReference="acme-token-test")
print(zone["HostedZone"]["Id"].split("/")[-1])
"#;
    let output = Command::new("python3")
        .args(["-c", script, url])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn manifests(extra: &str) -> String {
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
{extra}---
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
  access-key-id: AKIAIOSFODNN7EXAMPLE
  secret-access-key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
"#
    )
}

async fn check_against_moto(extra: &str) -> Option<(serde_json::Value, String)> {
    if !require_peer(
        moto_available(),
        "moto_server (pip install \"moto[server]\" boto3)",
    ) {
        return None;
    }
    let moto = start_moto();
    let zone_id = create_zone(&moto.url);
    // Only the DNS server of the mock is used: it serves example.com.
    let dns = MockServer::start(
        Scenario::from_yaml("route53:\n  zones:\n    - name: example.com\n").unwrap(),
    )
    .await
    .unwrap();
    let dns_addr = dns.route53().unwrap().dns_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifests.yaml");
    std::fs::write(&path, manifests(extra)).unwrap();
    let args: Vec<String> = [
        "check",
        "-f",
        &path.display().to_string(),
        "-o",
        "json",
        "--timeout",
        "5s",
        "--endpoint",
        &format!("route53={}", moto.url),
        "--endpoint",
        &format!("sts={}", moto.url),
        "--dns01-recursive-nameservers",
        &dns_addr.to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = run_cli_async(args, Vec::new()).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    Some((run.json(), zone_id))
}

fn stage<'a>(check: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    check["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == name)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn static_keys_against_moto() {
    let Some((report, zone_id)) = check_against_moto("").await else {
        return;
    };
    let check = check_for(&report, "www.example.com");
    assert_eq!(check["verdict"], "OK", "{check:#}");
    // moto difference: IAM is off, so an unknown key is `user/moto`, with
    // `sts` where AWS writes `iam` in a user ARN.
    assert_eq!(
        stage(check, "credential")["facts"]["principalArn"],
        "arn:aws:sts::123456789012:user/moto"
    );
    assert_eq!(stage(check, "zone")["facts"]["zoneId"], zone_id);
    // moto difference: every change is INSYNC at the first GetChange.
    assert!(stage(check, "write")["facts"]["changeStatus"]
        .as_str()
        .unwrap()
        .starts_with("INSYNC"));
    assert_eq!(
        stage(check, "write")["facts"]["readBack"],
        "ListResourceRecordSets shows the probe record set"
    );
    assert_eq!(stage(check, "cleanup")["facts"]["leftover"], "none");
    assert_eq!(
        stage(check, "cleanup")["facts"]["confirmRead"],
        "ListResourceRecordSets no longer shows the probe record set"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn assumed_role_against_moto() {
    let Some((report, _)) =
        check_against_moto("            role: arn:aws:iam::123456789012:role/dns\n").await
    else {
        return;
    };
    let check = check_for(&report, "www.example.com");
    assert_eq!(check["verdict"], "OK", "{check:#}");
    // moto difference: the role need not exist and no trust policy is checked.
    assert_eq!(
        stage(check, "credential")["facts"]["principalArn"],
        "arn:aws:sts::123456789012:assumed-role/dns/cert-manager"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn pinned_zone_against_moto() {
    if !require_peer(
        moto_available(),
        "moto_server (pip install \"moto[server]\" boto3)",
    ) {
        return;
    }
    let moto = start_moto();
    let zone_id = create_zone(&moto.url);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifests.yaml");
    std::fs::write(
        &path,
        manifests(&format!("            hostedZoneID: {zone_id}\n")),
    )
    .unwrap();
    let args: Vec<String> = [
        "check",
        "-f",
        &path.display().to_string(),
        "-o",
        "json",
        "--timeout",
        "5s",
        "--endpoint",
        &format!("route53={}", moto.url),
        "--endpoint",
        &format!("sts={}", moto.url),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let run = run_cli_async(args, Vec::new()).await;
    assert_eq!(run.code, 0, "{}", run.all_output());
    let report = run.json();
    let check = check_for(&report, "www.example.com");
    assert_eq!(stage(check, "zone")["facts"]["zoneName"], "example.com.");
}

/// A loopback TCP proxy in front of moto that never forwards a GetChange
/// request, as a Route53 stuck on PENDING would look to the check. moto
/// reports every change INSYNC at once, so without it a check deletes its
/// record set before it can be killed. `stalled` is notified at the first
/// held GetChange, which comes after the UPSERT was answered.
async fn start_stalling_proxy(upstream: &str) -> (String, std::sync::Arc<tokio::sync::Notify>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream: SocketAddr = upstream.trim_start_matches("http://").parse().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let stalled = std::sync::Arc::new(tokio::sync::Notify::new());
    let notify = stalled.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let notify = notify.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
                let mut buffer = vec![0u8; 64 * 1024];
                loop {
                    let read = match client_read.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(read) => read,
                    };
                    let chunk = &buffer[..read];
                    if chunk.windows(23).any(|w| w == b"GET /2013-04-01/change/") {
                        notify.notify_one();
                        std::future::pending::<()>().await;
                    }
                    if server_write.write_all(chunk).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, stalled)
}

/// Record sets seeded next to the probe's: an in-flight challenge
/// (multivalue), a simple-routing set with a probe-shaped value, and a
/// multivalue set whose value only looks like a probe value.
const SEED_SCRIPT: &str = r#"
import sys, boto3
r53 = boto3.client("route53", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAMOTOSETUP0000001", aws_secret_access_key="moto-setup")
def txt(name, value, ttl, multi):
    record = {"Name": name, "Type": "TXT", "TTL": ttl, "ResourceRecords": [{"Value": value}]}
    if multi:
        record.update(SetIdentifier=value, MultiValueAnswer=True)
    return {"Action": "UPSERT", "ResourceRecordSet": record}
r53.change_resource_record_sets(HostedZoneId=sys.argv[2], ChangeBatch={"Changes": [
    txt("_acme-challenge.www.example.com.", '"in-flight-challenge-value-00000000000000000"', 120, True),
    txt("_acme-challenge.legacy.example.com.", '"acme-token-probe-t00000-AAAAAAAAAAAAAAAAAAA"', 300, False),
    txt("_acme-challenge.api.example.com.", '"acme-token-probe-looks.like-a-probe-value-x"', 10, True),
]})
"#;

/// Prints every record set of the zone as JSON, in moto's order.
const LIST_SCRIPT: &str = r#"
import sys, json, boto3
r53 = boto3.client("route53", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIAMOTOSETUP0000001", aws_secret_access_key="moto-setup")
print(json.dumps(r53.list_resource_record_sets(HostedZoneId=sys.argv[2])["ResourceRecordSets"], sort_keys=True))
"#;

fn run_boto3(script: &str, url: &str, zone_id: &str) -> String {
    let output = Command::new("python3")
        .args(["-c", script, url, zone_id])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn moto_sets(url: &str, zone_id: &str) -> Vec<serde_json::Value> {
    serde_json::from_str(&run_boto3(LIST_SCRIPT, url, zone_id)).unwrap()
}

fn is_probe_set(set: &serde_json::Value) -> bool {
    set["SetIdentifier"]
        .as_str()
        .is_some_and(|id| id.starts_with("\"acme-token-probe-") && !id.contains('.'))
}

#[tokio::test(flavor = "multi_thread")]
async fn cleanup_after_sigkill_against_moto() {
    if !require_peer(
        moto_available(),
        "moto_server (pip install \"moto[server]\" boto3)",
    ) {
        return;
    }
    let moto = start_moto();
    let zone_id = create_zone(&moto.url);
    run_boto3(SEED_SCRIPT, &moto.url, &zone_id);
    let initial = moto_sets(&moto.url, &zone_id);
    let (proxy_url, stalled) = start_stalling_proxy(&moto.url).await;
    let dns = MockServer::start(
        Scenario::from_yaml("route53:\n  zones:\n    - name: example.com\n").unwrap(),
    )
    .await
    .unwrap();
    let dns_addr = dns.route53().unwrap().dns_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("manifests.yaml");
    std::fs::write(&path, manifests("")).unwrap();
    let path = path.display().to_string();

    // The check writes through the proxy and is killed while its GetChange
    // is held.
    let mut child = acme_token_tests::cli_command()
        .args([
            "check",
            "-f",
            &path,
            "--timeout",
            "30s",
            "--endpoint",
            &format!("route53={proxy_url}"),
            "--endpoint",
            &format!("sts={}", moto.url),
            "--dns01-recursive-nameservers",
            &dns_addr,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start CLI");
    tokio::time::timeout(Duration::from_secs(30), stalled.notified())
        .await
        .expect("the check never reached GetChange");
    child.kill().expect("SIGKILL the check");
    tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    let after_kill = moto_sets(&moto.url, &zone_id);
    let leftover: Vec<&serde_json::Value> = after_kill.iter().filter(|s| is_probe_set(s)).collect();
    assert_eq!(leftover.len(), 1, "{after_kill:#?}");
    let leftover = leftover[0].clone();
    assert_eq!(after_kill.len(), initial.len() + 1);

    let cleanup = |extra: &[&str]| {
        let mut args: Vec<String> = [
            "cleanup",
            "-f",
            &path,
            "-o",
            "json",
            "--timeout",
            "5s",
            "--endpoint",
            &format!("route53={}", moto.url),
            "--endpoint",
            &format!("sts={}", moto.url),
            "--dns01-recursive-nameservers",
            &dns_addr,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        run_cli_async(args, Vec::new())
    };

    let dry = cleanup(&["--dry-run"]).await;
    assert_eq!(dry.code, 0, "{}", dry.all_output());
    let report = dry.json();
    let records = report["records"].as_array().unwrap();
    assert_eq!(records.len(), 1, "{report:#}");
    assert_eq!(records[0]["name"], "_acme-challenge.www.example.com");
    assert_eq!(records[0]["id"], leftover["SetIdentifier"]);
    assert_eq!(records[0]["action"], "would-delete");
    assert_eq!(
        after_kill,
        moto_sets(&moto.url, &zone_id),
        "a dry run changed record sets"
    );

    // moto difference: the DELETE is INSYNC at once, so the wait after it
    // ends at the first GetChange.
    let real = cleanup(&[]).await;
    assert_eq!(real.code, 0, "{}", real.all_output());
    let report = real.json();
    assert_eq!(report["summary"]["deleted"], 1, "{report:#}");
    assert_eq!(initial, moto_sets(&moto.url, &zone_id));
}
