//! JSON shapes of zones, records and the response envelope.
//!
//! Field sets follow the v4 API's zone and DNS record objects (cloudflare/api-schemas
//! `openapi.json`, 2024-08, and the Python SDK's `types/zones/zone.py` and
//! `types/dns/record_response.py`), trimmed to fields with a fixed meaning here.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use super::errors::ApiError;
use super::state::{Record, Zone};

pub(crate) fn timestamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Placeholder name servers: strings only, never contacted by anything.
const NAME_SERVERS: [&str; 2] = ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"];

pub(crate) fn zone_json(zone: &Zone) -> Value {
    json!({
        "id": zone.id,
        "name": zone.name,
        "status": zone.status.as_str(),
        "paused": false,
        "type": "full",
        "development_mode": 0,
        "name_servers": NAME_SERVERS,
        "original_name_servers": null,
        "original_registrar": null,
        "original_dnshost": null,
        "created_on": timestamp(zone.created_on),
        "modified_on": timestamp(zone.created_on),
        "activated_on": timestamp(zone.created_on),
        "meta": {
            "step": 4,
            "custom_certificate_quota": 0,
            "page_rule_quota": 3,
            "phishing_detected": false,
        },
        "owner": { "id": null, "type": "user", "email": null },
        "account": { "id": zone.account_id, "name": zone.account_name },
        "tenant": { "id": null, "name": null },
        "tenant_unit": { "id": null },
        "permissions": [],
        "plan": {
            "id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
            "name": "Free Website",
            "price": 0,
            "currency": "USD",
            "frequency": "",
            "is_subscribed": false,
            "can_subscribe": false,
            "legacy_id": "free",
            "legacy_discount": false,
            "externally_managed": false,
        },
    })
}

pub(crate) fn record_json(record: &Record) -> Value {
    json!({
        "id": record.id,
        "zone_id": record.zone_id,
        "zone_name": record.zone_name,
        "name": record.name,
        "type": record.record_type,
        "content": record.content,
        "proxiable": false,
        "proxied": false,
        "ttl": record.ttl,
        "settings": {},
        "meta": {},
        "comment": record.comment,
        "tags": record.tags,
        "created_on": timestamp(record.created_on),
        "modified_on": timestamp(record.modified_on),
    })
}

/// A ready-to-send response.
#[derive(Clone, Debug)]
pub(crate) struct ApiResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(crate) content_type: &'static str,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl ApiResponse {
    fn json(status: u16, body: &Value) -> ApiResponse {
        ApiResponse {
            status,
            body: serde_json::to_vec(body).expect("serializing a JSON value cannot fail"),
            content_type: "application/json",
            headers: Vec::new(),
        }
    }
}

/// Builds `{success: true, errors: [], messages, result}`.
pub(crate) fn success(result: Value, messages: Value) -> ApiResponse {
    ApiResponse::json(
        200,
        &json!({ "success": true, "errors": [], "messages": messages, "result": result }),
    )
}

/// Builds a list response with `result_info`.
pub(crate) fn success_list(result: Vec<Value>, result_info: Value) -> ApiResponse {
    ApiResponse::json(
        200,
        &json!({ "success": true, "errors": [], "messages": [], "result": result, "result_info": result_info }),
    )
}

/// Builds `{success: false, errors, messages: [], result: null}`.
pub(crate) fn failure(error: ApiError) -> ApiResponse {
    let errors: Vec<Value> = error.errors.iter().map(|detail| detail.to_json()).collect();
    let mut response = ApiResponse::json(
        error.status,
        &json!({ "success": false, "errors": errors, "messages": [], "result": null }),
    );
    response.headers = error.headers;
    response
}

/// Builds a 200 response whose body is an HTML error page instead of JSON, as an edge proxy might send.
pub(crate) fn malformed() -> ApiResponse {
    ApiResponse {
        status: 200,
        body: b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>\n".to_vec(),
        content_type: "text/html",
        headers: Vec::new(),
    }
}
