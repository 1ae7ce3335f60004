//! The zone stage: cert-manager's walk up the labels.

use crate::fake::{Fault, State};
use crate::{context, reasons, token_stanza, with_reason, Harness, ACCOUNT_ID, OTHER_ZONE_ID, TOKEN, ZONE_ID};
use acme_token_core::{Reason, Severity, StageStatus};

#[tokio::test]
async fn walk_asks_each_label_in_order() {
    let state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.a.b.example.com"))
        .await;
    assert_eq!(outcome.report.status, StageStatus::Passed, "{:?}", reasons(&outcome.report));
    let zone = outcome.zone.expect("zone found");
    assert_eq!(zone.id, ZONE_ID);
    assert_eq!(zone.name, "example.com");
    assert_eq!(
        harness.requests().await,
        vec![
            "GET /zones?name=_acme-challenge.a.b.example.com",
            "GET /zones?name=a.b.example.com",
            "GET /zones?name=b.example.com",
            "GET /zones?name=example.com",
        ]
    );
    assert_eq!(outcome.report.facts.get("zoneId").map(String::as_str), Some(ZONE_ID));
}

#[tokio::test]
async fn walk_stops_at_first_match() {
    // A delegated subzone wins over its parent, as in cert-manager.
    let state = State::token(TOKEN)
        .with_zone(ZONE_ID, "example.com", ACCOUNT_ID)
        .with_zone(OTHER_ZONE_ID, "dev.example.com", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.dev.example.com"))
        .await;
    assert_eq!(outcome.zone.unwrap().id, OTHER_ZONE_ID);
    assert_eq!(
        harness.requests().await,
        vec![
            "GET /zones?name=_acme-challenge.dev.example.com",
            "GET /zones?name=dev.example.com",
        ]
    );
}

#[tokio::test]
async fn walk_never_asks_the_tld() {
    let state = State::token(TOKEN).with_zone(OTHER_ZONE_ID, "example.org", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.example.com"))
        .await;
    assert!(outcome.zone.is_none());
    let requests = harness.requests().await;
    assert!(!requests.contains(&"GET /zones?name=com".to_string()), "{requests:?}");
}

/// The token can list only example.org; the certificate is for www.example.com.
#[tokio::test]
async fn missing_zone_lists_visible_zones() {
    let state = State::token(TOKEN).with_zone(OTHER_ZONE_ID, "example.org", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.www.example.com"))
        .await;
    assert!(outcome.zone.is_none());
    let missing = with_reason(&outcome.report, Reason::ZoneNotVisible);
    assert_eq!(missing.len(), 1, "{:?}", reasons(&outcome.report));
    assert_eq!(missing[0].severity, Severity::Error);
    assert!(missing[0].message.contains("it can see example.org"), "{}", missing[0].message);
    assert!(missing[0].remedy.contains("Zone Resources"), "{}", missing[0].remedy);
    assert!(missing[0].remedy.contains("Zone / Zone / Read"), "{}", missing[0].remedy);
    assert_eq!(
        missing[0].evidence.as_ref().unwrap().request.as_deref(),
        Some("GET /zones?name=example.com")
    );
    assert_eq!(
        harness.requests().await,
        vec![
            "GET /zones?name=_acme-challenge.www.example.com",
            "GET /zones?name=www.example.com",
            "GET /zones?name=example.com",
            "GET /zones?per_page=50",
        ]
    );
}

#[tokio::test]
async fn missing_zone_with_no_zones_says_so() {
    let harness = Harness::start(State::token(TOKEN)).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.example.com"))
        .await;
    let missing = with_reason(&outcome.report, Reason::ZoneNotVisible);
    assert_eq!(missing.len(), 1);
    assert!(missing[0].message.contains("no zone at all"), "{}", missing[0].message);
}

#[tokio::test]
async fn zone_read_denied_names_permission() {
    let mut state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.zone_read = false;
    let harness = Harness::start(state).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.www.example.com"))
        .await;
    let missing = with_reason(&outcome.report, Reason::PermissionMissing);
    assert_eq!(missing.len(), 1, "{:?}", reasons(&outcome.report));
    assert!(missing[0].remedy.contains("Zone / Zone / Read"), "{}", missing[0].remedy);
    let evidence = missing[0].evidence.as_ref().unwrap();
    assert_eq!(evidence.request.as_deref(), Some("GET /zones?name=_acme-challenge.www.example.com"));
    assert_eq!(evidence.http_status, Some(403));
    assert_eq!(evidence.provider_code.as_deref(), Some("10000"));
    // An error stops the walk: cert-manager would repeat the same request.
    assert_eq!(harness.requests().await.len(), 1);
}

#[tokio::test]
async fn old_permission_message_names_zone_read() {
    let state = State::token(TOKEN).with_fault(
        "GET",
        Some("/zones"),
        1,
        Fault::Error {
            status: 403,
            code: 0,
            message: "Actor 'com.cloudflare.api.token.1234' requires permission 'com.cloudflare.api.account.zone.list' to list zones".into(),
        },
    );
    let harness = Harness::start(state).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.example.com"))
        .await;
    let missing = with_reason(&outcome.report, Reason::PermissionMissing);
    assert_eq!(missing.len(), 1, "{:?}", reasons(&outcome.report));
    assert!(missing[0].remedy.contains("Zone / Zone / Read"));
}

#[tokio::test]
async fn no_domain_proves_zone_read() {
    let state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    let harness = Harness::start(state).await;
    let outcome = harness.provider(token_stanza(), TOKEN).find_zone(&context(), None).await;
    assert!(outcome.zone.is_none());
    assert_eq!(outcome.report.status, StageStatus::Passed, "{:?}", reasons(&outcome.report));
    assert_eq!(outcome.report.facts.get("visibleZones").map(String::as_str), Some("1"));
    assert_eq!(harness.requests().await, vec!["GET /zones?per_page=5"]);
}

#[tokio::test]
async fn several_zones_of_one_name_warn() {
    let mut state = State::token(TOKEN)
        .with_zone(ZONE_ID, "example.com", ACCOUNT_ID)
        .with_zone(OTHER_ZONE_ID, "example.com", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
    state.zones[1].status = "pending".into();
    let harness = Harness::start(state).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.example.com"))
        .await;
    assert_eq!(outcome.zone.unwrap().id, ZONE_ID);
    let ambiguous = with_reason(&outcome.report, Reason::ZoneAmbiguous);
    assert_eq!(ambiguous.len(), 1, "{:?}", reasons(&outcome.report));
    assert!(ambiguous[0].message.contains(OTHER_ZONE_ID));
    assert_eq!(outcome.report.status, StageStatus::Warning);
}

#[tokio::test]
async fn pending_zone_warns() {
    let mut state = State::token(TOKEN).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    state.zones[0].status = "pending".into();
    let harness = Harness::start(state).await;
    let outcome = harness
        .provider(token_stanza(), TOKEN)
        .find_zone(&context(), Some("_acme-challenge.example.com"))
        .await;
    assert_eq!(outcome.report.status, StageStatus::Warning, "{:?}", reasons(&outcome.report));
    assert!(outcome.report.findings[0].message.contains("pending"));
}
