//! The wiremock responder: applies injected faults, checks credentials and serves each endpoint.
//!
//! Order of checks for one request: injected fault, route, credential headers,
//! rate limit, client IP filter, token status (except on verify), then the
//! endpoint's own permission and object checks. A request rejected at any
//! check changes nothing, except that it counts towards the rate limit once
//! its credential is known.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use wiremock::{Request, Respond, ResponseTemplate};

use super::auth::{self, AuthHeaders, Principal};
use super::errors::{self, ApiError};
use super::listing::{self, Query, TextFilter};
use super::routes::Route;
use super::scenario::TokenStatus;
use super::state::{is_in_zone, is_valid_ttl, normalize_name, Owner, Record, State, Zone};
use super::views::{self, ApiResponse};
use super::Shared;
use crate::faults::FaultAction;
use crate::front::{PEER_HEADER, SEQ_HEADER};
use crate::ids::is_lower_hex;

/// Zone list page size: default 20, allowed 5 to 50 (v4 API spec).
const ZONE_PAGE: (u64, u64, u64) = (20, 5, 50);
/// DNS record list page size: default 100, allowed 5 to 5,000,000 (v4 API spec).
const RECORD_PAGE: (u64, u64, u64) = (100, 5, 5_000_000);

pub(crate) struct CloudflareResponder {
    shared: Arc<Shared>,
}

impl CloudflareResponder {
    pub(crate) fn new(shared: Arc<Shared>) -> CloudflareResponder {
        CloudflareResponder { shared }
    }
}

/// One request as the handlers see it.
struct Call<'a> {
    method: &'a str,
    route: Route,
    path: &'a str,
    query: Query,
    auth: AuthHeaders<'a>,
    body: &'a [u8],
    peer: IpAddr,
    now: DateTime<Utc>,
    instant: Instant,
}

impl Respond for CloudflareResponder {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|value| value.to_str().ok())
        };
        let seq = header(SEQ_HEADER).and_then(|text| text.parse::<u64>().ok());
        let peer = header(PEER_HEADER)
            .and_then(|text| text.parse::<IpAddr>().ok())
            .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
        let path = request.url.path();
        let call = Call {
            method: request.method.as_str(),
            route: Route::parse(request.method.as_str(), path),
            path,
            query: listing::parse_query(request.url.query()),
            auth: AuthHeaders {
                authorization: header("authorization"),
                auth_email: header("x-auth-email"),
                auth_key: header("x-auth-key"),
            },
            body: &request.body,
            peer,
            now: Utc::now(),
            instant: Instant::now(),
        };

        let mut state = self.shared.lock();
        let fault = seq
            .and_then(|seq| state.log.get(seq))
            .and_then(|entry| entry.fault.clone());
        let response = match fault {
            Some(FaultAction::Status(status)) => views::failure(errors::injected(
                status.http_status,
                status.code,
                status.message.as_deref(),
            )),
            Some(FaultAction::RateLimit(limit)) => {
                views::failure(errors::rate_limited(limit.retry_after))
            }
            Some(FaultAction::Malformed) => views::malformed(),
            Some(FaultAction::ApplyThenStatus(status)) => {
                let _applied = handle(&mut state, &call);
                views::failure(errors::injected(
                    status.http_status,
                    status.code,
                    status.message.as_deref(),
                ))
            }
            // The front applies a delay after this response, and reset or hang requests never reach the emulation.
            Some(FaultAction::Delay(_))
            | Some(FaultAction::Reset)
            | Some(FaultAction::Hang)
            | None => handle(&mut state, &call),
        };
        drop(state);
        into_template(response)
    }
}

fn into_template(response: ApiResponse) -> ResponseTemplate {
    let mut template =
        ResponseTemplate::new(response.status).set_body_raw(response.body, response.content_type);
    for (name, value) in response.headers {
        template = template.insert_header(name, value.as_str());
    }
    template
}

/// Authenticates and rate-limits the request, runs the endpoint, and adds the
/// `Ratelimit` headers to every response after the rate-limit check.
fn handle(state: &mut State, call: &Call<'_>) -> ApiResponse {
    match &call.route {
        Route::Unknown => return views::failure(errors::unknown_path()),
        Route::MethodNotAllowed => return views::failure(errors::method_not_allowed(call.method)),
        _ => {}
    }
    let principal = match auth::authenticate(state, &call.auth) {
        Ok(principal) => principal,
        Err(error) => return views::failure(error),
    };
    let label = auth::label(state, principal);
    let quota = match state.rate_limiter.check(&label, call.instant) {
        Ok(quota) => quota,
        Err(remaining) => {
            let seconds = remaining.as_secs() + u64::from(remaining.subsec_nanos() > 0);
            return views::failure(errors::rate_limited(Some(seconds.max(1))));
        }
    };

    let mut response = match dispatch(state, principal, call) {
        Ok(response) => response,
        Err(error) => views::failure(error),
    };
    if let Some(quota) = quota {
        response.headers.extend(quota.headers());
    }
    response
}

fn dispatch(
    state: &mut State,
    principal: Principal,
    call: &Call<'_>,
) -> Result<ApiResponse, ApiError> {
    if let Principal::Token(index) = principal {
        auth::check_ip_filter(&state.tokens[index], call.peer)?;
    }
    match &call.route {
        Route::UserTokenVerify => return verify(state, principal, None, call.now),
        Route::AccountTokenVerify { account_id } => {
            return verify(state, principal, Some(account_id), call.now)
        }
        _ => {}
    }
    if let Principal::Token(index) = principal {
        auth::check_usable(&state.tokens[index], call.now)?;
    }

    match &call.route {
        Route::ListZones => list_zones(state, principal, &call.query),
        Route::GetZone { zone_id } => get_zone(state, principal, zone_id, call.path),
        Route::ListRecords { zone_id } => list_records(state, principal, zone_id, call),
        Route::CreateRecord { zone_id } => create_record(state, principal, zone_id, call),
        Route::GetRecord { zone_id, record_id } => {
            get_record(state, principal, zone_id, record_id, call.path)
        }
        Route::DeleteRecord { zone_id, record_id } => {
            delete_record(state, principal, zone_id, record_id, call.path)
        }
        Route::UserTokenVerify
        | Route::AccountTokenVerify { .. }
        | Route::MethodNotAllowed
        | Route::Unknown => {
            unreachable!("handled above")
        }
    }
}

/// `GET /user/tokens/verify` and `GET /accounts/{account_id}/tokens/verify`.
///
/// Disabled and expired tokens still get 200 with their status, per the spec's
/// status enum. NOTE: Cloudflare does not document the response for a token before
/// its `not_before`. The emulation reports `active` with `not_before` set and
/// without the "valid and active" message, and the other endpoints reject the token.
fn verify(
    state: &State,
    principal: Principal,
    account_id: Option<&str>,
    now: DateTime<Utc>,
) -> Result<ApiResponse, ApiError> {
    let Principal::Token(index) = principal else {
        return Err(errors::authorization_required());
    };
    let token = &state.tokens[index];
    let owner_matches = match (&token.owner, account_id) {
        (Owner::User, None) => true,
        (Owner::Account(owner), Some(requested)) => owner == requested,
        _ => false,
    };
    if !owner_matches {
        return Err(errors::wrong_token_owner());
    }

    let status = auth::effective_status(token, now);
    let status_text = match status {
        TokenStatus::Active => "active",
        TokenStatus::Disabled => "disabled",
        TokenStatus::Expired => "expired",
    };
    let mut result = json!({ "id": token.id, "status": status_text });
    if let Some(expiry) = token.expires_on {
        result["expires_on"] = Value::String(views::timestamp(expiry));
    }
    if let Some(start) = token.not_before {
        result["not_before"] = Value::String(views::timestamp(start));
    }
    let messages = if status == TokenStatus::Active && !auth::is_not_yet_valid(token, now) {
        json!([{ "code": 10000, "message": "This API Token is valid and active", "type": null }])
    } else {
        json!([])
    };
    Ok(views::success(result, messages))
}

/// `GET /zones`: the zones the credential's resources cover, filtered and paginated.
fn list_zones(state: &State, principal: Principal, query: &Query) -> Result<ApiResponse, ApiError> {
    if !auth::can_read_zones(state, principal) {
        return Err(errors::authentication_error());
    }
    let name_filters = listing::zone_name_filters(query);
    let account_id = listing::exact(query, "account.id");
    let account_name = listing::exact(query, "account.name");
    let status = listing::exact(query, "status");

    let mut zones: Vec<&Zone> = state
        .zones
        .iter()
        .filter(|zone| auth::covers_zone(state, principal, zone))
        .filter(|zone| {
            name_filters
                .iter()
                .all(|filter| filter.matches(&zone.name, false))
        })
        .filter(|zone| account_id.as_ref().is_none_or(|id| &zone.account_id == id))
        .filter(|zone| {
            account_name
                .as_ref()
                .is_none_or(|name| &zone.account_name == name)
        })
        .filter(|zone| {
            status
                .as_ref()
                .is_none_or(|wanted| zone.status.as_str() == wanted)
        })
        .collect();
    zones.sort_by(|left, right| left.name.cmp(&right.name).then(left.id.cmp(&right.id)));

    let (default_size, min, max) = ZONE_PAGE;
    let (page, info) =
        listing::paginate(&zones, listing::page_request(query, default_size, min, max));
    Ok(views::success_list(
        page.into_iter().map(views::zone_json).collect(),
        info,
    ))
}

/// Finds a zone the principal's resources cover. Any other id gets the invalid-id error, as an unknown one does.
fn visible_zone<'a>(
    state: &'a State,
    principal: Principal,
    zone_id: &str,
    path: &str,
) -> Result<&'a Zone, ApiError> {
    state
        .zone_by_id(zone_id)
        .filter(|zone| auth::covers_zone(state, principal, zone))
        .ok_or_else(|| errors::no_route(path))
}

/// `GET /zones/{zone_id}`.
fn get_zone(
    state: &State,
    principal: Principal,
    zone_id: &str,
    path: &str,
) -> Result<ApiResponse, ApiError> {
    let zone = visible_zone(state, principal, zone_id, path)?;
    if !auth::can_read_zones(state, principal) {
        return Err(errors::authentication_error());
    }
    Ok(views::success(views::zone_json(zone), json!([])))
}

/// `GET /zones/{zone_id}/dns_records` with `type`, `name`, `content` filters.
fn list_records(
    state: &State,
    principal: Principal,
    zone_id: &str,
    call: &Call<'_>,
) -> Result<ApiResponse, ApiError> {
    let zone = visible_zone(state, principal, zone_id, call.path)?;
    if !auth::can_read_dns(state, principal) {
        return Err(errors::authentication_error());
    }
    let record_type = listing::exact(&call.query, "type");
    let name_filters = normalized_name_filters(&call.query);
    let content_filters = listing::dotted_filters(&call.query, "content");

    // NOTE: `match=any` is ignored; every filter must match, as with the default `match=all`.
    let records: Vec<&Record> = state
        .records
        .iter()
        .filter(|record| record.zone_id == zone.id)
        .filter(|record| {
            record_type
                .as_ref()
                .is_none_or(|wanted| record.record_type.eq_ignore_ascii_case(wanted))
        })
        .filter(|record| {
            name_filters
                .iter()
                .all(|filter| filter.matches(&record.name, false))
        })
        .filter(|record| {
            content_filters
                .iter()
                .all(|filter| filter.matches(&record.content, true))
        })
        .collect();

    let (default_size, min, max) = RECORD_PAGE;
    let (page, info) = listing::paginate(
        &records,
        listing::page_request(&call.query, default_size, min, max),
    );
    Ok(views::success_list(
        page.into_iter().map(views::record_json).collect(),
        info,
    ))
}

/// Name filters with exact values normalized like stored names (lowercase, no trailing dot).
fn normalized_name_filters(query: &Query) -> Vec<TextFilter> {
    listing::dotted_filters(query, "name")
        .into_iter()
        .map(|filter| match filter {
            TextFilter::Equal(value) => TextFilter::Equal(normalize_name(&value)),
            other => other,
        })
        .collect()
}

/// `POST /zones/{zone_id}/dns_records`.
fn create_record(
    state: &mut State,
    principal: Principal,
    zone_id: &str,
    call: &Call<'_>,
) -> Result<ApiResponse, ApiError> {
    let zone = visible_zone(state, principal, zone_id, call.path)?.clone();
    if !auth::can_edit_dns(state, principal) {
        return Err(errors::authentication_error());
    }
    let body: Value = serde_json::from_slice(call.body).map_err(|_| errors::invalid_body())?;
    let Some(fields) = body.as_object() else {
        return Err(errors::invalid_body());
    };
    let text_field = |key: &str| fields.get(key).and_then(Value::as_str).map(str::to_string);

    let record_type = text_field("type")
        .filter(|value| !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric()))
        .ok_or_else(|| errors::dns_validation(None))?
        .to_ascii_uppercase();
    let raw_name = text_field("name")
        .filter(|value| !value.trim().is_empty())
        .ok_or_else(|| errors::dns_validation(None))?;
    let content = text_field("content")
        .filter(|value| !value.is_empty())
        .ok_or_else(|| errors::dns_validation(None))?;
    let ttl = match fields.get("ttl") {
        None => 1,
        Some(value) => value
            .as_u64()
            .filter(|ttl| is_valid_ttl(*ttl))
            .ok_or_else(errors::invalid_ttl)?,
    };
    let comment = text_field("comment");
    let tags: Vec<String> = fields
        .get("tags")
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();

    let name = qualify_name(&raw_name, &zone.name).ok_or_else(|| errors::dns_validation(None))?;
    if record_type == "A" && content.parse::<Ipv4Addr>().is_err() {
        return Err(errors::dns_validation(Some(errors::invalid_a_content())));
    }
    let duplicate = state.records.iter().any(|record| {
        record.zone_id == zone.id
            && record.record_type == record_type
            && record.name == name
            && record.content == content
    });
    if duplicate {
        return Err(errors::identical_record());
    }

    let id = state.next_record_id(&zone.id);
    let record = Record {
        id,
        zone_id: zone.id.clone(),
        zone_name: zone.name.clone(),
        name,
        record_type,
        content,
        ttl: u32::try_from(ttl).expect("a valid TTL fits in u32"),
        comment,
        tags,
        created_on: call.now,
        modified_on: call.now,
    };
    let result = views::record_json(&record);
    state.records.push(record);
    Ok(views::success(result, json!([])))
}

/// Resolves a record name against its zone: `@` is the apex, a name without a dot
/// is relative to the zone, and any other name must already lie inside the zone.
fn qualify_name(raw: &str, zone: &str) -> Option<String> {
    let name = normalize_name(raw);
    if name == "@" {
        return Some(zone.to_string());
    }
    if !name.contains('.') {
        return Some(format!("{name}.{zone}"));
    }
    is_in_zone(&name, zone).then_some(name)
}

/// Finds a record of a visible zone. A malformed record id gets the invalid-id error.
fn find_record(state: &State, zone: &Zone, record_id: &str, path: &str) -> Result<usize, ApiError> {
    if !is_lower_hex(record_id, 32) {
        return Err(errors::no_route(path));
    }
    state
        .records
        .iter()
        .position(|record| record.zone_id == zone.id && record.id == record_id)
        .ok_or_else(errors::record_not_found)
}

/// `GET /zones/{zone_id}/dns_records/{dns_record_id}`.
fn get_record(
    state: &State,
    principal: Principal,
    zone_id: &str,
    record_id: &str,
    path: &str,
) -> Result<ApiResponse, ApiError> {
    let zone = visible_zone(state, principal, zone_id, path)?;
    if !auth::can_read_dns(state, principal) {
        return Err(errors::authentication_error());
    }
    let index = find_record(state, zone, record_id, path)?;
    Ok(views::success(
        views::record_json(&state.records[index]),
        json!([]),
    ))
}

/// `DELETE /zones/{zone_id}/dns_records/{dns_record_id}`: 200 with `{result: {id}}`.
fn delete_record(
    state: &mut State,
    principal: Principal,
    zone_id: &str,
    record_id: &str,
    path: &str,
) -> Result<ApiResponse, ApiError> {
    let zone = visible_zone(state, principal, zone_id, path)?;
    if !auth::can_edit_dns(state, principal) {
        return Err(errors::authentication_error());
    }
    let index = find_record(state, zone, record_id, path)?;
    let removed = state.records.remove(index);
    Ok(views::success(json!({ "id": removed.id }), json!([])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualify_name_rules() {
        assert_eq!(
            qualify_name("@", "example.com").as_deref(),
            Some("example.com")
        );
        assert_eq!(
            qualify_name("_acme-challenge", "example.com").as_deref(),
            Some("_acme-challenge.example.com")
        );
        assert_eq!(
            qualify_name("_acme-challenge.Example.com.", "example.com").as_deref(),
            Some("_acme-challenge.example.com")
        );
        assert_eq!(
            qualify_name("_acme-challenge.example.org", "example.com"),
            None
        );
    }
}
