//! Per-account request budget.
//!
//! Providers limit requests per account or per credential, and past the limit
//! they refuse every call for a while, cert-manager's included. Each account
//! therefore gets a token bucket sized well under the provider's published
//! limit, and the first rate-limit answer stops further probes on that
//! account for the rest of the run.

use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Token-bucket settings for one account.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetSettings {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests that may be sent at once before the sustained rate applies.
    pub burst: u32,
}

impl BudgetSettings {
    /// Scales the sustained rate and burst by `factor` (for `--budget`).
    pub fn scaled(self, factor: f64) -> Self {
        Self {
            per_second: self.per_second * factor,
            burst: ((self.burst as f64) * factor).max(1.0) as u32,
        }
    }
}

/// Reason the budget rejected a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("the provider rate-limited this account earlier in the run")]
    RateLimited {
        /// Seconds the provider requested to wait, when its response set them.
        retry_after: Option<u64>,
    },
}

#[derive(Debug)]
struct BucketState {
    tokens: f64,
    refilled_at: Instant,
    rate_limited: Option<Option<u64>>,
}

/// The request budget of one provider account.
#[derive(Debug)]
pub struct AccountBudget {
    settings: BudgetSettings,
    state: Mutex<BucketState>,
}

impl AccountBudget {
    /// Creates a full bucket.
    pub fn new(settings: BudgetSettings) -> Self {
        Self {
            settings,
            state: Mutex::new(BucketState {
                tokens: settings.burst.max(1) as f64,
                refilled_at: Instant::now(),
                rate_limited: None,
            }),
        }
    }

    /// A budget that never waits, for unit tests of providers.
    pub fn unlimited() -> Self {
        Self::new(BudgetSettings {
            per_second: 1e9,
            burst: u32::MAX / 2,
        })
    }

    /// Waits for a token. Fails once the account was rate limited.
    pub async fn acquire(&self) -> Result<(), BudgetError> {
        self.take(true).await
    }

    /// Waits for a token even after a rate limit: the delete of a probe
    /// record must still be tried.
    pub async fn acquire_for_cleanup(&self) -> Result<(), BudgetError> {
        self.take(false).await
    }

    async fn take(&self, respect_rate_limit: bool) -> Result<(), BudgetError> {
        loop {
            let wait = {
                let mut state = self.state.lock().expect("budget lock poisoned");
                if respect_rate_limit {
                    if let Some(retry_after) = state.rate_limited {
                        return Err(BudgetError::RateLimited { retry_after });
                    }
                }
                let now = Instant::now();
                let elapsed = now.duration_since(state.refilled_at).as_secs_f64();
                state.tokens = (state.tokens + elapsed * self.settings.per_second)
                    .min(self.settings.burst.max(1) as f64);
                state.refilled_at = now;
                if state.tokens >= 1.0 {
                    state.tokens -= 1.0;
                    return Ok(());
                }
                Duration::from_secs_f64((1.0 - state.tokens) / self.settings.per_second)
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Marks the account as rate limited: later [`Self::acquire`] calls fail.
    pub fn mark_rate_limited(&self, retry_after: Option<u64>) {
        let mut state = self.state.lock().expect("budget lock poisoned");
        state.rate_limited = Some(retry_after);
    }

    /// Returns true once the account was rate limited.
    pub fn is_rate_limited(&self) -> bool {
        self.state.lock().expect("budget lock poisoned").rate_limited.is_some()
    }
}

/// Budgets of all accounts in a run, created on first use.
#[derive(Debug, Default)]
pub struct Budgets {
    accounts: Mutex<HashMap<String, Arc<AccountBudget>>>,
}

impl Budgets {
    /// Returns the budget of `account_key`, creating it with `settings`.
    pub fn for_account(&self, account_key: &str, settings: BudgetSettings) -> Arc<AccountBudget> {
        let mut accounts = self.accounts.lock().expect("budgets lock poisoned");
        accounts
            .entry(account_key.to_string())
            .or_insert_with(|| Arc::new(AccountBudget::new(settings)))
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn bucket_waits_after_burst() {
        let budget = AccountBudget::new(BudgetSettings { per_second: 2.0, burst: 3 });
        let start = Instant::now();
        for _ in 0..5 {
            budget.acquire().await.unwrap();
        }
        // Three tokens at once, then two more at 2 per second.
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(990), "{waited:?}");
        assert!(waited < Duration::from_millis(1100), "{waited:?}");
    }

    #[tokio::test]
    async fn rate_limit_blocks_probes_but_not_cleanup() {
        let budget = AccountBudget::new(BudgetSettings { per_second: 100.0, burst: 10 });
        budget.mark_rate_limited(Some(30));
        assert_eq!(
            budget.acquire().await,
            Err(BudgetError::RateLimited { retry_after: Some(30) })
        );
        assert!(budget.acquire_for_cleanup().await.is_ok());
    }
}
