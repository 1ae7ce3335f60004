//! `check --candidate SRC` and `check --secret NS/NAME`.
//!
//! A candidate check plans the selected solvers twice from the same input:
//! once as they are (the in-cluster credential) and once with the candidate
//! in place of the Secret field it replaces. Both run in one batch, and each
//! (issuer, solver, domain) pair is then compared by
//! [`acme_token_core::rotation::compare`]. Nothing is written anywhere but
//! the probe records, which every check deletes.

// CheckError carries a LoadError (file, line and field for the message);
// it stops the run, so its size is not worth boxing.
#![allow(clippy::result_large_err)]

use crate::args::CheckArgs;
use crate::check::CheckError;
use crate::source::{CredentialArg, CredentialSource};
use acme_token_certmanager::{SecretOverride, CANDIDATE_CONTEXT};
use acme_token_core::report::{CheckEntry, CredentialRole};
use acme_token_core::rotation::{compare, RotationComparison};
use acme_token_core::runner::CheckJob;
use std::collections::HashMap;

/// Checks the flags that go with `--candidate` and `--secret`.
pub fn validate(args: &CheckArgs) -> Result<(), CheckError> {
    if let Some(secret) = &args.secret {
        parse_secret(secret)?;
    }
    if args.candidates.is_empty() {
        return Ok(());
    }
    if args.provider.is_some() {
        return Err(CheckError::Usage(
            "--candidate replaces an issuer's in-cluster credential; a bare check takes its value from --credential instead".into(),
        ));
    }
    if args.offline {
        return Err(CheckError::Usage(
            "--candidate needs the credential, zone and write stages, which --offline skips; drop --offline".into(),
        ));
    }
    if args.issuer.is_none() && args.cluster_issuer.is_none() && args.secret.is_none() {
        return Err(CheckError::Usage(
            "--candidate needs the solvers it replaces a credential for: add --issuer NAME, --cluster-issuer NAME or --secret NAMESPACE/NAME".into(),
        ));
    }
    let stdin_candidates = args
        .candidates
        .iter()
        .filter(|text| matches!(CredentialArg::parse(text), Ok(arg) if arg.source == CredentialSource::Stdin))
        .count();
    let manifests_from_stdin = args.filenames.iter().any(|path| path.as_os_str() == "-");
    if stdin_candidates > 1 || (stdin_candidates == 1 && manifests_from_stdin) {
        return Err(CheckError::Usage(
            "stdin can feed only one input: use file:PATH, env:VAR or keyring:NAME for the other candidates or manifests".into(),
        ));
    }
    Ok(())
}

fn parse_secret(text: &str) -> Result<(&str, &str), CheckError> {
    match text.split_once('/') {
        Some((namespace, name)) if !namespace.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((namespace, name))
        }
        _ => Err(CheckError::Usage(format!(
            "invalid --secret '{text}': expected NAMESPACE/NAME, such as cert-manager/cloudflare-api-token"
        ))),
    }
}

/// Reads every `--candidate` value into an override for the planner.
pub fn read_overrides(args: &CheckArgs) -> Result<Vec<SecretOverride>, CheckError> {
    let mut overrides = Vec::new();
    for text in &args.candidates {
        let candidate = CredentialArg::parse(text)?;
        let raw = candidate.read()?;
        overrides.push(SecretOverride::new(candidate.field.clone(), candidate.describe(), raw));
    }
    let mut fields: Vec<Option<&str>> = overrides.iter().map(|o| o.field.as_deref()).collect();
    fields.sort();
    if fields.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(CheckError::Usage(
            "two --candidate values replace the same field; give each field once, as FIELD=SRC".into(),
        ));
    }
    Ok(overrides)
}

/// Keeps the jobs whose solver reads Secret `NAMESPACE/NAME`.
pub fn select_by_secret(jobs: Vec<CheckJob>, secret: &str) -> Result<Vec<CheckJob>, CheckError> {
    let (namespace, name) = parse_secret(secret)?;
    let wanted = format!("{namespace}/{name}");
    let selected: Vec<CheckJob> = jobs
        .into_iter()
        .filter(|job| {
            job.context
                .get("secrets")
                .is_some_and(|list| list.split(',').any(|s| s == wanted))
        })
        .collect();
    if selected.is_empty() {
        return Err(CheckError::Usage(format!(
            "no solver in the input reads Secret {wanted} (--secret); ClusterIssuer solvers read Secrets from --cluster-resource-namespace, Issuer solvers from their own namespace"
        )));
    }
    Ok(selected)
}

/// Returns the candidate jobs that belong to a selected in-cluster job: the
/// planner marked them with [`CANDIDATE_CONTEXT`], and they have the same
/// issuer and solver index.
pub fn matching_jobs(candidate_jobs: Vec<CheckJob>, in_cluster: &[CheckJob]) -> Vec<CheckJob> {
    candidate_jobs
        .into_iter()
        .filter(|job| job.context.contains_key(CANDIDATE_CONTEXT))
        .filter(|job| {
            in_cluster
                .iter()
                .any(|other| other.issuer == job.issuer && other.solver_index == job.solver_index)
        })
        .map(|mut job| {
            if let Some(source) = in_cluster
                .iter()
                .find(|other| other.issuer == job.issuer && other.solver_index == job.solver_index)
            {
                // The table groups by issuer and shows the first entry's
                // Secret; keep the in-cluster Secret's name for reference.
                for key in ["secrets", "externalSecret"] {
                    if let Some(value) = source.context.get(key) {
                        job.context.insert(format!("inCluster{}", capitalize(key)), value.clone());
                    }
                }
            }
            job
        })
        .collect()
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// Number of report entries a job produces: one per domain, or one without.
pub fn entry_count(jobs: &[CheckJob]) -> usize {
    jobs.iter().map(|job| job.domains.len().max(1)).sum()
}

/// Orders each candidate entry right after its in-cluster entry, sets the
/// roles, and compares each pair. `entries` holds the in-cluster entries
/// first (`in_cluster_count` of them), then the candidate entries.
pub fn pair_entries(
    mut entries: Vec<CheckEntry>,
    in_cluster_count: usize,
) -> (Vec<CheckEntry>, Vec<RotationComparison>) {
    let candidates = entries.split_off(in_cluster_count.min(entries.len()));
    let mut by_key: HashMap<(String, usize, Option<String>), CheckEntry> = candidates
        .into_iter()
        .map(|entry| ((entry.issuer.display(), entry.solver_index, entry.domain.clone()), entry))
        .collect();

    let mut ordered = Vec::new();
    let mut comparisons = Vec::new();
    for mut in_cluster in entries {
        in_cluster.role = Some(CredentialRole::InCluster);
        let key = (in_cluster.issuer.display(), in_cluster.solver_index, in_cluster.domain.clone());
        match by_key.remove(&key) {
            Some(mut candidate) => {
                comparisons.push(compare(&mut in_cluster, &mut candidate));
                ordered.push(in_cluster);
                ordered.push(candidate);
            }
            None => ordered.push(in_cluster),
        }
    }
    let mut unpaired: Vec<CheckEntry> = by_key.into_values().collect();
    unpaired.sort_by_key(|entry| (entry.issuer.display(), entry.solver_index, entry.domain.clone()));
    for mut candidate in unpaired {
        candidate.role = Some(CredentialRole::Candidate);
        ordered.push(candidate);
    }
    (ordered, comparisons)
}
