//! Turning an inventory into check jobs: one per DNS-01 solver, with the
//! domains cert-manager would route to it and the config stage already run.

use crate::decode::normalize_provider_key;
use crate::resources::{Inventory, Issuer, IssuerKind, Solver, SolverKind, WebhookSolver};
use crate::secrets::{self, has_error, referenced_secrets, SecretRequest, SecretScope};
use crate::selection::{pick_solver_offered, OfferedChallenges};
use acme_token_core::budget::BudgetSettings;
use acme_token_core::report::{CredentialSummary, IssuerRef};
use acme_token_core::runner::{challenge_fqdn, CheckJob};
use acme_token_core::sanity::{check_secret_value, placeholder_marker, ValueOrigin};
use acme_token_core::{
    Finding, ProviderFactory, ProviderSettings, Reason, SecretValue, Severity, SolverPlan, Stage,
    StageReport,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Provider id of jobs that have no provider: a domain no solver takes,
/// a legacy issuer, a `dns01` block without a provider.
pub const NO_PROVIDER: &str = "none";

/// Budget of jobs that never send a request.
const IDLE_BUDGET: BudgetSettings = BudgetSettings {
    per_second: 1.0,
    burst: 1,
};

/// Options of [`plan_checks`].
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// Namespace cert-manager reads ClusterIssuer Secrets from
    /// (`--cluster-resource-namespace`).
    pub cluster_resource_namespace: String,
    /// Namespace of namespaced objects that set none (`-n`, or the
    /// kubeconfig context's namespace).
    pub default_namespace: String,
    /// Domains to probe (`--domain`); when set, they replace the domains
    /// found in Certificates and selectors.
    pub domains: Vec<String>,
    /// Only Issuers of this name (`--issuer`; `NAME` or `NAMESPACE/NAME`).
    pub issuer: Option<String>,
    /// Only ClusterIssuers of this name (`--cluster-issuer`).
    pub cluster_issuer: Option<String>,
    /// No network at run time: Secrets that only exist at run time make the
    /// check a `SKIP` instead of a failure.
    pub offline: bool,
    /// Secrets missing from the input may exist in the cluster, which is
    /// read for them; when false (files only, the default) such a Secret
    /// makes the check a `SKIP`, because its value cannot be checked here.
    pub secrets_from_cluster: bool,
    /// Settings per provider, keyed by descriptor id.
    pub provider_settings: BTreeMap<String, ProviderSettings>,
    /// Factor applied to every provider's default request budget.
    pub budget_factor: f64,
    /// Values that replace Secret fields of every supported solver in scope
    /// (`check --candidate`); the replaced Secrets are not read. Empty for a
    /// normal check.
    pub overrides: Vec<SecretOverride>,
}

/// A value that replaces one Secret field of a solver for a check, such as
/// a candidate token given with `--candidate keyring:cf-next`.
#[derive(Clone)]
pub struct SecretOverride {
    /// cert-manager field it replaces, such as `apiTokenSecretRef`; `None`
    /// replaces the solver's only Secret field.
    pub field: Option<String>,
    /// Where the value comes from, such as `keyring:cf-next`, for reports.
    pub source: String,
    /// The raw bytes, kept secret, for the same sanity checks a Secret's
    /// value gets.
    pub raw: Arc<secrecy::SecretSlice<u8>>,
}

impl SecretOverride {
    /// Wraps raw bytes read from a credential source.
    pub fn new(field: Option<String>, source: impl Into<String>, raw: Vec<u8>) -> Self {
        Self {
            field,
            source: source.into(),
            raw: Arc::new(secrecy::SecretSlice::from(raw)),
        }
    }

    fn value(&self) -> SecretValue {
        SecretValue::from_bytes(secrecy::ExposeSecret::expose_secret(self.raw.as_ref()))
    }
}

impl fmt::Debug for SecretOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretOverride")
            .field("field", &self.field)
            .field("source", &self.source)
            .field("value", &self.value())
            .finish()
    }
}

/// Context key set on jobs whose Secret fields were replaced by
/// [`PlanOptions::overrides`]; its value names the sources.
pub const CANDIDATE_CONTEXT: &str = "candidate";

impl Default for PlanOptions {
    fn default() -> Self {
        Self {
            cluster_resource_namespace: "cert-manager".to_string(),
            default_namespace: "default".to_string(),
            domains: Vec::new(),
            issuer: None,
            cluster_issuer: None,
            offline: false,
            secrets_from_cluster: false,
            provider_settings: BTreeMap::new(),
            budget_factor: 1.0,
            overrides: Vec::new(),
        }
    }
}

/// The jobs to run and the notices about the input.
pub struct Planned {
    pub jobs: Vec<CheckJob>,
    /// The inventory's notices followed by those found while planning;
    /// callers show only these.
    pub notices: Vec<Finding>,
}

impl fmt::Debug for Planned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jobs: Vec<JobSummary<'_>> = self.jobs.iter().map(JobSummary).collect();
        f.debug_struct("Planned")
            .field("jobs", &jobs)
            .field("notices", &self.notices)
            .finish()
    }
}

/// `Debug` view of a job; `CheckJob` has no `Debug` because its provider
/// is a trait object.
struct JobSummary<'a>(&'a CheckJob);

impl fmt::Debug for JobSummary<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let job = self.0;
        f.debug_struct("CheckJob")
            .field("issuer", &job.issuer)
            .field("solver_index", &job.solver_index)
            .field("provider_id", &job.provider_id)
            .field("domains", &job.domains)
            .field("config", &job.config)
            .field("config_findings", &job.config.findings)
            .field("has_provider", &job.provider.is_some())
            .field("skip", &job.skip)
            .field("budget", &job.budget)
            .field("credentials", &job.credentials)
            .field("context", &job.context)
            .finish()
    }
}

/// Plans the checks for every selected issuer's DNS-01 solvers.
///
/// Domains come from `opts.domains`, or else from the Certificates that use
/// the issuer and from the solvers' selectors. Each is routed to the solver
/// cert-manager would pick. A Certificate domain that no solver takes gets a
/// failing job of its own (`NoSolverForDomain`).
pub fn plan_checks(
    inventory: &Inventory,
    factories: &[Arc<dyn ProviderFactory>],
    opts: &PlanOptions,
) -> Planned {
    let mut planned = Planned {
        jobs: Vec::new(),
        notices: inventory.notices.clone(),
    };

    let selected: Vec<&Issuer> = inventory
        .issuers
        .iter()
        .filter(|issuer| is_selected(issuer, opts))
        .collect();
    note_unmatched_filters(&selected, &inventory.issuers, opts, &mut planned.notices);

    for issuer in selected {
        let planner = IssuerPlanner::new(issuer, inventory, factories, opts);
        planner.plan(&mut planned);
    }
    planned
}

fn is_selected(issuer: &Issuer, opts: &PlanOptions) -> bool {
    if opts.issuer.is_none() && opts.cluster_issuer.is_none() {
        return true;
    }
    match issuer.kind {
        IssuerKind::ClusterIssuer => opts.cluster_issuer.as_deref() == Some(issuer.name.as_str()),
        IssuerKind::Issuer => match opts.issuer.as_deref().map(|filter| filter.split_once('/')) {
            None => false,
            Some(Some((namespace, name))) => {
                name == issuer.name
                    && issuer
                        .namespace
                        .as_deref()
                        .unwrap_or(&opts.default_namespace)
                        == namespace
            }
            Some(None) => opts.issuer.as_deref() == Some(issuer.name.as_str()),
        },
    }
}

fn note_unmatched_filters(
    selected: &[&Issuer],
    all: &[Issuer],
    opts: &PlanOptions,
    notices: &mut Vec<Finding>,
) {
    let filters = [
        (IssuerKind::Issuer, &opts.issuer, "--issuer"),
        (
            IssuerKind::ClusterIssuer,
            &opts.cluster_issuer,
            "--cluster-issuer",
        ),
    ];
    for (kind, filter, flag) in filters {
        let Some(name) = filter else { continue };
        if !selected.iter().any(|issuer| issuer.kind == kind) {
            notices.push(
                Finding::error(
                    Reason::InvalidConfig,
                    Stage::Config,
                    format!("no {kind} named {name} was found in the input ({flag})"),
                )
                .with_remedy(match existing_names(all, kind).as_str() {
                    "" => format!("the input has no {kind}; check the input, or the flag: Issuers are namespaced, ClusterIssuers are not"),
                    names => format!("check the name given to {flag}; the input has the {kind}s {names}"),
                }),
            );
        }
    }
}

/// Names of the issuers of `kind` in the input, for messages.
fn existing_names(all: &[Issuer], kind: IssuerKind) -> String {
    let names: Vec<String> = all
        .iter()
        .filter(|issuer| issuer.kind == kind)
        .map(|issuer| match &issuer.namespace {
            Some(namespace) if kind == IssuerKind::Issuer => format!("{namespace}/{}", issuer.name),
            _ => issuer.name.clone(),
        })
        .collect();
    names.join(", ")
}

/// Source of a domain to probe.
#[derive(Debug, Clone)]
enum DomainOrigin {
    Flag,
    Certificate(String),
    /// A solver's own `dnsNames` or `dnsZones`; a domain of this origin that
    /// no solver takes is dropped without a finding.
    Selector,
}

impl DomainOrigin {
    fn describe(&self) -> String {
        match self {
            DomainOrigin::Flag => "--domain".to_string(),
            DomainOrigin::Certificate(name) => format!("Certificate {name}"),
            DomainOrigin::Selector => "a solver selector".to_string(),
        }
    }
}

/// Domains per solver index, and the domains no solver takes.
struct Routes {
    routed: BTreeMap<usize, Vec<String>>,
    unmatched: Vec<(String, DomainOrigin)>,
}

struct IssuerPlanner<'a> {
    issuer: &'a Issuer,
    inventory: &'a Inventory,
    factories: &'a [Arc<dyn ProviderFactory>],
    opts: &'a PlanOptions,
    /// Namespace of a namespaced Issuer; `None` for a ClusterIssuer.
    namespace: Option<String>,
    /// Namespace cert-manager reads this issuer's Secrets from.
    secret_namespace: String,
}

impl<'a> IssuerPlanner<'a> {
    fn new(
        issuer: &'a Issuer,
        inventory: &'a Inventory,
        factories: &'a [Arc<dyn ProviderFactory>],
        opts: &'a PlanOptions,
    ) -> Self {
        let namespace = match issuer.kind {
            IssuerKind::ClusterIssuer => None,
            IssuerKind::Issuer => Some(
                issuer
                    .namespace
                    .clone()
                    .unwrap_or_else(|| opts.default_namespace.clone()),
            ),
        };
        let secret_namespace = namespace
            .clone()
            .unwrap_or_else(|| opts.cluster_resource_namespace.clone());
        Self {
            issuer,
            inventory,
            factories,
            opts,
            namespace,
            secret_namespace,
        }
    }

    fn issuer_ref(&self) -> IssuerRef {
        IssuerRef {
            kind: self.issuer.kind.as_str().to_string(),
            name: self.issuer.name.clone(),
            namespace: self.namespace.clone(),
        }
    }

    fn display_name(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("Issuer {namespace}/{}", self.issuer.name),
            None => format!("ClusterIssuer {}", self.issuer.name),
        }
    }

    fn notice(&self, finding: Finding) -> Finding {
        Finding {
            message: format!("{}: {}", self.issuer.source, finding.message),
            ..finding
        }
    }

    fn plan(&self, planned: &mut Planned) {
        let issuer = self.issuer;
        if issuer.kind == IssuerKind::Issuer && issuer.namespace.is_none() {
            planned.notices.push(self.notice(Finding::info(
                Reason::Notice,
                Stage::Config,
                format!(
                    "Issuer {} has no metadata.namespace, so the default namespace {} is assumed (set metadata.namespace, or pass -n)",
                    issuer.name, self.opts.default_namespace
                ),
            )));
        }
        if issuer.legacy {
            planned.jobs.push(self.legacy_job());
            return;
        }
        if !issuer.acme {
            planned.notices.push(self.notice(Finding::info(
                Reason::Notice,
                Stage::Config,
                format!(
                    "{} is not an ACME issuer (no spec.acme), so it has no DNS-01 solver to check",
                    self.display_name()
                ),
            )));
            return;
        }
        if issuer.solvers.is_empty() {
            planned.notices.push(self.notice(Finding::info(
                Reason::Notice,
                Stage::Config,
                format!(
                    "{} has no solvers (spec.acme.solvers is empty), so there is nothing to check",
                    self.display_name()
                ),
            )));
            return;
        }
        if !issuer
            .solvers
            .iter()
            .any(|solver| matches!(solver.kind, SolverKind::Dns01 { .. }))
        {
            planned.notices.push(self.notice(Finding::info(
                Reason::Notice,
                Stage::Config,
                format!("{} has no DNS-01 solver (only http01 or invalid ones), so there is nothing to check", self.display_name()),
            )));
            for solver in issuer
                .solvers
                .iter()
                .filter(|solver| solver.invalid.is_some())
            {
                planned.jobs.push(self.invalid_solver_job(solver));
            }
            return;
        }

        let Routes { routed, unmatched } = self.route_domains(&mut planned.notices);
        for solver in &issuer.solvers {
            match &solver.kind {
                SolverKind::Dns01 { .. } => {
                    let domains = routed.get(&solver.index).cloned().unwrap_or_default();
                    planned.jobs.push(self.solver_job(solver, domains));
                }
                SolverKind::Http01 | SolverKind::Unknown if solver.invalid.is_some() => {
                    planned.jobs.push(self.invalid_solver_job(solver));
                }
                SolverKind::Http01 | SolverKind::Unknown => {}
            }
        }
        for (domain, origin) in unmatched {
            planned.jobs.push(self.no_solver_job(&domain, &origin));
        }
    }

    /// Routes every domain to the solver cert-manager would pick.
    fn route_domains(&self, notices: &mut Vec<Finding>) -> Routes {
        let mut candidates: Vec<(String, BTreeMap<String, String>, DomainOrigin)> = Vec::new();
        if !self.opts.domains.is_empty() {
            for domain in &self.opts.domains {
                candidates.push((domain.clone(), BTreeMap::new(), DomainOrigin::Flag));
            }
        } else {
            for certificate in self.certificates() {
                let name = format!(
                    "{}/{}",
                    certificate
                        .namespace
                        .as_deref()
                        .unwrap_or(&self.opts.default_namespace),
                    certificate.name
                );
                for domain in certificate.domains() {
                    if let Some(marker) = placeholder_marker(&domain) {
                        notices.push(
                            Finding::warning(
                                Reason::PlaceholderUnexpanded,
                                Stage::Config,
                                format!(
                                    "{}: Certificate {name} names the domain {domain}, an unexpanded placeholder ({marker} form); it is not probed",
                                    certificate.source
                                ),
                            )
                            .with_remedy("render the template first (helm template, kustomize build, envsubst)"),
                        );
                        continue;
                    }
                    candidates.push((
                        domain,
                        certificate.labels.clone(),
                        DomainOrigin::Certificate(name.clone()),
                    ));
                }
            }
            for solver in &self.issuer.solvers {
                let Some(selector) = &solver.selector else {
                    continue;
                };
                for domain in selector.dns_names.iter().chain(&selector.dns_zones) {
                    let domain = domain.trim_end_matches('.').to_string();
                    candidates.push((
                        domain,
                        selector.match_labels.clone(),
                        DomainOrigin::Selector,
                    ));
                }
            }
        }

        let mut routed: BTreeMap<usize, Vec<String>> = BTreeMap::new();
        let mut unmatched: Vec<(String, DomainOrigin)> = Vec::new();
        for (domain, labels, origin) in candidates {
            // NOTE: cert-manager matches the identifier the ACME server
            // returns, which Let's Encrypt lower-cases.
            let domain = domain.trim().to_ascii_lowercase();
            if domain.is_empty() {
                continue;
            }
            let offered = OfferedChallenges::for_domain(&domain);
            match pick_solver_offered(&self.issuer.solvers, &domain, &labels, offered) {
                Some(position) => {
                    let solver = &self.issuer.solvers[position];
                    if matches!(solver.kind, SolverKind::Dns01 { .. }) {
                        let domains = routed.entry(solver.index).or_default();
                        let fqdn = challenge_fqdn(&domain);
                        if !domains.iter().any(|known| challenge_fqdn(known) == fqdn) {
                            domains.push(domain);
                        }
                    } else if !matches!(origin, DomainOrigin::Selector) {
                        notices.push(self.notice(Finding::info(
                            Reason::Notice,
                            Stage::Config,
                            format!(
                                "{domain} ({}) is solved by the http01 solver {} of {}, so it is not probed",
                                origin.describe(),
                                solver.index,
                                self.display_name()
                            ),
                        )));
                    }
                }
                None if matches!(origin, DomainOrigin::Selector) => {}
                None => {
                    if !unmatched.iter().any(|(known, _)| *known == domain) {
                        unmatched.push((domain, origin));
                    }
                }
            }
        }
        Routes { routed, unmatched }
    }

    /// Certificates whose issuerRef names this issuer. A Certificate can use
    /// an Issuer only in its own namespace.
    fn certificates(&self) -> impl Iterator<Item = &'a crate::resources::Certificate> + '_ {
        self.inventory
            .certificates
            .iter()
            .filter(move |certificate| {
                let reference = &certificate.issuer_ref;
                let group_ok = reference.group.is_empty() || reference.group == "cert-manager.io";
                if !group_ok
                    || reference.name != self.issuer.name
                    || reference.kind != self.issuer.kind.as_str()
                {
                    return false;
                }
                match &self.namespace {
                    None => true,
                    Some(namespace) => {
                        certificate
                            .namespace
                            .as_deref()
                            .unwrap_or(&self.opts.default_namespace)
                            == namespace
                    }
                }
            })
    }

    fn base_job(&self, solver_index: usize, provider_id: &str, domains: Vec<String>) -> CheckJob {
        let mut context = BTreeMap::new();
        context.insert("source".to_string(), self.issuer.source.to_string());
        CheckJob {
            issuer: self.issuer_ref(),
            solver_index,
            provider_id: provider_id.to_string(),
            domains,
            config: StageReport::passed(Stage::Config),
            provider: None,
            skip: None,
            budget: IDLE_BUDGET,
            credentials: Vec::new(),
            context,
        }
    }

    fn legacy_job(&self) -> CheckJob {
        let provider_id = self
            .issuer
            .solvers
            .iter()
            .find_map(|solver| solver.kind.provider_key())
            .filter(|key| !key.is_empty())
            .unwrap_or(NO_PROVIDER);
        let mut job = self.base_job(0, provider_id, Vec::new());
        job.config.push(
            Finding::error(
                Reason::ApiGenerationMismatch,
                Stage::Config,
                format!(
                    "{} uses {}; cert-manager has read only the cert-manager.io API group since v0.11, so it ignores this issuer",
                    self.display_name(),
                    self.issuer.api_version
                ),
            )
            .with_remedy(
                "rewrite it as cert-manager.io/v1: move each spec.acme.dns01.providers[] entry into spec.acme.solvers[].dns01, without its name",
            ),
        );
        job
    }

    fn invalid_solver_job(&self, solver: &Solver) -> CheckJob {
        let mut job = self.base_job(solver.index, NO_PROVIDER, Vec::new());
        if let Some(invalid) = &solver.invalid {
            job.config.push(self.invalid_finding(solver, invalid));
        }
        job
    }

    fn invalid_finding(&self, solver: &Solver, problem: &str) -> Finding {
        Finding::error(
            Reason::InvalidConfig,
            Stage::Config,
            format!(
                "solver {} of {}: {problem}",
                solver.index,
                self.display_name()
            ),
        )
        .with_remedy("fix spec.acme.solvers so that each entry sets exactly one of dns01 or http01")
    }

    fn no_solver_job(&self, domain: &str, origin: &DomainOrigin) -> CheckJob {
        let mut job = self.base_job(0, NO_PROVIDER, vec![domain.to_string()]);
        job.context
            .insert("domainSource".to_string(), origin.describe());
        job.config.push(
            Finding::error(
                Reason::NoSolverForDomain,
                Stage::Config,
                format!(
                    "no solver of {} matches {domain} ({}); cert-manager fails its challenge with \"no configured challenge solvers can be used for this challenge\"",
                    self.display_name(),
                    origin.describe()
                ),
            )
            .with_remedy(format!(
                "add a solver whose selector matches {domain}, or a solver without a selector"
            )),
        );
        job
    }

    fn solver_job(&self, solver: &Solver, domains: Vec<String>) -> CheckJob {
        let SolverKind::Dns01 {
            provider_key,
            stanza,
            cname_strategy,
            other_keys,
            webhook,
        } = &solver.kind
        else {
            unreachable!("solver_job is called for DNS-01 solvers only");
        };

        let mut job = self.base_job(solver.index, provider_key, domains);
        job.context
            .insert("secretNamespace".to_string(), self.secret_namespace.clone());
        if let Some(webhook) = webhook {
            job.context.insert(
                "webhook".to_string(),
                format!("{}/{}", webhook.group_name, webhook.solver_name),
            );
        }
        self.check_solver_fields(solver, cname_strategy.as_deref(), other_keys, &mut job);

        if provider_key.is_empty() {
            job.provider_id = NO_PROVIDER.to_string();
            job.config.push(
                Finding::error(
                    Reason::InvalidConfig,
                    Stage::Config,
                    format!(
                        "solver {} of {} has a dns01 block without a provider",
                        solver.index,
                        self.display_name()
                    ),
                )
                .with_remedy(format!(
                    "add one provider under dns01: {}",
                    crate::decode::DNS01_PROVIDERS.join(", ")
                )),
            );
            return job;
        }
        if normalize_provider_key(provider_key).is_none() {
            job.config.push(unknown_provider_finding(
                solver.index,
                &self.display_name(),
                provider_key,
            ));
            return job;
        }

        match find_factory(self.factories, provider_key, webhook.as_ref()) {
            Some(factory) => self.supported_job(factory, stanza, job),
            None => self.unsupported_job(provider_key, stanza, webhook.as_ref(), job),
        }
    }

    /// Findings about the solver's own fields: validation problems, a second
    /// provider, an unknown `dns01` key, `cnameStrategy`, selectors that can
    /// never match.
    fn check_solver_fields(
        &self,
        solver: &Solver,
        cname_strategy: Option<&str>,
        other_keys: &[String],
        job: &mut CheckJob,
    ) {
        let name = self.display_name();
        if let Some(invalid) = &solver.invalid {
            job.config.push(self.invalid_finding(solver, invalid));
        }
        for key in other_keys {
            let message = if normalize_provider_key(key).is_some() {
                format!(
                    "solver {} of {name} sets a second provider ({key}) under dns01; cert-manager accepts one provider per solver",
                    solver.index
                )
            } else {
                format!(
                    "solver {} of {name} has the unknown field dns01.{key}",
                    solver.index
                )
            };
            job.config.push(
                Finding::error(Reason::InvalidConfig, Stage::Config, message).with_remedy(
                    "keep one provider under dns01 and put others in solvers of their own",
                ),
            );
        }
        match cname_strategy {
            None | Some("") | Some("None") => {}
            Some("Follow") => {
                job.context.insert("cnameStrategy".to_string(), "Follow".to_string());
            }
            Some(other) => job.config.push(
                Finding::error(
                    Reason::InvalidConfig,
                    Stage::Config,
                    format!("solver {} of {name} sets dns01.cnameStrategy to {other}; cert-manager accepts only None or Follow", solver.index),
                )
                .with_remedy("set dns01.cnameStrategy to None or Follow"),
            ),
        }
        let Some(selector) = &solver.selector else {
            return;
        };
        for zone in selector
            .dns_zones
            .iter()
            .filter(|zone| zone.ends_with('.') && zone.len() > 1)
        {
            job.config.push(
                Finding::warning(
                    Reason::InvalidConfig,
                    Stage::Config,
                    format!(
                        "solver {} of {name}: selector.dnsZones entry {zone} ends with a dot, so cert-manager never matches it (it compares the last label with its dot)",
                        solver.index
                    ),
                )
                .with_remedy(format!("write {}", zone.trim_end_matches('.'))),
            );
        }
        for dns_name in selector
            .dns_names
            .iter()
            .filter(|name| name.chars().any(|c| c.is_ascii_uppercase()))
        {
            job.config.push(
                Finding::warning(
                    Reason::InvalidConfig,
                    Stage::Config,
                    format!(
                        "solver {} of {name}: selector.dnsNames entry {dns_name} has upper-case letters; Let's Encrypt returns names in lower case and cert-manager compares dnsNames exactly, so it never matches",
                        solver.index
                    ),
                )
                .with_remedy(format!("write {}", dns_name.to_ascii_lowercase())),
            );
        }
    }

    fn scope(&self) -> SecretScope<'_> {
        SecretScope {
            issuer: self.display_name(),
            cluster_scoped: self.issuer.kind == IssuerKind::ClusterIssuer,
            namespace: &self.secret_namespace,
            default_namespace: &self.opts.default_namespace,
            offline: self.opts.offline || !self.opts.secrets_from_cluster,
        }
    }

    fn supported_job(
        &self,
        factory: &Arc<dyn ProviderFactory>,
        stanza: &Value,
        mut job: CheckJob,
    ) -> CheckJob {
        let descriptor = factory.descriptor();
        job.provider_id = descriptor.id.to_string();
        job.budget = descriptor.default_budget.scaled(self.opts.budget_factor);

        let plan = factory.plan(stanza);
        for finding in plan.findings.iter().cloned() {
            job.config.push(finding);
        }
        let replaced = self.assign_overrides(&plan, &mut job);
        if replaced.len() != self.opts.overrides.len() {
            // A candidate that fits no field must not fall back to the
            // in-cluster value, so the check stops at the config stage.
            return job;
        }
        let requests: Vec<SecretRequest> = plan
            .secrets
            .iter()
            .filter(|spec| !replaced.contains_key(&spec.field))
            .map(|spec| SecretRequest {
                field: spec.field.clone(),
                name: spec.name.clone(),
                key: Some(spec.key.clone()),
                trimmed_by_cert_manager: spec.trimmed_by_cert_manager,
            })
            .collect();
        let mut resolution = secrets::resolve(&requests, &self.scope(), self.inventory);
        self.apply_resolution(
            &mut job,
            &resolution.findings,
            &resolution.context,
            &resolution.secrets,
        );
        for (field, replacement) in &replaced {
            let origin = ValueOrigin {
                field: field.clone(),
                location: format!("candidate {}", replacement.source),
                trimmed_by_cert_manager: plan
                    .secrets
                    .iter()
                    .any(|spec| spec.field == *field && spec.trimmed_by_cert_manager),
            };
            let raw = secrecy::ExposeSecret::expose_secret(replacement.raw.as_ref());
            for finding in check_secret_value(raw, &origin) {
                job.config.push(finding);
            }
            resolution.values.insert(field.clone(), replacement.value());
        }
        job.credentials = resolution
            .values
            .iter()
            .map(|(field, value)| CredentialSummary {
                field: field.clone(),
                fingerprint: value.to_string(),
            })
            .collect();

        if !has_error(&job.config.findings) {
            job.skip = resolution.skip;
        }
        if plan.unusable || job.skip.is_some() {
            return job;
        }
        let mut settings = self
            .opts
            .provider_settings
            .get(descriptor.id)
            .cloned()
            .unwrap_or_default();
        // Ambient credentials are allowed per issuer kind (cert-manager's
        // --cluster-issuer-ambient-credentials and --issuer-ambient-credentials).
        settings
            .options
            .insert("issuer-kind".to_string(), self.issuer.kind.as_str().to_string());
        let outcome = factory.build(&plan, &resolution.values, &settings);
        for finding in outcome.findings {
            job.config.push(finding);
        }
        job.provider = outcome.provider;
        job
    }

    /// Matches `--candidate` values to the plan's Secret fields. Returns the
    /// replaced fields; a value that fits no field is a config error.
    fn assign_overrides<'o>(
        &'o self,
        plan: &SolverPlan,
        job: &mut CheckJob,
    ) -> BTreeMap<String, &'o SecretOverride> {
        let mut replaced = BTreeMap::new();
        if self.opts.overrides.is_empty() {
            return replaced;
        }
        let fields: Vec<&str> = plan.secrets.iter().map(|spec| spec.field.as_str()).collect();
        let sources: Vec<&str> = self.opts.overrides.iter().map(|o| o.source.as_str()).collect();
        job.context
            .insert(CANDIDATE_CONTEXT.to_string(), sources.join(","));
        for replacement in &self.opts.overrides {
            let field = match &replacement.field {
                Some(field) if fields.contains(&field.as_str()) => field.clone(),
                Some(field) => {
                    job.config.push(
                        Finding::error(
                            Reason::InvalidConfig,
                            Stage::Config,
                            format!(
                                "--candidate {field}={} names a field that solver {} of {} does not read from a Secret; it reads: {}",
                                replacement.source,
                                job.solver_index,
                                self.display_name(),
                                if fields.is_empty() { "none".to_string() } else { fields.join(", ") }
                            ),
                        )
                        .with_remedy(format!("name one of these fields: --candidate FIELD={}", replacement.source)),
                    );
                    continue;
                }
                None if fields.len() == 1 => fields[0].to_string(),
                None => {
                    job.config.push(
                        Finding::error(
                            Reason::InvalidConfig,
                            Stage::Config,
                            format!(
                                "solver {} of {} reads {} Secret fields ({}), so --candidate {} must name the field it replaces",
                                job.solver_index,
                                self.display_name(),
                                fields.len(),
                                fields.join(", "),
                                replacement.source
                            ),
                        )
                        .with_remedy(format!("write --candidate FIELD={}", replacement.source)),
                    );
                    continue;
                }
            };
            replaced.insert(field, replacement);
        }
        replaced
    }

    fn apply_resolution(
        &self,
        job: &mut CheckJob,
        findings: &[Finding],
        context: &BTreeMap<String, String>,
        secrets: &[String],
    ) {
        for finding in findings.iter().cloned() {
            job.config.push(finding);
        }
        job.context.extend(context.clone());
        if !secrets.is_empty() {
            job.context.insert("secrets".to_string(), secrets.join(","));
        }
    }

    /// Plans a solver whose provider this version cannot check. The Secrets
    /// it names are still resolved, so a missing Secret or a placeholder
    /// value fails the check. Otherwise the job is a `SKIP`.
    fn unsupported_job(
        &self,
        provider_key: &str,
        stanza: &Value,
        webhook: Option<&WebhookSolver>,
        mut job: CheckJob,
    ) -> CheckJob {
        let requests: Vec<SecretRequest> = match webhook {
            Some(webhook) => webhook
                .config
                .as_ref()
                .map(|config| referenced_secrets(config, "config"))
                .unwrap_or_default(),
            None => referenced_secrets(stanza, "")
                .into_iter()
                // An empty name means the field is unused (cert-manager reads
                // route53's secretAccessKeySecretRef only when a name is set).
                .filter(|request| !request.name.is_empty())
                .map(|request| SecretRequest {
                    trimmed_by_cert_manager: secrets::trimmed_by_cert_manager(
                        provider_key,
                        &request.field,
                    ),
                    ..request
                })
                .collect(),
        };
        let resolution = secrets::resolve(&requests, &self.scope(), self.inventory);
        self.apply_resolution(
            &mut job,
            &resolution.findings,
            &resolution.context,
            &resolution.secrets,
        );
        let (fields, prefix) = match webhook {
            Some(webhook) => (webhook.config.as_ref(), "dns01.webhook.config".to_string()),
            None => (Some(stanza), format!("dns01.{provider_key}")),
        };
        if let Some(fields) = fields {
            for (path, marker) in placeholder_fields(fields, &prefix) {
                job.config.push(
                    Finding::error(
                        Reason::PlaceholderUnexpanded,
                        Stage::Config,
                        format!("{path} of {} holds an unexpanded placeholder ({marker} form)", self.display_name()),
                    )
                    .with_remedy("render the template first (helm template, kustomize build, envsubst) or write the real value"),
                );
            }
        }
        self.note_ambient_credentials(provider_key, stanza, &mut job);

        if has_error(&job.config.findings) {
            return job;
        }
        // The unsupported provider is why the solver is skipped; a Secret
        // that only exists at run time is worth knowing but secondary.
        if let Some(mut unavailable) = resolution.skip {
            unavailable.severity = Severity::Info;
            job.config.push(unavailable);
        }
        let what = match webhook {
            Some(webhook) => {
                let known = known_webhook(&webhook.solver_name)
                    .map(|name| format!(" (recognised as the {name} webhook)"))
                    .unwrap_or_default();
                format!("the webhook solver {}{known}", webhook.solver_name)
            }
            None => format!("{provider_key} solvers"),
        };
        let named = if requests.is_empty() {
            "it references no Secret".to_string()
        } else {
            let list: Vec<String> = requests
                .iter()
                .map(|request| match &request.key {
                    Some(key) => format!(
                        "{}/{} key {key} ({})",
                        self.secret_namespace, request.name, request.field
                    ),
                    None => format!(
                        "{}/{} ({})",
                        self.secret_namespace, request.name, request.field
                    ),
                })
                .collect();
            format!("it references Secret {}", list.join(", "))
        };
        job.skip = Some(
            Finding::warning(
                Reason::ProviderUnsupported,
                Stage::Config,
                format!("{what} are not supported yet by this version; {named}"),
            )
            .with_remedy("none in this version: the solver stays SKIP until its provider is supported (`--fail-on skip` makes a skip fail the run)"),
        );
        job
    }

    /// Notes when a solver would use the controller's ambient credentials,
    /// and whether cert-manager's default flags allow that for this kind.
    fn note_ambient_credentials(&self, provider_key: &str, stanza: &Value, job: &mut CheckJob) {
        let has = |key: &str| match stanza.get(key) {
            Some(Value::String(text)) => !text.is_empty(),
            Some(Value::Object(object)) => object
                .get("name")
                .and_then(Value::as_str)
                .is_some_and(|name| !name.is_empty()),
            _ => false,
        };
        let ambient = match provider_key {
            "route53" => {
                !has("accessKeyID")
                    && !has("accessKeyIDSecretRef")
                    && !has("secretAccessKeySecretRef")
                    && stanza.pointer("/auth/kubernetes").is_none()
            }
            "cloudDNS" => !has("serviceAccountSecretRef"),
            "azureDNS" => !has("clientID"),
            _ => false,
        };
        if !ambient {
            return;
        }
        let name = self.display_name();
        let finding = match self.issuer.kind {
            IssuerKind::ClusterIssuer => Finding::info(
                Reason::Notice,
                Stage::Config,
                format!(
                    "the {provider_key} solver of {name} has no explicit credentials, so cert-manager uses the controller's ambient credentials; ClusterIssuers may use them by default (--cluster-issuer-ambient-credentials=true)"
                ),
            ),
            IssuerKind::Issuer => Finding::warning(
                Reason::InvalidConfig,
                Stage::Config,
                format!(
                    "the {provider_key} solver of {name} has no explicit credentials, but Issuers may not use the controller's ambient credentials by default (--issuer-ambient-credentials=false), so cert-manager fails with \"empty credentials\" unless that flag is set"
                ),
            )
            .with_remedy("use a ClusterIssuer, configure explicit credentials, or start the controller with --issuer-ambient-credentials"),
        };
        job.config.push(finding);
    }
}

/// Finds the factory for a solver. Built-in providers match
/// `Descriptor::solver_key` exactly. A webhook solver matches a factory
/// whose `solver_key` is `webhook/<solverName>` (compared
/// case-insensitively), because users choose `groupName` freely.
fn find_factory<'f>(
    factories: &'f [Arc<dyn ProviderFactory>],
    provider_key: &str,
    webhook: Option<&WebhookSolver>,
) -> Option<&'f Arc<dyn ProviderFactory>> {
    match webhook {
        Some(webhook) => factories.iter().find(|factory| {
            factory
                .descriptor()
                .solver_key
                .strip_prefix("webhook/")
                .is_some_and(|name| name.eq_ignore_ascii_case(&webhook.solver_name))
        }),
        None => factories
            .iter()
            .find(|factory| factory.descriptor().solver_key == provider_key),
    }
}

/// Plain string fields of a stanza that hold a placeholder, with their path.
/// The `name` and `key` of a Secret reference are left out, because secret
/// resolution reports those.
fn placeholder_fields(value: &Value, path: &str) -> Vec<(String, &'static str)> {
    let mut found = Vec::new();
    collect_placeholders(value, path, &mut found, 0);
    found
}

fn collect_placeholders(
    value: &Value,
    path: &str,
    found: &mut Vec<(String, &'static str)>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    match value {
        Value::String(text) => {
            if let Some(marker) = placeholder_marker(text) {
                found.push((path.to_string(), marker));
            }
        }
        Value::Object(map) => {
            let is_reference = map.contains_key("name") && map.contains_key("key");
            for (key, child) in map {
                if is_reference && (key == "name" || key == "key") {
                    continue;
                }
                if key.eq_ignore_ascii_case("secretName")
                    || key.eq_ignore_ascii_case("secretNameRef")
                {
                    continue;
                }
                collect_placeholders(child, &format!("{path}.{key}"), found, depth + 1);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_placeholders(item, &format!("{path}[{index}]"), found, depth + 1);
            }
        }
        _ => {}
    }
}

/// Webhooks whose support is planned, by their usual `solverName`.
fn known_webhook(solver_name: &str) -> Option<&'static str> {
    const KNOWN: &[(&str, &str)] = &[
        ("hetzner", "Hetzner"),
        ("pdns", "PowerDNS"),
        ("ovh", "OVH"),
        ("gandi", "Gandi"),
        ("godaddy", "GoDaddy"),
        ("porkbun", "Porkbun"),
        ("linode", "Linode"),
    ];
    KNOWN
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(solver_name))
        .map(|(_, name)| *name)
}

fn unknown_provider_finding(index: usize, issuer: &str, key: &str) -> Finding {
    let suggestion = crate::decode::DNS01_PROVIDERS
        .iter()
        .min_by_key(|known| edit_distance(&known.to_ascii_lowercase(), &key.to_ascii_lowercase()))
        .filter(|known| edit_distance(&known.to_ascii_lowercase(), &key.to_ascii_lowercase()) <= 3);
    let remedy = match suggestion {
        Some(known) => format!("did you mean dns01.{known}?"),
        None => format!("use one of: {}", crate::decode::DNS01_PROVIDERS.join(", ")),
    };
    Finding::error(
        Reason::InvalidConfig,
        Stage::Config,
        format!("solver {index} of {issuer} names the unknown provider dns01.{key}"),
    )
    .with_remedy(remedy)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("cloudfare", "cloudflare"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn unknown_provider_suggests_closest() {
        let finding = unknown_provider_finding(0, "ClusterIssuer x", "cloudfare");
        assert_eq!(finding.remedy, "did you mean dns01.cloudflare?");
    }
}
