//! Provider-neutral model of acme-token.
//!
//! This crate knows no DNS provider and no output format. It defines what a
//! provider must do (the [`Provider`] and [`ProviderFactory`] traits), the
//! shape of a finding and of the report, the checks that apply to any secret
//! value, the per-account request budget, and the runner that drives the
//! stages of every check in order: config, credential, zone, write, cleanup.

pub mod budget;
pub mod finding;
pub mod http;
pub mod probe;
pub mod provider;
pub mod report;
pub mod rotation;
pub mod runner;
pub mod sanity;
pub mod secret;

pub use budget::{AccountBudget, BudgetSettings, Budgets};
pub use finding::{Evidence, Finding, Reason, Severity, Stage};
pub use http::HttpSettings;
pub use probe::ProbeValue;
pub use provider::{
    BuildOutcome, Descriptor, ProbeContext, ProbeRecord, Provider, ProviderFactory, ProviderSettings,
    SecretFieldSpec, SolverPlan, StageReport, StageStatus, ZoneRef,
};
pub use report::{CheckEntry, Report, Verdict};
pub use secret::SecretValue;
