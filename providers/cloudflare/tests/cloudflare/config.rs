//! The stanza and the Secret value, before any request.

use crate::{key_stanza, token_stanza, Harness, EMAIL, GLOBAL_KEY, TOKEN};
use crate::fake::State;
use acme_token_cloudflare::CloudflareFactory;
use acme_token_core::{
    BuildOutcome, ProviderFactory, ProviderSettings, Reason, SecretValue, Severity, SolverPlan,
    Stage,
};
use serde_json::json;
use std::collections::BTreeMap;

fn plan(stanza: serde_json::Value) -> SolverPlan {
    CloudflareFactory.plan(&stanza)
}

fn build(plan: &SolverPlan, value: &str) -> BuildOutcome {
    let field = plan.secrets[0].field.clone();
    let secrets = BTreeMap::from([(field, SecretValue::new(value))]);
    CloudflareFactory.build(plan, &secrets, &ProviderSettings::default())
}

fn reasons(plan: &SolverPlan) -> Vec<Reason> {
    plan.findings.iter().map(|f| f.reason).collect()
}

#[test]
fn token_stanza_plans_one_untrimmed_secret() {
    let plan = plan(token_stanza());
    assert!(plan.findings.is_empty(), "{:?}", plan.findings);
    assert!(!plan.unusable);
    assert_eq!(plan.secrets.len(), 1);
    assert_eq!(plan.secrets[0].field, "apiTokenSecretRef");
    assert_eq!(plan.secrets[0].name, "cf");
    assert_eq!(plan.secrets[0].key, "api-token");
    assert!(!plan.secrets[0].trimmed_by_cert_manager);
}

#[test]
fn both_refs_are_rejected() {
    let plan = plan(json!({
        "email": EMAIL,
        "apiTokenSecretRef": {"name": "cf", "key": "token"},
        "apiKeySecretRef": {"name": "cf", "key": "key"},
    }));
    assert!(plan.unusable);
    assert_eq!(reasons(&plan), vec![Reason::InvalidConfig]);
    let finding = &plan.findings[0];
    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.stage, Stage::Config);
    assert!(
        finding.message.contains("cannot be both present simultaneously"),
        "{}",
        finding.message
    );
}

#[test]
fn missing_credential_is_rejected() {
    let plan = plan(json!({"email": EMAIL}));
    assert!(plan.unusable);
    assert_eq!(reasons(&plan), vec![Reason::InvalidConfig]);
    assert!(plan.findings[0].message.contains("no Cloudflare credential has been given"));
    assert!(plan.secrets.is_empty());
}

#[test]
fn key_without_email_is_rejected() {
    let plan = plan(json!({"apiKeySecretRef": {"name": "cf", "key": "key"}}));
    assert_eq!(reasons(&plan), vec![Reason::InvalidConfig]);
    assert_eq!(plan.findings[0].severity, Severity::Error);
    assert!(plan.findings[0].message.contains("email is empty"), "{}", plan.findings[0].message);
    assert!(plan.findings[0].message.contains("no Cloudflare credential has been given"));
    // The value may still be an API token in the wrong field, so the Secret
    // is resolved and build() decides.
    assert_eq!(plan.secrets.len(), 1);
}

#[test]
fn global_key_without_email_builds_nothing() {
    let plan = plan(json!({"apiKeySecretRef": {"name": "cf", "key": "key"}}));
    let outcome = build(&plan, GLOBAL_KEY);
    assert!(outcome.provider.is_none());
}

#[test]
fn email_next_to_token_is_info() {
    let plan = plan(json!({"email": EMAIL, "apiTokenSecretRef": {"name": "cf", "key": "t"}}));
    assert_eq!(reasons(&plan), vec![Reason::Notice]);
    assert_eq!(plan.findings[0].severity, Severity::Info);
    assert!(plan.findings[0].message.contains("X-Auth-Email"), "{}", plan.findings[0].message);
    assert_eq!(plan.settings.get("email").map(String::as_str), Some(EMAIL));
}

#[test]
fn placeholder_email_is_reported() {
    let plan_key = plan(json!({"email": "${CF_EMAIL}", "apiKeySecretRef": {"name": "cf", "key": "k"}}));
    let placeholder: Vec<_> = plan_key
        .findings
        .iter()
        .filter(|f| f.reason == Reason::PlaceholderUnexpanded)
        .collect();
    assert_eq!(placeholder.len(), 1);
    assert_eq!(placeholder[0].severity, Severity::Error);

    let plan_token = plan(json!({"email": "{{ .Values.email }}", "apiTokenSecretRef": {"name": "cf", "key": "t"}}));
    let placeholder: Vec<_> = plan_token
        .findings
        .iter()
        .filter(|f| f.reason == Reason::PlaceholderUnexpanded)
        .collect();
    assert_eq!(placeholder.len(), 1);
    assert_eq!(placeholder[0].severity, Severity::Warning);
}

#[test]
fn empty_name_or_key_is_invalid() {
    let plan = plan(json!({"apiTokenSecretRef": {"name": "", "key": ""}}));
    assert!(plan.unusable);
    let messages: Vec<&str> = plan.findings.iter().map(|f| f.message.as_str()).collect();
    assert_eq!(reasons(&plan), vec![Reason::InvalidConfig, Reason::InvalidConfig], "{messages:?}");
    assert!(messages.iter().any(|m| m.contains("apiTokenSecretRef.name is empty")));
    assert!(messages.iter().any(|m| m.contains("apiTokenSecretRef.key is empty")));
}

#[test]
fn non_object_stanza_is_invalid() {
    let plan = plan(json!("cloudflare"));
    assert!(plan.unusable);
    assert_eq!(reasons(&plan), vec![Reason::InvalidConfig]);
}

/// A 37-character global key in apiTokenSecretRef.
#[test]
fn global_key_in_token_field_is_mismatch() {
    let plan = plan(json!({"apiTokenSecretRef": {"name": "cf", "key": "api"}}));
    let outcome = build(&plan, GLOBAL_KEY);
    assert_eq!(outcome.findings.len(), 1);
    let finding = &outcome.findings[0];
    assert_eq!(finding.reason, Reason::CredentialFieldMismatch);
    assert_eq!(finding.stage, Stage::Config);
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.message.contains("global API key"), "{}", finding.message);
    assert!(finding.remedy.contains("apiKeySecretRef"), "{}", finding.remedy);
    assert!(finding.remedy.contains("email"), "{}", finding.remedy);
    assert!(finding.remedy.contains("scoped API token"), "{}", finding.remedy);
    assert!(outcome.provider.is_some());
}

/// A 40-character API token in apiKeySecretRef.
#[test]
fn token_in_key_field_is_mismatch() {
    let outcome = build(&plan(key_stanza()), TOKEN);
    assert_eq!(outcome.findings.len(), 1);
    let finding = &outcome.findings[0];
    assert_eq!(finding.reason, Reason::CredentialFieldMismatch);
    assert!(finding.message.contains("API token"), "{}", finding.message);
    assert!(finding.remedy.contains("apiTokenSecretRef"), "{}", finding.remedy);
    assert!(finding.remedy.contains("remove email"), "{}", finding.remedy);
    assert!(outcome.provider.is_some());
}

#[test]
fn prefixed_formats_are_recognised() {
    let token_plan = plan(token_stanza());
    let key_plan = plan(key_stanza());
    let global_key = format!("cfk_{}", "A".repeat(44));
    let user_token = format!("cfut_{}", "b".repeat(44));
    let account_token = format!("cfat_{}", "C".repeat(44));
    assert_eq!(
        build(&token_plan, &global_key).findings[0].reason,
        Reason::CredentialFieldMismatch
    );
    assert_eq!(build(&key_plan, &user_token).findings[0].reason, Reason::CredentialFieldMismatch);
    assert_eq!(build(&key_plan, &account_token).findings[0].reason, Reason::CredentialFieldMismatch);
    assert!(build(&token_plan, &user_token).findings.is_empty());
    assert!(build(&key_plan, GLOBAL_KEY).findings.is_empty());
}

#[test]
fn line_break_inside_value_builds_nothing() {
    let outcome = build(&plan(token_stanza()), "Yq8nNw2vB7xK_cM4pR1s\nT6uV9wX0yZ3aB5cD7eF9");
    assert!(outcome.provider.is_none());
    assert_eq!(outcome.findings.len(), 1);
    assert_eq!(outcome.findings[0].reason, Reason::SecretWhitespace);
    assert!(outcome.findings[0].message.contains("does the API token contain a newline?"));
}

#[test]
fn trailing_newline_still_builds() {
    // The generic config check reports the newline; build adds nothing.
    let outcome = build(&plan(token_stanza()), &format!("{TOKEN}\n"));
    assert!(outcome.findings.is_empty(), "{:?}", outcome.findings);
    assert!(outcome.provider.is_some());
}

#[test]
fn account_key_is_per_credential() {
    let plan = plan(token_stanza());
    let first = build(&plan, TOKEN).provider.unwrap();
    let second = build(&plan, "Zq8nNw2vB7xK_cM4pR1sT6uV9wX0yZ3aB5cD7eF9").provider.unwrap();
    let with_newline = build(&plan, &format!("{TOKEN}\n")).provider.unwrap();
    assert!(first.account_key().starts_with("cloudflare:sha256:"), "{}", first.account_key());
    assert_ne!(first.account_key(), second.account_key());
    // The budget follows the value sent, which is the trimmed one.
    assert_eq!(first.account_key(), with_newline.account_key());
    assert!(!first.account_key().contains(TOKEN));
}

#[test]
fn credential_summary_shows_fingerprint() {
    let provider = build(&plan(token_stanza()), TOKEN).provider.unwrap();
    let summary = provider.credential_summary();
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0].0, "apiTokenSecretRef");
    assert!(summary[0].1.starts_with("sha256:"), "{}", summary[0].1);
    assert!(summary[0].1.contains("40 bytes"), "{}", summary[0].1);
}

#[tokio::test]
async fn endpoint_override_is_used() {
    let harness = Harness::start(State::token(TOKEN)).await;
    let provider = harness.provider(token_stanza(), TOKEN);
    let report = provider.verify_credential(&crate::context()).await;
    assert!(!report.failed(), "{:?}", crate::reasons(&report));
    assert_eq!(harness.requests().await, vec!["GET /user/tokens/verify"]);
}

#[test]
fn invalid_endpoint_is_reported() {
    let plan = plan(token_stanza());
    let secrets = BTreeMap::from([("apiTokenSecretRef".to_string(), SecretValue::new(TOKEN))]);
    let settings = ProviderSettings {
        endpoint: Some("not a url".to_string()),
        ..ProviderSettings::default()
    };
    let outcome = CloudflareFactory.build(&plan, &secrets, &settings);
    assert!(outcome.provider.is_none());
    assert_eq!(outcome.findings[0].reason, Reason::InvalidConfig);
}
