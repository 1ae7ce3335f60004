//! Fault injection shared by all providers: which requests a fault hits and what it does.
//!
//! Each provider defines its own step vocabulary (for Cloudflare: `verify`,
//! `zones`, `create`, …) and classifies every request into one step. A fault
//! names a step, which occurrence of that step it starts at (`nth`) and how many
//! matching requests it affects (`times`). Occurrences are counted per fault from
//! the moment the fault is added, so a fault added at runtime with `nth: 2` hits
//! the second matching request after the `add_fault` call.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// A provider's step vocabulary, as used by [`Fault::step`].
pub trait FaultStep: Copy + PartialEq + fmt::Debug {
    /// Reports whether this step is the wildcard that matches every request.
    fn is_any(&self) -> bool;
}

/// One injected fault.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, bound(deserialize = "S: Deserialize<'de>"))]
pub struct Fault<S> {
    /// The step whose requests this fault affects.
    pub step: S,
    /// 1-based occurrence of the step at which the fault starts. 0 is read as 1.
    #[serde(default = "default_one")]
    pub nth: u64,
    /// Number of matching requests affected, starting at `nth`; 0 means every one from `nth` on.
    #[serde(default = "default_one")]
    pub times: u64,
    /// Effect on each affected request.
    pub action: FaultAction,
}

fn default_one() -> u64 {
    1
}

impl<S> Fault<S> {
    /// Creates a fault that affects the first request of `step` once.
    pub fn new(step: S, action: FaultAction) -> Fault<S> {
        Fault {
            step,
            nth: 1,
            times: 1,
            action,
        }
    }

    /// Starts the fault at the `nth` occurrence of its step (1-based).
    pub fn nth(mut self, nth: u64) -> Fault<S> {
        self.nth = nth;
        self
    }

    /// Sets how many matching requests the fault affects; 0 means all of them.
    pub fn times(mut self, times: u64) -> Fault<S> {
        self.times = times;
        self
    }

    /// Makes the fault affect every matching request from `nth` on.
    pub fn always(self) -> Fault<S> {
        self.times(0)
    }
}

/// Effect of a fault on the request it hits.
///
/// `status`, `rate_limit` and `malformed` leave the provider state unchanged:
/// the request fails before it is applied. Use `apply_then_status` for a request
/// that takes effect on the server and still returns an error.
///
/// YAML: `reset`, `hang` and `malformed` are plain words; the others are one-key
/// maps such as `{status: 500}`, `{delay: 2500}` or `{rate_limit: {retry_after: 30}}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FaultAction {
    /// Returns an error response without applying the request.
    Status(StatusFault),
    /// Applies the request, then returns the error response instead of the real one.
    ApplyThenStatus(StatusFault),
    /// Returns 429 without applying the request.
    RateLimit(RateLimitFault),
    /// Returns 200 with a body that is not JSON.
    Malformed,
    /// Applies the request and sends the normal response after this many milliseconds.
    Delay(u64),
    /// Resets the TCP connection (RST) instead of responding.
    Reset,
    /// Keeps the connection open without sending a response.
    Hang,
}

impl FaultAction {
    /// Shorthand for [`FaultAction::Status`] with only an HTTP status.
    pub fn status(http_status: u16) -> FaultAction {
        FaultAction::Status(StatusFault::new(http_status))
    }

    /// Shorthand for [`FaultAction::ApplyThenStatus`] with only an HTTP status.
    pub fn apply_then_status(http_status: u16) -> FaultAction {
        FaultAction::ApplyThenStatus(StatusFault::new(http_status))
    }

    /// Shorthand for [`FaultAction::RateLimit`] with a `Retry-After` value in seconds.
    pub fn rate_limit(retry_after: Option<u64>) -> FaultAction {
        FaultAction::RateLimit(RateLimitFault { retry_after })
    }
}

const ACTION_NAMES: &[&str] = &[
    "status",
    "apply_then_status",
    "rate_limit",
    "malformed",
    "delay",
    "reset",
    "hang",
];

impl<'de> Deserialize<'de> for FaultAction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<FaultAction, D::Error> {
        deserializer.deserialize_any(FaultActionVisitor)
    }
}

/// Reads the word and one-key-map forms of [`FaultAction`]. serde's derived enum
/// support is not used because serde_yaml_ng expects YAML tags (`!status 500`) for it.
struct FaultActionVisitor;

impl<'de> Visitor<'de> for FaultActionVisitor {
    type Value = FaultAction;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(
            "a fault action: reset, hang, malformed, or a one-key map such as {status: 500}",
        )
    }

    fn visit_str<E: de::Error>(self, word: &str) -> Result<FaultAction, E> {
        match word {
            "reset" => Ok(FaultAction::Reset),
            "hang" => Ok(FaultAction::Hang),
            "malformed" => Ok(FaultAction::Malformed),
            "rate_limit" => Ok(FaultAction::rate_limit(None)),
            _ => Err(E::unknown_variant(word, ACTION_NAMES)),
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<FaultAction, A::Error> {
        let Some(name) = map.next_key::<String>()? else {
            return Err(de::Error::custom(
                "empty fault action: expected one key such as `status`",
            ));
        };
        let action = match name.as_str() {
            "status" => FaultAction::Status(map.next_value()?),
            "apply_then_status" => FaultAction::ApplyThenStatus(map.next_value()?),
            "rate_limit" => FaultAction::RateLimit(
                map.next_value::<Option<RateLimitFault>>()?
                    .unwrap_or_default(),
            ),
            "delay" => FaultAction::Delay(map.next_value()?),
            "malformed" | "reset" | "hang" => {
                map.next_value::<de::IgnoredAny>()?;
                self.visit_str::<A::Error>(&name)?
            }
            _ => return Err(de::Error::unknown_variant(&name, ACTION_NAMES)),
        };
        if let Some(extra) = map.next_key::<String>()? {
            return Err(de::Error::custom(format!(
                "fault action has a second key {extra:?}; use one action per fault"
            )));
        }
        Ok(action)
    }
}

/// An injected error response.
///
/// YAML accepts a bare status (`status: 500`) or the full form
/// (`status: {http_status: 403, code: 10000, message: "Authentication error"}`).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "StatusFaultSpec")]
pub struct StatusFault {
    /// HTTP status code of the response, 100 to 599.
    pub http_status: u16,
    /// Provider error code in the body; the provider picks a default when absent.
    pub code: Option<u32>,
    /// Provider error message in the body; the provider picks a default when absent.
    pub message: Option<String>,
}

impl StatusFault {
    /// Creates a fault response with the provider's default error code and message.
    pub fn new(http_status: u16) -> StatusFault {
        StatusFault {
            http_status,
            code: None,
            message: None,
        }
    }

    /// Sets the provider error code and message of the response body.
    pub fn with_error(mut self, code: u32, message: impl Into<String>) -> StatusFault {
        self.code = Some(code);
        self.message = Some(message.into());
        self
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum StatusFaultSpec {
    Short(u16),
    Full {
        http_status: u16,
        #[serde(default)]
        code: Option<u32>,
        #[serde(default)]
        message: Option<String>,
    },
}

impl TryFrom<StatusFaultSpec> for StatusFault {
    type Error = String;

    fn try_from(spec: StatusFaultSpec) -> Result<StatusFault, String> {
        let fault = match spec {
            StatusFaultSpec::Short(http_status) => StatusFault::new(http_status),
            StatusFaultSpec::Full {
                http_status,
                code,
                message,
            } => StatusFault {
                http_status,
                code,
                message,
            },
        };
        if !(100..=599).contains(&fault.http_status) {
            return Err(format!(
                "invalid HTTP status {} in fault: expected 100 to 599",
                fault.http_status
            ));
        }
        Ok(fault)
    }
}

/// An injected 429 response.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitFault {
    /// Value of the `Retry-After` header in seconds; no header when absent.
    pub retry_after: Option<u64>,
}

/// The faults of one provider with their occurrence counters.
#[derive(Debug)]
pub(crate) struct FaultSet<S> {
    rules: Vec<ActiveFault<S>>,
}

#[derive(Debug)]
struct ActiveFault<S> {
    fault: Fault<S>,
    /// Matching requests seen since the fault was added.
    seen: u64,
}

impl<S: FaultStep> FaultSet<S> {
    pub(crate) fn new(faults: impl IntoIterator<Item = Fault<S>>) -> FaultSet<S> {
        let mut set = FaultSet { rules: Vec::new() };
        for fault in faults {
            set.add(fault);
        }
        set
    }

    pub(crate) fn add(&mut self, fault: Fault<S>) {
        self.rules.push(ActiveFault { fault, seen: 0 });
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    /// Counts one request of `step` and returns the action of the first fault it hits.
    ///
    /// Every matching fault counts the request, including those after the one that fires,
    /// so `nth` always refers to the occurrence of the step, not to unfaulted requests.
    pub(crate) fn evaluate(&mut self, step: S) -> Option<FaultAction> {
        let mut hit = None;
        for rule in &mut self.rules {
            if !(rule.fault.step.is_any() || rule.fault.step == step) {
                continue;
            }
            rule.seen += 1;
            let start = rule.fault.nth.max(1);
            let in_range = rule.seen >= start
                && (rule.fault.times == 0 || rule.seen < start + rule.fault.times);
            if in_range && hit.is_none() {
                hit = Some(rule.fault.action.clone());
            }
        }
        hit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum TestStep {
        Read,
        Write,
        Any,
    }

    impl FaultStep for TestStep {
        fn is_any(&self) -> bool {
            *self == TestStep::Any
        }
    }

    #[test]
    fn nth_and_times_select_occurrences() {
        let mut set = FaultSet::new([Fault::new(TestStep::Read, FaultAction::Reset)
            .nth(2)
            .times(2)]);
        let hits: Vec<bool> = (0..5)
            .map(|_| set.evaluate(TestStep::Read).is_some())
            .collect();
        assert_eq!(hits, [false, true, true, false, false]);
    }

    #[test]
    fn other_steps_do_not_count() {
        let mut set = FaultSet::new([Fault::new(TestStep::Write, FaultAction::Hang).nth(2)]);
        assert!(set.evaluate(TestStep::Read).is_none());
        assert!(set.evaluate(TestStep::Write).is_none());
        assert!(set.evaluate(TestStep::Read).is_none());
        assert_eq!(set.evaluate(TestStep::Write), Some(FaultAction::Hang));
    }

    #[test]
    fn times_zero_means_always() {
        let mut set = FaultSet::new([Fault::new(TestStep::Any, FaultAction::Malformed).always()]);
        for _ in 0..10 {
            assert_eq!(set.evaluate(TestStep::Write), Some(FaultAction::Malformed));
        }
    }

    #[test]
    fn yaml_forms_parse() {
        let text = r#"
- {step: read, action: {status: 500}}
- {step: write, nth: 2, times: 0, action: {status: {http_status: 403, code: 10000, message: "Authentication error"}}}
- {step: any, action: {rate_limit: {retry_after: 30}}}
- {step: any, action: {rate_limit: {}}}
- {step: any, action: rate_limit}
- {step: read, action: malformed}
- {step: read, action: {delay: 2500}}
- {step: read, action: reset}
- {step: read, action: hang}
- {step: write, action: {apply_then_status: 500}}
"#;
        let faults: Vec<Fault<TestStep>> = serde_yaml_ng::from_str(text).unwrap();
        assert_eq!(faults[0].action, FaultAction::status(500));
        assert_eq!(faults[1].times, 0);
        assert_eq!(
            faults[1].action,
            FaultAction::Status(StatusFault::new(403).with_error(10000, "Authentication error"))
        );
        assert_eq!(faults[2].action, FaultAction::rate_limit(Some(30)));
        assert_eq!(faults[3].action, FaultAction::rate_limit(None));
        assert_eq!(faults[4].action, FaultAction::rate_limit(None));
        assert_eq!(faults[5].action, FaultAction::Malformed);
        assert_eq!(faults[6].action, FaultAction::Delay(2500));
        assert_eq!(faults[7].action, FaultAction::Reset);
        assert_eq!(faults[8].action, FaultAction::Hang);
        assert_eq!(faults[9].action, FaultAction::apply_then_status(500));
    }

    #[test]
    fn unknown_action_is_rejected() {
        let result: Result<Fault<TestStep>, _> =
            serde_yaml_ng::from_str("{step: read, action: explode}");
        let error = result.unwrap_err().to_string();
        assert!(error.contains("explode"), "{error}");
    }

    #[test]
    fn two_actions_are_rejected() {
        let result: Result<Fault<TestStep>, _> =
            serde_yaml_ng::from_str("{step: read, action: {status: 500, delay: 10}}");
        let error = result.unwrap_err().to_string();
        assert!(error.contains("second key"), "{error}");
    }

    #[test]
    fn out_of_range_status_is_rejected() {
        let result: Result<Fault<TestStep>, _> =
            serde_yaml_ng::from_str("{step: read, action: {status: 999}}");
        let error = result.unwrap_err().to_string();
        assert!(error.contains("999"), "{error}");
    }
}
