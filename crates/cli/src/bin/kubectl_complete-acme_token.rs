//! `kubectl_complete-acme_token`: the completion shim kubectl (1.26 and
//! later) runs to complete `kubectl acme-token …`. It runs
//! `kubectl-acme_token __complete WORDS…` from the same directory, else from
//! `PATH`, and passes its output and exit code through.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let name = format!("kubectl-acme_token{}", std::env::consts::EXE_SUFFIX);
    let sibling: Option<PathBuf> = std::env::current_exe()
        .ok()
        .and_then(|path| path.parent().map(|dir| dir.join(&name)))
        .filter(|path| path.is_file());
    let program = sibling.unwrap_or_else(|| PathBuf::from(&name));
    let status = Command::new(&program)
        .arg("__complete")
        .args(std::env::args_os().skip(1))
        .status();
    match status {
        Ok(status) => ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(error) => {
            eprintln!(
                "kubectl_complete-acme_token: cannot run {}: {error}; install kubectl-acme_token next to this shim or on PATH",
                program.display()
            );
            ExitCode::from(1)
        }
    }
}
