//! Finding and deleting probe records that a killed run left behind, for
//! `cleanup`.
//!
//! Only TXT records at `_acme-challenge.` names whose content parses as a
//! probe value ([`ProbeValue::parse`]: marker, base36 creation time, 43
//! characters of base64url) are returned, and a delete is sent only for such
//! a record, by its id. In-flight challenges and every other record are never
//! touched.

use crate::client::DnsRecord;
use crate::error::{self, Call};
use crate::replay::{send, Sent};
use crate::CloudflareProvider;
use acme_token_core::provider::{blocked_finding, ProbeRecord};
use acme_token_core::{Finding, ProbeContext, ProbeValue, Stage, ZoneRef};
use tracing::warn;

/// Prefix of every challenge record name.
const CHALLENGE_PREFIX: &str = "_acme-challenge.";
/// Maximum number of pages of 100 records read per zone.
const MAX_PAGES: u32 = 50;

fn probe_record(record: &DnsRecord) -> Option<ProbeRecord> {
    let name = record.name.trim_end_matches('.');
    if !name.to_ascii_lowercase().starts_with(CHALLENGE_PREFIX) {
        return None;
    }
    let probe = ProbeValue::parse(&record.content)?;
    Some(ProbeRecord {
        id: record.id.clone(),
        name: name.to_string(),
        value: probe.value,
        created_at: probe.created_at,
    })
}

/// Lists the probe records of `zone`, page by page.
pub(crate) async fn list(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
) -> Result<Vec<ProbeRecord>, Finding> {
    let mut found = Vec::new();
    let mut seen = 0u64;
    for page in 1..=MAX_PAGES {
        let listed = send(
            cx,
            p.client
                .list_txt_records_named_like(&zone.id, CHALLENGE_PREFIX, page),
        )
        .await;
        let listed = match listed {
            Sent::Done(listed) => listed,
            Sent::Failed(failure) => {
                return Err(error::failure_finding(
                    Stage::Cleanup,
                    &failure,
                    &p.call(Call::ListRecords, Some(&zone.name)),
                ))
            }
            Sent::Blocked(blocked) => {
                return Err(blocked_finding(Stage::Cleanup, &blocked, "cloudflare"))
            }
        };
        if listed.items.is_empty() {
            return Ok(found);
        }
        seen += listed.items.len() as u64;
        found.extend(listed.items.iter().filter_map(probe_record));
        let info = listed.info.unwrap_or_default();
        let last_page = info
            .total_pages
            .map(|total| u64::from(page) >= total)
            .or_else(|| info.total_count.map(|total| seen >= total))
            .unwrap_or(listed.items.len() < 100);
        if last_page {
            return Ok(found);
        }
    }
    warn!(
        provider = "cloudflare",
        zone = %zone.name,
        pages = MAX_PAGES,
        "stopped listing challenge records after the page limit; later pages were not searched"
    );
    Ok(found)
}

/// Deletes one probe record by id, after checking again that its value is a
/// probe value.
pub(crate) async fn delete(
    p: &CloudflareProvider,
    cx: &ProbeContext,
    zone: &ZoneRef,
    record: &ProbeRecord,
) -> Result<(), Finding> {
    if ProbeValue::parse(&record.value).is_none() || record.id.is_empty() {
        return Err(Finding::error(
            acme_token_core::Reason::InvalidConfig,
            Stage::Cleanup,
            format!(
                "cloudflare: record {} at {} is not a probe record, so it was not deleted",
                record.id, record.name
            ),
        ));
    }
    match send(cx, p.client.delete_record(&zone.id, &record.id)).await {
        Sent::Done(()) => Ok(()),
        Sent::Failed(failure) if failure.is_record_missing() => Ok(()),
        Sent::Failed(failure) => Err(error::failure_finding(
            Stage::Cleanup,
            &failure,
            &p.call(Call::DeleteRecord, Some(&zone.name)),
        )),
        Sent::Blocked(blocked) => Err(blocked_finding(Stage::Cleanup, &blocked, "cloudflare")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(name: &str, content: &str) -> DnsRecord {
        DnsRecord {
            id: "r1".into(),
            name: name.into(),
            content: content.into(),
        }
    }

    #[test]
    fn only_marked_challenge_records_match() {
        let probe = ProbeValue::generate().value;
        assert!(probe_record(&record("_acme-challenge.example.com", &probe)).is_some());
        assert!(probe_record(&record("_acme-challenge.example.com", &format!("\"{probe}\""))).is_some());
        // Same value at another name, an in-flight challenge, and a look-alike
        // that carries the marker but not the probe shape.
        assert!(probe_record(&record("www.example.com", &probe)).is_none());
        assert!(probe_record(&record("_acme-challenge.example.com", "in-flight-challenge-value-000000000000000000")).is_none());
        assert!(probe_record(&record("_acme-challenge.example.com", "acme-token-probe-not-a-real-probe-value")).is_none());
    }
}
