//! Runs the `acme-token-mock` binary as a child process.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// A running mock binary with the lines it printed before `ready`.
pub struct MockProcess {
    pub child: Child,
    /// Dropping this closes the child's stdin, which stops it.
    pub stdin: Option<ChildStdin>,
    pub endpoints: Vec<(String, String)>,
}

impl MockProcess {
    /// Starts the binary on `scenario_path` and waits up to 20 s for `ready`.
    pub fn spawn(scenario_path: &Path, extra_args: &[&str]) -> MockProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_acme-token-mock"))
            .arg("--scenario")
            .arg(scenario_path)
            .args(extra_args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the mock binary starts");
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");

        let (sender, receiver) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if sender.send(line).is_err() {
                    break;
                }
            }
        });

        let mut endpoints = Vec::new();
        loop {
            let line = receiver
                .recv_timeout(Duration::from_secs(20))
                .expect("the mock prints `ready` within 20 s");
            if line == "ready" {
                break;
            }
            let (provider, url) = line
                .split_once(' ')
                .expect("endpoint lines are `<provider> <url>`");
            endpoints.push((provider.to_string(), url.to_string()));
        }
        MockProcess {
            child,
            stdin,
            endpoints,
        }
    }

    /// Base URL printed for `provider`.
    pub fn url(&self, provider: &str) -> String {
        self.endpoints
            .iter()
            .find(|(name, _)| name == provider)
            .map(|(_, url)| url.clone())
            .unwrap_or_else(|| {
                panic!(
                    "the mock printed no {provider} endpoint: {:?}",
                    self.endpoints
                )
            })
    }

    /// Waits up to `limit` for the process to exit and returns its exit code.
    pub fn wait_for_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait works") {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for MockProcess {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
