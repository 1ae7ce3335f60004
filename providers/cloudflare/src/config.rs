//! Replay of cert-manager's Cloudflare configuration: the `dns01.cloudflare`
//! stanza, the checks of the webhook and of the solver's constructor, and the
//! credential each mode sends.
//!
//! cert-manager (v1.21.1 and master alike) reads `apiTokenSecretRef`, or
//! `apiKeySecretRef` plus `email`, takes the Secret value without trimming
//! it, and rejects any control character other than space and tab with "the
//! Cloudflare API token is invalid (does the API token contain a newline?)".
//! It sends a token as `Authorization: Bearer`, a key as `X-Auth-Key`, and
//! `X-Auth-Email` whenever `email` is set, even next to a token.

use crate::client::{Auth, Client};
use crate::CloudflareProvider;
use crate::DESCRIPTOR;
use acme_token_core::sanity::placeholder_marker;
use acme_token_core::{
    BuildOutcome, Finding, ProviderSettings, Reason, SecretFieldSpec, SecretValue, SolverPlan,
    Stage,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// cert-manager field of the API token reference.
pub(crate) const TOKEN_FIELD: &str = "apiTokenSecretRef";
/// cert-manager field of the global API key reference.
pub(crate) const KEY_FIELD: &str = "apiKeySecretRef";
/// Plan setting naming the configured credential field.
const MODE_SETTING: &str = "credentialField";
/// Plan setting containing `email`.
const EMAIL_SETTING: &str = "email";
/// Option naming the account that owns an account API token.
pub(crate) const ACCOUNT_ID_OPTION: &str = "account-id";

/// Format of a credential value, judged from the value alone.
///
/// Cloudflare's current formats carry a prefix: `cfk_` for a global API key,
/// `cfut_` for a user API token and `cfat_` for an account API token. Older
/// API tokens are 40 characters of `[A-Za-z0-9_-]` and older global keys are
/// 37 lowercase hex characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CredentialShape {
    GlobalKey,
    UserToken,
    AccountToken,
    /// An unprefixed 40-character API token, user- or account-owned.
    LegacyToken,
    Unknown,
}

impl CredentialShape {
    /// Classifies a value that has already been trimmed.
    pub(crate) fn of(value: &str) -> Self {
        if value.starts_with("cfk_") {
            return Self::GlobalKey;
        }
        if value.starts_with("cfut_") {
            return Self::UserToken;
        }
        if value.starts_with("cfat_") {
            return Self::AccountToken;
        }
        let is_hex = |c: char| c.is_ascii_digit() || ('a'..='f').contains(&c);
        if value.len() == 37 && value.chars().all(is_hex) {
            return Self::GlobalKey;
        }
        let token_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
        if value.len() == 40
            && value.chars().all(token_char)
            && !value.chars().all(|c| c.is_ascii_hexdigit())
        {
            return Self::LegacyToken;
        }
        Self::Unknown
    }

    pub(crate) fn is_token(self) -> bool {
        matches!(self, Self::UserToken | Self::AccountToken | Self::LegacyToken)
    }

    /// Description of the format for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::GlobalKey => "a global API key",
            Self::UserToken => "a user API token (prefix cfut_)",
            Self::AccountToken => "an account API token (prefix cfat_)",
            Self::LegacyToken => "an API token (40 characters)",
            Self::Unknown => "a value of no known Cloudflare format",
        }
    }
}

/// The Secret a credential was read from, for messages and remedies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SecretLocation {
    pub field: String,
    pub name: String,
    pub key: String,
    /// Where a bare credential check read the value, such as
    /// `env:CF_API_TOKEN`, from the `credential-source` option; there is no
    /// Secret then.
    pub source: Option<String>,
}

impl SecretLocation {
    /// `Secret cf key api-token (apiTokenSecretRef)`, or `credential
    /// env:CF_API_TOKEN` for a bare credential check.
    pub(crate) fn describe(&self) -> String {
        match &self.source {
            Some(source) => format!("credential {source}"),
            None => format!("Secret {} key {} ({})", self.name, self.key, self.field),
        }
    }
}

fn invalid(message: String, remedy: &str) -> Finding {
    Finding::error(Reason::InvalidConfig, Stage::Config, message).with_remedy(remedy)
}

/// Reads one `{name, key}` reference. Returns `None` when the field is
/// absent, and pushes a finding for each missing part.
fn read_secret_ref(
    stanza: &serde_json::Value,
    field: &str,
    findings: &mut Vec<Finding>,
) -> Option<SecretFieldSpec> {
    let value = stanza.get(field)?;
    if value.is_null() {
        return None;
    }
    let Some(object) = value.as_object() else {
        findings.push(invalid(
            format!("cloudflare: {field} must be an object with name and key"),
            "set both name (the Secret) and key (the entry in the Secret)",
        ));
        return Some(SecretFieldSpec {
            field: field.to_string(),
            name: String::new(),
            key: String::new(),
            trimmed_by_cert_manager: false,
        });
    };
    let part = |part: &str| {
        object
            .get(part)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let spec = SecretFieldSpec {
        field: field.to_string(),
        name: part("name"),
        key: part("key"),
        trimmed_by_cert_manager: false,
    };
    if spec.name.trim().is_empty() {
        findings.push(invalid(
            format!("cloudflare: {field}.name is empty"),
            "name the Secret that contains the credential; cert-manager's webhook rejects an empty name",
        ));
    }
    if spec.key.trim().is_empty() {
        findings.push(invalid(
            format!("cloudflare: {field}.key is empty"),
            "name the key inside the Secret; cert-manager's webhook rejects an empty key",
        ));
    }
    Some(spec)
}

/// Reads the `dns01.cloudflare` stanza the way cert-manager's webhook and
/// the solver's constructor do, and lists the Secret to resolve.
pub(crate) fn plan(stanza: &serde_json::Value) -> SolverPlan {
    let mut plan = SolverPlan::default();
    if !stanza.is_object() {
        plan.findings.push(invalid(
            "cloudflare: the cloudflare solver stanza is not an object".to_string(),
            "set apiTokenSecretRef (recommended) or apiKeySecretRef with email under dns01.cloudflare",
        ));
        plan.unusable = true;
        return plan;
    }

    let token = read_secret_ref(stanza, TOKEN_FIELD, &mut plan.findings);
    let key = read_secret_ref(stanza, KEY_FIELD, &mut plan.findings);
    let email = stanza
        .get("email")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    if !email.is_empty() {
        plan.settings.insert(EMAIL_SETTING.to_string(), email.clone());
    }

    let incomplete = |spec: &SecretFieldSpec| spec.name.trim().is_empty() || spec.key.trim().is_empty();
    match (token, key) {
        (Some(token), Some(key)) => {
            plan.findings.push(invalid(
                "cloudflare: both apiTokenSecretRef and apiKeySecretRef are set; cert-manager fails with \"the Cloudflare API key and API token cannot be both present simultaneously\"".to_string(),
                "keep apiTokenSecretRef (recommended) and remove apiKeySecretRef and email, or keep apiKeySecretRef with email and remove apiTokenSecretRef",
            ));
            plan.unusable = true;
            plan.secrets = vec![token, key];
            return plan;
        }
        (None, None) => {
            plan.findings.push(invalid(
                "cloudflare: neither apiTokenSecretRef nor apiKeySecretRef is set; cert-manager fails with \"no Cloudflare credential has been given (can be either an API key or an API token)\"".to_string(),
                "set apiTokenSecretRef to a Secret holding an API token with Zone / Zone / Read and Zone / DNS / Edit",
            ));
            plan.unusable = true;
            return plan;
        }
        (Some(token), None) => {
            plan.unusable = incomplete(&token);
            plan.settings.insert(MODE_SETTING.to_string(), TOKEN_FIELD.to_string());
            if !email.is_empty() {
                plan.findings.push(Finding::info(
                    Reason::Notice,
                    Stage::Config,
                    format!("cloudflare: email ({email}) is not needed with an API token; cert-manager still sends it as X-Auth-Email"),
                ).with_remedy("remove email from the cloudflare stanza"));
            }
            plan.secrets = vec![token];
        }
        (None, Some(key)) => {
            plan.unusable = incomplete(&key);
            plan.settings.insert(MODE_SETTING.to_string(), KEY_FIELD.to_string());
            if email.is_empty() {
                // Not marked unusable: the value may turn out to be an API
                // token, which build() then checks as one.
                plan.findings.push(invalid(
                    "cloudflare: apiKeySecretRef is set but email is empty; cert-manager's webhook requires email with a global API key, and the solver fails with \"no Cloudflare credential has been given (can be either an API key or an API token)\"".to_string(),
                    "set email to the Cloudflare account's login email, or use an API token in apiTokenSecretRef instead",
                ));
            }
            plan.secrets = vec![key];
        }
    }

    if let Some(marker) = placeholder_marker(&email) {
        let uses_key = plan.settings.get(MODE_SETTING).map(String::as_str) == Some(KEY_FIELD);
        let message = format!(
            "cloudflare: email contains an unexpanded placeholder ({marker} form) instead of an email address"
        );
        let finding = if uses_key {
            Finding::error(Reason::PlaceholderUnexpanded, Stage::Config, message)
        } else {
            Finding::warning(Reason::PlaceholderUnexpanded, Stage::Config, message)
        };
        plan.findings.push(finding.with_remedy(
            "render the template (helm template, kustomize build, envsubst) or write the account's login email",
        ));
    }
    plan
}

/// The credential mode decided by [`build`], with what it changed.
struct Decision {
    auth: Auth,
    /// Mode the value is checked in, when it differs from the configured one.
    checked_as: Option<String>,
    findings: Vec<Finding>,
}

/// Chooses the mode to check the value in. A credential in the wrong field
/// is reported and checked in the mode that would work, when that is possible.
fn decide_mode(
    configured: &str,
    shape: CredentialShape,
    value: SecretValue,
    email: Option<String>,
    location: &SecretLocation,
) -> Option<Decision> {
    let mut findings = Vec::new();
    if configured == TOKEN_FIELD {
        if shape != CredentialShape::GlobalKey {
            return Some(Decision {
                auth: Auth::Token { token: value, email },
                checked_as: None,
                findings,
            });
        }
        findings.push(
            Finding::error(
                Reason::CredentialFieldMismatch,
                Stage::Config,
                format!(
                    "cloudflare: {} contains {}, not an API token; cert-manager sends it as Authorization: Bearer, which Cloudflare rejects with 6003 \"Invalid format for Authorization header\"",
                    location.describe(),
                    shape.describe()
                ),
            )
            .with_remedy(
                "create a scoped API token with Zone / Zone / Read and Zone / DNS / Edit and store it under apiTokenSecretRef, or reference this key from apiKeySecretRef and set email",
            ),
        );
        return Some(match email {
            Some(email) => Decision {
                auth: Auth::GlobalKey { key: value, email },
                checked_as: Some(
                    "global API key with X-Auth-Email, as if referenced by apiKeySecretRef".to_string(),
                ),
                findings,
            },
            None => Decision {
                auth: Auth::Token { token: value, email: None },
                checked_as: Some(
                    "as configured (Authorization: Bearer), because no email is set to check it as a global API key"
                        .to_string(),
                ),
                findings,
            },
        });
    }

    if shape.is_token() {
        findings.push(
            Finding::error(
                Reason::CredentialFieldMismatch,
                Stage::Config,
                format!(
                    "cloudflare: {} contains {}, not a global API key; cert-manager sends it as X-Auth-Key, which Cloudflare rejects with 6003 \"Invalid format for X-Auth-Key header\"",
                    location.describe(),
                    shape.describe()
                ),
            )
            .with_remedy("reference the Secret from apiTokenSecretRef instead of apiKeySecretRef, and remove email"),
        );
        return Some(Decision {
            auth: Auth::Token { token: value, email: None },
            checked_as: Some(
                "API token with Authorization: Bearer, as if referenced by apiTokenSecretRef".to_string(),
            ),
            findings,
        });
    }
    // A global key without email cannot authenticate; plan() reported it.
    let email = email?;
    Some(Decision {
        auth: Auth::GlobalKey { key: value, email },
        checked_as: None,
        findings,
    })
}

/// Builds the provider from the resolved Secret value.
///
/// The value is checked without leading and trailing whitespace, so the
/// credential stage can report whether fixing the Secret is enough. The generic
/// config checks already report that whitespace.
pub(crate) fn build(
    plan: &SolverPlan,
    secrets: &BTreeMap<String, SecretValue>,
    settings: &ProviderSettings,
) -> BuildOutcome {
    let outcome = build_provider(plan, secrets, settings);
    BuildOutcome {
        provider: outcome
            .provider
            .map(|provider| Arc::new(provider) as Arc<dyn acme_token_core::Provider>),
        findings: outcome.findings,
    }
}

/// The concrete provider, if one could be built, and the config findings.
struct Outcome {
    provider: Option<CloudflareProvider>,
    findings: Vec<Finding>,
}

fn build_provider(
    plan: &SolverPlan,
    secrets: &BTreeMap<String, SecretValue>,
    settings: &ProviderSettings,
) -> Outcome {
    let mut outcome = Outcome {
        provider: None,
        findings: Vec::new(),
    };
    if plan.unusable {
        return outcome;
    }
    let Some(configured) = plan.settings.get(MODE_SETTING) else {
        return outcome;
    };
    let Some(spec) = plan.secrets.iter().find(|s| &s.field == configured) else {
        return outcome;
    };
    let Some(secret) = secrets.get(configured) else {
        return outcome;
    };
    let location = SecretLocation {
        field: spec.field.clone(),
        name: spec.name.clone(),
        key: spec.key.clone(),
        source: settings.options.get("credential-source").cloned(),
    };

    let raw = secret.expose();
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return outcome;
    }
    if let Some(byte) = trimmed.bytes().find(|b| *b == b'\n' || *b == b'\r') {
        outcome.findings.push(
            Finding::error(
                Reason::SecretWhitespace,
                Stage::Config,
                format!(
                    "cloudflare: {} has a line break (byte 0x{byte:02x}) inside the value; cert-manager fails with \"the Cloudflare API token is invalid (does the API token contain a newline?)\"",
                    location.describe()
                ),
            )
            .with_remedy("store exactly one credential, on one line, under that key"),
        );
        return outcome;
    }
    if trimmed.chars().any(|c| c.is_control() && c != '\t') {
        // The generic check already reported the value as not printable.
        return outcome;
    }
    let was_trimmed = trimmed.len() != raw.len();
    let value = if was_trimmed {
        secret.trimmed()
    } else {
        secret.clone()
    };

    let shape = CredentialShape::of(trimmed);
    let email = plan.settings.get(EMAIL_SETTING).cloned().filter(|e| !e.is_empty());
    let Some(decision) = decide_mode(configured, shape, value.clone(), email, &location) else {
        return outcome;
    };
    outcome.findings.extend(decision.findings);

    let endpoint = settings
        .endpoint
        .clone()
        .unwrap_or_else(|| DESCRIPTOR.default_endpoint.to_string());
    if url::Url::parse(&endpoint).is_err() {
        outcome.findings.push(invalid(
            format!("cloudflare: the endpoint {endpoint} is not a valid URL"),
            "pass an absolute URL such as https://api.cloudflare.com/client/v4",
        ));
        return outcome;
    }
    let client = match Client::new(&settings.http, &endpoint, decision.auth) {
        Ok(client) => client,
        Err(error) => {
            outcome.findings.push(invalid(
                format!("cloudflare: cannot build the HTTP client: {error}"),
                "fix --ca-file or the proxy settings",
            ));
            return outcome;
        }
    };
    let account_id = settings
        .options
        .get(ACCOUNT_ID_OPTION)
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty());

    outcome.provider = Some(CloudflareProvider {
        client,
        shape,
        account_id,
        checked_as: decision.checked_as,
        trimmed: was_trimmed,
        location: location.clone(),
        account_key: format!("cloudflare:{}", value.fingerprint()),
        summary: vec![(location.field.clone(), secret.to_string())],
    });
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_debug_hides_credential() {
        let canary = "CANARYtokenVALUEqq0123456789abcdefghijkl";
        let stanza = serde_json::json!({"email": "ops@example.com", "apiTokenSecretRef": {"name": "cf", "key": "t"}});
        let plan = plan(&stanza);
        let secrets = BTreeMap::from([(TOKEN_FIELD.to_string(), SecretValue::new(format!("{canary}\n")))]);
        let outcome = build_provider(&plan, &secrets, &ProviderSettings::default());
        let debug = format!("{:?}", outcome.provider.expect("the provider builds"));
        assert!(!debug.contains(canary), "{debug}");
        assert!(debug.contains("sha256:"), "{debug}");
    }

    #[test]
    fn shapes_are_recognised() {
        let old_global_key = "0123456789abcdef0123456789abcdef01234";
        assert_eq!(old_global_key.len(), 37);
        assert_eq!(CredentialShape::of(old_global_key), CredentialShape::GlobalKey);
        assert_eq!(CredentialShape::of("cfk_abc"), CredentialShape::GlobalKey);
        assert_eq!(CredentialShape::of("cfut_abc"), CredentialShape::UserToken);
        assert_eq!(CredentialShape::of("cfat_abc"), CredentialShape::AccountToken);
        assert_eq!(
            CredentialShape::of("Yq8nNw2vB7xK_cM4pR1sT6uV9wX0yZ3aB5cD7eF9"),
            CredentialShape::LegacyToken
        );
        assert_eq!(CredentialShape::of(&"a".repeat(40)), CredentialShape::Unknown);
        assert_eq!(CredentialShape::of("short"), CredentialShape::Unknown);
    }
}
