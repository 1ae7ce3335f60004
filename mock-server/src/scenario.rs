//! The YAML scenario format: one optional section per provider.
//!
//! Each provider owns the types of its section (see
//! [`crate::cloudflare::CloudflareScenario`]); this file contains the top level,
//! the error type and the time syntax shared by all sections.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

use crate::cloudflare::CloudflareScenario;
use crate::route53::Route53Scenario;
use crate::kubernetes::KubernetesScenario;

/// A complete mock setup. A missing section means that provider is not started.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The Cloudflare v4 API section.
    #[serde(default)]
    pub cloudflare: Option<CloudflareScenario>,
    /// The Route53 and STS section.
    #[serde(default)]
    pub route53: Option<Route53Scenario>,
    /// The Kubernetes API section: objects, installed CRD groups, tokens.
    #[serde(default)]
    pub kubernetes: Option<KubernetesScenario>,
}

/// Errors from reading or validating a scenario.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not valid YAML or does not match the scenario schema.
    #[error("invalid scenario YAML: {0}")]
    Parse(#[from] serde_yaml_ng::Error),
    /// A section parsed but is inconsistent, for example a zone that names an unknown account.
    #[error("invalid {provider} scenario: {message}")]
    Invalid {
        provider: &'static str,
        message: String,
    },
}

impl Scenario {
    /// Parses and validates a scenario from YAML text.
    ///
    /// Relative times such as `in 5d` are resolved against the current time here,
    /// so a scenario file keeps describing "expires in 5 days" whenever it is read.
    pub fn from_yaml(text: &str) -> Result<Scenario, ScenarioError> {
        let scenario: Scenario = serde_yaml_ng::from_str(text)?;
        if let Some(section) = &scenario.cloudflare {
            section.validate()?;
        }
        if let Some(section) = &scenario.route53 {
            section.validate()?;
        }
        if let Some(section) = &scenario.kubernetes {
            section.validate()?;
        }
        Ok(scenario)
    }
}

/// Parses an RFC 3339 timestamp or a time relative to `now`.
///
/// Relative forms: `now`, `in 5d`, `+5d`, `-1d`, `2h ago`. The duration part
/// uses humantime's syntax (`30s`, `15m`, `2h`, `5d`, `1w`, `1d 12h`).
pub(crate) fn parse_time(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let trimmed = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(trimmed) {
        return Ok(time.with_timezone(&Utc));
    }
    if trimmed.eq_ignore_ascii_case("now") {
        return Ok(now);
    }

    let (future, duration_text) = if let Some(rest) = trimmed.strip_prefix("in ") {
        (true, rest)
    } else if let Some(rest) = trimmed.strip_prefix('+') {
        (true, rest)
    } else if let Some(rest) = trimmed.strip_prefix('-') {
        (false, rest)
    } else if let Some(rest) = trimmed.strip_suffix(" ago") {
        (false, rest)
    } else {
        return Err(format!(
            "invalid time {text:?}: expected RFC 3339 (2027-01-01T00:00:00Z) or a relative time (now, in 5d, +5d, -1d, 2h ago)"
        ));
    };

    let duration = humantime::parse_duration(duration_text.trim())
        .map_err(|error| format!("invalid duration in time {text:?}: {error}"))?;
    let delta = chrono::Duration::from_std(duration)
        .map_err(|_| format!("duration in time {text:?} is too large"))?;
    let shifted = if future {
        now.checked_add_signed(delta)
    } else {
        now.checked_sub_signed(delta)
    };
    shifted.ok_or_else(|| format!("time {text:?} is out of range"))
}

/// Serde helper for an optional time field written in [`parse_time`] syntax.
pub(crate) fn deserialize_optional_time<'de, D>(
    deserializer: D,
) -> Result<Option<DateTime<Utc>>, D::Error>
where
    D: Deserializer<'de>,
{
    let text: Option<String> = Option::deserialize(deserializer)?;
    match text {
        None => Ok(None),
        Some(text) => parse_time(&text, Utc::now())
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn fixed_now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 10, 12, 0, 0).unwrap()
    }

    #[test]
    fn parse_time_accepts_rfc3339() {
        let parsed = parse_time("2027-01-01T00:00:00Z", fixed_now()).unwrap();
        assert_eq!(parsed, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    }

    #[test]
    fn parse_time_accepts_relative_forms() {
        let now = fixed_now();
        let day = chrono::Duration::days(1);
        assert_eq!(parse_time("in 5d", now).unwrap(), now + day * 5);
        assert_eq!(parse_time("+5d", now).unwrap(), now + day * 5);
        assert_eq!(parse_time("-1d", now).unwrap(), now - day);
        assert_eq!(
            parse_time("2h ago", now).unwrap(),
            now - chrono::Duration::hours(2)
        );
        assert_eq!(parse_time("now", now).unwrap(), now);
    }

    #[test]
    fn parse_time_rejects_garbage() {
        let error = parse_time("next tuesday", fixed_now()).unwrap_err();
        assert!(error.contains("next tuesday"), "{error}");
    }

    #[test]
    fn empty_scenario_starts_nothing() {
        let scenario = Scenario::from_yaml("{}").unwrap();
        assert!(scenario.cloudflare.is_none());
    }

    #[test]
    fn unknown_section_is_rejected() {
        let error = Scenario::from_yaml("cloudfare: {}").unwrap_err();
        assert!(error.to_string().contains("cloudfare"), "{error}");
    }
}
