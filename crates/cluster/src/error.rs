//! Errors of cluster access, each with the fix in its message.

/// Failure to read from the cluster; the run exits with 2.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// No kubeconfig and no in-cluster service account, or an unusable kubeconfig.
    #[error("{0}")]
    Config(String),

    /// The API server did not respond.
    #[error("cannot reach the Kubernetes API server at {server}: {detail}; check that the cluster is running and that the kubeconfig context points at it (--context, --kubeconfig)")]
    Unreachable { server: String, detail: String },

    /// The API server rejected the credentials (401).
    #[error("the Kubernetes API server at {server} rejected the credentials of {context} (401 Unauthorized): the token is expired or invalid; log in again to refresh the kubeconfig's credentials, or pick another context with --context")]
    Unauthorized { server: String, context: String },

    /// RBAC denied a request (403).
    #[error("{}", forbidden_message(.verb, .group, .resource, .namespace.as_deref(), .name.as_deref(), .detail))]
    Forbidden {
        verb: String,
        group: String,
        resource: String,
        namespace: Option<String>,
        name: Option<String>,
        /// The API server's own message, which names the user.
        detail: String,
    },

    /// The cert-manager.io API group is not served.
    #[error("the Kubernetes API server at {server} does not serve {group_version} (discovery returned 404 Not Found): cert-manager's CRDs are not installed in this cluster, or the kubeconfig points at another cluster; install cert-manager, or pick the right cluster with --context")]
    CrdMissing { server: String, group_version: String },

    /// Any other error answer of the API server.
    #[error("the Kubernetes API server answered {code} {reason} to {action}: {message}")]
    Api {
        action: String,
        code: u16,
        reason: String,
        message: String,
    },

    /// A selection flag names nothing in the cluster.
    #[error("{0}")]
    Selection(String),

    /// An object read from the cluster could not be decoded.
    #[error(transparent)]
    Decode(#[from] acme_token_certmanager::LoadError),
}

fn forbidden_message(
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
    detail: &str,
) -> String {
    let target = match name {
        Some(name) => format!("{resource} {name}"),
        None => resource.to_string(),
    };
    let scope = match namespace {
        Some(namespace) => format!("in namespace {namespace}"),
        None => "across all namespaces".to_string(),
    };
    let mut rule = format!("apiGroups: [\"{group}\"], resources: [\"{resource}\"], verbs: [\"{verb}\"]");
    if let Some(name) = name {
        rule.push_str(&format!(", resourceNames: [\"{name}\"]"));
    }
    let grant = match namespace {
        Some(namespace) => format!("a Role in namespace {namespace} (or a ClusterRole)"),
        None => "a ClusterRole bound with a ClusterRoleBinding".to_string(),
    };
    format!(
        "not allowed to {verb} {target} {scope} (403 Forbidden: {detail}); add the rule {{{rule}}} to {grant} bound to this identity; deploy/rbac.yaml lists every rule acme-token needs"
    )
}
