//! Mutable state of the Route53 and STS emulation: principals and their
//! policies, hosted zones with record sets, and submitted changes.

use std::time::{Duration, Instant};

use super::scenario::{Effect, Route53Scenario, Statement};
use super::Step;
use crate::faults::FaultSet;
use crate::ids::hex_id;
use crate::request_log::RequestLog;
use crate::ScenarioError;

/// Lower case with exactly one trailing dot.
pub(crate) fn normalize_name(name: &str) -> String {
    format!(
        "{}.",
        name.trim().trim_end_matches('.').to_ascii_lowercase()
    )
}

/// A principal an access key belongs to.
#[derive(Clone, Debug)]
pub(crate) struct Principal {
    /// `arn:aws:iam::ACCOUNT:user/NAME` or
    /// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
    pub arn: String,
    /// User name or role name, as trust lists name them.
    pub name: String,
    pub user_id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    pub expired: bool,
    pub policy: Vec<Statement>,
}

/// A role.
#[derive(Clone, Debug)]
pub(crate) struct Role {
    pub name: String,
    pub arn: String,
    pub trust: Vec<String>,
    pub web_identity: bool,
    pub web_identity_tokens: Vec<String>,
    pub policy: Vec<Statement>,
}

/// A record set as Route53 stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSet {
    /// Lower case with trailing dot.
    pub name: String,
    pub record_type: String,
    pub ttl: i64,
    pub values: Vec<String>,
    pub set_identifier: Option<String>,
    pub multi_value: bool,
}

/// A hosted zone.
#[derive(Clone, Debug)]
pub struct Zone {
    pub id: String,
    /// Lower case with trailing dot.
    pub name: String,
    pub private: bool,
    pub record_sets: Vec<RecordSet>,
}

/// A submitted change.
#[derive(Clone, Debug)]
pub(crate) struct ChangeRecord {
    pub id: String,
    pub submitted: Instant,
    pub submitted_at: chrono::DateTime<chrono::Utc>,
    pub comment: Option<String>,
}

pub(crate) struct State {
    pub account: String,
    pub insync_after: Duration,
    pub latency: Duration,
    pub principals: Vec<Principal>,
    pub roles: Vec<Role>,
    pub zones: Vec<Zone>,
    pub changes: Vec<ChangeRecord>,
    pub faults: FaultSet<Step>,
    pub log: RequestLog<Step>,
    next_session: u64,
}

impl State {
    pub(crate) fn from_scenario(scenario: &Route53Scenario) -> Result<State, ScenarioError> {
        scenario.validate()?;
        let account = scenario.account.clone();
        let roles: Vec<Role> = scenario
            .roles
            .iter()
            .map(|role| Role {
                name: role.name.clone(),
                arn: format!("arn:aws:iam::{account}:role/{}", role.name),
                trust: role.trust.clone(),
                web_identity: role.web_identity,
                web_identity_tokens: role.web_identity_tokens.clone(),
                policy: role.policy.clone(),
            })
            .collect();
        let mut principals: Vec<Principal> = scenario
            .users
            .iter()
            .map(|user| Principal {
                arn: format!("arn:aws:iam::{account}:user/{}", user.name),
                name: user.name.clone(),
                user_id: format!(
                    "AIDA{}",
                    hex_id("user", &user.name)[..16].to_ascii_uppercase()
                ),
                access_key_id: user.access_key_id.clone(),
                secret_access_key: user.secret_access_key.clone(),
                session_token: None,
                expired: user.expired,
                policy: user.policy.clone(),
            })
            .collect();
        for session in &scenario.sessions {
            let role = roles
                .iter()
                .find(|r| r.name == session.role)
                .expect("validated");
            principals.push(session_principal(
                &account,
                role,
                &session.session_name,
                &session.access_key_id,
                &session.secret_access_key,
                &session.session_token,
            ));
        }
        let zones = scenario
            .zones
            .iter()
            .enumerate()
            .map(|(index, zone)| Zone {
                id: zone.id.clone().unwrap_or_else(|| {
                    format!(
                        "Z{}",
                        hex_id("hostedzone", &format!("{index}/{}", zone.name))[..20]
                            .to_ascii_uppercase()
                    )
                }),
                name: normalize_name(&zone.name),
                private: zone.private,
                record_sets: zone
                    .records
                    .iter()
                    .map(|r| RecordSet {
                        name: normalize_name(&r.name),
                        record_type: r.record_type.to_ascii_uppercase(),
                        ttl: r.ttl,
                        values: r.values.clone(),
                        set_identifier: r.set_identifier.clone(),
                        multi_value: r.multi_value,
                    })
                    .collect(),
            })
            .collect();
        Ok(State {
            account,
            insync_after: Duration::from_millis(scenario.insync_after_ms),
            latency: Duration::from_millis(scenario.latency_ms),
            principals,
            roles,
            zones,
            changes: Vec::new(),
            faults: FaultSet::new(scenario.faults.clone()),
            log: RequestLog::new(),
            next_session: 0,
        })
    }

    pub(crate) fn principal(&self, access_key_id: &str) -> Option<&Principal> {
        self.principals
            .iter()
            .find(|p| p.access_key_id == access_key_id)
    }

    /// Issues temporary credentials for a session of `role`.
    pub(crate) fn issue_session(&mut self, role: &Role, session_name: &str) -> Principal {
        self.next_session += 1;
        let seed = format!("{}/{session_name}/{}", role.name, self.next_session);
        let access_key_id = format!(
            "ASIA{}",
            hex_id("session-key", &seed)[..16].to_ascii_uppercase()
        );
        let secret = hex_id("session-secret", &seed);
        let token = format!("FwoGZXIvYXdzE{}", hex_id("session-token", &seed));
        let principal = session_principal(
            &self.account,
            role,
            session_name,
            &access_key_id,
            &secret,
            &token,
        );
        self.principals.push(principal.clone());
        principal
    }

    pub(crate) fn new_change(&mut self, comment: Option<String>) -> ChangeRecord {
        let id = format!(
            "C{}",
            hex_id("change", &self.changes.len().to_string())[..20].to_ascii_uppercase()
        );
        let change = ChangeRecord {
            id,
            submitted: Instant::now(),
            submitted_at: chrono::Utc::now(),
            comment,
        };
        self.changes.push(change.clone());
        change
    }
}

fn session_principal(
    account: &str,
    role: &Role,
    session_name: &str,
    key: &str,
    secret: &str,
    token: &str,
) -> Principal {
    Principal {
        arn: format!(
            "arn:aws:sts::{account}:assumed-role/{}/{session_name}",
            role.name
        ),
        name: role.name.clone(),
        user_id: format!(
            "AROA{}:{session_name}",
            hex_id("role", &role.name)[..16].to_ascii_uppercase()
        ),
        access_key_id: key.to_string(),
        secret_access_key: secret.to_string(),
        session_token: Some(token.to_string()),
        expired: false,
        policy: role.policy.clone(),
    }
}

/// Record names and types of a change batch, for the condition keys.
#[derive(Debug, Default)]
pub(crate) struct ChangeFacts {
    pub names: Vec<String>,
    pub types: Vec<String>,
}

fn wildcard_match(pattern: &str, text: &str) -> bool {
    let Some((prefix, rest)) = pattern.split_once('*') else {
        return pattern.eq_ignore_ascii_case(text);
    };
    if !text
        .to_ascii_lowercase()
        .starts_with(&prefix.to_ascii_lowercase())
    {
        return false;
    }
    let remainder = &text[prefix.len()..];
    (0..=remainder.len())
        .any(|i| remainder.is_char_boundary(i) && wildcard_match(rest, &remainder[i..]))
}

/// IAM evaluation: an explicit Deny wins, then any Allow, else implicit deny.
/// Condition keys apply to ChangeResourceRecordSets only, where
/// `ForAllValues:StringEquals` needs every name and type of the batch listed.
pub(crate) fn allowed(
    policy: &[Statement],
    action: &str,
    resource: &str,
    change: Option<&ChangeFacts>,
) -> bool {
    let matches = |statement: &Statement| {
        statement.actions.iter().any(|a| wildcard_match(a, action))
            && statement
                .resources
                .iter()
                .any(|r| wildcard_match(r, resource))
            && conditions_hold(statement, change)
    };
    if policy
        .iter()
        .any(|s| s.effect == Effect::Deny && matches(s))
    {
        return false;
    }
    policy
        .iter()
        .any(|s| s.effect == Effect::Allow && matches(s))
}

fn conditions_hold(statement: &Statement, change: Option<&ChangeFacts>) -> bool {
    let Some(change) = change else {
        return true;
    };
    let names_ok = statement.record_names.as_ref().is_none_or(|allowed| {
        change.names.iter().all(|name| {
            let name = name.trim_end_matches('.');
            allowed
                .iter()
                .any(|a| a.trim_end_matches('.').eq_ignore_ascii_case(name))
        })
    });
    let types_ok = statement.record_types.as_ref().is_none_or(|allowed| {
        change
            .types
            .iter()
            .all(|t| allowed.iter().any(|a| a.eq_ignore_ascii_case(t)))
    });
    names_ok && types_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(actions: &[&str], resources: &[&str]) -> Statement {
        Statement {
            effect: Effect::Allow,
            actions: actions.iter().map(|s| s.to_string()).collect(),
            resources: resources.iter().map(|s| s.to_string()).collect(),
            record_names: None,
            record_types: None,
        }
    }

    #[test]
    fn wildcards_match_actions_and_arns() {
        assert!(wildcard_match("route53:*", "route53:GetChange"));
        assert!(wildcard_match(
            "arn:aws:route53:::change/*",
            "arn:aws:route53:::change/C1"
        ));
        assert!(!wildcard_match(
            "arn:aws:route53:::hostedzone/Z1",
            "arn:aws:route53:::hostedzone/Z2"
        ));
    }

    #[test]
    fn deny_beats_allow() {
        let mut deny = statement(&["route53:GetChange"], &["*"]);
        deny.effect = Effect::Deny;
        let policy = vec![statement(&["route53:*"], &["*"]), deny];
        assert!(!allowed(
            &policy,
            "route53:GetChange",
            "arn:aws:route53:::change/C1",
            None
        ));
        assert!(allowed(&policy, "route53:ListHostedZonesByName", "*", None));
    }

    #[test]
    fn record_conditions_need_every_name() {
        let mut limited = statement(&["route53:ChangeResourceRecordSets"], &["*"]);
        limited.record_names = Some(vec!["_acme-challenge.example.com".into()]);
        limited.record_types = Some(vec!["TXT".into()]);
        let policy = vec![limited];
        let ok = ChangeFacts {
            names: vec!["_acme-challenge.example.com.".into()],
            types: vec!["TXT".into()],
        };
        let other = ChangeFacts {
            names: vec!["www.example.com.".into()],
            types: vec!["TXT".into()],
        };
        assert!(allowed(
            &policy,
            "route53:ChangeResourceRecordSets",
            "arn:aws:route53:::hostedzone/Z1",
            Some(&ok)
        ));
        assert!(!allowed(
            &policy,
            "route53:ChangeResourceRecordSets",
            "arn:aws:route53:::hostedzone/Z1",
            Some(&other)
        ));
    }
}
