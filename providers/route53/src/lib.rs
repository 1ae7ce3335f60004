//! Route53 provider for acme-token: replays the calls cert-manager's built-in
//! Route53 DNS-01 solver makes, with the credential mode cert-manager would
//! pick (static keys, an assumed role, web identity or the ambient chain).
//!
//! - `config`: the `dns01.route53` stanza, cert-manager's credential-mode and
//!   region rules, and the findings they give.
//! - `client`: the AWS SDK clients (rustls with ring, explicit endpoints, no
//!   SDK retries: every attempt goes through the request budget).
//! - `soa`: the SOA walk over DNS that finds the zone before the API lookup.
//! - `replay`: the credential, zone, write and cleanup stages.
//! - `error`: the one mapping from AWS errors to finding reasons.
//! - `leftovers`: listing and deleting probe record sets a killed run left
//!   behind, for `cleanup`.
//!
//! `provider.toml` contains the descriptor as data; [`DESCRIPTOR`] must agree
//! with it, and a test checks that.

#![warn(missing_docs)]

mod client;
mod config;
mod error;
mod leftovers;
mod replay;
mod soa;

use acme_token_core::budget::BudgetSettings;
use acme_token_core::provider::{ProbeOutcome, ProbeRecord, ZoneOutcome};
use acme_token_core::{
    BuildOutcome, Descriptor, Finding, ProbeContext, Provider, ProviderFactory, ProviderSettings,
    SecretValue, SolverPlan, StageReport, ZoneRef,
};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// TTL in seconds of the challenge TXT record cert-manager writes (v1.21.1
/// and master alike).
pub const CHALLENGE_RECORD_TTL: i64 = 10;

/// Option: kind of the issuer the solver belongs to (`ClusterIssuer`,
/// `Issuer`); it decides whether ambient credentials are allowed.
pub const ISSUER_KIND_OPTION: &str = "issuer-kind";
/// Option mirroring cert-manager's `--cluster-issuer-ambient-credentials`.
pub const CLUSTER_ISSUER_AMBIENT_OPTION: &str = "cluster-issuer-ambient-credentials";
/// Option mirroring cert-manager's `--issuer-ambient-credentials`.
pub const ISSUER_AMBIENT_OPTION: &str = "issuer-ambient-credentials";
/// Option: comma-separated `host:port` recursive nameservers for the SOA walk.
pub const NAMESERVERS_OPTION: &str = "dns01-recursive-nameservers";
/// Option: file with a ServiceAccount token for web identity.
pub const TOKEN_FILE_OPTION: &str = "web-identity-token-file";
/// Option carrying the STS endpoint override (`--endpoint sts=URL`).
pub const STS_ENDPOINT_OPTION: &str = "endpoint:sts";

/// Descriptor of the Route53 provider, the same data as `provider.toml`.
///
/// Budget arithmetic: a bucket of 8 requests refilled at 1 per second lets
/// one check (at most 8 requests) run without waiting, and sends at most
/// 8 + T requests in any T seconds. Against the older documented limit of 5
/// requests per second per account that is 20% in the long run, 60% over
/// 4 s and 36% over 10 s; only a window of 2 s or less can exceed 5 per
/// second, and the replay retries throttling with backoff. Against AWS's
/// current token bucket (burst 50, refill 10 per second per account) the
/// burst is 16% and the rate 10%.
pub static DESCRIPTOR: Descriptor = Descriptor {
    id: "route53",
    name: "AWS Route53",
    solver_key: "route53",
    fields: &[
        ("accessKeyID", "access key id as a literal value; cert-manager trims whitespace"),
        ("accessKeyIDSecretRef", "Secret name and key of the access key id; not trimmed"),
        ("secretAccessKeySecretRef", "Secret name and key of the secret access key; trimmed"),
        ("role", "IAM role ARN assumed with sts:AssumeRole (session name cert-manager)"),
        ("region", "AWS region for the SDK; Route53 is global but the SDK needs one"),
        ("hostedZoneID", "pins the hosted zone; skips the SOA walk and ListHostedZonesByName"),
        ("auth.kubernetes.serviceAccountRef", "ServiceAccount whose token is exchanged with sts:AssumeRoleWithWebIdentity; needs role"),
    ],
    credential_modes: &[
        "static keys (accessKeyID or accessKeyIDSecretRef, secretAccessKeySecretRef)",
        "role assumption (role, with static keys or ambient credentials)",
        "web identity (role + auth.kubernetes.serviceAccountRef)",
        "ambient credentials (the controller's default AWS chain: env, IRSA, Pod Identity, instance profile)",
    ],
    permissions: &[
        "route53:GetChange on arn:aws:route53:::change/*",
        "route53:ChangeResourceRecordSets on arn:aws:route53:::hostedzone/ZONE_ID",
        "route53:ListHostedZonesByName on * (not needed with hostedZoneID)",
        "sts:AssumeRole on the role ARN (with role)",
        "route53:ListResourceRecordSets on arn:aws:route53:::hostedzone/ZONE_ID: needed by cleanup only (cert-manager never calls it); check uses it for optional read-backs",
        "optional: route53:GetHostedZone on arn:aws:route53:::hostedzone/ZONE_ID (private-zone check of a pinned hostedZoneID)",
    ],
    endpoints: &[
        "POST sts / Action=GetCallerIdentity",
        "POST sts / Action=AssumeRole",
        "POST sts / Action=AssumeRoleWithWebIdentity",
        "GET /2013-04-01/hostedzonesbyname?dnsname={zone}",
        "GET /2013-04-01/hostedzone/{id}",
        "POST /2013-04-01/hostedzone/{id}/rrset/",
        "GET /2013-04-01/change/{id}",
        "GET /2013-04-01/hostedzone/{id}/rrset?name={fqdn}&type=TXT&identifier={set_id}",
        "GET /2013-04-01/hostedzone/{id}/rrset?maxitems=300&name={next}&type={next}&identifier={next} (cleanup: every page of the zone)",
    ],
    default_endpoint: "https://route53.amazonaws.com",
    endpoint_overrides: &[
        ("route53", "AWS_ENDPOINT_URL_ROUTE_53"),
        ("sts", "AWS_ENDPOINT_URL_STS"),
    ],
    published_rate_limit:
        "5 requests per second per account (older documentation); now a token bucket of burst 50, refill 10 per second; throttling answers HTTP 400 Throttling",
    default_budget: BudgetSettings {
        per_second: 1.0,
        burst: 8,
    },
};

/// Builds Route53 providers from `dns01.route53` stanzas.
///
/// Provider options (`ProviderSettings::options`): [`ISSUER_KIND_OPTION`],
/// [`CLUSTER_ISSUER_AMBIENT_OPTION`], [`ISSUER_AMBIENT_OPTION`],
/// [`NAMESERVERS_OPTION`], [`TOKEN_FILE_OPTION`] and [`STS_ENDPOINT_OPTION`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Route53Factory;

impl ProviderFactory for Route53Factory {
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

    /// `check route53 --credential accessKeyIDSecretRef=SRC --credential
    /// secretAccessKeySecretRef=SRC` checks a static key pair. The region is
    /// us-east-1, where Route53 signs requests; it does not change the result.
    fn bare_stanza(&self, _options: &BTreeMap<String, String>) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "region": "us-east-1",
            "accessKeyIDSecretRef": {"name": "command-line", "key": "access-key-id"},
            "secretAccessKeySecretRef": {"name": "command-line", "key": "secret-access-key"},
        }))
    }
}

/// A Route53 credential ready for the replay. Its `Debug` output shows
/// fingerprints only.
#[derive(Debug)]
pub(crate) struct Route53Provider {
    pub(crate) setup: config::Setup,
    pub(crate) session: tokio::sync::OnceCell<Result<client::Session, replay::SessionFailure>>,
    pub(crate) account_key: String,
    pub(crate) summary: Vec<(String, String)>,
    /// Probe record sets `cleanup` listed, which are the only ones it deletes.
    pub(crate) listed: leftovers::ListedSets,
}

#[async_trait]
impl Provider for Route53Provider {
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
