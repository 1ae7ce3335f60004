//! The write probe and the probe contract: create, read back, delete our
//! record only, confirm it is gone, also after faults and cancellation.

use crate::fake::{Fault, State};
use crate::{context, reasons, token_stanza, with_reason, Harness, ACCOUNT_ID, TOKEN, ZONE_ID};
use acme_token_core::provider::ProbeOutcome;
use acme_token_core::{ProbeContext, ProbeValue, Reason, Severity, StageStatus, ZoneRef};
use std::time::Duration;

const FQDN: &str = "_acme-challenge.example.com";
/// The value of a challenge cert-manager is solving at the same time.
const IN_FLIGHT: &str = "dGhpcyBpcyBhbiBpbi1mbGlnaHQgY2hhbGxlbmdlIGtleQ";

fn zone() -> ZoneRef {
    ZoneRef {
        id: ZONE_ID.to_string(),
        name: "example.com".to_string(),
    }
}

fn list_request() -> String {
    format!("GET /zones/{ZONE_ID}/dns_records?per_page=100&type=TXT&name={FQDN}")
}

fn create_request() -> String {
    format!("POST /zones/{ZONE_ID}/dns_records")
}

fn state() -> State {
    State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID)
}

async fn probe(harness: &Harness, cx: &ProbeContext) -> (ProbeOutcome, String) {
    let value = ProbeValue::generate().value;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .probe_write(cx, &zone(), FQDN, &value)
        .await;
    (outcome, value)
}

fn deletes(requests: &[String]) -> Vec<&String> {
    requests.iter().filter(|r| r.starts_with("DELETE")).collect()
}

#[tokio::test]
async fn healthy_probe_follows_plan() {
    let harness = Harness::start(state()).await;
    let (outcome, value) = probe(&harness, &context()).await;
    assert_eq!(outcome.write.status, StageStatus::Passed, "{:?}", reasons(&outcome.write));
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
    let record_id = outcome.write.facts.get("recordId").expect("record id").clone();
    assert_eq!(outcome.write.facts.get("readBack").map(String::as_str), Some("found"));
    assert_eq!(outcome.write.facts.get("ttl").map(String::as_str), Some("120"));
    assert_eq!(outcome.cleanup.facts.get("leftover").map(String::as_str), Some("none"));
    assert_eq!(
        harness.requests().await,
        vec![
            list_request(),
            create_request(),
            list_request(),
            format!("DELETE /zones/{ZONE_ID}/dns_records/{record_id}"),
            list_request(),
        ]
    );

    let received = harness.server.received_requests().await.unwrap();
    let body: serde_json::Value = received[1].body_json().unwrap();
    assert_eq!(
        body,
        serde_json::json!({"type": "TXT", "name": FQDN, "content": value, "ttl": 120})
    );
    assert!(harness.fake.records().is_empty());
}

#[tokio::test]
async fn existing_values_stay_untouched() {
    let state = state().with_record(ZONE_ID, FQDN, IN_FLIGHT);
    let harness = Harness::start(state).await;
    let before = harness.fake.records();
    let (outcome, _) = probe(&harness, &context()).await;
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
    assert_eq!(
        outcome.write.facts.get("existingRecords").map(String::as_str),
        Some("1 (left untouched)")
    );
    let after = harness.fake.records();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].id, before[0].id);
    assert_eq!(after[0].content, IN_FLIGHT);
    let requests = harness.requests().await;
    let deleted = deletes(&requests);
    assert_eq!(deleted.len(), 1);
    assert!(!deleted[0].ends_with(&before[0].id), "{deleted:?}");
}

#[tokio::test]
async fn earlier_probe_leftover_is_noted() {
    let old = ProbeValue::generate().value;
    let state = state().with_record(ZONE_ID, FQDN, &old);
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    let notices = with_reason(&outcome.write, Reason::Notice);
    assert_eq!(notices.len(), 1, "{:?}", reasons(&outcome.write));
    assert!(notices[0].remedy.contains("kubectl acme-token cleanup"));
    // It is noted, not deleted.
    assert_eq!(harness.fake.records().len(), 1);
}

/// A token with Zone:Read only gets 403, code 10000, on the create.
#[tokio::test]
async fn read_only_token_is_permission_missing() {
    let mut state = state();
    state.dns_edit = false;
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    let missing = with_reason(&outcome.write, Reason::PermissionMissing);
    assert_eq!(missing.len(), 1, "{:?}", reasons(&outcome.write));
    assert!(missing[0].message.contains("read-only"), "{}", missing[0].message);
    assert!(missing[0].remedy.contains("Zone / DNS / Edit"), "{}", missing[0].remedy);
    let evidence = missing[0].evidence.as_ref().unwrap();
    assert_eq!(evidence.request.as_deref(), Some(create_request().as_str()));
    assert_eq!(evidence.http_status, Some(403));
    assert_eq!(evidence.provider_code.as_deref(), Some("10000"));
    // Nothing was created, so nothing is deleted.
    assert_eq!(harness.requests().await, vec![list_request(), create_request()]);
    assert_eq!(outcome.cleanup.status, StageStatus::Passed);
    assert!(outcome.cleanup.note.as_deref().unwrap().contains("nothing was created"));
}

#[tokio::test]
async fn denied_list_stops_before_create() {
    let mut state = state();
    state.dns_read = false;
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    let missing = with_reason(&outcome.write, Reason::PermissionMissing);
    assert_eq!(missing.len(), 1, "{:?}", reasons(&outcome.write));
    assert!(missing[0].remedy.contains("Zone / DNS / Edit"));
    assert_eq!(harness.requests().await, vec![list_request()]);
}

#[tokio::test]
async fn delete_retried_after_server_error() {
    let state = state().with_fault(
        "DELETE",
        None,
        1,
        Fault::Error { status: 500, code: 0, message: "internal error".into() },
    );
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
    assert_eq!(outcome.cleanup.facts.get("leftover").map(String::as_str), Some("none"));
    assert!(!outcome.write.failed(), "{:?}", reasons(&outcome.write));
    let requests = harness.requests().await;
    assert_eq!(deletes(&requests).len(), 2, "{requests:?}");
    assert!(harness.fake.records().is_empty());
    let retry = with_reason(&outcome.write, Reason::Notice);
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].severity, Severity::Info);
}

#[tokio::test]
async fn lost_delete_response_then_gone() {
    // The first delete works but its response is lost. The retry gets
    // "record does not exist", which counts as deleted.
    let state = state().with_fault("DELETE", None, 1, Fault::LostAfterEffect);
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
    assert!(outcome.write.facts.get("deleted").unwrap().contains("already gone"));
    assert!(harness.fake.records().is_empty());
}

#[tokio::test]
async fn undeletable_record_is_leftover() {
    let state = state().with_fault(
        "DELETE",
        None,
        10,
        Fault::Error { status: 503, code: 0, message: "unavailable".into() },
    );
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    let record_id = outcome.write.facts.get("recordId").unwrap().clone();
    let leftover = with_reason(&outcome.cleanup, Reason::ProbeLeftover);
    assert_eq!(leftover.len(), 1, "{:?}", reasons(&outcome.cleanup));
    assert_eq!(leftover[0].severity, Severity::Error);
    assert!(leftover[0].message.contains(&record_id), "{}", leftover[0].message);
    assert!(leftover[0].message.contains(FQDN), "{}", leftover[0].message);
    assert!(leftover[0].remedy.contains("kubectl acme-token cleanup"), "{}", leftover[0].remedy);
    let requests = harness.requests().await;
    assert_eq!(deletes(&requests).len(), 3, "{requests:?}");
    assert_eq!(with_reason(&outcome.write, Reason::ProviderUnavailable).len(), 1);
}

#[tokio::test]
async fn create_timeout_record_found_and_deleted() {
    // The record is created, but the response arrives after the timeout.
    let state = state().with_fault("POST", None, 1, Fault::Delay(Duration::from_secs(1)));
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    let unavailable = with_reason(&outcome.write, Reason::ProviderUnavailable);
    assert_eq!(unavailable.len(), 1, "{:?}", reasons(&outcome.write));
    assert!(unavailable[0].message.contains("timed out"), "{}", unavailable[0].message);
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
    assert!(outcome.cleanup.facts.contains_key("recoveredRecordIds"));
    assert!(harness.fake.records().is_empty());
    let requests = harness.requests().await;
    assert_eq!(requests[0], list_request());
    assert_eq!(requests[1], create_request());
    assert_eq!(requests[2], list_request());
    assert!(requests[3].starts_with("DELETE"));
    assert_eq!(requests[4], list_request());
    assert_eq!(requests.len(), 5);
}

#[tokio::test]
async fn create_server_error_after_effect_cleaned() {
    let state = state().with_fault("POST", None, 1, Fault::LostAfterEffect);
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    assert_eq!(with_reason(&outcome.write, Reason::ProviderUnavailable).len(), 1);
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
    assert!(harness.fake.records().is_empty());
    assert_eq!(deletes(&harness.requests().await).len(), 1);
}

#[tokio::test]
async fn create_server_error_without_effect() {
    let state = state().with_fault(
        "POST",
        None,
        1,
        Fault::Error { status: 500, code: 0, message: "internal error".into() },
    );
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    assert_eq!(with_reason(&outcome.write, Reason::ProviderUnavailable).len(), 1);
    assert!(!outcome.cleanup.failed(), "{:?}", reasons(&outcome.cleanup));
    assert_eq!(outcome.cleanup.facts.get("leftover").map(String::as_str), Some("none"));
    // One recovery list, and nothing to delete.
    assert_eq!(
        harness.requests().await,
        vec![list_request(), create_request(), list_request()]
    );
}

#[tokio::test]
async fn malformed_create_response_is_unavailable() {
    let state = state().with_fault("POST", None, 1, Fault::Malformed);
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &context()).await;
    let unavailable = with_reason(&outcome.write, Reason::ProviderUnavailable);
    assert_eq!(unavailable.len(), 1, "{:?}", reasons(&outcome.write));
    assert_eq!(unavailable[0].evidence.as_ref().unwrap().http_status, Some(200));
}

#[tokio::test]
async fn cancel_after_create_still_deletes() {
    let cx = context();
    let cancel = cx.cancel.clone();
    let state = state().with_fault("POST", None, 1, Fault::Hook(Box::new(move || cancel.cancel())));
    let harness = Harness::start(state).await;
    let (outcome, _) = probe(&harness, &cx).await;
    assert!(cx.cancel.is_cancelled());
    let record_id = outcome.write.facts.get("recordId").unwrap().clone();
    // No read-back after cancellation: straight to delete and confirm.
    assert_eq!(
        harness.requests().await,
        vec![
            list_request(),
            create_request(),
            format!("DELETE /zones/{ZONE_ID}/dns_records/{record_id}"),
            list_request(),
        ]
    );
    assert!(harness.fake.records().is_empty());
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
    let interrupted = with_reason(&outcome.write, Reason::Notice);
    assert_eq!(interrupted.len(), 1, "{:?}", reasons(&outcome.write));
    assert!(interrupted[0].message.contains("interrupted"));
}

#[tokio::test]
async fn cancel_during_slow_create_still_deletes() {
    let cx = context();
    let cancel = cx.cancel.clone();
    let state = state().with_fault("POST", None, 1, Fault::Delay(Duration::from_millis(300)));
    let harness = Harness::start(state).await;
    // A longer request timeout than the other tests, so the create is still
    // in flight, not timed out, when the run is cancelled.
    let mut settings = harness.settings();
    settings.http.timeout = Duration::from_secs(3);
    let provider = harness.provider_with(token_stanza(), TOKEN, settings);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        cancel.cancel();
    });
    let value = ProbeValue::generate().value;
    let outcome = provider.probe_write(&cx, &zone(), FQDN, &value).await;
    let record_id = outcome.write.facts.get("recordId").expect("the create completed").clone();
    assert!(harness.fake.records().is_empty());
    assert_eq!(
        harness.requests().await,
        vec![
            list_request(),
            create_request(),
            format!("DELETE /zones/{ZONE_ID}/dns_records/{record_id}"),
            list_request(),
        ]
    );
    assert_eq!(with_reason(&outcome.write, Reason::Notice).len(), 1, "{:?}", reasons(&outcome.write));
}

#[tokio::test]
async fn rate_limit_on_read_back_still_deletes() {
    let state = state().with_fault_after(
        "GET",
        Some("/dns_records"),
        1,
        1,
        Fault::RateLimit { retry_after: 300 },
    );
    let harness = Harness::start(state).await;
    let cx = context();
    let (outcome, _) = probe(&harness, &cx).await;
    let limited = with_reason(&outcome.write, Reason::RateLimited);
    assert_eq!(limited.len(), 1, "{:?}", reasons(&outcome.write));
    assert_eq!(limited[0].evidence.as_ref().unwrap().http_status, Some(429));
    assert!(cx.budget.is_rate_limited());
    assert_eq!(deletes(&harness.requests().await).len(), 1);
    assert!(harness.fake.records().is_empty());
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
}

#[tokio::test]
async fn rate_limited_account_sends_nothing() {
    let harness = Harness::start(state()).await;
    let cx = context();
    cx.budget.mark_rate_limited(Some(60));
    let (outcome, _) = probe(&harness, &cx).await;
    assert_eq!(with_reason(&outcome.write, Reason::RateLimited).len(), 1);
    assert!(harness.requests().await.is_empty());
}

#[tokio::test]
async fn no_write_infers_permission() {
    let harness = Harness::start(state()).await;
    let mut cx = context();
    cx.no_write = true;
    let (outcome, _) = probe(&harness, &cx).await;
    assert_eq!(outcome.write.status, StageStatus::Passed, "{:?}", reasons(&outcome.write));
    assert!(outcome.write.inferred);
    assert!(outcome.cleanup.inferred);
    assert!(outcome.write.facts.get("inferredFrom").unwrap().contains("does not exist"));
    let requests = harness.requests().await;
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0], list_request());
    let prefix = format!("DELETE /zones/{ZONE_ID}/dns_records/");
    let random_id = requests[1].strip_prefix(&prefix).expect("a delete");
    assert_eq!(random_id.len(), 32);
    assert!(random_id.chars().all(|c| c.is_ascii_hexdigit()));
    assert!(!requests.iter().any(|r| r.starts_with("POST")));
}

#[tokio::test]
async fn no_write_detects_read_only() {
    let mut state = state().with_record(ZONE_ID, FQDN, IN_FLIGHT);
    state.dns_edit = false;
    let harness = Harness::start(state).await;
    let mut cx = context();
    cx.no_write = true;
    let (outcome, _) = probe(&harness, &cx).await;
    let missing = with_reason(&outcome.write, Reason::PermissionMissing);
    assert_eq!(missing.len(), 1, "{:?}", reasons(&outcome.write));
    assert!(missing[0].message.contains("inferred"), "{}", missing[0].message);
    assert!(outcome.write.inferred);
    assert_eq!(harness.fake.records().len(), 1);
}

#[tokio::test]
async fn global_key_probe_uses_key_headers() {
    let state = State::global_key(crate::GLOBAL_KEY, crate::EMAIL).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let provider = harness.provider(crate::key_stanza(), crate::GLOBAL_KEY);
    let cx = context();
    let zone = provider.find_zone(&cx, Some(FQDN)).await;
    assert_eq!(zone.zone.as_ref().map(|z| z.id.as_str()), Some(ZONE_ID));
    let value = ProbeValue::generate().value;
    let outcome = provider.probe_write(&cx, &zone.zone.unwrap(), FQDN, &value).await;
    assert_eq!(outcome.write.status, StageStatus::Passed, "{:?}", reasons(&outcome.write));
    assert_eq!(outcome.cleanup.status, StageStatus::Passed, "{:?}", reasons(&outcome.cleanup));
    assert!(harness.fake.records().is_empty());
    for request in harness.server.received_requests().await.unwrap() {
        assert_eq!(request.headers.get("x-auth-key").unwrap(), crate::GLOBAL_KEY);
        assert_eq!(request.headers.get("x-auth-email").unwrap(), crate::EMAIL);
        assert!(request.headers.get("authorization").is_none());
    }
}
