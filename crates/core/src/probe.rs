//! The probe value written into the challenge TXT record.
//!
//! A real challenge value is 43 characters of base64url (the SHA-256 of the
//! key authorization). The probe value has the same length and alphabet, so
//! providers treat it like a real challenge, and it starts with a fixed
//! marker and its creation time, so `cleanup` can find and age a record that
//! a killed run left behind. The marker is not a valid base64url prefix of
//! any real key in practice: real keys are random.

use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;

/// Prefix of every probe value.
pub const PROBE_MARKER: &str = "acme-token-probe-";

/// Length of an ACME DNS-01 challenge value.
pub const CHALLENGE_VALUE_LEN: usize = 43;

const BASE64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A probe value with its creation time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeValue {
    pub value: String,
    pub created_at: DateTime<Utc>,
}

impl ProbeValue {
    /// Creates a value for now: marker, base36 seconds since the epoch, `-`,
    /// then random base64url up to 43 characters.
    pub fn generate() -> Self {
        Self::generate_at(Utc::now())
    }

    /// Creates a value for a given time.
    pub fn generate_at(now: DateTime<Utc>) -> Self {
        let seconds = now.timestamp().max(0) as u64;
        let mut value = format!("{PROBE_MARKER}{}-", to_base36(seconds));
        let mut rng = rand::thread_rng();
        while value.len() < CHALLENGE_VALUE_LEN {
            value.push(BASE64URL[rng.gen_range(0..BASE64URL.len())] as char);
        }
        let created_at = Utc.timestamp_opt(seconds as i64, 0).single().unwrap_or(now);
        Self { value, created_at }
    }

    /// Parses a TXT value. Returns `None` unless it is a probe value. Quotes
    /// around the value (as Route53 stores TXT data) are removed first.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().trim_matches('"');
        if text.len() != CHALLENGE_VALUE_LEN || !text.bytes().all(|b| BASE64URL.contains(&b)) {
            return None;
        }
        let rest = text.strip_prefix(PROBE_MARKER)?;
        let (seconds, _random) = rest.split_once('-')?;
        let seconds = from_base36(seconds)?;
        let created_at = Utc.timestamp_opt(seconds as i64, 0).single()?;
        Some(Self {
            value: text.to_string(),
            created_at,
        })
    }
}

fn to_base36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    if n == 0 {
        return "0".to_string();
    }
    let mut out = Vec::new();
    while n > 0 {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
    }
    out.reverse();
    String::from_utf8(out).expect("base36 digits are ASCII")
}

fn from_base36(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 12 {
        return None;
    }
    u64::from_str_radix(text, 36).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_value_has_challenge_shape() {
        let probe = ProbeValue::generate();
        assert_eq!(probe.value.len(), CHALLENGE_VALUE_LEN);
        assert!(probe.value.starts_with(PROBE_MARKER));
        assert!(probe.value.bytes().all(|b| BASE64URL.contains(&b)));
    }

    #[test]
    fn parse_recovers_creation_time() {
        let at = Utc.with_ymd_and_hms(2026, 12, 4, 20, 0, 0).unwrap();
        let probe = ProbeValue::generate_at(at);
        let parsed = ProbeValue::parse(&format!("\"{}\"", probe.value)).unwrap();
        assert_eq!(parsed.created_at, at);
    }

    #[test]
    fn parse_rejects_other_values() {
        assert!(ProbeValue::parse("some-in-flight-challenge-value").is_none());
        assert!(ProbeValue::parse(&"a".repeat(43)).is_none());
        assert!(ProbeValue::parse("acme-token-probe-zz").is_none());
    }
}
