//! `check` against a cluster: which namespace to read, the `--secret` and
//! `--certificate` selections, and reading Secrets for `-f` with
//! `--secrets-from-cluster`.

// CheckError is large for the same reason as in check.rs; a run stops at
// the first one.
#![allow(clippy::result_large_err)]

use crate::args::CheckArgs;
use crate::check::CheckError;
use acme_token_certmanager::{Inventory, PlanOptions};
use acme_token_cluster::{
    list_resources, parse_object_ref, read_secrets, retain_certificate_jobs,
    select_certificate, Cluster, ConnectOptions, ObjectRef,
};
use acme_token_core::runner::CheckJob;
use acme_token_core::ProviderFactory;
use std::sync::Arc;

/// The `--secret` and `--certificate` selections, parsed.
#[derive(Debug, Default)]
pub struct Selection {
    pub secret: Option<ObjectRef>,
    pub certificate: Option<ObjectRef>,
    /// dnsNames and commonName of the selected Certificate.
    certificate_domains: Vec<String>,
}

impl Selection {
    /// Parses the selection flags.
    pub fn parse(args: &CheckArgs) -> Result<Selection, CheckError> {
        let parse = |flag: &str, value: &Option<String>| {
            value
                .as_deref()
                .map(|text| parse_object_ref(flag, text))
                .transpose()
                .map_err(CheckError::Usage)
        };
        Ok(Selection {
            secret: parse("--secret", &args.secret)?,
            certificate: parse("--certificate", &args.cluster.certificate)?,
            certificate_domains: Vec::new(),
        })
    }

    /// Narrows the inventory to the selected Certificate and its issuer.
    pub fn apply_certificate(
        &mut self,
        inventory: &mut Inventory,
        options: &mut PlanOptions,
    ) -> Result<(), CheckError> {
        let Some(certificate) = &self.certificate else {
            return Ok(());
        };
        let (issuer, cluster_issuer) =
            select_certificate(inventory, certificate, &options.default_namespace)?;
        self.certificate_domains = inventory
            .certificates
            .iter()
            .flat_map(|certificate| certificate.domains())
            .collect();
        options.issuer = issuer;
        options.cluster_issuer = cluster_issuer;
        Ok(())
    }

    /// Keeps the jobs of the selected Certificate. The `--secret` filter is
    /// applied by `candidate::select_by_secret`.
    pub fn retain(&self, jobs: &mut Vec<CheckJob>) {
        if self.certificate.is_some() {
            retain_certificate_jobs(jobs, &self.certificate_domains);
        }
    }
}

/// Returns true when `check` reads from the cluster: no `-f`, or `-f` with
/// `--secrets-from-cluster`.
pub fn uses_cluster(args: &CheckArgs) -> bool {
    !args.offline && (args.filenames.is_empty() || args.cluster.secrets_from_cluster)
}

/// Connects with the kubeconfig flags.
pub async fn connect(args: &CheckArgs) -> Result<Cluster, CheckError> {
    let options = ConnectOptions {
        kubeconfig: args.cluster.kubeconfig.clone(),
        context: args.cluster.context.clone(),
        timeout: Some(args.timeout),
    };
    Cluster::connect(&options).await.map_err(|error| match error {
        acme_token_cluster::ClusterError::Config(message) if args.filenames.is_empty() => {
            CheckError::Usage(format!(
                "{message}; to check manifests without a cluster, pass -f PATH"
            ))
        }
        other => other.into(),
    })
}

/// Returns the namespace to list Issuers and Certificates in: `None` for
/// `-A`, else the first of `-n`, the namespace of `--secret`, `--certificate`
/// or `--issuer NS/NAME`, and the context's namespace. An Issuer reads
/// Secrets only from its own namespace, so the namespace of `--secret`
/// covers every Issuer that can use that Secret.
pub fn list_namespace(args: &CheckArgs, selection: &Selection, cluster: &Cluster) -> Option<String> {
    if args.cluster.all_namespaces {
        return None;
    }
    if let Some(namespace) = &args.namespace {
        return Some(namespace.clone());
    }
    if let Some(secret) = &selection.secret {
        return Some(secret.namespace.clone());
    }
    if let Some(certificate) = &selection.certificate {
        return Some(certificate.namespace.clone());
    }
    if let Some((namespace, _)) = args.issuer.as_deref().and_then(|issuer| issuer.split_once('/')) {
        return Some(namespace.to_string());
    }
    Some(cluster.default_namespace().to_string())
}

/// Reads Issuers, ClusterIssuers and Certificates from the cluster, applies
/// the selection, then reads the referenced Secrets.
pub async fn load(
    args: &CheckArgs,
    files: Option<Inventory>,
    selection: &mut Selection,
    factories: &[Arc<dyn ProviderFactory>],
    options: &mut PlanOptions,
) -> Result<Inventory, CheckError> {
    let cluster = connect(args).await?;
    if args.namespace.is_none() {
        options.default_namespace = cluster.default_namespace().to_string();
    }
    let mut inventory = match files {
        Some(inventory) => inventory,
        None => {
            let namespace = list_namespace(args, selection, &cluster);
            // A ClusterIssuer serves Certificates in every namespace. Unless
            // -n or --certificate narrows the scope, they are read from all
            // of them, so a ClusterIssuer never passes without a probe only
            // because its Certificates live elsewhere.
            let certificate_namespace = if args.namespace.is_none() && selection.certificate.is_none() {
                None
            } else {
                namespace.clone()
            };
            list_resources(&cluster, namespace.as_deref(), certificate_namespace.as_deref()).await?
        }
    };
    selection.apply_certificate(&mut inventory, options)?;
    read_secrets(
        &cluster,
        &mut inventory,
        selection.secret.as_ref(),
        factories,
        options,
    )
    .await?;
    Ok(inventory)
}
