//! Whole checks through the core runner: the request plan and the verdicts.

use crate::fake::State;
use crate::{check_job, token_stanza, Harness, ACCOUNT_ID, TOKEN, ZONE_ID};
use acme_token_core::runner::{run_checks, RunSettings};
use acme_token_core::{Reason, Stage, StageStatus, Verdict};

#[tokio::test]
async fn healthy_check_sends_planned_requests() {
    let state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let provider = harness.provider(token_stanza(), TOKEN);
    let entries = run_checks(vec![check_job(provider, "www.example.com")], &RunSettings::default()).await;
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry.verdict, Verdict::Ok, "{:?}", entry.findings);
    assert_eq!(entry.credential_state, "live");
    assert_eq!(entry.requests, 9);

    let requests = harness.requests().await;
    assert_eq!(requests.len(), 9, "{requests:?}");
    // The verify call overlaps the zone walk, so only the walk's order is fixed.
    let walk: Vec<&String> = requests.iter().filter(|r| r.starts_with("GET /zones?name=")).collect();
    assert_eq!(
        walk,
        vec![
            "GET /zones?name=_acme-challenge.www.example.com",
            "GET /zones?name=www.example.com",
            "GET /zones?name=example.com",
        ]
    );
    assert!(requests[..4].contains(&"GET /user/tokens/verify".to_string()), "{requests:?}");
    let list = format!("GET /zones/{ZONE_ID}/dns_records?per_page=100&type=TXT&name=_acme-challenge.www.example.com");
    assert_eq!(requests[4], list);
    assert_eq!(requests[5], format!("POST /zones/{ZONE_ID}/dns_records"));
    assert_eq!(requests[6], list);
    assert!(requests[7].starts_with(&format!("DELETE /zones/{ZONE_ID}/dns_records/")));
    assert_eq!(requests[8], list);
    assert!(harness.fake.records().is_empty());
}

#[tokio::test]
async fn read_only_check_is_read_only() {
    let mut state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.dns_edit = false;
    let harness = Harness::start(state).await;
    let provider = harness.provider(token_stanza(), TOKEN);
    let entries = run_checks(vec![check_job(provider, "example.com")], &RunSettings::default()).await;
    let entry = &entries[0];
    assert_eq!(entry.verdict, Verdict::Fail);
    assert_eq!(entry.credential_state, "read-only");
    let headline = entry.headline().unwrap();
    assert_eq!(headline.reason, Reason::PermissionMissing);
    assert_eq!(headline.stage, Stage::Write);
    let cleanup = entry.stages.iter().find(|s| s.stage == Stage::Cleanup).unwrap();
    assert_eq!(cleanup.status, StageStatus::Passed);
}

#[tokio::test]
async fn revoked_check_is_stale() {
    let mut state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.revoked = Some((1000, "Invalid API Token".into()));
    let harness = Harness::start(state).await;
    let provider = harness.provider(token_stanza(), TOKEN);
    let entries = run_checks(vec![check_job(provider, "example.com")], &RunSettings::default()).await;
    let entry = &entries[0];
    assert_eq!(entry.verdict, Verdict::Fail);
    assert_eq!(entry.credential_state, "stale");
    assert_eq!(entry.headline().unwrap().reason, Reason::AuthInvalid);
    let requests = harness.requests().await;
    assert!(!requests.iter().any(|r| r.starts_with("POST")), "{requests:?}");
}
