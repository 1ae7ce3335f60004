//! Progress bar on stderr for runs with many checks.
//!
//! The bar is drawn only when stderr is a terminal and the run has at least
//! [`MIN_JOBS`] jobs, so scripts and CI logs that capture stderr see only
//! the messages they saw before.

use acme_token_core::runner::JobDoneCallback;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;

/// Minimum number of jobs that get a progress bar, since shorter runs finish before a bar helps.
pub const MIN_JOBS: usize = 20;

/// A progress bar counting finished jobs.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Starts a bar for `jobs` jobs, or returns `None` when stderr is not a
    /// terminal or the run is short.
    pub fn start(jobs: usize) -> Option<Self> {
        if jobs < MIN_JOBS || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(jobs as u64), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{bar:40} {pos}/{len} solvers checked, {elapsed} elapsed")
                .expect("the progress template is valid");
        bar.set_style(style);
        Some(Self { bar })
    }

    /// Returns the callback the runner calls after each job.
    pub fn callback(&self) -> JobDoneCallback {
        let bar = self.bar.clone();
        Arc::new(move || bar.inc(1))
    }

    /// Removes the bar, so the report starts on a clean line.
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_runs_get_no_bar() {
        assert!(Progress::start(MIN_JOBS - 1).is_none());
    }
}
