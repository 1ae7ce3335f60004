//! Reading cert-manager resources from a Kubernetes cluster for acme-token.
//!
//! [`Cluster::connect`] loads the kubeconfig (`--kubeconfig`, else
//! `KUBECONFIG`, else `~/.kube/config`, with `--context`) and falls back to
//! the Pod's service account when no kubeconfig exists and
//! `KUBERNETES_SERVICE_HOST` is set. [`list_resources`] lists Issuers,
//! ClusterIssuers and Certificates; [`read_secrets`] plans the checks to
//! learn which Secrets the chosen solvers reference, and then `get`s only
//! those Secrets by name, plus the ExternalSecrets that write them. Everything read is decoded by
//! the certmanager crate, so objects from a cluster follow the same rules
//! as manifests.

// A ClusterError carries the verb, resource, namespace, name and the API
// server's message for one failed request; a run stops at the first, so
// boxing it saves nothing that matters.
#![allow(clippy::result_large_err)]

mod connect;
mod error;
mod read;
mod select;

pub use connect::{Cluster, ConnectOptions};
pub use error::ClusterError;
pub use read::{list_resources, read_secrets, SOURCE};
pub use select::{
    job_uses_secret, parse_object_ref, retain_certificate_jobs, select_certificate, ObjectRef,
};
