//! `kubectl acme-token demo`: runs `check` against a mock Cloudflare API on
//! loopback with sample manifests, so a new user sees a realistic report
//! with no cluster, no account and no network.
//!
//! The mock is the separate `acme-token-mock` binary built from this
//! workspace: the product never links mock code, it only starts the binary
//! that sits next to its own executable (or the one `ACME_TOKEN_MOCK_BIN`
//! names) and points the Cloudflare endpoint at it.

use crate::args::{CheckArgs, ClusterArgs, DemoArgs};
use crate::check;
use acme_token_core::Report;
use anyhow::{bail, Context};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;

const MANIFESTS: &str = include_str!("demo/manifests.yaml");
const SCENARIO: &str = include_str!("demo/scenario.yaml");

/// Name of the mock binary the demo starts.
const MOCK_BINARY: &str = "acme-token-mock";

/// Runs the demo and returns the report of its check.
pub async fn run(args: &DemoArgs, cancel: CancellationToken) -> anyhow::Result<Report> {
    let temp = tempfile::tempdir().context("cannot create a temporary directory for the demo")?;
    let dir = match &args.keep_files {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create directory '{}'", dir.display()))?;
            dir.clone()
        }
        None => temp.path().to_path_buf(),
    };
    let manifests_path = dir.join("manifests.yaml");
    let scenario_path = dir.join("mock-scenario.yaml");
    std::fs::write(&manifests_path, MANIFESTS)
        .with_context(|| format!("cannot write '{}'", manifests_path.display()))?;
    std::fs::write(&scenario_path, render_scenario(args.latency))
        .with_context(|| format!("cannot write '{}'", scenario_path.display()))?;

    let mock_binary = find_mock_binary()?;
    let mut child = tokio::process::Command::new(&mock_binary)
        .arg("--scenario")
        .arg(&scenario_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start the mock server '{}'", mock_binary.display()))?;

    let stdout = child.stdout.take().context("mock server has no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let mut cloudflare_url = None;
    let wait = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await? {
            let line = line.trim().to_string();
            if line == "ready" {
                break;
            }
            if let Some(url) = line.strip_prefix("cloudflare ") {
                cloudflare_url = Some(url.trim().to_string());
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    match wait {
        Ok(Ok(())) => {}
        Ok(Err(err)) => bail!("cannot read the mock server's address: {err}"),
        Err(_) => bail!("the mock server did not report its address within 20 s"),
    }
    let Some(cloudflare_url) = cloudflare_url else {
        bail!("the mock server started but reported no Cloudflare address");
    };

    let check_args = CheckArgs {
        provider: None,
        filenames: vec![manifests_path],
        domains: Vec::new(),
        offline: false,
        credentials: Vec::new(),
        candidates: Vec::new(),
        secret: None,
        email: None,
        account_id: None,
        issuer: None,
        cluster_issuer: None,
        namespace: Some("default".to_string()),
        cluster: ClusterArgs::default(),
        cluster_resource_namespace: "cert-manager".to_string(),
        no_write: false,
        timeout: Duration::from_secs(10),
        concurrency: 8,
        budget: 1.0,
        ca_file: None,
        controller: Default::default(),
        endpoints: vec![format!("cloudflare={cloudflare_url}")],
        report: args.report.clone(),
    };
    let report = check::run(&check_args, cancel).await;
    let _ = child.start_kill();
    let _ = child.wait().await;
    drop(temp);
    Ok(report?)
}

fn render_scenario(latency: Option<Duration>) -> String {
    let expires = chrono::Utc::now() + chrono::Duration::days(5);
    SCENARIO
        .replace(
            "@EXPIRES_SOON@",
            &expires.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        )
        .replace(
            "@LATENCY_MS@",
            &latency.map(|l| l.as_millis()).unwrap_or(0).to_string(),
        )
}

fn find_mock_binary() -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("ACME_TOKEN_MOCK_BIN") {
        return Ok(PathBuf::from(path));
    }
    let exe = std::env::current_exe().context("cannot find the path of this executable")?;
    let name = format!("{MOCK_BINARY}{}", std::env::consts::EXE_SUFFIX);
    let candidate = exe.with_file_name(&name);
    if candidate.is_file() {
        return Ok(candidate);
    }
    bail!(
        "the demo needs the '{name}' binary next to '{}'; build both with `cargo build --release --workspace`, or set ACME_TOKEN_MOCK_BIN",
        exe.display()
    )
}
