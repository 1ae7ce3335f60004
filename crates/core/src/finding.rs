//! Findings: what a check found, at which stage, and how to fix it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Severity of a finding. An `Error` makes the check fail; a `Warning` makes
/// it `WARN` and fails the run only with `--fail-on warning`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// The stage of a check a finding belongs to, in the order the stages run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Config,
    Credential,
    Zone,
    Write,
    Cleanup,
}

impl Stage {
    /// All stages in execution order.
    pub const ALL: [Stage; 5] = [
        Stage::Config,
        Stage::Credential,
        Stage::Zone,
        Stage::Write,
        Stage::Cleanup,
    ];

    /// Lower-case name used in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Config => "config",
            Stage::Credential => "credential",
            Stage::Zone => "zone",
            Stage::Write => "write",
            Stage::Cleanup => "cleanup",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! reasons {
    ($($(#[$doc:meta])* $name:ident),+ $(,)?) => {
        /// Stable CamelCase reason of a finding, in the style of Kubernetes
        /// condition and Event reasons. Scripts match on these names, so a
        /// name never changes once released.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[non_exhaustive]
        pub enum Reason {
            $($(#[$doc])* $name,)+
        }

        impl Reason {
            /// Every reason, for documentation and tests.
            pub const ALL: &'static [Reason] = &[$(Reason::$name,)+];

            /// Returns the CamelCase name as it appears in reports.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Reason::$name => stringify!($name),)+
                }
            }
        }
    };
}

reasons! {
    /// The referenced Secret does not exist where cert-manager reads it.
    SecretNotFound,
    /// The Secret exists but has no such key.
    SecretKeyNotFound,
    /// The Secret exists, but in a namespace cert-manager does not read.
    SecretWrongNamespace,
    /// The value has leading or trailing whitespace or a newline.
    SecretWhitespace,
    /// The value is not printable text, or is base64 of the real value.
    SecretEncoding,
    /// The value or a field still contains a template or placeholder.
    PlaceholderUnexpanded,
    /// A credential of one kind sits in the field for another kind.
    CredentialFieldMismatch,
    /// A temporary AWS access key has no session token to go with it.
    TemporaryCredentialsWithoutSession,
    /// The provider rejected the credential (revoked, rolled, malformed).
    AuthInvalid,
    /// The credential has expired.
    AuthExpired,
    /// The credential expires within the warning window.
    AuthExpiring,
    /// The credential is not valid yet.
    AuthNotYetValid,
    /// The credential only works from some client addresses.
    IpRestricted,
    /// The credential lacks a permission the solver needs.
    PermissionMissing,
    /// The zone for the domain is not visible to this credential.
    ZoneNotVisible,
    /// The zone found is private and not publicly resolvable.
    ZonePrivate,
    /// Several zones share the name.
    ZoneAmbiguous,
    /// The pinned zone does not contain the challenge name.
    ZoneMismatch,
    /// A region is required but not configured.
    RegionMissing,
    /// Assuming the configured role was denied.
    AssumeRoleDenied,
    /// An account-level policy denies the call.
    AccountPolicy,
    /// The configuration uses an API generation cert-manager no longer reads.
    ApiGenerationMismatch,
    /// The TSIG algorithm does not match the server's key.
    TsigAlgorithm,
    /// The TSIG key name is unknown to the server.
    TsigKeyName,
    /// The TSIG time check failed.
    TsigBadTime,
    /// The DNS server refused the update.
    UpdateRefused,
    /// No solver of the issuer would be picked for the domain.
    NoSolverForDomain,
    /// The provider returned a rate-limit response.
    RateLimited,
    /// The provider could not be reached or returned an error.
    ProviderUnavailable,
    /// The solver's provider is not supported by this version.
    ProviderUnsupported,
    /// A probe record could not be deleted and is still in the zone.
    ProbeLeftover,
    /// The in-cluster credential fails where a candidate passes.
    StaleCredential,
    /// A record set the probe did not create blocks the challenge record,
    /// such as a simple-routing TXT record set where Route53 needs a
    /// multivalue one.
    RecordConflict,
    /// The input is not a configuration cert-manager can use.
    InvalidConfig,
    /// The Secret is encrypted or produced elsewhere and cannot be read here.
    SecretUnavailable,
    /// The ExternalSecret that writes the Secret reports that its last sync failed.
    ExternalSecretNotReady,
    /// A fact worth knowing that needs no action.
    Notice,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Provider response details, with every secret removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// Method and path of the request, such as `POST /zones/{id}/dns_records`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
    /// Provider error code, such as Cloudflare's `10000` or AWS's `AccessDenied`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_message: Option<String>,
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub reason: Reason,
    pub severity: Severity,
    pub stage: Stage,
    /// One line naming the value at fault.
    pub message: String,
    /// The permission, field or command that fixes it; empty for info.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub remedy: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

impl Finding {
    /// Creates a finding with no remedy and no evidence.
    pub fn new(reason: Reason, severity: Severity, stage: Stage, message: impl Into<String>) -> Self {
        Self {
            reason,
            severity,
            stage,
            message: message.into(),
            remedy: String::new(),
            evidence: None,
        }
    }

    /// Shorthand for an error finding.
    pub fn error(reason: Reason, stage: Stage, message: impl Into<String>) -> Self {
        Self::new(reason, Severity::Error, stage, message)
    }

    /// Shorthand for a warning finding.
    pub fn warning(reason: Reason, stage: Stage, message: impl Into<String>) -> Self {
        Self::new(reason, Severity::Warning, stage, message)
    }

    /// Shorthand for an info finding.
    pub fn info(reason: Reason, stage: Stage, message: impl Into<String>) -> Self {
        Self::new(reason, Severity::Info, stage, message)
    }

    /// Sets the remedy.
    pub fn with_remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = remedy.into();
        self
    }

    /// Sets the evidence.
    pub fn with_evidence(mut self, evidence: Evidence) -> Self {
        self.evidence = Some(evidence);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_serializes_as_camel_case_name() {
        let json = serde_json::to_string(&Reason::SecretWhitespace).unwrap();
        assert_eq!(json, "\"SecretWhitespace\"");
        assert_eq!(Reason::PermissionMissing.as_str(), "PermissionMissing");
    }

    #[test]
    fn reason_names_are_unique() {
        let mut names: Vec<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len());
    }
}
