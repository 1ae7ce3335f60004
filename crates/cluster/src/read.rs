//! From the cluster to an [`Inventory`]: list issuers and Certificates,
//! plan, then get only the Secrets and ExternalSecrets the plan needs.

use std::collections::BTreeSet;
use std::sync::Arc;

use acme_token_certmanager::{plan_checks, Inventory, PlanOptions};
use acme_token_core::{Finding, ProviderFactory, Reason, Stage};
use serde_json::Value;

use crate::connect::{resource, Cluster};
use crate::error::ClusterError;
use crate::select::ObjectRef;

/// Source name of objects read from the cluster, shown in reports.
pub const SOURCE: &str = "cluster";

const CERT_MANAGER: &str = "cert-manager.io";
const EXTERNAL_SECRETS: &str = "external-secrets.io";

/// Lists Issuers (in `namespace`, or in every namespace when `None`),
/// ClusterIssuers, and Certificates (in `certificate_namespace`, or in every
/// namespace when `None`).
///
/// # Errors
///
/// [`ClusterError::CrdMissing`] when cert-manager's API is not served, and
/// any request the API server denies or fails.
pub async fn list_resources(
    cluster: &Cluster,
    namespace: Option<&str>,
    certificate_namespace: Option<&str>,
) -> Result<Inventory, ClusterError> {
    list_issuers(cluster, namespace, certificate_namespace).await
}

/// Gets the Secrets that the solvers selected by `options` reference and
/// that `inventory` lacks, plus the ExternalSecrets that write them, and
/// adds them to `inventory`. With `only`, reads just that Secret, and fails
/// when no selected solver references it.
///
/// `options` must be the options the caller will plan with: an offline
/// plan made here with them finds the referenced Secrets, so filters such
/// as `--issuer` also narrow what is read.
///
/// # Errors
///
/// Any request the API server denies or fails, and an `only` Secret that no
/// solver references.
pub async fn read_secrets(
    cluster: &Cluster,
    inventory: &mut Inventory,
    only: Option<&ObjectRef>,
    factories: &[Arc<dyn ProviderFactory>],
    options: &PlanOptions,
) -> Result<(), ClusterError> {
    let referenced = referenced_secrets(inventory, factories, options);
    let wanted: Vec<ObjectRef> = match only {
        Some(secret) => {
            if !referenced.contains(secret) {
                return Err(ClusterError::Selection(unreferenced_secret_message(
                    secret, &referenced, options,
                )));
            }
            vec![secret.clone()]
        }
        None => referenced.into_iter().collect(),
    };
    let missing_from_input: Vec<ObjectRef> = wanted
        .into_iter()
        .filter(|wanted| {
            !inventory.secrets.iter().any(|secret| {
                secret.name == wanted.name
                    && secret.namespace.as_deref().unwrap_or(&options.default_namespace)
                        == wanted.namespace
            })
        })
        .collect();

    let mut objects = Vec::new();
    let mut not_found = Vec::new();
    for wanted in &missing_from_input {
        match cluster.get_secret(&wanted.namespace, &wanted.name).await? {
            Some(secret) => objects.push(secret),
            None => not_found.push(wanted.clone()),
        }
    }
    tracing::info!(
        read = objects.len(),
        not_found = not_found.len(),
        "read the referenced Secrets"
    );

    let mut notices = Vec::new();
    let external_secrets = read_external_secrets(cluster, &objects, &not_found, &mut notices).await?;
    objects.extend(external_secrets);

    let read = Inventory::from_json_objects(SOURCE, objects)?;
    inventory.extend(read);
    inventory.notices.extend(notices);
    Ok(())
}

/// Lists Issuers (in `namespace`, or all), ClusterIssuers and Certificates
/// (in `certificate_namespace`, or all).
async fn list_issuers(
    cluster: &Cluster,
    namespace: Option<&str>,
    certificate_namespace: Option<&str>,
) -> Result<Inventory, ClusterError> {
    cluster.require_group(CERT_MANAGER).await?;
    let mut objects = Vec::new();
    objects.extend(
        cluster
            .list(&resource(CERT_MANAGER, "ClusterIssuer", "clusterissuers"), None)
            .await?,
    );
    objects.extend(
        cluster
            .list(&resource(CERT_MANAGER, "Issuer", "issuers"), namespace)
            .await?,
    );
    objects.extend(
        cluster
            .list(&resource(CERT_MANAGER, "Certificate", "certificates"), certificate_namespace)
            .await?,
    );
    tracing::info!(objects = objects.len(), "listed cert-manager resources");
    Ok(Inventory::from_json_objects(SOURCE, objects)?)
}

/// Plans offline (nothing is built, nothing is sent) and collects the
/// Secrets every job reads, as `namespace/name`.
fn referenced_secrets(
    inventory: &Inventory,
    factories: &[Arc<dyn ProviderFactory>],
    options: &PlanOptions,
) -> BTreeSet<ObjectRef> {
    let offline = PlanOptions {
        offline: true,
        secrets_from_cluster: false,
        ..options.clone()
    };
    plan_checks(inventory, factories, &offline)
        .jobs
        .iter()
        .filter_map(|job| job.context.get("secrets"))
        .flat_map(|secrets| secrets.split(','))
        .filter_map(|text| ObjectRef::parse(text).ok())
        .collect()
}

fn unreferenced_secret_message(
    secret: &ObjectRef,
    referenced: &BTreeSet<ObjectRef>,
    options: &PlanOptions,
) -> String {
    let mut message = format!(
        "no DNS-01 solver in scope references Secret {secret} (--secret); cert-manager reads an Issuer's Secrets from the Issuer's namespace and a ClusterIssuer's from {} (--cluster-resource-namespace)",
        options.cluster_resource_namespace
    );
    if referenced.is_empty() {
        message.push_str("; no solver in scope references any Secret");
    } else {
        let names: Vec<String> = referenced.iter().map(ToString::to_string).collect();
        message.push_str(&format!("; the solvers reference {}", names.join(", ")));
    }
    message.push_str("; check the name, or widen the scope with -A");
    message
}

/// Gets the ExternalSecrets that write the Secrets: the owner or annotation
/// of a Secret that was read, or, for a Secret that does not exist, an
/// ExternalSecret of the same name (ESO's default target name). A cluster
/// without ESO, or an identity that may not read ExternalSecrets, only adds
/// a notice.
async fn read_external_secrets(
    cluster: &Cluster,
    secrets: &[Value],
    not_found: &[ObjectRef],
    notices: &mut Vec<Finding>,
) -> Result<Vec<Value>, ClusterError> {
    let mut names: BTreeSet<ObjectRef> = BTreeSet::new();
    for secret in secrets {
        if let Some(owner) = external_secret_of(secret) {
            names.insert(owner);
        }
    }
    names.extend(not_found.iter().cloned());
    if names.is_empty() || !cluster.has_group(EXTERNAL_SECRETS).await? {
        return Ok(Vec::new());
    }
    let api = resource(EXTERNAL_SECRETS, "ExternalSecret", "externalsecrets");
    let mut objects = Vec::new();
    for name in names {
        match cluster.get(&api, &name.namespace, &name.name).await {
            Ok(Some(object)) => objects.push(object),
            Ok(None) => {}
            Err(error @ ClusterError::Forbidden { .. }) => {
                notices.push(
                    Finding::warning(
                        Reason::Notice,
                        Stage::Config,
                        format!("ExternalSecret {name} was not read, so its Ready condition is not reported: {error}"),
                    )
                    .with_remedy("allow get on externalsecrets.external-secrets.io (deploy/rbac.yaml)"),
                );
            }
            Err(error) => return Err(error),
        }
    }
    Ok(objects)
}

/// Names the ExternalSecret a Secret came from: its owner reference of kind
/// ExternalSecret, or, with only ESO's data-hash annotation, the Secret's
/// own name.
fn external_secret_of(secret: &Value) -> Option<ObjectRef> {
    let metadata = secret.get("metadata")?;
    let namespace = metadata.get("namespace")?.as_str()?.to_string();
    let owner = metadata
        .get("ownerReferences")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find(|owner| owner.get("kind").and_then(Value::as_str) == Some("ExternalSecret"))
        .and_then(|owner| owner.get("name")?.as_str());
    if let Some(name) = owner {
        return Some(ObjectRef {
            namespace,
            name: name.to_string(),
        });
    }
    let annotated = metadata
        .get("annotations")
        .and_then(|annotations| annotations.get(acme_token_certmanager::ESO_DATA_HASH_ANNOTATION))
        .is_some();
    if !annotated {
        return None;
    }
    let name = metadata.get("name")?.as_str()?;
    Some(ObjectRef {
        namespace,
        name: name.to_string(),
    })
}
