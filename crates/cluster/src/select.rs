//! Narrowing a run to one Secret (`--secret`) or one Certificate
//! (`--certificate`).

use std::fmt;

use acme_token_certmanager::{Inventory, IssuerKind};
use acme_token_core::runner::{challenge_fqdn, CheckJob};

use crate::error::ClusterError;

/// A namespaced object named `NAMESPACE/NAME`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    /// Parses `NAMESPACE/NAME`.
    ///
    /// # Errors
    ///
    /// Returns a message when either part is empty or the slash is missing.
    pub fn parse(text: &str) -> Result<ObjectRef, String> {
        match text.trim().split_once('/') {
            Some((namespace, name))
                if !namespace.is_empty() && !name.is_empty() && !name.contains('/') =>
            {
                Ok(ObjectRef {
                    namespace: namespace.to_string(),
                    name: name.to_string(),
                })
            }
            _ => Err(format!(
                "invalid object reference {text:?}: expected NAMESPACE/NAME, such as cert-manager/cloudflare-api-token"
            )),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// Parses the value of a `--secret` or `--certificate` flag, naming the flag in the error.
///
/// # Errors
///
/// Returns a message naming `flag` when the value is not `NAMESPACE/NAME`.
pub fn parse_object_ref(flag: &str, text: &str) -> Result<ObjectRef, String> {
    ObjectRef::parse(text).map_err(|message| format!("{flag}: {message}"))
}

/// Returns true when the job reads the Secret `secret`.
pub fn job_uses_secret(job: &CheckJob, secret: &ObjectRef) -> bool {
    let wanted = secret.to_string();
    job.context
        .get("secrets")
        .is_some_and(|secrets| secrets.split(',').any(|name| name == wanted))
}

/// Keeps only the Certificate `certificate` in the inventory and returns
/// the issuer filter for `PlanOptions`: `(issuer, cluster_issuer)`.
///
/// # Errors
///
/// [`ClusterError::Selection`] when the Certificate is not in the inventory.
pub fn select_certificate(
    inventory: &mut Inventory,
    certificate: &ObjectRef,
    default_namespace: &str,
) -> Result<(Option<String>, Option<String>), ClusterError> {
    let position = inventory.certificates.iter().position(|candidate| {
        candidate.name == certificate.name
            && candidate.namespace.as_deref().unwrap_or(default_namespace) == certificate.namespace
    });
    let Some(position) = position else {
        return Err(ClusterError::Selection(format!(
            "Certificate {certificate} was not found (--certificate); list them with `kubectl get certificates -n {}`",
            certificate.namespace
        )));
    };
    let chosen = inventory.certificates.swap_remove(position);
    let reference = chosen.issuer_ref.clone();
    inventory.certificates = vec![chosen];
    if reference.kind == IssuerKind::ClusterIssuer.as_str() {
        Ok((None, Some(reference.name)))
    } else {
        Ok((Some(format!("{}/{}", certificate.namespace, reference.name)), None))
    }
}

/// Keeps the jobs that probe at least one of `domains` (the selected
/// Certificate's), so solvers of the same issuer that serve other domains
/// are left out.
pub fn retain_certificate_jobs(jobs: &mut Vec<CheckJob>, domains: &[String]) {
    let wanted: Vec<String> = domains
        .iter()
        .map(|domain| challenge_fqdn(&domain.trim().to_ascii_lowercase()))
        .collect();
    jobs.retain(|job| {
        job.domains
            .iter()
            .any(|domain| wanted.contains(&challenge_fqdn(domain)))
    });
}
