//! The record of every request a provider mock received, for assertions in tests.
//!
//! Entries name the credential by a non-secret label: an API token id, or
//! `global-key:<email>`. No header or body is stored, so a secret never ends up here.

use std::collections::VecDeque;
use std::time::Duration;

use crate::faults::FaultAction;

/// Entries kept per provider; older entries are dropped first so a long-running
/// demo or benchmark cannot grow the log without bound.
const LOG_CAPACITY: usize = 100_000;

/// One received request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest<S> {
    /// 1-based arrival order across all requests of this provider.
    pub seq: u64,
    /// Time since the provider mock started.
    pub offset: Duration,
    /// HTTP method, for example `GET`.
    pub method: String,
    /// Request path without the query, for example `/client/v4/zones`.
    pub path: String,
    /// Raw query string without the leading `?`, if any.
    pub query: Option<String>,
    /// The step the request was classified as.
    pub step: S,
    /// Label of the authenticated credential, or `None` when authentication failed.
    pub credential: Option<String>,
    /// HTTP status sent back, or `None` for a reset or hung connection.
    pub status: Option<u16>,
    /// The fault applied to this request, if any.
    pub fault: Option<FaultAction>,
}

#[derive(Debug)]
pub(crate) struct RequestLog<S> {
    entries: VecDeque<LoggedRequest<S>>,
    next_seq: u64,
}

impl<S: Clone> RequestLog<S> {
    pub(crate) fn new() -> RequestLog<S> {
        RequestLog {
            entries: VecDeque::new(),
            next_seq: 1,
        }
    }

    /// Appends `entry` under the next sequence number and returns that number.
    pub(crate) fn push(&mut self, mut entry: LoggedRequest<S>) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        entry.seq = seq;
        if self.entries.len() == LOG_CAPACITY {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
        seq
    }

    pub(crate) fn get(&self, seq: u64) -> Option<&LoggedRequest<S>> {
        let first = self.entries.front()?.seq;
        let index = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.entries.get(index)
    }

    pub(crate) fn get_mut(&mut self, seq: u64) -> Option<&mut LoggedRequest<S>> {
        let first = self.entries.front()?.seq;
        let index = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.entries.get_mut(index)
    }

    pub(crate) fn snapshot(&self) -> Vec<LoggedRequest<S>> {
        self.entries.iter().cloned().collect()
    }
}
