//! Checks that apply to any secret value or plain field, whatever the provider.
//!
//! These catch the mistakes people make when they create Secrets by hand or
//! from templates: a trailing newline from `echo` or a file, a value that was
//! base64-encoded twice, raw text under `data:` that decodes to binary, and
//! templates that were never rendered.

use crate::finding::{Finding, Reason, Severity, Stage};
use base64::Engine;

/// Origin of a value, named in messages.
#[derive(Debug, Clone)]
pub struct ValueOrigin {
    /// cert-manager field, such as `apiTokenSecretRef`.
    pub field: String,
    /// Human description of the location, such as `Secret cert-manager/cf key api-token`.
    pub location: String,
    /// True when cert-manager trims whitespace from this value.
    pub trimmed_by_cert_manager: bool,
}

/// Returns the template marker found in `text`, if the text looks like an
/// unrendered template or a placeholder.
pub fn placeholder_marker(text: &str) -> Option<&'static str> {
    let trimmed = text.trim();
    if trimmed.contains("{{") && trimmed.contains("}}") {
        return Some("{{ }}");
    }
    if trimmed.contains("${") && trimmed.contains('}') {
        return Some("${VAR}");
    }
    if let Some(rest) = trimmed.strip_prefix('$') {
        if !rest.is_empty()
            && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && rest.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        {
            return Some("$VAR");
        }
    }
    if trimmed.starts_with('<') && trimmed.ends_with('>') && trimmed.len() > 2 {
        return Some("<...>");
    }
    if trimmed.len() >= 4 && trimmed.chars().all(|c| c == 'X' || c == 'x') {
        return Some("XXXX");
    }
    let lower = trimmed.to_ascii_lowercase();
    const WORDS: &[&str] = &[
        "changeme",
        "change-me",
        "change_me",
        "replace-me",
        "replace_me",
        "replaceme",
        "your-api-token",
        "your_api_token",
        "your-token",
        "your_token",
        "todo",
        "placeholder",
    ];
    if WORDS.contains(&lower.as_str()) {
        return Some("placeholder word");
    }
    None
}

/// Checks one secret value and returns the findings, all at the config stage.
pub fn check_secret_value(bytes: &[u8], origin: &ValueOrigin) -> Vec<Finding> {
    let mut findings = Vec::new();
    let what = format!("{} ({})", origin.location, origin.field);

    if bytes.is_empty() {
        findings.push(
            Finding::error(Reason::InvalidConfig, Stage::Config, format!("{what} is empty"))
                .with_remedy("store the credential under that key; cert-manager treats an empty value as no credential"),
        );
        return findings;
    }

    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(_) => {
            findings.push(binary_finding(&what, bytes.len()));
            return findings;
        }
    };
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        findings.push(binary_finding(&what, bytes.len()));
        return findings;
    }

    if let Some(marker) = placeholder_marker(text) {
        findings.push(
            Finding::error(
                Reason::PlaceholderUnexpanded,
                Stage::Config,
                format!("{what} holds an unexpanded placeholder ({marker} form) instead of a credential"),
            )
            .with_remedy("render the template first (helm template, kustomize build, envsubst) or put the real credential into the Secret"),
        );
        return findings;
    }

    let trimmed = text.trim();
    if trimmed.len() != text.len() {
        let at_end = text.ends_with(|c: char| c.is_whitespace());
        let odd = if at_end {
            text.as_bytes()[text.len() - 1]
        } else {
            text.as_bytes()[0]
        };
        let place = if at_end { "trailing" } else { "leading" };
        let severity = if origin.trimmed_by_cert_manager {
            Severity::Warning
        } else {
            Severity::Error
        };
        let consequence = if origin.trimmed_by_cert_manager {
            "cert-manager trims this field, so it still works"
        } else {
            "cert-manager does not trim this field, so the credential fails (Go's HTTP client refuses a header value with a newline, and other whitespace is sent as it is)"
        };
        findings.push(
            Finding::new(
                Reason::SecretWhitespace,
                severity,
                Stage::Config,
                format!(
                    "{what} has {place} whitespace (byte 0x{odd:02x}); {consequence}"
                ),
            )
            .with_remedy(
                "recreate the Secret without the newline: use stringData, `kubectl create secret generic … --from-literal`, or `echo -n` / `printf %s` before base64",
            ),
        );
    }

    if looks_double_encoded(trimmed) {
        findings.push(
            Finding::error(
                Reason::SecretEncoding,
                Stage::Config,
                format!("{what} is base64 of a printable value: the credential was base64-encoded twice"),
            )
            .with_remedy("put the plain credential under stringData, or base64-encode it only once under data"),
        );
    }
    findings
}

fn binary_finding(what: &str, len: usize) -> Finding {
    Finding::error(
        Reason::SecretEncoding,
        Stage::Config,
        format!("{what} is not printable text ({len} bytes): raw text was probably placed under data: instead of stringData:"),
    )
    .with_remedy("put the raw credential under stringData:, or base64-encode it before placing it under data:")
}

/// Returns true when `text` is valid base64 whose decoded bytes are a
/// printable credential-like string. Random tokens almost never decode to
/// printable ASCII, so false positives are rare.
pub fn looks_double_encoded(text: &str) -> bool {
    if text.len() < 20 || text.len() % 4 != 0 {
        return false;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(text) else {
        return false;
    };
    let decoded = match std::str::from_utf8(&decoded) {
        Ok(decoded) => decoded.trim_end_matches(['\n', '\r']),
        Err(_) => return false,
    };
    decoded.len() >= 12 && decoded.chars().all(|c| c.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(trimmed: bool) -> ValueOrigin {
        ValueOrigin {
            field: "apiTokenSecretRef".into(),
            location: "Secret cert-manager/cf key api-token".into(),
            trimmed_by_cert_manager: trimmed,
        }
    }

    #[test]
    fn trailing_newline_is_error_when_not_trimmed() {
        let findings = check_secret_value(b"abcdefghijklmnopqrstuvwxyz0123456789ABCD\n", &origin(false));
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].reason, Reason::SecretWhitespace);
        assert_eq!(findings[0].severity, Severity::Error);
        assert!(findings[0].message.contains("0x0a"), "{}", findings[0].message);
    }

    #[test]
    fn trailing_newline_is_warning_when_trimmed() {
        let findings = check_secret_value(b"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n", &origin(true));
        assert_eq!(findings[0].severity, Severity::Warning);
    }

    #[test]
    fn placeholders_are_found() {
        for value in ["${CF_TOKEN}", "$CF_TOKEN", "<API Token>", "{{ .Values.token }}", "XXXXXXXX", "changeme"] {
            let findings = check_secret_value(value.as_bytes(), &origin(false));
            assert_eq!(findings.len(), 1, "{value}");
            assert_eq!(findings[0].reason, Reason::PlaceholderUnexpanded, "{value}");
        }
    }

    #[test]
    fn double_base64_is_found() {
        let inner = "abcdefghijklmnopqrstuvwxyz0123456789ABCD";
        let outer = base64::engine::general_purpose::STANDARD.encode(inner);
        let findings = check_secret_value(outer.as_bytes(), &origin(false));
        assert_eq!(findings[0].reason, Reason::SecretEncoding);
    }

    #[test]
    fn binary_is_found() {
        let findings = check_secret_value(&[0x9e, 0x7f, 0x01, 0xff], &origin(false));
        assert_eq!(findings[0].reason, Reason::SecretEncoding);
    }

    #[test]
    fn normal_token_passes() {
        assert!(check_secret_value(b"Yq8nNw2vB7xK_cM4pR1sT6uV9wX0yZ3aB5cD7eF9", &origin(false)).is_empty());
    }
}
