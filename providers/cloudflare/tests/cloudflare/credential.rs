//! The credential stage: verify endpoints, account tokens, global keys.

use crate::fake::{Fault, Owner, State};
use crate::{
    context, key_stanza, reasons, token_stanza, with_reason, Harness, ACCOUNT_ID, EMAIL,
    GLOBAL_KEY, OTHER_ZONE_ID, TOKEN, ZONE_ID,
};
use acme_token_core::{Reason, Severity, StageStatus};
use chrono::{Duration as ChronoDuration, Utc};
use serde_json::json;

fn in_days(days: i64) -> String {
    (Utc::now() + ChronoDuration::days(days)).to_rfc3339()
}

#[tokio::test]
async fn active_token_passes() {
    let harness = Harness::start(State::token(TOKEN)).await;
    let report = harness
        .provider(token_stanza(), TOKEN)
        .verify_credential(&context())
        .await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert_eq!(report.facts.get("tokenId").map(String::as_str), Some("f267e341f3dd4697bd3b9f71dd96247f"));
    assert_eq!(report.facts.get("status").map(String::as_str), Some("active"));
    assert_eq!(report.facts.get("owner").map(String::as_str), Some("user"));
    assert_eq!(harness.requests().await, vec!["GET /user/tokens/verify"]);
}

#[tokio::test]
async fn expired_status_is_auth_expired() {
    let mut state = State::token(TOKEN);
    state.token_status = "expired".into();
    state.expires_on = Some("2026-01-01T00:00:00Z".into());
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    let expired = with_reason(&report, Reason::AuthExpired);
    assert_eq!(expired.len(), 1, "{:?}", reasons(&report));
    assert_eq!(expired[0].severity, Severity::Error);
    assert!(expired[0].message.contains("2026-01-01"), "{}", expired[0].message);
    assert!(expired[0].message.contains("stale"), "{}", expired[0].message);
}

#[tokio::test]
async fn past_expiry_is_auth_expired() {
    let mut state = State::token(TOKEN);
    state.expires_on = Some(in_days(-2));
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    assert_eq!(with_reason(&report, Reason::AuthExpired).len(), 1, "{:?}", reasons(&report));
    assert!(report.failed());
}

/// A token that expires in 5 days.
#[tokio::test]
async fn near_expiry_is_warning_with_date() {
    let mut state = State::token(TOKEN);
    let expires = Utc::now() + ChronoDuration::days(5) + ChronoDuration::hours(1);
    state.expires_on = Some(expires.to_rfc3339());
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Warning, "{:?}", reasons(&report));
    let expiring = with_reason(&report, Reason::AuthExpiring);
    assert_eq!(expiring.len(), 1);
    assert_eq!(expiring[0].severity, Severity::Warning);
    let date = expires.format("%Y-%m-%d").to_string();
    assert!(expiring[0].message.contains(&date), "{}", expiring[0].message);
    assert!(expiring[0].message.contains("in 5 days"), "{}", expiring[0].message);
    assert!(expiring[0].remedy.contains("Secret cf key api-token"), "{}", expiring[0].remedy);
    assert!(report.facts.contains_key("expiresOn"));
}

#[tokio::test]
async fn distant_expiry_passes() {
    let mut state = State::token(TOKEN);
    state.expires_on = Some(in_days(90));
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
}

#[tokio::test]
async fn future_start_is_not_yet_valid() {
    let mut state = State::token(TOKEN);
    state.not_before = Some(in_days(3));
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    let findings = with_reason(&report, Reason::AuthNotYetValid);
    assert_eq!(findings.len(), 1, "{:?}", reasons(&report));
    assert!(report.failed());
}

#[tokio::test]
async fn disabled_token_is_invalid() {
    let mut state = State::token(TOKEN);
    state.token_status = "disabled".into();
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    let invalid = with_reason(&report, Reason::AuthInvalid);
    assert_eq!(invalid.len(), 1, "{:?}", reasons(&report));
    assert!(invalid[0].message.contains("disabled"), "{}", invalid[0].message);
}

/// A rolled token gets 401, code 1000.
#[tokio::test]
async fn revoked_token_is_stale() {
    let mut state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.revoked = Some((1000, "Invalid API Token".into()));
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    let invalid = with_reason(&report, Reason::AuthInvalid);
    assert_eq!(invalid.len(), 1, "{:?}", reasons(&report));
    let finding = invalid[0];
    assert!(finding.message.contains("stale"), "{}", finding.message);
    assert!(finding.message.contains("rotated, rolled or revoked"), "{}", finding.message);
    assert!(finding.remedy.contains("create a new API token (or roll this one)"), "{}", finding.remedy);
    assert!(finding.remedy.contains("Secret cf key api-token"), "{}", finding.remedy);
    let evidence = finding.evidence.as_ref().unwrap();
    assert_eq!(evidence.request.as_deref(), Some("GET /user/tokens/verify"));
    assert_eq!(evidence.http_status, Some(401));
    assert_eq!(evidence.provider_code.as_deref(), Some("1000"));
    assert_eq!(evidence.provider_message.as_deref(), Some("Invalid API Token"));
    // The zone list is asked once, to rule out an account token.
    assert_eq!(
        harness.requests().await,
        vec!["GET /user/tokens/verify", "GET /zones?per_page=50"]
    );
}

/// A rolled token gets 401, code 9109 "Invalid access token", in another form.
#[tokio::test]
async fn invalid_access_token_is_stale() {
    let mut state = State::token(TOKEN);
    state.revoked = Some((9109, "Invalid access token".into()));
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    let invalid = with_reason(&report, Reason::AuthInvalid);
    assert_eq!(invalid.len(), 1, "{:?}", reasons(&report));
    assert!(invalid[0].message.contains("stale"));
    assert_eq!(invalid[0].evidence.as_ref().unwrap().provider_code.as_deref(), Some("9109"));
}

/// A client IP filter that excludes the checker.
#[tokio::test]
async fn ip_filter_is_ip_restricted() {
    let mut state = State::token(TOKEN);
    state.ip_blocked = Some("198.51.100.7".into());
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    let restricted = with_reason(&report, Reason::IpRestricted);
    assert_eq!(restricted.len(), 1, "{:?}", reasons(&report));
    assert!(with_reason(&report, Reason::AuthInvalid).is_empty());
    assert!(restricted[0].remedy.contains("egress address may differ"), "{}", restricted[0].remedy);
    assert!(restricted[0]
        .evidence
        .as_ref()
        .unwrap()
        .provider_message
        .as_deref()
        .unwrap()
        .contains("198.51.100.7"));
    assert_eq!(harness.requests().await, vec!["GET /user/tokens/verify"]);
}

#[tokio::test]
async fn account_token_found_through_zones() {
    let mut state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.owner = Owner::Account(ACCOUNT_ID.into());
    state.expires_on = Some(in_days(200));
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert!(with_reason(&report, Reason::AuthInvalid).is_empty());
    assert_eq!(report.facts.get("owner").map(String::as_str), Some("account"));
    assert_eq!(report.facts.get("accountId").map(String::as_str), Some(ACCOUNT_ID));
    assert_eq!(
        harness.requests().await,
        vec![
            "GET /user/tokens/verify".to_string(),
            "GET /zones?per_page=50".to_string(),
            format!("GET /accounts/{ACCOUNT_ID}/tokens/verify"),
        ]
    );
}

#[tokio::test]
async fn account_token_tries_each_account() {
    let mut state = State::token(TOKEN)
        .with_zone(OTHER_ZONE_ID, "example.org", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        .with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.owner = Owner::Account(ACCOUNT_ID.into());
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert_eq!(report.facts.get("accountId").map(String::as_str), Some(ACCOUNT_ID));
}

#[tokio::test]
async fn account_prefix_with_option_skips_user_endpoint() {
    let token = format!("cfat_{}", "Q".repeat(44));
    let mut state = State::token(&token);
    state.owner = Owner::Account(ACCOUNT_ID.into());
    let harness = Harness::start(state).await;
    let mut settings = harness.settings();
    settings.options.insert("account-id".into(), ACCOUNT_ID.into());
    let report = harness
        .provider_with(token_stanza(), &token, settings)
        .verify_credential(&context())
        .await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert_eq!(
        harness.requests().await,
        vec![format!("GET /accounts/{ACCOUNT_ID}/tokens/verify")]
    );
}

#[tokio::test]
async fn account_prefix_without_option_reads_zones() {
    let token = format!("cfat_{}", "Q".repeat(44));
    let mut state = State::token(&token).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.owner = Owner::Account(ACCOUNT_ID.into());
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), &token).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert_eq!(
        harness.requests().await,
        vec![
            "GET /zones?per_page=50".to_string(),
            format!("GET /accounts/{ACCOUNT_ID}/tokens/verify"),
        ]
    );
}

#[tokio::test]
async fn account_token_without_zones_is_not_invalid() {
    let mut state = State::token(TOKEN);
    state.owner = Owner::Account(ACCOUNT_ID.into());
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    assert!(!report.failed(), "{:?}", reasons(&report));
    assert!(with_reason(&report, Reason::AuthInvalid).is_empty());
    let notice = with_reason(&report, Reason::Notice);
    assert_eq!(notice.len(), 1);
    assert!(notice[0].remedy.contains("account-id"), "{}", notice[0].remedy);
}

#[tokio::test]
async fn expired_account_token_is_expired() {
    let mut state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.owner = Owner::Account(ACCOUNT_ID.into());
    state.token_status = "expired".into();
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    assert_eq!(with_reason(&report, Reason::AuthExpired).len(), 1, "{:?}", reasons(&report));
}

#[tokio::test]
async fn wrong_account_option_falls_back_to_zones() {
    let mut state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.owner = Owner::Account(ACCOUNT_ID.into());
    let harness = Harness::start(state).await;
    let mut settings = harness.settings();
    settings
        .options
        .insert("account-id".into(), "ffffffffffffffffffffffffffffffff".into());
    let report = harness
        .provider_with(token_stanza(), TOKEN, settings)
        .verify_credential(&context())
        .await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert_eq!(report.facts.get("accountId").map(String::as_str), Some(ACCOUNT_ID));
}

/// A global key in apiTokenSecretRef and no email: the key is sent as
/// configured, and Cloudflare rejects the Authorization header.
#[tokio::test]
async fn global_key_as_bearer_is_mismatch() {
    let harness = Harness::start(State::global_key(GLOBAL_KEY, EMAIL)).await;
    let report = harness.provider(token_stanza(), GLOBAL_KEY).verify_credential(&context()).await;
    let mismatch = with_reason(&report, Reason::CredentialFieldMismatch);
    assert_eq!(mismatch.len(), 1, "{:?}", reasons(&report));
    let evidence = mismatch[0].evidence.as_ref().unwrap();
    assert_eq!(evidence.http_status, Some(400));
    assert_eq!(evidence.provider_code.as_deref(), Some("6003"));
    assert!(evidence.provider_message.as_deref().unwrap().contains("6111"));
    assert!(report.facts.get("checkedAs").unwrap().contains("as configured"));
}

/// A global key in apiTokenSecretRef with email set: the key is checked as a
/// global key, the way the fix would work.
#[tokio::test]
async fn global_key_in_token_field_checked_as_key() {
    let state = State::global_key(GLOBAL_KEY, EMAIL).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let stanza = json!({"email": EMAIL, "apiTokenSecretRef": {"name": "cf", "key": "api"}});
    let report = harness.provider(stanza, GLOBAL_KEY).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert!(report.facts.get("checkedAs").unwrap().contains("apiKeySecretRef"));
    assert_eq!(harness.requests().await, vec!["GET /zones?per_page=5"]);
}

/// A token in apiKeySecretRef is checked as a token, without email.
#[tokio::test]
async fn token_in_key_field_checked_as_token() {
    let harness = Harness::start(State::token(TOKEN)).await;
    let report = harness.provider(key_stanza(), TOKEN).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert!(report.facts.get("checkedAs").unwrap().contains("apiTokenSecretRef"));
    let received = harness.server.received_requests().await.unwrap();
    assert_eq!(received.len(), 1);
    assert!(received[0].headers.get("x-auth-email").is_none());
    assert!(received[0].headers.get("x-auth-key").is_none());
}

#[tokio::test]
async fn token_with_email_sends_email_header() {
    let harness = Harness::start(State::token(TOKEN)).await;
    let stanza = json!({"email": EMAIL, "apiTokenSecretRef": {"name": "cf", "key": "t"}});
    let report = harness.provider(stanza, TOKEN).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    let received = harness.server.received_requests().await.unwrap();
    assert_eq!(received[0].headers.get("x-auth-email").unwrap(), EMAIL);
    assert_eq!(
        received[0].headers.get("authorization").unwrap().to_str().unwrap(),
        format!("Bearer {TOKEN}")
    );
}

#[tokio::test]
async fn global_key_uses_zone_list() {
    let state = State::global_key(GLOBAL_KEY, EMAIL).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let report = harness.provider(key_stanza(), GLOBAL_KEY).verify_credential(&context()).await;
    assert_eq!(report.status, StageStatus::Passed, "{:?}", reasons(&report));
    assert_eq!(report.facts.get("visibleZones").map(String::as_str), Some("1"));
    assert_eq!(report.facts.get("accountId").map(String::as_str), Some(ACCOUNT_ID));
    assert_eq!(harness.requests().await, vec!["GET /zones?per_page=5"]);
    let received = harness.server.received_requests().await.unwrap();
    assert_eq!(received[0].headers.get("x-auth-key").unwrap(), GLOBAL_KEY);
    assert_eq!(received[0].headers.get("x-auth-email").unwrap(), EMAIL);
}

#[tokio::test]
async fn unknown_global_key_is_invalid() {
    let harness = Harness::start(State::global_key(GLOBAL_KEY, "someone@example.com")).await;
    let report = harness.provider(key_stanza(), GLOBAL_KEY).verify_credential(&context()).await;
    let invalid = with_reason(&report, Reason::AuthInvalid);
    assert_eq!(invalid.len(), 1, "{:?}", reasons(&report));
    assert_eq!(invalid[0].evidence.as_ref().unwrap().provider_code.as_deref(), Some("9103"));
}

/// A trailing newline; the trimmed token is valid.
#[tokio::test]
async fn trimmed_value_is_reported_working() {
    let harness = Harness::start(State::token(TOKEN)).await;
    let report = harness
        .provider(token_stanza(), &format!("{TOKEN}\n"))
        .verify_credential(&context())
        .await;
    assert!(!report.failed(), "{:?}", reasons(&report));
    assert!(report.facts.contains_key("checkedWith"));
    let notice = with_reason(&report, Reason::Notice);
    assert_eq!(notice.len(), 1, "{:?}", reasons(&report));
    assert_eq!(notice[0].severity, Severity::Info);
    assert!(notice[0].message.contains("working credential"), "{}", notice[0].message);
}

#[tokio::test]
async fn rate_limit_marks_budget() {
    let state = State::token(TOKEN).with_fault(
        "GET",
        Some("/user/tokens/verify"),
        1,
        Fault::RateLimit { retry_after: 120 },
    );
    let harness = Harness::start(state).await;
    let cx = context();
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&cx).await;
    let limited = with_reason(&report, Reason::RateLimited);
    assert_eq!(limited.len(), 1, "{:?}", reasons(&report));
    assert!(limited[0].remedy.contains("120 s"), "{}", limited[0].remedy);
    assert!(cx.budget.is_rate_limited());
    assert_eq!(harness.requests().await.len(), 1);
}

#[tokio::test]
async fn server_error_is_unavailable() {
    let state = State::token(TOKEN).with_fault(
        "GET",
        Some("/user/tokens/verify"),
        1,
        Fault::Error { status: 502, code: 0, message: "bad gateway".into() },
    );
    let harness = Harness::start(state).await;
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    let unavailable = with_reason(&report, Reason::ProviderUnavailable);
    assert_eq!(unavailable.len(), 1, "{:?}", reasons(&report));
    assert_eq!(unavailable[0].evidence.as_ref().unwrap().http_status, Some(502));
}

#[tokio::test]
async fn timeout_is_unavailable() {
    let state = State::token(TOKEN).with_fault(
        "GET",
        Some("/user/tokens/verify"),
        1,
        Fault::Delay(std::time::Duration::from_secs(2)),
    );
    let harness = Harness::start(state).await;
    let started = std::time::Instant::now();
    let report = harness.provider(token_stanza(), TOKEN).verify_credential(&context()).await;
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    let unavailable = with_reason(&report, Reason::ProviderUnavailable);
    assert_eq!(unavailable.len(), 1, "{:?}", reasons(&report));
    assert!(unavailable[0].message.contains("timed out"), "{}", unavailable[0].message);
}

#[tokio::test]
async fn malformed_global_key_is_invalid() {
    // Neither a global key nor a token: sent as X-Auth-Key, as configured.
    let value = "not-a-cloudflare-credential-0123456789abcdefXYZ";
    let harness = Harness::start(State::global_key(GLOBAL_KEY, EMAIL)).await;
    let report = harness.provider(key_stanza(), value).verify_credential(&context()).await;
    let invalid = with_reason(&report, Reason::AuthInvalid);
    assert_eq!(invalid.len(), 1, "{:?}", reasons(&report));
    assert!(invalid[0].message.contains("format of a Cloudflare global API key"), "{}", invalid[0].message);
    let evidence = invalid[0].evidence.as_ref().unwrap();
    assert_eq!(evidence.provider_code.as_deref(), Some("6003"));
    assert!(evidence.provider_message.as_deref().unwrap().contains("6103"));
}
