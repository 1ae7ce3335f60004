//! `kubectl acme-token`: checks the DNS-provider credentials of cert-manager's
//! ACME DNS-01 solvers.
//!
//! Exit codes: 0 when every check passed or was skipped, 1 when a check
//! failed, 2 when the run could not complete (bad flags, unreadable input,
//! interrupted). Code 2 takes precedence over 1.

mod args;
mod candidate;
mod check;
mod cleanup;
mod cluster;
mod completion;
mod demo;
mod endpoints;
mod keyring;
mod output;
mod providers;
mod progress;
mod registry;
mod source;

use args::{Cli, Command};
use clap::Parser;
use std::io::Write;
use std::process::ExitCode;
use tokio_util::sync::CancellationToken;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return match err.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(2),
            };
        }
    };
    init_logging(cli.verbose);

    // These need no runtime. The keyring prompt must also run without the
    // signal handler, so Ctrl-C ends it at once.
    match &cli.command {
        Command::Completion(args) => return completion::print_script(args.shell),
        Command::Complete(args) => return completion::print_candidates(&args.words),
        Command::Keyring(args) => return ExitCode::from(keyring::run(args)),
        Command::Providers(args) => return ExitCode::from(providers::run(args)),
        _ => {}
    }

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::from(2);
        }
    };
    let code = runtime.block_on(run(cli));
    ExitCode::from(code)
}

async fn run(cli: Cli) -> u8 {
    let cancel = CancellationToken::new();
    spawn_signal_handler(cancel.clone());

    let (result, report_args) = match &cli.command {
        Command::Check(args) => (check::run(args, cancel).await.map_err(|e| e.to_string()), &args.report),
        Command::Demo(args) => (demo::run(args, cancel).await.map_err(|e| format!("{e:#}")), &args.report),
        Command::Cleanup(args) => return run_cleanup(args, cancel).await,
        Command::Keyring(_) | Command::Providers(_) | Command::Completion(_) | Command::Complete(_) => {
            unreachable!("handled before the runtime starts")
        }
    };
    match result {
        Ok(report) => {
            let text = output::render(&report, report_args.output);
            let mut stdout = std::io::stdout().lock();
            if let Err(err) = stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
                if err.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("error: cannot write the report: {err}");
                    return 2;
                }
            }
            report.exit_code(check::fail_on(report_args)) as u8
        }
        Err(message) => {
            eprintln!("error: {message}");
            2
        }
    }
}

async fn run_cleanup(args: &cleanup::CleanupArgs, cancel: CancellationToken) -> u8 {
    match cleanup::run(args, cancel).await {
        Ok(report) => {
            let text = cleanup::render(&report, args.output);
            let mut stdout = std::io::stdout().lock();
            if let Err(err) = stdout.write_all(text.as_bytes()).and_then(|_| stdout.flush()) {
                if err.kind() != std::io::ErrorKind::BrokenPipe {
                    eprintln!("error: cannot write the report: {err}");
                    return 2;
                }
            }
            report.exit_code()
        }
        Err(message) => {
            eprintln!("error: {message}");
            2
        }
    }
}

/// Cancels the run on the first SIGINT or SIGTERM, so running probes delete
/// their records and the report is still printed. A second signal exits at
/// once.
fn spawn_signal_handler(cancel: CancellationToken) {
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::warn!("signal received: deleting probe records, then stopping");
        eprintln!("acme-token: interrupted; deleting probe records before exit (signal again to stop at once)");
        cancel.cancel();
        wait_for_signal().await;
        eprintln!("acme-token: stopped at once; probe records may remain, `kubectl acme-token cleanup` finds them");
        std::process::exit(130);
    });
}

#[cfg(unix)]
async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(term) => term,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() {
    let _ = tokio::signal::ctrl_c().await;
}

fn init_logging(verbose: u8) {
    use std::io::IsTerminal;
    use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::EnvFilter;

    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    // kube logs a failed connection at error level; the CLI reports that
    // error itself, with the fix, so the library line is noise by default.
    let filter = EnvFilter::try_from_env("ACME_TOKEN_LOG")
        .unwrap_or_else(|_| EnvFilter::new(format!("{default},kube_client=off")));
    // The AWS SDK logs signing input and response bodies at debug and trace
    // (session tokens, AssumeRole credentials). This second filter keeps its
    // crates at warn, whatever level ACME_TOKEN_LOG or -v sets.
    let no_secrets = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_target("aws_sigv4", LevelFilter::OFF)
        .with_target("aws_smithy_runtime", LevelFilter::WARN)
        .with_target("aws_smithy_runtime_api", LevelFilter::WARN)
        .with_target("aws_smithy_http_client", LevelFilter::WARN)
        .with_target("aws_config", LevelFilter::WARN)
        .with_target("aws_runtime", LevelFilter::WARN)
        .with_target("aws_sdk_sts", LevelFilter::WARN)
        .with_target("aws_sdk_route53", LevelFilter::WARN)
        .with_target("hyper_util", LevelFilter::WARN);
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .with_filter(filter.and(no_secrets));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
