//! The `route53:` section of a scenario: account, hosted zones and their
//! record sets, IAM users, roles and role sessions with IAM-like policies,
//! change propagation time, latency and faults.
//!
//! ```yaml
//! route53:
//!   insync_after_ms: 0            # GetChange answers PENDING until then
//!   zones:
//!     - name: example.com
//!       records:
//!         - {name: www.example.com, type: A, ttl: 300, values: [192.0.2.1]}
//!     - {name: example.com, private: true}
//!   users:
//!     - name: dns
//!       access_key_id: AKIAIOSFODNN7EXAMPLE
//!       secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
//!       policy:
//!         - actions: [route53:ChangeResourceRecordSets, route53:GetChange]
//!           resources: ["*"]
//!           record_names: [_acme-challenge.example.com]   # optional condition
//!           record_types: [TXT]                           # optional condition
//!   roles:
//!     - {name: dns, trust: [dns], web_identity: true, policy: [...]}
//!   sessions:
//!     - {role: dns, access_key_id: ASIA..., secret_access_key: ..., session_token: ...}
//! ```

use serde::Deserialize;

use super::Fault;
use crate::ScenarioError;

/// The Route53 and STS section.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route53Scenario {
    /// 12-digit AWS account id of every principal and zone.
    #[serde(default = "default_account")]
    pub account: String,
    /// Milliseconds after a change during which GetChange answers PENDING.
    #[serde(default)]
    pub insync_after_ms: u64,
    /// Fixed delay added before each request, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    #[serde(default)]
    pub zones: Vec<ZoneSpec>,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub roles: Vec<RoleSpec>,
    #[serde(default)]
    pub sessions: Vec<SessionSpec>,
    #[serde(default)]
    pub faults: Vec<Fault>,
    /// Start the authoritative DNS server for the public zones (default true).
    #[serde(default = "default_true")]
    pub dns: bool,
}

fn default_account() -> String {
    "123456789012".to_string()
}

fn default_true() -> bool {
    true
}

/// A hosted zone.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    pub name: String,
    /// Id without the `/hostedzone/` prefix; derived from the name when absent.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub private: bool,
    #[serde(default)]
    pub records: Vec<RecordSetSpec>,
}

/// A resource record set.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSetSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub record_type: String,
    #[serde(default = "default_ttl")]
    pub ttl: i64,
    pub values: Vec<String>,
    #[serde(default)]
    pub set_identifier: Option<String>,
    #[serde(default)]
    pub multi_value: bool,
}

fn default_ttl() -> i64 {
    300
}

/// An IAM user with one access key.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSpec {
    pub name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Makes every request with this key fail with 403 ExpiredToken.
    #[serde(default)]
    pub expired: bool,
    #[serde(default)]
    pub policy: Vec<Statement>,
}

/// An IAM role.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleSpec {
    pub name: String,
    /// Names of the users and roles its trust policy lets call AssumeRole.
    #[serde(default)]
    pub trust: Vec<String>,
    /// Whether AssumeRoleWithWebIdentity is trusted.
    #[serde(default)]
    pub web_identity: bool,
    /// Tokens AssumeRoleWithWebIdentity accepts; empty accepts any token of
    /// at least 4 characters.
    #[serde(default)]
    pub web_identity_tokens: Vec<String>,
    #[serde(default)]
    pub policy: Vec<Statement>,
}

/// Temporary credentials of a role session that exist from the start, such
/// as those IRSA gives a pod.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionSpec {
    pub role: String,
    #[serde(default = "default_session_name")]
    pub session_name: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

fn default_session_name() -> String {
    "pod".to_string()
}

/// One policy statement.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Statement {
    #[serde(default)]
    pub effect: Effect,
    /// Actions such as `route53:GetChange`; `*` wildcards match.
    pub actions: Vec<String>,
    /// Resource ARNs; `*` wildcards match. Default `*`.
    #[serde(default = "default_resources")]
    pub resources: Vec<String>,
    /// Condition `ForAllValues:StringEquals` on
    /// `route53:ChangeResourceRecordSetsNormalizedRecordNames`.
    #[serde(default)]
    pub record_names: Option<Vec<String>>,
    /// Condition `ForAllValues:StringEquals` on
    /// `route53:ChangeResourceRecordSetsRecordTypes`.
    #[serde(default)]
    pub record_types: Option<Vec<String>>,
}

fn default_resources() -> Vec<String> {
    vec!["*".to_string()]
}

/// Effect of a statement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
pub enum Effect {
    #[default]
    Allow,
    Deny,
}

impl Route53Scenario {
    pub(crate) fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            provider: "route53",
            message,
        };
        if self.account.len() != 12 || !self.account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(format!(
                "account {:?} is not a 12-digit AWS account id",
                self.account
            )));
        }
        for session in &self.sessions {
            if !self.roles.iter().any(|role| role.name == session.role) {
                return Err(invalid(format!(
                    "session {} names unknown role {}",
                    session.access_key_id, session.role
                )));
            }
        }
        for zone in &self.zones {
            for record in &zone.records {
                let name = record.name.trim_end_matches('.').to_ascii_lowercase();
                let zone_name = zone.name.trim_end_matches('.').to_ascii_lowercase();
                if name != zone_name && !name.ends_with(&format!(".{zone_name}")) {
                    return Err(invalid(format!(
                        "record {} is outside zone {}",
                        record.name, zone.name
                    )));
                }
            }
        }
        Ok(())
    }
}
