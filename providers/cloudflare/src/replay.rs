//! Stage-by-stage replay of cert-manager's Cloudflare solver
//! (`pkg/issuer/acme/dns/cloudflare/cloudflare.go`, v1.21.1).
//!
//! cert-manager's Present walks up the labels with `GET /zones?name=…`,
//! lists the TXT records at the challenge name, and creates the record with
//! `POST /zones/{id}/dns_records`. CleanUp lists again and deletes the record
//! with the challenge value. The replay sends the same requests, plus:
//!
//! - the credential identity call (`GET /user/tokens/verify`, or the account
//!   endpoint for account API tokens, or `GET /zones?per_page=5` for a global
//!   key), which cert-manager never makes;
//! - a read-back list after the create and a confirming list after the
//!   delete, both calls that cert-manager's own permissions allow.
//!
//! Extra requests happen only on failure paths: the zone list that names the
//! zones a credential can see, the account lookup for account API tokens, the
//! recovery list after a lost create response, and bounded delete retries.
//!
//! The probe record is the only record ever deleted: by the id the create
//! returned, or by the id a listing shows for the probe's exact value.

use crate::client::{ApiFailure, DnsRecord, TokenStatus, Zone};
use crate::config::CredentialShape;
use crate::error::{self, Call, CallContext};
use crate::{CloudflareProvider, CHALLENGE_RECORD_TTL};
use acme_token_core::probe::PROBE_MARKER;
use acme_token_core::provider::{blocked_finding, ProbeOutcome, RequestBlocked, ZoneOutcome};
use acme_token_core::{Evidence, Finding, ProbeContext, Reason, Stage, StageReport, ZoneRef};
use chrono::{DateTime, Utc};
use rand::Rng;
use std::future::Future;
use std::time::{Duration, Instant};
use tracing::{debug, warn};

/// Provider name used in findings.
const PROVIDER: &str = "cloudflare";
/// Page size of the zone list used to name visible zones and find account
/// ids; 50 is the maximum Cloudflare allows.
const ZONE_LIST_PAGE: u32 = 50;
/// Page size of the zone list used only to prove that zones can be read;
/// 5 is the minimum Cloudflare allows.
const ZONE_PROBE_PAGE: u32 = 5;
/// Maximum number of account ids tried on the account verify endpoint.
const MAX_ACCOUNTS_TRIED: usize = 3;
/// Maximum number of attempts to delete the probe record.
const DELETE_ATTEMPTS: u32 = 3;
/// Wait before the second delete attempt; it doubles for each later one.
const DELETE_BACKOFF: Duration = Duration::from_millis(250);
/// Maximum number of zone names listed in a message.
const MAX_ZONES_NAMED: usize = 10;

/// Outcome of one request sent through the budget.
pub(crate) enum Sent<T> {
    Done(T),
    Failed(ApiFailure),
    /// Not sent: the run was cancelled or the account was rate limited.
    Blocked(RequestBlocked),
}

/// Marks the account rate limited after a 429, so later probes on it stop.
fn settle<T>(cx: &ProbeContext, result: Result<T, ApiFailure>) -> Sent<T> {
    match result {
        Ok(value) => Sent::Done(value),
        Err(failure) => {
            if failure.is_rate_limited() {
                warn!(provider = PROVIDER, request = %failure.request, retry_after = ?failure.retry_after, "rate limited; no further probes on this account");
                cx.budget.mark_rate_limited(failure.retry_after);
            }
            Sent::Failed(failure)
        }
    }
}

/// Sends a request after taking a token from the budget. Cancellation
/// abandons the request: only reads go through here, so dropping one changes
/// nothing, and Ctrl-C does not wait for a slow answer.
pub(crate) async fn send<T>(cx: &ProbeContext, request: impl Future<Output = Result<T, ApiFailure>>) -> Sent<T> {
    if let Err(blocked) = cx.before_request().await {
        return Sent::Blocked(blocked);
    }
    tokio::select! {
        biased;
        result = request => settle(cx, result),
        _ = cx.cancel.cancelled() => Sent::Blocked(RequestBlocked::Cancelled),
    }
}

/// Sends a cleanup request: it runs after cancellation and after a rate limit.
async fn send_cleanup<T>(
    cx: &ProbeContext,
    request: impl Future<Output = Result<T, ApiFailure>>,
) -> Sent<T> {
    if let Err(blocked) = cx.before_cleanup_request().await {
        return Sent::Blocked(blocked);
    }
    settle(cx, request.await)
}

impl CloudflareProvider {
    pub(crate) fn call<'a>(&'a self, call: Call, zone: Option<&'a str>) -> CallContext<'a> {
        CallContext {
            call,
            token_mode: self.client.auth().is_token(),
            shape: self.shape,
            zone,
            location: &self.location,
        }
    }
}

// ---------------------------------------------------------------------------
// Credential stage
// ---------------------------------------------------------------------------

/// Checks that the credential is live: status, expiry, start date, owner.
pub(crate) async fn verify_credential(p: &CloudflareProvider, cx: &ProbeContext) -> StageReport {
    let mut report = StageReport::passed(Stage::Credential);
    report.fact("credentialMode", p.client.auth().describe());
    if let Some(checked_as) = &p.checked_as {
        report.fact("checkedAs", checked_as.clone());
    }
    if p.trimmed {
        report.fact(
            "checkedWith",
            "the value without its leading and trailing whitespace",
        );
    }

    let authenticated = if p.client.auth().is_token() {
        verify_token(p, cx, &mut report).await
    } else {
        verify_global_key(p, cx, &mut report).await
    };

    if p.trimmed && authenticated && !report.failed() {
        report.push(
            Finding::info(
                Reason::Notice,
                Stage::Credential,
                format!(
                    "cloudflare: without its leading or trailing whitespace, the value in {} is a working credential",
                    p.location.describe()
                ),
            )
            .with_remedy("recreate the Secret without the whitespace; nothing else needs to change"),
        );
    }
    report
}

/// Returns true when the user verify endpoint's rejection may only mean that
/// the token is account-owned: account API tokens are rejected there with
/// 401 or 403, so such a response is not yet proof of an invalid token.
fn may_be_account_token(failure: &ApiFailure) -> bool {
    let ip_filter = failure.has_code(9109)
        && failure.message_contains("cannot use the access token from location");
    let header_format = failure.has_code(6003) || failure.has_code(1001);
    failure.kind == crate::client::FailureKind::Api
        && matches!(failure.status, Some(400..=499))
        && !failure.is_rate_limited()
        && !ip_filter
        && !header_format
}

/// Verifies an API token: the user endpoint first, then the account endpoint.
/// Returns true when the token authenticates.
async fn verify_token(p: &CloudflareProvider, cx: &ProbeContext, report: &mut StageReport) -> bool {
    let mut user_failure = None;
    if p.shape != CredentialShape::AccountToken {
        match send(cx, p.client.verify_user_token()).await {
            Sent::Done(status) => {
                report.fact("owner", "user");
                return apply_token_status(p, cx, report, &status, "GET /user/tokens/verify");
            }
            Sent::Blocked(blocked) => {
                report.push(blocked_finding(Stage::Credential, &blocked, PROVIDER));
                return false;
            }
            Sent::Failed(failure) if may_be_account_token(&failure) => {
                debug!(provider = PROVIDER, request = %failure.request, "user verify rejected the token; trying the account endpoint");
                user_failure = Some(failure);
            }
            Sent::Failed(failure) => {
                report.push(error::failure_finding(
                    Stage::Credential,
                    &failure,
                    &p.call(Call::VerifyUserToken, None),
                ));
                return false;
            }
        }
    }
    verify_account_token(p, cx, report, user_failure).await
}

/// Result of one try of the account verify endpoint.
enum AccountTry {
    /// The endpoint returned a status; the flag is true when the token is usable.
    Verified(bool),
    /// The endpoint rejected the token for this account id.
    Rejected(ApiFailure),
    /// A finding was pushed and no further request makes sense.
    Stop,
}

async fn try_account(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    report: &mut StageReport,
    account_id: &str,
) -> AccountTry {
    match send(cx, p.client.verify_account_token(account_id)).await {
        Sent::Done(status) => {
            report.fact("owner", "account");
            report.fact("accountId", account_id);
            let request = format!("GET /accounts/{account_id}/tokens/verify");
            AccountTry::Verified(apply_token_status(p, cx, report, &status, &request))
        }
        Sent::Blocked(blocked) => {
            report.push(blocked_finding(Stage::Credential, &blocked, PROVIDER));
            AccountTry::Stop
        }
        Sent::Failed(failure) if may_be_account_token(&failure) => AccountTry::Rejected(failure),
        Sent::Failed(failure) => {
            report.push(error::failure_finding(
                Stage::Credential,
                &failure,
                &p.call(Call::VerifyAccountToken, None),
            ));
            AccountTry::Stop
        }
    }
}

/// Verifies an account API token. The account id comes from the `account-id`
/// option, else from the zones the token can see. The token is reported
/// invalid only when the zone list rejects it too, so a working account
/// token is never called invalid.
async fn verify_account_token(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    report: &mut StageReport,
    user_failure: Option<ApiFailure>,
) -> bool {
    let mut tried: Vec<String> = Vec::new();
    let mut account_failure: Option<ApiFailure> = None;
    if let Some(account_id) = &p.account_id {
        match try_account(p, cx, report, account_id).await {
            AccountTry::Verified(usable) => return usable,
            AccountTry::Stop => return false,
            AccountTry::Rejected(failure) => {
                tried.push(account_id.clone());
                account_failure = Some(failure);
            }
        }
    }

    let zones = match send(cx, p.client.list_zones(ZONE_LIST_PAGE)).await {
        Sent::Done(page) => page.items,
        Sent::Blocked(blocked) => {
            report.push(blocked_finding(Stage::Credential, &blocked, PROVIDER));
            return false;
        }
        Sent::Failed(zones_failure) => {
            report_rejected_token(p, report, user_failure, account_failure, zones_failure);
            return false;
        }
    };

    let mut account_ids: Vec<String> = Vec::new();
    for zone in &zones {
        if let Some(account) = &zone.account {
            if !tried.contains(&account.id) && !account_ids.contains(&account.id) {
                account_ids.push(account.id.clone());
            }
        }
    }
    for account_id in account_ids.iter().take(MAX_ACCOUNTS_TRIED) {
        match try_account(p, cx, report, account_id).await {
            AccountTry::Verified(usable) => return usable,
            AccountTry::Stop => return false,
            AccountTry::Rejected(failure) => account_failure = Some(failure),
        }
    }

    // GET /zones accepted the token, so it authenticates, but no verify
    // endpoint returned its status and expiry.
    report.fact("owner", "account (id unknown)");
    let cause = if zones.is_empty() {
        "it sees no zone whose account could be verified"
    } else {
        "the account verify endpoint rejected it for the accounts of its zones"
    };
    let mut finding = Finding::warning(
        Reason::Notice,
        Stage::Credential,
        format!(
            "cloudflare: the token is accepted by GET /zones but not by /user/tokens/verify, so it is an account API token; {cause}, so its status and expiry were not checked"
        ),
    )
    .with_remedy("set the Cloudflare option account-id to the id of the account that owns the token");
    if let Some(failure) = account_failure.as_ref().or(user_failure.as_ref()) {
        finding = finding.with_evidence(error::evidence(failure));
    }
    report.push(finding);
    true
}

/// Reports a token that both verify endpoints and the zone list rejected.
fn report_rejected_token(
    p: &CloudflareProvider,
    report: &mut StageReport,
    user_failure: Option<ApiFailure>,
    account_failure: Option<ApiFailure>,
    zones_failure: ApiFailure,
) {
    let zones_rejected = may_be_account_token(&zones_failure);
    let (primary, call) = match (user_failure, account_failure) {
        (Some(user), _) if zones_rejected => (user, Call::VerifyUserToken),
        (None, Some(account)) if zones_rejected => (account, Call::VerifyAccountToken),
        _ => (zones_failure.clone(), Call::ListZones),
    };
    let mut finding = error::failure_finding(Stage::Credential, &primary, &p.call(call, None));
    if zones_rejected && call != Call::ListZones {
        finding.message.push_str(&format!(
            "; {} {} too, so it is not a working account API token either",
            zones_failure.request,
            error::describe_response(&zones_failure)
        ));
    }
    report.push(finding);
}

fn parse_time(text: Option<&str>) -> Option<DateTime<Utc>> {
    let text = text?.trim();
    if text.is_empty() {
        return None;
    }
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|time| time.with_timezone(&Utc))
}

fn show_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Rounds to the nearest day or hour: a token created "for 5 days" a few
/// seconds ago still reads "in 5 days".
fn show_remaining(left: chrono::Duration) -> String {
    let seconds = left.num_seconds().max(0);
    let days = (seconds + 43_200) / 86_400;
    let hours = (seconds + 1_800) / 3_600;
    match (days, hours) {
        (d, _) if d >= 2 => format!("in {d} days"),
        (_, h) if h >= 24 => "in 1 day".to_string(),
        (_, 1) => "in 1 hour".to_string(),
        (_, h) => format!("in {h} hours"),
    }
}

/// Applies a verify response to the report. Returns true when the token is
/// usable now.
fn apply_token_status(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    report: &mut StageReport,
    status: &TokenStatus,
    request: &str,
) -> bool {
    if !status.id.is_empty() {
        report.fact("tokenId", status.id.clone());
    }
    report.fact("status", status.status.clone());
    let expires_on = parse_time(status.expires_on.as_deref());
    let not_before = parse_time(status.not_before.as_deref());
    if let Some(time) = expires_on {
        report.fact("expiresOn", time.to_rfc3339());
    }
    if let Some(time) = not_before {
        report.fact("notBefore", time.to_rfc3339());
    }
    let evidence = Evidence {
        request: Some(request.to_string()),
        http_status: Some(200),
        provider_code: None,
        provider_message: Some(format!("status {}", status.status)),
    };
    let location = p.location.describe();
    let renew = format!(
        "roll the token or create a new one with Zone / Zone / Read and Zone / DNS / Edit, then update {location} with it"
    );

    match status.status.as_str() {
        "active" => {}
        "expired" => {
            let when = expires_on
                .map(|time| format!(" on {}", show_time(time)))
                .unwrap_or_default();
            report.push(
                Finding::error(
                    Reason::AuthExpired,
                    Stage::Credential,
                    format!("cloudflare: the API token in {location} expired{when}, so the credential is stale"),
                )
                .with_remedy(renew)
                .with_evidence(evidence),
            );
            return false;
        }
        "disabled" => {
            report.push(
                Finding::error(
                    Reason::AuthInvalid,
                    Stage::Credential,
                    format!("cloudflare: the API token in {location} is disabled, so the credential is stale"),
                )
                .with_remedy(format!(
                    "re-enable the token in the Cloudflare dashboard (My Profile > API Tokens), or {renew}"
                ))
                .with_evidence(evidence),
            );
            return false;
        }
        other => {
            report.push(
                Finding::warning(
                    Reason::Notice,
                    Stage::Credential,
                    format!("cloudflare: the token verify endpoint returned the unknown status \"{other}\""),
                )
                .with_evidence(evidence.clone()),
            );
        }
    }

    let now = Utc::now();
    if let Some(start) = not_before.filter(|start| *start > now) {
        report.push(
            Finding::error(
                Reason::AuthNotYetValid,
                Stage::Credential,
                format!(
                    "cloudflare: the API token in {location} is not valid before {} ({})",
                    show_time(start),
                    show_remaining(start - now)
                ),
            )
            .with_remedy("wait until the start date, or create a token without a start date in its TTL settings")
            .with_evidence(evidence),
        );
        return false;
    }
    if let Some(end) = expires_on {
        if end <= now {
            report.push(
                Finding::error(
                    Reason::AuthExpired,
                    Stage::Credential,
                    format!(
                        "cloudflare: the API token in {location} expired on {}, so the credential is stale",
                        show_time(end)
                    ),
                )
                .with_remedy(renew)
                .with_evidence(evidence),
            );
            return false;
        }
        let left = end - now;
        let window = chrono::Duration::from_std(cx.expiry_warning).unwrap_or(chrono::Duration::MAX);
        if left < window {
            report.push(
                Finding::warning(
                    Reason::AuthExpiring,
                    Stage::Credential,
                    format!(
                        "cloudflare: the API token in {location} expires on {} ({})",
                        show_time(end),
                        show_remaining(left)
                    ),
                )
                .with_remedy(format!("before {}, {renew}", show_time(end)))
                .with_evidence(evidence),
            );
        }
    }
    true
}

/// Proves that a global API key and email authenticate. Cloudflare has no
/// verify endpoint for global keys, so the first page of zones serves as the
/// identity call. Returns true when the key authenticates.
async fn verify_global_key(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    report: &mut StageReport,
) -> bool {
    match send(cx, p.client.list_zones(ZONE_PROBE_PAGE)).await {
        Sent::Done(page) => {
            report.fact("owner", "user (global API key)");
            let count = page
                .info
                .and_then(|info| info.total_count)
                .unwrap_or(page.items.len() as u64);
            report.fact("visibleZones", count.to_string());
            if let Some(account) = page.items.iter().find_map(|zone| zone.account.as_ref()) {
                report.fact("accountId", account.id.clone());
            }
            true
        }
        Sent::Blocked(blocked) => {
            report.push(blocked_finding(Stage::Credential, &blocked, PROVIDER));
            false
        }
        Sent::Failed(failure) => {
            report.push(error::failure_finding(
                Stage::Credential,
                &failure,
                &p.call(Call::KeyIdentity, None),
            ));
            false
        }
    }
}

// ---------------------------------------------------------------------------
// Zone stage
// ---------------------------------------------------------------------------

/// Returns the names cert-manager's `FindNearestZoneForFQDN` looks up, in
/// order: the fqdn without its trailing dot, then each parent, stopping
/// before the top-level domain. Labels equal to `*` are skipped.
pub(crate) fn zone_candidates(fqdn: &str) -> Vec<String> {
    let name = fqdn.trim_end_matches('.');
    let labels: Vec<&str> = name.split('.').collect();
    (0..labels.len().saturating_sub(1))
        .filter(|&index| labels[index] != "*")
        .map(|index| labels[index..].join("."))
        .collect()
}

/// Finds the zone of `fqdn` exactly as cert-manager does, one
/// `GET /zones?name=` per candidate until one returns a zone.
pub(crate) async fn find_zone(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    fqdn: Option<&str>,
) -> ZoneOutcome {
    let mut report = StageReport::passed(Stage::Zone);
    let Some(fqdn) = fqdn else {
        prove_zone_read(p, cx, &mut report).await;
        return ZoneOutcome { report, zone: None };
    };

    let candidates = zone_candidates(fqdn);
    for candidate in &candidates {
        match send(cx, p.client.zones_named(candidate)).await {
            Sent::Done(zones) if zones.is_empty() => continue,
            Sent::Done(zones) => {
                let zone = record_zone(&mut report, candidate, &zones);
                return ZoneOutcome {
                    report,
                    zone: Some(zone),
                };
            }
            Sent::Blocked(blocked) => {
                report.push(blocked_finding(Stage::Zone, &blocked, PROVIDER));
                return ZoneOutcome { report, zone: None };
            }
            Sent::Failed(failure) => {
                let mut finding = error::failure_finding(
                    Stage::Zone,
                    &failure,
                    &p.call(Call::ZoneLookup, Some(candidate)),
                );
                // cert-manager does not move up a label after an error, so it
                // repeats this request and reports only the last error.
                finding
                    .message
                    .push_str(" (cert-manager repeats this lookup for each remaining label and reports only the last error)");
                report.push(finding);
                return ZoneOutcome { report, zone: None };
            }
        }
    }

    report_zone_not_visible(p, cx, &mut report, fqdn, &candidates).await;
    ZoneOutcome { report, zone: None }
}

/// Records the zone cert-manager would use, `zones[0]`, and flags what it
/// would silently get wrong: several zones of one name, a zone not active.
fn record_zone(report: &mut StageReport, candidate: &str, zones: &[Zone]) -> ZoneRef {
    let zone = &zones[0];
    report.fact("zoneId", zone.id.clone());
    report.fact("zoneName", zone.name.clone());
    if let Some(account) = &zone.account {
        report.fact("accountId", account.id.clone());
    }
    let evidence = Evidence {
        request: Some(format!("GET /zones?name={candidate}")),
        http_status: Some(200),
        provider_code: None,
        provider_message: Some(format!("{} zones", zones.len())),
    };

    if zones.len() > 1 {
        let listed: Vec<String> = zones
            .iter()
            .map(|z| {
                let account = z
                    .account
                    .as_ref()
                    .map(|a| a.name.clone().unwrap_or_else(|| a.id.clone()))
                    .unwrap_or_else(|| "unknown account".to_string());
                let status = z.status.clone().unwrap_or_else(|| "unknown".to_string());
                format!("{} ({account}, {status})", z.id)
            })
            .collect();
        report.push(
            Finding::warning(
                Reason::ZoneAmbiguous,
                Stage::Zone,
                format!(
                    "cloudflare: {} zones named {candidate} are visible to this credential: {}; cert-manager uses the first, {}",
                    zones.len(),
                    listed.join(", "),
                    zone.id
                ),
            )
            .with_remedy(format!(
                "limit the token's Zone Resources to the zone that serves {candidate}, or delete the other copy (often a pending zone in another account)"
            ))
            .with_evidence(evidence.clone()),
        );
    }

    if let Some(status) = zone.status.as_deref().filter(|s| *s != "active") {
        report.push(
            Finding::warning(
                Reason::Notice,
                Stage::Zone,
                format!(
                    "cloudflare: zone {} has status {status}; Cloudflare serves its records only once it is active, so the challenge record would not be seen",
                    zone.name
                ),
            )
            .with_remedy(format!(
                "point the domain's nameservers at Cloudflare and wait until zone {} is active",
                zone.name
            ))
            .with_evidence(evidence),
        );
    }

    ZoneRef {
        id: zone.id.clone(),
        name: zone.name.clone(),
    }
}

/// Reports that no candidate returned a zone, naming the zones the
/// credential can see. The extra zone list is sent only on this path.
async fn report_zone_not_visible(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    report: &mut StageReport,
    fqdn: &str,
    candidates: &[String],
) {
    let visible = match send(cx, p.client.list_zones(ZONE_LIST_PAGE)).await {
        Sent::Done(page) => Some(page),
        Sent::Failed(failure) => {
            debug!(provider = PROVIDER, request = %failure.request, "listing the visible zones failed");
            None
        }
        Sent::Blocked(_) => None,
    };
    let seen = match &visible {
        None => "listing the zones it can see failed too".to_string(),
        Some(page) if page.items.is_empty() => "it can see no zone at all".to_string(),
        Some(page) => {
            let names: Vec<&str> = page
                .items
                .iter()
                .take(MAX_ZONES_NAMED)
                .map(|z| z.name.as_str())
                .collect();
            report.fact("visibleZones", names.join(", "));
            let total = page
                .info
                .as_ref()
                .and_then(|info| info.total_count)
                .unwrap_or(page.items.len() as u64);
            let more = total.saturating_sub(names.len() as u64);
            if more > 0 {
                format!("it can see {} and {more} more", names.join(", "))
            } else {
                format!("it can see {}", names.join(", "))
            }
        }
    };
    let last = candidates.last().cloned().unwrap_or_else(|| fqdn.to_string());
    report.push(
        Finding::error(
            Reason::ZoneNotVisible,
            Stage::Zone,
            format!(
                "cloudflare: no zone for {fqdn} is visible to this credential (looked up {}); {seen}",
                candidates.join(", ")
            ),
        )
        .with_remedy(format!(
            "include the zone that serves {fqdn} in the token's Zone Resources, with {} and {}, or check the domain; cert-manager fails with \"Found no Zones for domain {fqdn}.\"",
            error::ZONE_READ,
            error::DNS_EDIT
        ))
        .with_evidence(Evidence {
            request: Some(format!("GET /zones?name={last}")),
            http_status: Some(200),
            provider_code: None,
            provider_message: Some("empty result".to_string()),
        }),
    );
}

/// Proves zone read access when there is no domain to look up.
async fn prove_zone_read(p: &CloudflareProvider, cx: &ProbeContext, report: &mut StageReport) {
    report.note = Some("no domain given: only zone read access was checked".to_string());
    match send(cx, p.client.list_zones(ZONE_PROBE_PAGE)).await {
        Sent::Done(page) => {
            let count = page
                .info
                .as_ref()
                .and_then(|info| info.total_count)
                .unwrap_or(page.items.len() as u64);
            report.fact("visibleZones", count.to_string());
            if page.items.is_empty() {
                report.push(
                    Finding::warning(
                        Reason::ZoneNotVisible,
                        Stage::Zone,
                        "cloudflare: the credential can read zones but sees none".to_string(),
                    )
                    .with_remedy(format!(
                        "include the zones to issue certificates for in the token's Zone Resources, with {} and {}",
                        error::ZONE_READ,
                        error::DNS_EDIT
                    )),
                );
            }
        }
        Sent::Blocked(blocked) => report.push(blocked_finding(Stage::Zone, &blocked, PROVIDER)),
        Sent::Failed(failure) => report.push(error::failure_finding(
            Stage::Zone,
            &failure,
            &p.call(Call::ListZones, None),
        )),
    }
}

// ---------------------------------------------------------------------------
// Write and cleanup stages
// ---------------------------------------------------------------------------

/// Outcome of the create request.
enum Created {
    /// Nothing was created: the request was not sent or was rejected.
    Nothing,
    /// The record exists with this id.
    Record { id: String },
    /// The response was lost (timeout, reset, 5xx, malformed body or
    /// cancellation), so the record may or may not exist.
    Unknown,
}

/// Creates the probe record, reads it back, deletes it and confirms that it
/// is gone. With `cx.no_write`, infers write permission instead.
pub(crate) async fn probe_write(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
) -> ProbeOutcome {
    let mut write = StageReport::passed(Stage::Write);
    let mut cleanup = StageReport::passed(Stage::Cleanup);
    write.fact("recordName", fqdn);
    write.fact("zoneName", zone.name.clone());

    // 1. The TXT records at the name, as cert-manager's Present lists them.
    let existing = match send(cx, p.client.list_txt_records(&zone.id, fqdn)).await {
        Sent::Done(records) => records,
        Sent::Blocked(blocked) => {
            write.push(blocked_finding(Stage::Write, &blocked, PROVIDER));
            return nothing_created(write, cleanup);
        }
        Sent::Failed(failure) => {
            write.push(error::failure_finding(
                Stage::Write,
                &failure,
                &p.call(Call::ListRecords, Some(&zone.name)),
            ));
            return nothing_created(write, cleanup);
        }
    };
    note_existing_records(&mut write, &existing, value, fqdn);

    if cx.no_write {
        return infer_write(p, cx, zone, write, cleanup).await;
    }

    // 2. The create, with cert-manager's body and TTL.
    let created = create_record(p, cx, zone, fqdn, value, &mut write).await;
    if cx.cancel.is_cancelled() {
        write.push(blocked_finding(Stage::Write, &RequestBlocked::Cancelled, PROVIDER));
    }

    let cleanup_started = Instant::now();
    let record_ids = match created {
        Created::Nothing => return nothing_created(write, cleanup),
        Created::Record { id } => {
            write.fact("recordId", id.clone());
            write.fact(acme_token_core::provider::FACT_PROBE_CREATED, "true");
            // 3. The read-back, skipped once the run is cancelled.
            if !cx.cancel.is_cancelled() {
                read_back(p, cx, zone, fqdn, value, &id, &mut write).await;
            }
            vec![id]
        }
        Created::Unknown => {
            let found = find_lost_record(p, cx, zone, fqdn, value, &mut cleanup).await;
            match found {
                Some(ids) if !ids.is_empty() => ids,
                _ => {
                    cleanup.duration_ms = cleanup_started.elapsed().as_millis() as u64;
                    return ProbeOutcome { write, cleanup };
                }
            }
        }
    };

    // 4. The delete of the probe record only, by id, with bounded retries.
    let mut all_deleted = true;
    for id in &record_ids {
        all_deleted &= delete_probe_record(p, cx, zone, id, &mut write).await;
    }

    // 5. The confirming list.
    confirm_gone(p, cx, zone, fqdn, value, &record_ids, all_deleted, &mut cleanup).await;
    cleanup.duration_ms = cleanup_started.elapsed().as_millis() as u64;
    ProbeOutcome { write, cleanup }
}

fn nothing_created(write: StageReport, mut cleanup: StageReport) -> ProbeOutcome {
    cleanup.note = Some("nothing was created, so nothing was left".to_string());
    cleanup.fact("leftover", "none");
    ProbeOutcome { write, cleanup }
}

/// Notes the TXT values already at the name. They are never changed.
fn note_existing_records(write: &mut StageReport, existing: &[DnsRecord], value: &str, fqdn: &str) {
    let others: Vec<&DnsRecord> = existing.iter().filter(|r| !r.has_content(value)).collect();
    write.fact(
        "existingRecords",
        format!("{} (left untouched)", others.len()),
    );
    let leftovers: Vec<&str> = others
        .iter()
        .filter(|r| r.content.trim_matches('"').starts_with(PROBE_MARKER))
        .map(|r| r.id.as_str())
        .collect();
    if !leftovers.is_empty() {
        write.push(
            Finding::info(
                Reason::Notice,
                Stage::Write,
                format!(
                    "cloudflare: {fqdn} still has probe records from an earlier run: {}",
                    leftovers.join(", ")
                ),
            )
            .with_remedy("run `kubectl acme-token cleanup` to delete them"),
        );
    }
}

/// Sends the create and returns what it achieved.
///
/// After cancellation the request is not dropped at once: it gets up to
/// `cx.cleanup_grace` to complete, so the record id is known for the delete.
async fn create_record(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
    write: &mut StageReport,
) -> Created {
    if let Err(blocked) = cx.before_request().await {
        // A cancellation is reported once, by the caller.
        if blocked != RequestBlocked::Cancelled {
            write.push(blocked_finding(Stage::Write, &blocked, PROVIDER));
        }
        return Created::Nothing;
    }
    write.fact("ttl", CHALLENGE_RECORD_TTL.to_string());
    let request = p
        .client
        .create_txt_record(&zone.id, fqdn, value, CHALLENGE_RECORD_TTL);
    tokio::pin!(request);
    let result = tokio::select! {
        biased;
        result = &mut request => result,
        _ = cx.cancel.cancelled() => {
            match tokio::time::timeout(cx.cleanup_grace, &mut request).await {
                Ok(result) => result,
                Err(_) => Err(ApiFailure::interrupted(format!("POST /zones/{}/dns_records", zone.id))),
            }
        }
    };

    match settle(cx, result) {
        Sent::Done(record) => Created::Record { id: record.id },
        Sent::Blocked(_) => unreachable!("settle never blocks"),
        Sent::Failed(failure) => {
            if failure.kind != crate::client::FailureKind::Interrupted {
                write.push(error::failure_finding(
                    Stage::Write,
                    &failure,
                    &p.call(Call::CreateRecord, Some(&zone.name)),
                ));
            }
            if failure.may_have_taken_effect() {
                Created::Unknown
            } else {
                Created::Nothing
            }
        }
    }
}

/// Lists the records at the name and checks that the created one is there.
async fn read_back(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
    id: &str,
    write: &mut StageReport,
) {
    match send(cx, p.client.list_txt_records(&zone.id, fqdn)).await {
        Sent::Done(records) => {
            if records.iter().any(|r| r.id == id || r.is(fqdn, value)) {
                write.fact("readBack", "found");
            } else {
                write.push(
                    Finding::warning(
                        Reason::Notice,
                        Stage::Write,
                        format!(
                            "cloudflare: the created record {id} is missing from the TXT list of {fqdn}; cert-manager's CleanUp finds records through this list and would leave such a record behind"
                        ),
                    )
                    .with_evidence(Evidence {
                        request: Some(format!(
                            "GET /zones/{}/dns_records?per_page=100&type=TXT&name={fqdn}",
                            zone.id
                        )),
                        http_status: Some(200),
                        provider_code: None,
                        provider_message: Some(format!("{} records", records.len())),
                    }),
                );
            }
        }
        Sent::Blocked(blocked) => write.push(blocked_finding(Stage::Write, &blocked, PROVIDER)),
        Sent::Failed(failure) => write.push(error::failure_finding(
            Stage::Write,
            &failure,
            &p.call(Call::ListRecords, Some(&zone.name)),
        )),
    }
}

/// After a lost create response, lists the records at the name and returns the
/// ids that contain the probe's exact value. Returns `None` when the list
/// failed; findings go to the cleanup stage.
async fn find_lost_record(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
    cleanup: &mut StageReport,
) -> Option<Vec<String>> {
    let remedy = "run `kubectl acme-token cleanup` later; it deletes TXT records whose value starts with acme-token-probe-";
    match send_cleanup(cx, p.client.list_txt_records(&zone.id, fqdn)).await {
        Sent::Done(records) => {
            let ids: Vec<String> = records
                .iter()
                .filter(|r| r.is(fqdn, value))
                .map(|r| r.id.clone())
                .collect();
            if ids.is_empty() {
                cleanup.fact("leftover", "none");
                cleanup.push(
                    Finding::info(
                        Reason::Notice,
                        Stage::Cleanup,
                        format!(
                            "cloudflare: the create response was lost and no record at {fqdn} contains the probe value, so nothing was left; a create still in progress at Cloudflare could add it later"
                        ),
                    )
                    .with_remedy(remedy),
                );
            } else {
                cleanup.fact("recoveredRecordIds", ids.join(", "));
            }
            Some(ids)
        }
        Sent::Blocked(blocked) => {
            cleanup.push(blocked_finding(Stage::Cleanup, &blocked, PROVIDER));
            None
        }
        Sent::Failed(failure) => {
            let mut finding = error::failure_finding(
                Stage::Cleanup,
                &failure,
                &p.call(Call::ListRecords, Some(&zone.name)),
            );
            finding.reason = Reason::ProbeLeftover;
            finding.message = format!(
                "cloudflare: the create response was lost and listing {fqdn} to find the probe record failed, so a probe record may be left: {}",
                error::describe_response(&failure)
            );
            finding.remedy = remedy.to_string();
            cleanup.push(finding);
            None
        }
    }
}

/// Result of the delete of one probe record.
enum Deleted {
    Yes,
    AlreadyGone,
    No(ApiFailure),
}

/// Deletes one probe record by id, retrying transient failures. Returns true
/// when the record is gone.
async fn delete_probe_record(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    id: &str,
    write: &mut StageReport,
) -> bool {
    let mut outcome = None;
    for attempt in 1..=DELETE_ATTEMPTS {
        if attempt > 1 {
            tokio::time::sleep(DELETE_BACKOFF * 2u32.pow(attempt - 2)).await;
        }
        match send_cleanup(cx, p.client.delete_record(&zone.id, id)).await {
            Sent::Done(()) => {
                outcome = Some(Deleted::Yes);
                break;
            }
            Sent::Failed(failure) if failure.is_record_missing() => {
                outcome = Some(Deleted::AlreadyGone);
                break;
            }
            Sent::Failed(failure) if failure.is_transient() && attempt < DELETE_ATTEMPTS => {
                warn!(
                    provider = PROVIDER,
                    request = %failure.request,
                    attempt,
                    error = %error::describe_response(&failure),
                    "deleting the probe record failed; retrying"
                );
                write.push(
                    Finding::info(
                        Reason::Notice,
                        Stage::Write,
                        format!(
                            "cloudflare: delete attempt {attempt} of the probe record {} and will be retried",
                            error::describe_response(&failure)
                        ),
                    )
                    .with_evidence(error::evidence(&failure)),
                );
            }
            Sent::Failed(failure) => {
                outcome = Some(Deleted::No(failure));
                break;
            }
            Sent::Blocked(blocked) => {
                write.push(blocked_finding(Stage::Write, &blocked, PROVIDER));
                break;
            }
        }
    }

    match outcome {
        Some(Deleted::Yes) => {
            write.fact("deleted", id);
            true
        }
        Some(Deleted::AlreadyGone) => {
            write.fact("deleted", format!("{id} (already gone)"));
            true
        }
        Some(Deleted::No(failure)) => {
            write.push(error::failure_finding(
                Stage::Write,
                &failure,
                &p.call(Call::DeleteRecord, Some(&zone.name)),
            ));
            false
        }
        None => false,
    }
}

/// Lists the records at the name once more and reports whether the probe
/// value is gone.
#[allow(clippy::too_many_arguments)]
async fn confirm_gone(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    fqdn: &str,
    value: &str,
    record_ids: &[String],
    all_deleted: bool,
    cleanup: &mut StageReport,
) {
    let leftover_remedy = |ids: &str| {
        format!(
            "run `kubectl acme-token cleanup`, or delete TXT record {ids} ({fqdn}) under DNS > Records of zone {} in the Cloudflare dashboard",
            zone.name
        )
    };
    match send_cleanup(cx, p.client.list_txt_records(&zone.id, fqdn)).await {
        Sent::Done(records) => {
            let left: Vec<&DnsRecord> = records
                .iter()
                .filter(|r| record_ids.contains(&r.id) || r.is(fqdn, value))
                .collect();
            if left.is_empty() {
                cleanup.fact("leftover", "none");
                cleanup.fact("confirmedBy", "a TXT list of the name no longer shows the probe value");
                return;
            }
            let ids: Vec<&str> = left.iter().map(|r| r.id.as_str()).collect();
            let ids = ids.join(", ");
            cleanup.push(
                Finding::error(
                    Reason::ProbeLeftover,
                    Stage::Cleanup,
                    format!(
                        "cloudflare: the probe record {fqdn} TXT (id {ids}) is still in zone {} after the delete",
                        zone.name
                    ),
                )
                .with_remedy(leftover_remedy(&ids))
                .with_evidence(Evidence {
                    request: Some(format!(
                        "GET /zones/{}/dns_records?per_page=100&type=TXT&name={fqdn}",
                        zone.id
                    )),
                    http_status: Some(200),
                    provider_code: None,
                    provider_message: Some(format!("{} records, the probe value among them", records.len())),
                }),
            );
        }
        Sent::Failed(failure) if all_deleted => {
            let mut finding = error::failure_finding(
                Stage::Cleanup,
                &failure,
                &p.call(Call::ListRecords, Some(&zone.name)),
            );
            finding.severity = acme_token_core::Severity::Warning;
            finding.message = format!(
                "cloudflare: the delete succeeded, but the confirming list {}, so it is not confirmed that nothing was left",
                error::describe_response(&failure)
            );
            cleanup.push(finding);
        }
        Sent::Failed(failure) => {
            let ids = record_ids.join(", ");
            cleanup.push(
                Finding::error(
                    Reason::ProbeLeftover,
                    Stage::Cleanup,
                    format!(
                        "cloudflare: the probe record {fqdn} TXT (id {ids}) in zone {} could not be deleted",
                        zone.name
                    ),
                )
                .with_remedy(leftover_remedy(&ids))
                .with_evidence(error::evidence(&failure)),
            );
        }
        Sent::Blocked(blocked) => cleanup.push(blocked_finding(Stage::Cleanup, &blocked, PROVIDER)),
    }
}

/// `--no-write`: infers write permission from the delete of a random record
/// id that cannot exist. "Record does not exist" means the token may edit
/// DNS records; 403 means it may not. Nothing is created.
///
/// NOTE: this relies on Cloudflare checking the permission before the
/// record's existence, which its documentation does not state.
async fn infer_write(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    mut write: StageReport,
    mut cleanup: StageReport,
) -> ProbeOutcome {
    write.inferred = true;
    cleanup.inferred = true;
    write.note = Some("--no-write: write permission inferred without creating a record".to_string());
    let random_id: String = {
        let mut rng = rand::thread_rng();
        (0..32)
            .map(|_| char::from_digit(rng.gen_range(0..16), 16).expect("digit below 16"))
            .collect()
    };
    match send(cx, p.client.delete_record(&zone.id, &random_id)).await {
        Sent::Done(()) => write.fact("inferredFrom", format!("DELETE of record {random_id} succeeded")),
        Sent::Failed(failure) if failure.is_record_missing() => write.fact(
            "inferredFrom",
            format!("DELETE of the nonexistent record {random_id} returned that the record does not exist"),
        ),
        Sent::Failed(failure) => write.push(error::failure_finding(
            Stage::Write,
            &failure,
            &p.call(Call::InferDelete, Some(&zone.name)),
        )),
        Sent::Blocked(blocked) => write.push(blocked_finding(Stage::Write, &blocked, PROVIDER)),
    }
    cleanup.note = Some("--no-write: nothing was created".to_string());
    cleanup.fact("leftover", "none");
    ProbeOutcome { write, cleanup }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_stop_before_tld() {
        assert_eq!(
            zone_candidates("_acme-challenge.www.example.com"),
            vec!["_acme-challenge.www.example.com", "www.example.com", "example.com"]
        );
        assert_eq!(
            zone_candidates("_acme-challenge.example.com."),
            vec!["_acme-challenge.example.com", "example.com"]
        );
    }

    #[test]
    fn candidates_skip_wildcard_labels() {
        assert_eq!(
            zone_candidates("_acme-challenge.*.example.com"),
            vec!["_acme-challenge.*.example.com", "example.com"]
        );
    }

    #[test]
    fn candidates_of_single_label_are_empty() {
        assert!(zone_candidates("com").is_empty());
    }
}
