//! The `check` command: from manifests or a bare credential to a report.

use crate::args::{CheckArgs, FailOnArg, ReportArgs};
use crate::cluster;
use crate::endpoints;
use crate::progress::Progress;
use crate::registry;
use crate::source::CredentialArg;
use acme_token_certmanager::{load_paths, plan_checks, PlanOptions};
use acme_token_core::finding::{Severity, Stage};
use acme_token_core::provider::StageReport;
use acme_token_core::report::{CredentialSummary, FailOn, IssuerRef, ReportMetadata};
use acme_token_core::runner::{run_checks, CheckJob, RunSettings};
use acme_token_core::sanity::{check_secret_value, ValueOrigin};
use acme_token_core::{HttpSettings, ProviderFactory, ProviderSettings, Report};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Error that stops `check` before any report exists; exit code 2.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Load(#[from] acme_token_certmanager::LoadError),
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    #[error(transparent)]
    Cluster(#[from] acme_token_cluster::ClusterError),
}

/// Maps `--fail-on` values to the report's setting.
pub fn fail_on(report_args: &ReportArgs) -> FailOn {
    FailOn {
        warning: report_args.fail_on.contains(&FailOnArg::Warning),
        skip: report_args.fail_on.contains(&FailOnArg::Skip),
    }
}

/// Runs `check` and returns the report.
pub async fn run(args: &CheckArgs, cancel: CancellationToken) -> Result<Report, CheckError> {
    let factories = registry::factories();
    let overrides = endpoints::collect_for(&args.endpoints, &factories).map_err(CheckError::Usage)?;
    let provider_settings = provider_settings(args, &factories, &overrides);

    crate::candidate::validate(args)?;
    let (jobs, candidate_jobs, notices) = match &args.provider {
        Some(provider) => (
            bare_credential_job(args, provider, &factories, &provider_settings)?,
            Vec::new(),
            Vec::new(),
        ),
        None => {
            if !args.credentials.is_empty() {
                return Err(CheckError::Usage(
                    "--credential needs a provider: `kubectl acme-token check cloudflare --credential env:VAR --domain example.com`".into(),
                ));
            }
            if args.filenames.is_empty() && args.offline {
                return Err(CheckError::Usage(
                    "nothing to check: --offline reads only files; pass manifests with -f PATH (a file, a directory or - for stdin)".into(),
                ));
            }
            let mut options = PlanOptions {
                cluster_resource_namespace: args.cluster_resource_namespace.clone(),
                default_namespace: args.namespace.clone().unwrap_or_else(|| "default".to_string()),
                domains: args.domains.clone(),
                issuer: args.issuer.clone(),
                cluster_issuer: args.cluster_issuer.clone(),
                offline: args.offline,
                secrets_from_cluster: cluster::uses_cluster(args),
                provider_settings: provider_settings.clone(),
                budget_factor: args.budget,
                overrides: Vec::new(),
            };
            let mut selection = cluster::Selection::parse(args)?;
            let files = if args.filenames.is_empty() {
                None
            } else {
                let inventory = load_paths(&args.filenames)?;
                if inventory.issuers.is_empty() {
                    let paths: Vec<String> =
                        args.filenames.iter().map(|p| p.display().to_string()).collect();
                    return Err(CheckError::Usage(format!(
                        "no Issuer or ClusterIssuer found in {}; point -f at the manifests that define them",
                        paths.join(", ")
                    )));
                }
                Some(inventory)
            };
            let inventory = match files {
                Some(files) if !options.secrets_from_cluster => {
                    let mut files = files;
                    selection.apply_certificate(&mut files, &mut options)?;
                    files
                }
                files => {
                    cluster::load(args, files, &mut selection, &factories, &mut options).await?
                }
            };
            let planned = plan_checks(&inventory, &factories, &options);
            let mut jobs = planned.jobs;
            if let Some(secret) = &args.secret {
                jobs = crate::candidate::select_by_secret(jobs, secret)?;
            }
            selection.retain(&mut jobs);
            let mut candidate_jobs = Vec::new();
            if !args.candidates.is_empty() {
                let options = PlanOptions {
                    overrides: crate::candidate::read_overrides(args)?,
                    ..options
                };
                let candidate_plan = plan_checks(&inventory, &factories, &options);
                candidate_jobs = crate::candidate::matching_jobs(candidate_plan.jobs, &jobs);
            }
            (jobs, candidate_jobs, planned.notices)
        }
    };
    let in_cluster_count = crate::candidate::entry_count(&jobs);
    let compare_candidates = !candidate_jobs.is_empty();
    let jobs: Vec<CheckJob> = jobs.into_iter().chain(candidate_jobs).collect();

    let progress = Progress::start(jobs.len());
    let settings = RunSettings {
        concurrency: usize::from(args.concurrency),
        offline: args.offline,
        no_write: args.no_write,
        expiry_warning: args.report.expiry_warning,
        cancel: cancel.clone(),
        on_job_done: progress.as_ref().map(Progress::callback),
    };
    let mut entries = run_checks(jobs, &settings).await;
    if let Some(progress) = progress {
        progress.finish();
    }
    let mut rotation = Vec::new();
    if compare_candidates {
        (entries, rotation) = crate::candidate::pair_entries(entries, in_cluster_count);
    }

    let metadata = ReportMetadata {
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        mode: if args.offline { "offline" } else { "online" }.to_string(),
        endpoint_overrides: if args.offline { BTreeMap::new() } else { overrides },
        cluster_resource_namespace: args.cluster_resource_namespace.clone(),
    };
    let mut report = Report::new(metadata, entries);
    report.rotation = rotation;
    if !args.candidates.is_empty() && !compare_candidates {
        report.errors.push(
            "the candidate was not checked: none of the selected solvers uses a supported provider with a Secret field it can replace".to_string(),
        );
    }
    // An error-level notice means part of the request could not be served
    // (an --issuer that matches nothing), so the run is incomplete: exit 2.
    for notice in notices.iter().filter(|n| n.severity == Severity::Error) {
        let error = if notice.remedy.is_empty() {
            notice.message.clone()
        } else {
            format!("{}: {}", notice.message, notice.remedy)
        };
        report.errors.push(error);
    }
    report.notices = notices
        .into_iter()
        .filter(|n| n.severity != Severity::Error)
        .collect();
    if cancel.is_cancelled() {
        report.errors.push(
            "interrupted by a signal: checks that had started deleted their probe records before stopping; checks that had not started were skipped".to_string(),
        );
    }
    Ok(report)
}

fn provider_settings(
    args: &CheckArgs,
    factories: &[Arc<dyn ProviderFactory>],
    overrides: &BTreeMap<String, String>,
) -> BTreeMap<String, ProviderSettings> {
    let http = HttpSettings {
        timeout: args.timeout,
        ca_file: args.ca_file.clone(),
        ..HttpSettings::default()
    };
    let mut options = BTreeMap::new();
    if let Some(account_id) = &args.account_id {
        options.insert("account-id".to_string(), account_id.clone());
    }
    options.extend(controller_options(&args.controller));
    factories
        .iter()
        .map(|factory| {
            let id = factory.descriptor().id;
            let mut options = options.clone();
            options.extend(endpoints::extra_endpoint_options(factory.as_ref(), overrides));
            let settings = ProviderSettings {
                http: http.clone(),
                endpoint: overrides.get(id).cloned(),
                options,
            };
            (id.to_string(), settings)
        })
        .collect()
}

/// Provider options from the cert-manager controller flags.
pub(crate) fn controller_options(controller: &crate::args::ControllerArgs) -> BTreeMap<String, String> {
    let mut options = BTreeMap::new();
    options.insert(
        "cluster-issuer-ambient-credentials".to_string(),
        controller.cluster_issuer_ambient_credentials.to_string(),
    );
    options.insert(
        "issuer-ambient-credentials".to_string(),
        controller.issuer_ambient_credentials.to_string(),
    );
    if let Some(servers) = &controller.recursive_nameservers {
        options.insert("dns01-recursive-nameservers".to_string(), servers.clone());
    }
    if let Some(path) = &controller.web_identity_token_file {
        options.insert("web-identity-token-file".to_string(), path.display().to_string());
    }
    options
}

/// Builds the single job of `check <provider> --credential SRC`.
fn bare_credential_job(
    args: &CheckArgs,
    provider: &str,
    factories: &[Arc<dyn ProviderFactory>],
    provider_settings: &BTreeMap<String, ProviderSettings>,
) -> Result<Vec<CheckJob>, CheckError> {
    let provider = provider.to_ascii_lowercase();
    let Some(factory) = factories.iter().find(|f| f.descriptor().id == provider) else {
        return Err(CheckError::Usage(format!(
            "unknown provider '{provider}'; supported providers: {}",
            registry::provider_ids().join(", ")
        )));
    };
    if args.credentials.is_empty() {
        return Err(CheckError::Usage(format!(
            "`check {provider}` needs --credential env:VAR, file:PATH or stdin"
        )));
    }
    if !args.filenames.is_empty() {
        return Err(CheckError::Usage(format!(
            "`check {provider}` checks a bare credential and reads no manifests; drop -f or drop the provider name"
        )));
    }

    let mut options = BTreeMap::new();
    if let Some(email) = &args.email {
        options.insert("email".to_string(), email.clone());
    }
    let stanza = factory.bare_stanza(&options).ok_or_else(|| {
        CheckError::Usage(format!("provider '{provider}' has no bare credential check"))
    })?;
    let plan = factory.plan(&stanza);

    let credential_args = args
        .credentials
        .iter()
        .map(|text| CredentialArg::parse(text))
        .collect::<Result<Vec<_>, _>>()?;
    let field_names: Vec<&str> = plan.secrets.iter().map(|s| s.field.as_str()).collect();

    let mut config = StageReport::passed(Stage::Config);
    for finding in &plan.findings {
        config.push(finding.clone());
    }
    let mut secrets = BTreeMap::new();
    let mut credentials = Vec::new();
    let mut used = vec![false; credential_args.len()];
    for spec in &plan.secrets {
        let index = credential_args
            .iter()
            .position(|c| c.field.as_deref() == Some(spec.field.as_str()))
            .or_else(|| {
                (plan.secrets.len() == 1)
                    .then(|| credential_args.iter().position(|c| c.field.is_none()))
                    .flatten()
            });
        let Some(index) = index else {
            return Err(CheckError::Usage(format!(
                "no --credential for field {}; name each one as FIELD=SRC with FIELD one of: {}",
                spec.field,
                field_names.join(", ")
            )));
        };
        used[index] = true;
        let credential = &credential_args[index];
        let (bytes, value) = credential.read_secret()?;
        let origin = ValueOrigin {
            field: spec.field.clone(),
            location: format!("credential {}", credential.describe()),
            trimmed_by_cert_manager: spec.trimmed_by_cert_manager,
        };
        for finding in check_secret_value(&bytes, &origin) {
            config.push(finding);
        }
        credentials.push(CredentialSummary {
            field: spec.field.clone(),
            fingerprint: value.to_string(),
        });
        secrets.insert(spec.field.clone(), value);
    }
    if let Some(unused) = used.iter().position(|u| !u) {
        return Err(CheckError::Usage(format!(
            "--credential {} matches no field of provider '{provider}'; fields: {}",
            credential_args[unused].describe(),
            field_names.join(", ")
        )));
    }

    let mut settings = provider_settings.get(&provider).cloned().unwrap_or_default();
    settings.options.insert(
        "credential-source".to_string(),
        credential_args.iter().map(CredentialArg::describe).collect::<Vec<_>>().join(", "),
    );
    let built = factory.build(&plan, &secrets, &settings);
    for finding in built.findings {
        config.push(finding);
    }

    let mut context = BTreeMap::new();
    context.insert(
        "credential".to_string(),
        args.credentials.iter().map(|c| c.replace('=', " from ")).collect::<Vec<_>>().join(", "),
    );
    Ok(vec![CheckJob {
        issuer: IssuerRef {
            kind: "Credential".to_string(),
            name: credential_args
                .iter()
                .map(CredentialArg::describe)
                .collect::<Vec<_>>()
                .join(","),
            namespace: None,
        },
        solver_index: 0,
        provider_id: provider.clone(),
        domains: args.domains.clone(),
        config,
        provider: built.provider,
        skip: None,
        budget: factory.descriptor().default_budget.scaled(args.budget),
        credentials,
        context,
    }])
}
