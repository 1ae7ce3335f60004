//! cert-manager resources for acme-token: reading manifests, picking the
//! solver cert-manager would use for each domain, resolving Secrets the way
//! cert-manager does, and planning the checks with their config stage done.
//!
//! This crate reads files and standard input and does no other IO.
//!
//! ```no_run
//! use acme_token_certmanager::{load_paths, plan_checks, PlanOptions};
//! # fn factories() -> Vec<std::sync::Arc<dyn acme_token_core::ProviderFactory>> { Vec::new() }
//! let inventory = load_paths(&["issuers/".into()])?;
//! let planned = plan_checks(&inventory, &factories(), &PlanOptions::default());
//! for notice in &planned.notices {
//!     println!("{}", notice.message);
//! }
//! # Ok::<(), acme_token_certmanager::LoadError>(())
//! ```

// Loading stops at the first LoadError, so its size (file, line and field
// for the message) is not worth boxing.
#![allow(clippy::result_large_err)]

mod decode;
mod error;
mod load;
mod plan;
mod resources;
mod secrets;
mod selection;
mod yaml;

pub use error::LoadError;
pub use load::{load_bytes, load_paths, load_str, MAX_FILE_BYTES, STDIN_NAME};
pub use plan::{plan_checks, PlanOptions, Planned, SecretOverride, CANDIDATE_CONTEXT, NO_PROVIDER};
pub use resources::{
    Certificate, CertificateIssuerRef, Encryption, ExternalSecret, Inventory, Issuer, IssuerKind,
    OwnerReference, ProducerKind, ReadyCondition, Secret, SecretBytes, SecretData, Selector, Solver, SolverKind,
    SourceRef, WebhookSolver, ESO_DATA_HASH_ANNOTATION,
};
pub use selection::{pick_solver, pick_solver_offered, OfferedChallenges};
pub use yaml::ALIAS_EXPANSION_NODES;
