//! Helpers shared by the integration tests: a fake Cloudflare factory and
//! fixture loading.

#![allow(dead_code)]

use acme_token_certmanager::{load_paths, load_str, plan_checks, Inventory, PlanOptions, Planned};
use acme_token_core::budget::BudgetSettings;
use acme_token_core::provider::{ProbeOutcome, ZoneOutcome};
use acme_token_core::{
    BuildOutcome, Descriptor, Finding, ProbeContext, Provider, ProviderFactory, ProviderSettings,
    Reason, SecretFieldSpec, SecretValue, SolverPlan, Stage, StageReport, ZoneRef,
};
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub static FAKE_DESCRIPTOR: Descriptor = Descriptor {
    id: "cloudflare",
    name: "Fake Cloudflare",
    solver_key: "cloudflare",
    fields: &[("apiTokenSecretRef", "API token")],
    credential_modes: &["API token"],
    permissions: &["Zone:Read", "DNS:Edit"],
    endpoints: &[],
    default_endpoint: "http://127.0.0.1:9",
    endpoint_overrides: &[],
    published_rate_limit: "none",
    default_budget: BudgetSettings {
        per_second: 4.0,
        burst: 8,
    },
};

/// A factory for `dns01.cloudflare` stanzas with one secret field,
/// `apiTokenSecretRef`, which cert-manager does not trim. It records the
/// values `build` receives by field, as (length, fingerprint).
#[derive(Default)]
pub struct FakeFactory {
    pub built: Mutex<Vec<BTreeMap<String, (usize, String)>>>,
}

impl ProviderFactory for FakeFactory {
    fn descriptor(&self) -> &'static Descriptor {
        &FAKE_DESCRIPTOR
    }

    fn plan(&self, stanza: &serde_json::Value) -> SolverPlan {
        let mut plan = SolverPlan::default();
        let Some(reference) = stanza.get("apiTokenSecretRef") else {
            plan.unusable = true;
            plan.findings.push(Finding::error(
                Reason::InvalidConfig,
                Stage::Config,
                "cloudflare: apiTokenSecretRef is missing",
            ));
            return plan;
        };
        let text = |key: &str| {
            reference
                .get(key)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        plan.secrets.push(SecretFieldSpec {
            field: "apiTokenSecretRef".into(),
            name: text("name"),
            key: text("key"),
            trimmed_by_cert_manager: false,
        });
        plan
    }

    fn build(
        &self,
        _plan: &SolverPlan,
        secrets: &BTreeMap<String, SecretValue>,
        _settings: &ProviderSettings,
    ) -> BuildOutcome {
        self.built.lock().unwrap().push(
            secrets
                .iter()
                .map(|(field, value)| (field.clone(), (value.len(), value.fingerprint())))
                .collect(),
        );
        let provider: Option<Arc<dyn Provider>> = if secrets.contains_key("apiTokenSecretRef") {
            Some(Arc::new(FakeProvider))
        } else {
            None
        };
        BuildOutcome {
            provider,
            findings: Vec::new(),
        }
    }
}

pub struct FakeProvider;

#[async_trait]
impl Provider for FakeProvider {
    fn descriptor(&self) -> &'static Descriptor {
        &FAKE_DESCRIPTOR
    }

    fn account_key(&self) -> String {
        "fake".into()
    }

    fn credential_summary(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    async fn verify_credential(&self, _cx: &ProbeContext) -> StageReport {
        StageReport::passed(Stage::Credential)
    }

    async fn find_zone(&self, _cx: &ProbeContext, _fqdn: Option<&str>) -> ZoneOutcome {
        ZoneOutcome {
            report: StageReport::passed(Stage::Zone),
            zone: None,
        }
    }

    async fn probe_write(
        &self,
        _cx: &ProbeContext,
        _zone: &ZoneRef,
        _fqdn: &str,
        _value: &str,
    ) -> ProbeOutcome {
        ProbeOutcome {
            write: StageReport::passed(Stage::Write),
            cleanup: StageReport::passed(Stage::Cleanup),
        }
    }
}

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

pub fn load_fixture(name: &str) -> Inventory {
    load_paths(&[fixture_path(name)]).unwrap_or_else(|error| panic!("{name}: {error}"))
}

pub fn load(text: &str) -> Inventory {
    load_str(text, "test.yaml").unwrap_or_else(|error| panic!("{error}"))
}

pub fn plan(inventory: &Inventory, opts: &PlanOptions) -> Planned {
    let factories: Vec<Arc<dyn ProviderFactory>> = vec![Arc::new(FakeFactory::default())];
    plan_checks(inventory, &factories, opts)
}

pub fn plan_default(text: &str) -> Planned {
    plan(&load(text), &PlanOptions::default())
}

/// Reasons of a job's config findings, in order.
pub fn config_reasons(planned: &Planned, job: usize) -> Vec<Reason> {
    planned.jobs[job]
        .config
        .findings
        .iter()
        .map(|f| f.reason)
        .collect()
}

pub fn notice_reasons(planned: &Planned) -> Vec<Reason> {
    planned.notices.iter().map(|f| f.reason).collect()
}
