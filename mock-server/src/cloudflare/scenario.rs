//! The `cloudflare:` section of a scenario: accounts, zones, credentials, limits and faults.
//!
//! These types only describe the YAML; [`super::state::State::from_scenario`]
//! checks cross-references (a zone's account, a token's zones) and builds the
//! live state from them.

use std::fmt;
use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::Deserialize;

use super::Fault;
use crate::scenario::{deserialize_optional_time, ScenarioError};

/// Everything the Cloudflare emulation starts with.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudflareScenario {
    /// Fixed delay added before every request is processed, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
    /// Per-credential request limit.
    #[serde(default)]
    pub rate_limit: RateLimitSpec,
    /// Accounts; one "Default Account" is created when the list is empty.
    #[serde(default)]
    pub accounts: Vec<AccountSpec>,
    #[serde(default)]
    pub zones: Vec<ZoneSpec>,
    /// API tokens (sent as `Authorization: Bearer`).
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    /// Global API keys (sent as `X-Auth-Email` + `X-Auth-Key`), with access to every zone.
    #[serde(default)]
    pub global_keys: Vec<GlobalKeySpec>,
    #[serde(default)]
    pub faults: Vec<Fault>,
}

impl CloudflareScenario {
    /// Checks the section for inconsistencies such as a zone naming an unknown account.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        super::state::State::from_scenario(self, Utc::now()).map(|_| ())
    }
}

/// Cloudflare's per-credential rate limit.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Requests allowed per window; 0 disables the limit.
    pub requests: u32,
    /// Length of the sliding window, in seconds.
    pub window_seconds: u64,
    /// How long a credential is rejected with 429 after exceeding the limit, in seconds.
    pub block_seconds: u64,
}

impl Default for RateLimitSpec {
    /// Cloudflare's published limit: 1200 requests per 5 minutes per user or token,
    /// and every call rejected for the next 5 minutes once exceeded
    /// (developers.cloudflare.com/fundamentals/api/reference/limits).
    fn default() -> RateLimitSpec {
        RateLimitSpec {
            requests: 1200,
            window_seconds: 300,
            block_seconds: 300,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountSpec {
    /// 32 lowercase hex characters; derived from the name when absent.
    #[serde(default)]
    pub id: Option<String>,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSpec {
    /// Zone apex, for example `example.com`.
    pub name: String,
    /// 32 lowercase hex characters; derived from the account and name when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Owning account, by id or name; may be omitted when there is exactly one account.
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub status: ZoneStatus,
    #[serde(default)]
    pub records: Vec<RecordSpec>,
}

/// Zone status values of the v4 API.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneStatus {
    Initializing,
    Pending,
    #[default]
    Active,
    Moved,
}

impl ZoneStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ZoneStatus::Initializing => "initializing",
            ZoneStatus::Pending => "pending",
            ZoneStatus::Active => "active",
            ZoneStatus::Moved => "moved",
        }
    }
}

/// A DNS record present when the mock starts.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordSpec {
    #[serde(rename = "type")]
    pub record_type: String,
    /// Fully qualified name inside the zone.
    pub name: String,
    pub content: String,
    /// 1 (automatic) or 60 to 86400 seconds.
    #[serde(default = "automatic_ttl")]
    pub ttl: u32,
    /// 32 lowercase hex characters; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub comment: Option<String>,
}

fn automatic_ttl() -> u32 {
    1
}

/// An API token.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// The secret sent as `Authorization: Bearer <value>`.
    pub value: String,
    /// 32 lowercase hex characters; derived from the value when absent.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub owner: TokenOwner,
    /// Owning account (id or name); required for `owner: account`, rejected otherwise.
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub status: TokenStatus,
    /// RFC 3339 time or a relative time (`in 5d`, `-1d`), resolved when the scenario is read.
    #[serde(default, deserialize_with = "deserialize_optional_time")]
    pub expires_on: Option<DateTime<Utc>>,
    /// RFC 3339 time or a relative time, resolved when the scenario is read.
    #[serde(default, deserialize_with = "deserialize_optional_time")]
    pub not_before: Option<DateTime<Utc>>,
    #[serde(default)]
    pub permissions: Vec<Permission>,
    /// Zone resources the token's permissions apply to.
    #[serde(default)]
    pub zones: ZoneScope,
    /// Client IP address filter (CIDRs or single addresses); empty allows every address.
    #[serde(default)]
    pub allowed_ips: Vec<IpFilter>,
    /// Marks a rolled or deleted token: every call gets 401 "Invalid API Token".
    #[serde(default)]
    pub revoked: bool,
}

impl fmt::Debug for TokenSpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("TokenSpec")
            .field("value", &"<redacted>")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("account", &self.account)
            .field("status", &self.status)
            .field("expires_on", &self.expires_on)
            .field("not_before", &self.not_before)
            .field("permissions", &self.permissions)
            .field("zones", &self.zones)
            .field("allowed_ips", &self.allowed_ips)
            .field("revoked", &self.revoked)
            .finish()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenOwner {
    /// Created under a user profile; verified at `/user/tokens/verify`.
    #[default]
    User,
    /// Created under an account; verified at `/accounts/{account_id}/tokens/verify`.
    Account,
}

/// Token status values reported by the verify endpoints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    #[default]
    Active,
    Disabled,
    Expired,
}

/// The permission groups the DNS-01 flow needs.
///
/// YAML accepts the dashboard's short names (`Zone:Read`, `DNS:Read`, `DNS:Edit`),
/// cert-manager's long names (`Zone:Zone:Read`, `Zone:DNS:Edit`) and the API's
/// group names (`Zone Read`, `DNS Read`, `DNS Write`), case-insensitively.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(try_from = "String")]
pub enum Permission {
    ZoneRead,
    DnsRead,
    /// Also grants DNS read.
    DnsEdit,
}

impl TryFrom<String> for Permission {
    type Error = String;

    fn try_from(text: String) -> Result<Permission, String> {
        let normalized: String = text.to_ascii_lowercase().replace([' ', '_'], ":");
        match normalized.as_str() {
            "zone:read" | "zone:zone:read" => Ok(Permission::ZoneRead),
            "dns:read" | "zone:dns:read" => Ok(Permission::DnsRead),
            "dns:edit" | "zone:dns:edit" | "dns:write" | "zone:dns:write" => {
                Ok(Permission::DnsEdit)
            }
            _ => Err(format!(
                "unknown permission {text:?}: expected Zone:Read, DNS:Read or DNS:Edit"
            )),
        }
    }
}

/// The zones a token's permissions cover.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "ZoneScopeSpec")]
pub enum ZoneScope {
    /// Every zone the owner can reach: all zones for a user token, the account's zones for an account token.
    #[default]
    All,
    /// Only the zones with these names.
    Only(Vec<String>),
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ZoneScopeSpec {
    Keyword(String),
    Names(Vec<String>),
}

impl TryFrom<ZoneScopeSpec> for ZoneScope {
    type Error = String;

    fn try_from(spec: ZoneScopeSpec) -> Result<ZoneScope, String> {
        match spec {
            ZoneScopeSpec::Keyword(word) if word == "all" => Ok(ZoneScope::All),
            ZoneScopeSpec::Keyword(word) => Err(format!(
                "invalid zones value {word:?}: expected `all` or a list of zone names"
            )),
            ZoneScopeSpec::Names(names) => Ok(ZoneScope::Only(names)),
        }
    }
}

/// One entry of a token's client IP address filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct IpFilter(pub IpNet);

impl IpFilter {
    pub(crate) fn contains(&self, address: IpAddr) -> bool {
        self.0.contains(&address)
    }
}

impl TryFrom<String> for IpFilter {
    type Error = String;

    fn try_from(text: String) -> Result<IpFilter, String> {
        if let Ok(network) = text.parse::<IpNet>() {
            return Ok(IpFilter(network));
        }
        text.parse::<IpAddr>()
            .map(|address| IpFilter(IpNet::from(address)))
            .map_err(|_| format!("invalid IP filter {text:?}: expected a CIDR such as 203.0.113.0/24 or an address"))
    }
}

/// A global API key with its account email.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalKeySpec {
    pub email: String,
    /// 37 lowercase hex characters, the format Cloudflare issues.
    pub key: String,
}

impl fmt::Debug for GlobalKeySpec {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("GlobalKeySpec")
            .field("email", &self.email)
            .field("key", &"<redacted>")
            .finish()
    }
}
