//! The wiremock responder for Route53 (REST-XML under `/2013-04-01/`) and
//! STS (query protocol: form POST to `/`).
//!
//! Order of checks for one request: injected fault, SigV4 credential (key
//! known, session token, expiry, signature), IAM policy of the principal for
//! the action and resource ARN, then the operation's own checks. Shapes and
//! error codes follow botocore's service models for route53 2013-04-01 and
//! sts 2011-06-15; messages follow those AWS returns in public reports.

use std::sync::Arc;

use chrono::{SecondsFormat, Utc};
use wiremock::{Request, Respond, ResponseTemplate};

use super::sigv4::{self, SignedRequest};
use super::state::{allowed, normalize_name, ChangeFacts, Principal, RecordSet, State, Zone};
use super::{Shared, Step};
use crate::faults::FaultAction;
use crate::front::{HOST_HEADER, INTERNAL_HEADER_PREFIX, SEQ_HEADER};

const R53_NS: &str = "https://route53.amazonaws.com/doc/2013-04-01/";
const STS_NS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub(crate) struct Route53Responder {
    shared: Arc<Shared>,
}

impl Route53Responder {
    pub(crate) fn new(shared: Arc<Shared>) -> Route53Responder {
        Route53Responder { shared }
    }
}

/// API of a request.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Service {
    Route53,
    Sts,
}

/// An error response.
struct ApiError {
    status: u16,
    code: String,
    message: String,
}

fn error(status: u16, code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        status,
        code: code.to_string(),
        message: message.into(),
    }
}

/// Escapes text for an XML element.
pub(crate) fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn request_id() -> String {
    let now = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    format!(
        "{:08x}-{:04x}-4000-8000-{:012x}",
        now as u32,
        (now >> 32) as u16,
        now as u64 & 0xffff_ffff_ffff
    )
}

fn xml(status: u16, body: String) -> ResponseTemplate {
    let id = request_id();
    ResponseTemplate::new(status)
        .insert_header("x-amzn-RequestId", id.as_str())
        .set_body_raw(format!("<?xml version=\"1.0\"?>\n{body}"), "text/xml")
}

fn error_template(service: Service, failure: &ApiError) -> ResponseTemplate {
    let namespace = if service == Service::Sts {
        STS_NS
    } else {
        R53_NS
    };
    let kind = if failure.status >= 500 {
        "Receiver"
    } else {
        "Sender"
    };
    xml(
        failure.status,
        format!(
            "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            esc(&failure.code),
            esc(&failure.message),
            request_id()
        ),
    )
}

fn time(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Respond for Route53Responder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let headers: Vec<(String, String)> = request
            .headers
            .iter()
            .filter_map(|(name, value)| {
                let name = name.as_str().to_ascii_lowercase();
                let value = value.to_str().ok()?.to_string();
                Some((name, value))
            })
            .collect();
        let header = |name: &str| {
            headers
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
        };
        let seq = header(SEQ_HEADER).and_then(|text| text.parse::<u64>().ok());
        let path = request.url.path().to_string();
        let service = if path.starts_with("/2013-04-01/") {
            Service::Route53
        } else {
            Service::Sts
        };
        let form: Vec<(String, String)> = if service == Service::Sts {
            form_urlencoded::parse(&request.body).into_owned().collect()
        } else {
            Vec::new()
        };
        let action = form
            .iter()
            .find(|(key, _)| key == "Action")
            .map(|(_, value)| value.clone())
            .unwrap_or_default();

        let mut state = self.shared.lock();
        if let (Service::Sts, Some(seq)) = (service, seq) {
            if let Some(entry) = state.log.get_mut(seq) {
                entry.step = Step::sts_action(&action);
            }
        }
        let fault = seq
            .and_then(|seq| state.log.get(seq))
            .and_then(|entry| entry.fault.clone());
        let injected = |status: u16, message: Option<&str>| {
            let code = match status {
                400 => "InvalidInput",
                403 => "AccessDenied",
                404 => "NoSuchHostedZone",
                500 => "InternalFailure",
                503 => "ServiceUnavailable",
                _ => "InternalFailure",
            };
            error(status, code, message.unwrap_or("injected fault"))
        };
        let signed_headers: Vec<(String, String)> = headers
            .iter()
            .filter(|(name, _)| name != "host" && !name.starts_with(INTERNAL_HEADER_PREFIX))
            .cloned()
            .chain(header(HOST_HEADER).map(|host| ("host".to_string(), host)))
            .collect();
        let signed = SignedRequest {
            method: request.method.as_str(),
            path: &path,
            query: request.url.query(),
            headers: &signed_headers,
            body: &request.body,
        };
        let call = CallInput {
            service,
            method: request.method.as_str(),
            path: &path,
            query: request.url.query().unwrap_or(""),
            body: &request.body,
            form: &form,
            action: &action,
            authorization: header("authorization"),
            security_token: header("x-amz-security-token"),
            signed,
        };
        let result = match fault {
            Some(FaultAction::Status(status)) => {
                Err(injected(status.http_status, status.message.as_deref()))
            }
            Some(FaultAction::RateLimit(_)) => Err(error(400, "Throttling", "Rate exceeded")),
            Some(FaultAction::Malformed) => {
                return ResponseTemplate::new(200).set_body_raw("<not-xml", "text/xml");
            }
            Some(FaultAction::ApplyThenStatus(status)) => {
                let _applied = handle(&mut state, &call);
                Err(injected(status.http_status, status.message.as_deref()))
            }
            _ => handle(&mut state, &call),
        };
        drop(state);
        match result {
            Ok(body) => xml(200, body),
            Err(failure) => error_template(service, &failure),
        }
    }
}

struct CallInput<'a> {
    service: Service,
    method: &'a str,
    path: &'a str,
    query: &'a str,
    body: &'a [u8],
    form: &'a [(String, String)],
    action: &'a str,
    authorization: Option<String>,
    security_token: Option<String>,
    signed: SignedRequest<'a>,
}

fn authenticate(state: &State, call: &CallInput<'_>) -> Result<Principal, ApiError> {
    let Some(header) = call.authorization.as_deref() else {
        return Err(error(
            403,
            "MissingAuthenticationToken",
            "Missing Authentication Token",
        ));
    };
    let Some(auth) = sigv4::parse(header) else {
        return Err(error(400, "IncompleteSignature", "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters"));
    };
    let invalid = || {
        error(
            403,
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        )
    };
    let Some(principal) = state.principal(&auth.access_key_id) else {
        return Err(invalid());
    };
    if principal.session_token.is_some() && principal.session_token != call.security_token {
        return Err(invalid());
    }
    if principal.expired {
        return Err(error(
            403,
            "ExpiredToken",
            "The security token included in the request is expired",
        ));
    }
    if !sigv4::verify(&auth, &call.signed, &principal.secret_access_key) {
        return Err(error(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."));
    }
    Ok(principal.clone())
}

fn authorize(
    principal: &Principal,
    action: &str,
    resource: &str,
    change: Option<&ChangeFacts>,
) -> Result<(), ApiError> {
    if allowed(&principal.policy, action, resource, change) {
        return Ok(());
    }
    Err(error(
        403,
        "AccessDenied",
        format!(
            "User: {} is not authorized to perform: {action} on resource: {resource}",
            principal.arn
        ),
    ))
}

fn handle(state: &mut State, call: &CallInput<'_>) -> Result<String, ApiError> {
    if call.service == Service::Sts {
        return sts(state, call);
    }
    let principal = authenticate(state, call)?;
    let rest = call.path.trim_start_matches("/2013-04-01/");
    let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let query: Vec<(String, String)> = form_urlencoded::parse(call.query.as_bytes())
        .into_owned()
        .collect();
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    match (call.method, segments.as_slice()) {
        ("GET", ["hostedzonesbyname"]) => {
            authorize(&principal, "route53:ListHostedZonesByName", "*", None)?;
            list_zones(
                state,
                param("dnsname"),
                param("hostedzoneid"),
                param("maxitems"),
            )
        }
        ("GET", ["hostedzone", id]) => {
            authorize(
                &principal,
                "route53:GetHostedZone",
                &format!("arn:aws:route53:::hostedzone/{id}"),
                None,
            )?;
            let zone = find_zone(state, id)?;
            Ok(format!(
                "<GetHostedZoneResponse xmlns=\"{R53_NS}\">{}{}</GetHostedZoneResponse>",
                zone_xml(zone),
                delegation_xml(zone)
            ))
        }
        ("POST", ["hostedzone", id, "rrset"]) => {
            change_record_sets(state, &principal, id, call.body)
        }
        ("GET", ["hostedzone", id, "rrset"]) => {
            authorize(
                &principal,
                "route53:ListResourceRecordSets",
                &format!("arn:aws:route53:::hostedzone/{id}"),
                None,
            )?;
            let start = RecordSetStart {
                name: param("name"),
                record_type: param("type"),
                identifier: param("identifier"),
            };
            list_record_sets(state, id, start, param("maxitems"))
        }
        ("GET", ["change", id]) => {
            authorize(
                &principal,
                "route53:GetChange",
                &format!("arn:aws:route53:::change/{id}"),
                None,
            )?;
            let change = state.changes.iter().find(|c| c.id == *id).ok_or_else(|| {
                error(
                    404,
                    "NoSuchChange",
                    format!("A change with the specified change ID does not exist: {id}"),
                )
            })?;
            let status = if change.submitted.elapsed() >= state.insync_after {
                "INSYNC"
            } else {
                "PENDING"
            };
            Ok(format!(
                "<GetChangeResponse xmlns=\"{R53_NS}\"><ChangeInfo><Id>/change/{}</Id><Status>{status}</Status><SubmittedAt>{}</SubmittedAt>{}</ChangeInfo></GetChangeResponse>",
                change.id,
                time(change.submitted_at),
                change.comment.as_deref().map(|c| format!("<Comment>{}</Comment>", esc(c))).unwrap_or_default()
            ))
        }
        _ => Err(error(
            404,
            "UnknownOperationException",
            format!("no Route53 operation at {} {}", call.method, call.path),
        )),
    }
}

fn find_zone<'s>(state: &'s State, id: &str) -> Result<&'s Zone, ApiError> {
    state
        .zones
        .iter()
        .find(|zone| zone.id == id)
        .ok_or_else(|| {
            error(
                404,
                "NoSuchHostedZone",
                format!("No hosted zone found with ID: {id}"),
            )
        })
}

fn zone_xml(zone: &Zone) -> String {
    format!(
        "<HostedZone><Id>/hostedzone/{}</Id><Name>{}</Name><CallerReference>{}</CallerReference><Config><PrivateZone>{}</PrivateZone></Config><ResourceRecordSetCount>{}</ResourceRecordSetCount></HostedZone>",
        zone.id,
        esc(&zone.name),
        zone.id.to_ascii_lowercase(),
        zone.private,
        zone.record_sets.len() + 2
    )
}

fn delegation_xml(zone: &Zone) -> String {
    if zone.private {
        return "<VPCs><VPC><VPCRegion>us-east-1</VPCRegion><VPCId>vpc-0123456789abcdef0</VPCId></VPC></VPCs>".to_string();
    }
    let servers: String = super::dns::nameservers(&zone.name)
        .iter()
        .map(|ns| format!("<NameServer>{}</NameServer>", ns.trim_end_matches('.')))
        .collect();
    format!("<DelegationSet><NameServers>{servers}</NameServers></DelegationSet>")
}

/// Sort key of a name: labels reversed, as Route53 orders zones and record sets.
fn reversed(name: &str) -> String {
    name.trim_end_matches('.')
        .split('.')
        .rev()
        .collect::<Vec<_>>()
        .join(".")
}

fn max_items(text: Option<String>, default: usize) -> Result<usize, ApiError> {
    match text {
        None => Ok(default),
        Some(text) => text
            .parse::<usize>()
            .ok()
            .filter(|n| *n >= 1)
            .map(|n| n.min(default))
            .ok_or_else(|| error(400, "InvalidInput", format!("1 validation error detected: Value '{text}' at 'maxItems' failed to satisfy constraint"))),
    }
}

fn list_zones(
    state: &State,
    dns_name: Option<String>,
    zone_id: Option<String>,
    max: Option<String>,
) -> Result<String, ApiError> {
    if zone_id.is_some() && dns_name.is_none() {
        return Err(error(400, "InvalidInput", "HostedZoneId requires DNSName"));
    }
    let max = max_items(max, 100)?;
    let mut zones: Vec<&Zone> = state.zones.iter().collect();
    zones.sort_by(|a, b| (reversed(&a.name), &a.id).cmp(&(reversed(&b.name), &b.id)));
    let start = dns_name.as_deref().map(|name| {
        if name.contains("..") || name.trim_end_matches('.').is_empty() {
            Err(error(
                400,
                "InvalidDomainName",
                format!("{name} is not a valid domain name"),
            ))
        } else {
            Ok(reversed(&normalize_name(name)))
        }
    });
    let start = start.transpose()?;
    let listed: Vec<&Zone> = zones
        .into_iter()
        .filter(|zone| {
            start
                .as_ref()
                .is_none_or(|start| reversed(&zone.name) >= *start)
        })
        .filter(|zone| match (&zone_id, &start) {
            (Some(id), Some(start)) if reversed(&zone.name) == *start => zone.id >= *id,
            _ => true,
        })
        .collect();
    let page: String = listed.iter().take(max).map(|zone| zone_xml(zone)).collect();
    let truncated = listed.len() > max;
    let next = if truncated {
        let next = listed[max];
        format!(
            "<NextDNSName>{}</NextDNSName><NextHostedZoneId>{}</NextHostedZoneId>",
            esc(&next.name),
            next.id
        )
    } else {
        String::new()
    };
    let echo = dns_name
        .map(|name| format!("<DNSName>{}</DNSName>", esc(&name)))
        .unwrap_or_default();
    Ok(format!(
        "<ListHostedZonesByNameResponse xmlns=\"{R53_NS}\"><HostedZones>{page}</HostedZones>{echo}<IsTruncated>{truncated}</IsTruncated>{next}<MaxItems>{max}</MaxItems></ListHostedZonesByNameResponse>"
    ))
}

fn record_set_xml(set: &RecordSet) -> String {
    let identifier = set
        .set_identifier
        .as_deref()
        .map(|id| format!("<SetIdentifier>{}</SetIdentifier>", esc(id)))
        .unwrap_or_default();
    let multi = if set.multi_value {
        "<MultiValueAnswer>true</MultiValueAnswer>"
    } else {
        ""
    };
    let records: String = set
        .values
        .iter()
        .map(|v| format!("<ResourceRecord><Value>{}</Value></ResourceRecord>", esc(v)))
        .collect();
    format!(
        "<ResourceRecordSet><Name>{}</Name><Type>{}</Type>{identifier}{multi}<TTL>{}</TTL><ResourceRecords>{records}</ResourceRecords></ResourceRecordSet>",
        esc(&set.name),
        set.record_type,
        set.ttl
    )
}

/// Start position of a ListResourceRecordSets page (`name`, `type` and
/// `identifier` query parameters).
struct RecordSetStart {
    name: Option<String>,
    record_type: Option<String>,
    identifier: Option<String>,
}

fn list_record_sets(
    state: &State,
    id: &str,
    start: RecordSetStart,
    max: Option<String>,
) -> Result<String, ApiError> {
    let zone = find_zone(state, id)?;
    let RecordSetStart {
        name,
        record_type,
        identifier,
    } = start;
    if record_type.is_some() && name.is_none() {
        return Err(error(
            400,
            "InvalidInput",
            "The input is not valid: type requires name",
        ));
    }
    if identifier.is_some() && record_type.is_none() {
        return Err(error(
            400,
            "InvalidInput",
            "The input is not valid: identifier requires name and type",
        ));
    }
    let max = max_items(max, 300)?;
    let mut sets: Vec<RecordSet> = zone.record_sets.clone();
    sets.extend(super::dns::apex_record_sets(zone));
    let key = |set: &RecordSet| {
        (
            reversed(&set.name),
            set.record_type.clone(),
            set.set_identifier.clone().unwrap_or_default(),
        )
    };
    sets.sort_by_key(key);
    // Sets sort by reversed name, type and SetIdentifier; a page starts at
    // the first set at or after the start position.
    let start = name.map(|name| {
        (
            reversed(&normalize_name(&name)),
            record_type.unwrap_or_default(),
            identifier.unwrap_or_default(),
        )
    });
    let listed: Vec<&RecordSet> = sets
        .iter()
        .filter(|set| start.as_ref().is_none_or(|start| key(set) >= *start))
        .collect();
    let page: String = listed
        .iter()
        .take(max)
        .map(|set| record_set_xml(set))
        .collect();
    let truncated = listed.len() > max;
    let next = if truncated {
        let next = listed[max];
        let identifier = next
            .set_identifier
            .as_deref()
            .map(|id| format!("<NextRecordIdentifier>{}</NextRecordIdentifier>", esc(id)))
            .unwrap_or_default();
        format!(
            "<NextRecordName>{}</NextRecordName><NextRecordType>{}</NextRecordType>{identifier}",
            esc(&next.name),
            next.record_type
        )
    } else {
        String::new()
    };
    Ok(format!(
        "<ListResourceRecordSetsResponse xmlns=\"{R53_NS}\"><ResourceRecordSets>{page}</ResourceRecordSets><IsTruncated>{truncated}</IsTruncated>{next}<MaxItems>{max}</MaxItems></ListResourceRecordSetsResponse>"
    ))
}

/// One change of a batch.
struct ChangeInput {
    action: String,
    set: RecordSet,
}

fn parse_changes(body: &[u8]) -> Result<(Option<String>, Vec<ChangeInput>), ApiError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| error(400, "InvalidInput", "request body is not UTF-8"))?;
    let document = roxmltree::Document::parse(text).map_err(|err| {
        error(
            400,
            "InvalidInput",
            format!("could not parse the request XML: {err}"),
        )
    })?;
    let root = document.root_element();
    if root.tag_name().name() != "ChangeResourceRecordSetsRequest" {
        return Err(error(
            400,
            "InvalidInput",
            "root element must be ChangeResourceRecordSetsRequest",
        ));
    }
    let batch = child(root, "ChangeBatch")
        .ok_or_else(|| error(400, "InvalidInput", "ChangeBatch is required"))?;
    let comment = text_of(batch, "Comment");
    let changes =
        child(batch, "Changes").ok_or_else(|| error(400, "InvalidInput", "Changes is required"))?;
    let mut parsed = Vec::new();
    for change in changes.children().filter(|c| c.is_element()) {
        let action = text_of(change, "Action").unwrap_or_default();
        let set = child(change, "ResourceRecordSet")
            .ok_or_else(|| error(400, "InvalidInput", "ResourceRecordSet is required"))?;
        let values: Vec<String> = child(set, "ResourceRecords")
            .map(|records| {
                records
                    .children()
                    .filter(|c| c.is_element())
                    .filter_map(|r| text_of(r, "Value"))
                    .collect()
            })
            .unwrap_or_default();
        let ttl = text_of(set, "TTL").and_then(|t| t.parse::<i64>().ok());
        let Some(ttl) = ttl.filter(|_| !values.is_empty()) else {
            return Err(error(400, "InvalidInput", "Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=".to_string() + &action + "]"));
        };
        parsed.push(ChangeInput {
            action,
            set: RecordSet {
                name: normalize_name(&text_of(set, "Name").unwrap_or_default()),
                record_type: text_of(set, "Type").unwrap_or_default(),
                ttl,
                values,
                set_identifier: text_of(set, "SetIdentifier"),
                multi_value: text_of(set, "MultiValueAnswer").as_deref() == Some("true"),
            },
        });
    }
    if parsed.is_empty() {
        return Err(error(
            400,
            "InvalidInput",
            "Changes must contain at least one change",
        ));
    }
    Ok((comment, parsed))
}

fn child<'a, 'input>(
    node: roxmltree::Node<'a, 'input>,
    name: &str,
) -> Option<roxmltree::Node<'a, 'input>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

fn text_of(node: roxmltree::Node<'_, '_>, name: &str) -> Option<String> {
    child(node, name).and_then(|c| c.text()).map(str::to_string)
}

fn describe(set: &RecordSet) -> String {
    match &set.set_identifier {
        Some(id) => format!(
            "[name='{}', type='{}', set-identifier='{}']",
            set.name, set.record_type, id
        ),
        None => format!("[name='{}', type='{}']", set.name, set.record_type),
    }
}

fn change_record_sets(
    state: &mut State,
    principal: &Principal,
    id: &str,
    body: &[u8],
) -> Result<String, ApiError> {
    let (comment, changes) = parse_changes(body)?;
    let facts = ChangeFacts {
        names: changes
            .iter()
            .map(|c| c.set.name.trim_end_matches('.').to_string())
            .collect(),
        types: changes.iter().map(|c| c.set.record_type.clone()).collect(),
    };
    authorize(
        principal,
        "route53:ChangeResourceRecordSets",
        &format!("arn:aws:route53:::hostedzone/{id}"),
        Some(&facts),
    )?;
    let zone_index = state
        .zones
        .iter()
        .position(|zone| zone.id == id)
        .ok_or_else(|| {
            error(
                404,
                "NoSuchHostedZone",
                format!("No hosted zone found with ID: {id}"),
            )
        })?;

    // Validate against a copy, then apply: the batch is all or nothing.
    let mut sets = state.zones[zone_index].record_sets.clone();
    let zone_name = state.zones[zone_index].name.clone();
    let mut problems = Vec::new();
    for change in &changes {
        let set = &change.set;
        if set.name != zone_name && !set.name.ends_with(&format!(".{zone_name}")) {
            problems.push(format!(
                "RRSet with DNS name {} is not permitted in zone {zone_name}",
                set.name
            ));
            continue;
        }
        let same = |other: &RecordSet| {
            other.name == set.name
                && other.record_type == set.record_type
                && other.set_identifier == set.set_identifier
        };
        let conflicting_kind = sets.iter().any(|other| {
            other.name == set.name
                && other.record_type == set.record_type
                && other.set_identifier.is_some() != set.set_identifier.is_some()
        });
        match change.action.as_str() {
            "CREATE" | "UPSERT" => {
                if conflicting_kind {
                    let kind = if set.set_identifier.is_some() { "multivalue answer" } else { "simple routing" };
                    let other = if set.set_identifier.is_some() { "non multivalue answer" } else { "multivalue answer" };
                    problems.push(format!("RRSet {} of {kind} cannot be created because a {other} rrset exists with the same name and type", describe(set)));
                    continue;
                }
                if change.action == "CREATE" && sets.iter().any(same) {
                    problems.push(format!("Tried to create resource record set {} but it already exists", describe(set)));
                    continue;
                }
                sets.retain(|other| !same(other));
                sets.push(set.clone());
            }
            "DELETE" => match sets.iter().position(same) {
                None => problems.push(format!("Tried to delete resource record set {} but it was not found", describe(set))),
                Some(index) if sets[index].ttl != set.ttl || sets[index].values != set.values => {
                    problems.push(format!("Tried to delete resource record set {} but the values provided do not match the current values", describe(set)))
                }
                Some(index) => {
                    sets.remove(index);
                }
            },
            other => {
                return Err(error(400, "InvalidInput", format!("1 validation error detected: Value '{other}' at 'changeBatch.changes.1.member.action' failed to satisfy constraint: Member must satisfy enum value set: [CREATE, DELETE, UPSERT]")));
            }
        }
    }
    if !problems.is_empty() {
        return Err(error(
            400,
            "InvalidChangeBatch",
            format!("[{}]", problems.join(", ")),
        ));
    }
    state.zones[zone_index].record_sets = sets;
    let change = state.new_change(comment.clone());
    Ok(format!(
        "<ChangeResourceRecordSetsResponse xmlns=\"{R53_NS}\"><ChangeInfo><Id>/change/{}</Id><Status>PENDING</Status><SubmittedAt>{}</SubmittedAt>{}</ChangeInfo></ChangeResourceRecordSetsResponse>",
        change.id,
        time(change.submitted_at),
        comment.map(|c| format!("<Comment>{}</Comment>", esc(&c))).unwrap_or_default()
    ))
}

fn sts(state: &mut State, call: &CallInput<'_>) -> Result<String, ApiError> {
    let param = |name: &str| {
        call.form
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let wrap = |action: &str, result: String| {
        format!(
            "<{action}Response xmlns=\"{STS_NS}\"><{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            request_id()
        )
    };
    if param("Version").as_deref() != Some("2011-06-15") {
        return Err(error(
            400,
            "InvalidAction",
            "Could not find operation for this version",
        ));
    }
    let session_name = || -> Result<String, ApiError> {
        let name = param("RoleSessionName").unwrap_or_default();
        if !(2..=64).contains(&name.len())
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(c))
        {
            return Err(error(400, "ValidationError", format!("1 validation error detected: Value '{name}' at 'roleSessionName' failed to satisfy constraint: Member must have length between 2 and 64 and match [\\w+=,.@-]*")));
        }
        Ok(name)
    };
    match call.action {
        "GetCallerIdentity" => {
            let principal = authenticate(state, call)?;
            Ok(wrap(
                "GetCallerIdentity",
                format!(
                    "<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>",
                    esc(&principal.arn),
                    esc(&principal.user_id),
                    state.account
                ),
            ))
        }
        "AssumeRole" => {
            let principal = authenticate(state, call)?;
            let role_arn = param("RoleArn").unwrap_or_default();
            let name = session_name()?;
            let denied = || {
                error(403, "AccessDenied", format!("User: {} is not authorized to perform: sts:AssumeRole on resource: {role_arn}", principal.arn))
            };
            let role = state
                .roles
                .iter()
                .find(|r| r.arn == role_arn)
                .cloned()
                .ok_or_else(denied)?;
            if !role.trust.iter().any(|trusted| *trusted == principal.name) {
                return Err(denied());
            }
            let session = state.issue_session(&role, &name);
            Ok(wrap("AssumeRole", credentials_xml(&session)))
        }
        "AssumeRoleWithWebIdentity" => {
            let role_arn = param("RoleArn").unwrap_or_default();
            let name = session_name()?;
            let token = param("WebIdentityToken").unwrap_or_default();
            if token.len() < 4 {
                return Err(error(400, "ValidationError", "1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4"));
            }
            let denied = || {
                error(
                    403,
                    "AccessDenied",
                    "Not authorized to perform sts:AssumeRoleWithWebIdentity",
                )
            };
            let role = state
                .roles
                .iter()
                .find(|r| r.arn == role_arn)
                .cloned()
                .ok_or_else(denied)?;
            if !role.web_identity {
                return Err(denied());
            }
            if !role.web_identity_tokens.is_empty() && !role.web_identity_tokens.contains(&token) {
                return Err(error(400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider, please reference AssumeRoleWithWebIdentity documentation for requirements"));
            }
            let session = state.issue_session(&role, &name);
            let extra = "<SubjectFromWebIdentityToken>system:serviceaccount:cert-manager:cert-manager</SubjectFromWebIdentityToken><Audience>sts.amazonaws.com</Audience><Provider>oidc.eks.example</Provider>";
            Ok(wrap(
                "AssumeRoleWithWebIdentity",
                format!("{}{extra}", credentials_xml(&session)),
            ))
        }
        other => Err(error(
            400,
            "InvalidAction",
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
    }
}

fn credentials_xml(session: &Principal) -> String {
    let expires = Utc::now() + chrono::Duration::hours(1);
    format!(
        "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey><SessionToken>{}</SessionToken><Expiration>{}</Expiration></Credentials><AssumedRoleUser><AssumedRoleId>{}</AssumedRoleId><Arn>{}</Arn></AssumedRoleUser><PackedPolicySize>0</PackedPolicySize>",
        session.access_key_id,
        esc(&session.secret_access_key),
        esc(session.session_token.as_deref().unwrap_or_default()),
        expires.to_rfc3339_opts(SecondsFormat::Secs, true),
        esc(&session.user_id),
        esc(&session.arn)
    )
}
