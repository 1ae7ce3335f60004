//! `acme-token-mock`: runs the provider mocks of a scenario file until stopped.
//!
//! Prints one `<provider> <base URL>` line per started provider and then
//! `ready` on stdout, so a parent process can read the URLs and wait for the
//! mock to be usable. Logs go to stderr. Stops on SIGINT, SIGTERM, or when
//! stdin reaches end of file, so the mock dies with a parent that held its stdin.

use std::io::{IsTerminal, Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use acme_token_mock::{MockServer, Scenario};
use anyhow::{bail, Context};
use clap::Parser;
use tokio::signal::unix::{signal, Signal, SignalKind};
use tokio::sync::oneshot;
use tracing::{error, info};

/// Run acme-token's mock provider APIs on loopback.
#[derive(Debug, Parser)]
#[command(name = "acme-token-mock", version)]
struct Args {
    /// Scenario file (YAML) with the accounts, zones, credentials and faults to serve.
    #[arg(long, value_name = "FILE")]
    scenario: PathBuf,

    /// Address of the first provider's listener; must be a loopback address. Port 0 picks a free port,
    /// and further providers always get free ports on the same IP.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    listen: SocketAddr,

    /// Keep running when stdin reaches end of file. Without it, EOF on a non-terminal stdin stops the mock.
    #[arg(long)]
    ignore_stdin: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();

    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            error!("{failure:#}");
            eprintln!("acme-token-mock: {failure:#}");
            ExitCode::from(2)
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    if !args.listen.ip().is_loopback() {
        bail!(
            "--listen {} is not a loopback address; use 127.0.0.1:PORT or [::1]:PORT",
            args.listen
        );
    }
    let text = std::fs::read_to_string(&args.scenario)
        .with_context(|| format!("failed to read scenario file {}", args.scenario.display()))?;
    let scenario = Scenario::from_yaml(&text)
        .with_context(|| format!("in scenario file {}", args.scenario.display()))?;

    let server = MockServer::start_on(scenario, args.listen)
        .await
        .context("failed to start the mock")?;
    let endpoints = server.endpoints();
    if endpoints.is_empty() {
        bail!(
            "scenario file {} has no provider section, for example `cloudflare:`",
            args.scenario.display()
        );
    }

    let stop_signals = StopSignals::install(!args.ignore_stdin)?;
    let mut stdout = std::io::stdout().lock();
    for (provider, url) in &endpoints {
        writeln!(stdout, "{provider} {url}")?;
    }
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    drop(stdout);

    let reason = stop_signals.wait().await;
    info!(reason, "stopping");
    drop(server);
    Ok(())
}

/// Installed handlers for the events that stop the mock.
struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
    stdin_closed: oneshot::Receiver<()>,
}

impl StopSignals {
    /// Installs the SIGINT and SIGTERM handlers and, when `watch_stdin` is set and
    /// stdin is not a terminal, the stdin watcher.
    ///
    /// Call this before printing `ready`: a signal that arrives earlier would take
    /// its default action and kill the process without a clean stop.
    fn install(watch_stdin: bool) -> anyhow::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt()).context("failed to watch SIGINT")?,
            terminate: signal(SignalKind::terminate()).context("failed to watch SIGTERM")?,
            stdin_closed: watch_stdin_eof(watch_stdin && !std::io::stdin().is_terminal()),
        })
    }

    /// Waits for the first stop event and returns its name.
    async fn wait(mut self) -> &'static str {
        tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
            Ok(()) = &mut self.stdin_closed => "stdin closed",
        }
    }
}

/// Returns a receiver that completes with `Ok(())` when stdin reaches end of file.
///
/// When `enabled` is false the sender is dropped at once, so the receiver
/// completes with an error, which the `select!` above ignores.
/// A plain thread does the blocking read: the process exits without waiting for
/// it, whereas a Tokio blocking task would keep the runtime from shutting down.
fn watch_stdin_eof(enabled: bool) -> oneshot::Receiver<()> {
    let (sender, receiver) = oneshot::channel();
    if !enabled {
        return receiver;
    }
    std::thread::spawn(move || {
        let mut sink = [0u8; 1024];
        let mut stdin = std::io::stdin().lock();
        loop {
            match stdin.read(&mut sink) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = sender.send(());
    });
    receiver
}
