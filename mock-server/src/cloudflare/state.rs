//! The live Cloudflare state: accounts, zones, records, credentials, limits, faults and the request log.

use std::collections::HashSet;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::ratelimit::RateLimiter;
use super::scenario::{
    CloudflareScenario, IpFilter, Permission, TokenOwner, TokenStatus, ZoneScope, ZoneStatus,
};
use super::Step;
use crate::faults::FaultSet;
use crate::ids::{hex_id, is_lower_hex};
use crate::request_log::RequestLog;
use crate::scenario::ScenarioError;

/// A DNS record as stored by the mock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 32 lowercase hex characters.
    pub id: String,
    pub zone_id: String,
    pub zone_name: String,
    /// Fully qualified name in lowercase, without a trailing dot.
    pub name: String,
    /// Record type in uppercase, for example `TXT`.
    pub record_type: String,
    pub content: String,
    /// 1 means automatic.
    pub ttl: u32,
    pub comment: Option<String>,
    pub tags: Vec<String>,
    pub created_on: DateTime<Utc>,
    pub modified_on: DateTime<Utc>,
}

impl Record {
    /// Creates a record for [`super::CloudflareMock::add_record`]; the mock fills in the id and zone.
    pub fn new(record_type: &str, name: &str, content: &str, ttl: u32) -> Record {
        let now = Utc::now();
        Record {
            id: String::new(),
            zone_id: String::new(),
            zone_name: String::new(),
            name: normalize_name(name),
            record_type: record_type.to_ascii_uppercase(),
            content: content.to_string(),
            ttl,
            comment: None,
            tags: Vec::new(),
            created_on: now,
            modified_on: now,
        }
    }
}

#[derive(Clone, Debug)]
pub(crate) struct Account {
    pub(crate) id: String,
    pub(crate) name: String,
}

#[derive(Clone, Debug)]
pub(crate) struct Zone {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) status: ZoneStatus,
    pub(crate) account_id: String,
    pub(crate) account_name: String,
    pub(crate) created_on: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Owner {
    User,
    Account(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Resources {
    All,
    Zones(HashSet<String>),
}

#[derive(Clone)]
pub(crate) struct Token {
    pub(crate) id: String,
    pub(crate) value: String,
    pub(crate) owner: Owner,
    pub(crate) status: TokenStatus,
    pub(crate) expires_on: Option<DateTime<Utc>>,
    pub(crate) not_before: Option<DateTime<Utc>>,
    pub(crate) zone_read: bool,
    pub(crate) dns_read: bool,
    pub(crate) dns_edit: bool,
    /// Zone ids the permissions apply to.
    pub(crate) resources: Resources,
    pub(crate) allowed_ips: Vec<IpFilter>,
    pub(crate) revoked: bool,
}

#[derive(Clone)]
pub(crate) struct GlobalKey {
    pub(crate) email: String,
    pub(crate) key: String,
}

pub(crate) struct State {
    pub(crate) zones: Vec<Zone>,
    /// All records of all zones, in creation order.
    pub(crate) records: Vec<Record>,
    pub(crate) tokens: Vec<Token>,
    pub(crate) global_keys: Vec<GlobalKey>,
    /// Number of records created so far, used to derive new record ids.
    pub(crate) records_created: u64,
    pub(crate) latency: Duration,
    pub(crate) rate_limiter: RateLimiter,
    pub(crate) faults: FaultSet<Step>,
    pub(crate) log: RequestLog<Step>,
}

/// Lowercases a DNS name and removes a trailing dot.
pub(crate) fn normalize_name(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// Reports whether `name` is `zone` itself or a name below it.
pub(crate) fn is_in_zone(name: &str, zone: &str) -> bool {
    name == zone
        || name
            .strip_suffix(zone)
            .is_some_and(|prefix| prefix.ends_with('.'))
}

/// Reports whether `text` has the format Cloudflare issues global API keys in: 37 lowercase hex characters.
pub(crate) fn is_global_key_format(text: &str) -> bool {
    is_lower_hex(text, 37)
}

/// Checks a TTL against the v4 API's rule: 1 (automatic) or 60 to 86400 seconds.
pub(crate) fn is_valid_ttl(ttl: u64) -> bool {
    ttl == 1 || (60..=86400).contains(&ttl)
}

fn invalid(message: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid {
        provider: "cloudflare",
        message: message.into(),
    }
}

impl State {
    /// Builds the state for `scenario`, checking every cross-reference.
    pub(crate) fn from_scenario(
        scenario: &CloudflareScenario,
        now: DateTime<Utc>,
    ) -> Result<State, ScenarioError> {
        let accounts = build_accounts(scenario)?;
        let (zones, records) = build_zones(scenario, &accounts, now)?;
        let tokens = build_tokens(scenario, &accounts, &zones)?;
        let global_keys = build_global_keys(scenario)?;
        if scenario.rate_limit.requests > 0 && scenario.rate_limit.window_seconds == 0 {
            return Err(invalid(
                "rate_limit.window_seconds must be at least 1 when rate_limit.requests is set",
            ));
        }

        Ok(State {
            zones,
            records,
            tokens,
            global_keys,
            records_created: 0,
            latency: Duration::from_millis(scenario.latency_ms),
            rate_limiter: RateLimiter::new(&scenario.rate_limit),
            faults: FaultSet::new(scenario.faults.iter().cloned()),
            log: RequestLog::new(),
        })
    }

    pub(crate) fn zone_by_id(&self, zone_id: &str) -> Option<&Zone> {
        self.zones.iter().find(|zone| zone.id == zone_id)
    }

    /// Returns a fresh record id; ids are derived from a counter, so runs are reproducible.
    pub(crate) fn next_record_id(&mut self, zone_id: &str) -> String {
        loop {
            self.records_created += 1;
            let id = hex_id(
                "record",
                &format!("{zone_id}/created/{}", self.records_created),
            );
            if !self.records.iter().any(|record| record.id == id) {
                return id;
            }
        }
    }
}

fn build_accounts(scenario: &CloudflareScenario) -> Result<Vec<Account>, ScenarioError> {
    if scenario.accounts.is_empty() {
        let name = "Default Account".to_string();
        return Ok(vec![Account {
            id: hex_id("account", &name),
            name,
        }]);
    }
    let mut accounts: Vec<Account> = Vec::new();
    for spec in &scenario.accounts {
        let id = match &spec.id {
            Some(id) if is_lower_hex(id, 32) => id.clone(),
            Some(id) => {
                return Err(invalid(format!(
                    "account id {id:?} must be 32 lowercase hex characters"
                )))
            }
            None => hex_id("account", &spec.name),
        };
        if accounts.iter().any(|account| account.id == id) {
            return Err(invalid(format!("account id {id} is used twice")));
        }
        accounts.push(Account {
            id,
            name: spec.name.clone(),
        });
    }
    Ok(accounts)
}

/// Finds an account by id or by name.
fn find_account<'a>(accounts: &'a [Account], reference: &str) -> Option<&'a Account> {
    accounts
        .iter()
        .find(|account| account.id == reference)
        .or_else(|| accounts.iter().find(|account| account.name == reference))
}

fn build_zones(
    scenario: &CloudflareScenario,
    accounts: &[Account],
    now: DateTime<Utc>,
) -> Result<(Vec<Zone>, Vec<Record>), ScenarioError> {
    let mut zones: Vec<Zone> = Vec::new();
    let mut records: Vec<Record> = Vec::new();
    for spec in &scenario.zones {
        let name = normalize_name(&spec.name);
        if name.is_empty() {
            return Err(invalid("a zone has an empty name"));
        }
        let account = match &spec.account {
            Some(reference) => find_account(accounts, reference).ok_or_else(|| {
                invalid(format!("zone {name} names unknown account {reference:?}"))
            })?,
            None if accounts.len() == 1 => &accounts[0],
            None => {
                return Err(invalid(format!(
                    "zone {name} must name its account because the scenario has several"
                )))
            }
        };
        let id = match &spec.id {
            Some(id) if is_lower_hex(id, 32) => id.clone(),
            Some(id) => {
                return Err(invalid(format!(
                    "zone {name} has id {id:?}; ids must be 32 lowercase hex characters"
                )))
            }
            None => hex_id("zone", &format!("{}/{name}", account.id)),
        };
        if zones.iter().any(|zone| zone.id == id) {
            return Err(invalid(format!("zone id {id} is used twice")));
        }
        if zones
            .iter()
            .any(|zone| zone.name == name && zone.account_id == account.id)
        {
            return Err(invalid(format!(
                "zone {name} appears twice in account {}",
                account.name
            )));
        }

        for (index, record_spec) in spec.records.iter().enumerate() {
            let record_name = normalize_name(&record_spec.name);
            if !is_in_zone(&record_name, &name) {
                return Err(invalid(format!(
                    "record {record_name} is not inside zone {name}"
                )));
            }
            if !is_valid_ttl(u64::from(record_spec.ttl)) {
                return Err(invalid(format!(
                    "record {record_name} has ttl {}; expected 1 (automatic) or 60 to 86400",
                    record_spec.ttl
                )));
            }
            let record_id = match &record_spec.id {
                Some(record_id) if is_lower_hex(record_id, 32) => record_id.clone(),
                Some(record_id) => {
                    return Err(invalid(format!(
                        "record id {record_id:?} must be 32 lowercase hex characters"
                    )))
                }
                None => hex_id("record", &format!("{id}/scenario/{index}")),
            };
            if records.iter().any(|record| record.id == record_id) {
                return Err(invalid(format!("record id {record_id} is used twice")));
            }
            records.push(Record {
                id: record_id,
                zone_id: id.clone(),
                zone_name: name.clone(),
                name: record_name,
                record_type: record_spec.record_type.to_ascii_uppercase(),
                content: record_spec.content.clone(),
                ttl: record_spec.ttl,
                comment: record_spec.comment.clone(),
                tags: Vec::new(),
                created_on: now,
                modified_on: now,
            });
        }

        zones.push(Zone {
            id,
            name,
            status: spec.status,
            account_id: account.id.clone(),
            account_name: account.name.clone(),
            created_on: now,
        });
    }
    Ok((zones, records))
}

fn build_tokens(
    scenario: &CloudflareScenario,
    accounts: &[Account],
    zones: &[Zone],
) -> Result<Vec<Token>, ScenarioError> {
    let mut tokens: Vec<Token> = Vec::new();
    for (index, spec) in scenario.tokens.iter().enumerate() {
        // Errors name the token by position and id, never by its value.
        let position = format!("token #{}", index + 1);
        if spec.value.is_empty() || spec.value.chars().any(char::is_whitespace) {
            return Err(invalid(format!(
                "{position} has an empty value or one containing whitespace"
            )));
        }
        if is_global_key_format(&spec.value) {
            return Err(invalid(format!(
                "{position} looks like a global API key (37 lowercase hex characters); list it under global_keys"
            )));
        }
        if tokens.iter().any(|token| token.value == spec.value) {
            return Err(invalid(format!(
                "{position} has the same value as an earlier token"
            )));
        }
        let id = match &spec.id {
            Some(id) if is_lower_hex(id, 32) => id.clone(),
            Some(id) => {
                return Err(invalid(format!(
                    "{position} has id {id:?}; ids must be 32 lowercase hex characters"
                )))
            }
            None => hex_id("token", &spec.value),
        };
        if tokens.iter().any(|token| token.id == id) {
            return Err(invalid(format!("token id {id} is used twice")));
        }

        let owner = match (spec.owner, &spec.account) {
            (TokenOwner::User, None) => Owner::User,
            (TokenOwner::User, Some(_)) => {
                return Err(invalid(format!(
                    "{position} ({id}) is user-owned; only `owner: account` tokens name an account"
                )))
            }
            (TokenOwner::Account, Some(reference)) => {
                let account = find_account(accounts, reference).ok_or_else(|| {
                    invalid(format!(
                        "{position} ({id}) names unknown account {reference:?}"
                    ))
                })?;
                Owner::Account(account.id.clone())
            }
            (TokenOwner::Account, None) => {
                return Err(invalid(format!(
                    "{position} ({id}) has `owner: account` but no `account`"
                )))
            }
        };

        let resources = match &spec.zones {
            ZoneScope::All => Resources::All,
            ZoneScope::Only(names) => {
                let mut ids = HashSet::new();
                for zone_name in names {
                    let normalized = normalize_name(zone_name);
                    let matching: Vec<&Zone> = zones
                        .iter()
                        .filter(|zone| zone.name == normalized)
                        .filter(|zone| match &owner {
                            Owner::User => true,
                            Owner::Account(account_id) => &zone.account_id == account_id,
                        })
                        .collect();
                    if matching.is_empty() {
                        return Err(invalid(format!("{position} ({id}) lists zone {normalized}, which the scenario does not define for its owner")));
                    }
                    ids.extend(matching.iter().map(|zone| zone.id.clone()));
                }
                Resources::Zones(ids)
            }
        };

        tokens.push(Token {
            id,
            value: spec.value.clone(),
            owner,
            status: spec.status,
            expires_on: spec.expires_on,
            not_before: spec.not_before,
            zone_read: spec.permissions.contains(&Permission::ZoneRead),
            dns_read: spec.permissions.contains(&Permission::DnsRead),
            dns_edit: spec.permissions.contains(&Permission::DnsEdit),
            resources,
            allowed_ips: spec.allowed_ips.clone(),
            revoked: spec.revoked,
        });
    }
    Ok(tokens)
}

fn build_global_keys(scenario: &CloudflareScenario) -> Result<Vec<GlobalKey>, ScenarioError> {
    let mut keys: Vec<GlobalKey> = Vec::new();
    for spec in &scenario.global_keys {
        if !spec.email.contains('@') {
            return Err(invalid(format!(
                "global key email {:?} is not an email address",
                spec.email
            )));
        }
        if !is_global_key_format(&spec.key) {
            return Err(invalid(format!(
                "global key of {} must be 37 lowercase hex characters, the format Cloudflare issues",
                spec.email
            )));
        }
        if keys
            .iter()
            .any(|key| key.email.eq_ignore_ascii_case(&spec.email))
        {
            return Err(invalid(format!(
                "global key email {} is listed twice",
                spec.email
            )));
        }
        keys.push(GlobalKey {
            email: spec.email.clone(),
            key: spec.key.clone(),
        });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(yaml: &str) -> Result<State, ScenarioError> {
        let scenario: CloudflareScenario = serde_yaml_ng::from_str(yaml).unwrap();
        State::from_scenario(&scenario, Utc::now())
    }

    #[test]
    fn zone_name_membership() {
        assert!(is_in_zone("example.com", "example.com"));
        assert!(is_in_zone("_acme-challenge.example.com", "example.com"));
        assert!(!is_in_zone("badexample.com", "example.com"));
        assert!(!is_in_zone("example.org", "example.com"));
    }

    #[test]
    fn default_account_is_created() {
        let state = build("zones: [{name: example.com}]").unwrap();
        assert_eq!(state.zones[0].account_name, "Default Account");
    }

    #[test]
    fn zone_with_unknown_account_is_rejected() {
        let error = build("accounts: [{name: A}]\nzones: [{name: example.com, account: B}]")
            .err()
            .unwrap();
        assert!(error.to_string().contains("unknown account"), "{error}");
    }

    #[test]
    fn record_outside_zone_is_rejected() {
        let error = build(
            "zones: [{name: example.com, records: [{type: TXT, name: x.example.org, content: a}]}]",
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("not inside zone"), "{error}");
    }

    #[test]
    fn token_errors_do_not_contain_the_value() {
        let error = build("tokens: [{value: sekret-value-123, zones: [missing.example]}]")
            .err()
            .unwrap();
        let text = error.to_string();
        assert!(text.contains("missing.example"), "{text}");
        assert!(!text.contains("sekret-value-123"), "{text}");
    }

    #[test]
    fn global_key_shaped_token_is_rejected() {
        let error = build("tokens: [{value: 0123456789abcdef0123456789abcdef01234}]")
            .err()
            .unwrap();
        assert!(error.to_string().contains("global_keys"), "{error}");
    }

    #[test]
    fn account_token_needs_account() {
        let error = build("tokens: [{value: tok, owner: account}]")
            .err()
            .unwrap();
        assert!(error.to_string().contains("no `account`"), "{error}");
    }
}
