//! Cloudflare provider for acme-token: replays the calls cert-manager's
//! built-in Cloudflare DNS-01 solver makes with the real credential.
//!
//! - `config`: reading the `dns01.cloudflare` stanza and the credential, as
//!   cert-manager's webhook and constructor do.
//! - `replay`: the credential, zone, write and cleanup stages, request by
//!   request.
//! - `client`: the typed HTTP client for the v4 API.
//! - `error`: the one mapping from Cloudflare responses to finding reasons.
//!
//! `provider.toml` contains the descriptor as data; [`DESCRIPTOR`] must agree
//! with it, and a test checks that.

#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod leftovers;
mod replay;

#[doc(hidden)]
pub use client::fuzz_decode;

use acme_token_core::budget::BudgetSettings;
use acme_token_core::provider::{ProbeOutcome, ProbeRecord, ZoneOutcome};
use acme_token_core::{Finding, 
    BuildOutcome, Descriptor, ProbeContext, Provider, ProviderFactory, ProviderSettings,
    SecretValue, SolverPlan, StageReport, ZoneRef,
};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// TTL in seconds of the challenge TXT record. cert-manager v1.21.1, the
/// latest release, creates the record with TTL 120; its master branch uses 60
/// since commit 1e3f9c364. The probe writes what released cert-manager writes.
pub const CHALLENGE_RECORD_TTL: u32 = 120;

/// Descriptor of the Cloudflare provider, the same data as `provider.toml`.
///
/// The default budget allows at most 60 + 2 × 300 = 660 requests in any
/// 5-minute window, which is 55% of the 1200 that Cloudflare allows per user
/// or account token.
pub static DESCRIPTOR: Descriptor = Descriptor {
    id: "cloudflare",
    name: "Cloudflare",
    solver_key: "cloudflare",
    fields: &[
        (
            "apiTokenSecretRef",
            "Secret name and key of an API token (recommended)",
        ),
        (
            "apiKeySecretRef",
            "Secret name and key of the global API key; requires email",
        ),
        (
            "email",
            "login email of the Cloudflare account; required with apiKeySecretRef, and sent as X-Auth-Email whenever set",
        ),
    ],
    credential_modes: &[
        "API token (apiTokenSecretRef)",
        "global API key + email (apiKeySecretRef, email)",
    ],
    permissions: &[
        "Zone / Zone / Read (all zones, or the specific zones)",
        "Zone / DNS / Edit (all zones, or the specific zones)",
    ],
    endpoints: &[
        "GET /user/tokens/verify",
        "GET /accounts/{account_id}/tokens/verify",
        "GET /zones?name={name}",
        "GET /zones?per_page={n}",
        "GET /zones/{zone_id}/dns_records?per_page=100&type=TXT&name={fqdn}",
        "POST /zones/{zone_id}/dns_records",
        "DELETE /zones/{zone_id}/dns_records/{record_id}",
        "GET /zones/{zone_id}/dns_records?type=TXT&name.startswith=_acme-challenge.&per_page=100&page={n} (cleanup only)",
    ],
    default_endpoint: "https://api.cloudflare.com/client/v4",
    published_rate_limit:
        "1200 requests per 5 minutes per user or account token; past it all calls are blocked for 5 minutes",
    default_budget: BudgetSettings {
        per_second: 2.0,
        burst: 60,
    },
};

/// Builds Cloudflare providers from `dns01.cloudflare` stanzas.
///
/// Provider options (`ProviderSettings::options`): `account-id`, the id of
/// the account that owns an account API token. Without it, the account id is
/// read from the zones the token can see.
#[derive(Debug, Clone, Copy, Default)]
pub struct CloudflareFactory;

impl ProviderFactory for CloudflareFactory {
    fn descriptor(&self) -> &'static Descriptor {
        &DESCRIPTOR
    }

    fn plan(&self, stanza: &serde_json::Value) -> SolverPlan {
        config::plan(stanza)
    }

    fn build(
        &self,
        plan: &SolverPlan,
        secrets: &BTreeMap<String, SecretValue>,
        settings: &ProviderSettings,
    ) -> BuildOutcome {
        config::build(plan, secrets, settings)
    }

    /// `check cloudflare --credential SRC` checks an API token; with
    /// `--email` it checks a global API key, as `apiKeySecretRef` + `email`.
    fn bare_stanza(&self, options: &BTreeMap<String, String>) -> Option<serde_json::Value> {
        let stanza = match options.get("email") {
            Some(email) => serde_json::json!({
                "email": email,
                "apiKeySecretRef": {"name": "command-line", "key": "credential"},
            }),
            None => serde_json::json!({
                "apiTokenSecretRef": {"name": "command-line", "key": "credential"},
            }),
        };
        Some(stanza)
    }
}

/// A Cloudflare credential ready for the replay. Its `Debug` output shows the
/// credential's fingerprint only.
#[derive(Debug)]
pub(crate) struct CloudflareProvider {
    pub(crate) client: client::Client,
    pub(crate) shape: config::CredentialShape,
    /// Value of the `account-id` option.
    pub(crate) account_id: Option<String>,
    /// Mode the value is checked in, when it differs from the configuration.
    pub(crate) checked_as: Option<String>,
    /// True when leading or trailing whitespace was removed from the value.
    pub(crate) trimmed: bool,
    pub(crate) location: config::SecretLocation,
    pub(crate) account_key: String,
    pub(crate) summary: Vec<(String, String)>,
}

#[async_trait]
impl Provider for CloudflareProvider {
    fn descriptor(&self) -> &'static Descriptor {
        &DESCRIPTOR
    }

    fn account_key(&self) -> String {
        self.account_key.clone()
    }

    fn credential_summary(&self) -> Vec<(String, String)> {
        self.summary.clone()
    }

    async fn verify_credential(&self, cx: &ProbeContext) -> StageReport {
        replay::verify_credential(self, cx).await
    }

    async fn find_zone(&self, cx: &ProbeContext, fqdn: Option<&str>) -> ZoneOutcome {
        replay::find_zone(self, cx, fqdn).await
    }

    async fn probe_write(
        &self,
        cx: &ProbeContext,
        zone: &ZoneRef,
        fqdn: &str,
        value: &str,
    ) -> ProbeOutcome {
        replay::probe_write(self, cx, zone, fqdn, value).await
    }

    async fn list_probe_records(
        &self,
        cx: &ProbeContext,
        zone: &ZoneRef,
    ) -> Result<Vec<ProbeRecord>, Finding> {
        leftovers::list(self, cx, zone).await
    }

    async fn delete_probe_record(
        &self,
        cx: &ProbeContext,
        zone: &ZoneRef,
        record: &ProbeRecord,
    ) -> Result<(), Finding> {
        leftovers::delete(self, cx, zone, record).await
    }
}
