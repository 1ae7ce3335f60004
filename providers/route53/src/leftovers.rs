//! Finding and deleting probe record sets that a killed run left behind,
//! for `cleanup`.
//!
//! Route53 cannot filter record sets by name, so the whole hosted zone is
//! listed with `ListResourceRecordSets`, page by page, each page starting
//! where the previous one ended (`NextRecordName`, `NextRecordType` and
//! `NextRecordIdentifier`). A record set is returned only when it looks
//! exactly like the probe's own: a TXT multivalue answer set at an
//! `_acme-challenge.` name with one value that parses as a probe value
//! ([`ProbeValue::parse`]) and a SetIdentifier equal to that quoted value.
//! Simple-routing sets, in-flight challenges and every other record set are
//! never returned.
//!
//! The DELETE sends the record set exactly as it was listed (name, type,
//! SetIdentifier, MultiValueAnswer, TTL and value), so Route53 rejects it
//! when the set changed in between. cert-manager never calls
//! `route53:ListResourceRecordSets`; only `cleanup` needs it.

use crate::client::{ApiFailure, Session};
use crate::error::{failure_finding, Call, PROVIDER};
use crate::replay::{
    self, context, normalize, send, send_delete, wait_insync, zone_arn, Sent, Wait,
};
use crate::Route53Provider;
use acme_token_core::provider::{blocked_finding, ProbeRecord, RequestBlocked};
use acme_token_core::{Finding, ProbeContext, ProbeValue, Reason, Stage, ZoneRef};
use aws_sdk_route53::operation::list_resource_record_sets::ListResourceRecordSetsOutput;
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecordSet, RrType};
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use tracing::{debug, warn};

/// First label of every challenge name, with its dot.
const CHALLENGE_PREFIX: &str = "_acme-challenge.";
/// Record sets per page; 300 is the maximum Route53 returns.
const PAGE_SIZE: i32 = 300;
/// Maximum number of pages read per zone (15,000 record sets).
const MAX_PAGES: u32 = 50;
/// Comment of the cleanup's change batch; IAM does not look at it.
const CLEANUP_COMMENT: &str = "acme-token cleanup of a leftover probe record set";

/// Hosted zone id, record name (lower case, trailing dot) and SetIdentifier.
type SetKey = (String, String, String);

/// Record sets returned by [`list`], as Route53 listed them, so that
/// [`delete`] sends exactly what was listed.
#[derive(Debug, Default)]
pub(crate) struct ListedSets(Mutex<HashMap<SetKey, ResourceRecordSet>>);

impl ListedSets {
    fn insert(&self, key: SetKey, set: ResourceRecordSet) {
        self.lock().insert(key, set);
    }

    fn get(&self, key: &SetKey) -> Option<ResourceRecordSet> {
        self.lock().get(key).cloned()
    }

    fn remove(&self, key: &SetKey) {
        self.lock().remove(key);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SetKey, ResourceRecordSet>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn set_key(zone: &ZoneRef, name: &str, set_identifier: &str) -> SetKey {
    (zone.id.clone(), normalize(name), set_identifier.to_string())
}

/// Returns the probe value of `set` when the set has the probe's shape, and
/// `None` for every other record set.
fn probe_value(set: &ResourceRecordSet) -> Option<ProbeValue> {
    if *set.r#type() != RrType::Txt
        || !normalize(set.name()).starts_with(CHALLENGE_PREFIX)
        || set.multi_value_answer() != Some(true)
        || set.alias_target().is_some()
    {
        return None;
    }
    let [record] = set.resource_records() else {
        return None;
    };
    if set.set_identifier() != Some(record.value()) {
        return None;
    }
    ProbeValue::parse(record.value())
}

/// Start position of the next page, or `None` on the last page.
fn next_start(page: &ListResourceRecordSetsOutput) -> Option<PageStart> {
    if !page.is_truncated() {
        return None;
    }
    Some(PageStart {
        name: page.next_record_name()?.to_string(),
        record_type: page.next_record_type()?.clone(),
        identifier: page.next_record_identifier().map(str::to_string),
    })
}

/// Start position of a `ListResourceRecordSets` page.
#[derive(Debug, Clone, PartialEq)]
struct PageStart {
    name: String,
    record_type: RrType,
    identifier: Option<String>,
}

async fn list_page(
    cx: &ProbeContext,
    session: &Session,
    zone: &ZoneRef,
    start: Option<&PageStart>,
) -> Sent<ListResourceRecordSetsOutput> {
    let call = || {
        let mut request = session
            .route53
            .list_resource_record_sets()
            .hosted_zone_id(&zone.id)
            .max_items(PAGE_SIZE);
        let mut path = format!(
            "GET /2013-04-01/hostedzone/{}/rrset?maxitems={PAGE_SIZE}",
            zone.id
        );
        if let Some(start) = start {
            request = request
                .start_record_name(start.name.clone())
                .start_record_type(start.record_type.clone())
                .set_start_record_identifier(start.identifier.clone());
            path.push_str(&format!(
                "&name={}&type={}",
                start.name,
                start.record_type.as_str()
            ));
            if let Some(identifier) = &start.identifier {
                path.push_str(&format!("&identifier={identifier}"));
            }
        }
        async move {
            request
                .send()
                .await
                .map_err(|err| ApiFailure::from_sdk(path, err))
        }
    };
    send(cx, false, call).await
}

fn list_failure(p: &Route53Provider, zone: &ZoneRef, failure: &ApiFailure) -> Finding {
    let arn = zone_arn(&zone.id);
    let mut finding = failure_finding(
        Stage::Cleanup,
        failure,
        &context(p, Call::ListResourceRecordSets, &arn),
    );
    if finding.reason == Reason::PermissionMissing {
        finding.message.push_str(
            "; `cleanup` needs it to find leftover probe record sets, although cert-manager never calls it",
        );
    }
    finding
}

/// Lists the probe record sets of `zone`, page by page.
pub(crate) async fn list(
    p: &Route53Provider,
    cx: &ProbeContext,
    zone: &ZoneRef,
) -> Result<Vec<ProbeRecord>, Finding> {
    let session = replay::session(p, cx)
        .await
        .map_err(|failure| failure.finding.clone())?;
    let mut found = Vec::new();
    let mut seen: HashSet<SetKey> = HashSet::new();
    let mut start: Option<PageStart> = None;
    for _ in 0..MAX_PAGES {
        let page = match list_page(cx, session, zone, start.as_ref()).await {
            Sent::Done(page) => page,
            Sent::Failed(failure) => return Err(list_failure(p, zone, &failure)),
            Sent::Blocked(blocked) => {
                return Err(blocked_finding(Stage::Cleanup, &blocked, PROVIDER))
            }
        };
        for set in page.resource_record_sets() {
            let Some(probe) = probe_value(set) else {
                continue;
            };
            let identifier = set.set_identifier().unwrap_or_default();
            let key = set_key(zone, set.name(), identifier);
            // A server that ignores StartRecordIdentifier (moto 5.2) starts
            // the next page at the first set of the same name and type, so a
            // set can arrive twice.
            if !seen.insert(key.clone()) {
                continue;
            }
            p.listed.insert(key, set.clone());
            found.push(ProbeRecord {
                id: identifier.to_string(),
                name: set.name().trim_end_matches('.').to_string(),
                value: probe.value,
                created_at: probe.created_at,
            });
        }
        let Some(next) = next_start(&page) else {
            return Ok(found);
        };
        if start.as_ref() == Some(&next) {
            warn!(
                provider = PROVIDER,
                zone = %zone.name,
                name = %next.name,
                "stopped listing record sets: the next page would start where this one started; later record sets were not searched"
            );
            return Ok(found);
        }
        start = Some(next);
    }
    warn!(
        provider = PROVIDER,
        zone = %zone.name,
        pages = MAX_PAGES,
        "stopped listing record sets after the page limit; later pages were not searched"
    );
    Ok(found)
}

fn not_listed(record: &ProbeRecord) -> Finding {
    Finding::error(
        Reason::InvalidConfig,
        Stage::Cleanup,
        format!(
            "{PROVIDER}: record set {} with SetIdentifier {} was not listed as a probe record set in this run, so it was not deleted",
            record.name, record.id
        ),
    )
    .with_remedy("run `kubectl acme-token cleanup` again; it deletes only record sets it has just listed")
}

/// Deletes one probe record set returned by [`list`], sending it exactly as
/// it was listed, and waits for INSYNC as the probe does.
pub(crate) async fn delete(
    p: &Route53Provider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    record: &ProbeRecord,
) -> Result<(), Finding> {
    let key = set_key(zone, &record.name, &record.id);
    let Some(set) = p.listed.get(&key) else {
        return Err(not_listed(record));
    };
    if probe_value(&set).map(|probe| probe.value).as_deref() != Some(record.value.as_str()) {
        return Err(not_listed(record));
    }
    let session = replay::session(p, cx)
        .await
        .map_err(|failure| failure.finding.clone())?;
    // No new DELETE after Ctrl-C; one already sent is not abandoned.
    if cx.cancel.is_cancelled() {
        return Err(blocked_finding(
            Stage::Cleanup,
            &RequestBlocked::Cancelled,
            PROVIDER,
        ));
    }
    let call = || {
        let batch = ChangeBatch::builder()
            .comment(CLEANUP_COMMENT)
            .changes(
                Change::builder()
                    .action(ChangeAction::Delete)
                    .resource_record_set(set.clone())
                    .build()
                    .expect("action and record set are set"),
            )
            .build()
            .expect("changes are set");
        let request = session
            .route53
            .change_resource_record_sets()
            .hosted_zone_id(&zone.id)
            .change_batch(batch);
        let path = format!("POST /2013-04-01/hostedzone/{}/rrset/ (DELETE)", zone.id);
        async move {
            request
                .send()
                .await
                .map(|output| {
                    output
                        .change_info()
                        .map(|info| crate::client::bare_id(info.id()).to_string())
                        .unwrap_or_default()
                })
                .map_err(|err| ApiFailure::from_sdk(path, err))
        }
    };
    match send_delete(cx, call).await {
        Sent::Done(change_id) => {
            p.listed.remove(&key);
            confirm_delete(p, cx, session, &change_id, record).await;
            Ok(())
        }
        Sent::Failed(failure)
            if failure.is_code("InvalidChangeBatch") && failure.message.contains("not found") =>
        {
            // Deleted in the meantime, by another cleanup or by hand.
            p.listed.remove(&key);
            Ok(())
        }
        Sent::Failed(failure) if failure.is_code("InvalidChangeBatch") => Err(Finding::error(
            Reason::ProbeLeftover,
            Stage::Cleanup,
            format!(
                "{PROVIDER}: Route53 rejected the DELETE of {} (InvalidChangeBatch: {}); the record set changed after it was listed, so it was left as it is",
                record.name, failure.message
            ),
        )
        .with_remedy("run `kubectl acme-token cleanup` again to list the record set as it is now")),
        Sent::Failed(failure) => Err(failure_finding(
            Stage::Cleanup,
            &failure,
            &context(p, Call::ChangeResourceRecordSets, &zone_arn(&zone.id)),
        )),
        Sent::Blocked(blocked) => Err(blocked_finding(Stage::Cleanup, &blocked, PROVIDER)),
    }
}

/// Polls GetChange until the accepted DELETE is INSYNC. Route53 applies an
/// accepted change in any case, so the outcome is only logged.
async fn confirm_delete(
    p: &Route53Provider,
    cx: &ProbeContext,
    session: &Session,
    change_id: &str,
    record: &ProbeRecord,
) {
    match wait_insync(p, cx, session, change_id, Stage::Cleanup, false).await {
        Wait::InSync(elapsed) => debug!(
            provider = PROVIDER,
            name = %record.name,
            change = change_id,
            elapsed_ms = elapsed.as_millis() as u64,
            "DELETE of the leftover probe record set is INSYNC"
        ),
        Wait::Pending => warn!(
            provider = PROVIDER,
            name = %record.name,
            change = change_id,
            "the DELETE of the leftover probe record set was accepted but was still PENDING when the wait ended"
        ),
        Wait::Failed(finding) => warn!(
            provider = PROVIDER,
            name = %record.name,
            change = change_id,
            error = %finding.message,
            "the DELETE of the leftover probe record set was accepted, but GetChange could not confirm it"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::ResourceRecord;

    fn txt_set(
        name: &str,
        value: &str,
        set_identifier: Option<&str>,
        multi: bool,
    ) -> ResourceRecordSet {
        let mut builder = ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Txt)
            .ttl(10)
            .resource_records(ResourceRecord::builder().value(value).build().unwrap());
        if let Some(id) = set_identifier {
            builder = builder.set_identifier(id);
        }
        if multi {
            builder = builder.multi_value_answer(true);
        }
        builder.build().unwrap()
    }

    #[test]
    fn only_probe_shaped_sets_match() {
        let probe = ProbeValue::generate().value;
        let quoted = format!("\"{probe}\"");
        let name = "_acme-challenge.www.example.com.";
        assert!(probe_value(&txt_set(name, &quoted, Some(&quoted), true)).is_some());
        assert!(probe_value(&txt_set(
            "_ACME-Challenge.www.example.com.",
            &quoted,
            Some(&quoted),
            true
        ))
        .is_some());
    }

    #[test]
    fn other_sets_never_match() {
        let probe = ProbeValue::generate().value;
        let quoted = format!("\"{probe}\"");
        let name = "_acme-challenge.www.example.com.";
        // Simple routing, a probe value at another name, another
        // SetIdentifier, an in-flight challenge and a marker look-alike.
        assert!(probe_value(&txt_set(name, &quoted, None, false)).is_none());
        assert!(probe_value(&txt_set("www.example.com.", &quoted, Some(&quoted), true)).is_none());
        assert!(probe_value(&txt_set(name, &quoted, Some("\"other\""), true)).is_none());
        let in_flight = "\"in-flight-challenge-value-000000000000000000\"";
        assert!(probe_value(&txt_set(name, in_flight, Some(in_flight), true)).is_none());
        let lookalike = "\"acme-token-probe-looks.like-a-probe-value-x\"";
        assert!(probe_value(&txt_set(name, lookalike, Some(lookalike), true)).is_none());
    }

    #[test]
    fn second_value_disqualifies() {
        let probe = ProbeValue::generate().value;
        let quoted = format!("\"{probe}\"");
        let set = ResourceRecordSet::builder()
            .name("_acme-challenge.www.example.com.")
            .r#type(RrType::Txt)
            .ttl(10)
            .multi_value_answer(true)
            .set_identifier(quoted.clone())
            .resource_records(ResourceRecord::builder().value(quoted).build().unwrap())
            .resource_records(
                ResourceRecord::builder()
                    .value("\"other\"")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        assert!(probe_value(&set).is_none());
    }
}
