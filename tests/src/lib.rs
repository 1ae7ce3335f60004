//! Helpers shared by the end-to-end tests: locating the built binaries,
//! running the CLI, and requiring or skipping real peers.
//!
//! The end-to-end tests run the real `kubectl-acme_token` binary as a user
//! would, against the mock server started in the test process, so the test
//! can inspect the mock's records and request log afterwards. The binaries
//! come from `cargo build --workspace --bins`, which the README's test
//! command runs first.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Path of a binary built by `cargo build --workspace --bins`.
///
/// # Panics
/// Panics with the command to run when the binary was not built.
pub fn binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"));
    let profile = if cfg!(debug_assertions) { "debug" } else { "release" };
    let path = target
        .join(profile)
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace --bins` before the tests (the README's test command does)",
        path.display()
    );
    path
}

/// Root of the workspace.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests crate sits in the workspace")
        .to_path_buf()
}

/// Directory of fixtures under `tests/fixtures`.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Returns the `shared/` folder beside the checkout, when present.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = workspace_root().parent()?.join("shared");
    dir.is_dir().then_some(dir)
}

/// Output of one CLI run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Parses stdout as the JSON report.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|err| {
            panic!(
                "stdout is not a JSON report ({err}); exit {}\nstdout:\n{}\nstderr:\n{}",
                self.code, self.stdout, self.stderr
            )
        })
    }

    /// Everything the program wrote.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn finish(output: Output) -> Run {
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Kubeconfig path set for every CLI run unless a test sets its own: it
/// does not exist, so a run that reads the cluster fails instead of using
/// the developer's `~/.kube/config`.
pub const NO_KUBECONFIG: &str = "/nonexistent/acme-token-tests/kubeconfig";

/// Builds a command for the CLI with a clean environment: no endpoint
/// overrides, AWS settings or cluster settings leak in from the caller.
pub fn cli_command() -> Command {
    let mut command = Command::new(binary("kubectl-acme_token"));
    isolate_from_clusters(&mut command);
    for (key, _) in std::env::vars() {
        if key.starts_with("ACME_TOKEN_") || key.starts_with("AWS_") || key.ends_with("_PROXY") || key.ends_with("_proxy") {
            command.env_remove(key);
        }
    }
    command.env("AWS_EC2_METADATA_DISABLED", "true");
    command.env("NO_PROXY", "127.0.0.1,localhost,::1");
    command
}

/// Keeps a command away from every real cluster: `KUBECONFIG` points at
/// [`NO_KUBECONFIG`] (a test that needs a cluster sets its own), and the
/// in-cluster variables are removed.
pub fn isolate_from_clusters(command: &mut Command) {
    command.env("KUBECONFIG", NO_KUBECONFIG);
    command.env_remove("KUBERNETES_SERVICE_HOST");
    command.env_remove("KUBERNETES_SERVICE_PORT");
}

/// Runs the CLI with `args` and no stdin.
pub fn run_cli(args: &[&str]) -> Run {
    run_cli_with(args, &[], None)
}

/// Runs the CLI with extra environment variables and optional stdin.
pub fn run_cli_with(args: &[&str], env: &[(&str, &str)], stdin: Option<&[u8]>) -> Run {
    let mut command = cli_command();
    command.args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    command.stdout(Stdio::piped()).stderr(Stdio::piped());
    command.stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() });
    let mut child = command.spawn().expect("start kubectl-acme_token");
    if let Some(bytes) = stdin {
        use std::io::Write;
        let mut pipe = child.stdin.take().expect("stdin piped");
        // A command that rejects its input early exits before reading stdin.
        if let Err(err) = pipe.write_all(bytes) {
            assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {err}");
        }
    }
    finish(child.wait_with_output().expect("wait for kubectl-acme_token"))
}

/// Runs the CLI on a blocking thread, so an async test can keep serving the
/// in-process mock meanwhile.
pub async fn run_cli_async(args: Vec<String>, env: Vec<(String, String)>) -> Run {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        run_cli_with(&args, &env, None)
    })
    .await
    .expect("CLI thread")
}

/// Returns true when peers are required (CI): a missing peer then fails the
/// test instead of skipping it.
pub fn peers_required() -> bool {
    std::env::var("ACME_TOKEN_REQUIRE_PEERS").is_ok_and(|v| v == "1")
}

/// Skips (returns false after printing a notice) or fails when a peer is
/// missing, depending on [`peers_required`].
pub fn require_peer(available: bool, what: &str) -> bool {
    if available {
        return true;
    }
    assert!(!peers_required(), "{what} is required (ACME_TOKEN_REQUIRE_PEERS=1) but missing");
    eprintln!("skipped: {what} is not installed");
    false
}

/// Finds the entry for `domain` in a JSON report.
pub fn check_for<'a>(report: &'a serde_json::Value, domain: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .expect("checks array")
        .iter()
        .find(|c| c["domain"] == domain)
        .unwrap_or_else(|| panic!("no check for {domain} in report:\n{report:#}"))
}

/// Returns the reasons of a check's findings, with their stage and severity,
/// as `Reason@stage/severity`.
pub fn reasons(check: &serde_json::Value) -> Vec<String> {
    check["findings"]
        .as_array()
        .map(|findings| {
            findings
                .iter()
                .map(|f| {
                    format!(
                        "{}@{}/{}",
                        f["reason"].as_str().unwrap_or(""),
                        f["stage"].as_str().unwrap_or(""),
                        f["severity"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Returns the finding with `reason`, panicking with the report when absent.
pub fn finding<'a>(check: &'a serde_json::Value, reason: &str) -> &'a serde_json::Value {
    check["findings"]
        .as_array()
        .and_then(|findings| findings.iter().find(|f| f["reason"] == reason))
        .unwrap_or_else(|| panic!("no {reason} finding in check:\n{check:#}"))
}
